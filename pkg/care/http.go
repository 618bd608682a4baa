package care

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/idempotency"
	"github.com/wanjia/wanjia/pkg/web"
)

var (
	read  = authz.Perm{Resource: "care", Action: "read"}
	write = authz.Perm{Resource: "care", Action: "write"}
)

// Routes mounts the care list on /orgs/{org}.
func (s *Service) Routes(org *authz.OrgRoutes) {
	org.Handle(http.MethodGet, "/care", read, web.Paged(filterFrom, s.List))
	org.Handle(http.MethodPost, "/care/:id/contacts", write, idempotency.Middleware(),
		web.Handle(http.StatusCreated, func(c *gin.Context, in ContactInput) (*ContactView, error) {
			return s.RecordContact(c.Request.Context(), c.Param("id"), in)
		}))
}

func filterFrom(c *gin.Context, p web.Page) (Filter, error) {
	f := Filter{Grid: c.Query("grid"), Limit: p.Limit, Cursor: p.Cursor}
	switch c.Query("overdue") {
	case "", "false":
	case "true":
		f.Overdue = true
	default:
		return f, errs.Validation(errs.Field("overdue", "one_of", map[string]any{"allowed": "true, false"}))
	}
	return f, nil
}
