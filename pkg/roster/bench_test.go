package roster_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/orgs/orgstest"
	"github.com/wanjia/wanjia/pkg/pii"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// district builds, through the orgs service, a sub-district with the
// community "bench" of five grids (g1 … g5) and its users.
func district(tb testing.TB, db *store.DB) *orgstest.District {
	tb.Helper()
	return orgstest.New(tb, db, orgstest.Spec{Slug: "bench", Grids: []string{"g1", "g2", "g3", "g4", "g5"}})
}

// community is the context of bench's staff, in a fresh district.
func community(tb testing.TB, db *store.DB) context.Context {
	tb.Helper()
	return district(tb, db).As(tb, "bench.staff", "bench")
}

// tenantOf is the community a context works in.
func tenantOf(ctx context.Context) string {
	s, _ := scope.From(ctx)
	return s.TenantID
}

// fixtureExec runs a statement that sets up a test's state behind the
// services' backs, through the cross-tenant path that row security allows.
func fixtureExec(ctx context.Context, db *store.DB, query string, args ...any) error {
	return db.AcrossTenants(ctx, "test fixture", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewRaw(query, args...).Exec(ctx)
		return err
	})
}

// residentsCSV builds n resident rows, three to a household, 700
// households to a building, buildings spread over the five grids. Every
// resident has a distinct, valid ID number (with its check digit) that
// agrees with the birth year and sex columns, so validation does its full
// work.
func residentsCSV(n int) []byte {
	var b bytes.Buffer
	b.WriteString("姓名,电话,身份证号,出生年份,性别,标签,网格,楼栋,单元,房号\n")
	for i := 0; i < n; i++ {
		tags := ""
		if i%5 == 0 {
			tags = "老人"
		}
		h := i / 3
		bld := h / 700
		fmt.Fprintf(&b, "居民%d,170%08d,%s,%d,%s,%s,g%d,%d栋,%d单元,%d\n", i, i, benchID(i), 1940+i%70, []string{"男", "女"}[i%2], tags,
			1+bld%5, bld, (h/70)%10+1, h%70+100)
	}
	return b.Bytes()
}

// benchID is the i-th synthetic ID number: i written in mixed radix as
// birth year, day, month and sequence, so no two are equal. An odd
// sequence digit means male, as the even rows are.
func benchID(i int) string {
	year, day, month, seq := 1940+i%70, 1+(i/70)%28, 1+(i/1960)%12, 2*(i/23520)+1-i%2
	body := fmt.Sprintf("450305%04d%02d%02d%03d", year, month, day, seq)
	return body + string(pii.CheckDigit(body))
}

// BenchmarkImport100k imports 100,000 residents (validation included) and,
// on PostgreSQL, COPYs the same rows into a bare table in the same run, so
// the two can be compared. Goals: ≥ 20,000 rows/s, ≤ 3× COPY, peak heap
// under 150 MiB.
func BenchmarkImport100k(b *testing.B) {
	const n = 100_000
	data := residentsCSV(n)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db := storetest.New(b)
		ctx := community(b, db)
		s := &roster.Service{DB: db}
		runtime.GC()
		var peak atomic.Uint64
		stop := samplePeak(&peak)
		b.StartTimer()
		t0 := time.Now()
		imp, err := s.ImportNow(ctx, roster.KindResidents, "bench.csv", data)
		elapsed := time.Since(t0)
		b.StopTimer()
		stop()
		if err != nil {
			b.Fatal(err)
		}
		if imp.Created != n || imp.ErrorCount != 0 {
			b.Fatalf("import: created %d, errors %d %v", imp.Created, imp.ErrorCount, imp.Errors[:min(3, len(imp.Errors))])
		}
		b.ReportMetric(float64(n)/elapsed.Seconds(), "rows/s")
		b.ReportMetric(float64(peak.Load())/(1<<20), "MiB-peak-heap")
		if db.Flavor() == store.Postgres {
			copyTime := bareCopy(b, db, n)
			b.ReportMetric(float64(n)/copyTime.Seconds(), "copy-rows/s")
			b.ReportMetric(elapsed.Seconds()/copyTime.Seconds(), "x-copy")
		}
		b.StartTimer()
	}
}

func samplePeak(peak *atomic.Uint64) func() {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return func() { close(done); <-finished }
}

// bareCopy is PostgreSQL's fastest path for the same rows: COPY into a
// table shaped like residents, with the same indexes, no validation.
func bareCopy(b *testing.B, db *store.DB, n int) time.Duration {
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE copy_residents (LIKE residents INCLUDING DEFAULTS INCLUDING INDEXES)`); err != nil {
		b.Fatal(err)
	}
	conn, err := db.DB.DB.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	now := time.Now()
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{fmt.Sprintf("01a22230-%04d-7000-8000-%012d", i%10000, i), "t-1", fmt.Sprintf("h-%d", i/3), "g-1", fmt.Sprintf("居民%d", i),
			fmt.Sprintf("170%08d", i), fmt.Sprintf("%08d071", i), benchID(i), 1940 + i%70, "male", `["elderly"]`, now, now}
	}
	t0 := time.Now()
	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		_, err := pc.CopyFrom(ctx, pgx.Identifier{"copy_residents"},
			[]string{"id", "tenant_id", "household_id", "grid_id", "name", "phone", "phone_rev", "id_number", "birth_year", "sex", "tags", "created_at", "updated_at"},
			pgx.CopyFromRows(rows))
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return time.Since(t0)
}

// BenchmarkSearch searches a community of 10,000 households (about 25,000
// residents) by phone ending and by the start of a name, and reports the
// p99 latency. Goal: under 20 ms.
func BenchmarkSearch(b *testing.B) {
	db := storetest.New(b)
	ctx := community(b, db)
	s := &roster.Service{DB: db}
	if _, _, err := s.SeedDemo(ctx, roster.DemoSpec{Seed: 1, Grids: []string{"g1", "g2", "g3", "g4", "g5"}, Buildings: 400, Households: 10_000, ElderlyShare: 0.2, Street: "测试路"}); err != nil {
		b.Fatal(err)
	}
	queries := []roster.Filter{{Q: "1234"}, {Q: "5678"}, {Q: "王"}, {Q: "李秀"}, {Q: "0042"}, {Q: "张伟"}, {Tag: "lives_alone"}}
	for _, kind := range []string{"residents", "households"} {
		b.Run(kind, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for i := 0; i < b.N; i++ {
				f := queries[i%len(queries)]
				f.Limit = 50
				t0 := time.Now()
				var err error
				if kind == "residents" {
					_, _, err = s.ListResidents(ctx, f)
				} else {
					_, _, err = s.ListHouseholds(ctx, f)
				}
				lat = append(lat, time.Since(t0))
				if err != nil {
					b.Fatal(err)
				}
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "ms-p99")
		})
	}
}
