// Package screeningpages are the console's screening pages (排查):
// campaigns and their progress, the call and door-to-door lists, one
// household's task, follow-ups, and the open campaigns on a community's
// home page.
// Every rule is screening's; these pages hand over what was tapped and
// typed.
package screeningpages

import (
	"context"
	"embed"
	"html/template"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/console"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/screening"
)

//go:embed templates/*.html
var templates embed.FS

// Pages are screening's pages, over its service.
type Pages struct {
	screen *screening.Service
	// people are a household's members, for the call card (nil: the card
	// shows none).
	people Members
	k      *console.Kit
}

// Members lists a household's residents as the caller may see them, and
// changes a household's phone when the one on the roster was wrong
// (roster.Service, with its checks, masking and audit).
type Members interface {
	ListResidents(ctx context.Context, f roster.Filter) ([]roster.ResidentView, string, error)
	UpdateHousehold(ctx context.Context, id string, p roster.HouseholdPatch) (*roster.HouseholdView, error)
}

// New makes screening's pages; people, if any, are the roster the call
// card shows a household's members from.
func New(s *screening.Service, people Members) *Pages { return &Pages{screen: s, people: people} }

// Mount registers screening's templates, menu items, home panel and pages.
func (c *Pages) Mount(org *authz.OrgRoutes, k *console.Kit) {
	c.k = k
	k.Templates("screeningpages", templates, template.FuncMap{"callsLeft": callsLeft})
	perm := func(resource, action string) authz.Perm { return authz.Perm{Resource: resource, Action: action} }
	k.Menu(
		console.MenuItem{Order: 10, Key: "console.menu.screenings", Path: "/screenings", Perm: perm("screening", "read")},
		console.MenuItem{Order: 20, Key: "console.menu.follow_ups", Path: "/follow-ups", Perm: perm("screening", "read")},
	)
	k.AuditNames(console.AuditNamer{Resource: "screening", Perm: perm("screening", "read"), Link: "/screenings/%s", Names: c.screen.ScreeningNames})
	k.HomePanel(console.Panel{Order: 10, Render: c.homePanel})

	org.Handle(http.MethodGet, "/screenings", perm("screening", "read"), c.screenings)
	org.Handle(http.MethodPost, "/screenings", perm("screening", "write"), c.createScreening)
	org.Handle(http.MethodGet, "/screenings/:id", perm("screening", "read"), c.screeningPage)
	org.Handle(http.MethodPost, "/screenings/:id/close", perm("screening", "write"), c.closeScreening)
	org.Handle(http.MethodGet, "/screenings/:id/calls", perm("screening", "read"), c.callList)
	org.Handle(http.MethodGet, "/screenings/:id/visits", perm("screening", "read"), c.doorList)
	org.Handle(http.MethodGet, "/screenings/:id/print", perm("screening", "read"), c.printList)
	org.Handle(http.MethodGet, "/screenings/:id/offline", console.OfflinePerm, c.offlineList)
	org.Handle(http.MethodGet, "/screenings/:id/tasks/:task", perm("screening", "read"), c.taskPage)
	org.Handle(http.MethodPost, "/screenings/:id/tasks/:task/attempts", perm("attempts", "write"), c.recordAttempt)
	// Changing a household's phone is a roster write; the door list offers
	// it for a number just marked wrong (phone.go).
	org.Handle(http.MethodPost, "/screenings/:id/tasks/:task/phone", perm("roster", "write"), c.correctPhone)
	org.Handle(http.MethodGet, "/follow-ups", perm("screening", "read"), c.followUps)
	org.Handle(http.MethodPost, "/follow-ups/:id", perm("follow_ups", "write"), c.updateFollowUp)
}

type homeView struct {
	*console.Frame
	// Campaigns are the open ones, with the caller's part of their
	// progress: a grid worker's day starts from their call lists.
	Campaigns []screening.ScreeningView
}

// homePanel is a community's open campaigns, for a reader of screening.
func (c *Pages) homePanel(g *gin.Context, f *console.Frame) (template.HTML, error) {
	caller, _ := authz.CallerFrom(g.Request.Context())
	if !caller.Org.IsCommunity() || !f.Can("screening", "read") {
		return "", nil
	}
	open, err := c.openCampaigns(g.Request.Context())
	if err != nil || len(open) == 0 {
		return "", err
	}
	return c.k.HTML("home_screening", "panel", homeView{Frame: f, Campaigns: open})
}
