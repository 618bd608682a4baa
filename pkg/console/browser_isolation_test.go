package console_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wanjia/wanjia/pkg/i18n"
)

// TestBrowserIsolation: staff release an eligible case from the board in
// one click; yucai.grid1, on a 360 px phone, records a check-in at the
// door for a resident of its own grid (a fever, which the chart draws
// above the 37.3 °C line) and cannot open another grid's case.
func TestBrowserIsolation(t *testing.T) {
	chromiumPath(t)
	a := startApp(t)
	staff := client(t)
	httpSignIn(t, staff, a.Base, "yucai.staff")
	// A case 15 days in of 14 (due), one of grid 1 and one of grid 2.
	due := openCase(t, staff, a.Base, residentIn(t, staff, a.Base, "yucai-g2", 0), shanghaiDay(-15), "14")
	mine := openCase(t, staff, a.Base, residentIn(t, staff, a.Base, "yucai-g1", 0), "", "")
	other := openCase(t, staff, a.Base, residentIn(t, staff, a.Base, "yucai-g2", 1), "", "")

	t.Run("staff release", func(t *testing.T) {
		ctx := browser(t, 1280, 900, 40*time.Second)
		do(t, ctx, "sign in", signIn(a.Base, "yucai.staff"))
		do(t, ctx, "from home to the board",
			chromedp.Click(css(`a.figure[href$="/isolation#due"]`)),
			chromedp.WaitVisible(css(`#due-`+due+` button`)),
		)
		noProblems(t, ctx)
		do(t, ctx, "release", chromedp.Click(css(`#due-`+due+` button`)), chromedp.WaitVisible(css(`p.notice`)))
		if notice := val(t, ctx, "the notice", chromedp.Text(css(`p.notice`))); !strings.Contains(notice, i18n.T(i18n.ZH, "console.isolation.done.released", nil)) {
			t.Fatalf("after the release the board says %q", notice)
		}
		if n := val(t, ctx, "the release list", chromedp.Evaluate[int](`document.querySelectorAll("#due-`+due+`").length`)); n != 0 {
			t.Fatal("the released case is still on the release list")
		}
		do(t, ctx, "the case", chromedp.Navigate(a.Base+"/console/orgs/yucai/isolation/cases/"+due), chromedp.WaitVisible(css(`h1`)))
		if h := val(t, ctx, "the heading", chromedp.Text(css(`h1 .badge`))); h != i18n.T(i18n.ZH, "console.isolation.status.released", nil) {
			t.Fatalf("the released case's status reads %q", h)
		}
		noProblems(t, ctx)
	})

	t.Run("grid worker check-in", func(t *testing.T) {
		ctx := browser(t, 360, 740, 40*time.Second)
		do(t, ctx, "phone screen", phone())
		do(t, ctx, "sign in", signIn(a.Base, "yucai.grid1"))
		do(t, ctx, "to the board and the case",
			chromedp.Navigate(a.Base+"/console/orgs/yucai/isolation"),
			chromedp.Click(css(`#unreported a[href$="/isolation/cases/`+mine+`"]`)),
			chromedp.WaitVisible(css(`form.checkin-form input[name=temperature]`)),
		)
		noProblems(t, ctx)
		if width := val(t, ctx, "page width", chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); width > 360 {
			t.Fatalf("the case page is %d px wide on a 360 px screen", width)
		}
		do(t, ctx, "a fever at the door",
			chromedp.SendKeys(css(`form.checkin-form input[name=temperature]`), "38.1"),
			chromedp.Click(css(`form.checkin-form input[value=cough]`)),
			chromedp.Click(css(`form.checkin-form button[type=submit]`)),
			chromedp.WaitVisible(css(`p.notice`)),
		)
		if width := val(t, ctx, "page width", chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); width > 360 {
			t.Fatalf("the case page with its check-in and messages is %d px wide on a 360 px screen", width)
		}
		// The dot is drawn above the fever line (a smaller y), in red.
		pos := val(t, ctx, "the chart", chromedp.Evaluate[[]float64](`[document.querySelector("svg circle.dot.fever").cy.baseVal.value,
			document.querySelector("svg line.fever-line").y1.baseVal.value, document.querySelectorAll("svg circle.dot").length]`))
		if len(pos) != 3 || pos[0] >= pos[1] || pos[2] != 1 {
			t.Fatalf("the chart's dot and fever line: %v, want one dot above the line", pos)
		}
		if n := val(t, ctx, "check-ins", chromedp.Evaluate[int](`document.querySelectorAll("table.checkins tbody tr").length`)); n != 1 {
			t.Fatalf("%d check-ins listed, want 1", n)
		}
		do(t, ctx, "another grid's case", chromedp.Navigate(a.Base+"/console/orgs/yucai/isolation/cases/"+other), chromedp.WaitVisible(css(`h1`)))
		if txt := val(t, ctx, "the page", chromedp.Text(css(`main`))); strings.Contains(txt, i18n.T(i18n.ZH, "console.isolation.checkin.title", nil)) {
			t.Fatal("the grid worker opened another grid's case")
		}
		if code := val(t, ctx, "the answer", chromedp.Evaluate[int](`performance.getEntriesByType("navigation")[0].responseStatus`)); code != 404 {
			t.Fatalf("another grid's case answered %d, want 404", code)
		}
	})
}
