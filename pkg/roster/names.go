package roster

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// MaxNames bounds one call of HouseholdNames or ResidentNames (a page of
// the audit log names at most a page's worth).
const MaxNames = 500

// HouseholdNames are the addresses of the households with ids, in the
// caller's community and grids, deleted ones included (the log names what
// was deleted), in one query: what the audit log's page shows for them.
// An id of another community, or outside the caller's grids, is absent.
func (s *Service) HouseholdNames(ctx context.Context, ids []string) (map[string]string, error) {
	return s.names(ctx, ids, "households", (*Household)(nil), "h", "h.address")
}

// ResidentNames are the names of the residents with ids, as
// HouseholdNames gives addresses.
func (s *Service) ResidentNames(ctx context.Context, ids []string) (map[string]string, error) {
	return s.names(ctx, ids, "residents", (*Resident)(nil), "r", "r.name")
}

func (s *Service) names(ctx context.Context, ids []string, resource string, model any, alias, column string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	if len(ids) > MaxNames {
		ids = ids[:MaxNames]
	}
	return scope.Read(ctx, s.frame(), func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (map[string]string, error) {
		var rows []struct {
			ID   string `bun:"id"`
			Name string `bun:"name"`
		}
		q := tx.Select(model).ColumnExpr(alias+".id, "+column+" AS name").Where(alias+".id IN (?)", bun.List(ids))
		if err := g.Limit(q, alias+".grid_id").Scan(ctx, &rows); err != nil {
			return nil, fmt.Errorf("%s names: %w", resource, err)
		}
		seen := make([]string, 0, len(rows))
		for _, r := range rows {
			out[r.ID] = r.Name
			seen = append(seen, r.ID)
		}
		if len(seen) == 0 {
			return out, nil
		}
		// Names and addresses are personal data: which were shown is a read.
		return out, scope.RecordRead(ctx, s.Reads, s.DB, scope.Seen{Resource: resource, IDs: seen, Filters: map[string]any{"page": "audit"}})
	})
}
