package authn

import (
	"context"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/web"
)

type userKey struct{}

// WithUser returns ctx carrying the signed-in user.
func WithUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFrom returns the signed-in user, if any.
func UserFrom(ctx context.Context) (*User, bool) {
	u, ok := ctx.Value(userKey{}).(*User)
	return u, ok
}

// Middleware requires a valid access token (Authorization: Bearer) and puts
// its user in the request context; anything else is 401.
func (s *Service) Middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		scheme, token, ok := strings.Cut(strings.TrimSpace(c.GetHeader("Authorization")), " ")
		// The scheme is case-insensitive (RFC 9110 §11.1).
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			web.Fail(c, errs.New(errs.KindUnauthenticated, "unauthenticated", nil))
			return
		}
		u, err := s.Authenticate(c.Request.Context(), strings.TrimSpace(token))
		if err != nil {
			web.Fail(c, err)
			return
		}
		c.Request = c.Request.WithContext(WithUser(c.Request.Context(), u))
		c.Next()
	}
}

// Routes mounts login, refresh and logout on r (/api/v1).
func (s *Service) Routes(r gin.IRoutes) {
	r.POST("/auth/login", s.handleLogin)
	r.POST("/auth/refresh", s.handleRefresh)
	r.POST("/auth/logout", s.handleLogout)
}

type loginUser struct {
	ID          string `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
}

func (s *Service) handleLogin(c *gin.Context) {
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := web.BindJSON(c, &in); err != nil {
		web.Fail(c, err)
		return
	}
	t, u, err := s.Login(c.Request.Context(), strings.TrimSpace(in.Username), in.Password, c.ClientIP())
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{
		"access_token": t.AccessToken, "refresh_token": t.RefreshToken, "expires_in": t.ExpiresIn,
		"token_type": "Bearer",
		"user":       loginUser{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName},
	})
}

type refreshBody struct {
	RefreshToken string `json:"refresh_token"`
}

func (s *Service) handleRefresh(c *gin.Context) {
	var in refreshBody
	if err := web.BindJSON(c, &in); err != nil {
		web.Fail(c, err)
		return
	}
	t, err := s.Refresh(c.Request.Context(), in.RefreshToken)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"access_token": t.AccessToken, "refresh_token": t.RefreshToken, "expires_in": t.ExpiresIn, "token_type": "Bearer"})
}

func (s *Service) handleLogout(c *gin.Context) {
	var in refreshBody
	if err := web.BindJSON(c, &in); err != nil {
		web.Fail(c, err)
		return
	}
	if err := s.Logout(c.Request.Context(), in.RefreshToken); err != nil {
		web.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
