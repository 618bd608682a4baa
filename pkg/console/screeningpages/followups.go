package screeningpages

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/console"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/screening"
	"github.com/wanjia/wanjia/pkg/web"
)

// Follow-ups (待跟进): what the findings of a call or visit ask staff to
// do (symptoms, a close contact, a recent return from a watched place).
// Staff close them with a note of what was done; grid workers and
// officials read them.

// followUpStatuses are the filter's choices; "all" lists every status.
var followUpStatuses = []string{screening.StatusOpen, screening.StatusDone, screening.FollowUpDismissed, screening.FollowUpCase, "all"}

type followUpsView struct {
	*console.Frame
	console.GridNames
	Status, Grid string
	Statuses     []string
	Grids        []orgs.Grid
	Items        []screening.FollowUpView
	Pager        console.Pager
	Filter       console.FormState // a refused filter
	Editing      string            // the follow-up whose form was refused
	Notes        string            // what its form held
	Form         console.FormState
	Updated      string
	Closes       []string // the statuses an open follow-up's buttons set
	Reopen       []string
}

// followUps lists the follow-ups of one status (open unless asked
// otherwise: the list is a to-do list), oldest first as the service
// orders them.
func (c *Pages) followUps(g *gin.Context) {
	c.showFollowUps(g, http.StatusOK, g.Query("status"), g.Query("grid"), "", "", console.FormState{})
}

func (c *Pages) showFollowUps(g *gin.Context, status int, filterStatus, grid, editing, notes string, st console.FormState) {
	if filterStatus == "" {
		filterStatus = screening.StatusOpen
	}
	names, mine, err := c.k.Grids(g)
	if err != nil {
		web.Fail(g, err)
		return
	}
	v := followUpsView{Frame: c.k.Frame(g), GridNames: names, Status: filterStatus, Grid: grid, Statuses: followUpStatuses,
		Grids: mine, Editing: editing, Notes: notes, Form: st, Updated: g.Query("updated"),
		Closes: []string{screening.StatusDone, screening.FollowUpDismissed}, Reopen: []string{screening.StatusOpen}}
	v.Title = "console.follow_ups.title"
	f := screening.Filter{Status: filterStatus, Grid: grid, Limit: console.PageSize, Cursor: g.Query("cursor")}
	if f.Status == "all" {
		f.Status = ""
	}
	items, next, err := c.screen.ListFollowUps(g.Request.Context(), f)
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
		n, err := c.screen.CountFollowUps(g.Request.Context(), f)
		if err != nil {
			web.Fail(g, err)
			return
		}
		v.Pager = v.Pager.Count(n, "console.follow_ups.total")
	}
	c.k.Render(g, status, "follow_ups", v)
}

// updateFollowUp closes (done, dismissed) or reopens a follow-up with a
// note, through screening.UpdateFollowUp, and returns to the list as it
// was filtered.
func (c *Pages) updateFollowUp(g *gin.Context) {
	id := g.Param("id")
	status, notes := g.PostForm("status"), g.PostForm("notes")
	filterStatus, grid := g.PostForm("filter_status"), g.PostForm("filter_grid")
	_, err := c.screen.UpdateFollowUp(g.Request.Context(), id, screening.FollowUpPatch{Status: &status, Notes: &notes})
	if err == nil {
		q := url.Values{"updated": {id}}
		if filterStatus != "" {
			q.Set("status", filterStatus)
		}
		if grid != "" {
			q.Set("grid", grid)
		}
		g.Redirect(http.StatusSeeOther, console.OrgURL(g, "/follow-ups?"+q.Encode()))
		return
	}
	e, ok := console.FormError(err)
	if !ok {
		web.Fail(g, err)
		return
	}
	c.showFollowUps(g, web.Status(e.Kind), filterStatus, grid, id, notes, console.NewFormState(console.Lang(g), e))
}
