package directives

import (
	"time"

	"github.com/uptrace/bun"
)

// Limits of what an office may send.
const (
	MaxTitle = 100
	MaxBody  = 5000
)

// Directive is the issuing office's row (a platform table: the office is
// not a tenant).
type Directive struct {
	bun.BaseModel `bun:"table:directives,alias:d"`
	ID            string    `bun:"id,pk"`
	OrgID         string    `bun:"org_id"`
	Title         string    `bun:"title"`
	Body          string    `bun:"body"`
	DueDate       string    `bun:"due_date"`
	AllBelow      bool      `bun:"all_below"`
	CreatedBy     string    `bun:"created_by"`
	CreatedByName string    `bun:"created_by_name"`
	CreatedAt     time.Time `bun:"created_at"`
}

// Target is a community's copy of a directive sent to it, with its
// acknowledgement (tenant-owned).
type Target struct {
	bun.BaseModel `bun:"table:directive_targets,alias:dt"`
	TenantID      string     `bun:"tenant_id,pk"`
	DirectiveID   string     `bun:"directive_id,pk"`
	IssuerSlug    string     `bun:"issuer_slug"`
	IssuerName    string     `bun:"issuer_name"`
	Title         string     `bun:"title"`
	Body          string     `bun:"body"`
	DueDate       string     `bun:"due_date"`
	CreatedAt     time.Time  `bun:"created_at"`
	AckedAt       *time.Time `bun:"acked_at"`
	AckedBy       *string    `bun:"acked_by"`
	AckedByName   *string    `bun:"acked_by_name"`
	RemindedOn    *string    `bun:"reminded_on"`
}

// Input is a directive as an office posts it. Communities are slugs of
// communities below the office; none means all of them.
type Input struct {
	Title       string   `json:"title"`
	Body        string   `json:"body"`
	Communities []string `json:"communities"`
	DueDate     string   `json:"due_date"`
}

// View is a directive as the API shows it. In a community (its copy) the
// acknowledgement fields say whether it acknowledged, who and when; to the
// issuing office, Total and AcknowledgedCount count its communities and
// Communities (on one directive) lists each.
type View struct {
	ID        string    `json:"id"`
	From      string    `json:"from"`      // the issuing office's slug
	FromName  string    `json:"from_name"` // and name
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	DueDate   string    `json:"due_date"`
	CreatedAt time.Time `json:"created_at"`

	// A community's copy.
	Acknowledged   *bool      `json:"acknowledged,omitempty"`
	AcknowledgedAt *time.Time `json:"acknowledged_at,omitempty"`
	AcknowledgedBy string     `json:"acknowledged_by,omitempty"`

	// The issuing office's view.
	CreatedBy         string         `json:"created_by,omitempty"`
	AllBelow          *bool          `json:"all_below,omitempty"`
	Total             *int           `json:"total,omitempty"`
	AcknowledgedCount *int           `json:"acknowledged_count,omitempty"`
	Communities       []CommunityAck `json:"communities,omitempty"`
}

// CommunityAck is one target community's acknowledgement, as the issuing
// office sees it.
type CommunityAck struct {
	Community      string     `json:"community"` // slug
	Name           string     `json:"name"`
	Acknowledged   bool       `json:"acknowledged"`
	AcknowledgedAt *time.Time `json:"acknowledged_at"`
	AcknowledgedBy string     `json:"acknowledged_by"`
}

// Filter narrows a list. Status, in a community: "" (all),
// StatusUnacknowledged or StatusAcknowledged.
type Filter struct {
	Status string
	Limit  int
	Cursor string
}

// Statuses of a community's copy, for Filter.
const (
	StatusUnacknowledged = "unacknowledged"
	StatusAcknowledged   = "acknowledged"
)

// Community is a community below an office, as a form offers it.
type Community struct {
	ID   string `bun:"id"`
	Slug string `bun:"slug"`
	Name string `bun:"name"`
}

func targetView(t *Target) View {
	acked := t.AckedAt != nil
	v := View{ID: t.DirectiveID, From: t.IssuerSlug, FromName: t.IssuerName, Title: t.Title, Body: t.Body, DueDate: t.DueDate,
		CreatedAt: t.CreatedAt, Acknowledged: &acked, AcknowledgedAt: t.AckedAt}
	if t.AckedByName != nil {
		v.AcknowledgedBy = *t.AckedByName
	}
	return v
}
