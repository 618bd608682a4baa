package outreach

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/pii"
	"github.com/wanjia/wanjia/pkg/scope"
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
	Channel string // ChannelSMS (empty: SMS) or ChannelVoice (read aloud)
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
	// Keypad (voice only) makes the call a keypad check-in: the provider
	// reads Text and gathers the resident's keys, which come back through
	// the voice hooks to the KeypadHandler.
	Keypad bool
	// DueAt (optional) holds the notice until then (a call tried again
	// later in the day); zero is now. It is queued by the reconciler once
	// due, and obeys the rules as any notice does when it goes.
	DueAt time.Time
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

// maxNoticeKey bounds a notice's key ("alert:<uuid>:<phone>" is ~60).
const maxNoticeKey = 200

// systemCampaignID names the system campaign that carries a community's
// notices (or alerts) on channel: the same id in every community (the key
// is the community's and the id), so Notify needs no lookup to find it.
func systemCampaignID(channel string, urgent bool) string {
	if urgent {
		return "system-" + KindAlerts + "-" + channel
	}
	return "system-" + KindNotices + "-" + channel
}

// Notify writes the notices to the outbox in tx, the caller's
// transaction, and reports how many it wrote: a notice whose key the
// community already has (written earlier, or twice in n) is skipped, not
// an error, so a scheduler that runs twice, or two at once, sends one
// message. The rows commit or roll back with the caller's work. Nothing is
// queued before that commit: call NotifyTasks after it; rows it could not
// queue are found by the reconciler (an alert within 5 s of its run every
// 15 s, a resident's notice once it has waited a minute with its task
// missing). A notice that cannot be sent (no key, no text, a phone that is
// no phone, a channel notices do not take) is a validation error, and
// nothing of n is written.
func (s *Service) Notify(ctx context.Context, tx *store.TenantTx, n ...Notice) (queued int, err error) {
	if len(n) == 0 {
		return 0, nil
	}
	now := s.now()
	rows := make([]Message, 0, len(n))
	seen := make(map[string]bool, len(n))
	systems := map[string]*Campaign{}
	var fe []errs.FieldError
	for i, nt := range n {
		field := "notices[" + strconv.Itoa(i) + "]."
		if nt.Channel == "" {
			nt.Channel = ChannelSMS
		}
		phone, perr := pii.NormalizePhone(nt.Phone)
		switch {
		case nt.Key == "" || utf8.RuneCountInString(nt.Key) > maxNoticeKey:
			fe = append(fe, errs.Field(field+"key", "required", nil))
		case nt.Channel != ChannelSMS && nt.Channel != ChannelVoice:
			fe = append(fe, errs.Field(field+"channel", "one_of", map[string]any{"allowed": ChannelSMS + ", " + ChannelVoice}))
		case nt.Keypad && nt.Channel != ChannelVoice:
			fe = append(fe, errs.Field(field+"channel", "one_of", map[string]any{"allowed": ChannelVoice}))
		case perr != nil:
			fe = append(fe, errs.Field(field+"phone", "phone_format", nil))
		case nt.Text == "":
			fe = append(fe, errs.Field(field+"text", "required", nil))
		}
		if len(fe) > 0 || seen[nt.Key] {
			continue
		}
		seen[nt.Key] = true
		cid := systemCampaignID(nt.Channel, nt.Urgent)
		if systems[cid] == nil {
			kind := KindNotices
			if nt.Urgent {
				kind = KindAlerts
			}
			systems[cid] = &Campaign{TenantID: tx.Tenant(), ID: cid, Name: kind, Channel: nt.Channel, Kind: kind,
				Urgent: nt.Urgent, Status: CampaignRunning, CreatedBy: "system", CreatedAt: now, UpdatedAt: now, StartedAt: &now}
		}
		params := nt.Params
		if params == nil {
			params = map[string]string{}
		}
		key := nt.Key
		due := now
		if nt.DueAt.After(now) {
			due = nt.DueAt.UTC()
		}
		m := Message{TenantID: tx.Tenant(), ID: newID(), CampaignID: cid, Channel: nt.Channel, Phone: phone, Body: nt.Text,
			Params: params, Status: StatusQueued, DueAt: due, UpdatedAt: now, NoticeKey: &key, Subject: nt.Subject,
			ProviderTemplate: nt.Template, Keypad: nt.Keypad}
		if nt.ResidentID != "" {
			rid := nt.ResidentID
			m.ResidentID = &rid
		}
		rows = append(rows, m)
	}
	if len(fe) > 0 {
		return 0, errs.Validation(fe...)
	}
	due := make(map[string]bool, len(rows))
	for _, m := range rows {
		due[m.ID] = !m.DueAt.After(now)
	}
	for _, c := range systems {
		// Made by the community's first notice, in the caller's
		// transaction; afterwards a no-op that takes no lock.
		if _, err := tx.Insert(c).On("CONFLICT (tenant_id, id) DO NOTHING").Exec(ctx); err != nil {
			return 0, fmt.Errorf("notify: system campaign: %w", err)
		}
	}
	var written []struct {
		ID         string `bun:"id"`
		CampaignID string `bun:"campaign_id"`
	}
	// A key already written, even by a transaction committing at this
	// moment, is skipped. The arbiter is the key's partial unique index on
	// SQLite; on PostgreSQL (the outbox partitioned by id, which no such
	// index could span) it is outreach_notice_keys, where the keys are
	// claimed first, all in one statement, and only the rows whose keys
	// were claimed are written (a trigger by row cost the morning sweep a
	// fifth of its time). The clause names no target: the rows' ids are
	// new, no other key can conflict.
	if s.DB.Flavor() == store.Postgres {
		if rows, err = claimNoticeKeys(ctx, tx, rows); err != nil {
			return 0, err
		}
		if len(rows) == 0 {
			return 0, nil
		}
	}
	err = tx.Insert(&rows).On("CONFLICT DO NOTHING").
		Returning("id, campaign_id").Scan(ctx, &written)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("notify: %w", err)
	}
	if p, ok := ctx.Value(pendingKey{}).(*pendingNotices); ok {
		for _, w := range written {
			if !due[w.ID] {
				continue // held for later: the reconciler queues it once due
			}
			p.ids = append(p.ids, noticeRef{id: w.ID, alert: systems[w.CampaignID].Kind == KindAlerts})
		}
	}
	return len(written), nil
}

// claimNoticeKeys writes the notice keys of rows to outreach_notice_keys
// and returns the rows whose keys it wrote, in their order: a key the
// community has already, or that another transaction is writing and then
// commits, is not written again (outreach_claim_notice_keys, migration
// 20261216000003).
func claimNoticeKeys(ctx context.Context, tx *store.TenantTx, rows []Message) ([]Message, error) {
	keys, ids := make([]string, len(rows)), make([]string, len(rows))
	for i, m := range rows {
		keys[i], ids[i] = *m.NoticeKey, m.ID
	}
	var claimed []string
	err := tx.Unscoped().NewRaw("SELECT outreach_claim_notice_keys(?, ?, ?)", tx.Tenant(), pgdialect.Array(keys), pgdialect.Array(ids)).
		Scan(ctx, &claimed)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("notify: notice keys: %w", err)
	}
	won := make(map[string]bool, len(claimed))
	for _, id := range claimed {
		won[id] = true
	}
	return slices.DeleteFunc(rows, func(m Message) bool { return !won[m.ID] }), nil
}

// NotifyTasks queues the send tasks of the notices n (by their keys) once
// the transaction that wrote them has committed; the tenant is ctx's.
// Only those still queued are queued (a key written before and sent long
// ago is not). With no notices it queues every notice and alert of the
// community that is due and waiting. An error leaves the rows to the
// reconciler: nothing is lost, and the caller may log it and go on.
func (s *Service) NotifyTasks(ctx context.Context, n ...Notice) error {
	if s.Queue == nil {
		return nil
	}
	var refs []noticeRef
	now := s.now()
	for from := 0; from < len(n) || (from == 0 && len(n) == 0); from += notifyKeysPerRead {
		var keys []string
		for _, nt := range n[from:min(from+notifyKeysPerRead, len(n))] {
			keys = append(keys, nt.Key)
		}
		var rows []struct {
			ID   string `bun:"id"`
			Kind string `bun:"kind"`
		}
		err := s.DB.InTenantReadTx(ctx, func(ctx context.Context, tx *store.TenantTx) error {
			q := tx.SelectAs("outreach_messages", "m").ColumnExpr("m.id, c.kind").
				Join("JOIN outreach_campaigns AS c ON c.tenant_id = m.tenant_id AND c.id = m.campaign_id").
				Where("m.status = ?", StatusQueued)
			if len(keys) > 0 {
				// A notice held for later (DueAt) is the reconciler's once due.
				q = q.Where("m.notice_key IN (?) AND m.due_at <= ?", bun.List(keys), now)
			} else {
				q = q.Where("m.campaign_id IN (?) AND m.due_at <= ?",
					bun.List([]string{systemCampaignID(ChannelSMS, false), systemCampaignID(ChannelSMS, true),
						systemCampaignID(ChannelVoice, false)}), now).
					Limit(reconcileBatch)
			}
			return q.Scan(ctx, &rows)
		})
		if err != nil {
			return fmt.Errorf("notify tasks: %w", err)
		}
		for _, r := range rows {
			refs = append(refs, noticeRef{id: r.ID, alert: r.Kind == KindAlerts})
		}
		if len(n) == 0 {
			break
		}
	}
	return s.enqueueNotices(ctx, refs)
}

// notifyKeysPerRead bounds the keys NotifyTasks names in one read.
const notifyKeysPerRead = 1000

// enqueueNotices queues the send tasks of notices, alerts first and on
// the critical queue.
func (s *Service) enqueueNotices(ctx context.Context, refs []noticeRef) error {
	sc, ok := scopeTenant(ctx)
	if !ok || len(refs) == 0 {
		return nil
	}
	var alerts, notices []string
	for _, r := range refs {
		if r.alert {
			alerts = append(alerts, r.id)
		} else {
			notices = append(notices, r.id)
		}
	}
	if _, err := s.enqueueAll(ctx, sc, alerts, true); err != nil {
		return fmt.Errorf("notify tasks: %w", err)
	}
	if _, err := s.enqueueAll(ctx, sc, notices, false); err != nil {
		return fmt.Errorf("notify tasks: %w", err)
	}
	return nil
}

// messagesAboutMax bounds a subject's list: a case of three weeks has a
// check-in link a day, its reminders and its alerts.
const messagesAboutMax = 500

// MessagesAbout lists the messages written about subject (a case page's
// messages), newest first, phones as the caller's role may see them; the
// read is recorded.
func (s *Service) MessagesAbout(ctx context.Context, subject string) ([]NoticeView, error) {
	if subject == "" {
		return []NoticeView{}, nil
	}
	out, err := scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, _ *scope.Grids) ([]NoticeView, error) {
		var rows []Message
		if err := tx.Select(&rows).Where("m.subject = ?", subject).OrderExpr("m.id DESC").Limit(messagesAboutMax).Scan(ctx); err != nil {
			return nil, fmt.Errorf("messages about %s: %w", subject, err)
		}
		view := scope.ViewOf(ctx)
		out := make([]NoticeView, 0, len(rows))
		for _, m := range rows {
			v := NoticeView{ID: m.ID, Phone: view.Phone(m.Phone), Text: m.Body, Status: m.Status, Error: m.Error,
				Urgent: m.CampaignID == systemCampaignID(m.Channel, true), SentAt: m.SentAt}
			if m.NoticeKey != nil {
				v.Key = *m.NoticeKey
			}
			if id, err := uuid.Parse(m.ID); err == nil && id.Version() == 7 {
				sec, nsec := id.Time().UnixTime()
				v.CreatedAt = time.Unix(sec, nsec).UTC()
			}
			out = append(out, v)
		}
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(out))
	for i, v := range out {
		ids[i] = v.ID
	}
	if err := scope.RecordRead(ctx, s.Reads, s.DB, scope.Seen{Resource: "outreach_messages", IDs: ids,
		Filters: map[string]any{"subject": subject}}); err != nil {
		return nil, err
	}
	return out, nil
}

// pendingNotices collects the ids of the notices a transaction wrote, for
// whoever runs the transaction to queue after its commit (Inbound, for
// its ReplyHandler's notices).
type pendingNotices struct {
	ids []noticeRef
}

type noticeRef struct {
	id    string
	alert bool
}

func (p *pendingNotices) reset() { p.ids = p.ids[:0] }

type pendingKey struct{}

func withPending(ctx context.Context, p *pendingNotices) context.Context {
	return context.WithValue(ctx, pendingKey{}, p)
}

// queueNotices queues the send tasks of notices just committed; an error
// leaves them to the reconciler.
func (s *Service) queueNotices(ctx context.Context, refs []noticeRef) {
	if err := s.enqueueNotices(ctx, refs); err != nil {
		s.logger().Warn("outreach: notices written but not queued; the reconciler will queue them", "err", err)
	}
}

func scopeTenant(ctx context.Context) (string, bool) {
	sc, ok := scope.From(ctx)
	return sc.TenantID, ok && sc.TenantID != ""
}
