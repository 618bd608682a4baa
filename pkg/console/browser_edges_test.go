package console_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
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

// tapTargets measures every control a page shows (links, buttons, inputs,
// selects, summaries; a checkbox by its label) from the layout, and lists
// those under 44×44 px. The exceptions, documented:
//   - a link inside running text (p.note, p.hint, .notice, .sms-text): it
//     is a word in a sentence, and WCAG 2.5.8 exempts inline targets;
//   - what is not shown (folded away, in a closed <details>: zero size);
//   - the outcome form's default-submit button, which is aria-hidden and
//     takes no tap (it only answers Enter in a findings field).
const tapTargets = `(() => {
  const small = [];
  for (const e of document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary')) {
    if (e.closest('[aria-hidden=true]') || e.closest('p.note, p.hint, .notice, .sms-text, .banner')) continue;
    let t = e;
    if (e.type === 'checkbox' || e.type === 'radio') t = (e.id && document.querySelector('label[for="' + e.id + '"]')) || e.closest('label') || e;
    const r = t.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.width < 44 || r.height < 44) {
      small.push(location.pathname + ' ' + e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ').join('.') : '') +
        ' "' + (e.textContent || e.value || e.name || '').trim().slice(0, 20) + '" ' + Math.round(r.width) + '×' + Math.round(r.height));
    }
  }
  return small;
})()`

// TestBrowserTapTargets: at 360 px every control of the main pages is at
// least 44×44 px (measured, see tapTargets), and the menu folds to one row.
func TestBrowserTapTargets(t *testing.T) {
	chromiumPath(t)
	a := startApp(t)
	id := startScreening(t, a.Base, "点按测试", "yucai-g1")
	org := "/console/orgs/yucai"
	pages := map[string][]string{
		"yucai.admin": {org, org + "/screenings", org + "/screenings/" + id, org + "/screenings/" + id + "/calls", org + "/screenings/" + id + "/visits", org + "/screenings/" + id + "/print?list=call",
			org + "/follow-ups", org + "/isolation", org + "/isolation/support", org + "/care", org + "/households", org + "/buildings",
			org + "/residents", org + "/residents/new", org + "/imports", org + "/exports", org + "/publicity", org + "/disinfections",
			org + "/outreach", org + "/outreach/new", org + "/outreach/templates", org + "/outreach/replies", org + "/outreach/opt-outs",
			org + "/members", org + "/audit"},
		"yucai.grid1":     {org, org + "/screenings/" + id + "/calls", org + "/households"},
		"qixing.official": {"/console/orgs/qixing", org, org + "/screenings/" + id + "/calls"},
	}
	var small []string
	for user, paths := range pages {
		ctx := browser(t, 360, 740, 60*time.Second)
		do(t, ctx, "phone screen", phone())
		do(t, ctx, "sign in as "+user, signIn(a.Base, user))
		for _, p := range paths {
			do(t, ctx, "open "+p, chromedp.Navigate(a.Base+p), chromedp.WaitVisible(css(`main`)))
			small = append(small, val(t, ctx, "measure "+p, chromedp.Evaluate[[]string](tapTargets))...)
			if rows := val(t, ctx, "the menu's rows", chromedp.Evaluate[int](`new Set([...document.querySelectorAll('nav.menu a, nav.menu label')]
				.filter(e => e.getBoundingClientRect().height > 0).map(e => Math.round(e.getBoundingClientRect().top))).size`)); rows > 1 {
				t.Errorf("%s: the folded menu takes %d rows", p, rows)
			}
		}
		// Unfolded, the menu offers every page.
		do(t, ctx, "open the menu", chromedp.Click(css(`label.menu-toggle`)))
		if shown := val(t, ctx, "the menu's links", chromedp.Evaluate[int](`[...document.querySelectorAll('nav.menu a')].filter(e => e.getBoundingClientRect().height >= 44).length`)); shown != val(t, ctx, "all links", chromedp.Evaluate[int](`document.querySelectorAll('nav.menu a').length`)) {
			t.Errorf("the unfolded menu shows %d links", shown)
		}
	}
	if len(small) > 0 {
		t.Fatalf("%d controls under 44×44 px at 360 px:\n%s", len(small), strings.Join(small, "\n"))
	}
}

// printMedia makes the tab render as on paper.
func printMedia() chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, _ *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
		return chromedp.Void{}, err
	}
}

// printed reads what a page shows on paper: the controls still shown
// (menus, forms, buttons: there should be none).
const printedControls = `[...document.querySelectorAll('header.top, nav.menu, form, button, .button, .filters, .actions, label.menu-toggle')]
	.filter(e => e.getBoundingClientRect().height > 0).map(e => e.tagName.toLowerCase() + '.' + e.className)`

// TestBrowserPrintedLists: the door-to-door list prints by building, a
// line a household with room to write, and no menu or button; the call
// list and the care list print without them too.
func TestBrowserPrintedLists(t *testing.T) {
	chromiumPath(t)
	a := startApp(t)
	staff := client(t)
	httpSignIn(t, staff, a.Base, "yucai.staff")
	_, body := get(t, staff, a.Base+"/console/orgs/yucai/screenings")
	resp, err := staff.PostForm(a.Base+"/console/orgs/yucai/screenings", url.Values{"csrf": {csrfField.FindStringSubmatch(body)[1]},
		"name": {"入户排查"}, "method": {"visit"}, "grids": {"yucai-g1"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	m := screeningLink.FindStringSubmatch(resp.Header.Get("Location"))
	if m == nil {
		t.Fatalf("start a door-to-door campaign: %d", resp.StatusCode)
	}
	org := a.Base + "/console/orgs/yucai"

	ctx := browser(t, 1280, 900, browserLimit)
	do(t, ctx, "sign in", signIn(a.Base, "yucai.grid1"))
	do(t, ctx, "the door list's print link",
		chromedp.Navigate(org+"/screenings/"+m[1]+"/visits"),
		chromedp.Click(css(`a[href$="/print?list=door"]`)),
		chromedp.WaitVisible(css(`table.print-list`)),
		printMedia(),
	)
	if shown := val(t, ctx, "controls on paper", chromedp.Evaluate[[]string](printedControls)); len(shown) > 0 {
		t.Fatalf("the printed door list shows %q", shown)
	}
	type sheet struct {
		Buildings int       `json:"buildings"`
		Rows      int       `json:"rows"`
		Heights   []float64 `json:"heights"`
		Write     []float64 `json:"write"`
		Width     float64   `json:"width"`
	}
	s := val(t, ctx, "the sheet", chromedp.Evaluate[sheet](`({
		buildings: document.querySelectorAll('section.print-building').length,
		rows: document.querySelectorAll('table.print-list tbody tr').length,
		heights: [...document.querySelectorAll('table.print-list tbody tr')].slice(0, 20).map(r => r.getBoundingClientRect().height),
		write: [...document.querySelectorAll('table.print-list tbody td.wide')].slice(0, 20).map(c => c.getBoundingClientRect().width),
		width: document.querySelector('table.print-list').getBoundingClientRect().width})`))
	if s.Buildings < 2 || s.Rows < s.Buildings {
		t.Fatalf("the printed list has %d buildings and %d households", s.Buildings, s.Rows)
	}
	for i, h := range s.Heights {
		// 10 mm is 37.8 CSS px: a line to write on by hand.
		if h < 37 || s.Write[i] < s.Width/5 {
			t.Fatalf("household %d prints %.0f px high with %.0f px to write in (of %.0f)", i, h, s.Write[i], s.Width)
		}
	}

	for _, page := range []string{org + "/screenings/" + m[1] + "/visits", org + "/care"} {
		ctx := browser(t, 1280, 900, browserLimit)
		do(t, ctx, "sign in", signIn(a.Base, "yucai.staff"))
		do(t, ctx, "open "+page, chromedp.Navigate(page), chromedp.WaitVisible(css(`main`)), printMedia())
		if shown := val(t, ctx, "controls on paper", chromedp.Evaluate[[]string](printedControls)); len(shown) > 0 {
			t.Fatalf("%s on paper shows %q", page, shown)
		}
		if strings.HasSuffix(page, "/care") && !val(t, ctx, "the notes column", chromedp.Evaluate[bool](
			`[...document.querySelectorAll('table.care td.print-only')].some(c => c.getBoundingClientRect().width > 100)`)) {
			t.Fatal("the printed care list has no room to write")
		}
	}
}
