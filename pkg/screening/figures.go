package screening

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// Figures are screening's part of a community's daily report, as of the
// end of one local day, under the report's stable keys. The definitions
// are the report's: a household counts as screened by phone (by visit)
// when it has a reached attempt by phone (by visit), in any campaign;
// screened_today counts households whose first reached attempt was that
// day; calls and visits count attempts that day, whatever their outcome.
// The report's other figures are their own domains' (the notices posted
// are logs.FiguresIn's).
type Figures struct {
	HouseholdsTotal         int `json:"households_total"`
	HouseholdsScreenedTotal int `json:"households_screened_total"`
	ScreenedByPhoneTotal    int `json:"screened_by_phone_total"`
	ScreenedByVisitTotal    int `json:"screened_by_visit_total"`
	HouseholdsUnreached     int `json:"households_unreached"`
	ScreenedToday           int `json:"screened_today"`
	VisitsToday             int `json:"visits_today"`
	CallsToday              int `json:"calls_today"`
}

// Figures computes the figures of day (YYYY-MM-DD) for the community in
// ctx, whole (whatever the caller's grids: a report is the community's).
func (s *Service) Figures(ctx context.Context, day string) (Figures, error) {
	return scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, _ *scope.Grids) (Figures, error) {
		return FiguresIn(ctx, tx, day)
	})
}

// FiguresIn computes them in the caller's transaction: the daily report
// reads them together with its own. It runs FiguresAcross's grouped
// queries, named to the tenant with an explicit tenant_id predicate,
// hence Unscoped: both agree by construction.
func FiguresIn(ctx context.Context, tx *store.TenantTx, day string) (Figures, error) {
	m, err := figures(ctx, tx.Unscoped(), []string{tx.Tenant()}, day)
	return m[tx.Tenant()], err
}

// FiguresAcross computes the figures of day for each of tenants at once,
// in a transaction of store.AcrossTenants (a sub-district's rollup): three
// queries grouped by community whatever their number or size: reached
// households grouped once (on attempts_reached_idx), the day's attempts
// (on attempts_day_idx) and the live households (on households_live_idx).
// A community without households or attempts has zeros.
func FiguresAcross(ctx context.Context, tx bun.IDB, tenants []string, day string) (map[string]Figures, error) {
	return figures(ctx, tx, tenants, day)
}

// FiguresAcrossDays computes the figures of every day from from to to
// (YYYY-MM-DD, both included) for each of tenants, by day and then by
// tenant: a rollup's series. It costs what one day costs, not one day's
// cost per day: the reached households are grouped once up to to, by
// the days each was first reached (at all, by phone, by visit), and
// each day's totals are running sums of those groups.
func FiguresAcrossDays(ctx context.Context, tx bun.IDB, tenants []string, from, to string) (map[string]map[string]Figures, error) {
	return figuresDays(ctx, tx, tenants, from, to)
}

func figures(ctx context.Context, db bun.IDB, tenants []string, day string) (map[string]Figures, error) {
	m, err := figuresDays(ctx, db, tenants, day, day)
	if err != nil {
		return nil, err
	}
	out := m[day]
	if out == nil {
		out = map[string]Figures{}
	}
	return out, nil
}

func figuresDays(ctx context.Context, db bun.IDB, tenants []string, from, to string) (map[string]map[string]Figures, error) {
	days, err := dayRange(from, to)
	if err != nil {
		return nil, err
	}
	out := make(map[string]map[string]Figures, len(days))
	for _, d := range days {
		out[d] = make(map[string]Figures, len(tenants))
	}
	if len(tenants) == 0 || len(days) == 0 {
		return out, nil
	}
	in := bun.List(tenants)
	// Attempts of days up to to were made before to's id range ends
	// (attemptsFrom): the months after it are not read.
	_, upTo, err := store.DayIDs(to)
	if err != nil {
		return nil, err
	}

	// One row per reached household: the first day it was reached, by any
	// method, by phone and by visit (NULL when never by that method).
	// A household of an attempt exists (the foreign key); the deleted ones
	// are left out by NOT EXISTS, not by joining the live ones: joined on
	// (tenant_id, id), PostgreSQL multiplies both columns' selectivities
	// when attempts is partitioned (it takes the foreign key's, one
	// household per attempt, only for a plain table) and planned 129 rows
	// for 50,000, sorted them on disk for a GroupAggregate (an EXISTS is
	// made that same join, households' key being unique). The anti-join
	// keeps the attempts' estimate, and hashes only the deleted households.
	reached := db.NewSelect().TableExpr("attempts AS a").
		ColumnExpr("a.tenant_id, a.household_id, MIN(a.local_date) AS first_day").
		ColumnExpr("MIN(CASE WHEN a.method = ? THEN a.local_date END) AS first_phone", MethodPhone).
		ColumnExpr("MIN(CASE WHEN a.method = ? THEN a.local_date END) AS first_visit", MethodVisit).
		Where("a.tenant_id IN (?) AND a.kind = ? AND a.outcome = ? AND a.local_date <= ? AND a.id < ?", in, KindScreening, OutcomeReached, to, upTo).
		Where("NOT EXISTS (SELECT 1 FROM households AS h WHERE h.tenant_id = a.tenant_id AND h.id = a.household_id AND h.deleted_at IS NOT NULL)").
		GroupExpr("a.tenant_id, a.household_id")
	var groups []struct {
		TenantID   string  `bun:"tenant_id"`
		FirstDay   string  `bun:"first_day"`
		FirstPhone *string `bun:"first_phone"`
		FirstVisit *string `bun:"first_visit"`
		N          int     `bun:"n"`
	}
	// The outer query reads only the grouped rows, no tenant table.
	err = db.NewSelect().TableExpr("(?) AS x", reached).
		ColumnExpr("x.tenant_id, x.first_day, x.first_phone, x.first_visit, COUNT(*) AS n").
		GroupExpr("x.tenant_id, x.first_day, x.first_phone, x.first_visit").Scan(ctx, &groups)
	if err != nil {
		return nil, fmt.Errorf("screening figures: screened households: %w", err)
	}
	// Each household counts on every day from its first one on: add it on
	// that day (or before the range, to the range's start) and sum up.
	type firsts struct{ screened, phone, visit, today map[string]int }
	byTenant := map[string]*firsts{}
	add := func(m map[string]int, day string, n int) {
		if day < from {
			day = from
		}
		m[day] += n
	}
	for _, g := range groups {
		f := byTenant[g.TenantID]
		if f == nil {
			f = &firsts{map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}}
			byTenant[g.TenantID] = f
		}
		add(f.screened, g.FirstDay, g.N)
		f.today[g.FirstDay] += g.N
		if g.FirstPhone != nil {
			add(f.phone, *g.FirstPhone, g.N)
		}
		if g.FirstVisit != nil {
			add(f.visit, *g.FirstVisit, g.N)
		}
	}
	for t, f := range byTenant {
		var screened, phone, visit int
		for _, d := range days {
			screened, phone, visit = screened+f.screened[d], phone+f.phone[d], visit+f.visit[d]
			x := out[d][t]
			x.HouseholdsScreenedTotal, x.ScreenedByPhoneTotal, x.ScreenedByVisitTotal, x.ScreenedToday = screened, phone, visit, f.today[d]
			out[d][t] = x
		}
	}

	var attempts []struct {
		TenantID  string `bun:"tenant_id"`
		LocalDate string `bun:"local_date"`
		Calls     int    `bun:"calls"`
		Visits    int    `bun:"visits"`
	}
	onDays, daysArgs := attemptsFrom(from, to)
	err = db.NewSelect().TableExpr("attempts AS a").ColumnExpr("a.tenant_id, a.local_date").
		ColumnExpr("COALESCE(SUM(CASE WHEN a.method = ? THEN 1 ELSE 0 END), 0) AS calls", MethodPhone).
		ColumnExpr("COALESCE(SUM(CASE WHEN a.method = ? THEN 1 ELSE 0 END), 0) AS visits", MethodVisit).
		Where("a.tenant_id IN (?) AND a.kind = ?", in, KindScreening).Where(onDays, daysArgs...).
		GroupExpr("a.tenant_id, a.local_date").Scan(ctx, &attempts)
	if err != nil {
		return nil, fmt.Errorf("screening figures: attempts of the day: %w", err)
	}
	for _, r := range attempts {
		if _, ok := out[r.LocalDate]; !ok {
			continue
		}
		f := out[r.LocalDate][r.TenantID]
		f.CallsToday, f.VisitsToday = r.Calls, r.Visits
		out[r.LocalDate][r.TenantID] = f
	}

	var households []struct {
		TenantID string `bun:"tenant_id"`
		N        int    `bun:"n"`
	}
	err = db.NewSelect().TableExpr("households AS h").ColumnExpr("h.tenant_id, COUNT(*) AS n").
		Where("h.tenant_id IN (?) AND h.deleted_at IS NULL", in).
		GroupExpr("h.tenant_id").Scan(ctx, &households)
	if err != nil {
		return nil, fmt.Errorf("screening figures: households: %w", err)
	}
	total := make(map[string]int, len(households))
	for _, r := range households {
		total[r.TenantID] = r.N
	}
	for _, d := range days {
		for _, t := range tenants {
			f := out[d][t] // every community named has its entry, zeros included
			f.HouseholdsTotal = total[t]
			f.HouseholdsUnreached = f.HouseholdsTotal - f.HouseholdsScreenedTotal
			out[d][t] = f
		}
	}
	return out, nil
}

// maxFigureDays bounds a range of figures (the report's series asks for
// at most 92 days).
const maxFigureDays = 366

// dayRange lists the days from from to to, both included; from after to
// is an empty range.
func dayRange(from, to string) ([]string, error) {
	f, err := time.Parse(time.DateOnly, from)
	if err != nil {
		return nil, fmt.Errorf("screening figures: from %q: %w", from, err)
	}
	t, err := time.Parse(time.DateOnly, to)
	if err != nil {
		return nil, fmt.Errorf("screening figures: to %q: %w", to, err)
	}
	var out []string
	for d := f; !d.After(t); d = d.AddDate(0, 0, 1) {
		if len(out) == maxFigureDays {
			return nil, fmt.Errorf("screening figures: %s to %s is over %d days", from, to, maxFigureDays)
		}
		out = append(out, d.Format(time.DateOnly))
	}
	return out, nil
}
