package console

import (
	"html/template"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/web"
)

type homeView struct {
	*Frame
	Panels []template.HTML
}

// home is an org's first page: a community's own figures and work, or,
// above the communities, the table of those below. Its parts are the
// domains' home panels (Kit.HomePanel), in their order.
func (c *Console) home(g *gin.Context) {
	f := c.frameFor(g)
	caller, _ := authz.CallerFrom(g.Request.Context())
	f.Title = "console.home.title"
	if !caller.Org.IsCommunity() {
		f.Title = "console.communities.title"
	}
	v := homeView{Frame: f}
	for _, p := range c.panels {
		html, err := p.Render(g, f)
		if err != nil {
			web.Fail(g, err)
			return
		}
		if html != "" {
			v.Panels = append(v.Panels, html)
		}
	}
	c.render(g, http.StatusOK, "home", v)
}
