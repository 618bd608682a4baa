package console_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wanjia/wanjia/pkg/i18n"
)

// TestOutreachDryRun: with the log provider (the default) nothing reaches
// a resident, and the outreach pages say so: a banner on the list and the
// campaign, figures named as a dry run, never 已发出 or 已送达.
func TestOutreachDryRun(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	staff := client(t)
	httpSignIn(t, staff, a.Base, "yucai.staff")
	org := a.Base + "/console/orgs/yucai"
	zh := func(key string, args map[string]any) string { return html.EscapeString(i18n.T(i18n.ZH, key, args)) }
	_, body := get(t, staff, org+"/households/new")
	token := csrfField.FindStringSubmatch(body)[1]
	if status, _, body := postFor(t, staff, org+"/households", url.Values{"csrf": {token}, "grid": {"yucai-g3"}, "address": {"育才路88号 演练户"},
		"phone": {"13900001111"}, "tags": {"dry-run-test"}}); status != http.StatusSeeOther {
		t.Fatalf("a household: %d %q", status, errorsOn(body))
	}
	id := createCampaign(t, staff, a.Base, url.Values{"name": {"演练"}, "channel": {"sms"}, "body": {"停水通知"},
		"tags": {"dry-run-test"}, "when": {"now"}, "urgent": {"1"}})
	page := org + "/outreach/campaigns/" + id
	if status, loc, _ := postFor(t, staff, page+"/send", url.Values{"csrf": {token}}); status != http.StatusSeeOther {
		t.Fatalf("send: %d to %q", status, loc)
	}
	if f := waitFinished(t, staff, page); f["delivered"]+f["sent"] != 1 {
		t.Fatalf("figures: %v, want the one message through", f)
	}
	_, body = get(t, staff, page)
	banner := zh("console.outreach.dry_run", nil)
	for _, want := range []string{banner, zh("console.outreach.stat.dry_delivered", nil), zh("console.outreach.stat.dry_sent", nil),
		zh("console.outreach.dry_of", map[string]any{"sent": 1, "total": 1, "pct": 100})} {
		if !strings.Contains(body, want) {
			t.Errorf("the campaign's page does not say %q", html.UnescapeString(want))
		}
	}
	for _, said := range []string{"<dt>" + zh("console.outreach.stat.sent", nil) + "</dt>", "<dt>" + zh("console.outreach.stat.delivered", nil) + "</dt>",
		zh("console.outreach.sent_of", map[string]any{"sent": 1, "total": 1, "pct": 100})} {
		if strings.Contains(body, said) {
			t.Errorf("the dry run's page says %q", html.UnescapeString(said))
		}
	}
	if _, body := get(t, staff, org+"/outreach"); !strings.Contains(body, banner) {
		t.Error("the campaigns' list does not say it is a dry run")
	}
}

// TestIsolationDryRun: under the log provider the case page lists the
// check-in link's message as a dry run, never 已发送 or 已送达.
func TestIsolationDryRun(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	noQuietHours(t, a.Base)
	staff := client(t)
	httpSignIn(t, staff, a.Base, "yucai.staff")
	id := openCase(t, staff, a.Base, residentIn(t, staff, a.Base, "yucai-g2", 0), "", "")
	page := a.Base + "/console/orgs/yucai/isolation/cases/" + id
	badge := regexp.MustCompile(`<span class="badge status-(sent|delivered)">([^<]*)</span>`)
	var body string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, body = get(t, staff, page)
		if badge.MatchString(body) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the check-in link's message was never through")
		}
	}
	if !strings.Contains(body, zh("console.isolation.messages.dry_run")) {
		t.Error("the case page does not say its messages are a dry run")
	}
	for _, m := range badge.FindAllStringSubmatch(body, -1) {
		if want := zh("console.isolation.msg.dry_" + m[1]); m[2] != want {
			t.Errorf("a %s message is labelled %q, want %q", m[1], html.UnescapeString(m[2]), html.UnescapeString(want))
		}
	}
}
