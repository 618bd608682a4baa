package rosterpages

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/console"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/screening"
	"github.com/wanjia/wanjia/pkg/web"
)

// wellKnownTags are the tags offered as filters and checkboxes; offices'
// own tags show as they were written.
var wellKnownTags = []string{roster.TagElderly, roster.TagLivesAlone, roster.TagDisabled, roster.TagChronicIllness, roster.TagPregnant, roster.TagChild}

// listForm is the search and filters of a roster list.
type listForm struct {
	SearchHint   string // message key
	Q, Grid, Tag string
	Grids        []orgs.Grid // the grids the caller may filter by
	Tags         []string
	State        console.FormState // a refused search (say, digits from a role that sees masks)
}

type householdsView struct {
	*console.Frame
	listForm
	Items []roster.HouseholdView
	Pager console.Pager
}

// GridName is a grid's name for its slug.
func (v listForm) GridName(slug string) string {
	for _, g := range v.Grids {
		if g.Slug == slug {
			return g.Name
		}
	}
	return slug
}

func (c *Pages) listForm(g *gin.Context) (listForm, roster.Filter, error) {
	f := listForm{Q: strings.TrimSpace(g.Query("q")), Grid: g.Query("grid"), Tag: g.Query("tag"), Tags: wellKnownTags}
	_, mine, err := c.k.Grids(g)
	if err != nil {
		return f, roster.Filter{}, err
	}
	f.Grids = mine
	return f, roster.Filter{Q: f.Q, Grid: f.Grid, Tag: f.Tag, Cursor: g.Query("cursor"), Limit: console.PageSize}, nil
}

// listed separates a list's refusals that belong on its search form (an
// unknown grid, a search the role may not make) from real failures.
func (c *Pages) listed(g *gin.Context, form *listForm, err error) bool {
	if e, ok := console.FormError(err); ok && e.Kind == errs.KindValidation {
		form.State = console.NewFormState(console.Lang(g), e)
		return true
	}
	web.Fail(g, err)
	return false
}

func (c *Pages) households(g *gin.Context) {
	form, filter, err := c.listForm(g)
	if err != nil {
		web.Fail(g, err)
		return
	}
	form.SearchHint = "console.households.search_hint"
	v := householdsView{Frame: c.k.Frame(g), listForm: form}
	items, next, err := c.roster.ListHouseholds(g.Request.Context(), filter)
	status := http.StatusOK
	if err != nil {
		if !c.listed(g, &v.listForm, err) {
			return
		}
		status = http.StatusUnprocessableEntity
	}
	v.Items, v.Pager, v.Title = items, console.NewPager(g, next), "console.households.title"
	if err == nil {
		// The count runs on the filter's indexes (grid, tags, address
		// trigrams, phone endings), as the list's page does.
		n, err := c.roster.CountHouseholds(g.Request.Context(), filter)
		if err != nil {
			web.Fail(g, err)
			return
		}
		v.Pager = v.Pager.Count(n, "console.households.total")
	}
	c.k.Render(g, status, "households", v)
}

type householdView struct {
	*console.Frame
	Household *roster.HouseholdView
	GridName  string
	Residents []roster.ResidentView
	Added     string
	Updated   string // a resident just saved
	Saved     bool   // the household just saved
	// Its screening history: calls and visits, follow-ups (newest first).
	History *screening.HouseholdHistory
}

// historyShown is how much of a household's history its page lists.
const historyShown = 20

func (c *Pages) household(g *gin.Context) {
	ctx := g.Request.Context()
	h, err := c.roster.GetHousehold(ctx, g.Param("id"))
	if err != nil {
		web.Fail(g, err)
		return
	}
	// A household has a handful of residents; the cap only bounds a
	// mistaken import's worst case.
	people, _, err := c.roster.ListResidents(ctx, roster.Filter{HouseholdID: h.ID, Limit: web.MaxLimit})
	if err != nil {
		web.Fail(g, err)
		return
	}
	v := householdView{Frame: c.k.Frame(g), Household: h, Residents: people, Added: g.Query("added"), GridName: h.Grid,
		Updated: g.Query("updated"), Saved: g.Query("saved") != ""}
	if names, _, err := c.k.Grids(g); err == nil {
		v.GridName = names.GridName(h.Grid)
	}
	if c.history != nil {
		if v.History, err = c.history.HistoryOf(ctx, h.ID, historyShown); err != nil {
			web.Fail(g, err)
			return
		}
	}
	v.Title = "console.household.title"
	c.k.Render(g, http.StatusOK, "household", v)
}

type residentsView struct {
	*console.Frame
	listForm
	Items []roster.ResidentView
	Pager console.Pager
}

func (c *Pages) residents(g *gin.Context) {
	form, filter, err := c.listForm(g)
	if err != nil {
		web.Fail(g, err)
		return
	}
	form.SearchHint = "console.residents.search_hint"
	v := residentsView{Frame: c.k.Frame(g), listForm: form}
	items, next, err := c.roster.ListResidents(g.Request.Context(), filter)
	status := http.StatusOK
	if err != nil {
		if !c.listed(g, &v.listForm, err) {
			return
		}
		status = http.StatusUnprocessableEntity
	}
	v.Items, v.Pager, v.Title = items, console.NewPager(g, next), "console.residents.title"
	if err == nil {
		n, err := c.roster.CountResidents(g.Request.Context(), filter)
		if err != nil {
			web.Fail(g, err)
			return
		}
		v.Pager = v.Pager.Count(n, "console.residents.total")
	}
	c.k.Render(g, status, "residents", v)
}

// residentForm is the new-resident form: what was typed, and what the
// service said of it, field by field.
type residentForm struct {
	*console.Frame
	Household *roster.HouseholdView
	In        residentInput
	State     console.FormState
	Tags      []string
}

type residentInput struct {
	Name, Phone, IDNumber, BirthYear, Sex string
	Tags                                  []string
}

func (c *Pages) newResident(g *gin.Context) {
	v := residentForm{Frame: c.k.Frame(g), Tags: wellKnownTags}
	if id := g.Query("household"); id != "" {
		h, err := c.roster.GetHousehold(g.Request.Context(), id)
		if err != nil {
			web.Fail(g, err)
			return
		}
		v.Household = h
	}
	v.Title = "console.resident.new.title"
	c.k.Render(g, http.StatusOK, "resident_new", v)
}

// createResident hands the form to roster.CreateResident; its validation
// messages come back per field and show beside each input.
func (c *Pages) createResident(g *gin.Context) {
	ctx := g.Request.Context()
	in := residentInput{Name: g.PostForm("name"), Phone: g.PostForm("phone"), IDNumber: g.PostForm("id_number"),
		BirthYear: strings.TrimSpace(g.PostForm("birth_year")), Sex: g.PostForm("sex"), Tags: g.PostFormArray("tags")}
	req := roster.ResidentInput{HouseholdID: g.PostForm("household_id"), Name: in.Name, Phone: in.Phone,
		IDNumber: in.IDNumber, Sex: in.Sex, Tags: in.Tags}
	var err error
	if in.BirthYear != "" {
		// The JSON API refuses a non-number before the service sees it;
		// so does the form, with the same message.
		if y, perr := strconv.Atoi(in.BirthYear); perr == nil {
			req.BirthYear = &y
		} else {
			err = errs.Validation(errs.Field("birth_year", "expect_integer", nil))
		}
	}
	var created *roster.ResidentView
	if err == nil {
		created, err = c.roster.CreateResident(ctx, req)
	}
	if err == nil {
		g.Redirect(http.StatusSeeOther, console.OrgURL(g, "/households/"+url.PathEscape(created.HouseholdID)+"?added="+url.QueryEscape(created.ID)))
		return
	}
	e, ok := console.FormError(err)
	if !ok {
		web.Fail(g, err)
		return
	}
	v := residentForm{Frame: c.k.Frame(g), In: in, State: console.NewFormState(console.Lang(g), e), Tags: wellKnownTags}
	if id := req.HouseholdID; id != "" {
		if h, herr := c.roster.GetHousehold(ctx, id); herr == nil {
			v.Household = h
		}
	}
	v.Title = "console.resident.new.title"
	c.k.Render(g, web.Status(e.Kind), "resident_new", v)
}
