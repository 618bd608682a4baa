package screening

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// AttemptInput is one call or visit and what it found.
type AttemptInput struct {
	Method       string `json:"method"`
	Outcome      string `json:"outcome"`
	TravelFrom   string `json:"travel_from"`
	ReturnedOn   string `json:"returned_on"`
	Symptoms     bool   `json:"symptoms"`
	CloseContact bool   `json:"close_contact"`
	Occupants    *int   `json:"occupants"`
	Notes        string `json:"notes"`
}

// AttemptView is an attempt as the API shows it, with the state its task
// is left in and the follow-up its findings raised, if any.
type AttemptView struct {
	ID           string    `json:"id"`
	Kind         string    `json:"kind"`
	ScreeningID  string    `json:"screening_id,omitempty"`
	TaskID       string    `json:"task_id,omitempty"`
	HouseholdID  string    `json:"household_id"`
	ResidentID   string    `json:"resident_id,omitempty"`
	Grid         string    `json:"grid"`
	Reason       string    `json:"reason,omitempty"`
	Method       string    `json:"method"`
	Outcome      string    `json:"outcome"`
	TravelFrom   string    `json:"travel_from"`
	ReturnedOn   string    `json:"returned_on,omitempty"`
	Symptoms     bool      `json:"symptoms"`
	CloseContact bool      `json:"close_contact"`
	Occupants    *int      `json:"occupants"`
	Notes        string    `json:"notes"`
	By           string    `json:"by"`
	At           time.Time `json:"at"`
	Date         string    `json:"date"`
	Task         *TaskView `json:"task,omitempty"`
	FollowUpID   string    `json:"follow_up_id,omitempty"`
}

func attemptView(a *Attempt, g *scope.Grids) AttemptView {
	v := AttemptView{ID: a.ID, Kind: a.Kind, HouseholdID: a.HouseholdID, Grid: g.Slug(a.GridID), Reason: a.Reason,
		Method: a.Method, Outcome: a.Outcome, TravelFrom: a.TravelFrom, Symptoms: a.Symptoms, CloseContact: a.CloseContact,
		Occupants: a.Occupants, Notes: a.Notes, By: a.ByName, At: a.At, Date: a.LocalDate}
	for dst, src := range map[*string]*string{&v.ScreeningID: a.ScreeningID, &v.TaskID: a.TaskID, &v.ResidentID: a.ResidentID, &v.ReturnedOn: a.ReturnedOn} {
		if src != nil {
			*dst = *src
		}
	}
	return v
}

// recentDays is how far back a return from a watched place counts: the
// 14 days of home isolation.
const recentDays = 14

// prepareAttempt validates in and fills the attempt's findings.
func prepareAttempt(in AttemptInput, today string, a *Attempt) error {
	var fe []errs.FieldError
	oneOf(&fe, "method", in.Method, MethodPhone, MethodVisit)
	oneOf(&fe, "outcome", in.Outcome, Outcomes...)
	a.TravelFrom, a.Notes = strings.TrimSpace(in.TravelFrom), strings.TrimSpace(in.Notes)
	text(&fe, "travel_from", a.TravelFrom, 100)
	text(&fe, "notes", a.Notes, 500)
	if d, ok := parseDate(&fe, "returned_on", in.ReturnedOn); ok && d != "" {
		if d > today {
			fe = append(fe, errs.Field("returned_on", "date_in_future", nil))
		}
		a.ReturnedOn = &d
	}
	if in.Occupants != nil && (*in.Occupants < 0 || *in.Occupants > 50) {
		fe = append(fe, errs.Field("occupants", "out_of_range", map[string]any{"min": 0, "max": 50}))
	}
	if len(fe) > 0 {
		return errs.Validation(fe...)
	}
	a.Method, a.Outcome, a.Symptoms, a.CloseContact, a.Occupants = in.Method, in.Outcome, in.Symptoms, in.CloseContact, in.Occupants
	return nil
}

// RecordAttempt records a call or visit on a task. A reached attempt
// closes the task (as does finding the household moved out); failed calls
// count towards the door-to-door list, and a wrong number goes there at
// once. Findings of symptoms, close contact or a recent return from a
// watched place raise a follow-up for staff. Posted twice with the same
// Idempotency-Key, it is recorded once.
func (s *Service) RecordAttempt(ctx context.Context, screeningID, taskID string, in AttemptInput) (*AttemptView, error) {
	return scope.Once(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*AttemptView, error) {
		return s.recordAttempt(ctx, tx, g, screeningID, taskID, in, s.now())
	})
}

func (s *Service) recordAttempt(ctx context.Context, tx *store.TenantTx, g *scope.Grids, screeningID, taskID string, in AttemptInput, at time.Time) (*AttemptView, error) {
	sc, err := s.screening(ctx, tx, screeningID)
	if err != nil {
		return nil, err
	}
	t, err := s.task(ctx, tx, g, screeningID, taskID)
	if err != nil {
		return nil, err
	}
	c, err := orgs.CommunityOf(ctx, tx)
	if err != nil {
		return nil, err
	}
	today := c.Day(at)
	if !sc.open(today) {
		return nil, errs.New(errs.KindConflict, "screening_closed", nil)
	}
	// The id is made at the attempt's instant, which its day is of
	// (attemptsFrom bounds a day's lookups by it).
	a := &Attempt{TenantID: tx.Tenant(), ID: store.NewIDAt(at), Kind: KindScreening, ScreeningID: &sc.ID, TaskID: &t.ID,
		HouseholdID: t.HouseholdID, GridID: t.GridID, At: at, LocalDate: today}
	a.ByUser, a.ByName = actor(ctx)
	if err := prepareAttempt(in, today, a); err != nil {
		return nil, err
	}
	if _, err := tx.Insert(a).Exec(ctx); err != nil {
		return nil, fmt.Errorf("record attempt: %w", err)
	}
	if err := s.advance(ctx, tx, &t.Task, a, c); err != nil {
		return nil, err
	}
	v := attemptView(a, g)
	tv := taskView(t, g, scope.ViewOf(ctx))
	v.Task = &tv
	f, err := s.raiseFollowUp(ctx, tx, a, c)
	if err != nil {
		return nil, err
	}
	details := map[string]any{"screening_id": sc.ID, "task_id": t.ID, "outcome": a.Outcome, "method": a.Method}
	if f != nil {
		v.FollowUpID, details["follow_up_id"] = f.ID, f.ID
	}
	if err := audit.Record(ctx, tx, audit.ActionCreate, "attempt", a.ID, details); err != nil {
		return nil, err
	}
	return &v, nil
}

// advance moves the task on after attempt a, in one UPDATE that counts
// from the row's own values, so two workers recording at once both count.
func (s *Service) advance(ctx context.Context, tx *store.TenantTx, t *Task, a *Attempt, c orgs.Community) error {
	failed := a.Method == MethodPhone && (a.Outcome == OutcomeNoAnswer || a.Outcome == OutcomeRefused)
	wrongNumber := a.Method == MethodPhone && a.Outcome == OutcomeWrongNumber
	reached := a.Outcome == OutcomeReached
	closes := reached || a.Outcome == OutcomeMovedOut
	q := tx.Update(t).
		Set("attempts = t.attempts + 1").
		Set("failed_calls = t.failed_calls + ?", b2i(failed)).
		Set("door = (t.door OR t.failed_calls + ? >= ? OR ?)", b2i(failed), c.Settings.CallsBeforeVisit(), wrongNumber).
		Set("last_attempt_at = ?, last_outcome = ?, call_order = ?, updated_at = ?", a.At, a.Outcome, triedAt(a.At, t.ID), a.At).
		Set("held_by = NULL, held_until = NULL"). // the call is over: the household goes back to the list's order
		Set("status = CASE WHEN ? THEN ? ELSE t.status END", closes, StatusDone).
		Set("reached_by_phone = (t.reached_by_phone OR ?)", reached && a.Method == MethodPhone).
		Set("reached_by_visit = (t.reached_by_visit OR ?)", reached && a.Method == MethodVisit).
		Set("reached_on = CASE WHEN ? AND t.reached_on IS NULL THEN ? ELSE t.reached_on END", reached, a.LocalDate).
		Where("t.id = ?", t.ID).
		Returning("status, door, attempts, failed_calls, last_attempt_at, last_outcome, call_order, reached_by_phone, reached_by_visit, reached_on")
	if err := q.Scan(ctx); err != nil {
		return fmt.Errorf("advance task: %w", err)
	}
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// raiseFollowUp files a follow-up when the attempt found something staff
// must act on.
func (s *Service) raiseFollowUp(ctx context.Context, tx *store.TenantTx, a *Attempt, c orgs.Community) (*FollowUp, error) {
	var reasons []string
	if a.Symptoms {
		reasons = append(reasons, ReasonSymptoms)
	}
	if a.CloseContact {
		reasons = append(reasons, ReasonCloseContact)
	}
	if watched(a.TravelFrom, c.Settings.WatchList) && recent(a.ReturnedOn, a.LocalDate) {
		reasons = append(reasons, ReasonTravel)
	}
	if len(reasons) == 0 {
		return nil, nil
	}
	f := &FollowUp{TenantID: tx.Tenant(), ID: newID(), AttemptID: a.ID, ScreeningID: a.ScreeningID, HouseholdID: a.HouseholdID,
		GridID: a.GridID, Reasons: reasons, TravelFrom: a.TravelFrom, ReturnedOn: a.ReturnedOn, Status: StatusOpen,
		CreatedAt: a.At, UpdatedAt: a.At}
	if _, err := tx.Insert(f).Exec(ctx); err != nil {
		return nil, fmt.Errorf("raise follow-up: %w", err)
	}
	return f, audit.Record(ctx, tx, audit.ActionCreate, "follow_up", f.ID, map[string]any{"attempt_id": a.ID, "reasons": reasons})
}

// watched reports whether a place someone came from is on the watch list:
// "武汉市" matches the entry "武汉", as does "湖北武汉".
func watched(from string, list []string) bool {
	from = strings.ToLower(strings.TrimSpace(from))
	if from == "" {
		return false
	}
	for _, w := range list {
		if w = strings.ToLower(strings.TrimSpace(w)); w != "" && strings.Contains(from, w) {
			return true
		}
	}
	return false
}

// recent reports whether a return on returned (unknown counts as recent:
// staff should ask) falls within the last recentDays before today.
func recent(returned *string, today string) bool {
	if returned == nil {
		return true
	}
	t, err := time.Parse(time.DateOnly, today)
	if err != nil {
		return true
	}
	return *returned >= t.AddDate(0, 0, -recentDays).Format(time.DateOnly)
}
