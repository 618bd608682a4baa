package roster

import (
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
	org.Handle(http.MethodGet, "/buildings", read, s.handleListBuildings)
	org.Handle(http.MethodPost, "/buildings", write, s.handleCreateBuilding)
	org.Handle(http.MethodGet, "/households", read, s.handleListHouseholds)
	org.Handle(http.MethodPost, "/households", write, s.handleCreateHousehold)
	org.Handle(http.MethodGet, "/households/:id", read, s.handleGetHousehold)
	org.Handle(http.MethodPatch, "/households/:id", write, s.handlePatchHousehold)
	org.Handle(http.MethodDelete, "/households/:id", write, s.handleDeleteHousehold)
	org.Handle(http.MethodGet, "/residents", read, s.handleListResidents)
	org.Handle(http.MethodPost, "/residents", write, s.handleCreateResident)
	org.Handle(http.MethodGet, "/residents/:id", read, s.handleGetResident)
	org.Handle(http.MethodPatch, "/residents/:id", write, s.handlePatchResident)
	org.Handle(http.MethodDelete, "/residents/:id", write, s.handleDeleteResident)
	org.Handle(http.MethodPost, "/imports", imp, web.BodyLimit(MaxImportBytes+1<<20), s.handleCreateImport)
	org.Handle(http.MethodGet, "/imports/:id", imp, s.handleGetImport)
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

// handle runs the common shape of a JSON handler: bind (when in is not
// nil), call, answer with status.
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

func list[T any](call func(c *gin.Context, f Filter) ([]T, string, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		f, err := filterFrom(c)
		if err != nil {
			web.Fail(c, err)
			return
		}
		items, next, err := call(c, f)
		if err != nil {
			web.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, web.List[T]{Items: items, NextCursor: next})
	}
}

func (s *Service) handleListBuildings(c *gin.Context) {
	list(func(c *gin.Context, f Filter) ([]BuildingView, string, error) {
		return s.ListBuildings(c.Request.Context(), f)
	})(c)
}

func (s *Service) handleCreateBuilding(c *gin.Context) {
	handle(http.StatusCreated, true, func(c *gin.Context, in BuildingInput) (*BuildingView, error) {
		return s.CreateBuilding(c.Request.Context(), in)
	})(c)
}

func (s *Service) handleListHouseholds(c *gin.Context) {
	list(func(c *gin.Context, f Filter) ([]HouseholdView, string, error) {
		return s.ListHouseholds(c.Request.Context(), f)
	})(c)
}

func (s *Service) handleCreateHousehold(c *gin.Context) {
	handle(http.StatusCreated, true, func(c *gin.Context, in HouseholdInput) (*HouseholdView, error) {
		return s.CreateHousehold(c.Request.Context(), in)
	})(c)
}

func (s *Service) handleGetHousehold(c *gin.Context) {
	handle(http.StatusOK, false, func(c *gin.Context, _ struct{}) (*HouseholdView, error) {
		return s.GetHousehold(c.Request.Context(), c.Param("id"))
	})(c)
}

func (s *Service) handlePatchHousehold(c *gin.Context) {
	handle(http.StatusOK, true, func(c *gin.Context, p HouseholdPatch) (*HouseholdView, error) {
		return s.UpdateHousehold(c.Request.Context(), c.Param("id"), p)
	})(c)
}

func (s *Service) handleDeleteHousehold(c *gin.Context) {
	if err := s.DeleteHousehold(c.Request.Context(), c.Param("id")); err != nil {
		web.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Service) handleListResidents(c *gin.Context) {
	list(func(c *gin.Context, f Filter) ([]ResidentView, string, error) {
		return s.ListResidents(c.Request.Context(), f)
	})(c)
}

func (s *Service) handleCreateResident(c *gin.Context) {
	handle(http.StatusCreated, true, func(c *gin.Context, in ResidentInput) (*ResidentView, error) {
		return s.CreateResident(c.Request.Context(), in)
	})(c)
}

func (s *Service) handleGetResident(c *gin.Context) {
	handle(http.StatusOK, false, func(c *gin.Context, _ struct{}) (*ResidentView, error) {
		return s.GetResident(c.Request.Context(), c.Param("id"))
	})(c)
}

func (s *Service) handlePatchResident(c *gin.Context) {
	handle(http.StatusOK, true, func(c *gin.Context, p ResidentPatch) (*ResidentView, error) {
		return s.UpdateResident(c.Request.Context(), c.Param("id"), p)
	})(c)
}

func (s *Service) handleDeleteResident(c *gin.Context) {
	if err := s.DeleteResident(c.Request.Context(), c.Param("id")); err != nil {
		web.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
