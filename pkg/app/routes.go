package app

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/apidoc"
	"github.com/wanjia/wanjia/pkg/console"
	"github.com/wanjia/wanjia/pkg/console/carepages"
	"github.com/wanjia/wanjia/pkg/console/directivepages"
	"github.com/wanjia/wanjia/pkg/console/isolationpages"
	"github.com/wanjia/wanjia/pkg/console/logpages"
	"github.com/wanjia/wanjia/pkg/console/orgpages"
	"github.com/wanjia/wanjia/pkg/console/outreachpages"
	"github.com/wanjia/wanjia/pkg/console/reportpages"
	"github.com/wanjia/wanjia/pkg/console/residentpages"
	"github.com/wanjia/wanjia/pkg/console/rosterpages"
	"github.com/wanjia/wanjia/pkg/console/screeningpages"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/health"
	"github.com/wanjia/wanjia/pkg/web"
)

// routes builds the engine with every route of the API. Every route added
// here must be in pkg/apidoc/openapi.yaml (a test checks both ways).
func (a *App) routes(trustedProxies []string) *gin.Engine {
	e := web.NewEngine(web.Options{Logger: a.Logger, Metrics: a.Metrics, TrustedProxies: trustedProxies})

	health.Routes(e, a.Health)
	// The providers' callbacks carry no user: the provider's signature is
	// their credential, checked by the hook itself.
	a.Outreach.HookRoutes(e)
	a.Outreach.VoiceHookRoutes(e)

	v1 := e.Group("/api/v1")
	v1.GET("/openapi.json", func(c *gin.Context) {
		b, err := apidoc.JSON()
		if err != nil {
			web.Fail(c, errs.New(errs.KindInternal, "internal", nil))
			return
		}
		c.Data(http.StatusOK, "application/json; charset=utf-8", b)
	})

	a.Authn.Routes(v1)
	signed := v1.Group("", a.Authn.Middleware())
	a.OrgRoutes = a.Authz.OrgRoutes(signed)
	a.Orgs.Routes(signed, a.OrgRoutes)
	a.Roster.Routes(a.OrgRoutes)
	a.Screening.Routes(a.OrgRoutes)
	a.Isolation.Routes(a.OrgRoutes)
	a.Logs.Routes(a.OrgRoutes)
	a.Care.Routes(a.OrgRoutes)
	a.Outreach.Routes(a.OrgRoutes)
	a.Directives.Routes(a.OrgRoutes)
	a.Reports.Routes(a.OrgRoutes)
	// The web console: an engine of its own with the same middleware, so
	// its pages stay out of the API's route table (and its OpenAPI check).
	a.Handler = a.Console.Handler(e, web.Options{Logger: a.Logger, Metrics: a.Metrics, TrustedProxies: trustedProxies})
	return e
}

// ConsolePages are the console's pages, one package per domain, mounted
// after the core's as the API's routes are above: a domain with pages
// adds its package here.
func (a *App) ConsolePages() []console.Pages {
	return []console.Pages{
		screeningpages.New(a.Screening, a.Roster),
		carepages.New(a.Care, a.Roster),
		logpages.New(a.Logs),
		rosterpages.New(a.Roster, a.Authz, a.Screening),
		outreachpages.New(a.Outreach),
		isolationpages.New(a.Isolation, a.Roster, a.Outreach.DryRun),
		orgpages.New(a.Orgs, a.DB),
		residentpages.New(a.Isolation, a.Redis),
		directivepages.New(a.Directives),
		reportpages.New(a.Reports, a.Isolation),
	}
}
