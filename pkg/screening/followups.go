package screening

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// FollowUpView is a follow-up as the API shows it, with where to find the
// household.
type FollowUpView struct {
	ID          string     `json:"id"`
	AttemptID   string     `json:"attempt_id"`
	ScreeningID string     `json:"screening_id,omitempty"`
	HouseholdID string     `json:"household_id"`
	Grid        string     `json:"grid"`
	Address     string     `json:"address"`
	Phone       string     `json:"phone"`
	Reasons     []string   `json:"reasons"`
	TravelFrom  string     `json:"travel_from"`
	ReturnedOn  string     `json:"returned_on,omitempty"`
	Status      string     `json:"status"`
	Notes       string     `json:"notes"`
	CaseID      string     `json:"case_id,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	ClosedAt    *time.Time `json:"closed_at,omitempty"`
}

type followUpRow struct {
	FollowUp `bun:",extend"`
	Address  string `bun:"address"`
	Phone    string `bun:"phone"`
}

func followUpView(r *followUpRow, g *scope.Grids, v scope.View) FollowUpView {
	out := FollowUpView{ID: r.ID, AttemptID: r.AttemptID, HouseholdID: r.HouseholdID, Grid: g.Slug(r.GridID),
		Address: r.Address, Phone: v.Phone(r.Phone), Reasons: r.Reasons, TravelFrom: r.TravelFrom, Status: r.Status,
		Notes: r.Notes, CreatedAt: r.CreatedAt, ClosedAt: r.ClosedAt}
	if r.ScreeningID != nil {
		out.ScreeningID = *r.ScreeningID
	}
	if r.ReturnedOn != nil {
		out.ReturnedOn = *r.ReturnedOn
	}
	if r.CaseID != nil {
		out.CaseID = *r.CaseID
	}
	if out.Reasons == nil {
		out.Reasons = []string{}
	}
	return out
}

// ListFollowUps lists follow-ups, oldest first (the longest waiting is
// the most urgent); filters status (open, done, dismissed, case) and grid.
func (s *Service) ListFollowUps(ctx context.Context, f Filter) ([]FollowUpView, string, error) {
	p, err := scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (store.Page[FollowUpView], error) {
		var none store.Page[FollowUpView]
		rows := store.PageRows[followUpRow](f.Limit)
		q, err := followUpFilter(tx.Select(&rows).ColumnExpr("f.*, h.address, h.phone"), g, f)
		if err != nil {
			return none, err
		}
		if err := store.Keyset(q, "f.id", f.Cursor, f.Limit).Scan(ctx); err != nil {
			return none, fmt.Errorf("list follow-ups: %w", err)
		}
		page := store.NextPage(rows, f.Limit, func(r *followUpRow) string { return r.ID })
		v := scope.ViewOf(ctx)
		out := make([]FollowUpView, 0, len(page.Items))
		ids := make([]string, 0, len(page.Items))
		for i := range page.Items {
			out = append(out, followUpView(&page.Items[i], g, v))
			ids = append(ids, page.Items[i].HouseholdID)
		}
		if err := scope.RecordRead(ctx, s.Reads, s.DB, scope.Seen{Resource: "households", IDs: ids,
			Filters: map[string]any{"follow_ups": true, "status": f.Status, "grid": f.Grid}}); err != nil {
			return none, err
		}
		return store.Page[FollowUpView]{Items: out, Next: page.Next}, nil
	})
	return p.Items, p.Next, err
}

// followUpFilter limits q (over follow_ups AS f) to the caller's grids and
// f's filters, its cursor aside: the list and its count see the same
// follow-ups.
func followUpFilter(q *bun.SelectQuery, g *scope.Grids, f Filter) (*bun.SelectQuery, error) {
	q = q.Join("JOIN households AS h ON h.tenant_id = f.tenant_id AND h.id = f.household_id")
	q = g.Limit(q, "f.grid_id")
	switch f.Status {
	case "":
	case StatusOpen, StatusDone, FollowUpDismissed, FollowUpCase:
		q = q.Where("f.status = ?", f.Status)
	default:
		return nil, errs.Validation(errs.Field("status", "one_of", map[string]any{"allowed": "open, done, dismissed, case"}))
	}
	if f.Grid != "" {
		id, ok := g.Resolve(f.Grid)
		if !ok {
			return nil, errs.Validation(errs.Field("grid", "unknown_grid", map[string]any{"grid": f.Grid}))
		}
		q = q.Where("f.grid_id = ?", id)
	}
	return q, nil
}

// CountFollowUps counts the follow-ups f's filters find (its cursor and
// limit aside): the list's "共 N 条".
func (s *Service) CountFollowUps(ctx context.Context, f Filter) (int, error) {
	return scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (int, error) {
		q, err := followUpFilter(tx.Select((*FollowUp)(nil)), g, f)
		if err != nil {
			return 0, err
		}
		n, err := q.Count(ctx)
		if err != nil {
			return 0, fmt.Errorf("count follow-ups: %w", err)
		}
		return int(n), nil
	})
}

// FollowUpPatch closes (done, dismissed) or reopens a follow-up, with a
// note of what was done.
type FollowUpPatch struct {
	Status *string `json:"status"`
	Notes  *string `json:"notes"`
}

// UpdateFollowUp changes a follow-up's status or notes. One that became a
// case belongs to isolation now: 409.
func (s *Service) UpdateFollowUp(ctx context.Context, id string, p FollowUpPatch) (*FollowUpView, error) {
	return scope.Run(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*FollowUpView, error) {
		r := new(followUpRow)
		err := tx.Select(r).ColumnExpr("f.*, h.address, h.phone").
			Join("JOIN households AS h ON h.tenant_id = f.tenant_id AND h.id = f.household_id").
			Where("f.id = ?", id).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !g.May(r.GridID)) {
			return nil, notFound()
		}
		if err != nil {
			return nil, fmt.Errorf("load follow-up: %w", err)
		}
		if r.Status == FollowUpCase {
			return nil, errs.New(errs.KindConflict, "follow_up_is_case", nil)
		}
		var fe []errs.FieldError
		var changed []string
		now := s.now()
		if p.Status != nil {
			oneOf(&fe, "status", *p.Status, StatusOpen, StatusDone, FollowUpDismissed)
			if *p.Status != r.Status {
				changed = append(changed, "status")
			}
			r.Status = *p.Status
			r.ClosedAt, r.ClosedBy = nil, nil
			if r.Status != StatusOpen {
				by, _ := actor(ctx)
				r.ClosedAt, r.ClosedBy = &now, &by
			}
		}
		if p.Notes != nil {
			r.Notes = strings.TrimSpace(*p.Notes)
			text(&fe, "notes", r.Notes, 500)
			changed = append(changed, "notes")
		}
		if len(fe) > 0 {
			return nil, errs.Validation(fe...)
		}
		r.UpdatedAt = now
		if _, err := tx.Update(&r.FollowUp).Column("status", "notes", "closed_at", "closed_by", "updated_at").WherePK().Exec(ctx); err != nil {
			return nil, fmt.Errorf("update follow-up: %w", err)
		}
		if err := audit.Record(ctx, tx, audit.ActionUpdate, "follow_up", r.ID, map[string]any{"fields": changed, "status": r.Status}); err != nil {
			return nil, err
		}
		out := followUpView(r, g, scope.ViewOf(ctx))
		return &out, nil
	})
}

// ToCase turns an open follow-up into an isolation case, in the caller's
// transaction (isolation's), at now: the follow-up is claimed (open → case) first,
// so two requests cannot both open cases from it, then open makes the cases
// of its household and returns the id the follow-up keeps (the first
// case's). A follow-up of another community or outside the caller's grids
// is a 404; one that is not open a 409. An error from open rolls
// everything back with the caller's transaction.
func ToCase(ctx context.Context, tx *store.TenantTx, g *scope.Grids, id string, now time.Time,
	open func(householdID, gridID string) (caseID string, err error)) error {
	f := new(FollowUp)
	by, _ := actor(ctx)
	err := tx.Update(f).Set("status = ?, updated_at = ?, closed_at = ?, closed_by = ?", FollowUpCase, now, now, by).
		Where("f.id = ? AND f.status = ?", id, StatusOpen).
		Returning("household_id, grid_id").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !g.May(f.GridID)) {
		// Not claimed (or claimed outside the caller's grids, rolled back
		// with the caller's error): tell a missing follow-up from one in
		// another state only to a caller who may see it.
		cur := new(FollowUp)
		if err := tx.Select(cur).Column("grid_id", "status").Where("f.id = ?", id).Scan(ctx); err != nil || !g.May(cur.GridID) {
			return notFound()
		}
		return errs.New(errs.KindConflict, "follow_up_not_open", map[string]any{"status": cur.Status})
	}
	if err != nil {
		return fmt.Errorf("claim follow-up: %w", err)
	}
	caseID, err := open(f.HouseholdID, f.GridID)
	if err != nil {
		return err
	}
	if _, err := tx.Update((*FollowUp)(nil)).Set("case_id = ?", caseID).Where("f.id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("link follow-up to its case: %w", err)
	}
	return audit.Record(ctx, tx, audit.ActionUpdate, "follow_up", id, map[string]any{"fields": []string{"status"}, "status": FollowUpCase, "case_id": caseID})
}

// HouseholdHistory is what screening knows of one household: its calls
// and visits over every campaign and the follow-ups they raised, newest
// first, at most limit of each (the household's page shows them).
type HouseholdHistory struct {
	Attempts  []AttemptView  `json:"attempts"`
	FollowUps []FollowUpView `json:"follow_ups"`
}

// HistoryOf lists a household's history as the caller may see it: a
// grid worker sees its grids' records only, phones are masked per role.
func (s *Service) HistoryOf(ctx context.Context, householdID string, limit int) (*HouseholdHistory, error) {
	if limit <= 0 {
		limit = 20
	}
	return scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*HouseholdHistory, error) {
		var attempts []Attempt
		q := tx.Select(&attempts).Where("a.household_id = ? AND a.kind = ?", householdID, KindScreening)
		if err := g.Limit(q, "a.grid_id").OrderExpr("a.at DESC, a.id DESC").Limit(int64(limit)).Scan(ctx); err != nil {
			return nil, fmt.Errorf("household attempts: %w", err)
		}
		var rows []followUpRow
		fq := tx.Select(&rows).ColumnExpr("f.*, h.address, h.phone").
			Join("JOIN households AS h ON h.tenant_id = f.tenant_id AND h.id = f.household_id").
			Where("f.household_id = ?", householdID)
		if err := g.Limit(fq, "f.grid_id").OrderExpr("f.created_at DESC, f.id DESC").Limit(int64(limit)).Scan(ctx); err != nil {
			return nil, fmt.Errorf("household follow-ups: %w", err)
		}
		out := &HouseholdHistory{Attempts: make([]AttemptView, 0, len(attempts)), FollowUps: make([]FollowUpView, 0, len(rows))}
		for i := range attempts {
			out.Attempts = append(out.Attempts, attemptView(&attempts[i], g))
		}
		v := scope.ViewOf(ctx)
		for i := range rows {
			out.FollowUps = append(out.FollowUps, followUpView(&rows[i], g, v))
		}
		if len(rows) > 0 {
			if err := scope.RecordRead(ctx, s.Reads, s.DB, scope.Seen{Resource: "household", ID: householdID,
				Filters: map[string]any{"history": "screening"}}); err != nil {
				return nil, err
			}
		}
		return out, nil
	})
}
