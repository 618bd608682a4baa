package outreach_test

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/outreach"
)

func TestTemplateValidation(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := w.as(t, "c1.staff", "c1")
	long := ""
	for range 200 {
		long += "疫情防控"
	}
	tests := []struct {
		name, body, want string
	}{
		{"ok", "{{.Name}}您好，{{.Community}}通知：请于今日完成核酸检测。", ""},
		{"unknown field", "{{.Nmae}}您好", "body=template_unknown_field"},
		{"a chain is not a field", "{{.Name.First}}", "body=template_unsupported"},
		{"a range", "{{range .Name}}x{{end}}", "body=template_unsupported"},
		{"bad syntax", "{{.Name", "body=template_syntax"},
		{"too long once rendered", long, "body=sms_too_many_parts"},
		{"empty", "", "body=required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := w.Outreach.CreateTemplate(ctx, outreach.TemplateInput{Name: "t", Channel: "sms", Body: tt.body})
			if got := fields(err); got != tt.want {
				t.Fatalf("fields = %q, want %q (err %v)", got, tt.want, err)
			}
		})
	}
	// The longest name makes a body that fits with short names too long.
	body := ""
	for range 1520 / 2 {
		body += "a"
	}
	if _, err := w.Outreach.CreateTemplate(ctx, outreach.TemplateInput{Name: "t", Channel: "sms", Body: body + "{{.Name}}"}); fields(err) != "body=sms_too_many_parts" {
		t.Fatalf("long with a name: %v", err)
	}
}

func TestAudienceDedupAndStats(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	p1 := w.households(t, "c1", "c1-g1", 3)
	w.households(t, "c1", "c1-g2", 2, "elderly")
	w.households(t, "c2", "c2-g1", 4)
	// A second household with a phone already in the audience.
	ctx := w.as(t, "c1.staff", "c1")
	if _, err := w.Roster.CreateHousehold(ctx, rosterHousehold("c1-g2", p1[0])); err != nil {
		t.Fatal(err)
	}
	all := w.campaign(t, "c1", outreach.CampaignInput{})
	if all.AudienceSize != 5 || all.Status != "draft" {
		t.Fatalf("all: size %d status %s, want 5 draft", all.AudienceSize, all.Status)
	}
	if g := w.campaign(t, "c1", outreach.CampaignInput{Audience: outreach.Audience{Grids: []string{"c1-g2"}}}); g.AudienceSize != 3 {
		t.Fatalf("grid c1-g2: %d, want 3", g.AudienceSize)
	}
	if g := w.campaign(t, "c1", outreach.CampaignInput{Audience: outreach.Audience{Tags: []string{"elderly"}}}); g.AudienceSize != 2 {
		t.Fatalf("tag elderly: %d, want 2", g.AudienceSize)
	}
	st := w.get(t, "c1", all.ID).Stats
	if st.Total != 5 || st.Queued != 5 {
		t.Fatalf("stats %+v", st)
	}
	pv, err := w.Outreach.PreviewCampaign(ctx, all.ID)
	if err != nil || pv.AudienceSize != 5 || len(pv.Samples) != 5 || pv.Samples[0].Body != "居民您好，c1提醒您做好防护。" && pv.Samples[0].Body == "" {
		t.Fatalf("preview %+v %v", pv, err)
	}
	// c2 cannot see c1's campaign.
	if _, err := w.Outreach.GetCampaign(w.as(t, "c2.staff", "c2"), all.ID); errs.KindOf(err) != errs.KindNotFound {
		t.Fatalf("c2 reads c1's campaign: %v", err)
	}
	if _, err := w.Outreach.CreateCampaign(ctx, outreach.CampaignInput{Name: "x", Channel: "sms", Body: "x"}); fields(err) != "audience=audience_empty" {
		t.Fatalf("no audience: %v", err)
	}
	if _, err := w.Outreach.CreateCampaign(ctx, outreach.CampaignInput{Name: "x", Channel: "sms", Body: "{{.CheckinURL}}", Audience: outreach.Audience{All: true}}); fields(err) != "body=field_needs_isolation" {
		t.Fatalf("checkin url without isolation: %v", err)
	}
	if _, err := w.Outreach.CreateCampaign(ctx, outreach.CampaignInput{Name: "x", Channel: "sms", Body: "x", Audience: outreach.Audience{Isolation: "active"}}); fields(err) != "audience.isolation=isolation_unavailable" {
		t.Fatalf("isolation: %v", err)
	}
}

func TestStateMachine(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.households(t, "c1", "c1-g1", 2)
	ctx := w.as(t, "c1.staff", "c1")
	c := w.campaign(t, "c1", outreach.CampaignInput{})
	conflict := func(name string, err error) {
		t.Helper()
		if errs.KindOf(err) != errs.KindConflict {
			t.Fatalf("%s: %v, want 409", name, err)
		}
	}
	_, err := w.Outreach.PauseCampaign(ctx, c.ID)
	conflict("pause a draft", err)
	_, err = w.Outreach.ResumeCampaign(ctx, c.ID)
	conflict("resume a draft", err)
	_, err = w.Outreach.RetryFailedCampaign(ctx, c.ID)
	conflict("retry a draft", err)
	v, err := w.Outreach.SendCampaign(ctx, c.ID)
	if err != nil || v.Status != "running" {
		t.Fatalf("send: %v %v", v, err)
	}
	_, err = w.Outreach.SendCampaign(ctx, c.ID)
	conflict("send twice", err)
	if v, err = w.Outreach.PauseCampaign(ctx, c.ID); err != nil || v.Status != "paused" {
		t.Fatalf("pause: %v", err)
	}
	if v, err = w.Outreach.ResumeCampaign(ctx, c.ID); err != nil || v.Status != "running" {
		t.Fatalf("resume: %v", err)
	}
	if v, err = w.Outreach.CancelCampaign(ctx, c.ID); err != nil || v.Status != "cancelled" || v.Stats.Cancelled != 2 || v.Stats.Total != 2 {
		t.Fatalf("cancel: %+v %v", v, err)
	}
	_, err = w.Outreach.CancelCampaign(ctx, c.ID)
	conflict("cancel twice", err)
	// Scheduled: send_at ahead.
	at := w.clock.now().Add(time.Hour)
	s := w.campaign(t, "c1", outreach.CampaignInput{SendAt: &at})
	if v, err = w.Outreach.SendCampaign(ctx, s.ID); err != nil || v.Status != "scheduled" {
		t.Fatalf("schedule: %+v %v", v, err)
	}
	w.clock.t = w.clock.t.Add(2 * time.Hour)
	if r, err := w.Outreach.Reconcile(ctx); err != nil || r.Started != 1 {
		t.Fatalf("reconcile: %+v %v", r, err)
	}
	if got := w.get(t, "c1", s.ID).Status; got != "running" {
		t.Fatalf("scheduled campaign after its time: %s", got)
	}
	// Everything sent, before the reconciler wrote it down: finished, so
	// it can no longer be paused or cancelled.
	for _, id := range messageIDs(t, w, s.ID) {
		if err := w.Outreach.SendMessage(w.tenant(t, "c1"), id); err != nil {
			t.Fatal(err)
		}
	}
	_, err = w.Outreach.PauseCampaign(ctx, s.ID)
	conflict("pause a campaign with nothing left to send", err)
	_, err = w.Outreach.CancelCampaign(ctx, s.ID)
	conflict("cancel a campaign with nothing left to send", err)
}

// TestMessageCarriesItsFields: each outbox row keeps the text rendered for
// its resident and the fields themselves (what Aliyun is sent as
// TemplateParam), through either database's way of writing the outbox.
func TestMessageCarriesItsFields(t *testing.T) {
	w := newWorld(t)
	phones := w.households(t, "c1", "c1-g1", 3)
	c := w.campaign(t, "c1", outreach.CampaignInput{})
	if _, err := w.Outreach.SendCampaign(w.as(t, "c1.staff", "c1"), c.ID); err != nil {
		t.Fatal(err)
	}
	var community string
	if err := w.DB.NewRaw("SELECT name FROM orgs WHERE slug = 'c1'").Scan(context.Background(), &community); err != nil || community == "" {
		t.Fatalf("community name %q: %v", community, err)
	}
	seen := map[string]bool{}
	for _, id := range messageIDs(t, w, c.ID) {
		if err := w.Outreach.SendMessage(w.tenant(t, "c1"), id); err != nil {
			t.Fatal(err)
		}
		m, ok := w.Fake.handed(id)
		if !ok {
			t.Fatalf("message %s was not sent", id)
		}
		seen[m.Phone] = true
		want := map[string]string{"Name": "居民", "Community": community}
		if !maps.Equal(m.Params, want) {
			t.Errorf("message to %s: params %v, want %v", m.Phone, m.Params, want)
		}
		if m.Body != "居民您好，"+community+"提醒您做好防护。" {
			t.Errorf("message to %s: body %q", m.Phone, m.Body)
		}
	}
	for _, p := range phones {
		if !seen[p] {
			t.Errorf("nothing sent to %s", p)
		}
	}
}

// TestRules: opt-outs skipped and counted, quiet hours hold and release,
// the daily cap; and the stats always add up.
func TestRules(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	phones := w.households(t, "c1", "c1-g1", 3)
	staff := w.as(t, "c1.staff", "c1")
	task := w.tenant(t, "c1")
	if _, err := w.Outreach.AddOptOut(staff, outreach.OptOutInput{Phone: phones[0]}); err != nil {
		t.Fatal(err)
	}
	sendAll := func(c *outreach.CampaignView) {
		t.Helper()
		if _, err := w.Outreach.SendCampaign(staff, c.ID); err != nil {
			t.Fatal(err)
		}
		ids := messageIDs(t, w, c.ID)
		for _, id := range ids {
			if err := w.Outreach.SendMessage(task, id); err != nil {
				t.Fatalf("send %s: %v", id, err)
			}
		}
	}
	addsUp := func(st outreach.Stats) {
		t.Helper()
		sum := st.Queued + st.HeldQuietHours + st.Sending + st.Sent + st.Delivered + st.Failed + st.Unknown +
			st.SkippedOptOut + st.SkippedDailyCap + st.Cancelled
		if sum != st.Total {
			t.Fatalf("stats do not add up: %+v", st)
		}
	}

	// Opted out before the campaign: skipped at once.
	c := w.campaign(t, "c1", outreach.CampaignInput{})
	if c.Stats.SkippedOptOut != 1 {
		t.Fatalf("opt-out at creation: %+v", c.Stats)
	}
	// Opted out after it was made: skipped when sending.
	if _, err := w.Outreach.AddOptOut(staff, outreach.OptOutInput{Phone: phones[1]}); err != nil {
		t.Fatal(err)
	}
	sendAll(c)
	st := w.get(t, "c1", c.ID).Stats
	addsUp(st)
	if st.SkippedOptOut != 2 || st.Sent != 1 || w.Fake.count() != 1 {
		t.Fatalf("after sending: %+v, %d sent", st, w.Fake.count())
	}
	if err := w.Outreach.RemoveOptOut(staff, outreach.OptOutInput{Phone: phones[1]}); err != nil {
		t.Fatal(err)
	}

	// Quiet hours: 22:30 Beijing holds a non-urgent campaign until 08:00.
	w.clock.t = time.Date(2020, 2, 3, 14, 30, 0, 0, time.UTC)
	q := w.campaign(t, "c1", outreach.CampaignInput{})
	sendAll(q)
	st = w.get(t, "c1", q.ID).Stats
	addsUp(st)
	if st.HeldQuietHours != 2 {
		t.Fatalf("at night: %+v", st)
	}
	u := w.campaign(t, "c1", outreach.CampaignInput{Urgent: true})
	sendAll(u)
	if st := w.get(t, "c1", u.ID).Stats; st.Sent != 2 {
		t.Fatalf("urgent at night: %+v", st)
	}
	w.clock.t = time.Date(2020, 2, 4, 0, 1, 0, 0, time.UTC) // 08:01
	if r, err := w.Outreach.Reconcile(staff); err != nil || r.Released != 2 {
		t.Fatalf("release: %+v %v", r, err)
	}
	for _, id := range messageIDs(t, w, q.ID) {
		if err := w.Outreach.SendMessage(task, id); err != nil {
			t.Fatal(err)
		}
	}
	if st := w.get(t, "c1", q.ID).Stats; st.Sent != 2 {
		t.Fatalf("in the morning: %+v", st)
	}

	// The daily cap: five a day to one phone, then skipped.
	var last outreach.Stats
	for range 6 {
		c := w.campaign(t, "c1", outreach.CampaignInput{})
		sendAll(c)
		last = w.get(t, "c1", c.ID).Stats
		addsUp(last)
	}
	if last.SkippedDailyCap != 2 {
		t.Fatalf("sixth campaign of the day: %+v", last)
	}
}

// messageIDs lists a campaign's message ids.
func messageIDs(t testing.TB, w *world, campaign string) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for {
		page, next, err := w.Outreach.ListMessages(w.as(t, "c1.staff", "c1"), outreach.Filter{Campaign: campaign, Limit: 500, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page {
			ids = append(ids, m.ID)
		}
		if next == "" {
			return ids
		}
		cursor = next
	}
}

// TestPendingWorkIsTheWorkersOwn: a draft's messages wait for staff, not
// for the workers, and stay out of the pending-work metric until the
// campaign is sent.
func TestPendingWorkIsTheWorkersOwn(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.households(t, "c1", "c1-g1", 3)
	c := w.campaign(t, "c1", outreach.CampaignInput{})
	queued := func() int {
		t.Helper()
		p, err := w.Outreach.PendingWork(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range p {
			if x.Kind == "message" && x.Status == outreach.StatusQueued {
				return x.Count
			}
		}
		t.Fatalf("no queued messages in %+v", p)
		return 0
	}
	if n := queued(); n != 0 {
		t.Fatalf("a draft's messages count as pending: %d", n)
	}
	if _, err := w.Outreach.SendCampaign(w.as(t, "c1.staff", "c1"), c.ID); err != nil {
		t.Fatal(err)
	}
	if n := queued(); n != 3 {
		t.Fatalf("a running campaign's messages: %d pending, want 3", n)
	}
}

// TestRenderSample: the console's preview reads a text as saving it would,
// and names the problem with saving's own message key.
func TestRenderSample(t *testing.T) {
	all := map[string]string{outreach.FieldName: "王芳", outreach.FieldCommunity: "育才社区", outreach.FieldEndDate: "2026-12-13", outreach.FieldCheckinURL: "https://x/r/t"}
	notice := map[string]string{outreach.FieldCommunity: "育才社区"}
	for _, c := range []struct {
		name, text string
		values     map[string]string
		want, key  string
		args       map[string]any
	}{
		{"fields", "{{.Name}}您好，{{.Community}}提醒：隔离至{{.EndDate}}，{{.CheckinURL}}", all, "王芳您好，育才社区提醒：隔离至2026-12-13，https://x/r/t", "", nil},
		{"plain", "明早核酸", notice, "明早核酸", "", nil},
		{"notice with the community", "{{.Community}}：停水通知", notice, "育才社区：停水通知", "", nil},
		{"a resident's field in a notice", "{{.Name}}您好", notice, "", "template_unknown_field", map[string]any{"name": ".Name"}},
		{"unknown field", "{{.Phone}}", all, "", "template_unknown_field", map[string]any{"name": ".Phone"}},
		{"a field's field", "{{.Name.First}}", all, "", "template_unsupported", map[string]any{"action": "{{.Name.First}}"}},
		{"an undefined function", `{{printf "%s" .Name}}`, all, "", "template_syntax", nil},
		{"a loop", "{{range .}}x{{end}}", all, "", "template_unsupported", map[string]any{"action": "{{range .}}x{{end}}"}},
		{"syntax", "{{.Name", all, "", "template_syntax", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, fe := outreach.RenderSample(c.text, c.values)
			if c.key == "" {
				if fe != nil || got != c.want {
					t.Fatalf("RenderSample = %q, %+v; want %q", got, fe, c.want)
				}
				return
			}
			if fe == nil || fe.Field != "body" || fe.Key != c.key || !maps.Equal(fe.Args, c.args) {
				t.Fatalf("RenderSample = %q, %+v; want the %s error of body with %v", got, fe, c.key, c.args)
			}
		})
	}
}
