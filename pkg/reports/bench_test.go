package reports_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/orgs/orgstest"
	"github.com/wanjia/wanjia/pkg/reports"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/testworld"
)

// benchSize is the district of the performance section: 100
// communities of 3,000 households and 10,000 residents (300,000 and
// 1,000,000), 30 days of attempts (three per household) and of check-ins
// (100 cases a community). WANJIA_BENCH_COMMUNITIES scales it down.
func benchSize() int {
	if n, err := strconv.Atoi(os.Getenv("WANJIA_BENCH_COMMUNITIES")); err == nil && n > 0 {
		return n
	}
	return 100
}

// BenchmarkReports (PostgreSQL only): the district's rollup of one day
// with every community a live draft (the costly case: every domain's
// grouped figures), the same figures by a hand-written SQL aggregate over
// the same rows, the 30-day series of the district, and then, with the 29
// days before today submitted, a submitted day's rollup and the series.
//
//	WANJIA_TEST_DATABASE_URL=… go test -run '^$' -bench BenchmarkReports -benchtime 5x ./pkg/reports/
func BenchmarkReports(b *testing.B) {
	if os.Getenv("WANJIA_TEST_DATABASE_URL") == "" {
		b.Skip("PostgreSQL only: set WANJIA_TEST_DATABASE_URL")
	}
	n := benchSize()
	specs := make([]orgstest.Spec, n)
	for i := range specs {
		specs[i] = orgstest.Spec{Slug: fmt.Sprintf("b%03d", i), Grids: []string{fmt.Sprintf("b%03d-g1", i)}}
	}
	start := time.Now()
	w := testworld.With(b, testworld.Options{Communities: specs})
	rep := &reports.Service{DB: w.DB, Frame: w.Frame, Authz: w.District.Authz, Now: w.Now}
	w.Clock.At(b, "2020-02-03 20:00")
	b.Logf("district of %d communities: %s", n, time.Since(start).Round(time.Millisecond))
	for _, step := range []struct{ name, sql string }{
		{"households", `INSERT INTO households (id, tenant_id, grid_id, unit, address, address_key, tags, created_at, updated_at)
			SELECT o.id || '-h' || g, o.id, gr.id, g::text, '路 ' || g || ' 号', 'k' || g, '[]', now(), now()
			FROM orgs AS o JOIN grids AS gr ON gr.tenant_id = o.id CROSS JOIN generate_series(1, 3000) AS g
			WHERE o.kind = 'community'`},
		{"residents", `INSERT INTO residents (id, tenant_id, household_id, grid_id, name, tags, created_at, updated_at)
			SELECT h.id || '-r' || k, h.tenant_id, h.id, h.grid_id, '居民' || k, '[]', now(), now()
			FROM households AS h CROSS JOIN generate_series(1, 4) AS k
			WHERE h.tenant_id IS NOT NULL AND k <= 3 + (CASE WHEN h.unit::int % 3 = 0 THEN 1 ELSE 0 END)`},
		{"attempts", `INSERT INTO attempts (tenant_id, id, kind, household_id, grid_id, method, outcome, by_user, by_name, at, local_date)
			SELECT h.tenant_id, h.id || '-a' || k, 'screening', h.id, h.grid_id,
				CASE WHEN k = 3 AND h.unit::int % 5 = 0 THEN 'visit' ELSE 'phone' END,
				CASE WHEN k = 3 AND h.unit::int % 8 <> 0 THEN 'reached' ELSE 'no_answer' END, 'u', '网格员',
				timestamptz '2020-01-05 02:00:00+00' + ((h.unit::int + k * 3) % 30) * interval '1 day',
				to_char(date '2020-01-05' + (h.unit::int + k * 3) % 30, 'YYYY-MM-DD')
			FROM households AS h CROSS JOIN generate_series(1, 3) AS k WHERE h.tenant_id IS NOT NULL`},
		{"cases", `INSERT INTO isolation_cases (tenant_id, id, resident_id, household_id, kind, start_date, days, end_date, status, created_by, created_at, updated_at)
			SELECT h.tenant_id, h.id || '-c', h.id || '-r1', h.id, 'home_isolation',
				to_char(date '2020-01-20' + h.unit::int % 14, 'YYYY-MM-DD'), 14, to_char(date '2020-02-03' + h.unit::int % 14, 'YYYY-MM-DD'),
				'active', 'u', now(), now()
			FROM households AS h WHERE h.tenant_id IS NOT NULL AND h.unit::int <= 100`},
		{"check-ins", `INSERT INTO isolation_checkins (tenant_id, id, case_id, temperature, symptoms, source, counts, by_user, by_name, at, local_date)
			SELECT c.tenant_id, c.id || '-' || d::date, c.id, 365, '[]', 'staff', true, 'u', '网格员', d, to_char(d, 'YYYY-MM-DD')
			FROM isolation_cases AS c CROSS JOIN generate_series(timestamptz '2020-01-05 02:00:00+00', timestamptz '2020-02-03 02:00:00+00', interval '1 day') AS d
			WHERE c.tenant_id IS NOT NULL AND to_char(d, 'YYYY-MM-DD') >= c.start_date`},
	} {
		t0 := time.Now()
		bulk(b, w.DB, step.sql)
		b.Logf("seed %s: %s", step.name, time.Since(t0).Round(time.Millisecond))
	}
	t0 := time.Now()
	if err := w.DB.Optimize(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Logf("analyze: %s; seeded in %s", time.Since(t0).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	var counts [4]int
	err := w.DB.AcrossTenants(context.Background(), "bench", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewRaw(`SELECT (SELECT count(*) FROM households), (SELECT count(*) FROM residents),
			(SELECT count(*) FROM attempts), (SELECT count(*) FROM isolation_checkins)`).Scan(ctx, &counts[0], &counts[1], &counts[2], &counts[3])
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("households %d, residents %d, attempts %d, check-ins %d", counts[0], counts[1], counts[2], counts[3])

	official := w.Official(b, "sub")
	b.Run("rollup-day-drafts", func(b *testing.B) {
		for range b.N {
			r, err := rep.Rollup(official, "2020-02-03")
			if err != nil || len(r.Communities) != n || r.Totals["households_total"] != 3000*n {
				b.Fatalf("%v %d %v", err, len(r.Communities), r.Totals["households_total"])
			}
		}
	})
	ids := make([]string, 0, n)
	for _, s := range specs {
		ids = append(ids, w.District.Org(b, s.Slug).ID)
	}
	b.Run("hand-sql-day", func(b *testing.B) {
		for range b.N {
			handAggregate(b, w, ids, "2020-02-03")
		}
	})
	b.Run("series-30-drafts", func(b *testing.B) {
		for range b.N {
			s, err := rep.Series(official, "2020-01-05", "2020-02-03")
			if err != nil || len(s.Items) != 30 {
				b.Fatal(err)
			}
		}
	})
	// The 29 days before today submitted, as an office that reports.
	bulk(b, w.DB, `INSERT INTO daily_reports (tenant_id, date, version, kind, figures, manual, at)
		SELECT o.id, to_char(d, 'YYYY-MM-DD'), 1, 'submission', '{"households_total": 3000}', '{}', d
		FROM orgs AS o CROSS JOIN generate_series(timestamptz '2020-01-05 10:00:00+00', timestamptz '2020-02-02 10:00:00+00', interval '1 day') AS d
		WHERE o.kind = 'community'`)
	b.Run("rollup-day-submitted", func(b *testing.B) {
		for range b.N {
			r, err := rep.Rollup(official, "2020-02-02")
			if err != nil || len(r.Communities) != n || len(r.Missing) != 0 {
				b.Fatal(err)
			}
		}
	})
	b.Run("series-30-submitted", func(b *testing.B) {
		for range b.N {
			s, err := rep.Series(official, "2020-01-05", "2020-02-03")
			if err != nil || len(s.Items) != 30 || s.Items[0].Submitted != n {
				b.Fatal(err)
			}
		}
	})
}

// handAggregate is the day's heavy figures for the communities by hand:
// households, screened households by method and first day, the day's
// attempts, live and started cases and the day's check-ins, each one
// grouped query by tenant, in one transaction across them.
func handAggregate(b *testing.B, w *world0, ids []string, day string) {
	b.Helper()
	var rows []struct {
		TenantID string `bun:"tenant_id"`
		N        int    `bun:"n"`
	}
	in := bun.List(ids)
	err := w.DB.AcrossTenants(context.Background(), "bench: hand-written aggregate", ids, func(ctx context.Context, tx bun.Tx) error {
		for _, q := range []string{
			`SELECT h.tenant_id, count(*) AS n FROM households AS h WHERE h.tenant_id IN (?0) AND h.deleted_at IS NULL GROUP BY h.tenant_id`,
			`SELECT x.tenant_id, count(*) + sum(x.phone) + sum(x.visit) + sum(CASE WHEN x.first_day = ?1 THEN 1 ELSE 0 END) AS n FROM (
				SELECT a.tenant_id, a.household_id, min(a.local_date) AS first_day,
					max(CASE WHEN a.method = 'phone' THEN 1 ELSE 0 END) AS phone, max(CASE WHEN a.method = 'visit' THEN 1 ELSE 0 END) AS visit
				FROM attempts AS a JOIN households AS h ON h.tenant_id = a.tenant_id AND h.id = a.household_id AND h.deleted_at IS NULL
				WHERE a.tenant_id IN (?0) AND a.kind = 'screening' AND a.outcome = 'reached' AND a.local_date <= ?1
				GROUP BY a.tenant_id, a.household_id) AS x GROUP BY x.tenant_id`,
			`SELECT a.tenant_id, count(*) AS n FROM attempts AS a WHERE a.tenant_id IN (?0) AND a.kind = 'screening' AND a.local_date = ?1 GROUP BY a.tenant_id`,
			`SELECT c.tenant_id, sum(CASE WHEN c.start_date <= ?1 AND (c.closed_on IS NULL OR c.closed_on > ?1) THEN 1 ELSE 0 END)
				+ sum(CASE WHEN c.start_date = ?1 THEN 1 ELSE 0 END) AS n FROM isolation_cases AS c WHERE c.tenant_id IN (?0) GROUP BY c.tenant_id`,
			`SELECT k.tenant_id, count(*) AS n FROM isolation_checkins AS k WHERE k.tenant_id IN (?0) AND k.local_date = ?1 AND k.counts GROUP BY k.tenant_id`,
		} {
			if err := tx.NewRaw(q, in, day).Scan(ctx, &rows); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || len(rows) != len(ids) {
		b.Fatalf("%v: %d rows", err, len(rows))
	}
}

type world0 = testworld.World

// bulk runs a statement of the seed without the statement timeout the
// application keeps (a million rows take longer than its 30 s).
func bulk(b *testing.B, db *store.DB, query string) {
	b.Helper()
	err := db.AcrossTenants(context.Background(), "bench seed", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "SET LOCAL statement_timeout = 0"); err != nil {
			return err
		}
		_, err := tx.NewRaw(query).Exec(ctx)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
}
