package care

import (
	"time"

	"github.com/uptrace/bun"
)

// Methods of a care contact, in the order forms offer them.
const (
	MethodPhone = "phone"
	MethodVisit = "visit"
)

// Methods lists them.
var Methods = []string{MethodPhone, MethodVisit}

// Outcomes of a care contact: screening's outcomes of a call or visit,
// since it is the same call; "reached" is the one that stops the overdue
// clock.
const (
	OutcomeReached     = "reached"
	OutcomeNoAnswer    = "no_answer"
	OutcomeWrongNumber = "wrong_number"
	OutcomeRefused     = "refused"
	OutcomeMovedOut    = "moved_out"
)

// Outcomes lists them in the order forms offer them.
var Outcomes = []string{OutcomeReached, OutcomeNoAnswer, OutcomeWrongNumber, OutcomeRefused, OutcomeMovedOut}

// Contact is one care call or visit to a resident (the table
// care_contacts).
type Contact struct {
	bun.BaseModel `bun:"table:care_contacts,alias:c"`
	TenantID      string    `bun:"tenant_id,pk"`
	ID            string    `bun:"id,pk"`
	ResidentID    string    `bun:"resident_id"`
	HouseholdID   string    `bun:"household_id"`
	GridID        string    `bun:"grid_id"`
	Method        string    `bun:"method"`
	Outcome       string    `bun:"outcome"`
	Reason        string    `bun:"reason"`
	Notes         string    `bun:"notes"`
	ByUser        string    `bun:"by_user"`
	ByName        string    `bun:"by_name"`
	At            time.Time `bun:"at"`
	LocalDate     string    `bun:"local_date"`
}
