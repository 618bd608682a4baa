// Package outreach is messages to residents (通知): templates checked
// against what the provider allows, campaigns to an audience from the
// roster, the outbox that sends each message exactly once through a
// provider (pkg/outreach/provider), and the rules every message obeys:
// the opt-out list, quiet hours, a per-phone daily cap and a shared send
// rate.
//
// The outbox is the database: a campaign writes one row per phone before
// any task exists; a send task names its row by id and claims it in one
// statement (queued → sending), so a task delivered twice, two workers, or
// a Redis that lost every task never send a message twice or leave one
// behind (the reconciler re-queues what waits too long, and resolves a row
// left sending by asking the provider).
package outreach

import (
	"time"

	"github.com/uptrace/bun"
)

// Channels.
const (
	ChannelSMS   = "sms"
	ChannelVoice = "voice"
	// ChannelWeCom posts a notice to the community's WeCom group robot.
	ChannelWeCom = "wecom"
)

// Campaign states.
const (
	CampaignDraft     = "draft"
	CampaignScheduled = "scheduled"
	CampaignRunning   = "running"
	CampaignPaused    = "paused"
	CampaignCancelled = "cancelled"
	CampaignFinished  = "finished"
)

// Campaign kinds. A system campaign (notices, alerts) is made by the first
// Notify of its community and channel, is always running, and is never
// listed, paused or finished.
const (
	KindCampaign = "campaign"
	KindNotices  = "notices"
	KindAlerts   = "alerts"
)

// PauseProviderCredentials: the campaign was paused because the provider
// refused our credentials. Its messages not yet sent stay queued, and
// resume sends them once the operator has fixed the credentials.
const PauseProviderCredentials = "provider_credentials"

// Message states. A message is in exactly one, so a campaign's figures add
// up to its total.
const (
	StatusQueued          = "queued"
	StatusHeldQuietHours  = "held_quiet_hours"
	StatusSending         = "sending"
	StatusSent            = "sent"
	StatusDelivered       = "delivered"
	StatusFailed          = "failed"
	StatusUnknown         = "unknown" // left sending by a crash, and the provider could not say: for staff to check
	StatusSkippedOptOut   = "skipped_opt_out"
	StatusSkippedDailyCap = "skipped_daily_cap"
	StatusCancelled       = "cancelled"
)

// Statuses lists the message states in the order the figures show them.
var Statuses = []string{StatusQueued, StatusHeldQuietHours, StatusSending, StatusSent, StatusDelivered, StatusFailed,
	StatusUnknown, StatusSkippedOptOut, StatusSkippedDailyCap, StatusCancelled}

// Template is a message text with fields, bound to the provider's approved
// template.
type Template struct {
	bun.BaseModel    `bun:"table:outreach_templates,alias:tp"`
	TenantID         string    `bun:"tenant_id,pk" json:"-"`
	ID               string    `bun:"id,pk" json:"id"`
	Name             string    `bun:"name" json:"name"`
	Channel          string    `bun:"channel" json:"channel"`
	Body             string    `bun:"body" json:"body"`
	ProviderTemplate string    `bun:"provider_template" json:"provider_template"`
	SignName         string    `bun:"sign_name" json:"sign_name"`
	CreatedBy        string    `bun:"created_by" json:"-"`
	CreatedAt        time.Time `bun:"created_at" json:"created_at"`
}

// Audience says who a campaign goes to. No field set: nobody (a 422);
// All: every household and resident with a phone.
type Audience struct {
	All   bool     `json:"all"`
	Grids []string `json:"grids"`
	Tags  []string `json:"tags"`
	// Isolation "active": residents under active isolation (see
	// IsolationAudience).
	Isolation string `json:"isolation,omitempty"`
}

// Campaign is one message to many residents.
type Campaign struct {
	bun.BaseModel    `bun:"table:outreach_campaigns,alias:c"`
	TenantID         string     `bun:"tenant_id,pk"`
	ID               string     `bun:"id,pk"`
	Name             string     `bun:"name"`
	Channel          string     `bun:"channel"`
	Format           string     `bun:"format"` // a WeCom notice's: text or markdown
	TemplateID       *string    `bun:"template_id"`
	Body             string     `bun:"body"`
	ProviderTemplate string     `bun:"provider_template"`
	SignName         string     `bun:"sign_name"`
	Audience         Audience   `bun:"audience,type:json"`
	SendAt           *time.Time `bun:"send_at"`
	Urgent           bool       `bun:"urgent"`
	// Kind: a campaign staff made (KindCampaign), or the system campaign
	// that carries a community's notices (KindNotices) or alerts
	// (KindAlerts) on one channel (see Notify).
	Kind   string `bun:"kind"`
	Status string `bun:"status"`
	// PauseReason says why the system paused the campaign
	// (PauseProviderCredentials); empty when staff paused it.
	PauseReason string     `bun:"pause_reason"`
	Total       int        `bun:"total"`
	CreatedBy   string     `bun:"created_by"`
	CreatedAt   time.Time  `bun:"created_at"`
	UpdatedAt   time.Time  `bun:"updated_at"`
	StartedAt   *time.Time `bun:"started_at"`
	FinishedAt  *time.Time `bun:"finished_at"`
}

// Message is one row of the outbox.
type Message struct {
	bun.BaseModel `bun:"table:outreach_messages,alias:m"`
	TenantID      string            `bun:"tenant_id,pk"`
	ID            string            `bun:"id,pk"`
	CampaignID    string            `bun:"campaign_id"`
	Channel       string            `bun:"channel"`
	Phone         string            `bun:"phone"`
	Body          string            `bun:"body"`
	Params        map[string]string `bun:"params,type:json"`
	Status        string            `bun:"status"`
	Attempts      int               `bun:"attempts"`
	MaybeSent     bool              `bun:"maybe_sent"`
	Provider      string            `bun:"provider"`
	ProviderID    string            `bun:"provider_id"`
	ErrorCode     string            `bun:"error_code"`
	Error         string            `bun:"error"`
	DueAt         time.Time         `bun:"due_at"`
	SendingAt     *time.Time        `bun:"sending_at"`
	SentAt        *time.Time        `bun:"sent_at"`
	SentDate      *string           `bun:"sent_date"`
	DeliveredAt   *time.Time        `bun:"delivered_at"`
	UpdatedAt     time.Time         `bun:"updated_at"`
	// A notice's (Notify): its key, unique in the community; what it is
	// about; its resident; its own provider template. A campaign's
	// messages have none.
	NoticeKey        *string `bun:"notice_key"`
	Subject          string  `bun:"subject"`
	ResidentID       *string `bun:"resident_id"`
	ProviderTemplate string  `bun:"provider_template"`
	// Keypad: a keypad check-in call (Notice.Keypad).
	Keypad bool `bun:"keypad"`
}

// OptOut is a phone that asked for no more messages from the community.
type OptOut struct {
	bun.BaseModel `bun:"table:outreach_opt_outs,alias:o"`
	TenantID      string    `bun:"tenant_id,pk" json:"-"`
	ID            string    `bun:"id,pk" json:"id"`
	Phone         string    `bun:"phone" json:"phone"`
	Source        string    `bun:"source" json:"source"`
	CreatedBy     string    `bun:"created_by" json:"-"`
	CreatedAt     time.Time `bun:"created_at" json:"created_at"`
}

// Reply is a resident's message to the community.
type Reply struct {
	bun.BaseModel `bun:"table:outreach_replies,alias:r"`
	TenantID      string    `bun:"tenant_id,pk" json:"-"`
	ID            string    `bun:"id,pk" json:"id"`
	Phone         string    `bun:"phone" json:"phone"`
	Text          string    `bun:"text" json:"text"`
	Kind          string    `bun:"kind" json:"kind"`
	Provider      string    `bun:"provider" json:"-"`
	ProviderID    string    `bun:"provider_id" json:"-"`
	ReceivedAt    time.Time `bun:"received_at" json:"received_at"`
}
