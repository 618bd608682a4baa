package screening_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/screening"
	"github.com/wanjia/wanjia/pkg/testworld"
)

// world is testworld's (communities c1 with grids c1-g1 … c1-g3 and c2
// with c2-g1, c2-g2; the users c1.admin, c1.staff, c1.grid1, …,
// sub.official above both; the clock at 2020-02-03 09:00 Beijing time)
// with screening over it, hearing of the roster's households.
type world struct {
	*testworld.World
	Screening *screening.Service
}

func newWorld(t testing.TB) *world {
	t.Helper()
	tw := testworld.New(t)
	w := &world{World: tw, Screening: &screening.Service{DB: tw.DB, Frame: tw.Frame, Now: tw.Now}}
	w.Roster.Households = w.Screening
	return w
}

// households adds n households to grid (as the community's staff), phones
// 170… , and returns their ids in order.
func (w *world) households(t testing.TB, org, grid string, n int) []string {
	t.Helper()
	var ids []string
	for _, h := range w.Households(t, org, grid, "170", n) {
		ids = append(ids, h.ID)
	}
	return ids
}

// fields is the invalid fields of a validation error, "" if err is not one.
func fields(err error) string {
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.KindValidation {
		return ""
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field+"="+f.Key)
	}
	return strings.Join(out, ",")
}

// kind is err's kind, or -1 for no error.
func kind(err error) errs.Kind {
	if err == nil {
		return -1
	}
	return errs.KindOf(err)
}
