package console_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// TestBrowserExpiredSession: a worker's session ends while a form is open
// (the cookie is gone, as after the idle timeout); they type, send, are
// asked to sign in, and find the form again with what they typed, which
// they send themselves.
func TestBrowserExpiredSession(t *testing.T) {
	chromiumPath(t)
	a := startApp(t)
	ctx := browser(t, 360, 740, browserLimit)
	do(t, ctx, "phone screen", phone())
	do(t, ctx, "sign in", signIn(a.Base, "yucai.staff"))
	do(t, ctx, "open a household's new-resident form",
		chromedp.Navigate(a.Base+"/console/orgs/yucai/households?q="+url.QueryEscape("育才路5号 5栋 1单元 101")),
		chromedp.Click(css(`#results tbody tr:first-child a`)),
		chromedp.WaitVisible(css(`dl.facts`)),
		chromedp.Click(css(`p.actions a.button`)),
		chromedp.WaitVisible(css(`input[name=name]`)),
	)
	form := val(t, ctx, "the form's address", chromedp.Location())
	do(t, ctx, "the session ends", dropCookie(a.Base+"/console/", "wanjia_session"))
	do(t, ctx, "type and send",
		chromedp.SendKeys(css(`input[name=name]`), "会话过期"),
		chromedp.SendKeys(css(`input[name=phone]`), "13911112222"),
		chromedp.SendKeys(css(`input[name=birth_year]`), "1948"),
		chromedp.Click(css(`form.form button[type=submit]`)),
		chromedp.WaitVisible(css(`input[name=username]`)),
	)
	if n := val(t, ctx, "the sign-in page's notice", chromedp.Evaluate[int](`document.querySelectorAll("section.signin p.notice").length`)); n != 1 {
		t.Fatal("the sign-in page does not say the input was kept")
	}
	do(t, ctx, "sign in again",
		chromedp.SendKeys(css(`input[name=username]`), "yucai.staff"),
		chromedp.SendKeys(css(`input[name=password]`), demoPassword),
		chromedp.Click(css(`form.form button[type=submit]`)),
		chromedp.WaitVisible(css(`#restored`)),
		chromedp.WaitVisible(css(`form.restored`)),
	)
	if loc := val(t, ctx, "where sign-in led", chromedp.Location()); loc != form {
		t.Fatalf("signed in, the browser is at %s, want the form %s", loc, form)
	}
	for name, want := range map[string]string{"name": "会话过期", "phone": "13911112222", "birth_year": "1948"} {
		if got := val(t, ctx, "the "+name+" typed", chromedp.Value(css(`input[name=`+name+`]`))); got != want {
			t.Fatalf("%s after sign-in: %q, want %q", name, got, want)
		}
	}
	noProblems(t, ctx)
	do(t, ctx, "send it",
		chromedp.Click(css(`form.form button[type=submit]`)),
		chromedp.WaitVisible(css(`tr.added`)),
	)
	if added := val(t, ctx, "the new row", chromedp.Text(css(`tr.added`))); !strings.Contains(added, "会话过期") {
		t.Fatalf("the household's new row: %q", added)
	}
}

// dropCookie deletes a cookie from the browser, as its expiry would.
func dropCookie(u, name string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, _ *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Call(ctx, network.DeleteCookies, network.DeleteCookiesParams{Name: name, URL: u})
		return chromedp.Void{}, err
	}
}
