// Package isolation is home isolation and health monitoring (居家隔离/
// 医学观察): cases opened for residents (one at a time, or a whole household
// from a screening follow-up), their daily check-ins of temperature and
// symptoms, the alerts a fever or a missed check-in raises, release at the
// end of the period, and the support isolated residents ask for (隔门不隔心).
// It computes isolation's part of the daily report.
package isolation

import (
	"time"

	"github.com/uptrace/bun"
)

// Kinds of case.
const (
	KindHomeIsolation      = "home_isolation"
	KindMedicalObservation = "medical_observation"
	KindCloseContact       = "close_contact"
	KindSelfMonitoring     = "self_monitoring"
)

// Kinds lists the kinds of case in the order forms offer them.
var Kinds = []string{KindHomeIsolation, KindMedicalObservation, KindCloseContact, KindSelfMonitoring}

// Statuses of a case: active → eligible (the period ended without fever or
// symptoms) → released, or ended early with a reason.
const (
	StatusActive   = "active"
	StatusEligible = "eligible"
	StatusReleased = "released"
	StatusEnded    = "ended"
)

// Diagnoses staff record on a case.
const (
	DiagnosisSuspected = "suspected"
	DiagnosisConfirmed = "confirmed"
	DiagnosisExcluded  = "excluded"
)

// Sources of a check-in.
const (
	SourceStaff = "staff"
	SourceSelf  = "self"
	SourceSMS   = "sms"
	SourceVoice = "voice"
)

// Check-in channels of a case: how its daily reminder goes.
const (
	ChannelSMS   = "sms"
	ChannelVoice = "voice"
)

// Symptoms is the fixed list a check-in's symptoms come from.
var Symptoms = []string{"fever", "cough", "sore_throat", "fatigue", "shortness_of_breath", "diarrhoea", "loss_of_smell_or_taste", "other"}

// Temperatures a check-in may report, in tenths of a degree Celsius, and
// the fever threshold (37.3 °C).
const (
	MinTemperature   = 340
	MaxTemperature   = 430
	FeverTemperature = 373
)

// Alert kinds and statuses.
const (
	AlertFever         = "fever" // 37.3 °C or more, or any symptom
	AlertMissedCheckin = "missed_checkin"

	AlertOpen         = "open"
	AlertAcknowledged = "acknowledged"
	AlertClosed       = "closed"
)

// Support request kinds and statuses.
const (
	SupportThermometer = "thermometer"
	SupportGroceries   = "groceries"
	SupportMedicine    = "medicine"
	SupportDoctor      = "doctor"
	SupportOther       = "other"

	SupportOpen      = "open"
	SupportAssigned  = "assigned"
	SupportDone      = "done"
	SupportCancelled = "cancelled"
)

// SupportKinds lists them in the order forms offer them.
var SupportKinds = []string{SupportThermometer, SupportGroceries, SupportMedicine, SupportDoctor, SupportOther}

// Case is one resident's isolation.
type Case struct {
	bun.BaseModel `bun:"table:isolation_cases,alias:c"`
	TenantID      string `bun:"tenant_id,pk"`
	ID            string `bun:"id,pk"`
	ResidentID    string `bun:"resident_id"`
	HouseholdID   string `bun:"household_id"`
	Kind          string `bun:"kind"`
	StartDate     string `bun:"start_date"`
	Days          int    `bun:"days"`
	EndDate       string `bun:"end_date"`
	Reason        string `bun:"reason"`
	// CheckinChannel is how the daily reminder reaches the resident:
	// ChannelSMS (the link) or ChannelVoice (a keypad check-in call).
	CheckinChannel string     `bun:"checkin_channel"`
	Status         string     `bun:"status"`
	EndReason      string     `bun:"end_reason"`
	ClosedOn       *string    `bun:"closed_on"`
	ClosedBy       *string    `bun:"closed_by"`
	ClosedAt       *time.Time `bun:"closed_at"`
	Diagnosis      *string    `bun:"diagnosis"`
	DiagnosedOn    *string    `bun:"diagnosed_on"`
	DiagnosedBy    *string    `bun:"diagnosed_by"`
	FollowUpID     *string    `bun:"follow_up_id"`
	LinkHash       *string    `bun:"link_hash"`
	LinkSealed     []byte     `bun:"link_sealed"`
	PurgedOn       *string    `bun:"purged_on"` // the day retention cleared its personal data
	CreatedBy      string     `bun:"created_by"`
	CreatedAt      time.Time  `bun:"created_at"`
	UpdatedAt      time.Time  `bun:"updated_at"`
}

// live reports whether the case is still running (active or eligible).
func (c *Case) live() bool { return c.Status == StatusActive || c.Status == StatusEligible }

// Checkin is one report of temperature and symptoms.
type Checkin struct {
	bun.BaseModel `bun:"table:isolation_checkins,alias:k"`
	TenantID      string   `bun:"tenant_id,pk"`
	ID            string   `bun:"id,pk"`
	CaseID        string   `bun:"case_id"`
	Temperature   int      `bun:"temperature"`
	Symptoms      []string `bun:"symptoms"`
	Source        string   `bun:"source"`
	Counts        bool     `bun:"counts"`
	ReplyID       *string  `bun:"reply_id"`
	// CallID is the provider's id of the keypad call that brought the
	// check-in (source voice), unique in the community.
	CallID    *string   `bun:"call_id"`
	ByUser    string    `bun:"by_user"`
	ByName    string    `bun:"by_name"`
	At        time.Time `bun:"at"`
	LocalDate string    `bun:"local_date"`
}

// Alert is a fever or a missed check-in for staff to act on.
type Alert struct {
	bun.BaseModel  `bun:"table:isolation_alerts,alias:al"`
	TenantID       string     `bun:"tenant_id,pk"`
	ID             string     `bun:"id,pk"`
	CaseID         string     `bun:"case_id"`
	Kind           string     `bun:"kind"`
	LocalDate      string     `bun:"local_date"`
	CheckinID      *string    `bun:"checkin_id"`
	Temperature    *int       `bun:"temperature"`
	Symptoms       []string   `bun:"symptoms"`
	Status         string     `bun:"status"`
	AcknowledgedBy *string    `bun:"acknowledged_by"`
	AcknowledgedAt *time.Time `bun:"acknowledged_at"`
	ClosedBy       *string    `bun:"closed_by"`
	ClosedAt       *time.Time `bun:"closed_at"`
	CreatedAt      time.Time  `bun:"created_at"`
}

// SupportRequest is a resident's request for help.
type SupportRequest struct {
	bun.BaseModel `bun:"table:support_requests,alias:sr"`
	TenantID      string    `bun:"tenant_id,pk"`
	ID            string    `bun:"id,pk"`
	ResidentID    string    `bun:"resident_id"`
	HouseholdID   string    `bun:"household_id"`
	CaseID        *string   `bun:"case_id"`
	Kind          string    `bun:"kind"`
	Details       string    `bun:"details"`
	Status        string    `bun:"status"`
	AssigneeID    *string   `bun:"assignee_id"`
	AssigneeName  string    `bun:"assignee_name"`
	DueAt         time.Time `bun:"due_at"`
	DueLocal      string    `bun:"due_local"`
	LocalDate     string    `bun:"local_date"`
	ClosedOn      *string   `bun:"closed_on"`
	CreatedBy     string    `bun:"created_by"`
	CreatedAt     time.Time `bun:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at"`
}
