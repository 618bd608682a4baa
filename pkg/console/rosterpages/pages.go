// Package rosterpages are the console's roster pages: households,
// residents and buildings (lists, records and their forms), imports and
// exports, and the roster's parts of the home page (a community's
// figures; above the communities, the table of those below). Every rule
// is roster's; these pages hand over what was typed and show the answer.
package rosterpages

import (
	"context"
	"embed"
	"html/template"
	"net/http"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/authn"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/console"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/screening"
	"github.com/wanjia/wanjia/pkg/web"
)

//go:embed templates/*.html
var templates embed.FS

// Pages are the roster's pages, over its service (and authz, for the
// communities an official may read).
type Pages struct {
	roster  *roster.Service
	authz   *authz.Authorizer
	history History
	k       *console.Kit
}

// History is a household's screening history (screening.Service), shown
// on its page.
type History interface {
	HistoryOf(ctx context.Context, householdID string, limit int) (*screening.HouseholdHistory, error)
}

// New makes the roster's pages; h, if any, gives each household's page
// its screening history.
func New(r *roster.Service, a *authz.Authorizer, h History) *Pages {
	return &Pages{roster: r, authz: a, history: h}
}

// Mount registers the roster's templates, menu items, home panel and pages.
func (c *Pages) Mount(org *authz.OrgRoutes, k *console.Kit) {
	c.k = k
	k.Templates("rosterpages", templates, nil)
	read, write := authz.Perm{Resource: "roster", Action: "read"}, authz.Perm{Resource: "roster", Action: "write"}
	imports, export := authz.Perm{Resource: "imports", Action: "write"}, authz.Perm{Resource: "roster", Action: "export"}
	k.Menu(
		console.MenuItem{Order: 40, Key: "console.menu.households", Path: "/households", Perm: read},
		console.MenuItem{Order: 50, Key: "console.menu.buildings", Path: "/buildings", Perm: read},
		console.MenuItem{Order: 60, Key: "console.menu.residents", Path: "/residents", Perm: read},
		console.MenuItem{Order: 110, Key: "console.menu.imports", Path: "/imports", Perm: imports},
		console.MenuItem{Order: 120, Key: "console.menu.exports", Path: "/exports", Perm: export},
	)
	k.HomePanel(console.Panel{Order: 20, Render: c.homePanel})
	k.AuditNames(
		console.AuditNamer{Resource: "household", Perm: read, Link: "/households/%s", Names: c.roster.HouseholdNames},
		console.AuditNamer{Resource: "resident", Perm: read, Link: "/residents/%s/edit", LinkPerm: write, Names: c.roster.ResidentNames},
	)

	org.Handle(http.MethodGet, "/households", read, c.households)
	org.Handle(http.MethodGet, "/households/new", write, c.newHousehold)
	org.Handle(http.MethodPost, "/households", write, c.createHousehold)
	org.Handle(http.MethodGet, "/households/:id", read, c.household)
	org.Handle(http.MethodGet, "/households/:id/edit", write, c.editHousehold)
	org.Handle(http.MethodPost, "/households/:id", write, c.updateHousehold)
	org.Handle(http.MethodGet, "/buildings", read, c.buildings)
	org.Handle(http.MethodPost, "/buildings", write, c.createBuilding)
	org.Handle(http.MethodGet, "/residents", read, c.residents)
	org.Handle(http.MethodGet, "/residents/new", write, c.newResident)
	org.Handle(http.MethodPost, "/residents", write, c.createResident)
	org.Handle(http.MethodGet, "/residents/:id/edit", write, c.editResident)
	org.Handle(http.MethodPost, "/residents/:id", write, c.updateResident)
	org.Handle(http.MethodGet, "/imports", imports, c.imports)
	org.Handle(http.MethodPost, "/imports", imports, web.BodyLimit(uploadLimit), c.upload)
	org.Handle(http.MethodGet, "/imports/:id", imports, c.importPage)
	org.Handle(http.MethodGet, "/imports/:id/progress", imports, c.importProgress)
	org.Handle(http.MethodGet, "/imports/:id/rejected/:file", imports, c.rejectedRows)
	org.Handle(http.MethodGet, "/exports", export, c.exports)
	org.Handle(http.MethodGet, "/exports/:file", export, c.exportFile)
}

type figuresView struct {
	*console.Frame
	Grids []roster.GridFigures
	Total roster.Figures
}

type communitiesView struct {
	*console.Frame
	Rows  []communityRow
	Total roster.Figures
}

type communityRow struct {
	console.OrgLink
	roster.Figures
}

// homePanel is a community's figures per grid, or, above the communities,
// the table of the communities below.
func (c *Pages) homePanel(g *gin.Context, f *console.Frame) (template.HTML, error) {
	caller, _ := authz.CallerFrom(g.Request.Context())
	if !caller.Org.IsCommunity() {
		return c.communities(g, f, caller.Org)
	}
	grids, err := c.roster.GridFigures(g.Request.Context())
	if err != nil {
		return "", err
	}
	v := figuresView{Frame: f, Grids: grids}
	for _, gr := range grids {
		v.Total.Add(gr.Figures)
	}
	return c.k.HTML("home_roster", "panel", v)
}

// communities is the official's table: every community below org whose
// roster the caller may read, as authz decides for each.
func (c *Pages) communities(g *gin.Context, f *console.Frame, org *authz.Org) (template.HTML, error) {
	u, _ := authn.UserFrom(g.Request.Context())
	var rows []communityRow
	var ids []string
	for _, o := range c.authz.Visible(u.ID) {
		if !o.IsCommunity() || !strings.HasPrefix(o.Path, org.Path) || !c.authz.Check(u.ID, o.Slug, "roster", "read").Allowed {
			continue
		}
		rows = append(rows, communityRow{OrgLink: console.OrgLink{Slug: o.Slug, Name: f.OrgName(o.Slug), Kind: o.Kind,
			URL: console.Prefix + "/orgs/" + o.Slug}})
		ids = append(ids, o.ID)
	}
	figures, err := c.roster.CommunityFigures(g.Request.Context(), ids)
	if err != nil {
		return "", err
	}
	v := communitiesView{Frame: f}
	for i := range rows {
		rows[i].Figures = figures[ids[i]]
		v.Total.Add(rows[i].Figures)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Slug < rows[j].Slug })
	v.Rows = rows
	return c.k.HTML("communities", "panel", v)
}
