package screeningpages

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/console"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/screening"
	"github.com/wanjia/wanjia/pkg/web"
)

// A number just marked wrong (空号/错号) sends the household to the door
// list at once. There the worker can ask for the right number, put it on
// the roster (roster.UpdateHousehold: its checks, the role's masking, the
// audit of a personal-data change) and dial it on the spot; screening
// gives the household back to the call list (NumberCorrected), so the
// next call uses the new number.

// phoneForm is the door list's number form: what was typed, and what
// roster said of it. It needs no idempotency key: the same number put
// twice is one change, and a second tap finds the household back on the
// call list and is only redirected.
type phoneForm struct {
	Phone string
	State console.FormState
}

// wrongNumber reports whether t's number was last found wrong.
func wrongNumber(t *screening.TaskView) bool {
	return t != nil && t.Door && t.Status == screening.StatusOpen && t.LastOutcome == screening.OutcomeWrongNumber
}

// correctPhone changes the household's phone and gives it back to the
// call list, then shows the door list with the new number to dial. The
// household is the task's, never one named by the form: another
// community's or grid's task is 404 before anything is changed.
func (c *Pages) correctPhone(g *gin.Context) {
	ctx := g.Request.Context()
	id, taskID := g.Param("id"), g.Param("task")
	t, err := c.screen.GetTask(ctx, id, taskID)
	if err != nil {
		web.Fail(g, err)
		return
	}
	in := phoneForm{Phone: strings.TrimSpace(g.PostForm("phone"))}
	if c.people == nil || !wrongNumber(t) {
		// Corrected already (a second tap) or never marked wrong: the list
		// as it is now says what to do.
		g.Redirect(http.StatusSeeOther, console.OrgURL(g, "/screenings/"+url.PathEscape(id)+"/visits?corrected="+url.QueryEscape(taskID)))
		return
	}
	err = nil
	if in.Phone == "" {
		// Roster takes "" as no phone at all; here a number is the point.
		err = errs.Validation(errs.Field("phone", "required", nil))
	} else {
		_, err = c.people.UpdateHousehold(ctx, t.HouseholdID, roster.HouseholdPatch{Phone: &in.Phone})
	}
	if err != nil {
		e, ok := console.FormError(err)
		if !ok {
			web.Fail(g, err)
			return
		}
		in.State = console.NewFormState(console.Lang(g), e)
		c.showList(g, web.Status(e.Kind), screening.ListDoor, t, attemptForm{}, in)
		return
	}
	if _, err := c.screen.NumberCorrected(ctx, id, taskID); err != nil {
		web.Fail(g, err)
		return
	}
	g.Redirect(http.StatusSeeOther, console.OrgURL(g, "/screenings/"+url.PathEscape(id)+"/visits?corrected="+url.QueryEscape(taskID)))
}
