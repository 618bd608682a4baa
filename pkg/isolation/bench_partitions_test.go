package isolation_test

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/isolation"
	"github.com/wanjia/wanjia/pkg/screening"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// BenchmarkPartitionedVsPlain: the morning reminder sweep and the
// sub-district rollups (isolation's and screening's FiguresAcross over 100
// communities) on the partitioned tables, then, in the same run, on the
// same rows in plain tables (the partitions migration rolled back). The
// check-ins and attempts are spread over four months' partitions. Goal:
// partitioned within 1.2x of plain.
//
//	WANJIA_TEST_DATABASE_URL=… go test -run '^$' -bench PartitionedVsPlain -benchtime 3x ./pkg/isolation/
func BenchmarkPartitionedVsPlain(b *testing.B) {
	const communities, perCommunity = 100, 500
	db, svc, count := sweepWorld(b, communities, perCommunity)
	tenants := seedHistory(b, db)
	for _, layout := range []string{"partitioned", "plain"} {
		if layout == "plain" {
			storetest.Unpartition(b, db)
		}
		// Each layout starts settled: no autovacuum of the rows just
		// written running under one and not the other.
		if _, err := db.ExecContext(storetest.Unguarded(context.Background()), "VACUUM ANALYZE"); err != nil {
			b.Fatal(err)
		}
		b.Run(layout+"/figures", func(b *testing.B) { benchFigures(b, db, tenants) })
		b.Run(layout+"/sweep", func(b *testing.B) { benchSweeps(b, db, svc, count, communities*perCommunity) })
	}
}

// benchFigures times both rollups of 2020-02-03 over tenants.
func benchFigures(b *testing.B, db *store.DB, tenants []string) {
	ctx := context.Background()
	var isoTime, scrTime time.Duration
	for range b.N {
		err := db.AcrossTenants(ctx, "bench rollup", tenants, func(ctx context.Context, tx bun.Tx) error {
			start := time.Now()
			iso, err := isolation.FiguresAcross(ctx, tx, tenants, "2020-02-03")
			if err != nil {
				return err
			}
			isoTime += time.Since(start)
			start = time.Now()
			scr, err := screening.FiguresAcross(ctx, tx, tenants, "2020-02-03")
			if err != nil {
				return err
			}
			scrTime += time.Since(start)
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
	}
	b.ReportMetric(float64(isoTime.Milliseconds())/float64(b.N), "ms/isolation")
	b.ReportMetric(float64(scrTime.Milliseconds())/float64(b.N), "ms/screening")
}

// uuid7At is a UUIDv7 made at t.
func uuid7At(t time.Time) string {
	var u uuid.UUID
	_, _ = rand.Read(u[:])
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(t.UnixMilli()))
	copy(u[:6], ms[2:])
	u[6] = u[6]&0x0f | 0x70
	u[8] = u[8]&0x3f | 0x80
	return u.String()
}

// seedHistory writes two past days of check-ins for every case and two
// attempts for every household, their ids spread over the current month
// and the three ahead (one partition each), and returns the communities.
func seedHistory(b *testing.B, db *store.DB) []string {
	ctx := context.Background()
	now := time.Now()
	at := func(i int) string { return uuid7At(now.AddDate(0, i%4, 0).Add(time.Duration(i) * time.Millisecond)) }
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
		stamp := time.Date(2020, 2, 2, 2, 0, 0, 0, time.UTC)
		for i, c := range cases {
			for d, day := range []string{"2020-02-02", "2020-02-03"} {
				checkins = append(checkins, isolation.Checkin{TenantID: c.TenantID, ID: at(2*i + d), CaseID: c.ID, Temperature: 365,
					Symptoms: []string{}, Source: "staff", Counts: true, ByUser: "bench", ByName: "bench", At: stamp, LocalDate: day})
				outcome, method := screening.OutcomeReached, screening.MethodPhone
				if d == 0 {
					outcome, method = screening.OutcomeNoAnswer, screening.MethodVisit
				}
				attempts = append(attempts, screening.Attempt{TenantID: c.TenantID, ID: at(2*i + d + 1), Kind: screening.KindScreening,
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
		_, err := tx.NewRaw("ANALYZE").Exec(ctx)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return tenants
}
