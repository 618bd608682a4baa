// Package reports is the daily report (日报, DOMAIN.md item 8): each
// community's day under API.md's figure keys, computed by the domains that
// own the records (screening, logs, isolation, outreach: their FiguresIn
// and FiguresAcross, never their tables), the typed-in part, the snapshot
// at the cut-off, submission, corrections, the rollup above the
// communities, the series and the export.
package reports

import (
	"encoding/json"
	"time"

	"github.com/uptrace/bun"
)

// Keys are the report's computed figures, API.md's stable keys, in the
// order reports and exports show them.
var Keys = []string{
	"households_total", "households_screened_total", "screened_by_phone_total", "screened_by_visit_total",
	"households_unreached", "screened_today", "visits_today", "calls_today",
	"notices_posted_today", "notices_posted_total",
	"isolation_active", "isolation_started_today", "isolation_released_today", "isolation_released_total",
	"households_isolated_total", "households_released_total",
	"fever_alerts_today", "suspected", "confirmed", "close_contacts",
	"support_open", "support_done_today", "messages_sent_today",
}

// MainKeys are the figures a table of communities shows (the console's
// day table and its trend): the rest are in the drill-down.
var MainKeys = []string{
	"households_screened_total", "screened_today", "households_unreached", "notices_posted_today",
	"isolation_active", "fever_alerts_today", "support_open",
}

// ManualKeys are the typed-in part of a report: non-negative integers,
// the first two pre-filled from the logs (publicity and disinfection).
var ManualKeys = []string{"notices_posted", "disinfection_rounds", "staff_on_duty", "volunteers_on_duty"}

// MaxManual bounds a typed-in figure: a typo of a few digits more is
// refused rather than summed into the sub-district's totals.
const MaxManual = 1_000_000

// MaxSeriesDays is the longest series (API.md: a quarter).
const MaxSeriesDays = 92

// Statuses of a day's report. A community's own report is draft or
// submitted; in a rollup a community without a submission is late (its
// cut-off has passed) or missing (not yet).
const (
	StatusDraft     = "draft"
	StatusSubmitted = "submitted"
	StatusLate      = "late"
	StatusMissing   = "missing"
)

// Kinds of version.
const (
	KindCutoff     = "cutoff"
	KindSubmission = "submission"
	KindCorrection = "correction"
)

// Figures are a report's numbers by key (Keys, or ManualKeys).
type Figures map[string]int

// Add adds o's numbers to f.
func (f Figures) Add(o Figures) {
	for k, v := range o {
		f[k] += v
	}
}

// row is one version of a day's report, never changed once written:
// version 0 the cut-off snapshot, 1 the submission, 2… corrections.
type row struct {
	bun.BaseModel `bun:"table:daily_reports,alias:r"`
	TenantID      string    `bun:"tenant_id,pk"`
	Date          string    `bun:"date,pk"`
	Version       int       `bun:"version,pk"`
	Kind          string    `bun:"kind"`
	Figures       Figures   `bun:"figures"`
	Manual        Figures   `bun:"manual"`
	AfterCutoff   bool      `bun:"after_cutoff"`
	ByUser        string    `bun:"by_user"`
	ByName        string    `bun:"by_name"`
	At            time.Time `bun:"at"`
	Reason        string    `bun:"reason"`
}

// draft is the typed-in part given so far for a day not yet submitted:
// only the fields given (the others take their pre-filled values).
type draft struct {
	bun.BaseModel `bun:"table:daily_report_drafts,alias:d"`
	TenantID      string    `bun:"tenant_id,pk"`
	Date          string    `bun:"date,pk"`
	Manual        Figures   `bun:"manual"`
	UpdatedBy     string    `bun:"updated_by"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

// Version is one stored version of a day's report as the API shows it.
type Version struct {
	Version     int       `json:"version"`
	Kind        string    `json:"kind"`
	At          time.Time `json:"at"`
	By          string    `json:"by"`
	Reason      string    `json:"reason,omitempty"`
	AfterCutoff bool      `json:"after_cutoff"`
	Figures     Figures   `json:"figures"`
	Manual      Figures   `json:"manual"`
}

// Report is a community's report of one day: the latest submitted
// version, or the live draft (Status draft: figures computed now, the
// typed-in part as given so far over its pre-filled values). Cutoff is the
// snapshot the sweep took at the cut-off, once taken; History every
// stored version, newest first (the snapshot included).
type Report struct {
	Org    string `json:"org"`
	Date   string `json:"date"`
	Status string `json:"status"` // draft | submitted
	// Late: nothing submitted and the cut-off has passed.
	Late     bool      `json:"late"`
	CutoffAt time.Time `json:"cutoff_at"`
	// Version is the version shown (0: the live draft); Kind its kind.
	Version     int        `json:"version"`
	Kind        string     `json:"kind,omitempty"`
	SubmittedAt *time.Time `json:"submitted_at,omitempty"`
	AfterCutoff bool       `json:"after_cutoff"`
	Figures     Figures    `json:"figures"`
	Manual      Figures    `json:"manual"`
	Cutoff      *Version   `json:"cutoff,omitempty"`
	History     []Version  `json:"history"`
}

// Today is a community's report of today with yesterday's beside it (the
// console's today page): Yesterday is its submission, or its draft.
type Today struct {
	Report    *Report `json:"report"`
	Yesterday *Report `json:"yesterday"`
}

// Community is one community's line of a rollup.
type Community struct {
	Org  string `json:"org"`
	Name string `json:"name"`
	// Status is submitted, late or missing; Draft marks figures computed
	// live (nothing submitted).
	Status      string     `json:"status"`
	Draft       bool       `json:"draft"`
	Version     int        `json:"version,omitempty"`
	SubmittedAt *time.Time `json:"submitted_at,omitempty"`
	AfterCutoff bool       `json:"after_cutoff,omitempty"`
	Figures     Figures    `json:"figures"`
	Manual      Figures    `json:"manual"`
}

// Rollup is a sub-district's or district's day: every community below
// that the caller may read, their totals, and those not submitted
// (Missing, late or not), by slug.
type Rollup struct {
	Org          string      `json:"org"`
	Name         string      `json:"name"`
	Date         string      `json:"date"`
	Totals       Figures     `json:"totals"`
	ManualTotals Figures     `json:"manual_totals"`
	Communities  []Community `json:"communities"`
	Missing      []string    `json:"missing"`
}

// SeriesDay is one day of a series: for a community its submission or its
// live draft (Draft), above the communities their totals, with how many
// were submitted and how many are drafts.
type SeriesDay struct {
	Date      string  `json:"date"`
	Status    string  `json:"status,omitempty"` // a community's: draft | submitted
	Draft     bool    `json:"draft"`
	Submitted int     `json:"submitted,omitempty"` // above the communities
	Drafts    int     `json:"drafts,omitempty"`
	Figures   Figures `json:"figures"`
	Manual    Figures `json:"manual"`
}

// Series is an org's days from From to To, one entry per day.
type Series struct {
	Org   string      `json:"org"`
	From  string      `json:"from"`
	To    string      `json:"to"`
	Items []SeriesDay `json:"items"`
}

// ManualInput is the typed-in part a PUT or a correction sends: each
// value raw, so text or a fraction is a 422 on its field, not a 400.
type ManualInput struct {
	Manual map[string]json.RawMessage `json:"manual"`
}

// CorrectionInput is a correction: the typed-in fields to change (the
// others stay as the latest version has them) and why.
type CorrectionInput struct {
	Manual map[string]json.RawMessage `json:"manual"`
	Reason string                     `json:"reason"`
}
