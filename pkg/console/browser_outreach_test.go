package console_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wanjia/wanjia/pkg/config"
	"github.com/wanjia/wanjia/pkg/i18n"
)

// TestBrowserOutreach is staff's path through a campaign on an office PC:
// from the menu to the builder, a text written with the preview following
// it, grid 2 as the audience; the draft's audience size and first
// messages before anything goes; then sending it through the log
// provider (the tests' default) and watching the page, which htmx
// updates every 2 s, until it shows the campaign finished with every
// message sent.
func TestBrowserOutreach(t *testing.T) {
	chromiumPath(t)
	a := startApp(t)
	ctx := browser(t, 1280, 900, 5*time.Minute)
	do(t, ctx, "sign in", signIn(a.Base, "yucai.staff"))
	do(t, ctx, "from the menu to the builder",
		chromedp.Click(css(`nav.menu a[href$="/outreach"]`)),
		chromedp.WaitVisible(css(`nav.tabs`)),
		chromedp.Click(css(`a.button[href$="/outreach/new"]`)),
		chromedp.WaitVisible(css(`textarea[name=body]`)),
	)
	noProblems(t, ctx)

	do(t, ctx, "write the message",
		chromedp.SendKeys(css(`input[name=name]`), "周末核酸检测通知"),
		chromedp.SendKeys(css(`textarea[name=body]`), "{{.Name}}您好：本周六上午8点在社区广场核酸检测，请带好身份证。"),
		chromedp.WaitVisible(chromedp.Search(`//p[@class="sms-text" and contains(., "您好：本周六")]`)),
	)
	// The preview follows the typing: the last request may still be on
	// its way when the first answer shows, so wait for the whole text.
	text := `//div[@id="text-preview"]/p[@class="sms-text" and contains(., "请带好身份证。")]`
	do(t, ctx, "the preview", chromedp.WaitVisible(chromedp.Search(text)))
	shown := val(t, ctx, "the preview's text", chromedp.Text(css(`#text-preview .sms-text`)))
	if !strings.HasPrefix(shown, i18n.T(i18n.ZH, "console.outreach.sample_name", nil)+"您好") {
		t.Fatalf("the preview shows %q, want the sample name in place of {{.Name}}", shown)
	}
	if parts := val(t, ctx, "the parts", chromedp.AttributeValue(css(`#text-preview .sms-count`), "data-parts")); parts.Value != "1" {
		t.Fatalf("the preview counts %s SMS parts, want 1", parts.Value)
	}

	do(t, ctx, "grid 2, urgent, to the preview step",
		chromedp.Click(css(`input[name=scope][value=grids]`)),
		chromedp.Click(css(`input[name=grids][value=yucai-g2]`)),
		// Urgent: a test run at night would otherwise wait for the morning.
		chromedp.Click(css(`input[name=urgent]`)),
		chromedp.Click(css(`form.builder button[type=submit]`)),
		chromedp.WaitVisible(css(`#audience-size`)),
	)
	noProblems(t, ctx)
	size := val(t, ctx, "the audience", chromedp.Evaluate[int](`+document.querySelector("#audience-size").dataset.n`))
	if size < 100 {
		t.Fatalf("the campaign to grid 2 goes to %d people", size)
	}
	samples := val(t, ctx, "the samples", chromedp.Evaluate[[]string](`[...document.querySelectorAll("ol.samples .sms-text")].map(p => p.textContent)`))
	if len(samples) != 5 {
		t.Fatalf("%d sample messages before sending, want 5", len(samples))
	}
	for _, s := range samples {
		if strings.Contains(s, "{{") || !strings.Contains(s, "您好：本周六") {
			t.Fatalf("a sample message: %q", s)
		}
	}

	// Send, and watch the same page: htmx swaps the panel in place (the
	// page is never reloaded, so the mark below stays).
	do(t, ctx, "send",
		chromedp.Click(css(`button.move-send`)),
		chromedp.WaitVisible(css(`#campaign-status progress`)),
		chromedp.Evaluate[chromedp.Void](`window.__sameDocument = true`),
	)
	type panel struct {
		Status string         `json:"status"`
		Value  float64        `json:"value"`
		Max    float64        `json:"max"`
		Polls  bool           `json:"polls"`
		Same   bool           `json:"same"`
		Counts map[string]int `json:"counts"`
	}
	var seen []string
	deadline := time.Now().Add(4 * time.Minute) // 1,420 messages under -race on a busy 2-core machine
	var p panel
	for {
		p = val(t, ctx, "read the panel", chromedp.Evaluate[panel](`(() => {
			const s = document.querySelector("#campaign-status"), bar = s.querySelector("progress");
			return {status: s.dataset.status, value: bar ? bar.value : -1, max: bar ? bar.max : -1, polls: s.hasAttribute("hx-trigger"),
				same: !!window.__sameDocument,
				counts: Object.fromEntries([...s.querySelectorAll("[data-figure]")].map(d => [d.dataset.figure, +d.querySelector("dd").textContent]))};
		})()`))
		if !p.Same {
			t.Fatal("the page was reloaded: the figures should update in place")
		}
		if step := fmt.Sprintf("%s %.0f", p.Status, p.Value); len(seen) == 0 || seen[len(seen)-1] != step {
			seen = append(seen, step)
		}
		if p.Status == "finished" {
			break
		}
		if !p.Polls {
			t.Fatalf("the %s campaign's panel does not poll", p.Status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the campaign did not finish; the panel showed %v", seen)
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("the panel went through %d states for %d messages", len(seen), size)
	if p.Polls {
		t.Fatal("the finished campaign's panel still polls")
	}
	if c := p.Counts; c["total"] != size || c["sent"]+c["delivered"] != size || c["failed"] != 0 || c["queued"] != 0 || c["sending"] != 0 {
		t.Fatalf("the finished campaign shows %v, want all %d sent", c, size)
	}
	if p.Value != p.Max || p.Max != float64(size) {
		t.Fatalf("the bar ends at %v of %v, want %d of %d", p.Value, p.Max, size, size)
	}
	badge := val(t, ctx, "the badge", chromedp.Text(css(`#campaign-status .badge`)))
	if badge != i18n.T(i18n.ZH, "console.outreach.status.finished", nil) {
		t.Fatalf("the badge says %q", badge)
	}
	if n := val(t, ctx, "buttons", chromedp.Evaluate[int](`document.querySelectorAll("#campaign-status form").length`)); n != 0 {
		t.Fatalf("a finished campaign with nothing failed offers %d moves", n)
	}
	noProblems(t, ctx)
}

// TestBrowserWeComNotice is a notice to the community's WeCom group: the
// admin sets the group's robot on the outreach page (WeCom is a local
// server here, through the configuration's WeComURL, WANJIA_WECOM_URL);
// then staff, on a phone, choose a WeCom notice in the builder, where a
// format takes the place of the audience, write it in markdown,
// send it and watch its page until the one post is sent, which the robot
// got once.
func TestBrowserWeComNotice(t *testing.T) {
	chromiumPath(t)
	robot := newFakeRobot(t)
	a := startApp(t, func(c *config.Config) { c.WeComURL = robot.URL })
	org := a.Base + "/console/orgs/yucai"

	admin := browser(t, 1280, 900, 2*time.Minute)
	do(t, admin, "sign in as the admin", signIn(a.Base, "yucai.admin"))
	do(t, admin, "set the robot",
		chromedp.Navigate(org+"/outreach"),
		chromedp.WaitVisible(css(`#wecom-robot input[name=webhook_url]`)),
		chromedp.SendKeys(css(`#wecom-robot input[name=name]`), "育才社区居民群"),
		chromedp.SendKeys(css(`#wecom-robot input[name=webhook_url]`), robotURL(robotKey)),
		chromedp.Click(css(`form.robot-form button[type=submit]`)),
		chromedp.WaitVisible(css(`#wecom-robot code.key-hint`)),
	)
	noProblems(t, admin)
	if hint := val(t, admin, "the key's hint", chromedp.Text(css(`#wecom-robot code.key-hint`))); hint != "****"+robotKey[len(robotKey)-4:] {
		t.Fatalf("the robot shows %q, want the end of its key", hint)
	}
	if page := val(t, admin, "the page", chromedp.OuterHTML(css(`html`))); strings.Contains(page, robotKey) {
		t.Fatal("the page shows the robot's key")
	}

	staff := browser(t, 1280, 900, 3*time.Minute)
	do(t, staff, "sign in as staff on a phone", phone(), signIn(a.Base, "yucai.staff"))
	do(t, staff, "a WeCom notice in the builder",
		chromedp.Navigate(org+"/outreach/new"),
		chromedp.WaitVisible(css(`fieldset.audience`)),
		chromedp.WaitNotVisible(css(`fieldset.notice-format`)),
		chromedp.Click(css(`input[name=channel][value=wecom]`)),
		// The format takes the audience's place.
		chromedp.WaitVisible(css(`fieldset.notice-format`)),
		chromedp.WaitVisible(css(`#notice-audience`)),
		chromedp.WaitNotVisible(css(`fieldset.audience`)),
		chromedp.WaitNotVisible(css(`fieldset.audience-tags`)),
		chromedp.Click(css(`input[name=format][value=markdown]`)),
		chromedp.SendKeys(css(`input[name=name]`), "周六核酸检测群通知"),
		chromedp.SendKeys(css(`textarea[name=body]`), "## {{.Community}}核酸检测\n**本周六上午8点**在社区广场，请带好身份证。"),
		chromedp.WaitVisible(chromedp.Search(`//div[@id="text-preview"]/p[@class="sms-text" and contains(., "请带好身份证。")]`)),
	)
	if shown := val(t, staff, "the preview", chromedp.Text(css(`#text-preview .sms-text`))); !strings.HasPrefix(shown, "## 师大育才社区核酸检测") {
		t.Fatalf("the preview shows %q, want the community's name in place of {{.Community}}", shown)
	}
	if f := val(t, staff, "the preview's format", chromedp.AttributeValue(css(`#text-preview .sms-count`), "data-format")); f.Value != "markdown" {
		t.Fatalf("the preview is of a %q notice", f.Value)
	}
	if w := val(t, staff, "the page's width", chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 360 {
		t.Fatalf("the builder is %d px wide on a 360 px phone", w)
	}
	do(t, staff, "urgent, to the preview step",
		// Urgent: a test run at night would otherwise wait for the morning.
		chromedp.Click(css(`input[name=urgent]`)),
		chromedp.Click(css(`form.builder button[type=submit]`)),
		chromedp.WaitVisible(css(`#audience-size`)),
	)
	noProblems(t, staff)
	if to := val(t, staff, "the audience", chromedp.Text(css(`#audience-size`))); to != i18n.T(i18n.ZH, "console.outreach.to_group", nil) {
		t.Fatalf("the notice's draft says %q", to)
	}

	do(t, staff, "send", chromedp.Click(css(`button.move-send`)), chromedp.WaitVisible(css(`#campaign-status progress`)))
	type panel struct {
		Status string         `json:"status"`
		Counts map[string]int `json:"counts"`
	}
	var p panel
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(250 * time.Millisecond) {
		p = val(t, staff, "read the panel", chromedp.Evaluate[panel](`(() => {
			const s = document.querySelector("#campaign-status");
			return {status: s.dataset.status,
				counts: Object.fromEntries([...s.querySelectorAll("[data-figure]")].map(d => [d.dataset.figure, +d.querySelector("dd").textContent]))};
		})()`))
		if p.Status == "finished" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the notice was not sent: %s %v", p.Status, p.Counts)
		}
	}
	if c := p.Counts; c["total"] != 1 || c["sent"]+c["delivered"] != 1 || c["failed"] != 0 {
		t.Fatalf("the sent notice shows %v, want 1 sent", c)
	}
	noProblems(t, staff)
	posts := robot.Posts()
	if len(posts) != 1 {
		t.Fatalf("the robot got %d posts, want 1: %+v", len(posts), posts)
	}
	if got := posts[0]; got.Key != robotKey || got.Type != "markdown" || !strings.Contains(got.Content, "师大育才社区") || !strings.Contains(got.Content, "**本周六上午8点**") {
		t.Fatalf("the robot got %+v, want the markdown notice with the community's name", got)
	}
}

// robotPost is what a WeCom group robot was sent.
type robotPost struct {
	Key, Type, Content string
}

// fakeRobot stands for WeCom's robot webhook, answering every post as
// WeCom does when it takes one.
type fakeRobot struct {
	*httptest.Server
	mu    sync.Mutex
	posts []robotPost
}

func newFakeRobot(t testing.TB) *fakeRobot {
	r := &fakeRobot{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost || req.URL.Path != "/cgi-bin/webhook/send" {
			http.NotFound(w, req)
			return
		}
		var body struct {
			MsgType  string                    `json:"msgtype"`
			Text     *struct{ Content string } `json:"text"`
			Markdown *struct{ Content string } `json:"markdown"`
		}
		raw, _ := io.ReadAll(req.Body)
		if err := json.Unmarshal(raw, &body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		p := robotPost{Key: req.URL.Query().Get("key"), Type: body.MsgType}
		if body.Text != nil {
			p.Content = body.Text.Content
		} else if body.Markdown != nil {
			p.Content = body.Markdown.Content
		}
		r.mu.Lock()
		r.posts = append(r.posts, p)
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	}))
	t.Cleanup(r.Close)
	return r
}

// Posts are the posts the robot got, in order.
func (r *fakeRobot) Posts() []robotPost {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]robotPost(nil), r.posts...)
}

// TestBrowserMergeFields: on a 360 px phone, staff write a message with
// the merge-field buttons instead of typing {{.Name}}: a tap puts the
// field where the cursor is, and the preview shows the text with the
// sample name there, its SMS count following. The template form offers
// the isolation fields too.
func TestBrowserMergeFields(t *testing.T) {
	chromiumPath(t)
	a := startApp(t)
	ctx := browser(t, 360, 740, 2*time.Minute)
	do(t, ctx, "phone screen", phone())
	do(t, ctx, "sign in", signIn(a.Base, "yucai.staff"))
	do(t, ctx, "the builder",
		chromedp.Navigate(a.Base+"/console/orgs/yucai/outreach/new"),
		chromedp.WaitVisible(css(`.merge-fields button[data-field="{{.Name}}"]`)),
		chromedp.SendKeys(css(`textarea[name=body]`), "您好，请到社区。"),
		chromedp.WaitVisible(chromedp.Search(`//p[@class="sms-text" and contains(., "请到社区。")]`)),
	)
	noProblems(t, ctx)
	if n := val(t, ctx, "the buttons", chromedp.Evaluate[[]string](`[...document.querySelectorAll('.merge-fields button')].map(b => b.dataset.field)`)); strings.Join(n, " ") != "{{.Name}} {{.Community}}" {
		t.Fatalf("the builder offers %q, want the fields for anyone (no isolation fields)", n)
	}
	if h := val(t, ctx, "the button's height", chromedp.Evaluate[float64](`document.querySelector('.merge-fields button').getBoundingClientRect().height`)); h < 44 {
		t.Fatalf("the field button is %.0f px tall, want at least 44", h)
	}
	do(t, ctx, "the cursor after 您好, then 姓名",
		chromedp.Evaluate[chromedp.Void](`document.getElementById('body').setSelectionRange(2, 2)`),
		chromedp.Click(css(`.merge-fields button[data-field="{{.Name}}"]`)),
	)
	if body := val(t, ctx, "the body", chromedp.Value(css(`textarea[name=body]`))); body != "您好{{.Name}}，请到社区。" {
		t.Fatalf("the body after the tap: %q, want the field at the cursor", body)
	}
	sample := i18n.T(i18n.ZH, "console.outreach.sample_name", nil)
	want := "您好" + sample + "，请到社区。"
	do(t, ctx, "the preview follows", chromedp.WaitVisible(chromedp.Search(`//div[@id="text-preview"]/p[@class="sms-text" and .="`+want+`"]`)))
	count := val(t, ctx, "the count", chromedp.Text(css(`#text-preview .sms-count`)))
	if !strings.Contains(count, fmt.Sprint(len([]rune(want)))) {
		t.Fatalf("the preview counts %q, want %d characters", count, len([]rune(want)))
	}
	// The cursor stays after the field: a second tap goes on from there.
	do(t, ctx, "社区名称 next", chromedp.Click(css(`.merge-fields button[data-field="{{.Community}}"]`)))
	if body := val(t, ctx, "the body", chromedp.Value(css(`textarea[name=body]`))); body != "您好{{.Name}}{{.Community}}，请到社区。" {
		t.Fatalf("the body after the second tap: %q", body)
	}
	noProblems(t, ctx)

	do(t, ctx, "the template form",
		chromedp.Navigate(a.Base+"/console/orgs/yucai/outreach/templates"),
		chromedp.Click(css(`details.add summary`)),
		chromedp.WaitVisible(css(`.merge-fields button[data-field="{{.EndDate}}"]`)),
		chromedp.SendKeys(css(`textarea[name=body]`), "解除日期："),
		chromedp.Click(css(`.merge-fields button[data-field="{{.EndDate}}"]`)),
	)
	if body := val(t, ctx, "the template's body", chromedp.Value(css(`textarea[name=body]`))); body != "解除日期：{{.EndDate}}" {
		t.Fatalf("the template's body: %q", body)
	}
	do(t, ctx, "its preview shows a date", chromedp.WaitVisible(chromedp.Search(`//div[@id="text-preview"]/p[@class="sms-text" and starts-with(., "解除日期：20")]`)))
	noProblems(t, ctx)
}
