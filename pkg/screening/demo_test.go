package screening_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/orgs/orgstest"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/screening"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/store/storetest"
	"github.com/wanjia/wanjia/pkg/testworld"
)

// demoRosters are app's demoRosters (the demo communities' synthetic
// rosters), which the histories are drawn on.
var demoRosters = map[string]roster.DemoSpec{
	"yucai": {Seed: 2020_02_10, Grids: []string{"yucai-g1", "yucai-g2", "yucai-g3", "yucai-g4", "yucai-g5"},
		Buildings: 144, Households: 2100, ElderlyShare: 0.18, Street: "育才路"},
	"wangcheng": {Seed: 2020_02_11, Grids: []string{"wangcheng-g1", "wangcheng-g2", "wangcheng-g3", "wangcheng-g4", "wangcheng-g5"},
		Buildings: 60, Households: 857, ElderlyShare: 0.30, Street: "王城路"},
}

// demoWorld is the demo communities (grids, time zone and watch list as
// tenants/qixing has them) with their rosters seeded, on a fresh database.
type demoWorld struct {
	db        *store.DB
	district  *orgstest.District
	screening *screening.Service
}

func newDemoWorld(t *testing.T, communities ...string) *demoWorld {
	t.Helper()
	var specs []orgstest.Spec
	for _, c := range communities {
		specs = append(specs, orgstest.Spec{Slug: c, Grids: demoRosters[c].Grids})
	}
	// Built anew (no golden): each set of communities serves one or two
	// tests, which a golden would only make wait for its build.
	tw := testworld.With(t, testworld.Options{Communities: specs, DB: storetest.New(t)})
	db, d := tw.DB, tw.District
	settings := orgs.DefaultSettings()
	settings.WatchList = []string{"武汉", "湖北"}
	err := db.InTx(t.Context(), func(ctx context.Context, tx bun.Tx) error {
		for _, c := range communities {
			if _, err := d.Orgs.ApplyOrg(ctx, tx, orgs.OrgInput{Slug: c, Name: c + "社区", Kind: orgs.KindCommunity,
				Parent: "sub", Timezone: "Asia/Shanghai", Settings: &settings}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	w := &demoWorld{db: db, district: d, screening: &screening.Service{DB: db, Frame: tw.Frame}}
	r := &roster.Service{DB: db, Frame: tw.Frame, Households: w.screening}
	for _, c := range communities {
		if _, _, err := r.SeedDemo(w.system(t, c), demoRosters[c]); err != nil {
			t.Fatalf("roster of %s: %v", c, err)
		}
	}
	return w
}

// system is the context ApplyDemo seeds a community in: its tenant, no
// caller.
func (w *demoWorld) system(t *testing.T, community string) context.Context {
	return scope.With(t.Context(), scope.Tenant{TenantID: w.district.Org(t, community).ID})
}

// count runs a counting query over every tenant (a check behind the
// services' backs).
func (w *demoWorld) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	err := w.db.AcrossTenants(t.Context(), "test fixture", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewRaw(query, args...).Scan(ctx, &n)
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDemoHistoryReproducesTheReport(t *testing.T) {
	t.Parallel()
	w := newDemoWorld(t, "yucai", "wangcheng")
	for _, c := range []struct {
		community string
		spec      screening.DemoHistory
		want      screening.Figures
	}{
		{"yucai", screening.DemoYucai, screening.Figures{HouseholdsTotal: 2100, HouseholdsScreenedTotal: 1859,
			ScreenedByPhoneTotal: 1528, ScreenedByVisitTotal: 331, HouseholdsUnreached: 241}},
		{"wangcheng", screening.DemoWangcheng, screening.Figures{HouseholdsTotal: 857, HouseholdsScreenedTotal: 105,
			ScreenedByPhoneTotal: 65, ScreenedByVisitTotal: 40, HouseholdsUnreached: 752}},
	} {
		t.Run(c.community, func(t *testing.T) {
			ctx := w.system(t, c.community)
			start := time.Now()
			added, err := w.screening.SeedDemoHistory(ctx, c.spec)
			if err != nil || !added {
				t.Fatalf("seed: %v, %v", added, err)
			}
			t.Logf("%s: history seeded in %v", c.community, time.Since(start).Round(time.Millisecond))
			tenant := w.district.Org(t, c.community).ID
			attempts := w.count(t, "SELECT COUNT(*) FROM attempts WHERE tenant_id = ?", tenant)

			staff := w.district.As(t, c.community+".staff", c.community)
			f, err := w.screening.Figures(staff, "2020-02-10")
			if err != nil {
				t.Fatal(err)
			}
			// The day's own figures are whatever the draw gave; the totals
			// are the report's.
			got := f
			got.ScreenedToday, got.CallsToday, got.VisitsToday = 0, 0, 0
			if got != c.want {
				t.Errorf("figures of 2020-02-10 = %+v\nwant %+v", got, c.want)
			}
			if f.CallsToday+f.VisitsToday == 0 {
				t.Errorf("nobody worked on the last day: %+v", f)
			}
			if f, _ := w.screening.Figures(staff, "2020-01-26"); f.HouseholdsScreenedTotal != 0 {
				t.Errorf("figures before the campaign = %+v", f)
			}

			// Households reached at the door got there by the rule, after
			// their calls failed; some not reached were tried.
			if n := w.count(t, "SELECT COUNT(*) FROM screening_tasks WHERE tenant_id = ? AND reached_by_visit AND NOT door", tenant); n != 0 {
				t.Errorf("%d households visited without being on the door list", n)
			}
			if n := w.count(t, `SELECT COUNT(*) FROM screening_tasks AS t WHERE t.tenant_id = ? AND t.reached_by_visit
				AND NOT EXISTS (SELECT 1 FROM attempts AS a WHERE a.tenant_id = t.tenant_id AND a.task_id = t.id AND a.method = 'phone')`, tenant); n != 0 {
				t.Errorf("%d households reached at the door were never called", n)
			}
			if n := w.count(t, "SELECT COUNT(*) FROM screening_tasks WHERE tenant_id = ? AND reached_on IS NULL AND attempts > 0", tenant); n != c.spec.TriedUnreached {
				t.Errorf("households tried and not reached = %d, want %d", n, c.spec.TriedUnreached)
			}
			if n := w.count(t, "SELECT COUNT(*) FROM attempts WHERE tenant_id = ? AND (by_user NOT LIKE 'demo:%' OR by_name = 'system')", tenant); n != 0 {
				t.Errorf("%d attempts by no demo worker", n)
			}

			// Each returnee and each household with symptoms has one
			// follow-up; travellers from elsewhere have none.
			ups, _, err := w.screening.ListFollowUps(staff, screening.Filter{Limit: 500})
			if err != nil {
				t.Fatal(err)
			}
			travel, sick := 0, 0
			for _, u := range ups {
				for _, r := range u.Reasons {
					switch r {
					case screening.ReasonTravel:
						travel++
					case screening.ReasonSymptoms:
						sick++
					}
				}
			}
			if len(ups) != c.spec.Returnees+c.spec.Sick || travel != c.spec.Returnees || sick != c.spec.SickReturnees+c.spec.Sick {
				t.Errorf("follow-ups = %d (travel %d, symptoms %d), want %d (%d, %d)", len(ups), travel, sick,
					c.spec.Returnees+c.spec.Sick, c.spec.Returnees, c.spec.SickReturnees+c.spec.Sick)
			}
			if n := w.count(t, "SELECT COUNT(*) FROM attempts WHERE tenant_id = ? AND travel_from <> ''", tenant); n != c.spec.Returnees+c.spec.Travellers {
				t.Errorf("attempts that found travel = %d, want %d", n, c.spec.Returnees+c.spec.Travellers)
			}

			// A second run changes nothing.
			added, err = w.screening.SeedDemoHistory(ctx, c.spec)
			if err != nil || added {
				t.Fatalf("second seed: %v, %v", added, err)
			}
			again, _ := w.screening.Figures(staff, "2020-02-10")
			if n := w.count(t, "SELECT COUNT(*) FROM attempts WHERE tenant_id = ?", tenant); n != attempts || again != f {
				t.Errorf("after a second run: %d attempts (were %d), figures %+v (were %+v)", n, attempts, again, f)
			}
			if n := w.count(t, "SELECT COUNT(*) FROM screenings WHERE tenant_id = ?", tenant); n != 1 {
				t.Errorf("%d campaigns after a second run", n)
			}
		})
	}
}

// history is a community's screening history keyed by what stays the
// same from one database to the next (addresses, not ids): each household's
// task, its attempts and its follow-ups, and the figures of each day.
type history struct {
	tasks, attempts, followUps map[string]string
	days                       []screening.Figures
}

func (w *demoWorld) history(t *testing.T, community string) history {
	t.Helper()
	h := history{tasks: map[string]string{}, attempts: map[string]string{}, followUps: map[string]string{}}
	var (
		homes []struct {
			ID      string `bun:"id"`
			Address string `bun:"address"`
		}
		campaigns []screening.Screening
		tasks     []screening.Task
		attempts  []screening.Attempt
		followUps []screening.FollowUp
	)
	tenant := w.district.Org(t, community).ID
	err := w.db.AcrossTenants(t.Context(), "test fixture", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		for _, q := range []*bun.SelectQuery{
			tx.NewSelect().Table("households").Column("id", "address").Where("tenant_id = ?", tenant),
			tx.NewSelect().Model(&campaigns).Where("s.tenant_id = ?", tenant),
			tx.NewSelect().Model(&tasks).Where("t.tenant_id = ?", tenant),
			tx.NewSelect().Model(&attempts).Where("a.tenant_id = ?", tenant).Order("a.at", "a.id"),
			tx.NewSelect().Model(&followUps).Where("f.tenant_id = ?", tenant),
		} {
			dest := []any{}
			if q.GetModel() == nil {
				dest = append(dest, &homes)
			}
			if err := q.Scan(ctx, dest...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	address := map[string]string{}
	for _, r := range homes {
		address[r.ID] = r.Address
	}
	if len(campaigns) != 1 {
		t.Fatalf("%d campaigns", len(campaigns))
	}
	sc := campaigns[0]
	h.tasks[""] = fmt.Sprint(sc.Name, sc.Method, sc.GridIDs, sc.StartDate, sc.EndDate, sc.Status, sc.CreatedBy, sc.CreatedAt.UTC())
	for _, x := range tasks {
		h.tasks[address[x.HouseholdID]] = fmt.Sprint(x.GridID != "", x.Status, x.Door, x.Attempts, x.FailedCalls, utc(x.LastAttemptAt),
			x.LastOutcome, strings.TrimSuffix(x.CallOrder, x.ID), x.ReachedByPhone, x.ReachedByVisit, deref(x.ReachedOn),
			x.CreatedAt.UTC(), x.UpdatedAt.UTC())
	}
	for _, x := range attempts {
		h.attempts[address[x.HouseholdID]] += fmt.Sprint(x.Kind, x.Method, x.Outcome, x.TravelFrom, deref(x.ReturnedOn), x.Symptoms,
			x.CloseContact, x.Occupants != nil && *x.Occupants > 0, x.Notes, x.ByUser, x.ByName, x.At.UTC(), x.LocalDate) + "\n"
	}
	for _, x := range followUps {
		h.followUps[address[x.HouseholdID]] += fmt.Sprint(x.Reasons, x.TravelFrom, deref(x.ReturnedOn), x.Status, x.CreatedAt.UTC()) + "\n"
	}
	staff := w.district.As(t, community+".staff", community)
	for day := range 16 {
		f, err := w.screening.Figures(staff, time.Date(2020, 1, 26+day, 0, 0, 0, 0, time.UTC).Format(time.DateOnly))
		if err != nil {
			t.Fatal(err)
		}
		h.days = append(h.days, f)
	}
	return h
}

func utc(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().String()
}

func deref(s *string) string {
	if s == nil {
		return "-"
	}
	return *s
}

// same reports the first difference between two histories.
func (h history) same(t *testing.T, o history, what string) {
	t.Helper()
	for _, c := range []struct {
		name string
		a, b map[string]string
	}{{"task", h.tasks, o.tasks}, {"attempts", h.attempts, o.attempts}, {"follow-ups", h.followUps, o.followUps}} {
		if len(c.a) != len(c.b) {
			t.Errorf("%s: %d households with %s, %d", what, len(c.a), c.name, len(c.b))
		}
		diffs := 0
		for k, v := range c.a {
			if c.b[k] != v && diffs < 3 {
				t.Errorf("%s: %s of %q:\n%s\n%s", what, c.name, k, v, c.b[k])
				diffs++
			}
		}
	}
	if !slices.Equal(h.days, o.days) {
		t.Errorf("%s: figures by day\n%+v\n%+v", what, h.days, o.days)
	}
}

// TestDemoHistoryIsTheSameEveryTime: the same roster and spec draw the
// same history on another database.
func TestDemoHistoryIsTheSameEveryTime(t *testing.T) {
	t.Parallel()
	var hs [2]history
	for i := range hs {
		w := newDemoWorld(t, "wangcheng")
		if _, err := w.screening.SeedDemoHistory(w.system(t, "wangcheng"), screening.DemoWangcheng); err != nil {
			t.Fatal(err)
		}
		hs[i] = w.history(t, "wangcheng")
	}
	if len(hs[0].attempts) < screening.DemoWangcheng.ReachedByPhone+screening.DemoWangcheng.ReachedByVisit {
		t.Fatalf("%d households with attempts", len(hs[0].attempts))
	}
	hs[0].same(t, hs[1], "seeded again")
}

// TestDemoHistoryIsRecordAttempt: the seed writes its attempts in bulk,
// following recordAttempt's rules; here the same attempts go through
// RecordAttempt one by one, each at its time, and leave the same tasks,
// attempts, follow-ups and figures. If recordAttempt's rules change and the
// seed's do not, this fails.
func TestDemoHistoryIsRecordAttempt(t *testing.T) {
	t.Parallel()
	spec := screening.DemoWangcheng
	seeded := newDemoWorld(t, "wangcheng")
	if _, err := seeded.screening.SeedDemoHistory(seeded.system(t, "wangcheng"), spec); err != nil {
		t.Fatal(err)
	}
	want := seeded.history(t, "wangcheng")

	w := newDemoWorld(t, "wangcheng")
	clk := testworld.NewClock(testworld.Start)
	w.screening.Now = clk.Now
	as := func(name string) context.Context {
		return authz.WithCaller(w.system(t, "wangcheng"), authz.Caller{UserID: "demo:" + name, Username: name, Role: authz.RoleGridWorker})
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	start, _ := time.ParseInLocation(time.DateOnly, spec.Start, loc)
	clk.Set(start.Add(8 * time.Hour))
	sc, err := w.screening.CreateScreening(as(spec.Callers[0]), screening.ScreeningInput{Name: spec.Name, Method: screening.MethodAny,
		StartDate: spec.Start, EndDate: spec.End})
	if err != nil {
		t.Fatal(err)
	}
	var tasks []struct {
		ID      string `bun:"id"`
		Address string `bun:"address"`
	}
	var attempts []struct {
		screening.Attempt `bun:",extend"`
		Address           string `bun:"address"`
	}
	err = seeded.db.AcrossTenants(t.Context(), "test fixture", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewSelect().Model(&attempts).ColumnExpr("a.*, h.address").
			Join("JOIN households AS h ON h.tenant_id = a.tenant_id AND h.id = a.household_id").
			Where("a.tenant_id = ?", seeded.district.Org(t, "wangcheng").ID).Order("a.at", "a.id").Scan(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
	err = w.db.AcrossTenants(t.Context(), "test fixture", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewSelect().TableExpr("screening_tasks AS t").ColumnExpr("t.id, h.address").
			Join("JOIN households AS h ON h.tenant_id = t.tenant_id AND h.id = t.household_id").
			Where("t.screening_id = ?", sc.ID).Scan(ctx, &tasks)
	})
	if err != nil {
		t.Fatal(err)
	}
	taskOf := map[string]string{}
	for _, x := range tasks {
		taskOf[x.Address] = x.ID
	}
	for _, a := range attempts {
		clk.Set(a.At)
		in := screening.AttemptInput{Method: a.Method, Outcome: a.Outcome, TravelFrom: a.TravelFrom, ReturnedOn: deref(a.ReturnedOn),
			Symptoms: a.Symptoms, CloseContact: a.CloseContact, Occupants: a.Occupants, Notes: a.Notes}
		if in.ReturnedOn == "-" {
			in.ReturnedOn = ""
		}
		if _, err := w.screening.RecordAttempt(as(a.ByName), sc.ID, taskOf[a.Address], in); err != nil {
			t.Fatalf("attempt at %v on %s: %v", a.At, a.Address, err)
		}
	}
	want.same(t, w.history(t, "wangcheng"), "through RecordAttempt")
}
