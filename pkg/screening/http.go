package screening

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/idempotency"
	"github.com/wanjia/wanjia/pkg/web"
)

var (
	read      = authz.Perm{Resource: "screening", Action: "read"}
	write     = authz.Perm{Resource: "screening", Action: "write"}
	attempt   = authz.Perm{Resource: "attempts", Action: "write"}
	followUps = authz.Perm{Resource: "follow_ups", Action: "write"}
)

// Routes mounts screening on /orgs/{org}.
func (s *Service) Routes(org *authz.OrgRoutes) {
	org.Handle(http.MethodGet, "/screenings", read, web.Paged(filterFrom, s.ListScreenings))
	org.Handle(http.MethodPost, "/screenings", write, idempotency.Middleware(), web.Create(s.CreateScreening))
	org.Handle(http.MethodGet, "/screenings/:id", read, web.Read(s.GetScreening))
	org.Handle(http.MethodPost, "/screenings/:id/close", write, web.Handle(http.StatusOK, func(c *gin.Context, _ web.NoBody) (*ScreeningView, error) {
		return s.CloseScreening(c.Request.Context(), c.Param("id"))
	}))
	org.Handle(http.MethodGet, "/screenings/:id/tasks", read, web.Paged(filterFrom, func(ctx context.Context, f Filter) ([]TaskView, string, error) {
		return s.ListTasks(ctx, f.Screening, f)
	}))
	org.Handle(http.MethodGet, "/screenings/:id/next", read, web.Handle(http.StatusOK, func(c *gin.Context, _ web.NoBody) (*Next, error) {
		// Only those who may record take holds: an official reading the
		// list must not move the workers' households.
		return s.NextTask(c.Request.Context(), c.Param("id"), Filter{Grid: c.Query("grid"), List: c.Query("list"),
			Peek: !org.Allows(c, attempt)})
	}))
	org.Handle(http.MethodGet, "/screenings/:id/tasks/:task", read, web.Handle(http.StatusOK, func(c *gin.Context, _ web.NoBody) (*TaskView, error) {
		return s.GetTask(c.Request.Context(), c.Param("id"), c.Param("task"))
	}))
	org.Handle(http.MethodPost, "/screenings/:id/tasks/:task/attempts", attempt, idempotency.Middleware(),
		web.Handle(http.StatusCreated, func(c *gin.Context, in AttemptInput) (*AttemptView, error) {
			return s.RecordAttempt(c.Request.Context(), c.Param("id"), c.Param("task"), in)
		}))
	org.Handle(http.MethodGet, "/follow-ups", read, web.Paged(filterFrom, s.ListFollowUps))
	org.Handle(http.MethodPatch, "/follow-ups/:id", followUps, web.Update(s.UpdateFollowUp))
}

func filterFrom(c *gin.Context, p web.Page) (Filter, error) {
	return Filter{Screening: c.Param("id"), Status: c.Query("status"), Grid: c.Query("grid"), List: c.Query("list"),
		Kind: c.Query("kind"), From: c.Query("from"), To: c.Query("to"), Limit: p.Limit, Cursor: p.Cursor}, nil
}
