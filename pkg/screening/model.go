// Package screening is "no household and no person missed" (未漏一户一人):
// screening campaigns that make a task of every household in scope, the
// attempts by phone or at the door that work those tasks, the follow-ups
// their findings raise, progress and the figures the daily report reuses.
// The publicity and disinfection logs are pkg/logs, the special-care list
// pkg/care.
package screening

import (
	"time"

	"github.com/uptrace/bun"
)

// Methods of a campaign and of an attempt.
const (
	MethodPhone = "phone"
	MethodVisit = "visit"
	MethodAny   = "any" // a campaign's: either will do
)

// Outcomes of an attempt.
const (
	OutcomeReached     = "reached"
	OutcomeNoAnswer    = "no_answer"
	OutcomeWrongNumber = "wrong_number"
	OutcomeRefused     = "refused"
	OutcomeMovedOut    = "moved_out"
)

// Outcomes lists them in the order forms offer them.
var Outcomes = []string{OutcomeReached, OutcomeNoAnswer, OutcomeWrongNumber, OutcomeRefused, OutcomeMovedOut}

// Statuses.
const (
	StatusOpen   = "open"
	StatusClosed = "closed" // a campaign's
	StatusDone   = "done"   // a task's or a follow-up's

	FollowUpDismissed = "dismissed"
	FollowUpCase      = "case" // isolation opened a case from it
)

// KindScreening is every attempt's kind. The column is older than
// pkg/care, whose calls were attempts of kind "care" until they became
// care contacts of their own.
const KindScreening = "screening"

// Screening is a campaign (排查).
type Screening struct {
	bun.BaseModel `bun:"table:screenings,alias:s"`
	TenantID      string     `bun:"tenant_id,pk"`
	ID            string     `bun:"id,pk"`
	Name          string     `bun:"name"`
	Method        string     `bun:"method"`
	GridIDs       []string   `bun:"grid_ids"`
	StartDate     string     `bun:"start_date"`
	EndDate       string     `bun:"end_date"`
	Status        string     `bun:"status"`
	CreatedBy     string     `bun:"created_by"`
	CreatedAt     time.Time  `bun:"created_at"`
	UpdatedAt     time.Time  `bun:"updated_at"`
	ClosedAt      *time.Time `bun:"closed_at"`
}

// Task is one household in one campaign.
type Task struct {
	bun.BaseModel  `bun:"table:screening_tasks,alias:t"`
	TenantID       string     `bun:"tenant_id,pk"`
	ID             string     `bun:"id,pk"`
	ScreeningID    string     `bun:"screening_id"`
	HouseholdID    string     `bun:"household_id"`
	GridID         string     `bun:"grid_id"`
	Status         string     `bun:"status"`
	Door           bool       `bun:"door"`
	Attempts       int        `bun:"attempts"`
	FailedCalls    int        `bun:"failed_calls"`
	LastAttemptAt  *time.Time `bun:"last_attempt_at"`
	LastOutcome    string     `bun:"last_outcome"`
	CallOrder      string     `bun:"call_order"`
	ReachedByPhone bool       `bun:"reached_by_phone"`
	ReachedByVisit bool       `bun:"reached_by_visit"`
	ReachedOn      *string    `bun:"reached_on"`
	HeldBy         *string    `bun:"held_by"`
	HeldUntil      *time.Time `bun:"held_until"`
	CreatedAt      time.Time  `bun:"created_at"`
	UpdatedAt      time.Time  `bun:"updated_at"`
}

// Attempt is one call or visit to work a screening task.
type Attempt struct {
	bun.BaseModel `bun:"table:attempts,alias:a"`
	TenantID      string    `bun:"tenant_id,pk"`
	ID            string    `bun:"id,pk"`
	Kind          string    `bun:"kind"`
	ScreeningID   *string   `bun:"screening_id"`
	TaskID        *string   `bun:"task_id"`
	HouseholdID   string    `bun:"household_id"`
	ResidentID    *string   `bun:"resident_id"`
	GridID        string    `bun:"grid_id"`
	Reason        string    `bun:"reason"`
	Method        string    `bun:"method"`
	Outcome       string    `bun:"outcome"`
	TravelFrom    string    `bun:"travel_from"`
	ReturnedOn    *string   `bun:"returned_on"`
	Symptoms      bool      `bun:"symptoms"`
	CloseContact  bool      `bun:"close_contact"`
	Occupants     *int      `bun:"occupants"`
	Notes         string    `bun:"notes"`
	ByUser        string    `bun:"by_user"`
	ByName        string    `bun:"by_name"`
	At            time.Time `bun:"at"`
	LocalDate     string    `bun:"local_date"`
}

// FollowUp is what a finding asks staff to do.
type FollowUp struct {
	bun.BaseModel `bun:"table:follow_ups,alias:f"`
	TenantID      string     `bun:"tenant_id,pk"`
	ID            string     `bun:"id,pk"`
	AttemptID     string     `bun:"attempt_id"`
	ScreeningID   *string    `bun:"screening_id"`
	HouseholdID   string     `bun:"household_id"`
	GridID        string     `bun:"grid_id"`
	Reasons       []string   `bun:"reasons"`
	TravelFrom    string     `bun:"travel_from"`
	ReturnedOn    *string    `bun:"returned_on"`
	Status        string     `bun:"status"`
	Notes         string     `bun:"notes"`
	CaseID        *string    `bun:"case_id"`
	CreatedAt     time.Time  `bun:"created_at"`
	UpdatedAt     time.Time  `bun:"updated_at"`
	ClosedBy      *string    `bun:"closed_by"`
	ClosedAt      *time.Time `bun:"closed_at"`
}

// Reasons for a follow-up.
const (
	ReasonSymptoms     = "symptoms"
	ReasonTravel       = "travel"
	ReasonCloseContact = "close_contact"
)
