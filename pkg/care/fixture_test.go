package care_test

import (
	"testing"

	"github.com/wanjia/wanjia/pkg/care"
	"github.com/wanjia/wanjia/pkg/testworld"
)

// world is testworld's (communities c1 with grids c1-g1 … c1-g3 and c2;
// the users c1.admin, c1.staff, c1.grid1, …, sub.official above both; the
// clock at 2020-02-03 09:00 Beijing time) with the care list over it.
type world struct {
	*testworld.World
	Care *care.Service
}

func newWorld(t testing.TB) *world {
	t.Helper()
	tw := testworld.New(t)
	return &world{World: tw, Care: &care.Service{DB: tw.DB, Frame: tw.Frame, Now: tw.Now}}
}

// households adds n households to grid (as the community's staff) and
// returns their ids in order.
func (w *world) households(t testing.TB, org, grid string, n int) []string {
	t.Helper()
	var ids []string
	for _, h := range w.Households(t, org, grid, "170", n) {
		ids = append(ids, h.ID)
	}
	return ids
}
