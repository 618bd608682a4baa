// Package logpages are the console's pages of the publicity (宣传) and
// disinfection (消毒) logs: what was put out or sprayed, where and when, as
// the offices report it upwards; each with its add form and its download
// as a spreadsheet. Every rule is pkg/logs'; these pages hand over what was
// typed.
package logpages

import (
	"embed"
	"net/http"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/console"
	"github.com/wanjia/wanjia/pkg/logs"
)

//go:embed templates/*.html
var templates embed.FS

// Pages are the logs' pages, over their service.
type Pages struct {
	logs *logs.Service
	k    *console.Kit
}

// New makes the logs' pages.
func New(s *logs.Service) *Pages { return &Pages{logs: s} }

var (
	read   = authz.Perm{Resource: "logs", Action: "read"}
	write  = authz.Perm{Resource: "logs", Action: "write"}
	export = authz.Perm{Resource: "logs", Action: "export"}
)

// Mount registers the logs' templates, menu items and pages.
func (c *Pages) Mount(org *authz.OrgRoutes, k *console.Kit) {
	c.k = k
	k.Templates("logpages", templates, nil)
	k.Menu(
		console.MenuItem{Order: 70, Key: "console.menu.publicity", Path: "/publicity", Perm: read},
		console.MenuItem{Order: 80, Key: "console.menu.disinfections", Path: "/disinfections", Perm: read},
	)
	org.Handle(http.MethodGet, "/publicity", read, c.publicity)
	org.Handle(http.MethodPost, "/publicity", write, c.addPublicity)
	org.Handle(http.MethodGet, "/publicity/exports/:file", export, c.exportLog)
	org.Handle(http.MethodGet, "/disinfections", read, c.disinfections)
	org.Handle(http.MethodPost, "/disinfections", write, c.addDisinfection)
	org.Handle(http.MethodGet, "/disinfections/exports/:file", export, c.exportLog)
}
