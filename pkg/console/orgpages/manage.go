package orgpages

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/console"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/web"
)

type memberView struct {
	*console.Frame
	Member   orgs.MemberView
	Grids    []orgs.Grid
	Roles    []string
	Form     console.FormState
	Password string // a new password, shown once
	Saved    bool
	// Own: the account is the community's own ("<community>."), so its
	// name, phone, password and state may be changed here.
	Own bool
}

// memberOf finds the member with the route's id among the org's people.
func (c *Pages) memberOf(g *gin.Context) (memberView, error) {
	v := memberView{Frame: c.k.Frame(g), Roles: memberRoles, Saved: g.Query("saved") != ""}
	v.Title = "console.members.edit"
	ms, err := c.orgs.ListMembers(g.Request.Context(), g.Param("org"))
	if err != nil {
		return v, err
	}
	found := false
	for _, m := range ms {
		if m.UserID == g.Param("id") {
			v.Member, found = m, true
		}
	}
	if !found {
		return v, errs.New(errs.KindNotFound, "not_found", nil)
	}
	v.Own = strings.HasPrefix(v.Member.Username, g.Param("org")+".")
	if v.Can("grids", "read") {
		v.Grids, err = c.orgs.ListGrids(g.Request.Context())
	}
	return v, err
}

// refusal is a form's answer to err: what the reader can fix (422, 409)
// and, past the route's check, a refusal about what was asked (a role
// this admin may not grant, its own account): the form says so.
func refusal(err error) (*errs.Error, bool) {
	if e, ok := console.FormError(err); ok {
		return e, true
	}
	var refused *errs.Error
	if errors.As(err, &refused) && refused.Kind == errs.KindForbidden {
		return refused, true
	}
	return nil, false
}

// editMember is a member's page: the form to change it, and the buttons
// to disable or enable its account and to give it a new password.
func (c *Pages) editMember(g *gin.Context) {
	v, err := c.memberOf(g)
	if err != nil {
		web.Fail(g, err)
		return
	}
	c.k.Render(g, http.StatusOK, "member", v)
}

// memberAnswer shows the member's page after a refused change.
func (c *Pages) memberAnswer(g *gin.Context, err error, keep func(*memberView)) {
	e, ok := refusal(err)
	if !ok {
		web.Fail(g, err)
		return
	}
	v, verr := c.memberOf(g)
	if verr != nil {
		web.Fail(g, verr)
		return
	}
	if keep != nil {
		keep(&v)
	}
	v.Form = console.NewFormState(v.Lang, e)
	if v.Form.Message == "" && len(v.Form.Fields) == 0 {
		v.Form.Message = v.T(e.MessageKey())
	}
	c.k.Render(g, web.Status(e.Kind), "member", v)
}

// updateMember changes the member through orgs.UpdateMember, which
// decides what the caller may grant.
func (c *Pages) updateMember(g *gin.Context) {
	name, phone, role := g.PostForm("display_name"), g.PostForm("phone"), g.PostForm("role")
	grids := g.PostFormArray("grids")
	if grids == nil {
		grids = []string{}
	}
	p := orgs.MemberPatch{DisplayName: &name, Phone: &phone, Role: &role, Grids: grids}
	if g.PostForm("account") == "" {
		// The form of an account that is not the community's own offers
		// the role and grids only.
		p.DisplayName, p.Phone = nil, nil
	}
	if _, err := c.orgs.UpdateMember(g.Request.Context(), g.Param("org"), g.Param("id"), p); err != nil {
		c.memberAnswer(g, err, func(v *memberView) {
			v.Member.DisplayName, v.Member.Phone, v.Member.Role, v.Member.Grids = name, phone, role, grids
		})
		return
	}
	g.Redirect(http.StatusSeeOther, console.OrgURL(g, "/members/"+url.PathEscape(g.Param("id"))+"?saved=1"))
}

// setDisabled disables or enables the member's account.
func (c *Pages) setDisabled(g *gin.Context) {
	if err := c.orgs.SetMemberDisabled(g.Request.Context(), g.Param("org"), g.Param("id"), g.PostForm("disabled") == "1"); err != nil {
		c.memberAnswer(g, err, nil)
		return
	}
	g.Redirect(http.StatusSeeOther, console.OrgURL(g, "/members/"+url.PathEscape(g.Param("id"))+"?saved=1"))
}

// resetPassword gives the member a new password and shows it once, on
// this answer only (never in a URL; pages are not cached).
func (c *Pages) resetPassword(g *gin.Context) {
	pw, err := c.orgs.ResetMemberPassword(g.Request.Context(), g.Param("org"), g.Param("id"))
	if err != nil {
		c.memberAnswer(g, err, nil)
		return
	}
	v, err := c.memberOf(g)
	if err != nil {
		web.Fail(g, err)
		return
	}
	v.Password = pw
	c.k.Render(g, http.StatusOK, "member", v)
}

// renameGrid renames a grid through orgs.RenameGrid.
func (c *Pages) renameGrid(g *gin.Context) {
	name := g.PostForm("name")
	_, err := c.orgs.RenameGrid(g.Request.Context(), g.Param("slug"), name)
	if err == nil {
		g.Redirect(http.StatusSeeOther, console.OrgURL(g, "/members?added="+url.QueryEscape(name)+"#grids"))
		return
	}
	e, ok := console.FormError(err)
	if !ok {
		web.Fail(g, err)
		return
	}
	v, verr := c.membersView(g)
	if verr != nil {
		web.Fail(g, verr)
		return
	}
	v.Grid, v.GridForm = orgs.GridInput{Slug: g.Param("slug"), Name: name}, console.NewFormState(v.Lang, e)
	c.k.Render(g, web.Status(e.Kind), "members", v)
}
