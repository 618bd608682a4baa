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
//
// This package is the core: the engine, the session, CSRF, sign-in and
// out, the language, error pages, the layout and its frame, forms and
// their idempotency, static assets and the home page. Each domain's pages
// are a package of their own (rosterpages, screeningpages, …) that the
// app lists in Deps.Pages; each mounts itself through a Kit (see Pages).
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
	"github.com/wanjia/wanjia/pkg/web"
)

// Prefix is where the console lives; "/" redirects there.
const Prefix = "/console"

// Deps are what the core needs (its session, the frame's orgs) and the
// page packages it mounts.
type Deps struct {
	Logger *slog.Logger
	// BaseURL is WANJIA_BASE_URL: the cookies are Secure when it is https.
	BaseURL string
	// Secret is the master key (WANJIA_SECRET_KEY); the session cookie is
	// sealed under a key derived from it, so every replica opens it.
	Secret []byte

	Authn *authn.Service
	Authz *authz.Authorizer
	Orgs  *orgs.Service
	// Pages are the domains' pages, mounted in this order.
	Pages []Pages
}

// Console is the web console.
type Console struct {
	log      *slog.Logger
	authn    *authn.Service
	authz    *authz.Authorizer
	orgs     *orgs.Service
	baseURL  string
	sessions *sessions
	pages    []Pages

	// What the page packages registered when the engine was built.
	views  *views
	menu   []MenuItem
	panels []Panel
	namers map[string]AuditNamer
}

// New builds the console over d's services.
func New(d Deps) *Console {
	log := d.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Console{
		log: log, authn: d.Authn, authz: d.Authz, orgs: d.Orgs, baseURL: d.BaseURL, pages: d.Pages,
		sessions: newSessions(d.Authn, d.Secret, strings.HasPrefix(strings.ToLower(d.BaseURL), "https://")),
		views:    newViews(),
	}
}

// TemplateSets are the templates of the core and of every page package,
// once the engine is built (Handler): the catalogue test walks them.
func (c *Console) TemplateSets() []TemplateSet { return c.views.sets }

// Handler serves the console beside api: "/", everything under Prefix
// and the public pages under PublicPrefix go to the console's engine, anything else to api, untouched. o are the
// API engine's options (logger, metrics, trusted proxies), so both doors
// log, count and see client addresses alike.
func (c *Console) Handler(api http.Handler, o web.Options) http.Handler {
	e := c.engine(o)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if p == "/" || p == Prefix || strings.HasPrefix(p, Prefix+"/") || isPublic(p) {
			e.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

// engine mounts the core's pages and each page package's. Each org page
// names the permission it needs through authz.OrgRoutes, exactly as the
// API's routes do: the same middleware resolves the org, decides, and
// binds the caller and the tenant, and refuses any route registered
// without a permission.
func (c *Console) engine(o web.Options) *gin.Engine {
	c.views, c.menu, c.panels = newViews(), nil, nil
	e := web.NewEngine(o)
	e.Use(c.errorPages, securityHeaders)
	e.NoRoute(c.notFound)
	e.NoMethod(func(g *gin.Context) { c.errorPage(g, errs.New(errs.KindMethodNotAllowed, "method_not_allowed", nil)) })

	e.GET("/", func(g *gin.Context) { g.Redirect(http.StatusFound, Prefix+"/") })
	e.GET(Prefix+"/static/*file", serveStatic)
	e.GET(Prefix+"/sw.js", serveWorker)

	root := e.Group(Prefix, c.loadSession, c.checkCSRF)
	root.GET("/login", c.loginPage)
	root.POST("/login", c.login)
	root.POST("/logout", c.logout)
	root.GET("/lang/:lang", c.setLang)

	signed := root.Group("", c.requireUser, c.restoreForm)
	signed.GET("/", c.start)
	org := c.authz.OrgRoutes(signed)
	home := authz.Perm{Resource: "orgs", Action: "read"}
	org.Handle(http.MethodGet, "", home, c.home)
	org.Handle(http.MethodGet, "/offline", OfflinePerm, c.offlineShell)
	org.Handle(http.MethodGet, "/offline/session", OfflinePerm, c.offlineSession)
	k := &Kit{c: c}
	k.Menu(MenuItem{Order: 0, Key: "console.menu.home", Path: "", Perm: home})
	// No session, no menu: a public page's credential is in its URL.
	public := e.Group(PublicPrefix, c.checkCSRF)
	for _, p := range c.pages {
		p.Mount(org, k)
		if pp, ok := p.(PublicPages); ok {
			pp.MountPublic(public, k)
		}
	}
	return e
}

// csp lets only our own scripts and styles run: files of this site, and
// the one inline stylesheet by its hash (render.go's styleFor).
var csp = "default-src 'self'; style-src 'self' " + styleHash + "; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// securityHeaders: pages hold personal data, so nothing is cached or
// framed, and only our own scripts and styles run (htmx is served from
// the binary, never a CDN).
func securityHeaders(g *gin.Context) {
	h := g.Writer.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	if !strings.HasPrefix(g.Request.URL.Path, Prefix+"/static/") {
		h.Set("Cache-Control", "no-store")
		h.Set("Vary", "Cookie, Accept-Language")
	}
	g.Next()
}
