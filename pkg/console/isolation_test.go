package console_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

var (
	caseLink     = regexp.MustCompile(`^/console/orgs/yucai/isolation/cases/([0-9a-f-]{36})\?done=opened$`)
	alertAction  = regexp.MustCompile(`action="(/console/orgs/yucai/isolation/alerts/[0-9a-f-]{36}/(?:ack|close))"`)
	supportForm  = regexp.MustCompile(`action="(/console/orgs/yucai/isolation/support/[0-9a-f-]{36})"`)
	followUpCase = regexp.MustCompile(`href="(/console/orgs/yucai/follow-ups/[0-9a-f-]{36}/isolation\?household=[0-9a-f-]{36})"`)
	checkinRow   = regexp.MustCompile(`<td class="num">`)
)

// shanghaiDay is the demo communities' date days from today.
func shanghaiDay(days int) string {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	return time.Now().In(loc).AddDate(0, 0, days).Format(time.DateOnly)
}

// residentIn is a resident of grid, found as staff find one: the grid's
// households, then one household's residents.
func residentIn(t testing.TB, c *http.Client, base, grid string, skip int) string {
	t.Helper()
	_, body := get(t, c, base+"/console/orgs/yucai/households?grid="+grid)
	hs := householdLink.FindAllStringSubmatch(body, -1)
	if len(hs) <= skip {
		t.Fatalf("fewer than %d households in %s", skip+1, grid)
	}
	_, body = get(t, c, base+"/console/orgs/yucai/households/"+hs[skip][1])
	r := residentEditLink.FindStringSubmatch(body)
	if r == nil {
		t.Fatalf("no resident in a household of %s", grid)
	}
	return r[1]
}

// openCase opens a case through the staff's form (start "" is today,
// days "" the community's) and returns its id.
func openCase(t testing.TB, c *http.Client, base, resident, start, days string) string {
	t.Helper()
	status, body := get(t, c, base+"/console/orgs/yucai/isolation/new?resident="+resident)
	k, m := keyField.FindStringSubmatch(body), csrfField.FindStringSubmatch(body)
	if status != http.StatusOK || k == nil || m == nil {
		t.Fatalf("the new case form: %d, no form", status)
	}
	status, to, body := postFor(t, c, base+"/console/orgs/yucai/isolation/cases", url.Values{"csrf": {m[1]}, "idempotency_key": {k[1]},
		"resident_id": {resident}, "kind": {"home_isolation"}, "start_date": {start}, "days": {days}, "reason": {"密接"}})
	id := caseLink.FindStringSubmatch(to)
	if status != http.StatusSeeOther || id == nil {
		t.Fatalf("open a case: %d to %q: %s", status, to, errorsOn(body))
	}
	return id[1]
}

// expectPages asks for each page with c in both languages and checks its
// status and that no catalogue key shows raw.
func expectPages(t *testing.T, c *http.Client, base, who string, pages map[string]int) {
	t.Helper()
	for path, want := range pages {
		for _, lang := range []string{"zh-CN", "en"} {
			req, _ := http.NewRequest(http.MethodGet, base+path, nil)
			req.Header.Set("Accept-Language", lang)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("%s %s (%s): %d, want %d", who, path, lang, resp.StatusCode, want)
			}
			if k := rawKey.Find(b); k != nil {
				t.Errorf("%s %s (%s): a key missing from the catalogue shows: %s", who, path, lang, k)
			}
		}
	}
}

// TestIsolationPagesPerRole: the board, a case, the forms and the support
// list answer per role as the API does: staff and the admin everything,
// the grid worker its own grids' cases (another grid's is a 404, opening
// a case a 403), the official above nothing (isolation is the
// community's), and on a sub-district none exist.
func TestIsolationPagesPerRole(t *testing.T) {
	t.Parallel()
	f := newFormWorld(t)
	base := f.a.Base
	g1 := openCase(t, f.staff, base, residentIn(t, f.staff, base, "yucai-g1", 0), "", "")
	g2 := openCase(t, f.staff, base, residentIn(t, f.staff, base, "yucai-g2", 0), shanghaiDay(-15), "14")
	yucai, qixing := "/console/orgs/yucai", "/console/orgs/qixing"
	const missing = "/isolation/cases/01a22230-0000-7000-8000-000000000000"
	admin := client(t)
	httpSignIn(t, admin, base, "yucai.admin")
	for who, c := range map[string]*http.Client{"yucai.staff": f.staff, "yucai.admin": admin} {
		expectPages(t, c, base, who, map[string]int{
			yucai: 200, yucai + "/isolation": 200, yucai + "/isolation?grid=yucai-g2": 200, yucai + "/isolation?grid=nowhere": 422,
			yucai + "/isolation/new": 200, yucai + "/isolation/new?q=1": 200, yucai + "/isolation/cases/" + g1: 200,
			yucai + "/isolation/cases/" + g2: 200, yucai + missing: 404, yucai + "/isolation/support": 200,
			yucai + "/isolation/support?status=open&overdue=1": 200, yucai + "/isolation/support?status=bogus": 422,
			yucai + "/isolation/support?grid=nowhere": 422, yucai + "/follow-ups": 200,
		})
	}
	expectPages(t, f.grid1, base, "yucai.grid1", map[string]int{
		yucai: 200, yucai + "/isolation": 200, yucai + "/isolation?grid=yucai-g2": 422, yucai + "/isolation/new": 403,
		yucai + "/isolation/cases/" + g1: 200, yucai + "/isolation/cases/" + g2: 404, yucai + missing: 404,
		yucai + "/isolation/support": 200, yucai + "/isolation/support?grid=yucai-g2": 422,
	})
	expectPages(t, f.official, base, "qixing.official", map[string]int{
		yucai: 200, yucai + "/isolation": 403, yucai + "/isolation/cases/" + g1: 403, yucai + "/isolation/support": 403,
		qixing + "/isolation": 404, qixing + "/isolation/support": 404,
	})

	// The grid worker's board shows its own grid's case only; staff see
	// both, the due one on the release list with its button.
	if _, body := get(t, f.grid1, base+yucai+"/isolation"); !strings.Contains(body, g1) || strings.Contains(body, g2) {
		t.Error("the grid worker's board does not show exactly its own grid's case")
	}
	_, body := get(t, f.staff, base+yucai+"/isolation")
	if !strings.Contains(body, g1) || !strings.Contains(body, `action="/console/orgs/yucai/isolation/cases/`+g2+`/release"`) {
		t.Error("the staff's board lacks a case or the due case's release button")
	}
	if strings.Contains(body, `action="/console/orgs/yucai/isolation/cases/`+g1+`/release"`) {
		t.Error("the board offers to release a case that is not due")
	}
	// The home page counts the live cases and the due one.
	if _, body := get(t, f.staff, base+yucai); !strings.Contains(body, `href="/console/orgs/yucai/isolation#due"><span class="n">1</span>`) ||
		!strings.Contains(body, `href="/console/orgs/yucai/isolation#cases"><span class="n">2</span>`) {
		t.Error("the home panel does not count one case due and two live")
	}
	if _, body := get(t, f.grid1, base+yucai); !strings.Contains(body, `href="/console/orgs/yucai/isolation#cases"><span class="n">1</span>`) {
		t.Error("the grid worker's home panel counts another grid's case")
	}
}
