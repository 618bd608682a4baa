package isolation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/text/width"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/store"
)

// A resident under isolation may answer the link's SMS with their
// temperature: "36.8", "体温36.8", "36.8 咳嗽". outreach hands every reply
// that is not an opt-out or opt-in word (those come first, in outreach)
// to HandleReply, in the reply's own transaction.

// HandleReply is outreach's ReplyHandler. A reply that reads as a
// check-in (ParseReply) from the phone of exactly one live case of the
// reply's community becomes that case's check-in, source "sms", unique on
// the reply's id; anything else stays a reply for staff (false). It runs
// in the reply's transaction: when it fails, the reply goes with it, and
// the provider's retry is handled afresh rather than dropped.
func (s *Service) HandleReply(ctx context.Context, tx *store.TenantTx, rp outreach.Reply) (bool, error) {
	t, symptoms, ok := ParseReply(rp.Text)
	if !ok || rp.Phone == "" {
		return false, nil
	}
	g, err := s.Frame.Grids(ctx, tx)
	if err != nil {
		return false, err
	}
	var rows []caseRow
	if err := selectCases(tx, g, &rows).Where("c.status IN (?, ?) AND r.phone = ?", StatusActive, StatusEligible, rp.Phone).
		OrderExpr("c.id").Limit(2).Scan(ctx); err != nil {
		return false, fmt.Errorf("case of replying phone: %w", err)
	}
	// None, or a phone two residents under isolation share (a parent
	// using a child's): staff read it and record it for the right one.
	if len(rows) != 1 {
		return false, nil
	}
	r := &rows[0]
	done, err := tx.Select((*Checkin)(nil)).Where("k.reply_id = ?", rp.ID).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("check-in of reply: %w", err)
	}
	if done {
		return true, nil
	}
	var org struct {
		Slug string `bun:"slug"`
		Path string `bun:"path"`
	}
	if err := tx.Unscoped().NewSelect().Table("orgs").Column("slug", "path").Where("id = ?", tx.Tenant()).Scan(ctx, &org); err != nil {
		return false, fmt.Errorf("reply's community: %w", err)
	}
	ctx = audit.WithActor(ctx, audit.Actor{UserID: "resident:" + r.ID, Username: "resident", Role: "resident", Org: org.Slug, OrgPath: org.Path})
	id := rp.ID
	_, err = s.checkin(ctx, tx, r, &Checkin{Temperature: t, Symptoms: symptoms, Source: SourceSMS, ReplyID: &id, ByUser: "resident", ByName: r.Name})
	var e *errs.Error
	if errors.As(err, &e) && e.Kind == errs.KindConflict {
		return false, nil // the case closed meanwhile: staff read the reply
	}
	if err != nil {
		return false, err
	}
	return true, nil
}

// replyWords are the symptom words a reply may carry, Chinese and
// English, lower case; the longest that fits is taken at each point.
var replyWords = func() map[string]string {
	m := map[string]string{}
	for symptom, words := range map[string][]string{
		"fever":               {"发热", "发烧", "fever"},
		"cough":               {"咳嗽", "cough"},
		"sore_throat":         {"咽痛", "喉咙痛", "喉咙疼", "咽喉痛", "嗓子痛", "嗓子疼", "sore throat", "sore_throat"},
		"fatigue":             {"乏力", "fatigue"},
		"shortness_of_breath": {"气促", "气短", "呼吸困难", "shortness of breath", "shortness_of_breath", "breathless"},
		"diarrhoea":           {"腹泻", "拉肚子", "diarrhoea", "diarrhea"},
		"loss_of_smell_or_taste": {"嗅觉减退", "味觉减退", "嗅觉/味觉减退", "嗅觉味觉减退", "嗅觉或味觉减退", "嗅觉和味觉减退",
			"嗅觉丧失", "味觉丧失", "失去嗅觉", "失去味觉", "loss of smell", "loss of taste", "loss of smell or taste", "loss_of_smell_or_taste"},
		"other": {"其他", "其它", "其他不适", "其它不适", "other"},
	} {
		for _, w := range words {
			m[w] = symptom
		}
	}
	return m
}()

// replyWordList is replyWords' keys, longest first.
var replyWordList = func() []string {
	out := make([]string, 0, len(replyWords))
	for w := range replyWords {
		out = append(out, w)
	}
	slices.SortFunc(out, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	return out
}()

// noSymptoms are what may follow a temperature to say all is well; only
// alone, since "无咳嗽" must not read as a cough.
var noSymptoms = map[string]bool{"无": true, "无症状": true, "无不适": true, "正常": true, "none": true, "no": true, "ok": true, "normal": true}

// Prefixes before the number, and units after it.
var (
	replyPrefixes = []string{"体温", "温度", "temperature", "temp"}
	replyUnits    = []string{"摄氏度", "°c", "℃", "度", "°", "c"}
)

// separators may stand between the parts of a reply.
const separators = " \t\r\n,、;/+&和及与"

// ParseReply reads a reply as a check-in: a temperature of 34.0–43.0 °C
// (at most one decimal), optionally after 体温/温度/temp and before
// °C/℃/度, then any symptom words from the fixed list, in Chinese or
// English. Full-width digits, dot and letters count as their ASCII forms.
// It answers the temperature in tenths of a degree and the symptoms in
// the list's order; anything else is no check-in (ok false) and stays a
// reply for staff to read: a text that does not say exactly this is not
// guessed at.
func ParseReply(text string) (temperature int, symptoms []string, ok bool) {
	if len(text) > 200 {
		return 0, nil, false // a check-in is short; a letter is for staff
	}
	s := strings.ToLower(width.Fold.String(text))
	s = strings.TrimRight(strings.TrimSpace(s), "。.!~ ")
	for _, p := range replyPrefixes {
		if rest, cut := strings.CutPrefix(s, p); cut {
			s = strings.TrimLeft(rest, " :=是为")
			break
		}
	}
	// The number: two digits, then optionally a dot and one digit.
	if len(s) < 2 || !digit(s[0]) || !digit(s[1]) {
		return 0, nil, false
	}
	t := int(s[0]-'0')*100 + int(s[1]-'0')*10
	s = s[2:]
	if len(s) >= 2 && s[0] == '.' && digit(s[1]) {
		t += int(s[1] - '0')
		s = s[2:]
	}
	if s != "" && (digit(s[0]) || s[0] == '.') {
		return 0, nil, false // 368, 36.85, 36.8.1
	}
	if t < MinTemperature || t > MaxTemperature {
		return 0, nil, false
	}
	s = strings.TrimLeft(s, " ")
	for _, u := range replyUnits {
		if rest, cut := strings.CutPrefix(s, u); cut && (u != "c" || rest == "" || !letter(rest[0])) {
			s = rest
			break
		}
	}
	symptoms = []string{}
	s = strings.Trim(s, separators)
	if noSymptoms[s] {
		return t, symptoms, true
	}
	for s != "" {
		w := ""
		for _, cand := range replyWordList {
			if strings.HasPrefix(s, cand) && (!letter(cand[len(cand)-1]) || len(s) == len(cand) || !letter(s[len(cand)])) {
				w = cand
				break
			}
		}
		if w == "" {
			return 0, nil, false
		}
		if sy := replyWords[w]; !slices.Contains(symptoms, sy) {
			symptoms = append(symptoms, sy)
		}
		s = strings.TrimLeft(s[len(w):], separators)
	}
	slices.SortFunc(symptoms, func(a, b string) int { return slices.Index(Symptoms, a) - slices.Index(Symptoms, b) })
	return t, symptoms, true
}

func digit(b byte) bool  { return b >= '0' && b <= '9' }
func letter(b byte) bool { return b >= 'a' && b <= 'z' || b == '_' }
