package isolationpages

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/console"
	"github.com/wanjia/wanjia/pkg/isolation"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/web"
)

// 转为隔离: a screening follow-up (symptoms, a close contact, a return
// from a watched place) becomes cases for its household's residents, all
// of them or those ticked, in one step that closes the follow-up.

type followUpView struct {
	*console.Frame
	ID        string
	Household string // the follow-up's household, to list its residents
	Residents []roster.ResidentView
	Kinds     []string
	Key       string
	In        followUpForm
	State     console.FormState
	Today     string
}

type followUpForm struct {
	Kind, StartDate, Days, Reason string
	ResidentIDs                   []string
}

// followUpForm is the form; the follow-ups list links to it with the
// household, whose residents it offers (the service checks they live
// there, and the follow-up's own household is the one it uses).
func (c *Pages) followUpForm(g *gin.Context) {
	c.showFollowUp(g, http.StatusOK, g.Query("household"), console.NewKey(), followUpForm{Kind: isolation.KindMedicalObservation}, console.FormState{})
}

func (c *Pages) showFollowUp(g *gin.Context, status int, household, key string, in followUpForm, st console.FormState) {
	f := c.k.Frame(g)
	v := followUpView{Frame: f, ID: g.Param("id"), Household: household, Kinds: isolation.Kinds, Key: key, In: in, State: st,
		Today: timeToday(f)}
	v.Title = "console.isolation.follow_up.title"
	if household != "" {
		rs, _, err := c.roster.ListResidents(g.Request.Context(), roster.Filter{HouseholdID: household, Limit: 50})
		if err != nil {
			if _, ok := console.FormError(err); !ok {
				web.Fail(g, err)
				return
			}
		}
		v.Residents = rs
	}
	c.k.Render(g, status, "follow_up_case", v)
}

// fromFollowUp opens the cases under the form's idempotency key, and
// shows the first (a household's cases are on the board).
func (c *Pages) fromFollowUp(g *gin.Context) {
	in := followUpForm{Kind: g.PostForm("kind"), StartDate: strings.TrimSpace(g.PostForm("start_date")),
		Days: strings.TrimSpace(g.PostForm("days")), Reason: g.PostForm("reason"), ResidentIDs: g.PostFormArray("resident_ids")}
	household := g.PostForm("household")
	days, ok := parseDays(in.Days)
	if !ok {
		c.showFollowUp(g, http.StatusUnprocessableEntity, household, keyOf(g), in, daysRefused(g))
		return
	}
	cases, err := c.iso.CasesFromFollowUp(console.Once(g), g.Param("id"), isolation.FollowUpCasesInput{Kind: in.Kind,
		StartDate: in.StartDate, Days: days, Reason: in.Reason, ResidentIDs: in.ResidentIDs})
	if err == nil && len(cases) > 0 {
		to := "/isolation?done=opened"
		if len(cases) == 1 {
			to = "/isolation/cases/" + url.PathEscape(cases[0].ID) + "?done=opened"
		}
		g.Redirect(http.StatusSeeOther, console.OrgURL(g, to))
		return
	}
	e, ok := console.FormError(err)
	if !ok {
		web.Fail(g, err)
		return
	}
	c.showFollowUp(g, web.Status(e.Kind), household, keyOf(g), in, console.NewFormState(console.Lang(g), e))
}

// timeToday is the org's date today, for a date field's limit.
func timeToday(f *console.Frame) string { return time.Now().In(f.Loc()).Format(time.DateOnly) }
