package isolationpages

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/console"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/isolation"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/web"
)

// The board (隔离看板): what a day of isolation asks of the office and
// the grid workers, most urgent first: alerts, the cases due for release
// (one click each), who has not checked in today, today's check-ins, and
// every live case by end date.

type boardView struct {
	*console.Frame
	console.GridNames
	Grid       string
	Grids      []orgs.Grid
	Board      *isolation.Board
	Fever      []isolation.AlertView
	Missed     []isolation.AlertView
	Due        []isolation.BoardCase
	Unreported []isolation.BoardCase
	Filter     console.FormState // a refused filter
	State      console.FormState // a refused release or alert action
	Failed     string            // the case or alert whose action was refused
	Done       string            // what was just done ("released", "ack", "close")
}

func (c *Pages) board(g *gin.Context) {
	c.showBoard(g, http.StatusOK, g.Query("grid"), "", console.FormState{})
}

func (c *Pages) showBoard(g *gin.Context, status int, grid, failed string, st console.FormState) {
	names, mine, err := c.k.Grids(g)
	if err != nil {
		web.Fail(g, err)
		return
	}
	v := boardView{Frame: c.k.Frame(g), GridNames: names, Grid: grid, Grids: mine, State: st, Failed: failed, Done: g.Query("done")}
	if v.Can(console.OfflinePerm.Resource, console.OfflinePerm.Action) && v.Can("checkins", "write") {
		v.Offline, v.OfflineLists = true, []string{console.OrgURL(g, "/isolation/offline")}
	}
	v.Title = "console.isolation.title"
	b, err := c.iso.BoardOf(g.Request.Context(), grid)
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
		b = &isolation.Board{}
	}
	v.Board, v.Due, v.Unreported = b, b.Due(), b.Unreported()
	for _, a := range b.Alerts {
		if a.Kind == isolation.AlertMissedCheckin {
			v.Missed = append(v.Missed, a)
		} else {
			v.Fever = append(v.Fever, a)
		}
	}
	c.k.Render(g, status, "board", v)
}

// back is where a form of the board or of a case page returns: the board
// (as it was filtered) when it came from there, the case page otherwise.
func back(g *gin.Context, caseID, done string) string {
	if g.PostForm("from") == "board" {
		q := url.Values{"done": {done}}
		if grid := g.PostForm("grid"); grid != "" {
			q.Set("grid", grid)
		}
		return console.OrgURL(g, "/isolation?"+q.Encode())
	}
	return console.OrgURL(g, "/isolation/cases/"+url.PathEscape(caseID)+"?done="+done)
}

// release releases a case: one click on the board or the case page from
// its end date on; before it, a community admin's form with force and a
// reason.
func (c *Pages) release(g *gin.Context) {
	id := g.Param("id")
	in := isolation.ReleaseInput{Force: g.PostForm("force") != "", Reason: g.PostForm("reason")}
	_, err := c.iso.Release(g.Request.Context(), id, in)
	if err == nil {
		g.Redirect(http.StatusSeeOther, back(g, id, "released"))
		return
	}
	c.refused(g, err, id, "release", caseForm{Reason: in.Reason})
}

// moveAlert acknowledges or closes an alert, from the board or a case.
func (c *Pages) moveAlert(g *gin.Context) {
	id, action := g.Param("id"), g.Param("action")
	var err error
	switch action {
	case "ack":
		_, err = c.iso.AckAlert(g.Request.Context(), id)
	case "close":
		_, err = c.iso.CloseAlert(g.Request.Context(), id)
	default:
		err = errs.NotFound()
	}
	caseID := g.PostForm("case")
	if err == nil {
		g.Redirect(http.StatusSeeOther, back(g, caseID, action))
		return
	}
	c.refused(g, err, caseID, "alert", caseForm{})
}

// refused shows a service's refusal of a form on the page it came from:
// the board, or the case page with what was typed.
func (c *Pages) refused(g *gin.Context, err error, caseID, which string, in caseForm) {
	e, ok := console.FormError(err)
	if !ok {
		web.Fail(g, err)
		return
	}
	st := console.NewFormState(console.Lang(g), e)
	if g.PostForm("from") == "board" {
		c.showBoard(g, web.Status(e.Kind), g.PostForm("grid"), caseID, st)
		return
	}
	c.showCase(g, web.Status(e.Kind), caseID, which, in, st)
}

// isAdmin: a community admin may release a case before its end date.
func isAdmin(g *gin.Context) bool {
	caller, _ := authz.CallerFrom(g.Request.Context())
	return caller.Role == authz.RoleCommunityAdmin
}

// offlineCase is a live case as the offline check-in list shows it.
type offlineCase struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Address string `json:"address"`
	Phone   string `json:"phone"`
	Checked bool   `json:"checked"` // a check-in today already
}

// offlineList is the check-in list of the caller's grids (the board's
// live cases, read and audited as the board is), for offline.js to keep
// on the device; only those who may record check-ins download it.
func (c *Pages) offlineList(g *gin.Context) {
	b, err := c.iso.BoardOf(g.Request.Context(), "")
	if err != nil {
		web.Fail(g, err)
		return
	}
	out := struct {
		Today string        `json:"today"`
		Cases []offlineCase `json:"cases"`
	}{Today: b.Today, Cases: make([]offlineCase, 0, len(b.Cases))}
	for _, k := range b.Cases {
		out.Cases = append(out.Cases, offlineCase{ID: k.ID, Name: k.Name, Address: k.Address, Phone: k.Phone, Checked: k.Last != nil})
	}
	g.JSON(http.StatusOK, out)
}
