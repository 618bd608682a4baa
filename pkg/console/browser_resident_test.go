package console_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserResidentFever is a resident's path on a 360 px phone: the
// link from the SMS, 37.8 typed in the big field, the big button; the page
// says the community will call, and the fever alert is on yucai.staff's
// isolation board (and in the API's list of open alerts). The page fits the phone's width, its buttons are
// thumb-sized, and nothing in it breaks the content security policy.
func TestBrowserResidentFever(t *testing.T) {
	chromiumPath(t)
	a := startApp(t)
	staff := apiLogin(t, a.Base, "yucai.staff")
	cs, path := openLinkedCase(t, a.Base, staff, "yucai-g1", 0)
	ctx := browser(t, 360, 740, 3*time.Minute)
	do(t, ctx, "open the link on a phone",
		phone(),
		chromedp.Navigate(a.Base+path),
		chromedp.WaitVisible(css(`#temperature`)),
	)
	noProblems(t, ctx)
	if w := val(t, ctx, "the page's width", chromedp.Evaluate[float64](`document.documentElement.scrollWidth`)); w > 360 {
		t.Fatalf("the page is %.0f px wide on a 360 px phone", w)
	}
	if h := val(t, ctx, "the button's height", chromedp.Evaluate[float64](`document.querySelector("button.r-primary").getBoundingClientRect().height`)); h < 48 {
		t.Fatalf("the check-in button is %.0f px high, want a thumb's 48 at least", h)
	}
	if d := val(t, ctx, "the release date", chromedp.Text(css(`#release-date`))); d != cs.EndDate {
		t.Fatalf("the page shows the release date %q, want %q", d, cs.EndDate)
	}
	do(t, ctx, "report 37.8",
		chromedp.SendKeys(css(`#temperature`), "37.8"),
		chromedp.Click(css(`button.r-primary`)),
		chromedp.WaitVisible(css(`p.r-warn`)),
	)
	noProblems(t, ctx)
	if txt := val(t, ctx, "the answer", chromedp.Text(css(`p.r-today`))); !strings.Contains(txt, "37.8") {
		t.Fatalf("the page after the check-in says %q", txt)
	}
	code, b := api(t, a.Base, staff, http.MethodGet, "/api/v1/orgs/yucai/alerts?status=open", nil)
	if code != http.StatusOK || !strings.Contains(string(b), cs.ID) || !strings.Contains(string(b), `"fever"`) {
		t.Fatalf("yucai.staff's open alerts have no fever alert of the case: %d %s", code, b)
	}
	office := browser(t, 1280, 900, time.Minute)
	do(t, office, "yucai.staff opens the isolation board",
		signIn(a.Base, "yucai.staff"),
		chromedp.Navigate(a.Base+"/console/orgs/yucai/isolation"),
		chromedp.WaitVisible(css(`#alerts`)),
	)
	noProblems(t, office)
	if html := val(t, office, "the board's alerts", chromedp.Evaluate[string](`document.querySelector("#alerts").innerHTML`)); !strings.Contains(html, cs.ID) {
		t.Fatalf("the fever alert of case %s is not on yucai.staff's board: %s", cs.ID, html)
	}
}
