package screening

import (
	"context"
	"fmt"

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

func figures(ctx context.Context, db bun.IDB, tenants []string, day string) (map[string]Figures, error) {
	out := make(map[string]Figures, len(tenants))
	if len(tenants) == 0 {
		return out, nil
	}
	in := bun.List(tenants)

	reached := db.NewSelect().TableExpr("attempts AS a").
		Join("JOIN households AS h ON h.tenant_id = a.tenant_id AND h.id = a.household_id AND h.deleted_at IS NULL").
		ColumnExpr("a.tenant_id, a.household_id, MIN(a.local_date) AS first_day").
		ColumnExpr("MAX(CASE WHEN a.method = ? THEN 1 ELSE 0 END) AS phone", MethodPhone).
		ColumnExpr("MAX(CASE WHEN a.method = ? THEN 1 ELSE 0 END) AS visit", MethodVisit).
		Where("a.tenant_id IN (?) AND a.kind = ? AND a.outcome = ? AND a.local_date <= ?", in, KindScreening, OutcomeReached, day).
		GroupExpr("a.tenant_id, a.household_id")
	var screened []struct {
		TenantID string `bun:"tenant_id"`
		Screened int    `bun:"screened"`
		Phone    int    `bun:"phone"`
		Visit    int    `bun:"visit"`
		Today    int    `bun:"today"`
	}
	// The outer query reads only the grouped rows, no tenant table.
	err := db.NewSelect().TableExpr("(?) AS x", reached).ColumnExpr("x.tenant_id").
		ColumnExpr("COUNT(*) AS screened, COALESCE(SUM(x.phone), 0) AS phone, COALESCE(SUM(x.visit), 0) AS visit").
		ColumnExpr("COALESCE(SUM(CASE WHEN x.first_day = ? THEN 1 ELSE 0 END), 0) AS today", day).
		GroupExpr("x.tenant_id").Scan(ctx, &screened)
	if err != nil {
		return nil, fmt.Errorf("screening figures: screened households: %w", err)
	}
	for _, r := range screened {
		f := out[r.TenantID]
		f.HouseholdsScreenedTotal, f.ScreenedByPhoneTotal, f.ScreenedByVisitTotal, f.ScreenedToday = r.Screened, r.Phone, r.Visit, r.Today
		out[r.TenantID] = f
	}

	var attempts []struct {
		TenantID string `bun:"tenant_id"`
		Calls    int    `bun:"calls"`
		Visits   int    `bun:"visits"`
	}
	err = db.NewSelect().TableExpr("attempts AS a").ColumnExpr("a.tenant_id").
		ColumnExpr("COALESCE(SUM(CASE WHEN a.method = ? THEN 1 ELSE 0 END), 0) AS calls", MethodPhone).
		ColumnExpr("COALESCE(SUM(CASE WHEN a.method = ? THEN 1 ELSE 0 END), 0) AS visits", MethodVisit).
		Where("a.tenant_id IN (?) AND a.local_date = ? AND a.kind = ?", in, day, KindScreening).
		GroupExpr("a.tenant_id").Scan(ctx, &attempts)
	if err != nil {
		return nil, fmt.Errorf("screening figures: attempts of the day: %w", err)
	}
	for _, r := range attempts {
		f := out[r.TenantID]
		f.CallsToday, f.VisitsToday = r.Calls, r.Visits
		out[r.TenantID] = f
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
	for _, r := range households {
		f := out[r.TenantID]
		f.HouseholdsTotal = r.N
		out[r.TenantID] = f
	}

	for _, t := range tenants {
		f := out[t] // every community named has its entry, zeros included
		f.HouseholdsUnreached = f.HouseholdsTotal - f.HouseholdsScreenedTotal
		out[t] = f
	}
	return out, nil
}
