package directives

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/web"
)

// The permissions: offices write (post) and read; a community's admins
// and staff read and acknowledge.
var (
	Read  = authz.Perm{Resource: "directives", Action: "read"}
	Write = authz.Perm{Resource: "directives", Action: "write"}
	Ack   = authz.Perm{Resource: "directives", Action: "ack"}
)

// Routes mounts the directives on /orgs/{org}: an office's (sub-district,
// district) and a community's alike ("directives" is a tree resource).
func (s *Service) Routes(org *authz.OrgRoutes) {
	org.Handle(http.MethodPost, "/directives", Write, web.Create(s.Create))
	org.Handle(http.MethodGet, "/directives", Read, web.Paged(filterFrom, s.List))
	org.Handle(http.MethodGet, "/directives/:id", Read, web.Read(s.Get))
	// Acknowledging has no body: a state change through web.Read.
	org.Handle(http.MethodPost, "/directives/:id/ack", Ack, web.Read(s.Ack))
}

func filterFrom(c *gin.Context, p web.Page) (Filter, error) {
	return Filter{Status: c.Query("status"), Limit: p.Limit, Cursor: p.Cursor}, nil
}
