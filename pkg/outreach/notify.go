package outreach

import (
	"context"
	"errors"
	"time"

	"github.com/wanjia/wanjia/pkg/store"
)

// Notice is one message to one person (a check-in link, a reminder, a
// release notice, an alert to staff), written to the outbox by Notify in
// the caller's transaction and sent through the same claim, rules,
// receipts and reconciler as a campaign's messages.
type Notice struct {
	// Key is unique per community: "checkin:<case>:<date>",
	// "release:<case>", "alert:<id>:<phone>". A key already written is
	// skipped, so a scheduler run twice sends nothing twice.
	Key     string
	Channel string // ChannelSMS (empty: SMS); voice later
	Phone   string // E.164 or as the roster stores it
	Text    string // the rendered text (zh-CN): the caller renders it
	// Urgent: an alert to staff or grid workers. It goes on the critical
	// queue with its own rate bucket, and neither the daily cap, quiet
	// hours nor the opt-out list hold it back. A resident's notice is not
	// urgent: it obeys all three, as a campaign's message does.
	Urgent bool
	// ResidentID (optional) is the resident the message goes to.
	ResidentID string
	// Subject (optional) is what the message is about, e.g.
	// "isolation:<case id>": MessagesAbout lists a subject's messages.
	Subject string
	// Template and Params (optional) are the provider's approved template
	// and its fields, for a provider that sends only templates (Aliyun):
	// Text is then what staff see.
	Template string
	Params   map[string]string
}

// NoticeView is a message of a subject as a case page shows it.
type NoticeView struct {
	ID        string     `json:"id"`
	Key       string     `json:"key"`
	Phone     string     `json:"phone"` // masked for roles that do not need it
	Text      string     `json:"text"`
	Urgent    bool       `json:"urgent"`
	Status    string     `json:"status"`
	Error     string     `json:"error,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	SentAt    *time.Time `json:"sent_at"`
}

var errNotYet = errors.New("outreach: notify not implemented yet")

// Notify writes the notices to the outbox in tx, the caller's
// transaction, and reports how many it wrote: a notice whose key the
// community already has is skipped, not an error. Nothing is queued until
// the caller's commit: call NotifyTasks after it (or let the reconciler
// find the rows, within a minute, 15 s for urgent ones).
func (s *Service) Notify(ctx context.Context, tx *store.TenantTx, n ...Notice) (queued int, err error) {
	return 0, errNotYet
}

// NotifyTasks queues the send tasks of the notices (by their keys) once
// the transaction that wrote them has committed; the tenant is ctx's.
// With no notices it queues every notice of the community still waiting.
// An error leaves the rows to the reconciler: nothing is lost.
func (s *Service) NotifyTasks(ctx context.Context, n ...Notice) error {
	return errNotYet
}

// MessagesAbout lists the messages written about subject (a case page's
// messages), newest first, phones as the caller's role may see them.
func (s *Service) MessagesAbout(ctx context.Context, subject string) ([]NoticeView, error) {
	return nil, errNotYet
}

// pendingNotices collects the ids of the notices a transaction wrote, for
// whoever runs the transaction to queue after its commit (Inbound, for
// its ReplyHandler's notices).
type pendingNotices struct {
	ids []noticeRef
}

type noticeRef struct {
	id     string
	urgent bool
}

func (p *pendingNotices) reset() { p.ids = p.ids[:0] }

type pendingKey struct{}

func withPending(ctx context.Context, p *pendingNotices) context.Context {
	return context.WithValue(ctx, pendingKey{}, p)
}

// queueNotices queues the send tasks of notices just committed; an error
// leaves them to the reconciler.
func (s *Service) queueNotices(ctx context.Context, refs []noticeRef) {}
