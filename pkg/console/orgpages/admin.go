package orgpages

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/console"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/web"
)

type membersView struct {
	*console.Frame
	Members []orgs.MemberView
	Grids   []orgs.Grid
	Roles   []string // the roles the member form offers

	Member     orgs.MemberInput // what the member form holds
	MemberForm console.FormState
	Grid       orgs.GridInput
	GridForm   console.FormState
	Added      string
}

// GridName is a grid's name by slug (the slug of one that is gone).
func (v membersView) GridName(slug string) string {
	for _, g := range v.Grids {
		if g.Slug == slug {
			return g.Name
		}
	}
	return slug
}

// memberRoles are the roles a community admin grants (orgs decides).
var memberRoles = []string{authz.RoleCommunityStaff, authz.RoleGridWorker, authz.RoleCommunityAdmin}

// members lists the org's people (phones masked by orgs for all but
// admins) and, in a community, its grids; an admin also gets the forms
// to add either.
func (c *Pages) members(g *gin.Context) {
	v, err := c.membersView(g)
	if err != nil {
		web.Fail(g, err)
		return
	}
	v.Added = g.Query("added")
	c.k.Render(g, http.StatusOK, "members", v)
}

func (c *Pages) membersView(g *gin.Context) (membersView, error) {
	ctx := g.Request.Context()
	f := c.k.Frame(g)
	v := membersView{Frame: f, Roles: memberRoles, Member: orgs.MemberInput{Role: authz.RoleCommunityStaff}}
	v.Title = "console.members.title"
	var err error
	if v.Members, err = c.orgs.ListMembers(ctx, g.Param("org")); err != nil {
		return v, err
	}
	if f.Can("grids", "read") {
		v.Grids, err = c.orgs.ListGrids(ctx)
	}
	return v, err
}

// addMember creates an account with a role here, through orgs.AddMember,
// which decides which roles the caller may grant.
func (c *Pages) addMember(g *gin.Context) {
	in := orgs.MemberInput{Username: g.PostForm("username"), DisplayName: g.PostForm("display_name"), Phone: g.PostForm("phone"),
		Password: g.PostForm("password"), Role: g.PostForm("role"), Grids: g.PostFormArray("grids")}
	_, err := c.orgs.AddMember(g.Request.Context(), g.Param("org"), in)
	if err == nil {
		g.Redirect(http.StatusSeeOther, console.OrgURL(g, "/members?added="+url.QueryEscape(in.Username)))
		return
	}
	e, ok := console.FormError(err)
	var refused *errs.Error
	if !ok && errors.As(err, &refused) && refused.Kind == errs.KindForbidden {
		// Past the route's check, a refusal is about what was asked (a role
		// this admin may not grant, a grant to oneself): the form says so.
		e, ok = refused, true
	}
	if !ok {
		web.Fail(g, err)
		return
	}
	v, verr := c.membersView(g)
	if verr != nil {
		web.Fail(g, verr)
		return
	}
	in.Password = "" // never sent back
	v.Member, v.MemberForm = in, console.NewFormState(v.Lang, e)
	c.k.Render(g, web.Status(e.Kind), "members", v)
}

// addGrid adds a grid to the community through orgs.CreateGrid.
func (c *Pages) addGrid(g *gin.Context) {
	in := orgs.GridInput{Slug: g.PostForm("slug"), Name: g.PostForm("name")}
	_, err := c.orgs.CreateGrid(g.Request.Context(), in)
	if err == nil {
		g.Redirect(http.StatusSeeOther, console.OrgURL(g, "/members?added="+url.QueryEscape(in.Slug)+"#grids"))
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
	v.Grid, v.GridForm = in, console.NewFormState(v.Lang, e)
	c.k.Render(g, web.Status(e.Kind), "members", v)
}

// auditActions are the actions offered in the filter.
var auditActions = []string{audit.ActionCreate, audit.ActionUpdate, audit.ActionDelete, audit.ActionView, audit.ActionExport, audit.ActionLogin}

type auditView struct {
	*console.Frame
	Actor, Action, From, To string
	Actions                 []string
	People                  []orgs.MemberView // the org's people, offered in the actor filter
	Entries                 []auditRow
	State                   console.FormState
	Next                    string
}

// audit is the org's log (and everything below it), filtered as the API's
// is. Dates are the org's local days: from its first minute to the end of
// the "to" day.
func (c *Pages) audit(g *gin.Context) {
	f := c.k.Frame(g)
	v := auditView{Frame: f, Actor: strings.TrimSpace(g.Query("actor")), Action: g.Query("action"),
		From: g.Query("from"), To: g.Query("to"), Actions: auditActions}
	v.Title = "console.audit.title"
	if f.Can("members", "read") {
		var err error
		if v.People, err = c.orgs.ListMembers(g.Request.Context(), g.Param("org")); err != nil {
			web.Fail(g, err)
			return
		}
	}
	filter, err := audit.ParseFilter(v.Actor, v.Action, localDay(v.From, f.Loc(), 0), localDay(v.To, f.Loc(), 1))
	if err != nil {
		e, ok := console.FormError(err)
		if !ok {
			web.Fail(g, err)
			return
		}
		v.State = console.NewFormState(f.Lang, e)
		c.k.Render(g, http.StatusUnprocessableEntity, "audit", v)
		return
	}
	filter.Limit, filter.Cursor = console.PageSize, g.Query("cursor")
	entries, next, err := c.orgs.Audit(g.Request.Context(), filter)
	if err != nil {
		web.Fail(g, err)
		return
	}
	if v.Entries, err = c.named(g, f, entries); err != nil {
		web.Fail(g, err)
		return
	}
	v.Next = console.NextURL(g, next)
	c.k.Render(g, http.StatusOK, "audit", v)
}

// auditRow is an entry with the name of what it is about (an address, a
// resident's or a campaign's name) and a link to its page, when known.
type auditRow struct {
	audit.Entry
	Name, Link string
}

// named names the entries' records: one query per kind of record, through
// the domains' namers (console.Kit.AuditNames), and the community's own
// people and grids from orgs. Only a community's reader gets names, and
// only for its own community's entries; each namer reads in the reader's
// community and grids, so an id of another community's record, whatever
// an entry says, is never named.
func (c *Pages) named(g *gin.Context, f *console.Frame, entries []audit.Entry) ([]auditRow, error) {
	rows := make([]auditRow, len(entries))
	for i, e := range entries {
		rows[i].Entry = e
	}
	caller, _ := authz.CallerFrom(g.Request.Context())
	if caller.Org == nil || !caller.Org.IsCommunity() {
		return rows, nil
	}
	ids := map[string][]string{}
	for _, e := range entries {
		if e.Org == caller.Org.Slug && e.ResourceID != "" && !slices.Contains(ids[e.Resource], e.ResourceID) {
			ids[e.Resource] = append(ids[e.Resource], e.ResourceID)
		}
	}
	type named struct{ name, link string }
	found := map[string]map[string]named{}
	for resource, list := range ids {
		names, link, err := c.namesOf(g, f, resource, list)
		if err != nil {
			return nil, err
		}
		m := make(map[string]named, len(names))
		for id, n := range names {
			m[id] = named{n, ""}
			if link != "" {
				m[id] = named{n, f.URL(fmt.Sprintf(link, url.PathEscape(id)))}
			}
		}
		found[resource] = m
	}
	for i, r := range rows {
		if r.Org != caller.Org.Slug {
			continue
		}
		if n, ok := found[r.Resource][r.ResourceID]; ok {
			rows[i].Name, rows[i].Link = n.name, n.link
		}
	}
	return rows, nil
}

// namesOf names ids of one kind of record: the link is a format with the
// id's place, "" when the reader may not open the record's page.
func (c *Pages) namesOf(g *gin.Context, f *console.Frame, resource string, ids []string) (map[string]string, string, error) {
	ctx := g.Request.Context()
	switch resource {
	case "user":
		if !f.Can("members", "read") {
			return nil, "", nil
		}
		members, err := c.orgs.ListMembers(ctx, g.Param("org"))
		if err != nil {
			return nil, "", err
		}
		out := map[string]string{}
		for _, m := range members {
			if slices.Contains(ids, m.UserID) {
				out[m.UserID] = m.DisplayName + " (" + m.Username + ")"
			}
		}
		return out, "/members#user-%s", nil
	case "grid":
		if !f.Can("grids", "read") {
			return nil, "", nil
		}
		grids, err := c.orgs.ListGrids(ctx)
		if err != nil {
			return nil, "", err
		}
		out := map[string]string{}
		for _, gr := range grids {
			if slices.Contains(ids, gr.ID) {
				out[gr.ID] = gr.Name
			}
		}
		return out, "/members#grids", nil
	}
	n, ok := c.k.AuditNamer(resource)
	if !ok || !f.Can(n.Perm.Resource, n.Perm.Action) {
		return nil, "", nil
	}
	names, err := n.Names(ctx, ids)
	if err != nil {
		return nil, "", err
	}
	link := n.Link
	if lp := n.LinkPerm; lp.Resource != "" && !f.Can(lp.Resource, lp.Action) {
		link = ""
	}
	return names, link, nil
}

// localDay turns a YYYY-MM-DD typed in the org's time zone into the
// instant that day (plus days) begins there, for audit.ParseFilter; any
// other text goes through as typed, for it to judge.
func localDay(s string, loc *time.Location, days int) string {
	d, err := time.ParseInLocation(time.DateOnly, strings.TrimSpace(s), loc)
	if err != nil {
		return s
	}
	return d.AddDate(0, 0, days).Format(time.RFC3339)
}
