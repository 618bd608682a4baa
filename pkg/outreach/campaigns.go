package outreach

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// CampaignInput creates a campaign: a template, or an inline body.
type CampaignInput struct {
	Name       string     `json:"name"`
	Channel    string     `json:"channel"`
	TemplateID string     `json:"template_id"`
	Body       string     `json:"body"`
	Audience   Audience   `json:"audience"`
	SendAt     *time.Time `json:"send_at"`
	Urgent     bool       `json:"urgent"`
	// Format is a WeCom notice's: text (the default) or markdown.
	Format string `json:"format,omitempty"`
}

// Stats counts a campaign's messages by status; every message is in
// exactly one, so the parts add up to Total.
type Stats struct {
	Total           int `json:"total"`
	Queued          int `json:"queued"`
	HeldQuietHours  int `json:"held_quiet_hours"`
	Sending         int `json:"sending"`
	Sent            int `json:"sent"`
	Delivered       int `json:"delivered"`
	Failed          int `json:"failed"`
	Unknown         int `json:"unknown"`
	SkippedOptOut   int `json:"skipped_opt_out"`
	SkippedDailyCap int `json:"skipped_daily_cap"`
	Cancelled       int `json:"cancelled"`
	// DryRun: the messages went to the log provider, so sent and
	// delivered reached no one (a WeCom notice goes to its robot, never a
	// dry run).
	DryRun bool `json:"dry_run"`
}

func (st *Stats) add(status string, n int) {
	switch status {
	case StatusQueued:
		st.Queued += n
	case StatusHeldQuietHours:
		st.HeldQuietHours += n
	case StatusSending:
		st.Sending += n
	case StatusSent:
		st.Sent += n
	case StatusDelivered:
		st.Delivered += n
	case StatusFailed:
		st.Failed += n
	case StatusUnknown:
		st.Unknown += n
	case StatusSkippedOptOut:
		st.SkippedOptOut += n
	case StatusSkippedDailyCap:
		st.SkippedDailyCap += n
	case StatusCancelled:
		st.Cancelled += n
	}
	st.Total += n
}

// pending is what is still to be sent or resolved.
func (st Stats) pending() int { return st.Queued + st.HeldQuietHours + st.Sending }

// CampaignView is a campaign as the API shows it.
type CampaignView struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Channel    string     `json:"channel"`
	Format     string     `json:"format,omitempty"`
	TemplateID string     `json:"template_id,omitempty"`
	Body       string     `json:"body"`
	Audience   Audience   `json:"audience"`
	SendAt     *time.Time `json:"send_at"`
	Urgent     bool       `json:"urgent"`
	Status     string     `json:"status"`
	// PauseReason is why the system paused the campaign
	// ("provider_credentials"); absent when staff paused it.
	PauseReason  string     `json:"pause_reason,omitempty"`
	AudienceSize int        `json:"audience_size"`
	Stats        Stats      `json:"stats"`
	CreatedAt    time.Time  `json:"created_at"`
	StartedAt    *time.Time `json:"started_at,omitempty"`
	FinishedAt   *time.Time `json:"finished_at,omitempty"`
}

func campaignView(c *Campaign) CampaignView {
	v := CampaignView{ID: c.ID, Name: c.Name, Channel: c.Channel, Format: c.Format, Body: c.Body, Audience: c.Audience, SendAt: c.SendAt,
		Urgent: c.Urgent, Status: c.Status, PauseReason: c.PauseReason, AudienceSize: c.Total, CreatedAt: c.CreatedAt, StartedAt: c.StartedAt, FinishedAt: c.FinishedAt}
	if c.TemplateID != nil {
		v.TemplateID = *c.TemplateID
	}
	if v.Audience.Grids == nil {
		v.Audience.Grids = []string{}
	}
	if v.Audience.Tags == nil {
		v.Audience.Tags = []string{}
	}
	return v
}

// rowBatch keeps one INSERT's parameters well under PostgreSQL's 65,535.
const rowBatch = 2000

// CreateCampaign makes a draft: the audience resolved, deduplicated by
// phone, each message rendered and written to the outbox, all in one
// transaction, so the preview shows exactly what will be sent. Opted-out
// phones are counted at once (and checked again when sending).
func (s *Service) CreateCampaign(ctx context.Context, in CampaignInput) (*CampaignView, error) {
	return scope.Once(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*CampaignView, error) {
		now := s.now()
		c := &Campaign{TenantID: tx.Tenant(), ID: newID(), Kind: KindCampaign, Status: CampaignDraft, Urgent: in.Urgent, CreatedBy: actor(ctx),
			CreatedAt: now, UpdatedAt: now}
		b, used, err := s.prepareCampaign(ctx, tx, g, in, c)
		if err != nil {
			return nil, err
		}
		comm, err := s.community(ctx, tx)
		if err != nil {
			return nil, err
		}
		people, err := s.audience(ctx, tx, c.Audience)
		if err != nil {
			return nil, err
		}
		if c.Channel == ChannelWeCom {
			// One post, to the community's group: no phone, no resident.
			people = []Recipient{{}}
		}
		optedOut, err := s.optedOut(ctx, tx)
		if err != nil {
			return nil, err
		}
		c.Total = len(people)
		if _, err := tx.Insert(c).Exec(ctx); err != nil {
			return nil, fmt.Errorf("create campaign: %w", err)
		}
		for from := 0; from < len(people); from += rowBatch {
			part := people[from:min(from+rowBatch, len(people))]
			rows := make([]Message, len(part))
			for i, p := range part {
				params := paramsFor(p, comm.name, used)
				status := StatusQueued
				if optedOut[p.Phone] {
					status = StatusSkippedOptOut
				}
				rows[i] = Message{TenantID: tx.Tenant(), ID: newID(), CampaignID: c.ID, Channel: c.Channel, Phone: p.Phone, Body: b.render(params),
					Params: params, Status: status, DueAt: now, UpdatedAt: now}
			}
			if err := insertMessages(ctx, tx, rows); err != nil {
				return nil, err
			}
		}
		if err := audit.Record(ctx, tx, audit.ActionCreate, "outreach_campaign", c.ID, map[string]any{"audience": c.Total}); err != nil {
			return nil, err
		}
		v := campaignView(c)
		st, err := s.stats(ctx, tx, c)
		if err != nil {
			return nil, err
		}
		v.Stats = st
		return &v, nil
	})
}

// insertMessages writes a part of a new campaign's outbox: with COPY on
// PostgreSQL (a campaign of 100,000 is created in a second or two, not
// six), with INSERT elsewhere.
func insertMessages(ctx context.Context, tx *store.TenantTx, ms []Message) error {
	if !tx.CanCopy() {
		if _, err := tx.Insert(&ms).Exec(ctx); err != nil {
			return fmt.Errorf("create messages: %w", err)
		}
		return nil
	}
	cols := []string{"tenant_id", "id", "campaign_id", "channel", "phone", "body", "params", "status", "due_at", "updated_at"}
	rows := make([][]any, len(ms))
	for i := range ms {
		m := &ms[i]
		params, err := json.Marshal(m.Params)
		if err != nil {
			return fmt.Errorf("create messages: %w", err)
		}
		rows[i] = []any{m.TenantID, m.ID, m.CampaignID, m.Channel, m.Phone, m.Body, string(params), m.Status, m.DueAt, m.UpdatedAt}
	}
	if _, err := tx.CopyFrom(ctx, "outreach_messages", cols, rows); err != nil {
		return fmt.Errorf("create messages: %w", err)
	}
	return nil
}

// paramsFor is a recipient's fields, only those the body uses (they are
// also what Aliyun's template is sent).
func paramsFor(p Recipient, communityName string, used map[string]bool) map[string]string {
	out := make(map[string]string, len(used))
	for f := range used {
		switch f {
		case FieldName:
			name := p.Name
			if name == "" {
				name = "居民" // a household's own phone: no one's name to use
			}
			if utf8.RuneCountInString(name) > maxName {
				name = string([]rune(name)[:maxName])
			}
			out[f] = name
		case FieldCommunity:
			out[f] = communityName
		case FieldEndDate:
			out[f] = p.EndDate
		case FieldCheckinURL:
			out[f] = p.CheckinURL
		}
	}
	return out
}

func (s *Service) prepareCampaign(ctx context.Context, tx *store.TenantTx, g *scope.Grids, in CampaignInput, c *Campaign) (body, map[string]bool, error) {
	var fe []errs.FieldError
	c.Name = checkName(&fe, in.Name)
	checkChannel(&fe, in.Channel, true)
	c.Channel = in.Channel
	if c.Channel == ChannelWeCom {
		if err := s.prepareNotice(ctx, tx, &fe, in, c); err != nil {
			return nil, nil, err
		}
		if len(fe) > 0 {
			return nil, nil, errs.Validation(fe...)
		}
		b, used := parseBody(&[]errs.FieldError{}, "body", c.Body)
		return b, used, nil
	} else if in.Format != "" {
		fe = append(fe, errs.Field("format", "format_wecom_only", nil))
	}
	var text string
	switch {
	case in.TemplateID != "" && in.Body != "":
		fe = append(fe, errs.Field("template_id", "template_or_body", nil))
	case in.TemplateID != "":
		t := new(Template)
		err := tx.Select(t).Where("tp.id = ?", in.TemplateID).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			fe = append(fe, errs.Field("template_id", "unknown_template", nil))
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("load template: %w", err)
		}
		if in.Channel != "" && t.Channel != in.Channel {
			fe = append(fe, errs.Field("template_id", "template_channel", map[string]any{"channel": t.Channel}))
		}
		c.TemplateID, text, c.ProviderTemplate, c.SignName = &t.ID, t.Body, t.ProviderTemplate, t.SignName
	case in.Body != "":
		text = in.Body
	default:
		fe = append(fe, errs.Field("body", "template_or_body", nil))
	}
	var b body
	used := map[string]bool{}
	if text != "" {
		b = s.checkText(&fe, c.Channel, text, c.ProviderTemplate, c.SignName)
		_, used = parseBody(&[]errs.FieldError{}, "body", text)
	}
	c.Body = text
	c.Audience = Audience{Grids: []string{}, Tags: []string{}, All: in.Audience.All, Isolation: in.Audience.Isolation}
	for _, slug := range in.Audience.Grids {
		id, ok := g.Resolve(slug)
		if !ok {
			fe = append(fe, errs.Field("audience.grids", "unknown_grid", map[string]any{"grid": slug}))
			continue
		}
		c.Audience.Grids = append(c.Audience.Grids, id)
	}
	for _, tag := range in.Audience.Tags {
		if tag = strings.TrimSpace(tag); tag != "" {
			c.Audience.Tags = append(c.Audience.Tags, tag)
		}
	}
	switch in.Audience.Isolation {
	case "":
	case "active":
		if s.Isolation == nil {
			fe = append(fe, errs.Field("audience.isolation", "isolation_unavailable", nil))
		}
	default:
		fe = append(fe, errs.Field("audience.isolation", "one_of", map[string]any{"allowed": "active"}))
	}
	if !c.Audience.All && len(c.Audience.Grids) == 0 && len(c.Audience.Tags) == 0 && c.Audience.Isolation == "" {
		fe = append(fe, errs.Field("audience", "audience_empty", nil))
	}
	if c.Audience.Isolation == "" && (used[FieldEndDate] || used[FieldCheckinURL]) {
		fe = append(fe, errs.Field("body", "field_needs_isolation", nil))
	}
	if in.SendAt != nil {
		at := in.SendAt.UTC()
		c.SendAt = &at
	}
	if len(fe) > 0 {
		return nil, nil, errs.Validation(fe...)
	}
	return b, used, nil
}

// prepareNotice checks a WeCom notice: an inline body (approved templates
// are a carrier's rule, not WeCom's) using no resident's field, within the
// robot's length once rendered, for a community that has a robot.
func (s *Service) prepareNotice(ctx context.Context, tx *store.TenantTx, fe *[]errs.FieldError, in CampaignInput, c *Campaign) error {
	c.Format = in.Format
	if c.Format == "" {
		c.Format = FormatText
	}
	validFormat := c.Format == FormatText || c.Format == FormatMarkdown
	if !validFormat {
		*fe = append(*fe, errs.Field("format", "one_of", map[string]any{"allowed": "text, markdown"}))
	}
	if in.TemplateID != "" {
		*fe = append(*fe, errs.Field("template_id", "wecom_no_template", nil))
	}
	c.Body = in.Body
	c.Audience = Audience{Grids: []string{}, Tags: []string{}}
	if strings.TrimSpace(in.Body) == "" {
		*fe = append(*fe, errs.Field("body", "required", nil))
		return nil
	}
	b, used := parseBody(fe, "body", in.Body)
	if b == nil {
		return nil
	}
	for f := range used {
		if f != FieldCommunity {
			*fe = append(*fe, errs.Field("body", "wecom_fields", map[string]any{"name": "." + f}))
		}
	}
	comm, err := s.community(ctx, tx)
	if err != nil {
		return err
	}
	rendered := b.render(map[string]string{FieldCommunity: comm.name})
	if err := CheckNotice(c.Format, rendered); err != nil && validFormat {
		*fe = append(*fe, errs.Field("body", "wecom_too_long", map[string]any{"detail": err.Error()}))
	}
	rb, err := s.robot(ctx, tx)
	if err != nil {
		return err
	}
	if rb == nil {
		*fe = append(*fe, errs.Field("channel", "wecom_no_robot", nil))
	}
	if in.SendAt != nil {
		at := in.SendAt.UTC()
		c.SendAt = &at
	}
	return nil
}

// audience resolves who a campaign reaches: residents with a phone, then
// households' own phones (a landline shared by the family), in the grids
// named (none: all) and with any of the tags named (none: any), one per
// phone, residents first so that a message can greet someone by name.
func (s *Service) audience(ctx context.Context, tx *store.TenantTx, a Audience) ([]Recipient, error) {
	if a.Isolation == "active" {
		// Residents under isolation only: the isolation domain's list.
		people, err := s.Isolation.ActiveIsolations(ctx, tx)
		if err != nil {
			return nil, err
		}
		return dedup(people), nil
	}
	var people []Recipient
	for _, table := range []string{"residents", "households"} {
		tags := a.Tags
		if len(tags) == 0 {
			tags = []string{""}
		}
		for _, tag := range tags {
			var rows []struct {
				Name  string `bun:"name"`
				Phone string `bun:"phone"`
			}
			q := tx.SelectAs(table, "x").Column("x.phone").Where("x.deleted_at IS NULL AND x.phone <> ''")
			if table == "residents" {
				q = q.Column("x.name")
			} else {
				q = q.ColumnExpr("'' AS name")
			}
			if len(a.Grids) > 0 {
				q = q.Where("x.grid_id IN (?)", bun.List(a.Grids))
			}
			if tag != "" {
				q = s.DB.HasTag(q, "x", tag)
			}
			if err := q.OrderExpr("x.id").Scan(ctx, &rows); err != nil {
				return nil, fmt.Errorf("audience from %s: %w", table, err)
			}
			for _, r := range rows {
				people = append(people, Recipient{Phone: r.Phone, Name: r.Name})
			}
		}
	}
	return dedup(people), nil
}

func dedup(people []Recipient) []Recipient {
	seen := make(map[string]bool, len(people))
	out := people[:0]
	for _, p := range people {
		if p.Phone == "" || seen[p.Phone] {
			continue
		}
		seen[p.Phone] = true
		out = append(out, p)
	}
	return out
}

// campaign loads one campaign, or 404.
func (s *Service) campaign(ctx context.Context, tx *store.TenantTx, id string) (*Campaign, error) {
	c := new(Campaign)
	// A system campaign (notices, alerts) is no staff's to see or move.
	err := tx.Select(c).Where("c.id = ? AND c.kind = ?", id, KindCampaign).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound()
	}
	if err != nil {
		return nil, fmt.Errorf("load campaign: %w", err)
	}
	return c, nil
}

// stats counts a campaign's messages by status, in one grouped query.
func (s *Service) stats(ctx context.Context, tx *store.TenantTx, c *Campaign) (Stats, error) {
	var rows []struct {
		Status string `bun:"status"`
		N      int    `bun:"n"`
	}
	st := Stats{DryRun: c.Channel != ChannelWeCom && s.DryRun()}
	if err := tx.SelectAs("outreach_messages", "m").ColumnExpr("m.status, COUNT(*) AS n").
		Where("m.campaign_id = ?", c.ID).GroupExpr("m.status").Scan(ctx, &rows); err != nil {
		return st, fmt.Errorf("campaign stats: %w", err)
	}
	for _, r := range rows {
		st.add(r.Status, r.N)
	}
	return st, nil
}

// GetCampaign returns a campaign and its figures. A running campaign with
// nothing left to send shows as finished, whether or not the reconciler
// has yet said so.
func (s *Service) GetCampaign(ctx context.Context, id string) (*CampaignView, error) {
	return scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, _ *scope.Grids) (*CampaignView, error) {
		c, err := s.campaign(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		v := campaignView(c)
		if v.Stats, err = s.stats(ctx, tx, c); err != nil {
			return nil, err
		}
		if c.Status == CampaignRunning && v.Stats.pending() == 0 {
			v.Status = CampaignFinished
		}
		return &v, nil
	})
}

// ListCampaigns lists campaigns, newest first, without their figures.
func (s *Service) ListCampaigns(ctx context.Context, f Filter) ([]CampaignView, string, error) {
	p, err := scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, _ *scope.Grids) (store.Page[CampaignView], error) {
		rows := store.PageRows[Campaign](f.Limit)
		q := tx.Select(&rows).Where("c.kind = ?", KindCampaign)
		if f.Status != "" {
			q = q.Where("c.status = ?", f.Status)
		}
		if err := store.KeysetDesc(q, "c.id", f.Cursor, f.Limit).Scan(ctx); err != nil {
			return store.Page[CampaignView]{}, fmt.Errorf("list campaigns: %w", err)
		}
		page := store.NextPage(rows, f.Limit, func(c *Campaign) string { return c.ID })
		out := make([]CampaignView, 0, len(page.Items))
		for i := range page.Items {
			out = append(out, campaignView(&page.Items[i]))
		}
		return store.Page[CampaignView]{Items: out, Next: page.Next}, nil
	})
	return p.Items, p.Next, err
}

// MessageView is one message as staff see it.
type MessageView struct {
	ID        string     `json:"id"`
	Phone     string     `json:"phone"`
	Status    string     `json:"status"`
	Error     string     `json:"error"`
	ErrorCode string     `json:"error_code,omitempty"`
	Attempts  int        `json:"attempts"`
	SentAt    *time.Time `json:"sent_at"`
}

// ListMessages lists a campaign's messages in order, filtered by status;
// phones as the caller's role may see them.
func (s *Service) ListMessages(ctx context.Context, f Filter) ([]MessageView, string, error) {
	if f.Status != "" && !validStatus(f.Status) {
		return nil, "", errs.Validation(errs.Field("status", "one_of", map[string]any{"allowed": strings.Join(Statuses, ", ")}))
	}
	p, err := scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, _ *scope.Grids) (store.Page[MessageView], error) {
		if _, err := s.campaign(ctx, tx, f.Campaign); err != nil {
			return store.Page[MessageView]{}, err
		}
		rows := store.PageRows[Message](f.Limit)
		q := tx.Select(&rows).Column("m.tenant_id", "m.id", "m.phone", "m.status", "m.error", "m.error_code", "m.attempts", "m.sent_at").
			Where("m.campaign_id = ?", f.Campaign)
		if f.Status != "" {
			q = q.Where("m.status = ?", f.Status)
		}
		if err := store.Keyset(q, "m.id", f.Cursor, f.Limit).Scan(ctx); err != nil {
			return store.Page[MessageView]{}, fmt.Errorf("list messages: %w", err)
		}
		page := store.NextPage(rows, f.Limit, func(m *Message) string { return m.ID })
		view := scope.ViewOf(ctx)
		out := make([]MessageView, 0, len(page.Items))
		for _, m := range page.Items {
			out = append(out, MessageView{ID: m.ID, Phone: view.Phone(m.Phone), Status: m.Status, Error: m.Error,
				ErrorCode: m.ErrorCode, Attempts: m.Attempts, SentAt: m.SentAt})
		}
		return store.Page[MessageView]{Items: out, Next: page.Next}, nil
	})
	if err == nil {
		ids := make([]string, len(p.Items))
		for i, m := range p.Items {
			ids[i] = m.ID
		}
		err = scope.RecordRead(ctx, s.Reads, s.DB, scope.Seen{Resource: "outreach_campaign", ID: f.Campaign, IDs: ids,
			Filters: map[string]any{"status": f.Status}})
	}
	return p.Items, p.Next, err
}

func validStatus(v string) bool {
	for _, s := range Statuses {
		if s == v {
			return true
		}
	}
	return false
}

// Preview is what a campaign will send, before it is sent.
type Preview struct {
	AudienceSize  int             `json:"audience_size"`
	SkippedOptOut int             `json:"skipped_opt_out"`
	Samples       []PreviewSample `json:"samples"`
}

// PreviewSample is one rendered message.
type PreviewSample struct {
	Phone string `json:"phone"`
	Body  string `json:"body"`
	Parts int    `json:"parts,omitempty"`
}

// previewSamples is how many rendered messages a preview shows.
const previewSamples = 5

// PreviewCampaign shows the audience size and the first rendered messages.
func (s *Service) PreviewCampaign(ctx context.Context, id string) (*Preview, error) {
	p, err := scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, _ *scope.Grids) (*Preview, error) {
		c, err := s.campaign(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		st, err := s.stats(ctx, tx, c)
		if err != nil {
			return nil, err
		}
		var rows []Message
		if err := tx.Select(&rows).Column("m.tenant_id", "m.id", "m.phone", "m.body").Where("m.campaign_id = ? AND m.status <> ?", c.ID, StatusSkippedOptOut).
			OrderExpr("m.id").Limit(previewSamples).Scan(ctx); err != nil {
			return nil, fmt.Errorf("preview: %w", err)
		}
		view := scope.ViewOf(ctx)
		out := &Preview{AudienceSize: st.Total, SkippedOptOut: st.SkippedOptOut, Samples: []PreviewSample{}}
		for _, m := range rows {
			sample := PreviewSample{Phone: view.Phone(m.Phone), Body: m.Body}
			if c.Channel == ChannelSMS {
				sample.Parts = s.Parts(m.Body, c.SignName)
			}
			out.Samples = append(out.Samples, sample)
		}
		return out, nil
	})
	if err == nil {
		phones := make([]string, len(p.Samples))
		for i, x := range p.Samples {
			phones[i] = x.Phone
		}
		err = scope.RecordRead(ctx, s.Reads, s.DB, scope.Seen{Resource: "outreach_campaign", ID: id, Phones: phones,
			Filters: map[string]any{"preview": true}})
	}
	return p, err
}
