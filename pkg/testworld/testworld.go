// Package testworld is the one test world the domains' tests start from:
// communities with grids and a user of each role (orgstest's district),
// the context each caller has when the API's middleware hands a request
// to a service, a clock the test moves, the roster to put households and
// residents on, and a way to write rows behind the services' backs.
//
// A domain's fixture builds its own services over a World (with
// w.Frame, w.Now) instead of copying the district, the clock and the
// household helpers: the next domain starts from here.
//
// The world is built once per test binary and copied for each test
// (storetest's goldens: a file copy on SQLite, CREATE DATABASE … TEMPLATE
// on PostgreSQL) when the package's TestMain is storetest.Main; otherwise
// each test builds it anew, which is slower but the same.
package testworld

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/orgs/orgstest"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// Communities is the world unless a test names others: c1 with grids
// c1-g1 … c1-g3 and c2 with c2-g1 and c2-g2, under the sub-district sub.
// Each community has the users <slug>.admin, <slug>.staff and
// <slug>.grid1 (a grid worker of its first grid); sub.official sits above
// both (orgstest's users, password orgstest.Password).
var Communities = []orgstest.Spec{
	{Slug: "c1", Grids: []string{"c1-g1", "c1-g2", "c1-g3"}},
	{Slug: "c2", Grids: []string{"c2-g1", "c2-g2"}},
}

// Start is the clock's time in a new world: Monday 3 February 2020,
// 09:00 in Beijing, a working morning of the outbreak.
var Start = time.Date(2020, 2, 3, 1, 0, 0, 0, time.UTC)

// Beijing is the communities' zone (orgs' default).
var Beijing = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

// World is one database with the district in it, and what a test needs
// around it.
type World struct {
	DB       *store.DB
	District *orgstest.District
	// Frame is the services' shared frame (one grid cache, as the app has).
	Frame *scope.Frame
	// Clock is the world's time unless Options.Now replaced it; Now is
	// what the services take (`Now: w.Now`).
	Clock *Clock
	Now   func() time.Time
	// Roster is the roster over the world, on its clock. A domain that
	// hears of households (screening) sets Roster.Households.
	Roster *roster.Service
}

// Options change a world.
type Options struct {
	// Communities replaces Communities.
	Communities []orgstest.Spec
	// DB is a migrated, empty database to build the world in (a test
	// that opens its own, such as one whose database goes away); nil: a
	// copy of the package's golden world.
	DB *store.DB
	// Now replaces the world's Clock as the services' time (a test that
	// keeps a clock of its own, such as one running in real time).
	Now func() time.Time
}

// New is a world of Communities at Start.
func New(t testing.TB) *World {
	t.Helper()
	return With(t, Options{})
}

// With is a world as o says.
func With(t testing.TB, o Options) *World {
	t.Helper()
	specs := o.Communities
	if specs == nil {
		specs = Communities
	}
	w := &World{Clock: NewClock(Start)}
	if o.DB != nil {
		w.DB, w.District = o.DB, orgstest.New(t, o.DB, specs...)
	} else {
		w.DB = golden(specs).New(t)
		w.District = orgstest.Open(t, w.DB)
	}
	w.Now = w.Clock.Now
	if o.Now != nil {
		w.Now = o.Now
	}
	w.Frame = scope.New(w.DB)
	w.Roster = &roster.Service{DB: w.DB, Frame: w.Frame, Now: w.Now}
	return w
}

var (
	goldensMu sync.Mutex
	goldens   = map[string]*storetest.Golden{}
)

// golden is the golden database of the district of specs, one per set of
// communities in a test binary.
func golden(specs []orgstest.Spec) *storetest.Golden {
	var key strings.Builder
	for _, s := range specs {
		fmt.Fprintf(&key, "%s:%s;", s.Slug, strings.Join(s.Grids, ","))
	}
	goldensMu.Lock()
	defer goldensMu.Unlock()
	if g, ok := goldens[key.String()]; ok {
		return g
	}
	g := storetest.NewGolden(fmt.Sprintf("world%d", len(goldens)), func(t testing.TB, databaseURL, dataDir string) error {
		db, err := store.Open(context.Background(), store.Options{URL: databaseURL, DataDir: dataDir, MaxOpenConns: 1})
		if err != nil {
			return err
		}
		defer db.Close()
		if _, err := db.Migrate(context.Background()); err != nil {
			return err
		}
		orgstest.New(t, db, specs...)
		return nil
	})
	goldens[key.String()] = g
	return g
}

// As is the context of a request by username in org, as the API's
// middleware builds it: the caller and its role, the tenant with a grid
// worker's grids, the audit actor.
func (w *World) As(t testing.TB, username, org string) context.Context {
	t.Helper()
	return w.District.As(t, username, org)
}

// Staff, Admin and GridWorker are the contexts of org's users of each
// role (the grid worker works org's first grid); Official is the
// sub-district official's, reading org from above.
func (w *World) Staff(t testing.TB, org string) context.Context { return w.As(t, org+".staff", org) }
func (w *World) Admin(t testing.TB, org string) context.Context { return w.As(t, org+".admin", org) }
func (w *World) GridWorker(t testing.TB, org string) context.Context {
	return w.As(t, org+".grid1", org)
}
func (w *World) Official(t testing.TB, org string) context.Context {
	return w.As(t, "sub.official", org)
}

// Tenant is the context of org's tenant alone, with no caller, as a task
// has it.
func (w *World) Tenant(t testing.TB, org string) context.Context {
	t.Helper()
	return scope.With(context.Background(), scope.Tenant{TenantID: w.District.Org(t, org).ID})
}

// seq numbers the fixtures' phones and addresses, so that none repeats in
// a test binary.
var seq atomic.Int64

// Seq is the next number of the fixtures' sequence.
func Seq() int64 { return seq.Add(1) }

// Households adds n households to grid as org's staff, each with an
// address and a phone of its own (prefix followed by 8 digits, e.g.
// "170"), and returns them in order.
func (w *World) Households(t testing.TB, org, grid, prefix string, n int, tags ...string) []*roster.HouseholdView {
	t.Helper()
	ctx := w.Staff(t, org)
	out := make([]*roster.HouseholdView, n)
	for i := range out {
		k := Seq()
		h, err := w.Roster.CreateHousehold(ctx, roster.HouseholdInput{Grid: grid, Address: fmt.Sprintf("%s 路 %d 号", grid, k),
			Phone: fmt.Sprintf("%s%08d", prefix, k), Tags: tags})
		if err != nil {
			t.Fatalf("testworld: household %d: %v", i, err)
		}
		out[i] = h
	}
	return out
}

// Resident adds a resident with a phone of its own and tags to household,
// as org's staff, and returns its id.
func (w *World) Resident(t testing.TB, org, household, name string, tags ...string) string {
	t.Helper()
	r, err := w.Roster.CreateResident(w.Staff(t, org), roster.ResidentInput{HouseholdID: household, Name: name,
		Phone: fmt.Sprintf("171%08d", Seq()), Tags: tags})
	if err != nil {
		t.Fatalf("testworld: resident %s: %v", name, err)
	}
	return r.ID
}

// Exec runs a statement behind the services' backs (a fixture), through
// the cross-tenant path that row security allows.
func (w *World) Exec(t testing.TB, query string, args ...any) {
	t.Helper()
	err := w.DB.AcrossTenants(context.Background(), "test fixture", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewRaw(query, args...).Exec(ctx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Clock is a time a test sets and moves; safe for the services' own
// goroutines to read.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock is a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t.UTC()} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set stops the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t.UTC()
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// At sets the clock to a Beijing time, "2020-02-03 10:00".
func (c *Clock) At(t testing.TB, local string) {
	t.Helper()
	tm, err := time.ParseInLocation("2006-01-02 15:04", local, Beijing)
	if err != nil {
		t.Fatal(err)
	}
	c.Set(tm)
}

// Fields is a validation error's fields as "field=key", sorted and joined
// by commas: "" for no error, "error: …" for an error of another kind, so
// that a table's want names exactly the fields a 422 should carry.
func Fields(err error) string {
	if err == nil {
		return ""
	}
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.KindValidation {
		return "error: " + err.Error()
	}
	out := make([]string, 0, len(e.Fields))
	for _, f := range e.Fields {
		out = append(out, f.Field+"="+f.Key)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}
