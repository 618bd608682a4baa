package console_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/store"
)

var (
	campaignLink = regexp.MustCompile(`^/console/orgs/yucai/outreach/campaigns/([0-9a-f-]{36})$`)
	figure       = regexp.MustCompile(`data-figure="([a-z_]+)"><dt>[^<]*</dt><dd>(\d+)</dd>`)
	statusAttr   = regexp.MustCompile(`id="campaign-status" class="panel" data-status="([a-z]+)"`)
)

// formOf reads a page's form: its CSRF token and idempotency key.
func formOf(t testing.TB, c *http.Client, u string) url.Values {
	t.Helper()
	status, body := get(t, c, u)
	m, k := csrfField.FindStringSubmatch(body), keyField.FindStringSubmatch(body)
	if status != http.StatusOK || m == nil || k == nil {
		t.Fatalf("%s: %d, no form with a key", u, status)
	}
	return url.Values{"csrf": {m[1]}, "idempotency_key": {k[1]}}
}

// createCampaign makes a draft through the builder as c, with the form's
// fields and extra ones, and returns its id.
func createCampaign(t testing.TB, c *http.Client, base string, fields url.Values) string {
	t.Helper()
	form := formOf(t, c, base+"/console/orgs/yucai/outreach/new")
	for k, v := range fields {
		form[k] = v
	}
	status, loc, body := postFor(t, c, base+"/console/orgs/yucai/outreach/campaigns", form)
	m := campaignLink.FindStringSubmatch(loc)
	if status != http.StatusSeeOther || m == nil {
		t.Fatalf("create a campaign: %d to %q: %s", status, loc, errorsOn(body))
	}
	return m[1]
}

// errorsOn are the error messages a page shows, for a failure's message.
func errorsOn(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`class="error[^"]*"[^>]*>([^<]*)<`).FindAllStringSubmatch(body, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

// figures reads a campaign's counts off its page (or its status panel).
func figures(body string) (string, map[string]int) {
	out := map[string]int{}
	for _, m := range figure.FindAllStringSubmatch(body, -1) {
		out[m[1]], _ = strconv.Atoi(m[2])
	}
	status := ""
	if m := statusAttr.FindStringSubmatch(body); m != nil {
		status = m[1]
	}
	return status, out
}

// waitFinished polls a campaign's status panel, as its page does, until
// it shows the campaign finished.
func waitFinished(t testing.TB, c *http.Client, page string) map[string]int {
	t.Helper()
	// The embedded mode sends about 120 a second, far fewer under -race on
	// a busy 2-core machine: 1,420 messages may take minutes there.
	deadline := time.Now().Add(4 * time.Minute)
	for {
		code, body := get(t, c, page+"/status")
		status, f := figures(body)
		if code != http.StatusOK {
			t.Fatalf("status panel: %d", code)
		}
		if status == "finished" {
			if strings.Contains(body, "hx-trigger") {
				t.Fatal("the finished campaign's panel still polls")
			}
			return f
		}
		if !strings.Contains(body, `hx-trigger="every 2s"`) {
			t.Fatalf("the %s campaign's panel does not poll", status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the campaign did not finish: %s %v", status, f)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestOutreachTemplates: staff write a template; the preview renders it
// with sample values and counts its SMS parts as it is typed, and says
// what outreach would refuse; what outreach refuses on saving shows
// beside its field; a double submission saves one template.
func TestOutreachTemplates(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	staff := client(t)
	httpSignIn(t, staff, a.Base, "yucai.staff")
	page := a.Base + "/console/orgs/yucai/outreach/templates"
	form := formOf(t, staff, page)
	zh := func(key string, args map[string]any) string { return html.EscapeString(i18n.T(i18n.ZH, key, args)) }

	// The preview, as htmx asks for it while the body is typed.
	preview := func(body, channel string) string {
		f := url.Values{"csrf": form["csrf"], "body": {body}, "channel": {channel}}
		status, _, out := postFor(t, staff, a.Base+"/console/orgs/yucai/outreach/preview", f)
		if status != http.StatusOK || strings.Contains(out, "<html") {
			t.Fatalf("preview: %d, want the fragment alone", status)
		}
		return out
	}
	out := preview("{{.Name}}您好：{{.Community}}本周六上午在社区广场开展核酸检测，请携带身份证。", "sms")
	if !strings.Contains(out, "王秀英您好：育才社区本周六") && !strings.Contains(out, "王秀英您好：") {
		t.Fatalf("the preview does not render the sample: %s", out)
	}
	if !strings.Contains(out, `data-parts="1"`) {
		t.Fatalf("a short Chinese text is one SMS: %s", out)
	}
	long := strings.Repeat("请各位居民注意防护，", 10) // 100 characters: UCS-2, two parts
	if out := preview(long, "sms"); !strings.Contains(out, `data-parts="2"`) || !strings.Contains(out, zh("console.outreach.preview_sms", map[string]any{"chars": 100, "parts": 2})) {
		t.Fatalf("100 Chinese characters: %s, want 2 parts", out)
	}
	if out := preview(long, "voice"); !strings.Contains(out, zh("console.outreach.preview_voice", map[string]any{"chars": 100})) {
		t.Fatalf("a call's preview: %s", out)
	}
	if out := preview("{{.Bogus}}您好", "sms"); !strings.Contains(out, zh("template_unknown_field", map[string]any{"name": ".Bogus"})) {
		t.Fatalf("an unknown field's preview: %s", out)
	}
	if out := preview("{{range .Name}}x{{end}}", "sms"); !strings.Contains(out, `class="error"`) {
		t.Fatalf("a loop's preview: %s", out)
	}
	if out := preview("{{.Name", "sms"); !strings.Contains(out, zh("template_syntax", nil)) {
		t.Fatalf("a broken field's preview: %s", out)
	}

	// Saving: outreach's refusals beside their fields, what was typed kept.
	bad := url.Values{"csrf": form["csrf"], "idempotency_key": form["idempotency_key"], "name": {""}, "channel": {"sms"}, "body": {"{{.Bogus}}您好"}}
	status, _, body := postFor(t, staff, page, bad)
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, zh("required", nil)) ||
		!strings.Contains(body, zh("template_unknown_field", map[string]any{"name": ".Bogus"})) || !strings.Contains(body, "{{.Bogus}}您好</textarea>") {
		t.Fatalf("a bad template: %d %q, want 422 with outreach's messages and the body kept", status, errorsOn(body))
	}
	// The page shown again renders its preview at once, without htmx.
	if !strings.Contains(body, `id="text-preview"`) {
		t.Fatal("the refused form has no preview")
	}
	good := url.Values{"csrf": form["csrf"], "idempotency_key": form["idempotency_key"], "name": {"核酸检测通知"}, "channel": {"sms"},
		"body": {"{{.Name}}您好：本周六上午核酸检测。"}, "provider_template": {"SMS_100001"}}
	for range 2 { // a double click
		if status, loc, _ := postFor(t, staff, page, good); status != http.StatusSeeOther || !strings.HasSuffix(loc, "/outreach/templates?added=1") {
			t.Fatalf("a good template: %d to %q", status, loc)
		}
	}
	_, body = get(t, staff, page)
	if n := strings.Count(body, "<span>核酸检测通知<span"); n != 1 {
		t.Fatalf("the template is listed %d times, want once", n)
	}
	if !strings.Contains(body, "<code>SMS_100001</code>") || !strings.Contains(body, "/outreach/new?template=") {
		t.Fatal("the template's code or its way to a campaign is missing")
	}
}

// TestOutreachCampaign: staff build a campaign to grid 2, see its
// audience and first messages before anything is sent, send it, and its
// figures follow it to the end; the moves its state does not allow are
// 409s said in words; the builder's refusals show beside their fields.
func TestOutreachCampaign(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	staff := client(t)
	httpSignIn(t, staff, a.Base, "yucai.staff")
	org := a.Base + "/console/orgs/yucai"
	zh := func(key string, args map[string]any) string { return html.EscapeString(i18n.T(i18n.ZH, key, args)) }

	// The builder's refusals.
	form := formOf(t, staff, org+"/outreach/new")
	form.Set("name", "周末核酸检测")
	form.Set("channel", "sms")
	form.Set("body", "{{.Name}}您好：本周六上午核酸检测。")
	status, _, body := postFor(t, staff, org+"/outreach/campaigns", form)
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, zh("audience_empty", nil)) || !strings.Contains(body, `value="周末核酸检测"`) {
		t.Fatalf("no audience: %d %q, want 422 with outreach's message and the name kept", status, errorsOn(body))
	}
	form.Set("scope", "grids")
	if status, _, body = postFor(t, staff, org+"/outreach/campaigns", form); status != http.StatusUnprocessableEntity || !strings.Contains(body, zh("console.outreach.pick_grids", nil)) {
		t.Fatalf("grids without a grid: %d %q", status, errorsOn(body))
	}
	form.Set("when", "later")
	form["grids"] = []string{"yucai-g2"}
	if status, _, body = postFor(t, staff, org+"/outreach/campaigns", form); status != http.StatusUnprocessableEntity || !strings.Contains(body, zh("console.form.bad_time", nil)) {
		t.Fatalf("later without a time: %d %q", status, errorsOn(body))
	}

	// A draft, from the same form (its key kept through the refusals),
	// posted twice: one campaign.
	form.Set("when", "now")
	form.Set("urgent", "1") // quiet hours would hold it at night
	var ids []string
	for range 2 {
		status, loc, _ := postFor(t, staff, org+"/outreach/campaigns", form)
		m := campaignLink.FindStringSubmatch(loc)
		if status != http.StatusSeeOther || m == nil {
			t.Fatalf("create: %d to %q", status, loc)
		}
		ids = append(ids, m[1])
	}
	if ids[0] != ids[1] {
		t.Fatalf("a double submission made two campaigns: %v", ids)
	}
	page := org + "/outreach/campaigns/" + ids[0]
	_, body = get(t, staff, page)
	size := regexp.MustCompile(`id="audience-size" data-n="(\d+)"`).FindStringSubmatch(body)
	if size == nil || size[1] == "0" {
		t.Fatal("the draft does not say how many people it goes to")
	}
	samples := regexp.MustCompile(`<li><span class="phone">([^<]+)</span><p class="sms-text">([^<]+)</p>`).FindAllStringSubmatch(body, -1)
	if len(samples) != 5 {
		t.Fatalf("%d sample messages, want 5", len(samples))
	}
	for _, s := range samples {
		if !strings.Contains(s[1], "*") || !strings.Contains(s[2], "您好：本周六上午核酸检测。") || strings.Contains(s[2], "{{") {
			t.Fatalf("a sample: %q, want a masked phone and the rendered text", s[1:])
		}
	}
	if strings.Contains(body, "hx-trigger") {
		t.Fatal("a draft's page polls")
	}
	token := csrfField.FindStringSubmatch(body)[1]
	move := func(action string) (int, string, string) {
		return postFor(t, staff, page+"/"+action, url.Values{"csrf": {token}})
	}

	// A move the draft does not allow: the page says so, in words.
	status, _, body = move("pause")
	if status != http.StatusConflict || !strings.Contains(body, zh("campaign_wrong_state", map[string]any{"status": i18n.T(i18n.ZH, "console.outreach.status.draft", nil)})) {
		t.Fatalf("pausing a draft: %d %q, want 409 naming the state", status, errorsOn(body))
	}
	if !strings.Contains(body, `class="move-send`) {
		t.Fatal("after the refusal the page does not offer to send")
	}
	if status, loc, _ := move("send"); status != http.StatusSeeOther || !strings.HasSuffix(loc, "?done=send") {
		t.Fatalf("send: %d to %q", status, loc)
	}
	f := waitFinished(t, staff, page)
	total, _ := strconv.Atoi(size[1])
	if f["total"] != total || f["sent"]+f["delivered"] != total || f["failed"] != 0 {
		t.Fatalf("the finished campaign's figures: %v, want all %d sent", f, total)
	}
	_, body = get(t, staff, page)
	if strings.Contains(body, `class="move-`) || strings.Contains(body, "/cancel") {
		t.Fatal("a finished campaign with nothing failed offers moves")
	}
	if status, _, body = move("retry-failed"); status != http.StatusConflict || !strings.Contains(body, zh("campaign_nothing_failed", nil)) {
		t.Fatalf("retrying with nothing failed: %d %q", status, errorsOn(body))
	}
	if _, body = get(t, staff, org+"/outreach"); strings.Count(body, "周末核酸检测") != 1 {
		t.Fatal("the campaign is not listed once")
	}
	t.Logf("%d messages sent", total)
}

// TestOutreachFailures: a message the provider refuses (an SMS to a
// landline) is listed with its reason and a masked phone, and "retry the
// failed" sends it again.
func TestOutreachFailures(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	staff := client(t)
	httpSignIn(t, staff, a.Base, "yucai.staff")
	org := a.Base + "/console/orgs/yucai"
	_, body := get(t, staff, org+"/households/new")
	token := csrfField.FindStringSubmatch(body)[1]
	if status, _, body := postFor(t, staff, org+"/households", url.Values{"csrf": {token}, "grid": {"yucai-g3"}, "address": {"育才路88号 座机户"},
		"phone": {"0731-88886666"}, "tags": {"landline-only"}}); status != http.StatusSeeOther {
		t.Fatalf("a household with a landline: %d %q", status, errorsOn(body))
	}
	id := createCampaign(t, staff, a.Base, url.Values{"name": {"座机测试"}, "channel": {"sms"}, "body": {"停水通知"},
		"tags": {"landline-only"}, "when": {"now"}, "urgent": {"1"}})
	page := org + "/outreach/campaigns/" + id
	_, body = get(t, staff, page)
	if !strings.Contains(body, `data-n="1"`) {
		t.Fatal("the campaign to one tagged household does not go to one phone")
	}
	send := func(action string) {
		if status, loc, _ := postFor(t, staff, page+"/"+action, url.Values{"csrf": {token}}); status != http.StatusSeeOther {
			t.Fatalf("%s: %d to %q", action, status, loc)
		}
	}
	send("send")
	if f := waitFinished(t, staff, page); f["failed"] != 1 {
		t.Fatalf("figures: %v, want 1 failed", f)
	}
	_, body = get(t, staff, page)
	row := regexp.MustCompile(`<table class="cards failed">[\s\S]*?<span class="phone">([^<]+)</span>[\s\S]*?<code>([^<]+)</code>`).FindStringSubmatch(body)
	if row == nil || !strings.Contains(row[1], "*") || strings.Contains(row[1], "88886666") || row[2] != "not_mobile" {
		t.Fatalf("the failed message: %q, want a masked phone and the provider's reason", row)
	}
	if !strings.Contains(body, i18n.T(i18n.ZH, "console.outreach.reason.not_mobile", nil)) {
		t.Fatal("the failure's reason is not in the reader's words")
	}
	if !strings.Contains(body, `class="move-retry-failed`) {
		t.Fatal("no way to retry the failed message")
	}
	send("retry-failed")
	if f := waitFinished(t, staff, page); f["failed"] != 1 || f["total"] != 1 {
		t.Fatalf("after the retry: %v, want it failed again", f)
	}

	// A message a worker left halfway, which the provider cannot account
	// for, is listed apart: staff check it themselves, nothing resends it.
	err := a.DB.AcrossTenants(context.Background(), "test: a message left unknown", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewRaw("UPDATE outreach_messages SET status = 'unknown', error_code = 'cannot_query', error = '' WHERE campaign_id = ?", id).Exec(ctx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	_, body = get(t, staff, page)
	row = regexp.MustCompile(`<table class="cards unknown">[\s\S]*?<span class="phone">([^<]+)</span>[\s\S]*?<td[^>]*><span>([^<]+)</span>`).FindStringSubmatch(body)
	if row == nil || !strings.Contains(row[1], "*") || strings.Contains(row[1], "88886666") ||
		row[2] != i18n.T(i18n.ZH, "console.outreach.reason.cannot_query", nil) {
		t.Fatalf("the unknown message: %q, want a masked phone and why it is unknown", row)
	}
	if !strings.Contains(body, i18n.T(i18n.ZH, "console.outreach.unknown_hint", nil)) || strings.Contains(body, `<table class="cards failed">`) {
		t.Fatal("the unknown message is not told apart from the failed ones")
	}
}

// TestOptOutsAndReplies: staff put a phone on the opt-out list and take
// it off; a campaign skips it; the replies page lists by kind.
func TestOptOutsAndReplies(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	staff := client(t)
	httpSignIn(t, staff, a.Base, "yucai.staff")
	org := a.Base + "/console/orgs/yucai"
	page := org + "/outreach/opt-outs"
	form := formOf(t, staff, page)
	form.Set("phone", "12345")
	status, _, body := postFor(t, staff, page, form)
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, html.EscapeString(i18n.T(i18n.ZH, "phone_format", nil))) || !strings.Contains(body, `value="12345"`) {
		t.Fatalf("a bad phone: %d %q", status, errorsOn(body))
	}
	// A phone on yucai's demo roster, in grid 2 or not: the campaign to the
	// whole community counts it skipped.
	_, body = get(t, staff, org+"/households")
	phone := regexp.MustCompile(`href="tel:(1700000\d{4})"`).FindStringSubmatch(body)
	if phone == nil {
		t.Fatal("no phone on the households' list")
	}
	form.Set("phone", phone[1])
	for range 2 {
		if status, loc, _ := postFor(t, staff, page, form); status != http.StatusSeeOther || !strings.HasSuffix(loc, "?added=1") {
			t.Fatalf("add: %d to %q", status, loc)
		}
	}
	_, body = get(t, staff, page)
	if strings.Count(body, `<span class="phone">`+phone[1]+`</span>`) != 1 || !strings.Contains(body, i18n.T(i18n.ZH, "console.opt_outs.source.staff", nil)) {
		t.Fatal("the phone is not listed once, as added by staff")
	}
	id := createCampaign(t, staff, a.Base, url.Values{"name": {"全社区通知"}, "channel": {"sms"}, "body": {"通知"}, "scope": {"all"}})
	if _, body = get(t, staff, org+"/outreach/campaigns/"+id); !strings.Contains(body, html.EscapeString(i18n.T(i18n.ZH, "console.outreach.skipped_optout", map[string]any{"n": 1}))) {
		t.Fatal("the draft does not say one person opted out")
	}
	if status, loc, _ := postFor(t, staff, page+"/remove", url.Values{"csrf": form["csrf"], "phone": {phone[1]}}); status != http.StatusSeeOther || !strings.HasSuffix(loc, "?removed=1") {
		t.Fatalf("remove: %d to %q", status, loc)
	}
	if _, body = get(t, staff, page); strings.Contains(body, `<span class="phone">`+phone[1]+`</span>`) {
		t.Fatal("the phone is still listed")
	}

	if status, body := get(t, staff, org+"/outreach/replies"); status != http.StatusOK || !strings.Contains(body, i18n.T(i18n.ZH, "console.replies.empty", nil)) {
		t.Fatalf("replies: %d", status)
	}
	if status, _ := get(t, staff, org+"/outreach/replies?kind=bogus"); status != http.StatusUnprocessableEntity {
		t.Fatalf("replies of an unknown kind: %d, want 422", status)
	}
}

// robotKey is the WeCom robot's key in the tests: its hint shows its last
// four characters.
const robotKey = "3f2a9c5e-8b1d-4e6f-a7c2-5d9e0b4f5aaa"

// robotURL is the webhook address WeCom shows for the robot of key.
func robotURL(key string) string {
	return "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + key
}

// setRobot posts the overview's robot form as c.
func setRobot(t testing.TB, c *http.Client, base, name, webhook string) (int, string, string) {
	t.Helper()
	page := base + "/console/orgs/yucai/outreach"
	_, body := get(t, c, page)
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no form on the outreach page")
	}
	return postFor(t, c, page+"/robot", url.Values{"csrf": {m[1]}, "name": {name}, "webhook_url": {webhook}})
}

// TestOutreachWeComRobot: a community admin sets the community's WeCom
// group robot on the outreach page (a wrong address refused beside its
// field), which then shows its name and the end of its key, never the
// key; staff see it and cannot change it; once removed, the builder says
// a notice needs one and outreach refuses one.
func TestOutreachWeComRobot(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	admin, staff := client(t), client(t)
	httpSignIn(t, admin, a.Base, "yucai.admin")
	httpSignIn(t, staff, a.Base, "yucai.staff")
	org := a.Base + "/console/orgs/yucai"
	zh := func(key string, args map[string]any) string { return html.EscapeString(i18n.T(i18n.ZH, key, args)) }

	_, body := get(t, admin, org+"/outreach")
	if !strings.Contains(body, `id="wecom-robot"`) || !strings.Contains(body, zh("console.robot.none", nil)) || !strings.Contains(body, `name="webhook_url"`) {
		t.Fatal("the admin's outreach page has no robot panel saying none is set, with its form")
	}

	// A wrong address: outreach's message beside the field, the name kept.
	status, _, body := setRobot(t, admin, a.Base, "育才社区居民群", "https://example.com/cgi-bin/webhook/send?key="+robotKey)
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, zh("wecom_webhook", nil)) || !strings.Contains(body, `value="育才社区居民群"`) {
		t.Fatalf("a wrong address: %d %q, want 422 with outreach's message and the name kept", status, errorsOn(body))
	}
	if strings.Contains(body, robotKey) {
		t.Fatal("the refused form shows the address typed")
	}
	if status, loc, body := setRobot(t, admin, a.Base, "育才社区居民群", robotURL(robotKey)); status != http.StatusSeeOther || !strings.HasSuffix(loc, "/outreach?robot=set#wecom-robot") {
		t.Fatalf("set the robot: %d to %q %q", status, loc, errorsOn(body))
	}
	hint := "****" + robotKey[len(robotKey)-4:]
	for _, c := range []*http.Client{admin, staff} {
		_, body = get(t, c, org+"/outreach?robot=set")
		if !strings.Contains(body, `<dd class="robot-name">育才社区居民群</dd>`) || !strings.Contains(body, `<code class="key-hint">`+hint+`</code>`) {
			t.Fatal("the page does not show the robot's name and the end of its key")
		}
		if strings.Contains(body, robotKey) || strings.Contains(body, robotKey[:8]) {
			t.Fatal("the page shows the robot's key")
		}
	}
	if !strings.Contains(body, zh("console.robot.admin_only", nil)) || strings.Contains(body, `name="webhook_url"`) || strings.Contains(body, "/outreach/robot") {
		t.Fatal("staff are offered to change the robot")
	}
	// Staff may not change it, even by posting the form themselves.
	token := csrfField.FindStringSubmatch(body)[1]
	for _, p := range []string{"/outreach/robot", "/outreach/robot/delete"} {
		if status, _, _ := postFor(t, staff, org+p, url.Values{"csrf": {token}, "name": {"别的群"}, "webhook_url": {robotURL("0000")}}); status != http.StatusForbidden {
			t.Fatalf("staff post %s: %d, want 403", p, status)
		}
	}
	if _, body = get(t, staff, org+"/outreach"); !strings.Contains(body, hint) {
		t.Fatal("staff's refused post changed the robot")
	}
	if _, body = get(t, staff, org+"/outreach/new"); strings.Contains(body, `value="wecom" disabled`) || strings.Contains(body, robotKey) ||
		!strings.Contains(body, zh("console.outreach.to_group_named", map[string]any{"name": "育才社区居民群"})) {
		t.Fatal("with a robot, the builder does not offer a notice to the group")
	}

	// Removed: the builder says a notice needs a robot, and outreach
	// refuses one beside the channel.
	_, body = get(t, admin, org+"/outreach")
	if status, loc, _ := postFor(t, admin, org+"/outreach/robot/delete", url.Values{"csrf": {csrfField.FindStringSubmatch(body)[1]}}); status != http.StatusSeeOther || !strings.HasSuffix(loc, "?robot=removed#wecom-robot") {
		t.Fatalf("remove the robot: %d to %q", status, loc)
	}
	if _, body = get(t, admin, org+"/outreach"); strings.Contains(body, hint) || !strings.Contains(body, zh("console.robot.none", nil)) {
		t.Fatal("the removed robot is still shown")
	}
	if _, body = get(t, staff, org+"/outreach/new"); !strings.Contains(body, `value="wecom" disabled`) || !strings.Contains(body, zh("console.outreach.wecom_none", nil)) {
		t.Fatal("without a robot, the builder's notice is not disabled with a note")
	}
	form := formOf(t, staff, org+"/outreach/new")
	form.Set("name", "群通知")
	form.Set("channel", "wecom")
	form.Set("body", "{{.Community}}通知")
	if status, _, body = postFor(t, staff, org+"/outreach/campaigns", form); status != http.StatusUnprocessableEntity || !strings.Contains(body, zh("wecom_no_robot", nil)) {
		t.Fatalf("a notice without a robot: %d %q, want 422 with outreach's message", status, errorsOn(body))
	}
}

// TestOutreachWeComNotice: staff write a markdown notice to the
// community's WeCom group in the builder; its preview holds it to what a
// notice may use; the draft is a campaign of channel wecom and format
// markdown, to the group, with the community's name in its text.
func TestOutreachWeComNotice(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	admin, staff := client(t), client(t)
	httpSignIn(t, admin, a.Base, "yucai.admin")
	httpSignIn(t, staff, a.Base, "yucai.staff")
	org := a.Base + "/console/orgs/yucai"
	zh := func(key string, args map[string]any) string { return html.EscapeString(i18n.T(i18n.ZH, key, args)) }
	if status, _, body := setRobot(t, admin, a.Base, "育才社区居民群", robotURL(robotKey)); status != http.StatusSeeOther {
		t.Fatalf("set the robot: %d %q", status, errorsOn(body))
	}

	form := formOf(t, staff, org+"/outreach/new")
	preview := func(body string) string {
		f := url.Values{"csrf": form["csrf"], "channel": {"wecom"}, "format": {"markdown"}, "body": {body}}
		status, _, out := postFor(t, staff, org+"/outreach/preview", f)
		if status != http.StatusOK {
			t.Fatalf("preview: %d", status)
		}
		return out
	}
	if out := preview("## {{.Community}}核酸检测"); !strings.Contains(out, "## 师大育才社区核酸检测") || !strings.Contains(out, `data-format="markdown"`) {
		t.Fatalf("a notice's preview: %s", out)
	}
	if out := preview("{{.Name}}您好"); !strings.Contains(out, zh("wecom_fields", map[string]any{"name": ".Name"})) {
		t.Fatalf("a notice with a resident's field: %s", out)
	}

	// The audience and template choices the page hides are not the notice's.
	form.Set("name", "周六核酸检测群通知")
	form.Set("channel", "wecom")
	form.Set("format", "markdown")
	form.Set("body", "## {{.Community}}核酸检测\n**本周六上午8点**，社区广场。")
	form.Set("scope", "grids")
	form["tags"] = []string{"elderly"}
	form.Set("urgent", "1")
	status, loc, body := postFor(t, staff, org+"/outreach/campaigns", form)
	m := campaignLink.FindStringSubmatch(loc)
	if status != http.StatusSeeOther || m == nil {
		t.Fatalf("create a notice: %d to %q %q", status, loc, errorsOn(body))
	}
	_, body = get(t, staff, org+"/outreach/campaigns/"+m[1])
	if !strings.Contains(body, `data-channel="wecom" data-format="markdown"`) {
		t.Fatal("the campaign is not a markdown notice to WeCom")
	}
	for _, want := range []string{zh("console.channel.wecom", nil), `id="audience-size" data-n="1">` + zh("console.outreach.to_group", nil),
		zh("console.outreach.format.markdown", nil), zh("console.outreach.notice_sample", nil),
		"<li><p class=\"sms-text\">## 师大育才社区核酸检测\n**本周六上午8点**，社区广场。</p>"} {
		if !strings.Contains(body, want) {
			t.Fatalf("the notice's page does not show %q", want)
		}
	}
	if !strings.Contains(body, `class="move-send`) {
		t.Fatal("the notice's draft does not offer to send")
	}
	if _, body = get(t, staff, org+"/outreach"); !strings.Contains(body, "周六核酸检测群通知") || !strings.Contains(body, zh("console.channel.wecom", nil)) {
		t.Fatal("the notice is not listed as a WeCom notice")
	}
}

// TestOutreachPausedForCredentials: a campaign the system paused because
// the provider refused our credentials says so on its page, in the
// reader's words, with the way on (resume once fixed).
func TestOutreachPausedForCredentials(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	staff := client(t)
	httpSignIn(t, staff, a.Base, "yucai.staff")
	id := createCampaign(t, staff, a.Base, url.Values{"name": {"凭证测试"}, "channel": {"sms"}, "body": {"停水通知"}, "scope": {"all"}})
	page := a.Base + "/console/orgs/yucai/outreach/campaigns/" + id
	want := html.EscapeString(i18n.T(i18n.ZH, "campaign_paused_"+outreach.PauseProviderCredentials, nil))
	if _, body := get(t, staff, page); strings.Contains(body, want) {
		t.Fatal("the alarm shows on a draft")
	}
	err := a.DB.AcrossTenants(context.Background(), "test: the worker paused it", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewRaw("UPDATE outreach_campaigns SET status = 'paused', pause_reason = ? WHERE id = ?", outreach.PauseProviderCredentials, id).Exec(ctx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	_, body := get(t, staff, page)
	if !strings.Contains(body, want) || !strings.Contains(body, `data-pause-reason="provider_credentials"`) || !strings.Contains(body, `class="move-resume`) {
		t.Fatalf("the paused campaign's page does not say why, or offers no resume: %s", body[:min(len(body), 3000)])
	}
}
