package rosterpages

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/console"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/web"
)

// The roster's forms beyond adding a resident: buildings, households
// (new and edited) and residents (edited). Every rule is roster's: the
// console hands over what was typed and shows what the service says of
// it beside each field. An edit sends only the fields the reader changed
// (the form carries the values it opened with), so a field shown masked,
// or left empty to keep (an ID number), is never written back.

type buildingsView struct {
	*console.Frame
	listForm
	Items []roster.BuildingView
	Next  string
	In    roster.BuildingInput // what the add form holds
	Form  console.FormState
	Added string
}

func (c *Pages) buildings(g *gin.Context) {
	c.showBuildings(g, http.StatusOK, roster.BuildingInput{}, console.FormState{})
}

func (c *Pages) showBuildings(g *gin.Context, status int, in roster.BuildingInput, st console.FormState) {
	form, filter, err := c.listForm(g)
	if err != nil {
		web.Fail(g, err)
		return
	}
	form.SearchHint, form.Tags, filter.Tag = "console.buildings.search_hint", nil, ""
	v := buildingsView{Frame: c.k.Frame(g), listForm: form, In: in, Form: st, Added: g.Query("added")}
	items, next, err := c.roster.ListBuildings(g.Request.Context(), filter)
	if err != nil {
		if !c.listed(g, &v.listForm, err) {
			return
		}
		if status == http.StatusOK {
			status = http.StatusUnprocessableEntity
		}
	}
	v.Items, v.Next, v.Title = items, console.NextURL(g, next), "console.buildings.title"
	c.k.Render(g, status, "buildings", v)
}

// createBuilding hands the add form to roster.CreateBuilding.
func (c *Pages) createBuilding(g *gin.Context) {
	in := roster.BuildingInput{Grid: g.PostForm("grid"), Name: g.PostForm("name"), Address: g.PostForm("address")}
	b, err := c.roster.CreateBuilding(g.Request.Context(), in)
	if err == nil {
		g.Redirect(http.StatusSeeOther, console.OrgURL(g, "/buildings?added="+url.QueryEscape(b.Name)))
		return
	}
	e, ok := console.FormError(err)
	if !ok {
		web.Fail(g, err)
		return
	}
	c.showBuildings(g, web.Status(e.Kind), in, console.NewFormState(console.Lang(g), e))
}

// householdForm is the form of a new household or of one being edited.
type householdForm struct {
	*console.Frame
	Household *roster.HouseholdView // nil for a new one
	In, Was   householdInput        // what is typed; what the form opened with
	State     console.FormState
	Grids     []orgs.Grid
	Buildings []roster.BuildingView
	Tags      []string
}

type householdInput struct {
	Grid, BuildingID, Unit, Room, Address, Phone, Notes string
	Tags                                                []string
}

func householdInputOf(h *roster.HouseholdView) householdInput {
	return householdInput{Grid: h.Grid, BuildingID: h.BuildingID, Unit: h.Unit, Room: h.Room, Address: h.Address,
		Phone: h.Phone, Notes: h.Notes, Tags: h.Tags}
}

// postedHousehold reads the household fields of a form; prefix "was_"
// reads the values the form opened with.
func postedHousehold(g *gin.Context, prefix string) householdInput {
	return householdInput{Grid: g.PostForm(prefix + "grid"), BuildingID: g.PostForm(prefix + "building_id"),
		Unit: g.PostForm(prefix + "unit"), Room: g.PostForm(prefix + "room"), Address: g.PostForm(prefix + "address"),
		Phone: g.PostForm(prefix + "phone"), Notes: g.PostForm(prefix + "notes"), Tags: g.PostFormArray(prefix + "tags")}
}

// householdForm fills the form's choices: the caller's grids and
// buildings (roster and orgs scope both), and the tags offered.
func (c *Pages) householdForm(g *gin.Context, h *roster.HouseholdView, in, was householdInput, st console.FormState) (householdForm, error) {
	ctx := g.Request.Context()
	v := householdForm{Frame: c.k.Frame(g), Household: h, In: in, Was: was, State: st, Tags: offeredTags(in.Tags, was.Tags)}
	lf, _, err := c.listForm(g)
	if err != nil {
		return v, err
	}
	v.Grids = lf.Grids
	// A community has tens of buildings; the cap only bounds the select.
	if v.Buildings, _, err = c.roster.ListBuildings(ctx, roster.Filter{Limit: web.MaxLimit}); err != nil {
		return v, err
	}
	v.Title = "console.household.new.title"
	if h != nil {
		v.Title = "console.household.edit.title"
	}
	return v, nil
}

// offeredTags are the well-known tags and any other the record has, so
// that saving the form keeps an office's own tags.
func offeredTags(lists ...[]string) []string {
	out := slices.Clone(wellKnownTags)
	for _, l := range lists {
		for _, t := range l {
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	return out
}

func (c *Pages) newHousehold(g *gin.Context) {
	v, err := c.householdForm(g, nil, householdInput{}, householdInput{}, console.FormState{})
	if err != nil {
		web.Fail(g, err)
		return
	}
	if len(v.Grids) == 1 {
		v.In.Grid = v.Grids[0].Slug
	}
	c.k.Render(g, http.StatusOK, "household_form", v)
}

// createHousehold hands the form to roster.CreateHousehold.
func (c *Pages) createHousehold(g *gin.Context) {
	in := postedHousehold(g, "")
	h, err := c.roster.CreateHousehold(g.Request.Context(), roster.HouseholdInput{Grid: in.Grid, BuildingID: in.BuildingID,
		Unit: in.Unit, Room: in.Room, Address: in.Address, Phone: in.Phone, Tags: in.Tags, Notes: in.Notes})
	if err == nil {
		g.Redirect(http.StatusSeeOther, console.OrgURL(g, "/households/"+url.PathEscape(h.ID)+"?saved=1"))
		return
	}
	c.householdRefused(g, nil, in, householdInput{}, err)
}

func (c *Pages) editHousehold(g *gin.Context) {
	h, err := c.roster.GetHousehold(g.Request.Context(), g.Param("id"))
	if err != nil {
		web.Fail(g, err)
		return
	}
	in := householdInputOf(h)
	v, err := c.householdForm(g, h, in, in, console.FormState{})
	if err != nil {
		web.Fail(g, err)
		return
	}
	c.k.Render(g, http.StatusOK, "household_form", v)
}

// updateHousehold sends roster.UpdateHousehold the fields that changed.
func (c *Pages) updateHousehold(g *gin.Context) {
	ctx := g.Request.Context()
	id := g.Param("id")
	in, was := postedHousehold(g, ""), postedHousehold(g, "was_")
	var p roster.HouseholdPatch
	changed := false
	str := func(dst **string, now, before string) {
		if now != before {
			*dst, changed = &now, true
		}
	}
	str(&p.Grid, in.Grid, was.Grid)
	str(&p.BuildingID, in.BuildingID, was.BuildingID)
	str(&p.Unit, in.Unit, was.Unit)
	str(&p.Room, in.Room, was.Room)
	str(&p.Address, in.Address, was.Address)
	str(&p.Phone, in.Phone, was.Phone)
	str(&p.Notes, in.Notes, was.Notes)
	if !sameSet(in.Tags, was.Tags) {
		tags := in.Tags
		if tags == nil {
			tags = []string{}
		}
		p.Tags, changed = &tags, true
	}
	var err error
	if changed {
		_, err = c.roster.UpdateHousehold(ctx, id, p)
	}
	if err == nil {
		g.Redirect(http.StatusSeeOther, console.OrgURL(g, "/households/"+url.PathEscape(id)+"?saved=1"))
		return
	}
	h, herr := c.roster.GetHousehold(ctx, id)
	if herr != nil {
		web.Fail(g, herr)
		return
	}
	c.householdRefused(g, h, in, was, err)
}

// householdRefused shows the form again with what the service said, or
// the error page for anything that is not the reader's to fix.
func (c *Pages) householdRefused(g *gin.Context, h *roster.HouseholdView, in, was householdInput, err error) {
	e, ok := console.FormError(err)
	if !ok {
		web.Fail(g, err)
		return
	}
	v, verr := c.householdForm(g, h, in, was, console.NewFormState(console.Lang(g), e))
	if verr != nil {
		web.Fail(g, verr)
		return
	}
	c.k.Render(g, web.Status(e.Kind), "household_form", v)
}

// residentEdit is the form of a resident being edited. The ID number's
// input starts empty (left so, the number on record stays); the number
// on record shows as the service shows it to this reader.
type residentEdit struct {
	*console.Frame
	Resident *roster.ResidentView
	In, Was  residentInput
	State    console.FormState
	Tags     []string
}

func residentInputOf(r *roster.ResidentView) residentInput {
	in := residentInput{Name: r.Name, Phone: r.Phone, Sex: r.Sex, Tags: r.Tags}
	if r.BirthYear != nil {
		in.BirthYear = strconv.Itoa(*r.BirthYear)
	}
	return in
}

func postedResident(g *gin.Context, prefix string) residentInput {
	return residentInput{Name: g.PostForm(prefix + "name"), Phone: g.PostForm(prefix + "phone"), IDNumber: g.PostForm(prefix + "id_number"),
		BirthYear: strings.TrimSpace(g.PostForm(prefix + "birth_year")), Sex: g.PostForm(prefix + "sex"), Tags: g.PostFormArray(prefix + "tags")}
}

func (c *Pages) editResident(g *gin.Context) {
	r, err := c.roster.GetResident(g.Request.Context(), g.Param("id"))
	if err != nil {
		web.Fail(g, err)
		return
	}
	in := residentInputOf(r)
	v := residentEdit{Frame: c.k.Frame(g), Resident: r, In: in, Was: in, Tags: offeredTags(in.Tags)}
	v.Title = "console.resident.edit.title"
	c.k.Render(g, http.StatusOK, "resident_edit", v)
}

// updateResident sends roster.UpdateResident the fields that changed; an
// ID number is sent only when one is typed.
func (c *Pages) updateResident(g *gin.Context) {
	ctx := g.Request.Context()
	id := g.Param("id")
	in, was := postedResident(g, ""), postedResident(g, "was_")
	in.IDNumber = strings.TrimSpace(in.IDNumber)
	var p roster.ResidentPatch
	changed := false
	str := func(dst **string, now, before string) {
		if now != before {
			*dst, changed = &now, true
		}
	}
	str(&p.Name, in.Name, was.Name)
	str(&p.Phone, in.Phone, was.Phone)
	str(&p.Sex, in.Sex, was.Sex)
	if in.IDNumber != "" {
		p.IDNumber, changed = &in.IDNumber, true
	}
	if !sameSet(in.Tags, was.Tags) {
		tags := in.Tags
		if tags == nil {
			tags = []string{}
		}
		p.Tags, changed = &tags, true
	}
	var err error
	if in.BirthYear != was.BirthYear && in.BirthYear != "" {
		// As on the new-resident form: the API refuses a non-number first.
		if y, perr := strconv.Atoi(in.BirthYear); perr == nil {
			p.BirthYear, changed = &y, true
		} else {
			err = errs.Validation(errs.Field("birth_year", "expect_integer", nil))
		}
	}
	var saved *roster.ResidentView
	if err == nil && changed {
		saved, err = c.roster.UpdateResident(ctx, id, p)
	}
	if err == nil {
		household := g.PostForm("household_id")
		if saved != nil {
			household = saved.HouseholdID
		}
		g.Redirect(http.StatusSeeOther, console.OrgURL(g, "/households/"+url.PathEscape(household)+"?updated="+url.QueryEscape(id)))
		return
	}
	e, ok := console.FormError(err)
	if !ok {
		web.Fail(g, err)
		return
	}
	r, rerr := c.roster.GetResident(ctx, id)
	if rerr != nil {
		web.Fail(g, rerr)
		return
	}
	v := residentEdit{Frame: c.k.Frame(g), Resident: r, In: in, Was: was, State: console.NewFormState(console.Lang(g), e), Tags: offeredTags(in.Tags, was.Tags)}
	v.Title = "console.resident.edit.title"
	c.k.Render(g, web.Status(e.Kind), "resident_edit", v)
}

// sameSet reports whether a and b hold the same values, in any order.
func sameSet(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			return false
		}
	}
	return true
}
