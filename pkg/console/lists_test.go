package console_test

import (
	"html"
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
