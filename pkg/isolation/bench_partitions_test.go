package isolation_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/isolation"
	"github.com/wanjia/wanjia/pkg/screening"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// BenchmarkPartitionedVsPlain: the morning reminder sweep and the
// sub-district rollups (isolation's and screening's FiguresAcross over 100
// communities) on the partitioned tables and on the same rows in plain
// tables (a second world, seeded alike, the partitions migration rolled
// back), in one run. The check-ins and attempts are spread over four
// months' partitions (historyDays). Goal: partitioned within 1.2x of plain.
//
// The rollups of both layouts are timed in interleaved rounds (ABBA), so
// that a load on the shared machine or a warming cache falls on both
// alike; x/isolation and x/screening are partitioned over plain. So are
// the sweeps (x/sweep, and x/sweep-cpu by the CPU of this process and its
// backends), each world's on its own database.
//
//	WANJIA_TEST_DATABASE_URL=… go test -run '^$' -bench PartitionedVsPlain -benchtime 3x ./pkg/isolation/
func BenchmarkPartitionedVsPlain(b *testing.B) {
	const communities, perCommunity = 100, 500
	type world struct {
		name    string
		db      *store.DB
		svc     *isolation.Service
		count   *statements
		tenants []string
	}
	var worlds []world
	for _, name := range []string{"partitioned", "plain"} {
		db, svc, count := sweepWorld(b, communities, perCommunity)
		tenants := seedHistory(b, db)
		if name == "plain" {
			storetest.Unpartition(b, db)
		}
		worlds = append(worlds, world{name, db, svc, count, tenants})
	}
	// Both start settled: no autovacuum of the rows just written running
	// under one and not the other.
	for _, w := range worlds {
		if _, err := w.db.ExecContext(storetest.Unguarded(context.Background()), "VACUUM ANALYZE"); err != nil {
			b.Fatal(err)
		}
	}
	// abba runs fn on every world n times, each round in the reverse order
	// of the one before.
	abba := func(n int, fn func(w world)) {
		for i := range n {
			for j := range worlds {
				if i%2 == 1 {
					j = len(worlds) - 1 - j
				}
				fn(worlds[j])
			}
		}
	}
	b.Run("figures", func(b *testing.B) {
		iso, scr := map[string]time.Duration{}, map[string]time.Duration{}
		abba(b.N, func(w world) {
			di, ds := figuresOnce(b, w.db, w.tenants)
			iso[w.name] += di
			scr[w.name] += ds
		})
		for _, w := range worlds {
			b.ReportMetric(float64(iso[w.name].Milliseconds())/float64(b.N), "ms/isolation-"+w.name)
			b.ReportMetric(float64(scr[w.name].Milliseconds())/float64(b.N), "ms/screening-"+w.name)
		}
		b.ReportMetric(float64(iso["partitioned"])/float64(iso["plain"]), "x/isolation")
		b.ReportMetric(float64(scr["partitioned"])/float64(scr["plain"]), "x/screening")
	})
	// The sweeps too, in interleaved rounds (each world's sweep writes to
	// its own database, cleared before each of its rounds).
	b.Run("sweep", func(b *testing.B) {
		wall, cpu := map[string]time.Duration{}, map[string]time.Duration{}
		for _, w := range worlds {
			w.db.DB.SetMaxIdleConns(10) // the backends whose CPU is counted stay
		}
		abba(b.N, func(w world) {
			dw, dc, _ := sweepOnce(b, w.db, w.svc, w.count, communities*perCommunity)
			wall[w.name] += dw
			cpu[w.name] += dc
		})
		for _, w := range worlds {
			b.ReportMetric(float64(wall[w.name].Milliseconds())/float64(b.N), "ms/sweep-"+w.name)
			b.ReportMetric(float64(cpu[w.name].Milliseconds())/float64(b.N), "cpu-ms/sweep-"+w.name)
		}
		b.ReportMetric(float64(wall["partitioned"])/float64(wall["plain"]), "x/sweep")
		b.ReportMetric(float64(cpu["partitioned"])/float64(cpu["plain"]), "x/sweep-cpu")
	})
}

// figuresOnce times both rollups of 2020-02-03 over tenants, once.
func figuresOnce(b *testing.B, db *store.DB, tenants []string) (isoTime, scrTime time.Duration) {
	ctx := context.Background()
	err := db.AcrossTenants(ctx, "bench rollup", tenants, func(ctx context.Context, tx bun.Tx) error {
		start := time.Now()
		iso, err := isolation.FiguresAcross(ctx, tx, tenants, "2020-02-03")
		if err != nil {
			return err
		}
		isoTime = time.Since(start)
		start = time.Now()
		scr, err := screening.FiguresAcross(ctx, tx, tenants, "2020-02-03")
		if err != nil {
			return err
		}
		scrTime = time.Since(start)
		if f := iso[tenants[0]]; f.CheckinsDoneToday == 0 {
			return fmt.Errorf("isolation figures of %s: %+v", tenants[0], f)
		}
		if f := scr[tenants[0]]; f.HouseholdsScreenedTotal == 0 {
			return fmt.Errorf("screening figures of %s: %+v", tenants[0], f)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return isoTime, scrTime
}

// historyDays are the days seedHistory writes, one month's each but the
// last two: a partitioned table holds the rollup's day among older months.
var historyDays = []string{"2019-11-03", "2019-12-03", "2020-01-03", "2020-02-02", "2020-02-03"}

// seedHistory writes a check-in for every case and an attempt for every
// household on each of historyDays, their ids made at their instant
// (09:00 in Shanghai that day, as the service makes them: store.NewIDAt),
// then makes those months' partitions (MaintainPartitions moves the rows
// in from the default partition), and returns the communities.
func seedHistory(b *testing.B, db *store.DB) []string {
	ctx := context.Background()
	var tenants []string
	err := db.AcrossTenants(ctx, "test fixture", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewRaw("SELECT id FROM orgs WHERE kind = 'community' ORDER BY id").Scan(ctx, &tenants); err != nil {
			return err
		}
		var cases []struct {
			TenantID    string `bun:"tenant_id"`
			ID          string `bun:"id"`
			HouseholdID string `bun:"household_id"`
			GridID      string `bun:"grid_id"`
		}
		if err := tx.NewRaw(`SELECT c.tenant_id, c.id, c.household_id, h.grid_id FROM isolation_cases c
			JOIN households h ON h.tenant_id = c.tenant_id AND h.id = c.household_id`).Scan(ctx, &cases); err != nil {
			return err
		}
		var checkins []isolation.Checkin
		var attempts []screening.Attempt
		for i, c := range cases {
			for d, day := range historyDays {
				stamp, _ := time.Parse(time.DateOnly, day)
				stamp = stamp.Add(time.Hour + time.Duration(i)*time.Millisecond)
				checkins = append(checkins, isolation.Checkin{TenantID: c.TenantID, ID: store.NewIDAt(stamp), CaseID: c.ID, Temperature: 365,
					Symptoms: []string{}, Source: "staff", Counts: true, ByUser: "bench", ByName: "bench", At: stamp, LocalDate: day})
				outcome, method := screening.OutcomeReached, screening.MethodPhone
				if d < len(historyDays)-1 {
					outcome, method = screening.OutcomeNoAnswer, screening.MethodVisit
				}
				attempts = append(attempts, screening.Attempt{TenantID: c.TenantID, ID: store.NewIDAt(stamp), Kind: screening.KindScreening,
					HouseholdID: c.HouseholdID, GridID: c.GridID, Method: method, Outcome: outcome, ByUser: "bench", ByName: "bench",
					At: stamp, LocalDate: day})
			}
		}
		for from := 0; from < len(checkins); from += 2000 {
			part := checkins[from:min(from+2000, len(checkins))]
			if _, err := tx.NewInsert().Model(&part).Exec(ctx); err != nil {
				return err
			}
			apart := attempts[from:min(from+2000, len(attempts))]
			if _, err := tx.NewInsert().Model(&apart).Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.MaintainPartitions(ctx, store.PartitionPolicy{}); err != nil {
		b.Fatal(err)
	}
	return tenants
}
