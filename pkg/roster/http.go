package roster

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/authz"
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
	org.Handle(http.MethodGet, "/buildings", read, list(s.ListBuildings))
	org.Handle(http.MethodPost, "/buildings", write, handle(http.StatusCreated, true, func(c *gin.Context, in BuildingInput) (*BuildingView, error) {
		return s.CreateBuilding(c.Request.Context(), in)
	}))
	org.Handle(http.MethodGet, "/households", read, list(s.ListHouseholds))
	org.Handle(http.MethodPost, "/households", write, handle(http.StatusCreated, true, func(c *gin.Context, in HouseholdInput) (*HouseholdView, error) {
		return s.CreateHousehold(c.Request.Context(), in)
	}))
	org.Handle(http.MethodGet, "/households/:id", read, handle(http.StatusOK, false, func(c *gin.Context, _ struct{}) (*HouseholdView, error) {
		return s.GetHousehold(c.Request.Context(), c.Param("id"))
	}))
	org.Handle(http.MethodPatch, "/households/:id", write, handle(http.StatusOK, true, func(c *gin.Context, p HouseholdPatch) (*HouseholdView, error) {
		return s.UpdateHousehold(c.Request.Context(), c.Param("id"), p)
	}))
	org.Handle(http.MethodDelete, "/households/:id", write, remove(s.DeleteHousehold))
	org.Handle(http.MethodGet, "/residents", read, list(s.ListResidents))
	org.Handle(http.MethodPost, "/residents", write, handle(http.StatusCreated, true, func(c *gin.Context, in ResidentInput) (*ResidentView, error) {
		return s.CreateResident(c.Request.Context(), in)
	}))
	org.Handle(http.MethodGet, "/residents/:id", read, handle(http.StatusOK, false, func(c *gin.Context, _ struct{}) (*ResidentView, error) {
		return s.GetResident(c.Request.Context(), c.Param("id"))
	}))
	org.Handle(http.MethodPatch, "/residents/:id", write, handle(http.StatusOK, true, func(c *gin.Context, p ResidentPatch) (*ResidentView, error) {
		return s.UpdateResident(c.Request.Context(), c.Param("id"), p)
	}))
	org.Handle(http.MethodDelete, "/residents/:id", write, remove(s.DeleteResident))
	org.Handle(http.MethodPost, "/imports", imp, web.BodyLimit(MaxImportBytes+1<<20), s.handleCreateImport)
	org.Handle(http.MethodGet, "/imports/:id", imp, s.handleGetImport)
	org.Handle(http.MethodGet, "/imports/:id/:file", imp, s.handleRejectedRows)
	org.Handle(http.MethodGet, "/exports/:file", export, s.handleExport)
}

func filterFrom(c *gin.Context) (Filter, error) {
	p, err := web.ParsePage(c)
	if err != nil {
		return Filter{}, err
	}
	return Filter{Grid: c.Query("grid"), Q: c.Query("q"), Tag: c.Query("tag"), HouseholdID: c.Query("household_id"),
		BuildingID: c.Query("building_id"), Limit: p.Limit, Cursor: p.Cursor}, nil
}

// handle builds a JSON handler: bind the body (when bind), call, answer
// with status.
func handle[In any, Out any](status int, bind bool, call func(c *gin.Context, in In) (Out, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		var in In
		if bind {
			if err := web.BindJSON(c, &in); err != nil {
				web.Fail(c, err)
				return
			}
		}
		out, err := call(c, in)
		if err != nil {
			web.Fail(c, err)
			return
		}
		c.JSON(status, out)
	}
}

func list[T any](call func(ctx context.Context, f Filter) ([]T, string, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		f, err := filterFrom(c)
		if err != nil {
			web.Fail(c, err)
			return
		}
		items, next, err := call(c.Request.Context(), f)
		if err != nil {
			web.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, web.List[T]{Items: items, NextCursor: next})
	}
}

// remove answers 204 once call has removed the record named by :id.
func remove(call func(ctx context.Context, id string) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := call(c.Request.Context(), c.Param("id")); err != nil {
			web.Fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	}
}
