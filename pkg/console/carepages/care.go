package carepages

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/care"
	"github.com/wanjia/wanjia/pkg/console"
	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/web"
)

type careView struct {
	*console.Frame
	console.GridNames
	Grid     string
	Overdue  bool
	Grids    []orgs.Grid
	Items    []care.Entry
	Pager    console.Pager
	State    console.FormState
	Recorded string // the resident just called on
}

func (c *Pages) list(g *gin.Context) {
	names, mine, err := c.k.Grids(g)
	if err != nil {
		web.Fail(g, err)
		return
	}
	v := careView{Frame: c.k.Frame(g), GridNames: names, Grid: g.Query("grid"), Overdue: g.Query("overdue") != "",
		Grids: mine, Recorded: g.Query("recorded")}
	v.Title = "console.care.title"
	items, next, err := c.care.List(g.Request.Context(), care.Filter{Grid: v.Grid, Overdue: v.Overdue,
		Limit: console.PageSize, Cursor: g.Query("cursor")})
	status := http.StatusOK
	if err != nil {
		e, ok := console.FormError(err)
		if !ok {
			web.Fail(g, err)
			return
		}
		v.State, status = console.NewFormState(console.Lang(g), e), http.StatusUnprocessableEntity
	}
	v.Items, v.Pager = items, console.NewPager(g, next)
	if err == nil {
		n, err := c.care.Count(g.Request.Context(), care.Filter{Grid: v.Grid, Overdue: v.Overdue})
		if err != nil {
			web.Fail(g, err)
			return
		}
		v.Pager = v.Pager.Count(n, "console.care.total")
	}
	c.k.Render(g, status, "care", v)
}

// careContactView is the form of one care call or visit.
type careContactView struct {
	*console.Frame
	Resident  *roster.ResidentView
	Household *roster.HouseholdView
	Key       string
	Method    string
	Other     string // the other method, to switch the form to
	Outcomes  []string
	Reasons   []string // suggestions, as message keys
	In        careInput
	State     console.FormState
}

type careInput struct {
	Outcome, Reason, Notes string
}

// careReasons are offered as the reason's suggestions; any other may be typed.
var careReasons = []string{"console.care.reason.routine", "console.care.reason.weather", "console.care.reason.health", "console.care.reason.holiday"}

func (c *Pages) contactForm(g *gin.Context) {
	method := g.Query("method")
	if method != care.MethodVisit {
		method = care.MethodPhone
	}
	// Most calls are the routine one: the reason starts filled in.
	c.showCareContact(g, http.StatusOK, method, console.NewKey(), careInput{Reason: i18n.T(console.Lang(g), careReasons[0], nil)}, console.FormState{})
}

func (c *Pages) showCareContact(g *gin.Context, status int, method, key string, in careInput, st console.FormState) {
	ctx := g.Request.Context()
	r, err := c.roster.GetResident(ctx, g.Param("id"))
	if err != nil {
		web.Fail(g, err)
		return
	}
	h, err := c.roster.GetHousehold(ctx, r.HouseholdID)
	if err != nil {
		web.Fail(g, err)
		return
	}
	v := careContactView{Frame: c.k.Frame(g), Resident: r, Household: h, Key: key, Method: method, Other: care.MethodVisit,
		Outcomes: outcomesFor(method), Reasons: careReasons, In: in, State: st}
	if method == care.MethodVisit {
		v.Other = care.MethodPhone
	}
	v.Title = "console.care.contact.title"
	c.k.Render(g, status, "care_contact", v)
}

// recordContact hands the form to care.RecordContact under
// its idempotency key, and returns to the list.
func (c *Pages) recordContact(g *gin.Context) {
	id := g.Param("id")
	method := g.PostForm("method")
	in := careInput{Outcome: g.PostForm("outcome"), Reason: g.PostForm("reason"), Notes: g.PostForm("notes")}
	_, err := c.care.RecordContact(console.Once(g), id, care.ContactInput{Method: method, Outcome: in.Outcome,
		Reason: in.Reason, Notes: in.Notes})
	if err == nil || console.ReusedKey(err) {
		g.Redirect(http.StatusSeeOther, console.OrgURL(g, "/care?recorded="+url.QueryEscape(id)))
		return
	}
	e, ok := console.FormError(err)
	if !ok {
		web.Fail(g, err)
		return
	}
	if method != care.MethodVisit {
		method = care.MethodPhone
	}
	key := g.PostForm("idempotency_key")
	if key == "" {
		key = console.NewKey()
	}
	c.showCareContact(g, web.Status(e.Kind), method, key, in, console.NewFormState(console.Lang(g), e))
}

// outcomesFor are the outcomes a method's form offers: at the door there
// is no number to be wrong.
func outcomesFor(method string) []string {
	if method == care.MethodVisit {
		return []string{care.OutcomeReached, care.OutcomeNoAnswer, care.OutcomeRefused, care.OutcomeMovedOut}
	}
	return care.Outcomes
}
