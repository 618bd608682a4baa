// Package directivepages are the console's pages of the directives down
// the tree (通知): an office's form to send one to the communities below
// and its list with how many acknowledged, each directive's page with
// every community acknowledged or not (who, when); a community's list
// with the unacknowledged standing out, each with its acknowledge button,
// and a home panel of what is waiting. Every rule is pkg/directives'.
package directivepages

import (
	"embed"
	"html/template"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/console"
	"github.com/wanjia/wanjia/pkg/directives"
	"github.com/wanjia/wanjia/pkg/web"
)

//go:embed templates/*.html
var templates embed.FS

// Pages are the directives' pages, over their service.
type Pages struct {
	svc *directives.Service
	k   *console.Kit
}

// New makes the directives' pages.
func New(s *directives.Service) *Pages { return &Pages{svc: s} }

// Mount registers the directives' templates, menu item, home panel and
// pages, each with the permission of the API route it mirrors.
func (c *Pages) Mount(org *authz.OrgRoutes, k *console.Kit) {
	c.k = k
	k.Templates("directivepages", templates, template.FuncMap{"yes": yes})
	k.Menu(console.MenuItem{Order: 7, Key: "console.menu.directives", Path: "/directives", Perm: directives.Read})
	k.HomePanel(console.Panel{Order: 3, Render: c.homePanel})

	org.Handle(http.MethodGet, "/directives", directives.Read, c.list)
	org.Handle(http.MethodPost, "/directives", directives.Write, c.create)
	org.Handle(http.MethodGet, "/directives/:id", directives.Read, c.one)
	org.Handle(http.MethodPost, "/directives/:id/ack", directives.Ack, c.ack)
}

// form is the send form as typed.
type form struct {
	Title, Body, DueDate string
	Communities          []string
}

func (f form) Chosen(slug string) bool {
	for _, s := range f.Communities {
		if s == slug {
			return true
		}
	}
	return false
}

type listView struct {
	*console.Frame
	Office      bool // the caller's org is an office above communities
	Communities []directives.Community
	Form        form
	State       console.FormState
	Today       string
	Sent        bool
	Waiting     []directives.View // a community's unacknowledged
	Items       []directives.View // an office's sent; a community's acknowledged
	Next        string
}

func (c *Pages) list(g *gin.Context) { c.showList(g, http.StatusOK, form{}, console.FormState{}) }

func (c *Pages) showList(g *gin.Context, status int, in form, st console.FormState) {
	ctx := g.Request.Context()
	f := c.k.Frame(g)
	f.Title = "console.directives.title"
	caller, _ := authz.CallerFrom(ctx)
	v := listView{Frame: f, Office: !caller.Org.IsCommunity(), Form: in, State: st, Sent: g.Query("sent") != "",
		Today: c.svc.Today(caller.Org)}
	var err error
	if v.Office {
		if v.Communities, err = c.svc.CommunitiesBelow(ctx); err != nil {
			web.Fail(g, err)
			return
		}
		if in.DueDate == "" {
			v.Form.DueDate = v.Today
		}
	} else if g.Query("cursor") == "" {
		// The unacknowledged first, whole (a community has few at a time).
		if v.Waiting, _, err = c.svc.List(ctx, directives.Filter{Status: directives.StatusUnacknowledged, Limit: web.MaxLimit}); err != nil {
			web.Fail(g, err)
			return
		}
	}
	filter := directives.Filter{Limit: console.PageSize, Cursor: g.Query("cursor")}
	if !v.Office {
		filter.Status = directives.StatusAcknowledged
	}
	items, next, err := c.svc.List(ctx, filter)
	if err != nil {
		web.Fail(g, err)
		return
	}
	v.Items, v.Next = items, console.NextURL(g, next)
	c.k.Render(g, status, "directives", v)
}

// create hands the send form to directives.Create.
func (c *Pages) create(g *gin.Context) {
	in := form{Title: g.PostForm("title"), Body: g.PostForm("body"), DueDate: strings.TrimSpace(g.PostForm("due_date")),
		Communities: g.PostFormArray("communities")}
	d, err := c.svc.Create(g.Request.Context(), directives.Input{Title: in.Title, Body: in.Body, DueDate: in.DueDate, Communities: in.Communities})
	if err == nil {
		g.Redirect(http.StatusSeeOther, console.OrgURL(g, "/directives/"+d.ID+"?sent=1"))
		return
	}
	e, ok := console.FormError(err)
	if !ok {
		web.Fail(g, err)
		return
	}
	c.showList(g, web.Status(e.Kind), in, console.NewFormState(console.Lang(g), e))
}

type oneView struct {
	*console.Frame
	Office bool
	D      *directives.View
	Sent   bool
	Acked  bool
}

// one is a directive: an office's with every community's
// acknowledgement, a community's copy with its button.
func (c *Pages) one(g *gin.Context) {
	d, err := c.svc.Get(g.Request.Context(), g.Param("id"))
	if err != nil {
		web.Fail(g, err)
		return
	}
	f := c.k.Frame(g)
	f.Title = "console.directives.title"
	caller, _ := authz.CallerFrom(g.Request.Context())
	c.k.Render(g, http.StatusOK, "directive", oneView{Frame: f, Office: !caller.Org.IsCommunity(), D: d,
		Sent: g.Query("sent") != "", Acked: g.Query("acked") != ""})
}

// ack acknowledges, from the list or the directive's page, and goes back
// to the directive.
func (c *Pages) ack(g *gin.Context) {
	d, err := c.svc.Ack(g.Request.Context(), g.Param("id"))
	if err != nil {
		web.Fail(g, err)
		return
	}
	g.Redirect(http.StatusSeeOther, console.OrgURL(g, "/directives/"+d.ID+"?acked=1"))
}

type homeView struct {
	*console.Frame
	Waiting []directives.View
}

// homePanel is a community's unacknowledged directives, when there are
// any, for those who acknowledge them.
func (c *Pages) homePanel(g *gin.Context, f *console.Frame) (template.HTML, error) {
	caller, _ := authz.CallerFrom(g.Request.Context())
	if !caller.Org.IsCommunity() || !f.Can(directives.Ack.Resource, directives.Ack.Action) {
		return "", nil
	}
	waiting, _, err := c.svc.List(g.Request.Context(), directives.Filter{Status: directives.StatusUnacknowledged, Limit: 10})
	if err != nil || len(waiting) == 0 {
		return "", err
	}
	return c.k.HTML("home_directives", "panel", homeView{Frame: f, Waiting: waiting})
}

// yes is a *bool as the templates test it (a nil one is no).
func yes(b *bool) bool { return b != nil && *b }
