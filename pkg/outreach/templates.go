package outreach

import (
	"context"
	"fmt"
	"strings"
	"text/template/parse"
	"unicode/utf8"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/outreach/smslen"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// The fields a body may use, and the longest value each can take: a body
// is checked against the provider's limit rendered with these, so that no
// resident's message is cut or refused later.
const (
	FieldName       = "Name"
	FieldCommunity  = "Community"
	FieldEndDate    = "EndDate"
	FieldCheckinURL = "CheckinURL"
)

// MergeField is a field a body may use, as forms offer it.
type MergeField struct {
	Name string // as a body writes it: {{.Name}}
	// Isolation: only in messages to residents under isolation.
	Isolation bool
	// Notice: a WeCom group notice may use it (the group has no one
	// resident's name).
	Notice bool
}

// MergeFields are the fields a body may use, in the order forms offer
// them; a field not here is template_unknown_field.
var MergeFields = []MergeField{
	{Name: FieldName},
	{Name: FieldCommunity, Notice: true},
	{Name: FieldEndDate, Isolation: true},
	{Name: FieldCheckinURL, Isolation: true},
}

// Tag is the field as a body writes it.
func (f MergeField) Tag() string { return "{{." + f.Name + "}}" }

// longest values. Names beyond maxName runes are cut when rendered (a
// rare long transliterated name), so the check holds; a check-in link is
// the base URL, "/r/" and a 43-character token.
const (
	maxName      = 12
	maxCommunity = 30
	checkinToken = 43
)

// Provider limits: Aliyun counts every character of 【sign】+body and takes
// up to 500; Twilio and most gateways split at most 10 parts; a call reads
// out at most 500 characters.
const (
	aliyunMaxUnits = 500
	maxParts       = 10
	voiceMaxRunes  = 500
)

// TemplateInput saves a template.
type TemplateInput struct {
	Name             string `json:"name"`
	Channel          string `json:"channel"`
	Body             string `json:"body"`
	ProviderTemplate string `json:"provider_template"`
	SignName         string `json:"sign_name"`
}

// segment is a piece of a parsed body: text, or a field.
type segment struct {
	text  string
	field string
}

// body is a parsed message text.
type body []segment

// parseBody reads {{.Field}} placeholders and nothing else of the template
// language: offices write these, and a loop or a call would be a program,
// not a message.
func parseBody(fe *[]errs.FieldError, field, text string) (body, map[string]bool) {
	used := map[string]bool{}
	trees, err := parse.Parse("body", text, "{{", "}}")
	if err != nil {
		*fe = append(*fe, errs.Field(field, "template_syntax", nil))
		return nil, used
	}
	var out body
	for _, n := range trees["body"].Root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			out = append(out, segment{text: string(n.Text)})
		case *parse.ActionNode:
			name, ok := fieldOf(n)
			if !ok {
				*fe = append(*fe, errs.Field(field, "template_unsupported", map[string]any{"action": n.String()}))
				return nil, used
			}
			if !known(name) {
				*fe = append(*fe, errs.Field(field, "template_unknown_field", map[string]any{"name": "." + name}))
				return nil, used
			}
			used[name] = true
			out = append(out, segment{field: name})
		default:
			*fe = append(*fe, errs.Field(field, "template_unsupported", map[string]any{"action": n.String()}))
			return nil, used
		}
	}
	return out, used
}

func fieldOf(n *parse.ActionNode) (string, bool) {
	if n.Pipe == nil || len(n.Pipe.Decl) > 0 || len(n.Pipe.Cmds) != 1 || len(n.Pipe.Cmds[0].Args) != 1 {
		return "", false
	}
	f, ok := n.Pipe.Cmds[0].Args[0].(*parse.FieldNode)
	if !ok || len(f.Ident) != 1 {
		return "", false
	}
	return f.Ident[0], true
}

func known(name string) bool {
	for _, f := range MergeFields {
		if f.Name == name {
			return true
		}
	}
	return false
}

// render fills the body's fields from values.
func (b body) render(values map[string]string) string {
	var sb strings.Builder
	for _, s := range b {
		if s.field == "" {
			sb.WriteString(s.text)
		} else {
			sb.WriteString(values[s.field])
		}
	}
	return sb.String()
}

// RenderSample renders a message text with the given field values, for a
// preview as staff type. It reads the text as a saved one is read (only
// {{.Field}}, of the fields outreach knows), and a text it cannot render
// is the field error of "body" that saving it would give; a known field
// values has no value for is template_unknown_field, as in a WeCom notice,
// which knows the community alone.
func RenderSample(text string, values map[string]string) (string, *errs.FieldError) {
	var fe []errs.FieldError
	b, _ := parseBody(&fe, "body", text)
	if len(fe) > 0 {
		return "", &fe[0]
	}
	for _, seg := range b {
		if _, ok := values[seg.field]; seg.field != "" && !ok {
			e := errs.Field("body", "template_unknown_field", map[string]any{"name": "." + seg.field})
			return "", &e
		}
	}
	return b.render(values), nil
}

// longest renders b with every field at its longest.
func (s *Service) longest(b body) string {
	return b.render(map[string]string{
		FieldName:       strings.Repeat("名", maxName),
		FieldCommunity:  strings.Repeat("社", maxCommunity),
		FieldEndDate:    "2006-01-02",
		FieldCheckinURL: s.checkinPrefix() + strings.Repeat("x", checkinToken),
	})
}

func (s *Service) checkinPrefix() string {
	base := s.BaseURL
	if base == "" {
		base = "http://localhost:8080"
	}
	return strings.TrimRight(base, "/") + "/r/"
}

// checkLength refuses a body the provider would refuse or cut once
// rendered with the longest values, counting as the provider counts.
func (s *Service) checkLength(fe *[]errs.FieldError, field, channel, sign string, b body) {
	text := s.longest(b)
	if channel == ChannelVoice {
		if n := utf8.RuneCountInString(text); n > voiceMaxRunes {
			*fe = append(*fe, errs.Field(field, "body_too_long", map[string]any{"length": n, "max": voiceMaxRunes}))
		}
		return
	}
	if s.providerName() == "aliyun" {
		if sign == "" {
			sign = s.SignName
		}
		if l := smslen.Measure(text, sign, smslen.Aliyun); l.Units > aliyunMaxUnits {
			*fe = append(*fe, errs.Field(field, "body_too_long", map[string]any{"length": l.Units, "max": aliyunMaxUnits}))
		}
		return
	}
	if l := smslen.Measure(text, "", smslen.GSM); l.Parts > maxParts {
		*fe = append(*fe, errs.Field(field, "sms_too_many_parts", map[string]any{"parts": l.Parts, "max": maxParts}))
	}
}

// checkText validates what a template and an inline campaign body share.
func (s *Service) checkText(fe *[]errs.FieldError, channel, text, providerTemplate, sign string) body {
	if strings.TrimSpace(text) == "" {
		*fe = append(*fe, errs.Field("body", "required", nil))
		return nil
	}
	b, _ := parseBody(fe, "body", text)
	if b == nil {
		return nil
	}
	if channel == ChannelSMS || channel == ChannelVoice {
		s.checkLength(fe, "body", channel, sign, b)
	}
	// Aliyun sends only approved templates: the code is what it sends.
	if s.providerName() == "aliyun" && providerTemplate == "" {
		*fe = append(*fe, errs.Field("provider_template", "required", nil))
	}
	return b
}

// checkChannel checks a channel; a campaign may also be a WeCom notice
// (wecom), a template may not.
func checkChannel(fe *[]errs.FieldError, v string, campaign bool) {
	switch {
	case v == ChannelSMS || v == ChannelVoice || (campaign && v == ChannelWeCom):
	case v == "":
		*fe = append(*fe, errs.Field("channel", "required", nil))
	case campaign:
		*fe = append(*fe, errs.Field("channel", "one_of", map[string]any{"allowed": "sms, voice, wecom"}))
	default:
		*fe = append(*fe, errs.Field("channel", "one_of", map[string]any{"allowed": "sms, voice"}))
	}
}

func checkName(fe *[]errs.FieldError, v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		*fe = append(*fe, errs.Field("name", "required", nil))
	} else if utf8.RuneCountInString(v) > 100 {
		*fe = append(*fe, errs.Field("name", "too_long", map[string]any{"max": 100}))
	}
	return v
}

// CreateTemplate saves a template after checking its fields and its
// rendered length.
func (s *Service) CreateTemplate(ctx context.Context, in TemplateInput) (*Template, error) {
	var fe []errs.FieldError
	name := checkName(&fe, in.Name)
	checkChannel(&fe, in.Channel, false)
	s.checkText(&fe, in.Channel, in.Body, strings.TrimSpace(in.ProviderTemplate), strings.TrimSpace(in.SignName))
	if len(in.ProviderTemplate) > 100 {
		fe = append(fe, errs.Field("provider_template", "too_long", map[string]any{"max": 100}))
	}
	// Aliyun's sign names are at most 20 characters (Chinese ones too):
	// count characters, as the message does.
	if utf8.RuneCountInString(strings.TrimSpace(in.SignName)) > 20 {
		fe = append(fe, errs.Field("sign_name", "too_long", map[string]any{"max": 20}))
	}
	if len(fe) > 0 {
		return nil, errs.Validation(fe...)
	}
	return scope.Once(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, _ *scope.Grids) (*Template, error) {
		t := &Template{TenantID: tx.Tenant(), ID: newID(), Name: name, Channel: in.Channel, Body: in.Body,
			ProviderTemplate: strings.TrimSpace(in.ProviderTemplate), SignName: strings.TrimSpace(in.SignName),
			CreatedBy: actor(ctx), CreatedAt: s.now()}
		if _, err := tx.Insert(t).Exec(ctx); err != nil {
			return nil, fmt.Errorf("create template: %w", err)
		}
		if err := audit.Record(ctx, tx, audit.ActionCreate, "outreach_template", t.ID, nil); err != nil {
			return nil, err
		}
		return t, nil
	})
}

// ListTemplates lists templates, newest first.
func (s *Service) ListTemplates(ctx context.Context, f Filter) ([]Template, string, error) {
	p, err := scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, _ *scope.Grids) (store.Page[Template], error) {
		rows := store.PageRows[Template](f.Limit)
		if err := store.KeysetDesc(tx.Select(&rows), "tp.id", f.Cursor, f.Limit).Scan(ctx); err != nil {
			return store.Page[Template]{}, fmt.Errorf("list templates: %w", err)
		}
		return store.NextPage(rows, f.Limit, func(t *Template) string { return t.ID }), nil
	})
	return p.Items, p.Next, err
}

// Parts is how many SMS parts the provider bills body as: Aliyun counts
// its 【sign】 too (sign, or the service's default sign when it is
// empty), the others the body alone. The console's preview shows it as
// staff type, so its count is the one the campaign is billed by.
func (s *Service) Parts(body, sign string) int {
	if s.providerName() == "aliyun" {
		if sign == "" {
			sign = s.SignName
		}
		return smslen.Parts(body, sign, smslen.Aliyun)
	}
	return smslen.Parts(body, "", smslen.GSM)
}
