// Package console is the web console: server-rendered pages for community
// staff (office PCs and phones at the door) and for the officials above
// them. It calls the same services as the JSON API, in the same
// authorization and tenancy context (authz.OrgRoutes' middleware binds
// both), so every rule (scoping, masking, validation, auditing) is the
// services' own; the console only renders.
//
// It is an engine of its own beside the API's (see Handler): the API's
// route table, OpenAPI document and route walkers stay the API's, and the
// console's pages answer in HTML, errors included, never in the API's
// JSON shape. Its session is an HttpOnly cookie the API does not read.
package console

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/authn"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/screening"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/web"
)

// Prefix is where the console lives; "/" redirects there.
const Prefix = "/console"

// Deps are the services the console renders, and what its session needs.
type Deps struct {
	Logger *slog.Logger
	// BaseURL is WANJIA_BASE_URL: the cookies are Secure when it is https.
	BaseURL string
	// Secret is the master key (WANJIA_SECRET_KEY); the session cookie is
	// sealed under a key derived from it, so every replica opens it.
	Secret []byte

	DB        *store.DB
	Authn     *authn.Service
	Authz     *authz.Authorizer
	Orgs      *orgs.Service
	Roster    *roster.Service
	Screening *screening.Service
	Outreach  *outreach.Service
}

// Console is the web console.
type Console struct {
	log      *slog.Logger
	db       *store.DB
	authn    *authn.Service
	authz    *authz.Authorizer
	orgs     *orgs.Service
	roster   *roster.Service
	screen   *screening.Service
	outreach *outreach.Service
	baseURL  string
	sessions *sessions
	views    *views
}

// New builds the console over d's services.
func New(d Deps) *Console {
	log := d.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Console{
		log: log, db: d.DB, authn: d.Authn, authz: d.Authz, orgs: d.Orgs, roster: d.Roster, screen: d.Screening,
		outreach: d.Outreach, baseURL: d.BaseURL,
		sessions: newSessions(d.Authn, d.Secret, strings.HasPrefix(strings.ToLower(d.BaseURL), "https://")),
		views:    loadViews(),
	}
}

// Handler serves the console beside api: "/" and everything under Prefix
// go to the console's engine, anything else to api, untouched. o are the
// API engine's options (logger, metrics, trusted proxies), so both doors
// log, count and see client addresses alike.
func (c *Console) Handler(api http.Handler, o web.Options) http.Handler {
	e := c.engine(o)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if p == "/" || p == Prefix || strings.HasPrefix(p, Prefix+"/") {
			e.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

// engine mounts every page. Each org page names the permission it needs
// through authz.OrgRoutes, exactly as the API's routes do: the same
// middleware resolves the org, decides, and binds the caller and the
// tenant, and refuses any route registered without a permission.
func (c *Console) engine(o web.Options) *gin.Engine {
	e := web.NewEngine(o)
	e.Use(c.errorPages, securityHeaders)
	e.NoRoute(c.notFound)
	e.NoMethod(func(g *gin.Context) { c.errorPage(g, errs.New(errs.KindMethodNotAllowed, "method_not_allowed", nil)) })

	e.GET("/", func(g *gin.Context) { g.Redirect(http.StatusFound, Prefix+"/") })
	e.GET(Prefix+"/static/*file", serveStatic)

	root := e.Group(Prefix, c.loadSession, c.checkCSRF)
	root.GET("/login", c.loginPage)
	root.POST("/login", c.login)
	root.POST("/logout", c.logout)
	root.GET("/lang/:lang", c.setLang)

	signed := root.Group("", c.requireUser)
	signed.GET("/", c.start)
	org := c.authz.OrgRoutes(signed)
	perm := func(resource, action string) authz.Perm { return authz.Perm{Resource: resource, Action: action} }

	org.Handle(http.MethodGet, "", perm("orgs", "read"), c.home)
	org.Handle(http.MethodGet, "/households", perm("roster", "read"), c.households)
	org.Handle(http.MethodGet, "/households/new", perm("roster", "write"), c.newHousehold)
	org.Handle(http.MethodPost, "/households", perm("roster", "write"), c.createHousehold)
	org.Handle(http.MethodGet, "/households/:id", perm("roster", "read"), c.household)
	org.Handle(http.MethodGet, "/households/:id/edit", perm("roster", "write"), c.editHousehold)
	org.Handle(http.MethodPost, "/households/:id", perm("roster", "write"), c.updateHousehold)
	org.Handle(http.MethodGet, "/buildings", perm("roster", "read"), c.buildings)
	org.Handle(http.MethodPost, "/buildings", perm("roster", "write"), c.createBuilding)
	org.Handle(http.MethodGet, "/residents", perm("roster", "read"), c.residents)
	org.Handle(http.MethodGet, "/residents/new", perm("roster", "write"), c.newResident)
	org.Handle(http.MethodPost, "/residents", perm("roster", "write"), c.createResident)
	org.Handle(http.MethodGet, "/residents/:id/edit", perm("roster", "write"), c.editResident)
	org.Handle(http.MethodPost, "/residents/:id", perm("roster", "write"), c.updateResident)
	org.Handle(http.MethodGet, "/imports", perm("imports", "write"), c.imports)
	org.Handle(http.MethodPost, "/imports", perm("imports", "write"), web.BodyLimit(uploadLimit), c.upload)
	org.Handle(http.MethodGet, "/imports/:id", perm("imports", "write"), c.importPage)
	org.Handle(http.MethodGet, "/imports/:id/progress", perm("imports", "write"), c.importProgress)
	org.Handle(http.MethodGet, "/imports/:id/rejected/:file", perm("imports", "write"), c.rejectedRows)
	org.Handle(http.MethodGet, "/exports", perm("roster", "export"), c.exports)
	org.Handle(http.MethodGet, "/exports/:file", perm("roster", "export"), c.exportFile)
	org.Handle(http.MethodGet, "/members", perm("members", "read"), c.members)
	org.Handle(http.MethodPost, "/members", perm("members", "write"), c.addMember)
	org.Handle(http.MethodPost, "/grids", perm("grids", "write"), c.addGrid)
	org.Handle(http.MethodGet, "/audit", perm("audit", "read"), c.audit)

	org.Handle(http.MethodGet, "/screenings", perm("screening", "read"), c.screenings)
	org.Handle(http.MethodPost, "/screenings", perm("screening", "write"), c.createScreening)
	org.Handle(http.MethodGet, "/screenings/:id", perm("screening", "read"), c.screeningPage)
	org.Handle(http.MethodPost, "/screenings/:id/close", perm("screening", "write"), c.closeScreening)
	org.Handle(http.MethodGet, "/screenings/:id/calls", perm("screening", "read"), c.callList)
	org.Handle(http.MethodGet, "/screenings/:id/visits", perm("screening", "read"), c.doorList)
	org.Handle(http.MethodGet, "/screenings/:id/tasks/:task", perm("screening", "read"), c.taskPage)
	org.Handle(http.MethodPost, "/screenings/:id/tasks/:task/attempts", perm("attempts", "write"), c.recordAttempt)
	org.Handle(http.MethodGet, "/follow-ups", perm("screening", "read"), c.followUps)
	org.Handle(http.MethodPost, "/follow-ups/:id", perm("follow_ups", "write"), c.updateFollowUp)
	org.Handle(http.MethodGet, "/publicity", perm("logs", "read"), c.publicity)
	org.Handle(http.MethodPost, "/publicity", perm("logs", "write"), c.addPublicity)
	org.Handle(http.MethodGet, "/publicity/exports/:file", perm("logs", "export"), c.exportLog)
	org.Handle(http.MethodGet, "/disinfections", perm("logs", "read"), c.disinfections)
	org.Handle(http.MethodPost, "/disinfections", perm("logs", "write"), c.addDisinfection)
	org.Handle(http.MethodGet, "/disinfections/exports/:file", perm("logs", "export"), c.exportLog)
	org.Handle(http.MethodGet, "/care", perm("care", "read"), c.care)
	org.Handle(http.MethodGet, "/care/:id", perm("care", "write"), c.careContactForm)
	org.Handle(http.MethodPost, "/care/:id/contacts", perm("care", "write"), c.recordCareContact)

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
	return e
}

// securityHeaders: pages hold personal data, so nothing is cached or
// framed, and only our own scripts and styles run (htmx is served from
// the binary, never a CDN).
func securityHeaders(g *gin.Context) {
	h := g.Writer.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	if !strings.HasPrefix(g.Request.URL.Path, Prefix+"/static/") {
		h.Set("Cache-Control", "no-store")
		h.Set("Vary", "Cookie, Accept-Language")
	}
	g.Next()
}
