package logs_test

import (
	"testing"

	"github.com/wanjia/wanjia/pkg/logs"
	"github.com/wanjia/wanjia/pkg/testworld"
)

// world is testworld's (communities c1 with grids c1-g1 … c1-g3 and c2;
// the users c1.admin, c1.staff, c1.grid1, …, sub.official above both; the
// clock at 2020-02-03 09:00 Beijing time) with the logs over it.
type world struct {
	*testworld.World
	Logs *logs.Service
}

func newWorld(t testing.TB) *world {
	t.Helper()
	tw := testworld.New(t)
	return &world{World: tw, Logs: &logs.Service{DB: tw.DB, Frame: tw.Frame, Now: tw.Now}}
}
