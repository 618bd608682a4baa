package screening_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/orgs/orgstest"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/screening"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// world is two communities, c1 (grids c1-g1 … c1-g3) and c2 (c2-g1,
// c2-g2), with the services over one fresh database. The users are
// orgstest's: c1.admin, c1.staff, c1.grid1 (a grid worker of c1-g1),
// c2.staff, …, and sub.official above both.
type world struct {
	DB        *store.DB
	District  *orgstest.District
	Roster    *roster.Service
	Screening *screening.Service
	clock     *clock
}

// clock is the services' time, which a test may move.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// newWorld builds the world at 2020-02-03 09:00 Beijing time.
func newWorld(t testing.TB) *world {
	t.Helper()
	db := storetest.New(t)
	d := orgstest.New(t, db,
		orgstest.Spec{Slug: "c1", Grids: []string{"c1-g1", "c1-g2", "c1-g3"}},
		orgstest.Spec{Slug: "c2", Grids: []string{"c2-g1", "c2-g2"}})
	c := &clock{t: time.Date(2020, 2, 3, 1, 0, 0, 0, time.UTC)}
	frame := scope.New(db)
	w := &world{DB: db, District: d, clock: c,
		Roster:    &roster.Service{DB: db, Frame: frame, Now: c.now},
		Screening: &screening.Service{DB: db, Frame: frame, Now: c.now}}
	w.Roster.Households = w.Screening
	return w
}

// as is the context of username working in org.
func (w *world) as(t testing.TB, username, org string) context.Context {
	t.Helper()
	return w.District.As(t, username, org)
}

// households adds n households to grid (as the community's staff), phones
// 17000000000 upwards, and returns their ids in order.
func (w *world) households(t testing.TB, org, grid string, n int) []string {
	t.Helper()
	ctx := w.as(t, org+".staff", org)
	ids := make([]string, n)
	for i := range ids {
		n := seq.Add(1)
		h, err := w.Roster.CreateHousehold(ctx, roster.HouseholdInput{Grid: grid,
			Address: fmt.Sprintf("%s 路 %d 号", grid, n), Phone: fmt.Sprintf("170%08d", n)})
		if err != nil {
			t.Fatalf("household %d: %v", i, err)
		}
		ids[i] = h.ID
	}
	return ids
}

// seq numbers the fixtures' phones, so that none repeats.
var seq atomic.Int64

// resident adds a resident with tags to household.
func (w *world) resident(t testing.TB, org, household, name string, tags ...string) string {
	t.Helper()
	r, err := w.Roster.CreateResident(w.as(t, org+".staff", org), roster.ResidentInput{HouseholdID: household, Name: name,
		Phone: fmt.Sprintf("171%08d", seq.Add(1)), Tags: tags})
	if err != nil {
		t.Fatalf("resident %s: %v", name, err)
	}
	return r.ID
}

// exec runs a statement behind the services' backs (a fixture), through
// the cross-tenant path that row security allows.
func (w *world) exec(t testing.TB, query string, args ...any) {
	t.Helper()
	err := w.DB.AcrossTenants(context.Background(), "test fixture", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewRaw(query, args...).Exec(ctx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
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

// at moves the clock to a local (Beijing) time, "2020-02-03 10:00".
func (w *world) at(t testing.TB, local string) {
	t.Helper()
	loc, _ := time.LoadLocation("Asia/Shanghai")
	tm, err := time.ParseInLocation("2006-01-02 15:04", local, loc)
	if err != nil {
		t.Fatal(err)
	}
	w.clock.t = tm.UTC()
}
