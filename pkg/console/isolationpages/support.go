package isolationpages

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/console"
	"github.com/wanjia/wanjia/pkg/isolation"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/web"
)

// Support requests (隔门不隔心): what isolated residents ask for
// (groceries, medicine, a thermometer, a doctor), filed on a case page,
// assigned to a member of the community, done or cancelled here.

// supportStatuses are the filter's choices; "" lists what is still to do.
var supportStatuses = []string{isolation.SupportOpen, isolation.SupportAssigned, isolation.SupportDone, isolation.SupportCancelled}

type supportView struct {
	*console.Frame
	console.GridNames
	Status, Grid string
	Overdue      bool
	Statuses     []string
	Grids        []orgs.Grid
	Items        []isolation.SupportView
	Pager        console.Pager
	Filter       console.FormState
	Editing      string // the request whose form was refused
	Assignee     string // what its form held
	State        console.FormState
	Updated      string
	Moves        []string // the statuses a request's buttons set
}

func (c *Pages) supportList(g *gin.Context) {
	c.showSupport(g, http.StatusOK, g.Query("status"), g.Query("grid"), g.Query("overdue") != "", "", "", console.FormState{})
}

func (c *Pages) showSupport(g *gin.Context, status int, filter, grid string, overdue bool, editing, assignee string, st console.FormState) {
	names, mine, err := c.k.Grids(g)
	if err != nil {
		web.Fail(g, err)
		return
	}
	v := supportView{Frame: c.k.Frame(g), GridNames: names, Status: filter, Grid: grid, Overdue: overdue, Statuses: supportStatuses,
		Grids: mine, Editing: editing, Assignee: assignee, State: st, Updated: g.Query("updated"),
		Moves: []string{isolation.SupportAssigned, isolation.SupportDone, isolation.SupportCancelled}}
	v.Title = "console.support.title"
	f := isolation.Filter{Status: filter, Grid: grid, Overdue: overdue, Limit: console.PageSize, Cursor: g.Query("cursor")}
	items, next, err := c.iso.ListSupport(g.Request.Context(), f)
	if err != nil {
		e, ok := console.FormError(err)
		if !ok {
			web.Fail(g, err)
			return
		}
		v.Filter = console.NewFormState(console.Lang(g), e)
		if status == http.StatusOK {
			status = http.StatusUnprocessableEntity
		}
	}
	v.Items, v.Pager = items, console.NewPager(g, next)
	if err == nil {
		n, err := c.iso.CountSupport(g.Request.Context(), f)
		if err != nil {
			web.Fail(g, err)
			return
		}
		v.Pager = v.Pager.Count(n, "console.support.total")
	}
	c.k.Render(g, status, "support", v)
}

// createSupport files a request for a case's resident, from the case
// page, under the form's idempotency key.
func (c *Pages) createSupport(g *gin.Context) {
	caseID := g.PostForm("case")
	in := caseForm{Kind: g.PostForm("kind"), Details: g.PostForm("details"), SupportKey: g.PostForm("idempotency_key")}
	_, err := c.iso.CreateSupport(console.Once(g), isolation.SupportInput{ResidentID: g.PostForm("resident_id"), Kind: in.Kind, Details: in.Details})
	if err == nil || console.ReusedKey(err) {
		g.Redirect(http.StatusSeeOther, back(g, caseID, "support"))
		return
	}
	c.refused(g, err, caseID, "support", in)
}

// updateSupport assigns, finishes or cancels a request and returns to
// the list as it was filtered.
func (c *Pages) updateSupport(g *gin.Context) {
	id := g.Param("id")
	var p isolation.SupportPatch
	status, assignee := g.PostForm("status"), strings.TrimSpace(g.PostForm("assignee"))
	if assignee != "" && (status == "" || status == isolation.SupportAssigned) {
		p.Assignee = &assignee
	}
	if status != "" {
		p.Status = &status
	}
	filter, grid, overdue := g.PostForm("filter_status"), g.PostForm("filter_grid"), g.PostForm("filter_overdue") != ""
	_, err := c.iso.UpdateSupport(g.Request.Context(), id, p)
	if err == nil {
		q := url.Values{"updated": {id}}
		if filter != "" {
			q.Set("status", filter)
		}
		if grid != "" {
			q.Set("grid", grid)
		}
		if overdue {
			q.Set("overdue", "1")
		}
		g.Redirect(http.StatusSeeOther, console.OrgURL(g, "/isolation/support?"+q.Encode()))
		return
	}
	e, ok := console.FormError(err)
	if !ok {
		web.Fail(g, err)
		return
	}
	c.showSupport(g, web.Status(e.Kind), filter, grid, overdue, id, assignee, console.NewFormState(console.Lang(g), e))
}
