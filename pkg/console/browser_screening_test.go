package console_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wanjia/wanjia/pkg/i18n"
)

// TestBrowserCallList is the grid worker's main path on a 360 px phone:
// from home to the call list of an open campaign, a call answered and one
// not, both on the campaign's progress; and an outcome form submitted
// twice at once (a double tap on a slow line) stored once.
func TestBrowserCallList(t *testing.T) {
	chromiumPath(t)
	a := startApp(t)
	id := startScreening(t, a.Base, "浏览器排查", "yucai-g1")
	ctx := browser(t, 360, 740, 40*time.Second)
	do(t, ctx, "phone screen", phone())
	do(t, ctx, "sign in", signIn(a.Base, "yucai.grid1"))
	do(t, ctx, "from home to the call list",
		chromedp.Click(css(`.campaign a.button[href$="/screenings/`+id+`/calls"]`)),
		chromedp.WaitVisible(css(`a.dial`)),
	)
	noProblems(t, ctx)
	if width := val(t, ctx, "page width", chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); width > 360 {
		t.Fatalf("the call list is %d px wide on a 360 px screen", width)
	}

	// The number is one big target; the outcomes are big and all on the
	// first screen, under it.
	type box struct {
		Href, Text            string
		Width, Height, Bottom float64
	}
	dial := val(t, ctx, "the number", chromedp.Evaluate[box](`(() => { const a = document.querySelector("a.dial"), r = a.getBoundingClientRect();
		return {href: a.getAttribute("href"), text: a.textContent.trim(), width: r.width, height: r.height, bottom: r.bottom}; })()`))
	digits := strings.TrimPrefix(dial.Href, "tel:")
	if !strings.HasPrefix(dial.Href, "tel:") || len(digits) < 11 || !strings.Contains(dial.Text, digits) || dial.Height < 56 || dial.Width < 300 {
		t.Fatalf("the number to call: %+v, want one tel: link at least 56 px high across the screen", dial)
	}
	buttons := val(t, ctx, "the outcomes", chromedp.Evaluate[[]box](`[...document.querySelectorAll("form.outcome-form button.outcome")].map(b => {
		const r = b.getBoundingClientRect(); return {text: b.textContent.trim(), width: r.width, height: r.height, bottom: r.bottom}; })`))
	screen := val(t, ctx, "the screen", chromedp.Evaluate[float64](`window.innerHeight`))
	if len(buttons) != 5 {
		t.Fatalf("%d outcome buttons, want 5", len(buttons))
	}
	for _, b := range buttons {
		if b.Height < 48 || b.Width < 90 || b.Bottom > screen {
			t.Fatalf("outcome %q is %.0f×%.0f px and ends at %.0f of %.0f: want big buttons on the first screen", b.Text, b.Width, b.Height, b.Bottom, screen)
		}
	}
	if h := val(t, ctx, "the findings", chromedp.Evaluate[float64](`document.querySelector("details.findings summary").getBoundingClientRect().height`)); h < 44 {
		t.Fatalf("the findings' summary is %v px high", h)
	}

	address := func() string {
		return val(t, ctx, "the household", chromedp.Text(css(`#task-address`)))
	}
	first := address()
	do(t, ctx, "answered", chromedp.Click(css(`button.outcome-reached`)), chromedp.WaitVisible(css(`p.notice`)))
	notice := val(t, ctx, "the notice", chromedp.Text(css(`p.notice`)))
	if !strings.Contains(notice, first) || !strings.Contains(notice, i18n.T(i18n.ZH, "console.outcome.phone.reached", nil)) {
		t.Fatalf("after answering %q the list says %q", first, notice)
	}
	second := address()
	if second == first {
		t.Fatal("the list did not move on to the next household")
	}
	do(t, ctx, "no answer", chromedp.Click(css(`button.outcome-no_answer`)),
		chromedp.WaitVisible(chromedp.Search(`//p[@class="notice" and contains(., "`+second+`")]`)))

	figures := func() map[string]int {
		do(t, ctx, "the progress", chromedp.Navigate(a.Base+"/console/orgs/yucai/screenings/"+id), chromedp.WaitVisible(css(`#progress`)))
		raw := val(t, ctx, "the figures", chromedp.Evaluate[map[string]string](`Object.fromEntries([...document.querySelectorAll("#progress [data-figure]")].map(d => [d.dataset.figure, d.querySelector("dd").textContent.trim()]))`))
		out := map[string]int{}
		for k, v := range raw {
			out[k], _ = strconv.Atoi(v)
		}
		return out
	}
	if f := figures(); f["reached"] != 1 || f["calls_today"] != 2 || f["by_phone"] != 1 {
		t.Fatalf("the progress shows %v, want 1 reached (by phone) of 2 calls today", f)
	}
	if rows := val(t, ctx, "the worker's row", chromedp.Evaluate[[]string](`[...document.querySelectorAll("table.by-worker tbody td")].map(td => td.textContent.trim())`)); strings.Join(rows, " ") != "2 0 1" {
		t.Fatalf("today's row of the worker: %q, want 2 calls, 0 visits, 1 reached", rows)
	}
	noProblems(t, ctx)

	// The same form, sent twice at once, as a double tap on a slow line
	// would: both answers lead to the same page, and one attempt is stored.
	do(t, ctx, "back to the list", chromedp.Navigate(a.Base+"/console/orgs/yucai/screenings/"+id+"/calls"), chromedp.WaitVisible(css(`form.outcome-form`)))
	third := val(t, ctx, "the form's task", chromedp.Evaluate[string](`document.querySelector("form.outcome-form").getAttribute("action").replace(/\/attempts$/, "")`))
	answers := val(t, ctx, "post twice", chromedp.Evaluate[[]string](`(async () => {
		const form = document.querySelector("form.outcome-form");
		const body = new URLSearchParams(new FormData(form));
		body.set("outcome", "no_answer");
		const send = () => fetch(form.action, {method: "POST", body: body, credentials: "same-origin"});
		const answers = await Promise.all([send(), send()]);
		return answers.map(r => r.status + " " + r.url);
	})()`, chromedp.EvalAwaitPromise))
	if len(answers) != 2 || answers[0] != answers[1] || !strings.HasPrefix(answers[0], "200 ") || !strings.Contains(answers[0], "done=") {
		t.Fatalf("the two submissions were answered %q, want the same page twice", answers)
	}
	do(t, ctx, "the household's history", chromedp.Navigate(a.Base+third), chromedp.WaitVisible(css(`h1`)))
	if n := val(t, ctx, "attempts listed", chromedp.Evaluate[int](`document.querySelectorAll("table.history tbody tr").length`)); n != 1 {
		t.Fatalf("the household submitted twice has %d attempts, want 1", n)
	}
	if f := figures(); f["calls_today"] != 3 {
		t.Fatalf("calls today after the double submission: %d, want 3", f["calls_today"])
	}
}

// TestBrowserWrongNumberAtTheDoor: on a 360 px phone the grid worker marks
// a number wrong on the call list, finds the household on the door list
// flagged so, types the right number there and dials it from the list;
// the call list gives the household back with the new number.
func TestBrowserWrongNumberAtTheDoor(t *testing.T) {
	chromiumPath(t)
	a := startApp(t)
	id := startScreening(t, a.Base, "空号上门", "yucai-g1")
	ctx := browser(t, 360, 740, 60*time.Second)
	do(t, ctx, "phone screen", phone())
	do(t, ctx, "sign in", signIn(a.Base, "yucai.grid1"))
	calls := a.Base + "/console/orgs/yucai/screenings/" + id + "/calls"
	do(t, ctx, "the call list", chromedp.Navigate(calls), chromedp.WaitVisible(css(`a.dial`)))
	address := val(t, ctx, "the household", chromedp.Text(css(`#task-address`)))
	do(t, ctx, "a wrong number, then to the door list",
		chromedp.Click(css(`button.outcome-wrong_number`)),
		chromedp.WaitVisible(css(`p.notice`)),
		chromedp.Click(css(`p.actions a[href$="/visits"]`)),
		chromedp.WaitVisible(css(`form.phone-form`)),
	)
	noProblems(t, ctx)
	if got := val(t, ctx, "the door list's household", chromedp.Text(css(`#task-address`))); got != address {
		t.Fatalf("the door list shows %q, want %q just marked wrong", got, address)
	}
	if n := val(t, ctx, "dial links", chromedp.Evaluate[int](`document.querySelectorAll("section.task a.dial").length`)); n != 0 {
		t.Fatal("the door list offers to dial the number just found wrong")
	}
	if flag := val(t, ctx, "the flag", chromedp.Text(css(`p.wrong-number .tag`))); flag != i18n.T(i18n.ZH, "console.visits.wrong_number", nil) {
		t.Fatalf("the flag says %q", flag)
	}
	small := val(t, ctx, "the form's controls", chromedp.Evaluate[[]string](`[...document.querySelectorAll("form.phone-form input[name=phone], form.phone-form button")]
		.map(e => e.getBoundingClientRect()).filter(r => r.height < 44 || r.width < 44 || r.right > 360).map(r => r.width + "×" + r.height)`))
	if len(small) > 0 {
		t.Fatalf("the number form's controls are small or off the screen: %v", small)
	}
	do(t, ctx, "the right number",
		chromedp.SendKeys(css(`form.phone-form input[name=phone]`), "13912345678"),
		chromedp.Click(css(`form.phone-form button`)),
		chromedp.WaitVisible(css(`section.corrected a.dial`)),
	)
	noProblems(t, ctx)
	type box struct {
		Href          string
		Height, Width float64
	}
	dial := val(t, ctx, "the number to dial", chromedp.Evaluate[box](`(() => { const a = document.querySelector("section.corrected a.dial"), r = a.getBoundingClientRect();
		return {href: a.getAttribute("href"), height: r.height, width: r.width}; })()`))
	if dial.Href != "tel:13912345678" || dial.Height < 44 || dial.Width < 44 {
		t.Fatalf("the corrected number to dial: %+v, want tel:13912345678, at least 44 px", dial)
	}
	do(t, ctx, "back to the call list", chromedp.Navigate(calls), chromedp.WaitVisible(css(`a.dial`)))
	if got := val(t, ctx, "the call list's household", chromedp.Text(css(`#task-address`))); got != address {
		t.Fatalf("the call list gives %q, want %q back", got, address)
	}
	if href := val(t, ctx, "its number", chromedp.AttributeValue(css(`a.dial`), "href")); href.Value != "tel:13912345678" {
		t.Fatalf("the call list dials %q, want the new number", href.Value)
	}
}
