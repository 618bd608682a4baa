// Package orgs is the organisation tree (district → sub-district →
// community → grid), the people who work in it (users and memberships),
// and each community's settings.
package orgs

import (
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
