package isolation_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/isolation"
	"github.com/wanjia/wanjia/pkg/orgs/orgstest"
	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/screening"
	"github.com/wanjia/wanjia/pkg/seal"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// world is two communities over one fresh database: c1 in Asia/Shanghai
// (grids c1-g1, c1-g2) and c2 in America/New_York (grid c2-g1), whose
// local day differs from c1's for half of every day. The users are
// orgstest's (c1.admin, c1.staff, c1.grid1 of c1-g1, …), with phones so
// that alerts reach them.
type world struct {
	DB        *store.DB
	District  *orgstest.District
	Roster    *roster.Service
	Screening *screening.Service
	Isolation *isolation.Service
	outbox    *outbox
	clock     *clock
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// outbox is the Notifier: one notice per community and key, as outreach
// keeps them.
type outbox struct {
	mu     sync.Mutex
	sent   map[string]outreach.Notice // tenant + key
	keys   []string
	queued int
}

func (o *outbox) Notify(_ context.Context, tx *store.TenantTx, ns ...outreach.Notice) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, x := range ns {
		k := tx.Tenant() + "|" + x.Key
		if _, ok := o.sent[k]; ok {
			continue
		}
		o.sent[k] = x
		o.keys = append(o.keys, x.Key)
		n++
	}
	return n, nil
}

// NotifyTasks counts the notices queued after their commits.
func (o *outbox) NotifyTasks(_ context.Context, ns ...outreach.Notice) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.queued += len(ns)
	return nil
}

// MessagesAbout lists the notices of a subject.
func (o *outbox) MessagesAbout(_ context.Context, subject string) ([]outreach.NoticeView, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []outreach.NoticeView
	for _, n := range o.sent {
		if n.Subject == subject {
			out = append(out, outreach.NoticeView{Key: n.Key, Text: n.Text, Urgent: n.Urgent})
		}
	}
	return out, nil
}

// with returns the notices whose key starts with prefix, by key.
func (o *outbox) with(prefix string) map[string]outreach.Notice {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := map[string]outreach.Notice{}
	for k, n := range o.sent {
		if strings.HasPrefix(n.Key, prefix) {
			out[k[strings.Index(k, "|")+1:]] = n
		}
	}
	return out
}

// newWorld builds the world at 2020-02-03 09:00 Beijing time.
func newWorld(t testing.TB) *world {
	t.Helper()
	db := storetest.New(t)
	d := orgstest.New(t, db,
		orgstest.Spec{Slug: "c1", Grids: []string{"c1-g1", "c1-g2"}},
		orgstest.Spec{Slug: "c2", Grids: []string{"c2-g1"}})
	box, err := seal.New([]byte(strings.Repeat("k", 32)), "test links")
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2020, 2, 3, 1, 0, 0, 0, time.UTC)}
	frame := scope.New(db)
	w := &world{DB: db, District: d, clock: c, outbox: &outbox{sent: map[string]outreach.Notice{}},
		Roster:    &roster.Service{DB: db, Frame: frame, Now: c.now},
		Screening: &screening.Service{DB: db, Frame: frame, Now: c.now}}
	w.Roster.Households = w.Screening
	w.Isolation = &isolation.Service{DB: db, Frame: frame, Notify: w.outbox, Links: box, BaseURL: "https://wanjia.example", Now: c.now}
	w.exec(t, `UPDATE orgs SET timezone = 'America/New_York' WHERE slug = 'c2'`)
	for i, u := range []string{"c1.admin", "c1.staff", "c1.grid1", "c2.staff", "c2.grid1", "c2.admin"} {
		w.exec(t, `UPDATE users SET phone = ? WHERE username = ?`, fmt.Sprintf("1390000000%d", i), u)
	}
	return w
}

func (w *world) as(t testing.TB, username, org string) context.Context {
	t.Helper()
	return w.District.As(t, username, org)
}

var seq atomic.Int64

// household adds a household to grid with n residents and returns their ids.
func (w *world) household(t testing.TB, org, grid string, n int) (string, []string) {
	t.Helper()
	ctx := w.as(t, org+".staff", org)
	k := seq.Add(1)
	h, err := w.Roster.CreateHousehold(ctx, roster.HouseholdInput{Grid: grid, Address: fmt.Sprintf("%s 路 %d 号", grid, k), Phone: fmt.Sprintf("170%08d", k)})
	if err != nil {
		t.Fatalf("household: %v", err)
	}
	var ids []string
	for i := range n {
		r, err := w.Roster.CreateResident(ctx, roster.ResidentInput{HouseholdID: h.ID, Name: fmt.Sprintf("居民%d", i),
			Phone: fmt.Sprintf("171%08d", seq.Add(1))})
		if err != nil {
			t.Fatalf("resident: %v", err)
		}
		ids = append(ids, r.ID)
	}
	return h.ID, ids
}

// resident adds a resident (in a household of their own) to grid.
func (w *world) resident(t testing.TB, org, grid string) string {
	t.Helper()
	_, ids := w.household(t, org, grid, 1)
	return ids[0]
}

// open opens a home isolation case for resident as org's staff.
func (w *world) open(t testing.TB, org, resident string, start string) *isolation.CaseView {
	t.Helper()
	c, err := w.Isolation.CreateCase(w.as(t, org+".staff", org), isolation.CaseInput{ResidentID: resident, Kind: isolation.KindHomeIsolation, StartDate: start})
	if err != nil {
		t.Fatalf("open case: %v", err)
	}
	return c
}

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

// count counts rows of a table across communities.
func (w *world) count(t testing.TB, table string) int {
	t.Helper()
	var n int
	err := w.DB.AcrossTenants(context.Background(), "test fixture", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewRaw("SELECT count(*) FROM "+table).Scan(ctx, &n)
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// at moves the clock to a local time in zone, "2020-02-03 10:00".
func (w *world) at(t testing.TB, zone, local string) {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	tm, err := time.ParseInLocation("2006-01-02 15:04", local, loc)
	if err != nil {
		t.Fatal(err)
	}
	w.clock.mu.Lock()
	w.clock.t = tm.UTC()
	w.clock.mu.Unlock()
}

const shanghai, newYork = "Asia/Shanghai", "America/New_York"

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
	slices.Sort(out)
	return strings.Join(out, ",")
}

// kind is err's kind, or -1 for no error.
func kind(err error) errs.Kind {
	if err == nil {
		return -1
	}
	return errs.KindOf(err)
}

type bunTx = bun.Tx

func errorsAs(err error, e **errs.Error) bool { return errors.As(err, e) }

// second is the error of a call's two results.
func second[T any](_ T, err error) error { return err }

// scan reads one value across communities.
func (w *world) scan(t testing.TB, query string, dst any) {
	t.Helper()
	err := w.DB.AcrossTenants(context.Background(), "test fixture", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewRaw(query).Scan(ctx, dst)
	})
	if err != nil {
		t.Fatal(err)
	}
}
