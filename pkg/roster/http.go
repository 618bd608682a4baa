package roster

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/idempotency"
	"github.com/wanjia/wanjia/pkg/web"
)

var (
	read   = authz.Perm{Resource: "roster", Action: "read"}
	write  = authz.Perm{Resource: "roster", Action: "write"}
	export = authz.Perm{Resource: "roster", Action: "export"}
	imp    = authz.Perm{Resource: "imports", Action: "write"}
)

// Routes mounts the roster API on the /orgs/{org} group.
func (s *Service) Routes(org *authz.OrgRoutes) {
	org.Handle(http.MethodGet, "/buildings", read, web.Paged(filterFrom, s.ListBuildings))
	org.Handle(http.MethodPost, "/buildings", write, idempotency.Middleware(), web.Create(s.CreateBuilding))
	org.Handle(http.MethodGet, "/households", read, web.Paged(filterFrom, s.ListHouseholds))
	org.Handle(http.MethodPost, "/households", write, idempotency.Middleware(), web.Create(s.CreateHousehold))
	org.Handle(http.MethodGet, "/households/:id", read, web.Read(s.GetHousehold))
	org.Handle(http.MethodPatch, "/households/:id", write, web.Update(s.UpdateHousehold))
	org.Handle(http.MethodDelete, "/households/:id", write, web.Remove(s.DeleteHousehold))
	org.Handle(http.MethodGet, "/residents", read, web.Paged(filterFrom, s.ListResidents))
	org.Handle(http.MethodPost, "/residents", write, idempotency.Middleware(), web.Create(s.CreateResident))
	org.Handle(http.MethodGet, "/residents/:id", read, web.Read(s.GetResident))
	org.Handle(http.MethodPatch, "/residents/:id", write, web.Update(s.UpdateResident))
	org.Handle(http.MethodDelete, "/residents/:id", write, web.Remove(s.DeleteResident))
	org.Handle(http.MethodPost, "/imports", imp, web.BodyLimit(MaxImportBytes+1<<20), s.handleCreateImport)
	org.Handle(http.MethodGet, "/imports/:id", imp, s.handleGetImport)
	org.Handle(http.MethodGet, "/imports/:id/:file", imp, s.handleRejectedRows)
	org.Handle(http.MethodGet, "/exports/:file", export, s.handleExport)
}

func filterFrom(c *gin.Context, p web.Page) (Filter, error) {
	return Filter{Grid: c.Query("grid"), Q: c.Query("q"), Tag: c.Query("tag"), HouseholdID: c.Query("household_id"),
		BuildingID: c.Query("building_id"), Limit: p.Limit, Cursor: p.Cursor}, nil
}
