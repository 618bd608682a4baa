package isolation

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/pii"
	"github.com/wanjia/wanjia/pkg/store"
)

// Keypad check-in by phone call, for residents without a smartphone: a
// case whose check-in channel is voice, or whose resident has no mobile
// number (a landline cannot take the link's SMS), gets a call from the
// reminders step instead of the SMS. The call reads a prompt (zh-CN) and
// asks for 1 (well) or 2 (fever or symptoms), then the temperature as
// digits, # to end; outreach places it through the provider (quiet hours,
// the per-phone voice cap and the rate apply as to any call) and hands
// back the keys (HandleKeypad). The answer becomes the day's check-in
// with source voice, once per provider call id.
//
// A call that ends without a check-in (no answer, busy, keys that are no
// check-in after the call's own second prompt) is placed again
// VoiceRetryAfter later, VoiceRetries times a day at most, never after
// the check-in deadline; after that the deadline's sweep raises the
// missed check-in alert as for anyone else. No community setting says how
// many retries: VoiceRetries is the documented default, and with the
// per-phone voice cap's default of two calls a day it is all the cap
// allows.

// VoiceRetries is how many more calls a day follow a keypad check-in call
// that brought no check-in.
const VoiceRetries = 1

// VoiceRetryAfter is how long after a call without a check-in the next is
// placed.
const VoiceRetryAfter = 30 * time.Minute

// callKeyPrefix starts the notice key of a keypad check-in call:
// "checkin-call:<case>:<date>:<n>", n counting the day's calls from 1.
const callKeyPrefix = "checkin-call:"

func callKey(caseID, day string, n int) string {
	return callKeyPrefix + caseID + ":" + day + ":" + strconv.Itoa(n)
}

// parseCallKey reads a call's key back.
func parseCallKey(key string) (caseID, day string, n int, ok bool) {
	rest, found := strings.CutPrefix(key, callKeyPrefix)
	if !found {
		return "", "", 0, false
	}
	parts := strings.Split(rest, ":")
	if len(parts) != 3 {
		return "", "", 0, false
	}
	n, err := strconv.Atoi(parts[2])
	if err != nil || n < 1 {
		return "", "", 0, false
	}
	return parts[0], parts[1], n, true
}

// wantsCall reports whether a case's reminder is a call: the case chose
// voice, or the resident's number is no mobile.
func wantsCall(channel, phone string) bool {
	if channel == ChannelVoice {
		return true
	}
	p, err := pii.ParsePhone(phone)
	return err == nil && p.Kind != pii.PhoneMobile
}

// callNotice is a keypad check-in call to a case's resident.
func callNotice(caseID, residentID, name, phone, day string, n int, due time.Time) outreach.Notice {
	return outreach.Notice{Key: callKey(caseID, day, n), Channel: outreach.ChannelVoice, Keypad: true, Phone: phone,
		Text:   i18n.T(i18n.ZH, "isolation_voice_checkin_prompt", map[string]any{"name": name}),
		Params: map[string]string{"name": name}, ResidentID: residentID, Subject: subject(caseID), DueAt: due}
}

// ParseKeypad reads the keys of a keypad check-in: 1 (well) or 2 (fever
// or symptoms), then the temperature as three digits in tenths of a
// degree (3 6 5 is 36.5 °C) or as two digits, * and one (3 6 * 5), then
// optionally the # that ended them. The temperature must lie within
// 34.0–43.0 °C, as on every other path. A 2 reports a symptom: fever when
// the temperature is one, "other" otherwise (the keypad cannot say which),
// so that it raises the fever alert as any symptom does. Anything else is
// no check-in (ok false).
func ParseKeypad(digits string) (temperature int, symptoms []string, ok bool) {
	s := strings.TrimSuffix(digits, "#")
	if len(s) < 4 || len(s) > 5 || (s[0] != '1' && s[0] != '2') {
		return 0, nil, false
	}
	k := s[1:]
	switch {
	case len(k) == 3 && digit(k[0]) && digit(k[1]) && digit(k[2]):
		temperature = int(k[0]-'0')*100 + int(k[1]-'0')*10 + int(k[2]-'0')
	case len(k) == 4 && digit(k[0]) && digit(k[1]) && k[2] == '*' && digit(k[3]):
		temperature = int(k[0]-'0')*100 + int(k[1]-'0')*10 + int(k[3]-'0')
	default:
		return 0, nil, false
	}
	if temperature < MinTemperature || temperature > MaxTemperature {
		return 0, nil, false
	}
	symptoms = []string{}
	if s[0] == '2' {
		if temperature >= FeverTemperature {
			symptoms = append(symptoms, "fever")
		} else {
			symptoms = append(symptoms, "other")
		}
	}
	return temperature, symptoms, true
}

// HandleKeypad is outreach's KeypadHandler: keys that read as a check-in
// (ParseKeypad) on a live case become its check-in, source voice, unique
// on the call id; a call that ended without one is placed again later in
// the day (see VoiceRetries). It runs in the call's community's
// transaction.
func (s *Service) HandleKeypad(ctx context.Context, tx *store.TenantTx, e outreach.KeypadEvent) (string, error) {
	caseID, ok := strings.CutPrefix(e.Subject, "isolation:")
	if !ok {
		return outreach.KeypadIgnored, nil
	}
	g, err := s.Frame.Grids(ctx, tx)
	if err != nil {
		return "", err
	}
	var rows []caseRow
	if err := selectCases(tx, g, &rows).Where("c.id = ?", caseID).Limit(1).Scan(ctx); err != nil {
		return "", fmt.Errorf("case of keypad call: %w", err)
	}
	if len(rows) != 1 {
		return outreach.KeypadIgnored, nil
	}
	r := &rows[0]
	if e.Ended {
		return s.callEnded(ctx, tx, r, e)
	}
	if !e.Gathered {
		return outreach.KeypadIgnored, nil
	}
	t, symptoms, ok := ParseKeypad(e.Digits)
	if !ok {
		return outreach.KeypadInvalid, nil
	}
	callID := e.CallID
	// Idempotent on the provider's call id: a provider that calls back
	// twice (a retry after our slow answer, a push sent again) finds the
	// check-in of the first. The unique index backs this up.
	done, err := tx.Select((*Checkin)(nil)).Where("k.call_id = ?", callID).Exists(ctx)
	if err != nil {
		return "", fmt.Errorf("check-in of call: %w", err)
	}
	if done {
		return outreach.KeypadDuplicate, nil
	}
	ctx, err = residentActor(ctx, tx, r.ID)
	if err != nil {
		return "", err
	}
	_, err = s.checkin(ctx, tx, r, &Checkin{Temperature: t, Symptoms: symptoms, Source: SourceVoice, CallID: &callID,
		ByUser: "resident", ByName: r.Name})
	var ee *errs.Error
	if errors.As(err, &ee) && ee.Kind == errs.KindConflict {
		return outreach.KeypadIgnored, nil // the case closed meanwhile
	}
	if err != nil {
		return "", err
	}
	return outreach.KeypadStored, nil
}

// residentActor is ctx with the resident of case caseID as the audit's
// actor, as an SMS reply's check-in has.
func residentActor(ctx context.Context, tx *store.TenantTx, caseID string) (context.Context, error) {
	var org struct {
		Slug string `bun:"slug"`
		Path string `bun:"path"`
	}
	if err := tx.Unscoped().NewSelect().Table("orgs").Column("slug", "path").Where("id = ?", tx.Tenant()).Scan(ctx, &org); err != nil {
		return nil, fmt.Errorf("call's community: %w", err)
	}
	return audit.WithActor(ctx, audit.Actor{UserID: "resident:" + caseID, Username: "resident", Role: "resident",
		Org: org.Slug, OrgPath: org.Path}), nil
}

// callEnded places the day's next call when the call that ended brought
// no check-in, the case is live, the day's calls are not spent and the
// next would still come before the deadline. Otherwise it does nothing:
// the deadline's sweep raises the missed check-in alert.
func (s *Service) callEnded(ctx context.Context, tx *store.TenantTx, r *caseRow, e outreach.KeypadEvent) (string, error) {
	caseID, day, n, ok := parseCallKey(e.NoticeKey)
	if !ok || caseID != r.ID || !r.live() || n > VoiceRetries {
		return outreach.KeypadEnded, nil
	}
	c, err := orgs.CommunityOf(ctx, tx)
	if err != nil {
		return "", err
	}
	now := s.now()
	if day != c.Day(now) {
		return outreach.KeypadEnded, nil // yesterday's call
	}
	onDay, dayArgs := checkinsOn(day)
	done, err := tx.Select((*Checkin)(nil)).Where("k.case_id = ? AND k.counts", r.ID).Where(onDay, dayArgs...).Exists(ctx)
	if err != nil {
		return "", fmt.Errorf("today's check-in: %w", err)
	}
	if done {
		return outreach.KeypadEnded, nil
	}
	deadline, err := time.ParseInLocation("2006-01-02 15:04", day+" "+c.Settings.Deadline(), c.Loc)
	if err != nil {
		return "", fmt.Errorf("checkin deadline: %w", err)
	}
	due := now.Add(VoiceRetryAfter)
	if !due.Before(deadline) {
		return outreach.KeypadEnded, nil
	}
	phone := r.Phone
	if phone == "" {
		phone = e.Phone
	}
	if phone == "" {
		return outreach.KeypadEnded, nil
	}
	return outreach.KeypadEnded, s.notify(ctx, tx, callNotice(r.ID, r.ResidentID, r.Name, phone, day, n+1, due))
}

func init() {
	i18n.Register(map[string]i18n.Message{
		"isolation_voice_checkin_prompt": {
			ZH: "{name}您好，这里是社区健康打卡电话。身体无不适请按1，有发热或其他不适请按2；然后请输入您的体温，例如三、六、五表示36.5度，输入完毕请按井号键。",
			EN: "Hello {name}, this is your community's daily check-in call. Press 1 if you are well, 2 if you have a fever or other symptoms; then key in your temperature, for example 3 6 5 for 36.5 degrees, and press the hash key.",
		},
	})
}
