package isolation

import (
	"context"
	"fmt"
	"math"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// The board (隔离看板) is the day's work in one read: the live cases by
// end date, who has checked in today and who has not, the open alerts and
// the cases due for release. The console's board and home panel read it.

// boardLimit bounds the live cases and alerts one board shows: a
// community has tens of live cases, hundreds at the worst of an outbreak.
const boardLimit = 500

// BoardCase is a live case with its day.
type BoardCase struct {
	CaseView
	// Last is the case's latest check-in today, nil before the first.
	Last *CheckinView `json:"last,omitempty"`
	// Due: the period has ended (today is its end date or after), so
	// staff may release it.
	Due bool `json:"due"`
}

// BoardCheckin is a check-in of today with whom it is about.
type BoardCheckin struct {
	CheckinView
	Name string `json:"name"`
}

// Board is the isolation board of the caller's grids (or one of them).
type Board struct {
	Today    string         `json:"today"`
	Deadline string         `json:"deadline"` // the check-in deadline, "HH:MM" local
	Cases    []BoardCase    `json:"cases"`    // live, by end date
	Checkins []BoardCheckin `json:"checkins"` // today's, newest first
	Alerts   []AlertView    `json:"alerts"`   // open and acknowledged, newest first
	More     bool           `json:"more"`     // more live cases than the board shows
}

// Due are the live cases whose period has ended: the release list.
func (b *Board) Due() []BoardCase {
	var out []BoardCase
	for _, c := range b.Cases {
		if c.Due {
			out = append(out, c)
		}
	}
	return out
}

// Unreported are the live cases without a check-in today.
func (b *Board) Unreported() []BoardCase {
	var out []BoardCase
	for _, c := range b.Cases {
		if c.Last == nil {
			out = append(out, c)
		}
	}
	return out
}

// BoardOf reads the board of the caller's grids, or of grid (a slug) if
// given: one read transaction, audited as a list of the cases it shows.
func (s *Service) BoardOf(ctx context.Context, grid string) (*Board, error) {
	return scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*Board, error) {
		c, err := orgs.CommunityOf(ctx, tx)
		if err != nil {
			return nil, err
		}
		b := &Board{Today: c.Day(s.now()), Deadline: c.Settings.CheckinDeadline, Cases: []BoardCase{}, Checkins: []BoardCheckin{}}
		if b.Deadline == "" {
			b.Deadline = "20:00"
		}
		gridID := ""
		if grid != "" {
			id, ok := g.Resolve(grid)
			if !ok {
				return nil, errs.Validation(errs.Field("grid", "unknown_grid", map[string]any{"grid": grid}))
			}
			gridID = id
		}
		narrow := func(q *bun.SelectQuery) *bun.SelectQuery {
			if gridID != "" {
				q = q.Where("r.grid_id = ?", gridID)
			}
			return q
		}
		var rows []caseRow
		if err := narrow(selectCases(tx, g, &rows)).Where("c.status IN (?, ?)", StatusActive, StatusEligible).
			OrderExpr("c.end_date, c.id").Limit(boardLimit + 1).Scan(ctx); err != nil {
			return nil, fmt.Errorf("board's cases: %w", err)
		}
		if len(rows) > boardLimit {
			rows, b.More = rows[:boardLimit], true
		}
		v := scope.ViewOf(ctx)
		ids := make([]string, 0, len(rows))
		names := make(map[string]string, len(rows))
		at := make(map[string]int, len(rows))
		for i := range rows {
			cv := caseView(&rows[i], g, v)
			b.Cases = append(b.Cases, BoardCase{CaseView: cv, Due: b.Today >= cv.EndDate})
			ids = append(ids, cv.ID)
			names[cv.ID], at[cv.ID] = cv.Name, i
		}
		if len(ids) > 0 {
			var ks []Checkin
			if err := tx.Select(&ks).Where("k.local_date = ? AND k.case_id IN (?)", b.Today, bun.List(ids)).
				OrderExpr("k.at DESC, k.id DESC").Scan(ctx); err != nil {
				return nil, fmt.Errorf("board's check-ins: %w", err)
			}
			for i := range ks {
				kv := checkinView(&ks[i])
				b.Checkins = append(b.Checkins, BoardCheckin{CheckinView: kv, Name: names[kv.CaseID]})
				if bc := &b.Cases[at[kv.CaseID]]; bc.Last == nil {
					bc.Last = &kv
				}
			}
		}
		var alerts []alertRow
		if err := narrow(selectAlerts(tx, g, &alerts)).Where("al.status IN (?, ?)", AlertOpen, AlertAcknowledged).
			OrderExpr("al.id DESC").Limit(boardLimit).Scan(ctx); err != nil {
			return nil, fmt.Errorf("board's alerts: %w", err)
		}
		b.Alerts = make([]AlertView, 0, len(alerts))
		for i := range alerts {
			b.Alerts = append(b.Alerts, alertRowView(&alerts[i], g))
			if _, ok := at[alerts[i].CaseID]; !ok {
				ids = append(ids, alerts[i].CaseID)
			}
		}
		if err := scope.RecordRead(ctx, s.Reads, s.DB, scope.Seen{Resource: "isolation_cases", IDs: ids,
			Filters: map[string]any{"board": true, "grid": grid}}); err != nil {
			return nil, err
		}
		return b, nil
	})
}

// BoardCounts are the board's numbers, for a home page.
type BoardCounts struct {
	Live       int `json:"live"`
	Due        int `json:"due"`         // live cases whose period has ended
	OpenAlerts int `json:"open_alerts"` // not yet acknowledged
}

// Counts are the board's numbers in the caller's grids: counts only, no
// personal data, so no read is recorded.
func (s *Service) Counts(ctx context.Context) (BoardCounts, error) {
	return scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (BoardCounts, error) {
		var n BoardCounts
		c, err := orgs.CommunityOf(ctx, tx)
		if err != nil {
			return n, err
		}
		today := c.Day(s.now())
		var row struct {
			Live int `bun:"live"`
			Due  int `bun:"due"`
		}
		q := tx.Select((*Case)(nil)).ColumnExpr("COUNT(*) AS live").
			ColumnExpr("COALESCE(SUM(CASE WHEN c.end_date <= ? THEN 1 ELSE 0 END), 0) AS due", today).
			Join("JOIN residents AS r ON r.tenant_id = c.tenant_id AND r.id = c.resident_id").
			Where("c.status IN (?, ?)", StatusActive, StatusEligible)
		if err := g.Limit(q, "r.grid_id").Scan(ctx, &row); err != nil {
			return n, fmt.Errorf("count live cases: %w", err)
		}
		n.Live, n.Due = row.Live, row.Due
		q = tx.Select((*Alert)(nil)).ColumnExpr("COUNT(*)").
			Join("JOIN isolation_cases AS c ON c.tenant_id = al.tenant_id AND c.id = al.case_id").
			Join("JOIN residents AS r ON r.tenant_id = c.tenant_id AND r.id = c.resident_id").
			Where("al.status = ?", AlertOpen)
		if err := g.Limit(q, "r.grid_id").Scan(ctx, &n.OpenAlerts); err != nil {
			return n, fmt.Errorf("count open alerts: %w", err)
		}
		return n, nil
	})
}

// Fever reports whether a check-in is a fever as the alerts count one:
// 37.3 °C or more, or any symptom (for the pages to draw it so).
func (k CheckinView) Fever() bool {
	return int(math.Round(k.Temperature*10)) >= FeverTemperature || len(k.Symptoms) > 0
}
