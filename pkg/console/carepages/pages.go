// Package carepages are the console's pages of the special-care list
// (特殊人群关怀): elderly residents living alone (or whom the community's
// settings name), the longest without contact first, and the form that
// records a care call or visit. Every rule is pkg/care's; these pages hand
// over what was tapped and typed.
package carepages

import (
	"embed"
	"net/http"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/care"
	"github.com/wanjia/wanjia/pkg/console"
	"github.com/wanjia/wanjia/pkg/roster"
)

//go:embed templates/*.html
var templates embed.FS

// Pages are the care list's pages, over its service; the contact's form
// shows the resident and household through roster's.
type Pages struct {
	care   *care.Service
	roster *roster.Service
	k      *console.Kit
}

// New makes the care list's pages.
func New(s *care.Service, r *roster.Service) *Pages { return &Pages{care: s, roster: r} }

var (
	read  = authz.Perm{Resource: "care", Action: "read"}
	write = authz.Perm{Resource: "care", Action: "write"}
)

// Mount registers the care list's templates, menu item and pages.
func (c *Pages) Mount(org *authz.OrgRoutes, k *console.Kit) {
	c.k = k
	k.Templates("carepages", templates, nil)
	k.Menu(console.MenuItem{Order: 30, Key: "console.menu.care", Path: "/care", Perm: read})
	org.Handle(http.MethodGet, "/care", read, c.list)
	org.Handle(http.MethodGet, "/care/:id", write, c.contactForm)
	org.Handle(http.MethodPost, "/care/:id/contacts", write, c.recordContact)
}
