package reports

import (
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/idempotency"
	"github.com/wanjia/wanjia/pkg/web"
)

var (
	reportsRead   = authz.Perm{Resource: "reports", Action: "read"}
	reportsWrite  = authz.Perm{Resource: "reports", Action: "write"}
	reportsSubmit = authz.Perm{Resource: "reports", Action: "submit"}
	reportsExport = authz.Perm{Resource: "reports", Action: "export"}
)

// Routes mounts the daily report on /orgs/{org}: on a community its own
// report, on a sub-district or district the rollup of the communities
// below (reports is a resource every org has; writes are the community's
// by the policy).
func (s *Service) Routes(org *authz.OrgRoutes) {
	org.Handle(http.MethodGet, "/reports/daily", reportsRead, web.Handle(http.StatusOK, func(c *gin.Context, _ web.NoBody) (*Series, error) {
		return s.Series(c.Request.Context(), c.Query("from"), c.Query("to"))
	}))
	org.Handle(http.MethodGet, "/reports/daily/:date", reportsRead, web.Handle(http.StatusOK, func(c *gin.Context, _ web.NoBody) (any, error) {
		if caller, ok := authz.CallerFrom(c.Request.Context()); ok && caller.Org != nil && !caller.Org.IsCommunity() {
			return s.Rollup(c.Request.Context(), c.Param("date"))
		}
		return s.Day(c.Request.Context(), c.Param("date"))
	}))
	org.Handle(http.MethodPut, "/reports/daily/:date", reportsWrite, web.Handle(http.StatusOK, func(c *gin.Context, in ManualInput) (*Report, error) {
		return s.SaveDraft(c.Request.Context(), c.Param("date"), in)
	}))
	org.Handle(http.MethodPost, "/reports/daily/:date/submit", reportsSubmit, idempotency.Middleware(),
		web.Handle(http.StatusOK, func(c *gin.Context, _ web.NoBody) (*Report, error) {
			return s.Submit(c.Request.Context(), c.Param("date"))
		}))
	org.Handle(http.MethodPost, "/reports/daily/:date/corrections", reportsSubmit, web.Handle(http.StatusCreated, func(c *gin.Context, in CorrectionInput) (*Report, error) {
		return s.Correct(c.Request.Context(), c.Param("date"), in)
	}))
	org.Handle(http.MethodGet, "/reports/daily/:date/export", reportsExport, func(c *gin.Context) {
		format := c.DefaultQuery("format", "xlsx")
		web.Download(c, "daily-report-"+c.Param("org")+"-"+c.Param("date")+"."+format, func(w io.Writer) error {
			return s.Export(c.Request.Context(), c.Param("date"), format, w)
		})
	})
}
