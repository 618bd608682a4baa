package isolation

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/idempotency"
	"github.com/wanjia/wanjia/pkg/web"
)

var (
	read         = authz.Perm{Resource: "isolation", Action: "read"}
	write        = authz.Perm{Resource: "isolation", Action: "write"}
	checkins     = authz.Perm{Resource: "checkins", Action: "write"}
	alertsRead   = authz.Perm{Resource: "alerts", Action: "read"}
	alertsWrite  = authz.Perm{Resource: "alerts", Action: "write"}
	supportRead  = authz.Perm{Resource: "support", Action: "read"}
	supportWrite = authz.Perm{Resource: "support", Action: "write"}
)

// Routes mounts isolation's cases, check-ins, alerts and support requests
// on /orgs/{org}.
func (s *Service) Routes(org *authz.OrgRoutes) {
	org.Handle(http.MethodPost, "/isolations", write, idempotency.Middleware(), web.Create(s.CreateCase))
	org.Handle(http.MethodGet, "/isolations", read, web.Paged(filterFrom, s.ListCases))
	org.Handle(http.MethodGet, "/isolations/:id", read, web.Read(s.GetCase))
	org.Handle(http.MethodPatch, "/isolations/:id", write, web.Update(s.UpdateCase))
	org.Handle(http.MethodPost, "/isolations/:id/checkins", checkins, idempotency.Middleware(),
		web.Handle(http.StatusCreated, func(c *gin.Context, in CheckinInput) (*CheckinView, error) {
			return s.RecordCheckin(c.Request.Context(), c.Param("id"), in)
		}))
	// A release usually has no body; a forced one says so in it.
	org.Handle(http.MethodPost, "/isolations/:id/release", write, web.Handle(http.StatusOK, func(c *gin.Context, _ web.NoBody) (*CaseView, error) {
		var in ReleaseInput
		if c.Request.Body != nil && c.Request.Body != http.NoBody {
			if err := web.BindJSON(c, &in); err != nil {
				return nil, err
			}
		}
		return s.Release(c.Request.Context(), c.Param("id"), in)
	}))
	org.Handle(http.MethodPost, "/follow-ups/:id/isolations", write, idempotency.Middleware(),
		web.Handle(http.StatusCreated, func(c *gin.Context, in FollowUpCasesInput) (web.List[CaseView], error) {
			items, err := s.CasesFromFollowUp(c.Request.Context(), c.Param("id"), in)
			return web.NewList(items, ""), err
		}))
	org.Handle(http.MethodGet, "/alerts", alertsRead, web.Paged(filterFrom, s.ListAlerts))
	org.Handle(http.MethodPost, "/alerts/:id/ack", alertsWrite, web.Read(s.AckAlert))
	org.Handle(http.MethodPost, "/alerts/:id/close", alertsWrite, web.Read(s.CloseAlert))
	org.Handle(http.MethodGet, "/support-requests", supportRead, web.Paged(filterFrom, s.ListSupport))
	org.Handle(http.MethodPost, "/support-requests", supportWrite, idempotency.Middleware(), web.Create(s.CreateSupport))
	org.Handle(http.MethodPatch, "/support-requests/:id", supportWrite, web.Update(s.UpdateSupport))
}

func filterFrom(c *gin.Context, p web.Page) (Filter, error) {
	return Filter{Status: c.Query("status"), Kind: c.Query("kind"), Grid: c.Query("grid"), Overdue: c.Query("overdue") == "true",
		Limit: p.Limit, Cursor: p.Cursor}, nil
}
