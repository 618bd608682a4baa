// Package isolationpages are the console's pages of home isolation and
// health monitoring (居家隔离): the board of the day (live cases by end
// date, today's check-ins, alerts, missed check-ins, the release list),
// one case with its temperature chart, opening a case (for a resident or
// from a screening follow-up), and support requests. Every rule is
// pkg/isolation's; these pages hand over what was tapped and typed.
package isolationpages

import (
	"embed"
	"html/template"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/console"
	"github.com/wanjia/wanjia/pkg/isolation"
	"github.com/wanjia/wanjia/pkg/roster"
)

//go:embed templates/*.html
var templates embed.FS

// Pages are isolation's pages, over its service; the forms that open a
// case find residents through roster's.
type Pages struct {
	iso    *isolation.Service
	roster *roster.Service
	k      *console.Kit
	// dryRun says the messages go to the log provider (outreach's
	// DryRun): the case page must not call them sent or delivered.
	dryRun func() bool
}

// New makes isolation's pages; dryRun (nil: never) tells whether the
// messages it lists were only logged.
func New(s *isolation.Service, r *roster.Service, dryRun func() bool) *Pages {
	return &Pages{iso: s, roster: r, dryRun: dryRun}
}

// The permissions of the API routes the pages mirror.
var (
	read         = authz.Perm{Resource: "isolation", Action: "read"}
	write        = authz.Perm{Resource: "isolation", Action: "write"}
	checkins     = authz.Perm{Resource: "checkins", Action: "write"}
	alertsWrite  = authz.Perm{Resource: "alerts", Action: "write"}
	supportRead  = authz.Perm{Resource: "support", Action: "read"}
	supportWrite = authz.Perm{Resource: "support", Action: "write"}
)

// Mount registers isolation's templates, menu items, home panel and pages.
func (c *Pages) Mount(org *authz.OrgRoutes, k *console.Kit) {
	c.k = k
	k.Templates("isolationpages", templates, template.FuncMap{"temp": temp})
	k.Menu(
		console.MenuItem{Order: 25, Key: "console.menu.isolation", Path: "/isolation", Perm: read},
		console.MenuItem{Order: 26, Key: "console.menu.support", Path: "/isolation/support", Perm: supportRead},
	)
	k.HomePanel(console.Panel{Order: 5, Render: c.homePanel})
	k.AuditNames(console.AuditNamer{Resource: "isolation_case", Perm: read, Link: "/isolation/cases/%s", Names: c.iso.CaseNames})

	org.Handle(http.MethodGet, "/isolation", read, c.board)
	org.Handle(http.MethodGet, "/isolation/new", write, c.newCase)
	org.Handle(http.MethodPost, "/isolation/cases", write, c.createCase)
	org.Handle(http.MethodGet, "/isolation/cases/:id", read, c.casePage)
	org.Handle(http.MethodPost, "/isolation/cases/:id", write, c.updateCase)
	org.Handle(http.MethodPost, "/isolation/cases/:id/checkins", checkins, c.recordCheckin)
	org.Handle(http.MethodGet, "/isolation/offline", checkins, c.offlineList)
	org.Handle(http.MethodPost, "/isolation/cases/:id/release", write, c.release)
	org.Handle(http.MethodPost, "/isolation/alerts/:id/:action", alertsWrite, c.moveAlert)
	org.Handle(http.MethodGet, "/isolation/support", supportRead, c.supportList)
	org.Handle(http.MethodPost, "/isolation/support", supportWrite, c.createSupport)
	org.Handle(http.MethodPost, "/isolation/support/:id", supportWrite, c.updateSupport)
	org.Handle(http.MethodGet, "/follow-ups/:id/isolation", write, c.followUpForm)
	org.Handle(http.MethodPost, "/follow-ups/:id/isolation", write, c.fromFollowUp)
}

type homeView struct {
	*console.Frame
	isolation.BoardCounts
}

// homePanel is the open alerts and the cases due for release, for a
// reader of isolation in a community, when there are any.
func (c *Pages) homePanel(g *gin.Context, f *console.Frame) (template.HTML, error) {
	caller, _ := authz.CallerFrom(g.Request.Context())
	if !caller.Org.IsCommunity() || !f.Can("isolation", "read") {
		return "", nil
	}
	n, err := c.iso.Counts(g.Request.Context())
	if err != nil || n.Live == 0 && n.OpenAlerts == 0 {
		return "", err
	}
	return c.k.HTML("home_isolation", "panel", homeView{Frame: f, BoardCounts: n})
}

// temp shows a temperature to the tenth of a degree.
func temp(t float64) string { return strconv.FormatFloat(t, 'f', 1, 64) }
