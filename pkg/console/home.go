package console

import (
	"net/http"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/authn"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/screening"
	"github.com/wanjia/wanjia/pkg/web"
)

type homeView struct {
	*frame
	Grids []roster.GridFigures
	Total roster.Figures
	// Campaigns are the open ones, with the caller's part of their
	// progress: a grid worker's day starts from their call lists.
	Campaigns []screening.ScreeningView
}

type communitiesView struct {
	*frame
	Rows  []communityRow
	Total roster.Figures
}

type communityRow struct {
	orgLink
	roster.Figures
}

// home is a community's figures per grid, or, above the communities, the
// table of the communities below.
func (c *Console) home(g *gin.Context) {
	f := c.frameFor(g)
	caller, _ := authz.CallerFrom(g.Request.Context())
	if !caller.Org.IsCommunity() {
		c.communities(g, f, caller.Org)
		return
	}
	grids, err := c.roster.GridFigures(g.Request.Context())
	if err != nil {
		web.Fail(g, err)
		return
	}
	v := homeView{frame: f, Grids: grids}
	for _, gr := range grids {
		v.Total.Add(gr.Figures)
	}
	if f.Can("screening", "read") {
		if v.Campaigns, err = c.openCampaigns(g.Request.Context()); err != nil {
			web.Fail(g, err)
			return
		}
	}
	f.Title = "console.home.title"
	c.render(g, http.StatusOK, "home", v)
}

// communities is the official's table: every community below org whose
// roster the caller may read, as authz decides for each.
func (c *Console) communities(g *gin.Context, f *frame, org *authz.Org) {
	u, _ := authn.UserFrom(g.Request.Context())
	var rows []communityRow
	var ids []string
	for _, o := range c.authz.Visible(u.ID) {
		if !o.IsCommunity() || !strings.HasPrefix(o.Path, org.Path) || !c.authz.Check(u.ID, o.Slug, "roster", "read").Allowed {
			continue
		}
		rows = append(rows, communityRow{orgLink: orgLink{Slug: o.Slug, Name: o.Slug, Kind: o.Kind, URL: Prefix + "/orgs/" + o.Slug}})
		ids = append(ids, o.ID)
	}
	figures, err := c.roster.CommunityFigures(g.Request.Context(), ids)
	if err != nil {
		web.Fail(g, err)
		return
	}
	v := communitiesView{frame: f}
	for i := range rows {
		if n := f.names[rows[i].Slug]; n != "" {
			rows[i].Name = n
		}
		rows[i].Figures = figures[ids[i]]
		v.Total.Add(rows[i].Figures)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Slug < rows[j].Slug })
	v.Rows = rows
	f.Title = "console.communities.title"
	c.render(g, http.StatusOK, "communities", v)
}
