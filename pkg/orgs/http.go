package orgs

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/authn"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/web"
)

// Routes mounts the organisation API. signed is /api/v1 behind
// authentication; org is the /orgs/{org} group.
func (s *Service) Routes(signed *gin.RouterGroup, org *authz.OrgRoutes) {
	signed.GET("/me", s.Authz.Signed(), s.handleMe)
	// A user's own invitations: no org and no policy line, because the
	// only one who may see or answer an invitation is its invitee (the
	// service looks it up by id and the caller's user id together).
	signed.GET("/me/invitations", s.Authz.Signed(), s.handleMyInvitations)
	signed.POST("/me/invitations/:id/accept", s.Authz.Signed(), s.handleAnswerInvitation(s.AcceptInvitation))
	signed.POST("/me/invitations/:id/decline", s.Authz.Signed(), s.handleAnswerInvitation(s.DeclineInvitation))
	signed.GET("/orgs", s.Authz.Signed(), web.All(func(c *gin.Context) ([]OrgView, error) {
		u, _ := authn.UserFrom(c.Request.Context())
		return s.List(c.Request.Context(), u.ID)
	}))
	signed.POST("/orgs", s.Authz.RequireRoot(authz.Perm{Resource: "orgs", Action: "write"}), web.Create(s.Create))

	org.Handle(http.MethodGet, "", authz.Perm{Resource: "orgs", Action: "read"}, web.Handle(http.StatusOK, func(c *gin.Context, _ web.NoBody) (*OrgView, error) {
		return s.Get(c.Request.Context(), c.Param("org"))
	}))
	org.Handle(http.MethodPatch, "", authz.Perm{Resource: "settings", Action: "write"}, web.Handle(http.StatusOK, func(c *gin.Context, p OrgPatch) (*OrgView, error) {
		return s.Update(c.Request.Context(), c.Param("org"), p)
	}))
	org.Handle(http.MethodGet, "/members", authz.Perm{Resource: "members", Action: "read"}, web.All(func(c *gin.Context) ([]MemberView, error) {
		return s.ListMembers(c.Request.Context(), c.Param("org"))
	}))
	org.Handle(http.MethodPost, "/members", authz.Perm{Resource: "members", Action: "write"}, web.Handle(http.StatusCreated, func(c *gin.Context, in MemberInput) (*MemberView, error) {
		return s.AddMember(c.Request.Context(), c.Param("org"), in)
	}))
	org.Handle(http.MethodPost, "/invitations", authz.Perm{Resource: "invitations", Action: "write"}, s.handleInvite)
	org.Handle(http.MethodGet, "/grids", authz.Perm{Resource: "grids", Action: "read"}, web.All(func(c *gin.Context) ([]Grid, error) {
		return s.ListGrids(c.Request.Context())
	}))
	org.Handle(http.MethodPost, "/grids", authz.Perm{Resource: "grids", Action: "write"}, web.Create(s.CreateGrid))
	org.Handle(http.MethodGet, "/audit", authz.Perm{Resource: "audit", Action: "read"}, s.handleAudit)
}

func (s *Service) handleMe(c *gin.Context) {
	u, _ := authn.UserFrom(c.Request.Context())
	c.JSON(http.StatusOK, s.Me(c.Request.Context(), u))
}

func (s *Service) handleInvite(c *gin.Context) {
	var in InvitationInput
	if err := web.BindJSON(c, &in); err != nil {
		web.Fail(c, err)
		return
	}
	if err := s.Invite(c.Request.Context(), c.Param("org"), in); err != nil {
		web.Fail(c, err)
		return
	}
	// The same answer whether or not the username exists (see Invite).
	c.JSON(http.StatusAccepted, gin.H{"status": "invited"})
}

func (s *Service) handleMyInvitations(c *gin.Context) {
	page, err := web.ParsePage(c)
	if err != nil {
		web.Fail(c, err)
		return
	}
	u, _ := authn.UserFrom(c.Request.Context())
	items, next, err := s.MyInvitations(c.Request.Context(), u, page.Limit, page.Cursor)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, web.NewList(items, next))
}

func (s *Service) handleAnswerInvitation(answer func(context.Context, *authn.User, string) (*InvitationView, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		u, _ := authn.UserFrom(c.Request.Context())
		v, err := answer(c.Request.Context(), u, c.Param("id"))
		if err != nil {
			web.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, v)
	}
}

func (s *Service) handleAudit(c *gin.Context) {
	page, err := web.ParsePage(c)
	if err != nil {
		web.Fail(c, err)
		return
	}
	f, err := audit.ParseFilter(c.Query("actor"), c.Query("action"), c.Query("from"), c.Query("to"))
	if err != nil {
		web.Fail(c, err)
		return
	}
	f.Limit, f.Cursor = page.Limit, page.Cursor
	items, next, err := s.Audit(c.Request.Context(), f)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, web.NewList(items, next))
}

// Audit lists the log of the caller's org and everything below it, newest
// first: f's OrgPath and Paths are the caller's.
func (s *Service) Audit(ctx context.Context, f audit.Filter) ([]audit.Entry, string, error) {
	caller, ok := authz.CallerFrom(ctx)
	if !ok || caller.Org == nil {
		return nil, "", errs.New(errs.KindForbidden, "forbidden", nil)
	}
	f.OrgPath = caller.Org.Path
	f.Paths = s.Authz.PathsBelow(f.OrgPath)
	return audit.List(ctx, s.DB, f)
}
