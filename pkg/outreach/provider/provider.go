// Package provider sends outreach messages (SMS and voice calls) to residents
// through one of several providers behind one small interface, and reads what
// the providers call back with.
//
// The outreach worker owns the outbox (a row per message, then a task); this
// package owns the conversation with a provider. A worker:
//
//  1. records the message as sending, with the time (Sent.At), then calls
//     Send. The message ID travels as the provider's own out-id where the
//     provider has one, so receipts and queries can find it by our ID;
//  2. on success records Sent.ProviderID;
//  3. on an error: IsPermanent ends the message failed, with the *Error's
//     Code and Reason (bad number, opted out, template rejected: a retry would
//     fail the same way). Anything else is retried with backoff, no sooner
//     than RetryAfter. When MaybeSent is true the provider may have taken the
//     message before the error (a timeout after the request went out): the
//     worker queries before sending again, since none of these providers
//     deduplicates a resend for us;
//  4. after a crash, asks Query what became of a message left sending. Query
//     answers ErrCannotQuery where the provider offers no way to ask, and
//     StateNotFound where the provider says for certain that it never got
//     the message (the worker then sends it again);
//  5. takes delivery receipts and replies from the provider's callbacks
//     (Callbacks), which verify the provider's signature first.
//
// Personal data stays out of logs and errors: every error's text and every
// log line has phone numbers masked (pii.MaskPhone) and no secret, and
// message bodies are never logged. Receipts and replies carry numbers in
// full: they are data for the outbox, not text for a log.
package provider

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
)

// Channel is how a message reaches a resident.
type Channel string

// The channels.
const (
	ChannelSMS   Channel = "sms"
	ChannelVoice Channel = "voice"
)

// Message is one message to one resident, as the outbox holds it.
type Message struct {
	// ID is our message ID (a UUIDv7). It is sent as the provider's out-id
	// or idempotency field where the provider has one, so that receipts and
	// queries can name it.
	ID      string
	Channel Channel
	// Phone is a normalised mainland number (pii.NormalizePhone): 11 digits
	// for a mobile, area-subscriber[-extension] for a landline. SMS goes to
	// mobiles only.
	Phone string
	// Body is the rendered text, what the outbox records. Twilio and the
	// webhook send it as is (Twilio reads it aloud for a call); Aliyun sends
	// TemplateCode and Params instead, and renders the same text itself.
	Body string
	// TemplateCode is Aliyun's SMS TemplateCode, or its TtsCode for a call.
	TemplateCode string
	// SignName is Aliyun's SMS sign name; empty takes the configured default.
	SignName string
	// Params fill the template (Aliyun's TemplateParam or TtsParam).
	Params map[string]string
	// Keypad makes a voice message a keypad check-in call: the provider
	// reads Body (Aliyun: plays TemplateCode, or its configured keypad
	// prompt) and gathers the keys the resident presses, then calls back
	// with them (KeypadCallbacks). Only for ChannelVoice.
	Keypad bool
}

// Sent is what a provider said when it took a message.
type Sent struct {
	// ProviderID is the provider's own ID for the message (Aliyun's BizId or
	// CallId, Twilio's SID).
	ProviderID string
	// At is when the worker asked the provider to send. Send sets it; a
	// worker recovering a message it never got an answer for passes the time
	// it recorded before sending, because some providers search by day.
	At time.Time
}

// State is what became of a message at the provider.
type State string

// The states. A message is final when delivered or failed.
const (
	// StateDelivered: the handset took the SMS, or the call was answered.
	StateDelivered State = "delivered"
	// StateFailed: the provider or the carrier gave up on it (Status.Code
	// and Status.Reason say why).
	StateFailed State = "failed"
	// StateSent: the provider took it and has no final answer yet.
	StateSent State = "sent"
	// StateUnknown: the provider has no record of it (yet): it may never
	// have arrived, or the record may not be searchable for a while.
	StateUnknown State = "unknown"
	// StateNotFound: the provider says, with authority and at once, that
	// it never received the message, so sending it again cannot make a
	// second copy. Only a provider that keeps every message by our ID from
	// the moment it takes it may answer this (the webhook gateway's status
	// query); one whose records lag behind its sends (Aliyun, Twilio)
	// answers StateUnknown instead.
	StateNotFound State = "not_found"
)

// Final reports whether s will not change any more.
func (s State) Final() bool { return s == StateDelivered || s == StateFailed }

// Status is a message's state at the provider.
type Status struct {
	State State
	// Code and Reason are the provider's (or carrier's) code and words for
	// the state, mostly for failures: "isv.MOBILE_NUMBER_ILLEGAL",
	// "30003 Unreachable destination handset".
	Code   string
	Reason string
	// At is when the provider says the state was reached; zero if it did
	// not say.
	At time.Time
}

// Receipt is a delivery report from a provider's callback.
type Receipt struct {
	// MessageID is our message ID when the provider echoes it (Aliyun's
	// out_id for SMS, our mid parameter on Twilio's callback URL, the
	// webhook's id); empty otherwise, and the worker matches ProviderID.
	MessageID  string
	ProviderID string
	Channel    Channel
	Status     Status
}

// Inbound is a resident's reply.
type Inbound struct {
	// From is the sender, normalised (pii.NormalizePhone) when it is a
	// mainland number, as the provider gave it otherwise.
	From string
	Text string
	// At is when the provider received it; zero if it did not say.
	At time.Time
	// ProviderID lets the worker drop a reply the provider pushes twice.
	ProviderID string
}

// Provider sends messages. Implementations are safe for concurrent use.
type Provider interface {
	// Name is the provider's configuration name: "log", "aliyun", "twilio",
	// "webhook".
	Name() string
	// Send hands m to the provider. Errors are *Error where the provider
	// answered, or carry the context's error.
	Send(ctx context.Context, m Message) (Sent, error)
	// Query asks the provider what became of m, sent as sent (ProviderID
	// may be empty when the worker crashed before recording it). It answers
	// ErrCannotQuery where the provider offers no way to ask.
	Query(ctx context.Context, m Message, sent Sent) (Status, error)
}

// Callbacks is implemented by providers that call back with delivery
// receipts and replies. Each method verifies the request first: a forged or
// unsigned request is ErrBadSignature (the hook answers 401), a request that
// does not parse is another error (400). After storing what it got, the hook
// answers with Ack, in the form the provider expects; a hook that could not
// store it answers 5xx, and the provider pushes it again later.
type Callbacks interface {
	Receipts(r *http.Request) ([]Receipt, error)
	Inbound(r *http.Request) ([]Inbound, error)
	Ack(w http.ResponseWriter)
}

var (
	// ErrCannotQuery: the provider offers no way to ask about this message
	// (no query API, or not without the ID it never gave us).
	ErrCannotQuery = errors.New("provider: cannot query this message")
	// ErrBadSignature: a callback's signature is missing, wrong or stale.
	ErrBadSignature = errors.New("provider: bad callback signature")
)

// Error is a provider's refusal, or a failure to reach it.
type Error struct {
	// Permanent: sending the same message again would fail the same way
	// (bad number, blocked, opted out, template or content rejected). The
	// message ends failed with Code and Reason.
	Permanent bool
	// MaybeSent: the provider may have taken the message before the failure
	// (a timeout after the request went out, a 5xx from a gateway). Query
	// before sending again. Never set with Permanent.
	MaybeSent bool
	// Credentials: the provider refused our credentials (a wrong key or
	// secret, a key disabled or deleted, a request signed with the wrong
	// secret), so no message can go until the operator fixes the
	// deployment. Not Permanent for the message: it is sent once they are
	// fixed. The worker pauses the campaign and raises the alarm.
	Credentials bool
	// Code is the provider's error code ("isv.MOBILE_NUMBER_ILLEGAL",
	// "21211", "http_503") or one of ours ("network", "not_mobile").
	Code string
	// Reason is the provider's words, without secrets and with phone numbers
	// masked, fit to store on the message and show an office.
	Reason string
	// RetryAfter is the provider's hint for throttling; zero when it gave
	// none.
	RetryAfter time.Duration
	// Err is the underlying error, for errors.Is and errors.As
	// (context.DeadlineExceeded, twilio-go's error). Error does not print
	// it: it is the provider's raw text, with the number unmasked.
	Err error
}

// Error is for logs: code and reason.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("provider: ")
	if e.Permanent {
		b.WriteString("permanent: ")
	}
	b.WriteString(e.Code)
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
	return b.String()
}

// Unwrap exposes the cause.
func (e *Error) Unwrap() error { return e.Err }

// IsPermanent reports whether err says that the message can never be sent as
// it is. Anything that is not a permanent *Error (a transient one, a context
// error, an error we did not foresee) is worth retrying.
func IsPermanent(err error) bool {
	var pe *Error
	return errors.As(err, &pe) && pe.Permanent
}

// IsCredentials reports whether err says that the provider refused our
// credentials: nothing will go until the operator fixes them.
func IsCredentials(err error) bool {
	var pe *Error
	return errors.As(err, &pe) && pe.Credentials
}

// MaybeSent reports whether the provider may have taken the message despite
// err, so that the worker queries before sending it again.
func MaybeSent(err error) bool {
	var pe *Error
	return errors.As(err, &pe) && pe.MaybeSent
}

// RetryAfter is the provider's throttling hint in err, or zero.
func RetryAfter(err error) time.Duration {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.RetryAfter
	}
	return 0
}

func permanent(code, reason string) *Error {
	return &Error{Permanent: true, Code: code, Reason: reason}
}

func transient(code, reason string) *Error {
	return &Error{Code: code, Reason: reason}
}
