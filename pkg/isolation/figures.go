package isolation

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// Figures are isolation's part of a community's daily report, as of the
// end of one local day, under the report's stable keys (API.md,
// "Reports"), plus three of isolation's own. Every figure comes from dated
// columns (start_date, closed_on, diagnosed_on, local_date, due_local), so
// any past day is computed as it stood, except that a diagnosis counts as
// it is now, from the day it was recorded.
//
//   - isolation_active: cases started by the day and not released or ended
//     by it (eligible ones included); close_contacts: those of kind
//     close_contact.
//   - isolation_started_today: cases whose start date is the day.
//   - isolation_released_today / _total: cases released that day / by it.
//   - suspected, confirmed: cases whose diagnosis, recorded by the day, is
//     that.
//   - households_isolated_total: households with any case started by the
//     day; households_released_total: those of them whose cases started
//     by the day were all released by it.
//   - checkins_done_today / checkins_missed_today: cases running that day
//     (active at its end, or closed on it) with / without a check-in of
//     that day.
//   - fever_alerts_today: fever alerts of the day.
//   - support_open: requests made by the day and not done or cancelled by
//     it; support_done_today: done that day; support_overdue: open at the
//     day's end and due before it.
type Figures struct {
	IsolationActive         int `json:"isolation_active"`
	IsolationStartedToday   int `json:"isolation_started_today"`
	IsolationReleasedToday  int `json:"isolation_released_today"`
	IsolationReleasedTotal  int `json:"isolation_released_total"`
	FeverAlertsToday        int `json:"fever_alerts_today"`
	Suspected               int `json:"suspected"`
	Confirmed               int `json:"confirmed"`
	CloseContacts           int `json:"close_contacts"`
	SupportOpen             int `json:"support_open"`
	SupportDoneToday        int `json:"support_done_today"`
	HouseholdsIsolatedTotal int `json:"households_isolated_total"`
	HouseholdsReleasedTotal int `json:"households_released_total"`
	CheckinsDoneToday       int `json:"checkins_done_today"`
	CheckinsMissedToday     int `json:"checkins_missed_today"`
	SupportOverdue          int `json:"support_overdue"`
}

// Figures computes the figures of day (YYYY-MM-DD) for the community in
// ctx, whole (whatever the caller's grids: a report is the community's).
func (s *Service) Figures(ctx context.Context, day string) (Figures, error) {
	return scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, _ *scope.Grids) (Figures, error) {
		return FiguresIn(ctx, tx, day)
	})
}

// FiguresIn computes them in the caller's transaction (the daily report's).
// It runs the same four grouped queries as FiguresAcross, named to the
// tenant with an explicit tenant_id predicate, hence Unscoped.
func FiguresIn(ctx context.Context, tx *store.TenantTx, day string) (Figures, error) {
	m, err := figures(ctx, tx.Unscoped(), []string{tx.Tenant()}, day)
	return m[tx.Tenant()], err
}

// FiguresAcross computes the figures of day for each of tenants at once,
// in a transaction of store.AcrossTenants (a sub-district's rollup): four
// grouped queries whatever the number of communities. A community without
// any isolation data has all zeros.
func FiguresAcross(ctx context.Context, tx bun.IDB, tenants []string, day string) (map[string]Figures, error) {
	return figures(ctx, tx, tenants, day)
}

func figures(ctx context.Context, db bun.IDB, tenants []string, day string) (map[string]Figures, error) {
	out := make(map[string]Figures, len(tenants))
	if len(tenants) == 0 {
		return out, nil
	}
	in := bun.List(tenants)
	next := nextDay(day)

	// Cases: one row per community, and households grouped below it.
	var cases []struct {
		TenantID      string `bun:"tenant_id"`
		Active        int    `bun:"active"`
		Started       int    `bun:"started"`
		ReleasedToday int    `bun:"released_today"`
		ReleasedTotal int    `bun:"released_total"`
		Suspected     int    `bun:"suspected"`
		Confirmed     int    `bun:"confirmed"`
		CloseContacts int    `bun:"close_contacts"`
		Running       int    `bun:"running"`
		CheckedIn     int    `bun:"checked_in"`
	}
	onDay, dayArgs := checkinsOn(day)
	live := "c.start_date <= ? AND (c.closed_on IS NULL OR c.closed_on > ?)"
	running := "c.start_date <= ? AND (c.closed_on IS NULL OR c.closed_on >= ?)"
	err := db.NewSelect().TableExpr("isolation_cases AS c").ColumnExpr("c.tenant_id").
		ColumnExpr("SUM(CASE WHEN "+live+" THEN 1 ELSE 0 END) AS active", day, day).
		ColumnExpr("SUM(CASE WHEN c.start_date = ? THEN 1 ELSE 0 END) AS started", day).
		ColumnExpr("SUM(CASE WHEN c.status = ? AND c.closed_on = ? THEN 1 ELSE 0 END) AS released_today", StatusReleased, day).
		ColumnExpr("SUM(CASE WHEN c.status = ? AND c.closed_on <= ? THEN 1 ELSE 0 END) AS released_total", StatusReleased, day).
		ColumnExpr("SUM(CASE WHEN c.diagnosis = ? AND c.diagnosed_on <= ? THEN 1 ELSE 0 END) AS suspected", DiagnosisSuspected, day).
		ColumnExpr("SUM(CASE WHEN c.diagnosis = ? AND c.diagnosed_on <= ? THEN 1 ELSE 0 END) AS confirmed", DiagnosisConfirmed, day).
		ColumnExpr("SUM(CASE WHEN c.kind = ? AND "+live+" THEN 1 ELSE 0 END) AS close_contacts", KindCloseContact, day, day).
		ColumnExpr("SUM(CASE WHEN "+running+" THEN 1 ELSE 0 END) AS running", day, day).
		ColumnExpr("SUM(CASE WHEN "+running+` AND EXISTS (SELECT 1 FROM isolation_checkins AS k
			WHERE k.tenant_id = c.tenant_id AND k.case_id = c.id AND `+onDay+` AND k.counts) THEN 1 ELSE 0 END) AS checked_in`,
			append([]any{day, day}, dayArgs...)...).
		Where("c.tenant_id IN (?)", in).GroupExpr("c.tenant_id").Scan(ctx, &cases)
	if err != nil {
		return nil, fmt.Errorf("isolation figures: cases: %w", err)
	}
	for _, r := range cases {
		f := out[r.TenantID]
		f.IsolationActive, f.IsolationStartedToday, f.IsolationReleasedToday, f.IsolationReleasedTotal = r.Active, r.Started, r.ReleasedToday, r.ReleasedTotal
		f.Suspected, f.Confirmed, f.CloseContacts = r.Suspected, r.Confirmed, r.CloseContacts
		f.CheckinsDoneToday, f.CheckinsMissedToday = r.CheckedIn, r.Running-r.CheckedIn
		out[r.TenantID] = f
	}

	var households []struct {
		TenantID string `bun:"tenant_id"`
		Isolated int    `bun:"isolated"`
		Released int    `bun:"released"`
	}
	byHousehold := db.NewSelect().TableExpr("isolation_cases AS c").ColumnExpr("c.tenant_id, c.household_id").
		ColumnExpr("COUNT(*) AS cases").
		ColumnExpr("SUM(CASE WHEN c.status = ? AND c.closed_on <= ? THEN 1 ELSE 0 END) AS released", StatusReleased, day).
		Where("c.tenant_id IN (?) AND c.start_date <= ?", in, day).GroupExpr("c.tenant_id, c.household_id")
	// The outer query reads only the grouped rows, no tenant table.
	err = db.NewSelect().TableExpr("(?) AS x", byHousehold).ColumnExpr("x.tenant_id, COUNT(*) AS isolated").
		ColumnExpr("SUM(CASE WHEN x.released = x.cases THEN 1 ELSE 0 END) AS released").
		GroupExpr("x.tenant_id").Scan(ctx, &households)
	if err != nil {
		return nil, fmt.Errorf("isolation figures: households: %w", err)
	}
	for _, r := range households {
		f := out[r.TenantID]
		f.HouseholdsIsolatedTotal, f.HouseholdsReleasedTotal = r.Isolated, r.Released
		out[r.TenantID] = f
	}

	var alerts []struct {
		TenantID string `bun:"tenant_id"`
		Fever    int    `bun:"fever"`
	}
	err = db.NewSelect().TableExpr("isolation_alerts AS al").ColumnExpr("al.tenant_id, COUNT(*) AS fever").
		Where("al.tenant_id IN (?) AND al.local_date = ? AND al.kind = ?", in, day, AlertFever).
		GroupExpr("al.tenant_id").Scan(ctx, &alerts)
	if err != nil {
		return nil, fmt.Errorf("isolation figures: alerts: %w", err)
	}
	for _, r := range alerts {
		f := out[r.TenantID]
		f.FeverAlertsToday = r.Fever
		out[r.TenantID] = f
	}

	var support []struct {
		TenantID string `bun:"tenant_id"`
		Open     int    `bun:"open"`
		Done     int    `bun:"done"`
		Overdue  int    `bun:"overdue"`
	}
	open := "sr.local_date <= ? AND (sr.closed_on IS NULL OR sr.closed_on > ?)"
	err = db.NewSelect().TableExpr("support_requests AS sr").ColumnExpr("sr.tenant_id").
		ColumnExpr("SUM(CASE WHEN "+open+" THEN 1 ELSE 0 END) AS open", day, day).
		ColumnExpr("SUM(CASE WHEN sr.status = ? AND sr.closed_on = ? THEN 1 ELSE 0 END) AS done", SupportDone, day).
		ColumnExpr("SUM(CASE WHEN "+open+" AND sr.due_local < ? THEN 1 ELSE 0 END) AS overdue", day, day, next).
		Where("sr.tenant_id IN (?)", in).GroupExpr("sr.tenant_id").Scan(ctx, &support)
	if err != nil {
		return nil, fmt.Errorf("isolation figures: support: %w", err)
	}
	for _, r := range support {
		f := out[r.TenantID]
		f.SupportOpen, f.SupportDoneToday, f.SupportOverdue = r.Open, r.Done, r.Overdue
		out[r.TenantID] = f
	}
	for _, t := range tenants {
		if _, ok := out[t]; !ok {
			out[t] = Figures{} // every community named has its entry, zeros included
		}
	}
	return out, nil
}

// nextDay is the day after day ("" for a day that is not a date, which
// then matches nothing).
func nextDay(day string) string {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return ""
	}
	return t.AddDate(0, 0, 1).Format(time.DateOnly)
}
