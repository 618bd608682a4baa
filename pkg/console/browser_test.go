package console_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/wanjia/wanjia/pkg/i18n"
)

// browserLimit bounds each browser scenario, start of chromium included.
const browserLimit = 20 * time.Second

type css = chromedp.CSS

// TestBrowser drives the console in headless chromium against a whole app
// with the demo district, as the people it is for would use it. The
// scenarios share the app (each with a browser of its own) and change
// nothing the others look at.
func TestBrowser(t *testing.T) {
	chromiumPath(t)
	a := startApp(t)

	t.Run("staff adds a resident", func(t *testing.T) {
		ctx := browser(t, 1280, 900, browserLimit)
		const address = "育才路12号 12栋 1单元 102"
		link := chromedp.Search(`//table//a[normalize-space(.)="` + address + `"]`)
		do(t, ctx, "sign in", signIn(a.Base, "yucai.staff"))
		do(t, ctx, "search a household",
			chromedp.Navigate(a.Base+"/console/orgs/yucai/households"),
			chromedp.SendKeys(css(`input[name=q]`), address),
			chromedp.Click(css(`form.filters button[type=submit]`)),
			chromedp.WaitVisible(link),
		)
		if rows := val(t, ctx, "count results", chromedp.Evaluate[int](`document.querySelectorAll("#results tbody tr").length`)); rows != 1 {
			t.Fatalf("searching %q found %d households, want 1", address, rows)
		}
		do(t, ctx, "open the household and its form",
			chromedp.Click(link),
			chromedp.WaitVisible(chromedp.Search(`//h1[normalize-space(.)="`+address+`"]`)),
			chromedp.Click(css(`p.actions a.button`)),
			chromedp.WaitVisible(css(`input[name=name]`)),
		)
		do(t, ctx, "submit a wrong phone",
			chromedp.SendKeys(css(`input[name=name]`), "浏览器测试"),
			chromedp.SendKeys(css(`input[name=phone]`), "12345"),
			chromedp.SendKeys(css(`input[name=birth_year]`), "1950"),
			chromedp.Click(css(`form.form button[type=submit]`)),
			chromedp.WaitVisible(css(`input[name=phone][aria-invalid]`)),
		)
		// The message sits in the phone's label, right under its input.
		beside := val(t, ctx, "read the message", chromedp.Text(chromedp.Search(`//input[@name="phone"]/following-sibling::p[@class="error"]`)))
		if beside != i18n.T(i18n.ZH, "phone_mobile_format", nil) && beside != i18n.T(i18n.ZH, "phone_format", nil) {
			t.Fatalf("beside the phone: %q, want the service's message", beside)
		}
		if others := val(t, ctx, "other messages", chromedp.Evaluate[int](`document.querySelectorAll("p.error").length`)); others != 1 {
			t.Fatalf("%d messages on the form, want the phone's only", others)
		}
		if kept := val(t, ctx, "the name typed", chromedp.Value(css(`input[name=name]`))); kept != "浏览器测试" {
			t.Fatalf("the name typed was lost: %q", kept)
		}
		do(t, ctx, "fix the phone",
			chromedp.Clear(css(`input[name=phone]`)),
			chromedp.SendKeys(css(`input[name=phone]`), "13912345678"),
			chromedp.Click(css(`form.form button[type=submit]`)),
			chromedp.WaitVisible(css(`tr.added`)),
		)
		if added := val(t, ctx, "the new row", chromedp.Text(css(`tr.added`))); !strings.Contains(added, "浏览器测试") || !strings.Contains(added, "13912345678") {
			t.Fatalf("the household's new row: %q", added)
		}
		// The list follows the typing (htmx), and the address bar with it.
		do(t, ctx, "find the resident",
			chromedp.Navigate(a.Base+"/console/orgs/yucai/residents"),
			chromedp.SendKeys(css(`input[name=q]`), "浏览器测"),
			chromedp.WaitVisible(chromedp.Search(`//table//a[normalize-space(.)="浏览器测试"]`)),
		)
		if loc := val(t, ctx, "the address", chromedp.Location()); !strings.Contains(loc, "q="+url.QueryEscape("浏览器测")) {
			t.Fatalf("the search is not in the address: %s", loc)
		}
		if n := val(t, ctx, "results", chromedp.Evaluate[int](`document.querySelectorAll("#results tbody tr").length`)); n != 1 {
			t.Fatalf("%d residents found, want 1", n)
		}
		noProblems(t, ctx)
	})

	t.Run("staff edits a household's phone", func(t *testing.T) {
		ctx := browser(t, 360, 740, browserLimit)
		do(t, ctx, "phone screen", phone())
		do(t, ctx, "sign in", signIn(a.Base, "yucai.staff"))
		do(t, ctx, "open a household's form",
			chromedp.Navigate(a.Base+"/console/orgs/yucai/households"),
			chromedp.Click(css(`#results tbody tr:nth-child(5) a`)),
			chromedp.WaitVisible(css(`dl.facts`)),
			chromedp.Click(css(`p.actions a[href$="/edit"]`)),
			chromedp.WaitVisible(css(`input[name=phone]`)),
		)
		if width := val(t, ctx, "page width", chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); width > 360 {
			t.Fatalf("the form is %d px wide on a 360 px screen", width)
		}
		heights := val(t, ctx, "tap targets", chromedp.Evaluate[[]float64](`[...document.querySelectorAll('form.form button, form.form .button, form.form input:not([type=hidden]):not([type=checkbox]), form.form select, form.form label.check')].map(e => e.getBoundingClientRect().height)`))
		for _, h := range heights {
			if h < 44 {
				t.Fatalf("a tap target is %v px high: %v", h, heights)
			}
		}
		do(t, ctx, "submit a wrong phone",
			chromedp.Clear(css(`input[name=phone]`)),
			chromedp.SendKeys(css(`input[name=phone]`), "12345"),
			chromedp.Click(css(`form.form button[type=submit]`)),
			chromedp.WaitVisible(css(`input[name=phone][aria-invalid]`)),
		)
		beside := val(t, ctx, "read the message", chromedp.Text(chromedp.Search(`//input[@name="phone"]/following-sibling::p[@class="error"]`)))
		if beside != i18n.T(i18n.ZH, "phone_mobile_format", nil) && beside != i18n.T(i18n.ZH, "phone_format", nil) {
			t.Fatalf("beside the phone: %q, want the service's message", beside)
		}
		if n := val(t, ctx, "other messages", chromedp.Evaluate[int](`document.querySelectorAll("p.error").length`)); n != 1 {
			t.Fatalf("%d messages on the form, want the phone's only", n)
		}
		do(t, ctx, "fix the phone",
			chromedp.Clear(css(`input[name=phone]`)),
			chromedp.SendKeys(css(`input[name=phone]`), "13987654321"),
			chromedp.Click(css(`form.form button[type=submit]`)),
			chromedp.WaitVisible(css(`dl.facts`)),
		)
		if facts := val(t, ctx, "the household", chromedp.Text(css(`dl.facts`))); !strings.Contains(facts, "13987654321") {
			t.Fatalf("the household page shows %q, want the new phone", facts)
		}
		noProblems(t, ctx)
	})

	t.Run("staff imports a file with a bad row", func(t *testing.T) {
		ctx := browser(t, 1280, 900, browserLimit)
		file := filepath.Join(t.TempDir(), "residents.csv")
		csv := "姓名,电话,网格,楼栋,单元,房号\n" +
			"导入甲,13800000001,yucai-g1,1栋,1单元,101\n" +
			"导入乙,12345,yucai-g1,1栋,1单元,102\n" +
			"导入丙,13800000003,yucai-g1,1栋,1单元,103\n"
		if err := os.WriteFile(file, []byte(csv), 0o600); err != nil {
			t.Fatal(err)
		}
		do(t, ctx, "sign in", signIn(a.Base, "yucai.staff"))
		do(t, ctx, "upload",
			chromedp.Navigate(a.Base+"/console/orgs/yucai/imports"),
			chromedp.SetUploadFiles(css(`input[type=file]`), []string{file}),
			chromedp.Click(css(`form.form button[type=submit]`)),
			chromedp.WaitVisible(css(`#import-status progress`)),
		)
		// Watch the bar: htmx replaces the panel every second until done.
		type bar struct {
			Done  bool    `json:"done"`
			Value float64 `json:"value"`
		}
		var seen []float64
		deadline := time.Now().Add(12 * time.Second)
		for {
			b := val(t, ctx, "read the bar", chromedp.Evaluate[bar](`(() => { const p = document.querySelector("#import-status progress");
				return {done: !!document.querySelector("#import-status .status-done"), value: p && p.hasAttribute("value") ? p.value : -1}; })()`))
			if len(seen) == 0 || seen[len(seen)-1] != b.Value {
				seen = append(seen, b.Value)
			}
			if b.Done {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the import did not finish; the bar showed %v", seen)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if seen[len(seen)-1] != 100 {
			t.Fatalf("the bar ended at %v (it showed %v), want 100", seen[len(seen)-1], seen)
		}
		noProblems(t, ctx)
		rejected := val(t, ctx, "the rejected rows", chromedp.Evaluate[[][]string](
			`[...document.querySelectorAll("table.rejected tbody tr")].map(tr => [...tr.cells].map(c => c.textContent.trim()))`))
		if len(rejected) != 1 || rejected[0][0] != "3" || rejected[0][1] != i18n.T(i18n.ZH, "console.field.phone", nil) || rejected[0][2] == "" {
			t.Fatalf("the rejected rows listed: %q, want line 3's phone with a reason", rejected)
		}
		counts := val(t, ctx, "the counts", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#import-status dl.counts dd")].map(e => e.textContent.trim())`))
		if strings.Join(counts, " ") != "2 0 0 1" {
			t.Fatalf("created, updated, unchanged, with problems: %q, want 2 0 0 1", counts)
		}
		href := val(t, ctx, "find the download", chromedp.AttributeValue(css(`a[href$="rejected.csv"]`), "href"))
		// The download is the browser's to save; fetch it as it would.
		c := client(t)
		httpSignIn(t, c, a.Base, "yucai.staff")
		status, body := get(t, c, a.Base+href.Value)
		if status != http.StatusOK || !strings.Contains(body, "导入乙") || strings.Contains(body, "导入甲") {
			t.Fatalf("rejected rows download: %d %q", status, body)
		}
	})

	t.Run("grid worker on a phone sees its grid only", func(t *testing.T) {
		ctx := browser(t, 360, 740, browserLimit)
		do(t, ctx, "phone screen", phone())
		do(t, ctx, "sign in", signIn(a.Base, "yucai.grid1"))
		gridRows := val(t, ctx, "home", chromedp.Evaluate[[]string](`[...document.querySelectorAll("table.figures-by-grid tbody th")].map(e => e.textContent.trim())`))
		if len(gridRows) != 1 {
			t.Fatalf("home shows grids %q, want only the worker's", gridRows)
		}
		do(t, ctx, "households",
			chromedp.Navigate(a.Base+"/console/orgs/yucai/households"),
			chromedp.WaitVisible(css(`#results table`)),
		)
		grids := val(t, ctx, "the grids listed", chromedp.Evaluate[[]string](`[...document.querySelectorAll('#results tbody td')].filter(td => td.cellIndex === 1).map(td => td.textContent.trim())`))
		if len(grids) == 0 {
			t.Fatal("no households listed")
		}
		for _, g := range grids {
			if g != gridRows[0] {
				t.Fatalf("a household of grid %q is listed to the worker of %q", g, gridRows[0])
			}
		}
		if width := val(t, ctx, "page width", chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); width > 360 {
			t.Fatalf("the page is %d px wide on a 360 px screen", width)
		}
		noProblems(t, ctx)
		options := val(t, ctx, "grid filter", chromedp.Evaluate[[]string](`[...document.querySelectorAll('select[name=grid] option')].map(o => o.value).filter(v => v)`))
		if len(options) != 1 || options[0] != "yucai-g1" {
			t.Fatalf("the grid filter offers %q, want only yucai-g1", options)
		}
		// Shown ones: the folded menu hides all but the current page.
		heights := val(t, ctx, "tap targets", chromedp.Evaluate[[]float64](`[...document.querySelectorAll('nav.menu a, button, .button, input:not([type=hidden]):not(.menu-open), select, #results td a, #results th a')].map(e => e.getBoundingClientRect().height).filter(h => h > 0)`))
		for _, h := range heights {
			if h < 44 {
				t.Fatalf("a tap target is %v px high: %v", h, heights)
			}
		}
		c := client(t)
		httpSignIn(t, c, a.Base, "yucai.grid1")
		if status, _ := get(t, c, a.Base+"/console/orgs/yucai/households?grid=yucai-g2"); status != http.StatusUnprocessableEntity {
			t.Fatalf("asking for another grid: %d, want 422", status)
		}
	})

	t.Run("official reads communities masked", func(t *testing.T) {
		ctx := browser(t, 1280, 900, browserLimit)
		do(t, ctx, "sign in", signIn(a.Base, "qixing.official"))
		links := val(t, ctx, "the tables of communities", chromedp.Evaluate[[]string](`[...document.querySelectorAll("table.cards tbody th a")].map(a => a.getAttribute("href"))`))
		// The day's report table comes first (each community's day), then
		// roster's table (each community).
		var days, communities []string
		for _, l := range links {
			if strings.Contains(l, "/reports/daily/") {
				days = append(days, l)
			} else {
				communities = append(communities, l)
			}
		}
		if strings.Join(communities, " ") != "/console/orgs/wangcheng /console/orgs/yucai" || len(days) != 2 {
			t.Fatalf("the official's tables list %q", links)
		}
		do(t, ctx, "a community's households",
			chromedp.Click(chromedp.Search(`//table//a[@href="/console/orgs/yucai"]`)),
			chromedp.WaitVisible(css(`section.figures`)),
			chromedp.Navigate(a.Base+"/console/orgs/yucai/households"),
			chromedp.WaitVisible(css(`#results table`)),
		)
		phones := val(t, ctx, "phones", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#results .phone")].map(e => e.textContent.trim())`))
		if len(phones) == 0 {
			t.Fatal("no phones listed")
		}
		for _, p := range phones {
			if !strings.Contains(p, "*") {
				t.Fatalf("an official sees the phone %q unmasked", p)
			}
		}
		const editing = `document.querySelectorAll('form[method=post]:not([action$="/logout"]), a[href*="/residents/new"], a[href$="/imports"]').length`
		if n := val(t, ctx, "edit controls", chromedp.Evaluate[int](editing)); n != 0 {
			t.Fatalf("the official's list has %d forms or edit links", n)
		}
		do(t, ctx, "a household",
			chromedp.Click(css(`#results tbody tr:first-child a`)),
			chromedp.WaitVisible(css(`dl.facts`)),
		)
		if n := val(t, ctx, "edit controls", chromedp.Evaluate[int](editing)); n != 0 {
			t.Fatal("the household page offers the official a way to edit")
		}

		// A forged POST with the official's own cookie and CSRF token: the
		// console's route refuses it as the API's would (no roster/write).
		cookies := val(t, ctx, "take the cookie", chromedp.Action[[]*network.Cookie](func(ctx context.Context, tg *chromedp.Target) ([]*network.Cookie, error) {
			res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{a.Base + "/console/"}})
			return res.Cookies, err
		}))
		token := val(t, ctx, "the page's token", chromedp.AttributeValue(css(`input[name=csrf]`), "value", chromedp.NodeReady))
		household := val(t, ctx, "the household", chromedp.Location())
		forge := func(method, path string, form url.Values) int {
			req, _ := http.NewRequest(method, a.Base+path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for _, ck := range cookies {
				req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
			}
			resp, err := client(t).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if status := forge(http.MethodPost, "/console/orgs/yucai/residents", url.Values{"csrf": {token.Value},
			"household_id": {household[strings.LastIndex(household, "/")+1:]}, "name": {"伪造"}}); status != http.StatusForbidden {
			t.Fatalf("forged POST as the official: %d, want 403", status)
		}
		if status := forge(http.MethodPost, "/console/orgs/yucai/residents", url.Values{"name": {"伪造"}}); status != http.StatusForbidden {
			t.Fatalf("forged POST without the token: %d, want 403", status)
		}
		// The cookie is no key to the JSON API.
		if status := forge(http.MethodGet, "/api/v1/orgs/yucai/households", nil); status != http.StatusUnauthorized {
			t.Fatalf("the API with the console's cookie: %d, want 401", status)
		}
	})

	t.Run("a form without its CSRF token is refused", func(t *testing.T) {
		ctx := browser(t, 1280, 900, browserLimit)
		do(t, ctx, "sign in", signIn(a.Base, "yucai.staff"))
		do(t, ctx, "post the form without its token",
			chromedp.Navigate(a.Base+"/console/orgs/yucai/households?q="+url.QueryEscape("育才路3号 3栋 1单元 101")),
			chromedp.Click(css(`#results tbody tr:first-child a`)),
			chromedp.WaitVisible(css(`dl.facts`)),
			chromedp.Click(css(`p.actions a.button`)),
			chromedp.WaitVisible(css(`input[name=name]`)),
			chromedp.SendKeys(css(`input[name=name]`), "无令牌"),
			chromedp.Evaluate[chromedp.Void](`document.querySelector('form.form input[name=csrf]').remove(); document.body.removeAttribute("hx-headers")`),
			chromedp.Click(css(`form.form button[type=submit]`)),
			chromedp.WaitVisible(css(`section.problem`)),
		)
		if code := val(t, ctx, "the status shown", chromedp.Text(css(`section.problem .code`))); code != "403" {
			t.Fatalf("the page after a form without its token says %q, want 403", code)
		}
		c := client(t)
		httpSignIn(t, c, a.Base, "yucai.staff")
		if status, _ := post(t, c, a.Base+"/console/orgs/yucai/residents", url.Values{"name": {"无令牌"}}); status != http.StatusForbidden {
			t.Fatalf("POST without a token: %d, want 403", status)
		}
		if status, _ := post(t, client(t), a.Base+"/console/logout", nil); status != http.StatusForbidden {
			t.Fatalf("POST without a session: %d, want 403", status)
		}
	})
}
