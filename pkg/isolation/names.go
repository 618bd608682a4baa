package isolation

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// CaseNames are the resident's name of each case with ids, in the
// caller's community and grids, in one query: what the audit log's page
// shows for them. An id of another community, or outside the caller's
// grids, is absent.
func (s *Service) CaseNames(ctx context.Context, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	return scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (map[string]string, error) {
		var rows []caseRow
		if err := selectCases(tx, g, &rows).Where("c.id IN (?)", bun.List(ids)).Scan(ctx); err != nil {
			return nil, fmt.Errorf("case names: %w", err)
		}
		seen := make([]string, 0, len(rows))
		for _, r := range rows {
			out[r.ID] = r.Name
			seen = append(seen, r.ID)
		}
		if len(seen) == 0 {
			return out, nil
		}
		return out, scope.RecordRead(ctx, s.Reads, s.DB, scope.Seen{Resource: "isolation_cases", IDs: seen, Filters: map[string]any{"page": "audit"}})
	})
}
