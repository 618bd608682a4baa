// Package orgs is the organisation tree (district → sub-district →
// community → grid), the people who work in it (users and memberships),
// and each community's settings.
package orgs

import (
	"slices"
	"time"

	"github.com/uptrace/bun"
)

// Kinds of org. A community is a tenant.
const (
	KindDistrict    = "district"
	KindSubdistrict = "subdistrict"
	KindCommunity   = "community"
)

// DefaultTimezone is every org's zone unless it says otherwise.
const DefaultTimezone = "Asia/Shanghai"

// Org is one node of the tree.
type Org struct {
	bun.BaseModel `bun:"table:orgs"`
	ID            string    `bun:"id,pk"`
	Slug          string    `bun:"slug"`
	Name          string    `bun:"name"`
	Kind          string    `bun:"kind"`
	ParentID      *string   `bun:"parent_id"`
	Path          string    `bun:"path"`
	Timezone      string    `bun:"timezone"`
	Settings      Settings  `bun:"settings"`
	CreatedAt     time.Time `bun:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

// Settings are a community's working rules.
type Settings struct {
	// IsolationDays is the default length of home isolation.
	IsolationDays int `json:"isolation_days" yaml:"isolation_days"`
	// ReportCutoff ("HH:MM", local time) closes the community's day.
	ReportCutoff string `json:"report_cutoff" yaml:"report_cutoff"`
	// QuietHours hold back non-urgent messages to residents.
	QuietHours QuietHours `json:"quiet_hours" yaml:"quiet_hours"`

	// FailedCallsBeforeVisit is how many failed phone attempts move a
	// household to the door-to-door list (0: the default, 3).
	FailedCallsBeforeVisit int `json:"failed_calls_before_visit,omitempty" yaml:"failed_calls_before_visit,omitempty"`
	// WatchList names the places (a city, a province) whose recent
	// returnees raise a follow-up when screening finds them.
	WatchList []string `json:"watch_list,omitempty" yaml:"watch_list,omitempty"`
	// CareTags choose the residents on the special-care list (none: the
	// default, elderly and lives_alone together).
	CareTags []string `json:"care_tags,omitempty" yaml:"care_tags,omitempty"`
	// CareOverdueDays is how long a resident on the care list may go
	// without a care call before they are overdue (0: the default, 7).
	CareOverdueDays int `json:"care_overdue_days,omitempty" yaml:"care_overdue_days,omitempty"`

	// CheckinReminderAt ("HH:MM", local time) is when residents under
	// isolation who have not checked in today are reminded ("": 09:00).
	CheckinReminderAt string `json:"checkin_reminder_at,omitempty" yaml:"checkin_reminder_at,omitempty"`
	// CheckinDeadline ("HH:MM", local time): no check-in by then raises a
	// missed check-in alert ("": 20:00).
	CheckinDeadline string `json:"checkin_deadline,omitempty" yaml:"checkin_deadline,omitempty"`
	// SupportOverdueHours is how long a support request may stay undone
	// before it is overdue (0: 24).
	SupportOverdueHours int `json:"support_overdue_hours,omitempty" yaml:"support_overdue_hours,omitempty"`
	// IsolationRetentionDays is how long a closed case keeps its personal
	// data (the link, free text, the phone) before it is anonymised (0: 30).
	IsolationRetentionDays int `json:"isolation_retention_days,omitempty" yaml:"isolation_retention_days,omitempty"`

	// ReportReminderAfter is how many minutes after the report's cut-off
	// the community admins are reminded of a report not yet submitted (0:
	// 30).
	ReportReminderAfter int `json:"report_reminder_after,omitempty" yaml:"report_reminder_after,omitempty"`
}

// Screening defaults, for settings saved before these existed.
const (
	DefaultFailedCallsBeforeVisit = 3
	DefaultCareOverdueDays        = 7
)

// Isolation defaults (API.md), for settings saved before these existed.
const (
	DefaultCheckinReminderAt      = "09:00"
	DefaultCheckinDeadline        = "20:00"
	DefaultSupportOverdueHours    = 24
	DefaultIsolationRetentionDays = 30
)

// DefaultReportReminderAfter is ReportReminderAfter's default (minutes).
const DefaultReportReminderAfter = 30

// DefaultCareTags choose the care list unless a community says otherwise:
// elderly people living alone.
var DefaultCareTags = []string{"elderly", "lives_alone"}

// CallsBeforeVisit is FailedCallsBeforeVisit, defaulted.
func (st Settings) CallsBeforeVisit() int {
	if st.FailedCallsBeforeVisit <= 0 {
		return DefaultFailedCallsBeforeVisit
	}
	return st.FailedCallsBeforeVisit
}

// CareList is the tags that put a resident on the care list, defaulted.
func (st Settings) CareList() []string {
	if len(st.CareTags) == 0 {
		return DefaultCareTags
	}
	return st.CareTags
}

// CareOverdue is CareOverdueDays, defaulted.
func (st Settings) CareOverdue() int {
	if st.CareOverdueDays <= 0 {
		return DefaultCareOverdueDays
	}
	return st.CareOverdueDays
}

// ReminderAt is CheckinReminderAt, defaulted.
func (st Settings) ReminderAt() string {
	return orDefault(st.CheckinReminderAt, DefaultCheckinReminderAt)
}

// Deadline is CheckinDeadline, defaulted.
func (st Settings) Deadline() string { return orDefault(st.CheckinDeadline, DefaultCheckinDeadline) }

// SupportOverdue is SupportOverdueHours, defaulted.
func (st Settings) SupportOverdue() int {
	if st.SupportOverdueHours <= 0 {
		return DefaultSupportOverdueHours
	}
	return st.SupportOverdueHours
}

// IsolationRetention is IsolationRetentionDays, defaulted.
func (st Settings) IsolationRetention() int {
	if st.IsolationRetentionDays <= 0 {
		return DefaultIsolationRetentionDays
	}
	return st.IsolationRetentionDays
}

// ReminderAfter is ReportReminderAfter, defaulted.
func (st Settings) ReminderAfter() int {
	if st.ReportReminderAfter <= 0 {
		return DefaultReportReminderAfter
	}
	return st.ReportReminderAfter
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// Equal reports whether two settings are the same (they hold slices, so
// == does not compile).
func (st Settings) Equal(o Settings) bool {
	return st.IsolationDays == o.IsolationDays && st.ReportCutoff == o.ReportCutoff && st.QuietHours == o.QuietHours &&
		st.CallsBeforeVisit() == o.CallsBeforeVisit() && st.CareOverdue() == o.CareOverdue() &&
		slices.Equal(st.WatchList, o.WatchList) && slices.Equal(st.CareList(), o.CareList()) &&
		st.ReminderAt() == o.ReminderAt() && st.Deadline() == o.Deadline() &&
		st.SupportOverdue() == o.SupportOverdue() && st.IsolationRetention() == o.IsolationRetention() &&
		st.ReminderAfter() == o.ReminderAfter()
}

// QuietHours is a local-time window, "HH:MM" to "HH:MM", that may wrap
// past midnight.
type QuietHours struct {
	Start string `json:"start" yaml:"start"`
	End   string `json:"end" yaml:"end"`
}

// DefaultSettings are DOMAIN.md's defaults.
func DefaultSettings() Settings {
	return Settings{IsolationDays: 14, ReportCutoff: "18:00", QuietHours: QuietHours{Start: "21:00", End: "08:00"}}
}

// Grid is a part of a community worked by its grid workers.
type Grid struct {
	bun.BaseModel `bun:"table:grids"`
	ID            string    `bun:"id,pk" json:"id"`
	TenantID      string    `bun:"tenant_id" json:"-"`
	Slug          string    `bun:"slug" json:"slug"`
	Name          string    `bun:"name" json:"name"`
	CreatedAt     time.Time `bun:"created_at" json:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at" json:"-"`
}

// Membership is a user's role in an org (OrgID nil: the platform).
type Membership struct {
	bun.BaseModel `bun:"table:memberships"`
	ID            string    `bun:"id,pk"`
	UserID        string    `bun:"user_id"`
	OrgID         *string   `bun:"org_id"`
	Role          string    `bun:"role"`
	Grids         []string  `bun:"grids"`
	CreatedAt     time.Time `bun:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at"`
}
