// Package orgpages are the console's pages about the org itself: its
// people and grids (through orgs, which decides who may grant what) and
// its audit log (and everything below it).
package orgpages

import (
	"embed"
	"net/http"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/console"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/store"
)

//go:embed templates/*.html
var templates embed.FS

// Pages are the org's pages, over orgs and the audit log (read through
// db, as the API's audit route reads it).
type Pages struct {
	orgs *orgs.Service
	db   *store.DB
	k    *console.Kit
}

// New makes the org's pages.
func New(o *orgs.Service, db *store.DB) *Pages { return &Pages{orgs: o, db: db} }

// Mount registers the org pages' templates, menu items and pages.
func (c *Pages) Mount(org *authz.OrgRoutes, k *console.Kit) {
	c.k = k
	k.Templates("orgpages", templates, nil)
	perm := func(resource, action string) authz.Perm { return authz.Perm{Resource: resource, Action: action} }
	k.Menu(
		console.MenuItem{Order: 130, Key: "console.menu.members", Path: "/members", Perm: perm("members", "read")},
		console.MenuItem{Order: 140, Key: "console.menu.audit", Path: "/audit", Perm: perm("audit", "read")},
	)
	org.Handle(http.MethodGet, "/members", perm("members", "read"), c.members)
	org.Handle(http.MethodPost, "/members", perm("members", "write"), c.addMember)
	org.Handle(http.MethodGet, "/members/:id", perm("members", "write"), c.editMember)
	org.Handle(http.MethodPost, "/members/:id", perm("members", "write"), c.updateMember)
	org.Handle(http.MethodPost, "/members/:id/disabled", perm("members", "write"), c.setDisabled)
	org.Handle(http.MethodPost, "/members/:id/password", perm("members", "write"), c.resetPassword)
	org.Handle(http.MethodPost, "/grids", perm("grids", "write"), c.addGrid)
	org.Handle(http.MethodPost, "/grids/:slug", perm("grids", "write"), c.renameGrid)
	org.Handle(http.MethodGet, "/audit", perm("audit", "read"), c.audit)
}
