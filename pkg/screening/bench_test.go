package screening_test

import (
	"context"
	"testing"
	"time"

	"github.com/wanjia/wanjia/pkg/orgs/orgstest"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/screening"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// The goals of issue 11: a campaign over 10,000 households is created in
// under a second, and its progress (per grid and per worker) is read in
// under 50 ms.
//
//	go test -run '^$' -bench 'CreateScreening|Progress' -benchmem ./pkg/screening/
//	WANJIA_TEST_DATABASE_URL='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' \
//	go test -run '^$' -bench 'CreateScreening|Progress' -benchmem ./pkg/screening/
//
// The measured calls run without storetest's tenant guard (a regexp pass
// over every statement, test-only), as production does.

// bench10k is the community "bench" of 10,000 households in 400 buildings
// over five grids, built by the roster's demo seed (the fast way in).
type bench10k struct {
	db        *store.DB
	district  *orgstest.District
	screening *screening.Service
	staff     context.Context // bench.staff's, unguarded
	worker    context.Context // bench.grid1's (grid g1), unguarded
}

var benchGrids = []string{"g1", "g2", "g3", "g4", "g5"}

func newBench10k(b *testing.B) *bench10k {
	b.Helper()
	db := storetest.New(b)
	d := orgstest.New(b, db, orgstest.Spec{Slug: "bench", Grids: benchGrids})
	frame := scope.New(db)
	w := &bench10k{db: db, district: d, screening: &screening.Service{DB: db, Frame: frame},
		staff:  storetest.Unguarded(d.As(b, "bench.staff", "bench")),
		worker: storetest.Unguarded(d.As(b, "bench.grid1", "bench"))}
	r := &roster.Service{DB: db, Frame: frame, Households: w.screening}
	system := storetest.Unguarded(scope.With(context.Background(), scope.Tenant{TenantID: d.Org(b, "bench").ID}))
	h, _, err := r.SeedDemo(system, roster.DemoSpec{Seed: 10_000, Grids: benchGrids, Buildings: 400, Households: 10_000,
		ElderlyShare: 0.2, Street: "测试路"})
	if err != nil || h != 10_000 {
		b.Fatalf("roster: %d households, %v", h, err)
	}
	if err := db.Optimize(context.Background()); err != nil {
		b.Fatal(err)
	}
	return w
}

func reportMs(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed())/float64(time.Millisecond)/float64(b.N), "ms/op")
}

// BenchmarkCreateScreening10k creates a campaign over the whole community
// (a task for each of its 10,000 households, in one transaction) per
// iteration.
func BenchmarkCreateScreening10k(b *testing.B) {
	w := newBench10k(b)
	in := screening.ScreeningInput{Name: "全覆盖排查", Method: screening.MethodAny}
	for b.Loop() {
		sc, err := w.screening.CreateScreening(w.staff, in)
		if err != nil {
			b.Fatal(err)
		}
		if sc.Progress.Households != 10_000 {
			b.Fatalf("%d households in the campaign", sc.Progress.Households)
		}
	}
	reportMs(b)
}

// BenchmarkProgress10k reads the progress of an open campaign over the
// 10,000 households, two weeks in, with about 15,000 attempts recorded
// (today's among them, so the per-worker figures have rows): as staff
// (every grid) and as a grid worker (its own grid).
func BenchmarkProgress10k(b *testing.B) {
	w := newBench10k(b)
	today := time.Now().In(must(time.LoadLocation("Asia/Shanghai")))
	spec := screening.DemoHistory{Seed: 1, Name: "全覆盖排查",
		Start: today.AddDate(0, 0, -13).Format(time.DateOnly), End: today.Format(time.DateOnly),
		ReachedByPhone: 6000, ReachedByVisit: 1200, TriedUnreached: 1500, Sick: 3, Travellers: 50,
		Callers: []string{"周静", "黄丽", "何涛", "林欣怡"},
		GridWorkers: map[string][]string{"g1": {"陈建华", "王秀兰"}, "g2": {"李明", "赵艳"}, "g3": {"刘强", "孙桂英"},
			"g4": {"杨磊", "吴娟"}, "g5": {"郭勇", "马玉兰"}}}
	system := storetest.Unguarded(scope.With(context.Background(), scope.Tenant{TenantID: w.district.Org(b, "bench").ID}))
	if _, err := w.screening.SeedDemoHistory(system, spec); err != nil {
		b.Fatal(err)
	}
	if err := w.db.Optimize(context.Background()); err != nil {
		b.Fatal(err)
	}
	list, _, err := w.screening.ListScreenings(w.staff, screening.Filter{Limit: 1})
	if err != nil || len(list) != 1 {
		b.Fatalf("campaigns: %v, %v", list, err)
	}
	id := list[0].ID
	for _, c := range []struct {
		name  string
		ctx   context.Context
		grids int
	}{{"staff", w.staff, 5}, {"grid-worker", w.worker, 1}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				v, err := w.screening.GetScreening(c.ctx, id)
				if err != nil {
					b.Fatal(err)
				}
				if len(v.ByGrid) != c.grids || v.Progress.Reached == 0 || len(v.ByWorker) == 0 {
					b.Fatalf("progress: %d grids, %+v, %d workers", len(v.ByGrid), v.Progress, len(v.ByWorker))
				}
			}
			reportMs(b)
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
