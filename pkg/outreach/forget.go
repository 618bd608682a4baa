package outreach

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/store"
)

// ForgetSubjects clears the phone, text and template fields of the
// messages about subjects (isolation's retention: "isolation:<case>"), in
// the caller's transaction, and reports how many it cleared. The rows stay
// (status, dates, receipts), so what was sent and when still counts.
func (s *Service) ForgetSubjects(ctx context.Context, tx *store.TenantTx, subjects ...string) (int, error) {
	if len(subjects) == 0 {
		return 0, nil
	}
	res, err := tx.Update((*Message)(nil)).Set("phone = '', body = '', params = ?", "{}").
		Where("m.subject IN (?) AND (m.phone <> '' OR m.body <> '')", bun.List(subjects)).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("forget messages: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
