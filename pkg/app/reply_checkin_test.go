package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wanjia/wanjia/pkg/config"
	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/outreach/provider"
	"github.com/wanjia/wanjia/pkg/store"
)

// phoneGateway is an SMS gateway on loopback that remembers the texts
// each phone was sent.
type phoneGateway struct {
	mu    sync.Mutex
	texts map[string][]string // phone → bodies
}

func (g *phoneGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m struct {
		ID    string `json:"id"`
		Phone string `json:"phone"`
		Body  string `json:"body"`
	}
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		http.Error(w, "bad message", http.StatusBadRequest)
		return
	}
	g.mu.Lock()
	g.texts[m.Phone] = append(g.texts[m.Phone], m.Body)
	g.mu.Unlock()
	fmt.Fprintf(w, `{"id":"gw-%s"}`, m.ID)
}

// phoneOf is the phone the gateway sent a text containing s to.
func (g *phoneGateway) phoneOf(t *testing.T, s string) string {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		g.mu.Lock()
		for phone, texts := range g.texts {
			for _, x := range texts {
				if strings.Contains(x, s) {
					g.mu.Unlock()
					return phone
				}
			}
		}
		g.mu.Unlock()
	}
	t.Fatalf("the gateway was sent nothing containing %q", s)
	return ""
}

// failOnce is the reply handler failing once after it has done its work
// in the reply's transaction (a database that went away before the
// commit): the work must go with the reply, and the provider's retry be
// handled.
type failOnce struct {
	next  outreach.ReplyHandler
	mu    sync.Mutex
	fails int
}

func (f *failOnce) HandleReply(ctx context.Context, tx *store.TenantTx, r outreach.Reply) (bool, error) {
	ok, err := f.next.HandleReply(ctx, tx, r)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil && f.fails > 0 {
		f.fails--
		return false, errors.New("the connection dropped before the commit")
	}
	return ok, err
}

// TestReplyAsCheckinThroughHook: a resident answers the link's SMS through
// the provider's signed hook. "体温37.8 咳嗽" becomes the case's check-in
// (source sms) and its fever alert; the handler failing once after writing
// makes the hook answer 503 and leaves nothing, and the provider's retry
// of the same reply is stored once and checked in once; an opt-out word
// from the same phone opts out and is no check-in; other text stays a
// reply for staff.
func TestReplyAsCheckinThroughHook(t *testing.T) {
	t.Parallel()
	gw := &phoneGateway{texts: map[string][]string{}}
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
	flaky := &failOnce{next: a.Outreach.Replies, fails: 1}
	a.Outreach.Replies = flaky // before any reply: the hook runs in this goroutine
	staff := login(t, h, "yucai.staff", demoPassword)
	const base = "/api/v1/orgs/yucai"

	type caseView struct {
		ID         string `json:"id"`
		CheckinURL string `json:"checkin_url"`
		Checkins   []struct {
			Temperature float64  `json:"temperature"`
			Symptoms    []string `json:"symptoms"`
			Source      string   `json:"source"`
		} `json:"checkins"`
		Alerts []struct {
			Kind string `json:"kind"`
		} `json:"alerts"`
		Messages []struct {
			Key    string `json:"key"`
			Status string `json:"status"`
		} `json:"messages"`
	}
	residents := decode[struct {
		Items []struct {
			ID    string `json:"id"`
			Phone string `json:"phone"`
		}
	}](t, do(t, h, http.MethodGet, base+"/residents?limit=50&grid=yucai-g1", staff, nil).Body.Bytes())
	resident := ""
	for _, r := range residents.Items {
		if r.Phone != "" {
			resident = r.ID
			break
		}
	}
	if resident == "" {
		t.Fatal("no resident with a phone in yucai-g1")
	}
	rec := do(t, h, http.MethodPost, base+"/isolations", staff, map[string]any{"resident_id": resident, "kind": "home_isolation"})
	if rec.Code != http.StatusCreated {
		t.Fatalf("open case: %d %s", rec.Code, rec.Body)
	}
	c := decode[caseView](t, rec.Body.Bytes())
	phone := gw.phoneOf(t, c.CheckinURL)
	get := func() caseView {
		return decode[caseView](t, do(t, h, http.MethodGet, base+"/isolations/"+c.ID, staff, nil).Body.Bytes())
	}
	// A reply reaches the communities that wrote to the phone: the link's
	// SMS must be recorded sent first. (The minute sweep, on the real
	// clock, may also send today's check-in reminder.)
	linkSent := func(v caseView) bool {
		for _, m := range v.Messages {
			if strings.HasPrefix(m.Key, "link:") && m.Status != "queued" && m.Status != "sending" {
				return true
			}
		}
		return false
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		v := get()
		if linkSent(v) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the link's SMS is not sent: %+v", v.Messages)
		}
	}

	reply := []map[string]any{{"from": phone, "text": "体温37.8 咳嗽", "provider_id": "gw-up-checkin"}}
	if rec := signed(t, h, "/hooks/sms/webhook/inbound", secret, reply); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("the handler failed: the hook answered %d %s, want 503 so the provider retries", rec.Code, rec.Body)
	}
	if v := get(); len(v.Checkins) != 0 || len(v.Alerts) != 0 {
		t.Fatalf("a failed handler left a check-in behind: %+v", v)
	}
	for range 2 { // the provider's retry, and a retry of that
		if rec := signed(t, h, "/hooks/sms/webhook/inbound", secret, reply); rec.Code != http.StatusNoContent {
			t.Fatalf("the provider's retry: %d %s", rec.Code, rec.Body)
		}
	}
	v := get()
	if len(v.Checkins) != 1 || v.Checkins[0].Source != "sms" || v.Checkins[0].Temperature != 37.8 ||
		strings.Join(v.Checkins[0].Symptoms, ",") != "cough" || len(v.Alerts) != 1 || v.Alerts[0].Kind != "fever" {
		t.Fatalf("after the retries: check-ins %+v, alerts %+v; want one sms check-in of 37.8 with a cough and its fever alert", v.Checkins, v.Alerts)
	}

	for _, r := range []map[string]any{
		{"from": phone, "text": "谢谢社区", "provider_id": "gw-up-thanks"},
		{"from": phone, "text": "TD", "provider_id": "gw-up-stop"},
	} {
		if rec := signed(t, h, "/hooks/sms/webhook/inbound", secret, []map[string]any{r}); rec.Code != http.StatusNoContent {
			t.Fatalf("reply %v: %d %s", r["text"], rec.Code, rec.Body)
		}
	}
	if v := get(); len(v.Checkins) != 1 {
		t.Fatalf("a text that is no temperature became a check-in: %+v", v.Checkins)
	}
	replies := decode[struct {
		Items []struct {
			Text string `json:"text"`
			Kind string `json:"kind"`
		} `json:"items"`
	}](t, do(t, h, http.MethodGet, base+"/replies?limit=50", staff, nil).Body.Bytes())
	kinds := map[string]string{}
	for _, r := range replies.Items {
		kinds[r.Text] += r.Kind + ";"
	}
	if kinds["体温37.8 咳嗽"] != "handled;" || kinds["谢谢社区"] != "reply;" || kinds["TD"] != "opt_out;" {
		t.Fatalf("replies stored: %v; want the check-in once as handled, the thanks for staff, TD an opt-out", kinds)
	}
	if body := do(t, h, http.MethodGet, base+"/opt-outs", staff, nil).Body.String(); !strings.Contains(body, phone) {
		t.Fatalf("TD from a case's phone did not opt out: %s", body)
	}
}
