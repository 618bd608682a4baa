package console_test

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var href = regexp.MustCompile(`href="(/console/orgs/[^"#]+)"`)

// pageOf names the page a console path shows, as its route declares it.
var pageOf = []struct {
	re   *regexp.Regexp
	name string
}{
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+$`), "home"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/households$`), "households"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/households/[0-9a-f-]{36}$`), "household"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/households/new$`), "new household"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/households/[0-9a-f-]{36}/edit$`), "edit household"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/residents/[0-9a-f-]{36}/edit$`), "edit resident"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/buildings$`), "buildings"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/residents$`), "residents"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/residents/new$`), "new resident"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/imports$`), "imports"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/exports$`), "exports"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/members$`), "members"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/audit$`), "audit"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/screenings$`), "screenings"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/screenings/[0-9a-f-]{36}$`), "screening"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/screenings/[0-9a-f-]{36}/calls$`), "call list"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/screenings/[0-9a-f-]{36}/visits$`), "door list"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/screenings/[0-9a-f-]{36}/print$`), "printed list"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/screenings/[0-9a-f-]{36}/tasks/[0-9a-f-]{36}$`), "task"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/follow-ups$`), "follow-ups"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/publicity$`), "publicity"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/disinfections$`), "disinfections"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/care$`), "care"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/care/[0-9a-f-]{36}$`), "care contact"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/isolation$`), "isolation"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/isolation/new$`), "new case"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/isolation/cases/[0-9a-f-]{36}$`), "isolation case"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/isolation/support$`), "support requests"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/follow-ups/[0-9a-f-]{36}/isolation$`), "follow-up to isolation"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/outreach$`), "outreach"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/outreach/new$`), "new campaign"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/outreach/campaigns/[0-9a-f-]{36}$`), "campaign"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/outreach/templates$`), "templates"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/outreach/replies$`), "replies"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/outreach/opt-outs$`), "opt-outs"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/directives$`), "directives"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/directives/[0-9a-f-]{36}$`), "directive"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/reports/daily$`), "daily report"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/reports/daily/\d{4}-\d{2}-\d{2}$`), "report of a day"},
	{regexp.MustCompile(`^/console/orgs/[a-z0-9-]+/reports/daily/\d{4}-\d{2}-\d{2}/trend$`), "report trend"},
}

// TestEveryPageIsReachable follows links from each role's first page, as a
// person clicking would, and expects to reach every page the role may see:
// a page no menu or link leads to is a page nobody finds. (An import's
// own page is reached by uploading, and export files are downloads.)
func TestEveryPageIsReachable(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	startScreening(t, a.Base, "可达性排查") // an open campaign, whose pages link on
	staff := client(t)
	httpSignIn(t, staff, a.Base, "yucai.staff")
	createCampaign(t, staff, a.Base, url.Values{"name": {"可达性通知"}, "channel": {"sms"}, "body": {"通知"}, "scope": {"all"}})
	openCase(t, staff, a.Base, residentIn(t, staff, a.Base, "yucai-g1", 0), "", "") // a live case in grid 1
	official := client(t)
	httpSignIn(t, official, a.Base, "qixing.official")
	sendDirective(t, official, a.Base, "可达性通知", "yucai")
	isolation := []string{"isolation", "isolation case", "support requests"}
	outreach := []string{"outreach", "new campaign", "campaign", "templates", "replies", "opt-outs"}
	screening := []string{"screenings", "screening", "call list", "door list", "task", "follow-ups", "publicity", "disinfections"}
	for user, want := range map[string][]string{
		"yucai.admin": append([]string{"home", "households", "household", "residents", "new resident", "imports", "exports", "members", "audit",
			"buildings", "new household", "edit household", "edit resident", "care", "care contact", "new case", "directives", "directive",
			"daily report", "report of a day"}, append(append(screening, outreach...), isolation...)...),
		"yucai.grid1": append([]string{"home", "households", "household", "residents", "buildings", "new household", "edit household", "edit resident",
			"care", "care contact"}, append(screening, isolation...)...),
		"qixing.official": append([]string{"home", "households", "household", "residents", "members", "audit", "buildings", "directives", "directive",
			"daily report", "report of a day", "report trend"}, screening...),
	} {
		t.Run(user, func(t *testing.T) {
			c := client(t)
			httpSignIn(t, c, a.Base, user)
			start := "/console/orgs/yucai"
			if user == "qixing.official" {
				start = "/console/orgs/qixing"
			}
			seen, queue, reached, queued := map[string]bool{start: true}, []string{start}, map[string]bool{}, map[string]int{}
			for len(queue) > 0 && len(seen) < 200 {
				p := queue[0]
				queue = queue[1:]
				code, body := get(t, c, a.Base+p)
				if code != 200 {
					continue
				}
				for _, pg := range pageOf {
					if pg.re.MatchString(p) {
						reached[pg.name] = true
					}
				}
				for _, m := range href.FindAllStringSubmatch(body, -1) {
					link := html.UnescapeString(m[1])
					link, _, _ = strings.Cut(link, "?")
					// A few pages of a kind (households, residents) are
					// enough to find the links they hold.
					if !seen[link] && !strings.Contains(link, "/exports/") && !strings.Contains(link, "/imports/") && (kindOf(link) == "" || queued[kindOf(link)] < 3) {
						seen[link] = true
						queued[kindOf(link)]++
						queue = append(queue, link)
					}
				}
			}
			for _, w := range want {
				if !reached[w] {
					t.Errorf("%s cannot reach the %s page by following links (reached %v)", user, w, reached)
				}
			}
		})
	}
}

// kindOf is the name of the page a path shows, "" for none known.
func kindOf(p string) string {
	for _, pg := range pageOf {
		if pg.re.MatchString(p) {
			return pg.name
		}
	}
	return ""
}
