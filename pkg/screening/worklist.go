package screening

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/pii"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// Lists of a campaign's tasks.
const (
	ListCall = "call" // open, to be phoned
	ListDoor = "door" // open, to be visited
)

// TaskView is a household's task as a worker's list shows it: where to go
// or whom to call.
type TaskView struct {
	ID            string     `json:"id"`
	ScreeningID   string     `json:"screening_id"`
	HouseholdID   string     `json:"household_id"`
	Grid          string     `json:"grid"`
	Status        string     `json:"status"`
	Door          bool       `json:"door"`
	Attempts      int        `json:"attempts"`
	FailedCalls   int        `json:"failed_calls"`
	LastAttemptAt *time.Time `json:"last_attempt_at"`
	LastOutcome   string     `json:"last_outcome"`
	ReachedOn     string     `json:"reached_on,omitempty"`
	Address       string     `json:"address"`
	Phone         string     `json:"phone"`
	// Tel is a tel: link to the phone, for the roles that see it whole.
	Tel     string        `json:"tel,omitempty"`
	History []AttemptView `json:"history,omitempty"`
}

// taskRow is a task with its household's address and phone.
type taskRow struct {
	Task    `bun:",extend"`
	Address string `bun:"address"`
	Phone   string `bun:"phone"`
}

func taskView(r *taskRow, g *scope.Grids, v scope.View) TaskView {
	out := TaskView{ID: r.ID, ScreeningID: r.ScreeningID, HouseholdID: r.HouseholdID, Grid: g.Slug(r.GridID), Status: r.Status,
		Door: r.Door, Attempts: r.Attempts, FailedCalls: r.FailedCalls, LastAttemptAt: r.LastAttemptAt, LastOutcome: r.LastOutcome,
		Address: r.Address, Phone: v.Phone(r.Phone)}
	if r.ReachedOn != nil {
		out.ReachedOn = *r.ReachedOn
	}
	if v.FullPhone && r.Phone != "" {
		out.Tel = "tel:" + pii.DialString(r.Phone)
	}
	return out
}

// tasks starts the query of a campaign's tasks with their households,
// limited to the caller's grids.
func tasks(tx *store.TenantTx, g *scope.Grids, rows any, screeningID string) *bun.SelectQuery {
	q := tx.Select(rows).
		ColumnExpr("t.*, h.address, h.phone").
		Join("JOIN households AS h ON h.tenant_id = t.tenant_id AND h.id = t.household_id").
		Where("t.screening_id = ? AND h.deleted_at IS NULL", screeningID)
	return g.Limit(q, "t.grid_id")
}

// filterTasks narrows the tasks to a status, a grid and a list.
func filterTasks(q *bun.SelectQuery, g *scope.Grids, f Filter) (*bun.SelectQuery, error) {
	switch f.Status {
	case "":
	case StatusOpen, StatusDone:
		q = q.Where("t.status = ?", f.Status)
	default:
		return nil, errs.Validation(errs.Field("status", "one_of", map[string]any{"allowed": "open, done"}))
	}
	switch f.List {
	case "":
	case ListCall:
		q = q.Where("t.status = ? AND NOT t.door", StatusOpen)
	case ListDoor:
		q = q.Where("t.status = ? AND t.door", StatusOpen)
	default:
		return nil, errs.Validation(errs.Field("list", "one_of", map[string]any{"allowed": "call, door"}))
	}
	if f.Grid != "" {
		id, ok := g.Resolve(f.Grid)
		if !ok {
			return nil, errs.Validation(errs.Field("grid", "unknown_grid", map[string]any{"grid": f.Grid}))
		}
		q = q.Where("t.grid_id = ?", id)
	}
	return q, nil
}

// ListTasks lists a campaign's tasks in call order: never tried first,
// then tried longest ago. A grid worker sees its grids' tasks only.
func (s *Service) ListTasks(ctx context.Context, screeningID string, f Filter) ([]TaskView, string, error) {
	p, err := scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (store.Page[TaskView], error) {
		var none store.Page[TaskView]
		if _, err := s.screening(ctx, tx, screeningID); err != nil {
			return none, err
		}
		rows := store.PageRows[taskRow](f.Limit)
		q, err := filterTasks(tasks(tx, g, &rows, screeningID), g, f)
		if err != nil {
			return none, err
		}
		if err := store.Keyset(q, "t.call_order", f.Cursor, f.Limit).Scan(ctx); err != nil {
			return none, fmt.Errorf("list tasks: %w", err)
		}
		page := store.NextPage(rows, f.Limit, func(r *taskRow) string { return r.CallOrder })
		v := scope.ViewOf(ctx)
		out := make([]TaskView, 0, len(page.Items))
		ids := make([]string, 0, len(page.Items))
		for i := range page.Items {
			out = append(out, taskView(&page.Items[i], g, v))
			ids = append(ids, page.Items[i].HouseholdID)
		}
		if err := scope.RecordRead(ctx, s.Reads, s.DB, scope.Seen{Resource: "households", IDs: ids,
			Filters: map[string]any{"screening_id": screeningID, "status": f.Status, "list": f.List, "grid": f.Grid}}); err != nil {
			return none, err
		}
		return store.Page[TaskView]{Items: out, Next: page.Next}, nil
	})
	return p.Items, p.Next, err
}

// Next is the head of a worker's list.
type Next struct {
	Task      *TaskView `json:"task"`
	Remaining int       `json:"remaining"`
}

// holdFor is how long the next household stays with the worker who was
// given it: long enough for a call and its form, short enough that a
// worker who walked away does not keep it from the others for long.
const holdFor = 10 * time.Minute

// holdTries bounds the candidates NextTask tries when colleagues take the
// same ones at the same moment.
const holdTries = 5

// NextTask is the next household on the caller's call list (or door list,
// f.List "door"), with its phone and a tel: link, and how many remain.
// The household is held for the caller (holdFor, or until their attempt),
// so a colleague working the same list is given the one after it; a
// caller who only looks (f.Peek) holds nothing.
func (s *Service) NextTask(ctx context.Context, screeningID string, f Filter) (*Next, error) {
	if f.List == "" {
		f.List = ListCall
	}
	me, _ := actor(ctx)
	run := scope.Run[*Next]
	if f.Peek {
		run = scope.Read[*Next]
	}
	return run(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*Next, error) {
		if _, err := s.screening(ctx, tx, screeningID); err != nil {
			return nil, err
		}
		now := s.now()
		var rows []taskRow
		q, err := filterTasks(tasks(tx, g, &rows, screeningID), g, f)
		if err != nil {
			return nil, err
		}
		q = q.Where("(t.held_until IS NULL OR t.held_until < ? OR t.held_by = ?)", now, me)
		n, err := q.OrderExpr("t.call_order").Limit(holdTries).ScanAndCount(ctx)
		if err != nil {
			return nil, fmt.Errorf("next task: %w", err)
		}
		out := &Next{Remaining: int(n)}
		if f.Peek {
			if len(rows) > 0 {
				tv := taskView(&rows[0], g, scope.ViewOf(ctx))
				out.Task = &tv
				if err := scope.RecordRead(ctx, s.Reads, s.DB, scope.Seen{Resource: "household", ID: rows[0].HouseholdID,
					Filters: map[string]any{"screening_id": screeningID}}); err != nil {
					return nil, err
				}
			}
			return out, nil
		}
		for i := range rows {
			// Taken only if still free: a colleague may have been given it
			// between the read and here.
			res, err := tx.Update((*Task)(nil)).Set("held_by = ?, held_until = ?", me, now.Add(holdFor)).
				Where("t.id = ? AND (t.held_until IS NULL OR t.held_until < ? OR t.held_by = ?)", rows[i].ID, now, me).Exec(ctx)
			if err != nil {
				return nil, fmt.Errorf("hold task: %w", err)
			}
			if k, _ := res.RowsAffected(); k == 1 {
				tv := taskView(&rows[i], g, scope.ViewOf(ctx))
				out.Task = &tv
				// In this write's transaction when there is no recorder:
				// another connection would wait on its lock (SQLite).
				if err := scope.RecordRead(ctx, s.Reads, tx, scope.Seen{Resource: "household", ID: rows[i].HouseholdID,
					Filters: map[string]any{"screening_id": screeningID}}); err != nil {
					return nil, err
				}
				break
			}
		}
		return out, nil
	})
}

// GetTask is one task with its household and every attempt on it, newest
// first: what a worker reads before calling again.
func (s *Service) GetTask(ctx context.Context, screeningID, taskID string) (*TaskView, error) {
	return scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*TaskView, error) {
		r, err := s.task(ctx, tx, g, screeningID, taskID)
		if err != nil {
			return nil, err
		}
		var history []Attempt
		if err := tx.Select(&history).Where("a.task_id = ?", r.ID).OrderExpr("a.at DESC, a.id DESC").Scan(ctx); err != nil {
			return nil, fmt.Errorf("task history: %w", err)
		}
		tv := taskView(r, g, scope.ViewOf(ctx))
		tv.History = make([]AttemptView, 0, len(history))
		for i := range history {
			tv.History = append(tv.History, attemptView(&history[i], g))
		}
		if err := scope.RecordRead(ctx, s.Reads, s.DB, scope.Seen{Resource: "household", ID: r.HouseholdID,
			Filters: map[string]any{"screening_id": screeningID}}); err != nil {
			return nil, err
		}
		return &tv, nil
	})
}

// task loads one task of the campaign that the caller may see, or 404:
// another community's task, another grid's and one of another campaign
// look the same.
func (s *Service) task(ctx context.Context, tx *store.TenantTx, g *scope.Grids, screeningID, taskID string) (*taskRow, error) {
	r := new(taskRow)
	// By id alone, the campaign checked here: with the campaign in the
	// WHERE, PostgreSQL may walk the campaign's index over all its tasks.
	err := tx.Select(r).ColumnExpr("t.*, h.address, h.phone").
		Join("JOIN households AS h ON h.tenant_id = t.tenant_id AND h.id = t.household_id").
		Where("t.id = ?", taskID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (r.ScreeningID != screeningID || !g.May(r.GridID))) {
		return nil, notFound()
	}
	if err != nil {
		return nil, fmt.Errorf("load task: %w", err)
	}
	return r, nil
}

// NumberCorrected gives a household whose number was marked wrong back to
// the call list, once the right number is on the roster (the worker at
// the door asked for it; roster.UpdateHousehold changed it, audited as
// the personal data it is). The task leaves the door list, free and at
// the head of the call list with the never-tried ones; its attempts stay
// as they were. Only an open task on the door list whose last outcome was
// a wrong number qualifies (409 otherwise); another community's or grid's
// task is 404.
func (s *Service) NumberCorrected(ctx context.Context, screeningID, taskID string) (*TaskView, error) {
	return scope.Run(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*TaskView, error) {
		sc, err := s.screening(ctx, tx, screeningID)
		if err != nil {
			return nil, err
		}
		r, err := s.task(ctx, tx, g, screeningID, taskID)
		if err != nil {
			return nil, err
		}
		c, err := orgs.CommunityOf(ctx, tx)
		if err != nil {
			return nil, err
		}
		if !sc.open(c.Day(s.now())) {
			return nil, errs.New(errs.KindConflict, "screening_closed", nil)
		}
		if r.Status != StatusOpen || !r.Door || r.LastOutcome != OutcomeWrongNumber {
			return nil, errs.New(errs.KindConflict, "task_not_wrong_number", nil)
		}
		r.Door, r.CallOrder, r.HeldBy, r.HeldUntil, r.UpdatedAt = false, neverTried(r.ID), nil, nil, s.now()
		if _, err := tx.Update(&r.Task).Column("door", "call_order", "held_by", "held_until", "updated_at").
			Where("t.id = ?", r.ID).Exec(ctx); err != nil {
			return nil, fmt.Errorf("back to the call list: %w", err)
		}
		if err := audit.Record(ctx, tx, audit.ActionUpdate, "task", r.ID, map[string]any{"screening_id": sc.ID,
			"household_id": r.HouseholdID, "list": ListCall, "reason": "number_corrected"}); err != nil {
			return nil, err
		}
		tv := taskView(r, g, scope.ViewOf(ctx))
		return &tv, nil
	})
}
