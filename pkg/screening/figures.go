package screening

import (
	"context"
	"fmt"

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
// reads them together with its own. Three queries whatever the size of
// the community: reached households grouped once, the day's attempts and
// the household count.
func FiguresIn(ctx context.Context, tx *store.TenantTx, day string) (Figures, error) {
	var f Figures
	reached := tx.SelectAs("attempts", "a").
		Join("JOIN households AS h ON h.tenant_id = a.tenant_id AND h.id = a.household_id AND h.deleted_at IS NULL").
		ColumnExpr("a.household_id, MIN(a.local_date) AS first_day").
		ColumnExpr("MAX(CASE WHEN a.method = ? THEN 1 ELSE 0 END) AS phone", MethodPhone).
		ColumnExpr("MAX(CASE WHEN a.method = ? THEN 1 ELSE 0 END) AS visit", MethodVisit).
		Where("a.kind = ? AND a.outcome = ? AND a.local_date <= ?", KindScreening, OutcomeReached, day).
		GroupExpr("a.household_id")
	var r struct {
		Screened int `bun:"screened"`
		Phone    int `bun:"phone"`
		Visit    int `bun:"visit"`
		Today    int `bun:"today"`
	}
	// The outer query reads only the grouped rows, no tenant table.
	err := tx.Unscoped().NewSelect().TableExpr("(?) AS x", reached).
		ColumnExpr("COUNT(*) AS screened, COALESCE(SUM(x.phone), 0) AS phone, COALESCE(SUM(x.visit), 0) AS visit").
		ColumnExpr("COALESCE(SUM(CASE WHEN x.first_day = ? THEN 1 ELSE 0 END), 0) AS today", day).
		Scan(ctx, &r)
	if err != nil {
		return f, fmt.Errorf("screened households: %w", err)
	}
	f.HouseholdsScreenedTotal, f.ScreenedByPhoneTotal, f.ScreenedByVisitTotal, f.ScreenedToday = r.Screened, r.Phone, r.Visit, r.Today

	var d struct {
		Calls  int `bun:"calls"`
		Visits int `bun:"visits"`
	}
	err = tx.SelectAs("attempts", "a").
		ColumnExpr("COALESCE(SUM(CASE WHEN a.method = ? THEN 1 ELSE 0 END), 0) AS calls", MethodPhone).
		ColumnExpr("COALESCE(SUM(CASE WHEN a.method = ? THEN 1 ELSE 0 END), 0) AS visits", MethodVisit).
		Where("a.kind = ? AND a.local_date = ?", KindScreening, day).Scan(ctx, &d)
	if err != nil {
		return f, fmt.Errorf("attempts of the day: %w", err)
	}
	f.CallsToday, f.VisitsToday = d.Calls, d.Visits

	n, err := tx.SelectAs("households", "h").Where("h.deleted_at IS NULL").Count(ctx)
	if err != nil {
		return f, fmt.Errorf("count households: %w", err)
	}
	f.HouseholdsTotal = int(n)
	f.HouseholdsUnreached = f.HouseholdsTotal - f.HouseholdsScreenedTotal

	return f, nil
}
