package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/web"
)

// pageSize is a list page: what a phone scrolls through and a desktop
// table shows without feeling long.
const pageSize = 50

// wellKnownTags are the tags offered as filters and checkboxes; offices'
// own tags show as they were written.
var wellKnownTags = []string{roster.TagElderly, roster.TagLivesAlone, roster.TagDisabled, roster.TagChronicIllness, roster.TagPregnant, roster.TagChild}

// listForm is the search and filters of a roster list.
type listForm struct {
	SearchHint   string // message key
	Q, Grid, Tag string
	Grids        []orgs.Grid // the grids the caller may filter by
	Tags         []string
	State        formState // a refused search (say, digits from a role that sees masks)
}

type householdsView struct {
	*frame
	listForm
	Items []roster.HouseholdView
	Next  string
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

func (c *Console) listForm(g *gin.Context) (listForm, roster.Filter, error) {
	f := listForm{Q: strings.TrimSpace(g.Query("q")), Grid: g.Query("grid"), Tag: g.Query("tag"), Tags: wellKnownTags}
	grids, err := c.orgs.ListGrids(g.Request.Context())
	if err != nil {
		return f, roster.Filter{}, err
	}
	caller, _ := authz.CallerFrom(g.Request.Context())
	for _, gr := range grids {
		if caller.Grids == nil || has(caller.Grids, gr.Slug) {
			f.Grids = append(f.Grids, gr)
		}
	}
	return f, roster.Filter{Q: f.Q, Grid: f.Grid, Tag: f.Tag, Cursor: g.Query("cursor"), Limit: pageSize}, nil
}

// nextURL is this list's next page: the same search, from cursor.
func nextURL(g *gin.Context, cursor string) string {
	if cursor == "" {
		return ""
	}
	q := g.Request.URL.Query()
	q.Set("cursor", cursor)
	return g.Request.URL.Path + "?" + q.Encode()
}

// listed separates a list's refusals that belong on its search form (an
// unknown grid, a search the role may not make) from real failures.
func (c *Console) listed(g *gin.Context, form *listForm, err error) bool {
	if e, ok := formError(err); ok && e.Kind == errs.KindValidation {
		form.State = newFormState(lang(g), e)
		return true
	}
	web.Fail(g, err)
	return false
}

func (c *Console) households(g *gin.Context) {
	form, filter, err := c.listForm(g)
	if err != nil {
		web.Fail(g, err)
		return
	}
	form.SearchHint = "console.households.search_hint"
	v := householdsView{frame: c.frameFor(g), listForm: form}
	items, next, err := c.roster.ListHouseholds(g.Request.Context(), filter)
	status := http.StatusOK
	if err != nil {
		if !c.listed(g, &v.listForm, err) {
			return
		}
		status = http.StatusUnprocessableEntity
	}
	v.Items, v.Next, v.Title = items, nextURL(g, next), "console.households.title"
	c.render(g, status, "households", v)
}

type householdView struct {
	*frame
	Household *roster.HouseholdView
	GridName  string
	Residents []roster.ResidentView
	Added     string
	Updated   string // a resident just saved
	Saved     bool   // the household just saved
}

func (c *Console) household(g *gin.Context) {
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
	v := householdView{frame: c.frameFor(g), Household: h, Residents: people, Added: g.Query("added"), GridName: h.Grid,
		Updated: g.Query("updated"), Saved: g.Query("saved") != ""}
	if grids, err := c.orgs.ListGrids(ctx); err == nil {
		v.GridName = listForm{Grids: grids}.GridName(h.Grid)
	}
	v.Title = "console.household.title"
	c.render(g, http.StatusOK, "household", v)
}

type residentsView struct {
	*frame
	listForm
	Items []roster.ResidentView
	Next  string
}

func (c *Console) residents(g *gin.Context) {
	form, filter, err := c.listForm(g)
	if err != nil {
		web.Fail(g, err)
		return
	}
	form.SearchHint = "console.residents.search_hint"
	v := residentsView{frame: c.frameFor(g), listForm: form}
	items, next, err := c.roster.ListResidents(g.Request.Context(), filter)
	status := http.StatusOK
	if err != nil {
		if !c.listed(g, &v.listForm, err) {
			return
		}
		status = http.StatusUnprocessableEntity
	}
	v.Items, v.Next, v.Title = items, nextURL(g, next), "console.residents.title"
	c.render(g, status, "residents", v)
}

// residentForm is the new-resident form: what was typed, and what the
// service said of it, field by field.
type residentForm struct {
	*frame
	Household *roster.HouseholdView
	In        residentInput
	State     formState
	Tags      []string
}

type residentInput struct {
	Name, Phone, IDNumber, BirthYear, Sex string
	Tags                                  []string
}

func (c *Console) newResident(g *gin.Context) {
	v := residentForm{frame: c.frameFor(g), Tags: wellKnownTags}
	if id := g.Query("household"); id != "" {
		h, err := c.roster.GetHousehold(g.Request.Context(), id)
		if err != nil {
			web.Fail(g, err)
			return
		}
		v.Household = h
	}
	v.Title = "console.resident.new.title"
	c.render(g, http.StatusOK, "resident_new", v)
}

// createResident hands the form to roster.CreateResident; its validation
// messages come back per field and show beside each input.
func (c *Console) createResident(g *gin.Context) {
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
		g.Redirect(http.StatusSeeOther, c.orgURL(g, "/households/"+url.PathEscape(created.HouseholdID)+"?added="+url.QueryEscape(created.ID)))
		return
	}
	e, ok := formError(err)
	if !ok {
		web.Fail(g, err)
		return
	}
	v := residentForm{frame: c.frameFor(g), In: in, State: newFormState(lang(g), e), Tags: wellKnownTags}
	if id := req.HouseholdID; id != "" {
		if h, herr := c.roster.GetHousehold(ctx, id); herr == nil {
			v.Household = h
		}
	}
	v.Title = "console.resident.new.title"
	c.render(g, web.Status(e.Kind), "resident_new", v)
}

// orgURL is a path in the org of the request.
func (c *Console) orgURL(g *gin.Context, p string) string {
	return Prefix + "/orgs/" + g.Param("org") + p
}

func has(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
