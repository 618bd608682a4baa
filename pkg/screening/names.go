package screening

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// ScreeningNames are the names of the screenings with ids, in the
// caller's community, in one query: what the audit log's page shows for
// them.
func (s *Service) ScreeningNames(ctx context.Context, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	return scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, _ *scope.Grids) (map[string]string, error) {
		var rows []Screening
		if err := tx.Select(&rows).Column("id", "name").Where("s.id IN (?)", bun.List(ids)).Scan(ctx); err != nil {
			return nil, fmt.Errorf("screening names: %w", err)
		}
		for _, r := range rows {
			out[r.ID] = r.Name
		}
		return out, nil
	})
}
