package isolation

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/store"
)

// Forgetter is the part of outreach that clears the phones and texts of
// the messages about a subject: a closed case's messages go with the
// case's personal data at retention. outreach.Service is one; a Notifier
// that is not forgets nothing.
type Forgetter interface {
	ForgetSubjects(ctx context.Context, tx *store.TenantTx, subjects ...string) (int, error)
}

// retentionBatch bounds the cases one statement names.
const retentionBatch = 500

// sweepRetention clears the personal data of the cases closed more than
// isolation_retention_days ago (purged_on marks them done): the resident's
// link (gone at the close already, cleared again for a case closed before
// that rule), the free text (reason, end reason, the details of the case's
// support requests) and the phones and texts of the messages about it. The
// dates, kind, household, resident, check-ins' temperatures and alerts
// stay, so the figures of any past day are unchanged. One audit entry
// names the cases.
func (s *Service) sweepRetention(ctx context.Context, tx *store.TenantTx, c orgs.Community, day sweepDay, out *Swept) (int, error) {
	t, _ := time.Parse(time.DateOnly, day.today)
	cutoff := t.AddDate(0, 0, -c.Settings.IsolationRetention()).Format(time.DateOnly)
	var ids []string
	err := tx.Update((*Case)(nil)).
		Set("link_hash = NULL, link_sealed = NULL, reason = '', end_reason = '', purged_on = ?, updated_at = ?", day.today, day.now).
		Where("c.purged_on IS NULL AND c.closed_on IS NOT NULL AND c.closed_on < ? AND c.status IN (?, ?)", cutoff, StatusReleased, StatusEnded).
		Returning("id").Scan(ctx, &ids)
	if err != nil && !isNoRows(err) {
		return 0, fmt.Errorf("retention: cases: %w", err)
	}
	out.Purged = len(ids)
	if len(ids) == 0 {
		return 0, nil
	}
	slices.Sort(ids)
	forget, _ := s.Notify.(Forgetter)
	messages := 0
	for part := range slices.Chunk(ids, retentionBatch) {
		if _, err := tx.Update((*SupportRequest)(nil)).Set("details = ''").
			Where("sr.case_id IN (?) AND sr.details <> ''", bun.List(part)).Exec(ctx); err != nil {
			return 0, fmt.Errorf("retention: support requests: %w", err)
		}
		if forget != nil {
			subjects := make([]string, len(part))
			for i, id := range part {
				subjects[i] = subject(id)
			}
			n, err := forget.ForgetSubjects(ctx, tx, subjects...)
			if err != nil {
				return 0, fmt.Errorf("retention: messages: %w", err)
			}
			messages += n
		}
	}
	return len(ids), audit.Record(ctx, tx, audit.ActionUpdate, "isolation_case", "retention",
		map[string]any{"closed_before": cutoff, "case_ids": ids, "fields": []string{"link", "reason", "end_reason", "support_details", "message_phones"},
			"messages": messages})
}
