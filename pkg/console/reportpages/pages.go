// Package reportpages are the console's pages of the daily report (日报):
// a community's day (its figures with the day before's, whether they are
// live or frozen, the day's isolation work, the typed-in part, the
// submission with a confirm step, the versions and a correction), and
// above the communities the day's table (each community's status and main
// figures, the totals, a 30-day trend drawn by the server, the export),
// which is also the office's home. Every rule is pkg/reports'; the
// isolation counts are pkg/isolation's figures of the day.
package reportpages

import (
	"embed"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/console"
	"github.com/wanjia/wanjia/pkg/isolation"
	"github.com/wanjia/wanjia/pkg/reports"
)

//go:embed templates/*.html
var templates embed.FS

// Pages are the daily report's pages, over its service; the day's
// isolation work comes from isolation's.
type Pages struct {
	svc *reports.Service
	iso *isolation.Service
	k   *console.Kit
	now func() time.Time
}

// New makes the daily report's pages.
func New(s *reports.Service, iso *isolation.Service) *Pages {
	return &Pages{svc: s, iso: iso, now: time.Now}
}

// The permissions of the API routes the pages mirror.
var (
	read   = authz.Perm{Resource: "reports", Action: "read"}
	write  = authz.Perm{Resource: "reports", Action: "write"}
	submit = authz.Perm{Resource: "reports", Action: "submit"}
	export = authz.Perm{Resource: "reports", Action: "export"}
)

// Mount registers the report's templates, menu item, home panel and pages.
func (c *Pages) Mount(org *authz.OrgRoutes, k *console.Kit) {
	c.k = k
	k.Templates("reportpages", templates, nil)
	k.Menu(console.MenuItem{Order: 5, Key: "console.menu.reports", Path: "/reports/daily", Perm: read})
	k.HomePanel(console.Panel{Order: 1, Render: c.homePanel})

	org.Handle(http.MethodGet, "/reports/daily", read, c.day)
	org.Handle(http.MethodGet, "/reports/daily/:date", read, c.day)
	org.Handle(http.MethodPost, "/reports/daily/:date", write, c.saveDraft)
	org.Handle(http.MethodGet, "/reports/daily/:date/submit", submit, c.confirm)
	org.Handle(http.MethodPost, "/reports/daily/:date/submit", submit, c.submit)
	org.Handle(http.MethodPost, "/reports/daily/:date/corrections", submit, c.correct)
	org.Handle(http.MethodGet, "/reports/daily/:date/export", export, c.export)
	org.Handle(http.MethodGet, "/reports/daily/:date/trend", read, c.trend)
}

// day is a community's report of a day, or above the communities the
// day's table: the date is the path's, else ?date=, else today.
func (c *Pages) day(g *gin.Context) {
	caller, _ := authz.CallerFrom(g.Request.Context())
	if !caller.Org.IsCommunity() {
		c.office(g)
		return
	}
	c.community(g)
}

// dateOf is the day a page shows: the path's, else ?date=, else "" (today).
func dateOf(g *gin.Context) string {
	if d := g.Param("date"); d != "" {
		return d
	}
	return g.Query("date")
}

// today is the org's calendar date.
func (c *Pages) today(f *console.Frame) string {
	return c.now().In(f.Loc()).Format(time.DateOnly)
}

// shift is the day n days from day ("" for a day that is not a date).
func shift(day string, n int) string {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return ""
	}
	return t.AddDate(0, 0, n).Format(time.DateOnly)
}

// page is what every view of the package embeds: the frame, and the
// report's names of figures and statuses in the reader's language.
type page struct{ *console.Frame }

// Label is a figure's name (reports.Label).
func (p page) Label(key string) string { return reports.Label(p.Lang, key) }

// StatusName is a status's name (reports.StatusLabel).
func (p page) StatusName(status string) string { return reports.StatusLabel(p.Lang, status) }
