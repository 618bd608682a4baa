// Package outreachpages are the console's outreach pages (通知):
// templates with a live preview of the text and its SMS parts, the
// campaign builder, a campaign's page that follows its sending, the
// opt-out list, residents' replies and the community's WeCom group robot.
// Every rule (the audience, opt-outs, quiet hours, what each state
// allows, how the provider bills a text) is outreach's, through its
// exported API.
package outreachpages

import (
	"embed"
	"net/http"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/console"
	"github.com/wanjia/wanjia/pkg/outreach"
)

//go:embed templates/*.html
var templates embed.FS

// Pages are outreach's pages, over its service.
type Pages struct {
	outreach *outreach.Service
	k        *console.Kit
}

// New makes outreach's pages.
func New(o *outreach.Service) *Pages { return &Pages{outreach: o} }

// Mount registers outreach's templates, menu items and pages.
func (c *Pages) Mount(org *authz.OrgRoutes, k *console.Kit) {
	c.k = k
	k.Templates("outreachpages", templates, nil)
	perm := func(resource, action string) authz.Perm { return authz.Perm{Resource: resource, Action: action} }
	k.Menu(
		console.MenuItem{Order: 90, Key: "console.menu.outreach", Path: "/outreach", Perm: perm("outreach", "read")},
		console.MenuItem{Order: 100, Key: "console.menu.opt_outs", Path: "/outreach/opt-outs", Perm: perm("opt_outs", "read")},
	)
	k.AuditNames(console.AuditNamer{Resource: "outreach_campaign", Perm: perm("outreach", "read"), Link: "/outreach/campaigns/%s", Names: c.outreach.CampaignNames})

	org.Handle(http.MethodGet, "/outreach", perm("outreach", "read"), c.campaigns)
	org.Handle(http.MethodGet, "/outreach/new", perm("outreach", "write"), c.newCampaign)
	org.Handle(http.MethodPost, "/outreach/campaigns", perm("outreach", "write"), c.createCampaign)
	org.Handle(http.MethodGet, "/outreach/campaigns/:id", perm("outreach", "read"), c.campaignPage)
	org.Handle(http.MethodGet, "/outreach/campaigns/:id/status", perm("outreach", "read"), c.campaignStatus)
	for _, action := range campaignActions {
		org.Handle(http.MethodPost, "/outreach/campaigns/:id/"+action, perm("outreach", "send"), c.moveCampaign(action))
	}
	org.Handle(http.MethodGet, "/outreach/templates", perm("outreach", "read"), c.templates)
	org.Handle(http.MethodPost, "/outreach/templates", perm("outreach", "write"), c.createTemplate)
	org.Handle(http.MethodPost, "/outreach/preview", perm("outreach", "write"), c.previewText)
	org.Handle(http.MethodGet, "/outreach/replies", perm("outreach", "read"), c.replies)
	org.Handle(http.MethodGet, "/outreach/opt-outs", perm("opt_outs", "read"), c.optOuts)
	org.Handle(http.MethodPost, "/outreach/opt-outs", perm("opt_outs", "write"), c.addOptOut)
	org.Handle(http.MethodPost, "/outreach/opt-outs/remove", perm("opt_outs", "write"), c.removeOptOut)
	org.Handle(http.MethodPost, "/outreach/robot", perm("wecom_robot", "write"), c.setRobot)
	org.Handle(http.MethodPost, "/outreach/robot/delete", perm("wecom_robot", "write"), c.deleteRobot)
	org.Handle(http.MethodPost, "/outreach/robot/test", perm("wecom_robot", "write"), c.testRobot)
}
