package console_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wanjia/wanjia/pkg/i18n"
)

// TestBrowserDirectives: qixing.official sends a directive to Yucai and
// Wangcheng through the form (two checkboxes, a due date); yucai.admin
// finds it waiting on the home page and acknowledges it; the official's
// page of the directive shows Yucai acknowledged (by whom) and Wangcheng
// not.
func TestBrowserDirectives(t *testing.T) {
	chromiumPath(t)
	a := startApp(t)
	title := "关于做好春节返乡人员排查的通知"
	due := time.Now().In(shanghai).AddDate(0, 0, 3)

	off := browser(t, 1280, 900, 40*time.Second)
	do(t, off, "sign in", signIn(a.Base, "qixing.official"))
	do(t, off, "the form",
		chromedp.Navigate(a.Base+"/console/orgs/qixing/directives"),
		chromedp.Click(css(`details.add summary`)),
		chromedp.WaitVisible(css(`form.directive-form input[name=title]`)),
		chromedp.SendKeys(css(`form.directive-form input[name=title]`), title),
		chromedp.SendKeys(css(`form.directive-form textarea[name=body]`), "请各社区于截止日期前完成排查并确认。"),
		chromedp.Click(css(`form.directive-form input[value=yucai]`)),
		chromedp.Click(css(`form.directive-form input[value=wangcheng]`)),
		// The date input takes the date as a script sets it, whatever the
		// browser's locale shows.
		chromedp.SetValue(css(`form.directive-form input[name=due_date]`), due.Format(time.DateOnly)),
		chromedp.Click(css(`form.directive-form button[type=submit]`)),
		chromedp.WaitVisible(css(`table.directive-acks`)),
	)
	noProblems(t, off)
	directiveURL := val(t, off, "its address", chromedp.Location())

	adm := browser(t, 1280, 900, 40*time.Second)
	do(t, adm, "sign in", signIn(a.Base, "yucai.admin"))
	do(t, adm, "from home to the directive",
		chromedp.Navigate(a.Base+"/console/orgs/yucai"),
		chromedp.WaitVisible(css(`section.home-directives`)),
		chromedp.Click(css(`section.home-directives a`)),
		chromedp.WaitVisible(css(`form.ack-form button`)),
	)
	if h := val(t, adm, "the heading", chromedp.Text(css(`h1`))); !strings.Contains(h, title) ||
		!strings.Contains(h, i18n.T(i18n.ZH, "console.directives.unacknowledged", nil)) {
		t.Fatalf("the directive's heading reads %q", h)
	}
	noProblems(t, adm)
	do(t, adm, "acknowledge", chromedp.Click(css(`form.ack-form button`)), chromedp.WaitVisible(css(`p.notice`)))
	if h := val(t, adm, "the heading", chromedp.Text(css(`h1 .badge`))); h != i18n.T(i18n.ZH, "console.directives.acknowledged", nil) {
		t.Fatalf("after acknowledging, the badge reads %q", h)
	}

	do(t, off, "the directive again", chromedp.Navigate(strings.TrimSuffix(directiveURL, "?sent=1")), chromedp.WaitVisible(css(`table.directive-acks`)))
	yucai := val(t, off, "Yucai's row", chromedp.Text(css(`#ack-yucai`)))
	wangcheng := val(t, off, "Wangcheng's row", chromedp.Text(css(`#ack-wangcheng`)))
	if !strings.Contains(yucai, i18n.T(i18n.ZH, "console.directives.acknowledged", nil)) || !strings.Contains(yucai, "育才社区主任") {
		t.Fatalf("Yucai's row reads %q", yucai)
	}
	if !strings.Contains(wangcheng, i18n.T(i18n.ZH, "console.directives.unacknowledged", nil)) {
		t.Fatalf("Wangcheng's row reads %q", wangcheng)
	}
	if n := val(t, off, "the count", chromedp.Text(css(`h2 .acks`))); strings.Join(strings.Fields(n), "") != "1/2" {
		t.Fatalf("the count reads %q", n)
	}
	noProblems(t, off)
}
