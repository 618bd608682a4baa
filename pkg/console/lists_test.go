package console_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var (
	totalOf  = regexp.MustCompile(`data-total="(\d+)"`)
	nextLink = regexp.MustCompile(`rel="next" href="([^"]+)"`)
	prevLink = regexp.MustCompile(`rel="prev" href="([^"]+)"`)
)

// TestListTotalsAndPaging: the households and residents lists say how
// many the filter finds (the grid worker's own grids only), and a list
// walked forward by its next links, then back by its previous links,
// shows every record once and the same pages again.
func TestListTotalsAndPaging(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	staff, grid1 := client(t), client(t)
	httpSignIn(t, staff, a.Base, "yucai.staff")
	httpSignIn(t, grid1, a.Base, "yucai.grid1")
	org := a.Base + "/console/orgs/yucai"
	total := func(t *testing.T, body string) int {
		t.Helper()
		m := totalOf.FindStringSubmatch(body)
		if m == nil {
			t.Fatal("the list says no total")
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}

	t.Run("households", func(t *testing.T) {
		_, body := get(t, staff, org+"/households")
		all := total(t, body)
		if !strings.Contains(body, zh("console.households.total", "n", all)) {
			t.Errorf("the list does not say 共 %d 户", all)
		}
		_, body = get(t, grid1, org+"/households")
		if mine := total(t, body); mine == 0 || mine >= all {
			t.Errorf("the grid worker's total: %d of the community's %d, want its grids' only", mine, all)
		}
		_, body = get(t, staff, org+"/households?grid=yucai-g1")
		want := total(t, body)
		var pages [][]string
		for page := 1; ; page++ {
			if page > 1 && !strings.Contains(body, zh("console.list.page", "page", page)) {
				t.Errorf("page %d does not say its number", page)
			}
			var ids []string
			for _, m := range householdLink.FindAllStringSubmatch(body, -1) {
				ids = append(ids, m[1])
			}
			pages = append(pages, ids)
			next := nextLink.FindStringSubmatch(body)
			if next == nil {
				break
			}
			_, body = get(t, staff, a.Base+html.UnescapeString(next[1]))
		}
		seen := map[string]bool{}
		for _, p := range pages {
			for _, id := range p {
				seen[id] = true
			}
		}
		if len(pages) < 2 || len(seen) != want {
			t.Fatalf("%d pages of %d households, the list said %d (want at least two pages)", len(pages), len(seen), want)
		}
		for i := len(pages) - 1; i > 0; i-- {
			prev := prevLink.FindStringSubmatch(body)
			if prev == nil {
				t.Fatalf("page %d has no previous link", i+1)
			}
			_, body = get(t, staff, a.Base+html.UnescapeString(prev[1]))
			var ids []string
			for _, m := range householdLink.FindAllStringSubmatch(body, -1) {
				ids = append(ids, m[1])
			}
			if strings.Join(ids, ",") != strings.Join(pages[i-1], ",") {
				t.Fatalf("back on page %d: not the households it showed", i)
			}
		}
		if prevLink.MatchString(body) {
			t.Error("the first page has a previous link")
		}
	})

	t.Run("residents", func(t *testing.T) {
		_, body := get(t, staff, org+"/residents?grid=yucai-g1")
		if n := total(t, body); n == 0 || !strings.Contains(body, zh("console.residents.total", "n", n)) {
			t.Errorf("the residents list does not say 共 %d 人", n)
		}
		if !strings.Contains(body, `href="/console/orgs/yucai/residents/new"`) {
			t.Error("the residents list has no add button for staff")
		}
		if !regexp.MustCompile(`data-label="` + zh("console.col.address") + `">[^<]+</td>`).MatchString(body) {
			t.Error("the residents list shows no address")
		}
	})
}

// TestListTotalsOfWorkLists: the care list, the follow-ups and the support
// requests say how many their filter finds, that many are listed over
// their pages, a grid worker's count is its grids' only, and another
// community's count is its own (the count runs in the tenant's
// transaction, as the list does).
func TestListTotalsOfWorkLists(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	staff, grid1, other := client(t), client(t), client(t)
	httpSignIn(t, staff, a.Base, "yucai.staff")
	httpSignIn(t, grid1, a.Base, "yucai.grid1")
	httpSignIn(t, other, a.Base, "wangcheng.admin")
	row := regexp.MustCompile(`<th scope="row"|<article class="follow-up panel`)
	// walk reads a list's total and counts what its pages list.
	walk := func(t *testing.T, c *http.Client, u string) (total, listed int) {
		t.Helper()
		_, body := get(t, c, u)
		m := totalOf.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("%s says no total", u)
		}
		total, _ = strconv.Atoi(m[1])
		for {
			listed += len(row.FindAllString(body, -1))
			next := nextLink.FindStringSubmatch(body)
			if next == nil {
				return total, listed
			}
			_, body = get(t, c, a.Base+html.UnescapeString(next[1]))
		}
	}
	// Support requests: the demo files none; one for a resident of grid1's
	// grid, two of another grid, and one in Wangcheng.
	file := func(c *http.Client, org, grid string, n int) {
		t.Helper()
		_, body := get(t, c, org+"/care?grid="+grid)
		token := csrfField.FindStringSubmatch(body)
		ids := regexp.MustCompile(`href="`+regexp.QuoteMeta(strings.TrimPrefix(org, a.Base))+`/care/([0-9a-f-]{36})"`).FindAllStringSubmatch(body, n)
		if token == nil || len(ids) < n {
			t.Fatalf("%s: fewer than %d residents on the care list of %s", org, n, grid)
		}
		for _, id := range ids {
			form := url.Values{"csrf": {token[1]}, "resident_id": {id[1]}, "kind": {"medicine"}, "details": {"降压药"}, "from": {"board"}}
			if status, _ := post(t, c, org+"/isolation/support", form); status != http.StatusSeeOther {
				t.Fatalf("filing a support request: %d", status)
			}
		}
	}
	file(staff, a.Base+"/console/orgs/yucai", "yucai-g1", 1)
	file(staff, a.Base+"/console/orgs/yucai", "yucai-g2", 2)
	file(other, a.Base+"/console/orgs/wangcheng", "wangcheng-g1", 1)
	for _, tc := range []struct{ name, path, key string }{
		{"care", "/care", "console.care.total"},
		{"care overdue", "/care?overdue=1", "console.care.total"},
		{"follow-ups", "/follow-ups?status=all", "console.follow_ups.total"},
		{"follow-ups open", "/follow-ups", "console.follow_ups.total"},
		{"support", "/isolation/support", "console.support.total"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			all, listed := walk(t, staff, a.Base+"/console/orgs/yucai"+tc.path)
			if all != listed {
				t.Errorf("staff: the list says %d, its pages list %d", all, listed)
			}
			_, body := get(t, staff, a.Base+"/console/orgs/yucai"+tc.path)
			if !strings.Contains(body, zh(tc.key, "n", all)) {
				t.Errorf("the list does not say %q", zh(tc.key, "n", all))
			}
			mine, listed := walk(t, grid1, a.Base+"/console/orgs/yucai"+tc.path)
			if mine != listed || mine > all {
				t.Errorf("grid worker: the list says %d, its pages list %d (the community's %d)", mine, listed, all)
			}
			if tc.name == "support" && (all != 3 || mine != 1) {
				t.Errorf("support: staff %d, grid worker %d, want 3 and 1", all, mine)
			}
			if mine == all {
				t.Errorf("grid worker: %d, as many as the community's: not its grids' only", mine)
			}
			theirs, listed := walk(t, other, a.Base+"/console/orgs/wangcheng"+tc.path)
			if theirs != listed || theirs == 0 {
				t.Errorf("Wangcheng: the list says %d, its pages list %d", theirs, listed)
			}
		})
	}
}
