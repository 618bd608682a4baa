package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wanjia/wanjia/pkg/app"
	"github.com/wanjia/wanjia/pkg/config"
	"github.com/wanjia/wanjia/pkg/outreach/provider"
)

// runDemo is demoApp on a config changed first: the demo district, with
// the app's worker and scheduler running.
func runDemo(t *testing.T, change func(*config.Config)) *app.App {
	t.Helper()
	a := newDemoApp(t, change)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = a.Run(ctx, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return a
}

// fastOutreach lets a campaign to a demo grid (hundreds of phones) go out
// in a second instead of the default rate's ten.
func fastOutreach(c *config.Config) { c.SMSRate = 2000 }

// noQuietHours turns Yucai's quiet hours off (start = end), so that a test
// does not depend on the time of day it runs at.
func noQuietHours(t *testing.T, h http.Handler) {
	t.Helper()
	admin := login(t, h, "yucai.admin", demoPassword)
	org := decode[struct {
		Settings map[string]any `json:"settings"`
	}](t, do(t, h, http.MethodGet, "/api/v1/orgs/yucai", admin, nil).Body.Bytes())
	if org.Settings == nil {
		t.Fatal("no settings on yucai")
	}
	org.Settings["quiet_hours"] = map[string]any{"start": "00:00", "end": "00:00"}
	if rec := do(t, h, http.MethodPatch, "/api/v1/orgs/yucai", admin, map[string]any{"settings": org.Settings}); rec.Code != http.StatusOK {
		t.Fatalf("quiet hours off: %d %s", rec.Code, rec.Body)
	}
}

type campaignView struct {
	ID           string        `json:"id"`
	Status       string        `json:"status"`
	AudienceSize int           `json:"audience_size"`
	Stats        campaignStats `json:"stats"`
}

// campaignStats are a campaign's figures by status; its dry_run flag
// reads as 1 (a dry run) or 0, apart from the counts.
type campaignStats map[string]int

func (st *campaignStats) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*st = campaignStats{}
	for k, v := range raw {
		if k == "dry_run" {
			var dry bool
			if err := json.Unmarshal(v, &dry); err != nil {
				return err
			}
			if dry {
				(*st)[k] = 1
			} else {
				(*st)[k] = 0
			}
			continue
		}
		var n int
		if err := json.Unmarshal(v, &n); err != nil {
			return err
		}
		(*st)[k] = n
	}
	return nil
}

// waitFinished polls the campaign until it is finished, or fails.
func waitFinished(t *testing.T, h http.Handler, token, path string) campaignView {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		rec := do(t, h, http.MethodGet, path, token, nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("campaign: %d %s", rec.Code, rec.Body)
		}
		c := decode[campaignView](t, rec.Body.Bytes())
		if c.Status == "finished" {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("not finished: %+v", c)
		}
		<-tick.C
	}
}

// statsAddUp checks that every message is in exactly one status.
func statsAddUp(t *testing.T, c campaignView) {
	t.Helper()
	sum := 0
	if _, ok := c.Stats["dry_run"]; !ok {
		t.Fatalf("the figures do not say whether they are a dry run: %v", c.Stats)
	}
	for k, n := range c.Stats {
		if k != "total" && k != "dry_run" {
			sum += n
		}
	}
	if sum != c.Stats["total"] || c.Stats["total"] != c.AudienceSize {
		t.Fatalf("the figures do not add up to the total %d (audience %d): %v", c.Stats["total"], c.AudienceSize, c.Stats)
	}
}

// phonesOf is the first n distinct phones of a list of households or
// residents (path with its filters).
func phonesOf(t *testing.T, h http.Handler, token, path string, n int) []string {
	t.Helper()
	p := decode[page](t, do(t, h, http.MethodGet, path, token, nil).Body.Bytes())
	var out []string
	for _, hh := range p.Items {
		if hh.Phone != "" && !slices.Contains(out, hh.Phone) {
			out = append(out, hh.Phone)
		}
		if len(out) == n {
			return out
		}
	}
	t.Fatalf("fewer than %d phones in %s", n, path)
	return nil
}

// TestOutreachEndToEnd: staff make a template and a campaign to one grid,
// preview it and send it through the log provider; the app's own worker
// sends every message once and the figures add up. Phones opted out
// before the campaign is made and after are both skipped and counted;
// roles without outreach, and other communities, are kept out.
func TestOutreachEndToEnd(t *testing.T) {
	t.Parallel()
	a := runDemo(t, fastOutreach)
	h := a.Engine
	noQuietHours(t, h)
	staff := login(t, h, "yucai.staff", demoPassword)
	grid := login(t, h, "yucai.grid1", demoPassword)
	official := login(t, h, "qixing.official", demoPassword)
	wstaff := login(t, h, "wangcheng.staff", demoPassword)
	const base = "/api/v1/orgs/yucai"
	// The campaign goes to one grid's elderly residents: a few hundred
	// phones, enough to need many batches, not a whole grid's 1,400.
	optedOut := phonesOf(t, h, staff, base+"/residents?limit=100&grid=yucai-g2&tag=elderly", 2)

	if rec := do(t, h, http.MethodPost, base+"/opt-outs", staff, map[string]any{"phone": optedOut[0]}); rec.Code != http.StatusCreated {
		t.Fatalf("opt-out: %d %s", rec.Code, rec.Body)
	}
	rec := do(t, h, http.MethodPost, base+"/templates", staff, map[string]any{
		"name": "入户排查通知", "channel": "sms", "body": "{{.Name}}您好，{{.Community}}提醒：近期将入户排查，请配合。"})
	if rec.Code != http.StatusCreated {
		t.Fatalf("template: %d %s", rec.Code, rec.Body)
	}
	tpl := decode[struct {
		ID string `json:"id"`
	}](t, rec.Body.Bytes())
	rec = do(t, h, http.MethodPost, base+"/campaigns", staff, map[string]any{
		"name": "入户排查通知", "channel": "sms", "template_id": tpl.ID, "audience": map[string]any{"grids": []string{"yucai-g2"}, "tags": []string{"elderly"}}})
	if rec.Code != http.StatusCreated {
		t.Fatalf("campaign: %d %s", rec.Code, rec.Body)
	}
	c := decode[campaignView](t, rec.Body.Bytes())
	if c.Status != "draft" || c.AudienceSize < 100 || c.Stats["skipped_opt_out"] != 1 || c.Stats["queued"] != c.AudienceSize-1 {
		t.Fatalf("draft: %+v", c)
	}
	path := base + "/campaigns/" + c.ID

	t.Run("preview", func(t *testing.T) {
		rec := do(t, h, http.MethodGet, path+"/preview", staff, nil)
		p := decode[struct {
			AudienceSize  int `json:"audience_size"`
			SkippedOptOut int `json:"skipped_opt_out"`
			Samples       []struct {
				Phone string `json:"phone"`
				Body  string `json:"body"`
				Parts int    `json:"parts"`
			} `json:"samples"`
		}](t, rec.Body.Bytes())
		if rec.Code != http.StatusOK || p.AudienceSize != c.AudienceSize || p.SkippedOptOut != 1 || len(p.Samples) == 0 {
			t.Fatalf("preview: %d %s", rec.Code, rec.Body)
		}
		for _, s := range p.Samples {
			if strings.Contains(s.Body, "{{") || !strings.Contains(s.Body, "提醒：近期将入户排查") || s.Parts < 1 || s.Phone == optedOut[0] {
				t.Fatalf("preview sample: %+v", s)
			}
		}
	})

	t.Run("roles without outreach are refused", func(t *testing.T) {
		for _, r := range []struct {
			who, token, method, path string
		}{
			{"a grid worker", grid, http.MethodGet, base + "/campaigns"},
			{"a grid worker", grid, http.MethodGet, path},
			{"a grid worker", grid, http.MethodPost, path + "/send"},
			{"a grid worker", grid, http.MethodPost, base + "/opt-outs"},
			{"the official", official, http.MethodGet, path},
			{"the official", official, http.MethodGet, base + "/templates"},
			{"the official", official, http.MethodPost, path + "/send"},
			{"the official", official, http.MethodGet, base + "/opt-outs"},
		} {
			if rec := do(t, h, r.method, r.path, r.token, map[string]any{"phone": "13800138000"}); rec.Code != http.StatusForbidden {
				t.Errorf("%s: %s %s: %d, want 403", r.who, r.method, r.path, rec.Code)
			}
		}
	})

	t.Run("another community's campaign is not found", func(t *testing.T) {
		rec := do(t, h, http.MethodPost, "/api/v1/orgs/wangcheng/campaigns", wstaff, map[string]any{
			"name": "王城通知", "channel": "sms", "body": "{{.Community}}提醒您做好防护。", "audience": map[string]any{"grids": []string{"wangcheng-g1"}}})
		if rec.Code != http.StatusCreated {
			t.Fatalf("wangcheng campaign: %d %s", rec.Code, rec.Body)
		}
		theirs := decode[campaignView](t, rec.Body.Bytes()).ID
		for _, r := range []struct{ token, method, path string }{
			{staff, http.MethodGet, base + "/campaigns/" + theirs},
			{staff, http.MethodGet, base + "/campaigns/" + theirs + "/messages"},
			{staff, http.MethodPost, base + "/campaigns/" + theirs + "/send"},
			{wstaff, http.MethodGet, "/api/v1/orgs/wangcheng/campaigns/" + c.ID},
			{wstaff, http.MethodPost, "/api/v1/orgs/wangcheng/campaigns/" + c.ID + "/cancel"},
		} {
			if rec := do(t, h, r.method, r.path, r.token, nil); rec.Code != http.StatusNotFound {
				t.Errorf("%s %s: %d, want 404: %s", r.method, r.path, rec.Code, rec.Body)
			}
		}
		if st := decode[campaignView](t, do(t, h, http.MethodGet, "/api/v1/orgs/wangcheng/campaigns/"+theirs, wstaff, nil).Body.Bytes()).Status; st != "draft" {
			t.Fatalf("wangcheng's campaign was moved from yucai: %s", st)
		}
	})

	// The second phone opts out after the campaign was made: it is skipped
	// when its message comes to be sent.
	if rec := do(t, h, http.MethodPost, base+"/opt-outs", staff, map[string]any{"phone": optedOut[1]}); rec.Code != http.StatusCreated {
		t.Fatalf("opt-out: %d %s", rec.Code, rec.Body)
	}
	rec = do(t, h, http.MethodPost, path+"/send", staff, nil)
	if rec.Code != http.StatusOK || decode[campaignView](t, rec.Body.Bytes()).Status != "running" {
		t.Fatalf("send: %d %s", rec.Code, rec.Body)
	}
	if rec := do(t, h, http.MethodPost, path+"/send", staff, nil); rec.Code != http.StatusConflict {
		t.Fatalf("send twice: %d %s", rec.Code, rec.Body)
	}

	done := waitFinished(t, h, staff, path)
	statsAddUp(t, done)
	if done.Stats["skipped_opt_out"] != 2 || done.Stats["sent"]+done.Stats["delivered"] != done.AudienceSize-2 {
		t.Fatalf("finished: %+v", done)
	}
	if done.Stats["dry_run"] != 1 {
		t.Fatal("the log provider's campaign is not called a dry run")
	}
	skipped := decode[struct {
		Items []struct {
			Phone string `json:"phone"`
		} `json:"items"`
	}](t, do(t, h, http.MethodGet, path+"/messages?status=skipped_opt_out", staff, nil).Body.Bytes())
	var phones []string
	for _, m := range skipped.Items {
		phones = append(phones, m.Phone)
	}
	slices.Sort(phones)
	want := slices.Clone(optedOut)
	slices.Sort(want)
	if !slices.Equal(phones, want) {
		t.Fatalf("skipped %v, want the opted-out %v", phones, want)
	}
	if rec := do(t, h, http.MethodPost, path+"/retry-failed", staff, nil); rec.Code != http.StatusConflict {
		t.Fatalf("retry-failed with nothing failed: %d %s", rec.Code, rec.Body)
	}

	t.Run("hooks refuse what the provider did not sign", func(t *testing.T) {
		for _, p := range []string{"/hooks/sms/log/inbound", "/hooks/sms/log/status", "/hooks/sms/aliyun/inbound"} {
			rec := do(t, h, http.MethodPost, p, "", []map[string]any{{"from": optedOut[0], "text": "START"}})
			if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), `"error"`) {
				t.Errorf("unsigned POST %s: %d %s", p, rec.Code, rec.Body)
			}
		}
	})

	t.Run("the outbox is in the metrics", func(t *testing.T) {
		body := scrape(t, a)
		for _, want := range []string{`wanjia_outreach_messages_total{provider="log",status="sent"}`, `wanjia_pending_work{kind="message",status="queued"} 0`} {
			if !strings.Contains(body, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})
}

// gateway is a webhook provider's far end: it takes every message and
// counts them by our id, keeping each one's text (the demo's isolation
// cases have notices of their own going out beside a campaign).
type gateway struct {
	mu    sync.Mutex
	sent  map[string]int
	texts map[string]string
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m struct {
		ID   string `json:"id"`
		Body string `json:"body"`
	}
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil || m.ID == "" {
		http.Error(w, "bad message", http.StatusBadRequest)
		return
	}
	g.mu.Lock()
	g.sent[m.ID]++
	if g.texts == nil {
		g.texts = map[string]string{}
	}
	g.texts[m.ID] = m.Body
	g.mu.Unlock()
	fmt.Fprintf(w, `{"id":"gw-%s"}`, m.ID)
}

// signed posts body to path signed with secret, as the gateway would.
func signed(t *testing.T, h http.Handler, path string, secret []byte, body any) *httptest.ResponseRecorder {
	t.Helper()
	b, _ := json.Marshal(body)
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	now := time.Now()
	req.Header.Set(provider.TimestampHeader, fmt.Sprint(now.Unix()))
	req.Header.Set(provider.SignatureHeader, provider.Sign(secret, now, b))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestOutreachHooksThroughWebhook sends a campaign through the webhook
// provider to a gateway on loopback, then plays the gateway's callbacks:
// unsigned or wrongly signed ones are 401 and change nothing; a signed
// delivery receipt marks its message delivered, and a signed 退订 puts the
// phone on the community's opt-out list.
func TestOutreachHooksThroughWebhook(t *testing.T) {
	gw := &gateway{sent: map[string]int{}}
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	secret := []byte("webhook-test-secret-0123456789")
	a := runDemo(t, func(c *config.Config) {
		c.SMSProvider = "webhook"
		c.Provider.WebhookURL, c.Provider.WebhookSecret = srv.URL, provider.Secret(secret)
		fastOutreach(c)
	})
	h := a.Engine
	noQuietHours(t, h)
	staff := login(t, h, "yucai.staff", demoPassword)
	const base = "/api/v1/orgs/yucai"

	rec := do(t, h, http.MethodPost, base+"/campaigns", staff, map[string]any{
		"name": "通知", "channel": "sms", "body": "{{.Community}}提醒您做好防护。", "audience": map[string]any{"grids": []string{"yucai-g3"}, "tags": []string{"elderly"}}})
	if rec.Code != http.StatusCreated {
		t.Fatalf("campaign: %d %s", rec.Code, rec.Body)
	}
	path := base + "/campaigns/" + decode[campaignView](t, rec.Body.Bytes()).ID
	if rec := do(t, h, http.MethodPost, path+"/send", staff, nil); rec.Code != http.StatusOK {
		t.Fatalf("send: %d %s", rec.Code, rec.Body)
	}
	done := waitFinished(t, h, staff, path)
	statsAddUp(t, done)
	if done.Stats["dry_run"] != 0 {
		t.Fatal("the webhook gateway's campaign is called a dry run")
	}
	gw.mu.Lock()
	got := 0
	for id, n := range gw.sent {
		if n != 1 {
			t.Errorf("message %s reached the gateway %d times", id, n)
		}
		if strings.Contains(gw.texts[id], "做好防护") {
			got++ // the campaign's; the rest are isolation's notices
		}
	}
	gw.mu.Unlock()
	if got != done.AudienceSize || done.Stats["sent"] != got {
		t.Fatalf("the gateway has %d messages; the campaign %+v", got, done)
	}

	first := decode[struct {
		Items []struct {
			ID    string `json:"id"`
			Phone string `json:"phone"`
		} `json:"items"`
	}](t, do(t, h, http.MethodGet, path+"/messages?limit=1", staff, nil).Body.Bytes()).Items[0]
	stop := []map[string]any{{"from": first.Phone, "text": "退订", "provider_id": "gw-reply-1"}}
	receipt := []map[string]any{{"id": first.ID, "status": "delivered", "at": time.Now().UTC().Format(time.RFC3339)}}
	optOuts := func() string { return do(t, h, http.MethodGet, base+"/opt-outs", staff, nil).Body.String() }

	for name, req := range map[string]func(path string, body any) *httptest.ResponseRecorder{
		"unsigned": func(p string, body any) *httptest.ResponseRecorder { return do(t, h, http.MethodPost, p, "", body) },
		"signed with another secret": func(p string, body any) *httptest.ResponseRecorder {
			return signed(t, h, p, []byte("not-the-secret-0123456789"), body)
		},
	} {
		for p, body := range map[string]any{"/hooks/sms/webhook/inbound": stop, "/hooks/sms/webhook/status": receipt} {
			if rec := req(p, body); rec.Code != http.StatusUnauthorized {
				t.Errorf("%s POST %s: %d %s", name, p, rec.Code, rec.Body)
			}
		}
	}
	if strings.Contains(optOuts(), first.Phone) {
		t.Fatal("an unsigned reply opted a phone out")
	}
	if st := waitFinished(t, h, staff, path).Stats; st["delivered"] != 0 {
		t.Fatalf("an unsigned receipt was taken: %v", st)
	}

	if rec := signed(t, h, "/hooks/sms/webhook/status", secret, receipt); rec.Code != http.StatusNoContent {
		t.Fatalf("signed receipt: %d %s", rec.Code, rec.Body)
	}
	if st := waitFinished(t, h, staff, path).Stats; st["delivered"] != 1 || st["sent"] != got-1 {
		t.Fatalf("after the receipt: %v", st)
	}
	if rec := signed(t, h, "/hooks/sms/webhook/inbound", secret, stop); rec.Code != http.StatusNoContent {
		t.Fatalf("signed reply: %d %s", rec.Code, rec.Body)
	}
	if !strings.Contains(optOuts(), first.Phone) {
		t.Fatalf("a signed 退订 did not opt the phone out: %s", optOuts())
	}
	replies := do(t, h, http.MethodGet, base+"/replies?status=opt_out", staff, nil)
	if body, _ := io.ReadAll(replies.Body); !strings.Contains(string(body), first.Phone) {
		t.Fatalf("the reply is not listed: %s", body)
	}
}
