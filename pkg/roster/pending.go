package roster

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/observe"
	"github.com/wanjia/wanjia/pkg/store"
)

// PendingWork counts imports waiting or running, over every community, for
// the operator's metrics: after Redis loses its tasks the queue looks
// empty, but these are still to do.
func (s *Service) PendingWork(ctx context.Context) ([]observe.Pending, error) {
	var rows []struct {
		Status string    `bun:"status"`
		N      int       `bun:"n"`
		Oldest time.Time `bun:"oldest"`
	}
	err := s.DB.AcrossTenants(ctx, "roster: pending work metric", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewSelect().TableExpr("imports").ColumnExpr("status, count(*) AS n, min(created_at) AS oldest").
			Where("status IN ('queued', 'running')").Group("status").Scan(ctx, &rows)
	})
	if err != nil {
		return nil, fmt.Errorf("pending imports: %w", err)
	}
	out := []observe.Pending{{Kind: "import", Status: "queued"}, {Kind: "import", Status: "running"}}
	for _, r := range rows {
		for i := range out {
			if out[i].Status == r.Status {
				out[i].Count, out[i].Oldest = r.N, s.now().Sub(r.Oldest.UTC())
			}
		}
	}
	return out, nil
}
