package outreach

import (
	"context"
	"errors"
	"fmt"

	"github.com/gin-gonic/gin"
	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/outreach/provider"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/web"
)

// Keypad check-in calls: a notice with Keypad goes out as any voice
// notice does (the outbox, quiet hours, the voice cap, the rate), and the
// provider calls back on the voice hooks with the keys pressed and with
// the call's end. Outreach finds the outbox row the callback is about and
// hands the event, in the row's community and one transaction, to the
// KeypadHandler (isolation), which turns keys into a check-in.

// KeypadTries is how many times one call asks for the keys when an
// answer is no check-in (the first prompt and one more), where the
// provider can ask again in the call (Twilio, the webhook gateway).
const KeypadTries = 2

// Outcomes a KeypadHandler reports.
const (
	KeypadStored    = "stored"    // a check-in was stored
	KeypadDuplicate = "duplicate" // this call's check-in was stored before
	KeypadInvalid   = "invalid"   // the keys are no check-in
	KeypadIgnored   = "ignored"   // nothing to do (no such call, the case closed, not a check-in call)
	KeypadEnded     = "ended"     // the call's end, noted
)

// KeypadEvent is what a keypad call brought back, about one outbox row.
type KeypadEvent struct {
	MessageID string
	// CallID is the provider's call ID (the row's provider_id when the
	// callback did not say): a check-in is stored once per call ID.
	CallID    string
	NoticeKey string
	Subject   string
	Phone     string
	// Gathered: keys came (Digits, maybe empty: none pressed).
	Gathered bool
	Digits   string
	// Ended: the call is over; Answered says whether someone took it.
	Ended    bool
	Answered bool
}

// KeypadHandler takes keypad call events in tx, the call's community, as
// ReplyHandler does replies: what it stores commits with nothing else,
// and it may call Notify in tx (an alert, a call again later), queued
// after the commit.
type KeypadHandler interface {
	HandleKeypad(ctx context.Context, tx *store.TenantTx, e KeypadEvent) (string, error)
}

// VoiceHookRoutes mounts the keypad calls' callbacks, under
// /hooks/voice/{provider}: gather (the keys) and status (the call's
// receipts). As the SMS hooks, they carry no user: the provider's
// signature is the only credential.
func (s *Service) VoiceHookRoutes(r gin.IRouter) {
	r.POST("/hooks/voice/:provider/gather", s.keysHook)
	r.POST("/hooks/voice/:provider/status", s.hook(func(c *gin.Context, cb provider.Callbacks) error {
		rs, err := cb.Receipts(c.Request)
		if err != nil {
			return err
		}
		for _, rc := range rs {
			if err := s.Receipt(c.Request.Context(), rc); err != nil {
				return err
			}
			if rc.Status.State.Final() {
				if _, err := s.keypadEvent(c.Request.Context(), rc.MessageID, rc.ProviderID, func(e *KeypadEvent) {
					e.Ended, e.Answered = true, rc.Status.State == provider.StateDelivered
				}); err != nil {
					return storeError{err}
				}
			}
		}
		return nil
	}))
}

// keysHook is the gather callback: each answer is handed on, and the
// provider is told what to say and whether to ask again.
func (s *Service) keysHook(c *gin.Context) {
	name := c.Param("provider")
	kc, ok := s.Provider.(provider.KeypadCallbacks)
	if !ok || s.Provider.Name() != name {
		s.logger().Warn("voice hook refused: not this deployment's provider", "provider", name, "remote", c.ClientIP())
		web.Fail(c, errs.New(errs.KindUnauthenticated, "unauthenticated", nil))
		return
	}
	ks, err := kc.Keys(c.Request)
	if errors.Is(err, provider.ErrBadSignature) {
		s.logger().Warn("voice hook refused: bad signature", "provider", name, "remote", c.ClientIP())
		web.Fail(c, errs.New(errs.KindUnauthenticated, "unauthenticated", nil))
		return
	}
	if err != nil || len(ks) == 0 {
		web.Fail(c, errs.New(errs.KindBadRequest, "bad_request", nil))
		return
	}
	ctx := c.Request.Context()
	var last provider.Keys
	var answer provider.KeysAnswer
	for _, k := range ks {
		var body string
		outcome, err := s.keypadEvent(ctx, k.MessageID, k.CallID, func(e *KeypadEvent) {
			e.Gathered, e.Digits = true, k.Digits
			if k.CallID != "" {
				e.CallID = k.CallID
			}
		}, &body)
		if err == nil && k.Ended != nil {
			rc := provider.Receipt{MessageID: k.MessageID, ProviderID: k.CallID, Channel: provider.ChannelVoice, Status: *k.Ended}
			if err = s.Receipt(ctx, rc); err == nil && k.Ended.State.Final() {
				_, err = s.keypadEvent(ctx, k.MessageID, k.CallID, func(e *KeypadEvent) {
					e.Ended, e.Answered = true, k.Ended.State == provider.StateDelivered
				})
			}
		}
		if err != nil {
			// Not stored: a 5xx makes the provider call again.
			s.logger().Error("voice hook failed", "provider", name, "err", err)
			web.Fail(c, errs.New(errs.KindUnavailable, "unavailable", nil))
			return
		}
		last, answer = k, provider.KeysAnswer{Outcome: outcome}
		switch outcome {
		case KeypadStored, KeypadDuplicate:
			answer.Say = i18n.T(i18n.ZH, "outreach_keypad_thanks", nil)
		case KeypadInvalid:
			if k.Ended == nil && k.Try < KeypadTries && body != "" {
				answer.Say = i18n.T(i18n.ZH, "outreach_keypad_again", nil)
				answer.Prompt = body
			} else {
				answer.Say = i18n.T(i18n.ZH, "outreach_keypad_invalid", nil)
			}
		}
	}
	kc.KeysAck(c.Writer, last, answer)
}

// keypadEvent finds the keypad call's outbox row (by our message ID, or
// by the provider's call ID) and hands the event, filled by fill, to the
// KeypadHandler in the row's community. A callback about no row of ours,
// or about a message that is no keypad call, is ignored. body, if given,
// receives the row's prompt.
func (s *Service) keypadEvent(ctx context.Context, messageID, callID string, fill func(*KeypadEvent), body ...*string) (string, error) {
	if s.Keypad == nil || messageID == "" && callID == "" {
		return KeypadIgnored, nil
	}
	var rows []struct {
		TenantID   string  `bun:"tenant_id"`
		ID         string  `bun:"id"`
		ProviderID string  `bun:"provider_id"`
		NoticeKey  *string `bun:"notice_key"`
		Subject    string  `bun:"subject"`
		Phone      string  `bun:"phone"`
		Body       string  `bun:"body"`
	}
	err := s.DB.AcrossTenants(ctx, "outreach: find a keypad call's message", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		q := tx.NewSelect().TableExpr("outreach_messages").
			Column("tenant_id", "id", "provider_id", "notice_key", "subject", "phone", "body").Where("keypad")
		if messageID != "" {
			// By primary key, as Receipt does.
			q = q.Where("tenant_id IN (SELECT o.id FROM orgs AS o WHERE o.kind = 'community') AND id = ?", messageID)
		} else {
			q = q.Where("provider_id = ?", callID)
		}
		return q.Limit(2).Scan(ctx, &rows)
	})
	if err != nil {
		return "", fmt.Errorf("find keypad call's message: %w", err)
	}
	if len(rows) != 1 {
		return KeypadIgnored, nil
	}
	m := rows[0]
	if len(body) > 0 && body[0] != nil {
		*body[0] = m.Body
	}
	e := KeypadEvent{MessageID: m.ID, CallID: m.ProviderID, Subject: m.Subject, Phone: m.Phone}
	if m.NoticeKey != nil {
		e.NoticeKey = *m.NoticeKey
	}
	fill(&e)
	if e.CallID == "" {
		e.CallID = m.ID // a gateway that gave no ID of its own
	}
	tctx := scope.With(ctx, scope.Tenant{TenantID: m.TenantID})
	var notices pendingNotices
	var outcome string
	err = s.DB.InTenantTx(withPending(tctx, &notices), func(ctx context.Context, tx *store.TenantTx) error {
		notices.reset()
		var err error
		outcome, err = s.Keypad.HandleKeypad(ctx, tx, e)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("handle keypad call: %w", err)
	}
	s.queueNotices(tctx, notices.ids)
	return outcome, nil
}

func init() {
	i18n.Register(map[string]i18n.Message{
		"outreach_keypad_thanks": {
			ZH: "已收到您的健康打卡，谢谢，再见。",
			EN: "Your check-in is recorded. Thank you, goodbye.",
		},
		"outreach_keypad_again": {
			ZH: "没有听清您的按键，请再试一次。",
			EN: "We did not get your keys. Please try again.",
		},
		"outreach_keypad_invalid": {
			ZH: "未能记录您的打卡，稍后社区会再联系您，再见。",
			EN: "Your check-in could not be recorded; the community will contact you later. Goodbye.",
		},
	})
}
