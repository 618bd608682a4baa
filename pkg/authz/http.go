package authz

import (
	"context"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/authn"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/web"
)

// Perm is what a route needs: an action on a resource.
type Perm struct{ Resource, Action string }

// Caller is who is calling and what they are in the org of the request.
type Caller struct {
	UserID   string
	Username string
	// Name is what the people beside them call them (the display name):
	// the name shown next to what they recorded.
	Name  string
	Org   *Org // nil on routes outside /orgs/{org}
	Role  string
	Grids []string
}

type callerKey struct{}

// WithCaller returns ctx carrying c.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller in ctx.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// OrgRoutes registers the tenant routes, under /orgs/:org. Every route
// must be registered with a Perm through Handle; the group's middleware
// denies any route it has no Perm for, so a route added without one cannot
// be reached (deny by default).
type OrgRoutes struct {
	a     *Authorizer
	group *gin.RouterGroup
	mu    sync.RWMutex
	perms map[string]Perm // "METHOD /full/path"
}

// OrgRoutes makes the /orgs/:org group under parent, which must already
// require authentication.
func (a *Authorizer) OrgRoutes(parent *gin.RouterGroup) *OrgRoutes {
	r := &OrgRoutes{a: a, perms: map[string]Perm{}}
	r.group = parent.Group("/orgs/:org", r.enforce)
	return r
}

// Handle registers a route with the permission it needs.
func (r *OrgRoutes) Handle(method, path string, p Perm, h ...gin.HandlerFunc) {
	full := r.group.BasePath() + path
	if path == "" {
		full = r.group.BasePath()
	}
	r.mu.Lock()
	r.perms[method+" "+full] = p
	r.mu.Unlock()
	r.group.Handle(method, path, h...)
}

// PermOf returns the permission a registered route needs; fullPath is the
// route's pattern as gin reports it ("/api/v1/orgs/:org/residents").
func (r *OrgRoutes) PermOf(method, fullPath string) (Perm, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	p, ok := r.perms[method+" "+fullPath]
	return p, ok
}

// Allows reports whether the caller a route of r bound may also do p in
// its org, for a handler whose answer depends on it (a reader who may not
// record takes no hold on what it reads).
func (r *OrgRoutes) Allows(c *gin.Context, p Perm) bool {
	caller, ok := CallerFrom(c.Request.Context())
	if !ok || caller.Org == nil || (!caller.Org.IsCommunity() && CommunityOnly(p.Resource)) {
		return false
	}
	return r.a.Check(caller.UserID, caller.Org.Slug, p.Resource, p.Action).Allowed
}

// Group returns the underlying group, for sub-groups with extra middleware
// (a larger body limit). Routes on it still need Handle to be reachable.
func (r *OrgRoutes) Group() *gin.RouterGroup { return r.group }

func (r *OrgRoutes) enforce(c *gin.Context) {
	u, ok := authn.UserFrom(c.Request.Context())
	if !ok {
		web.Fail(c, errs.New(errs.KindUnauthenticated, "unauthenticated", nil))
		return
	}
	r.mu.RLock()
	p, known := r.perms[c.Request.Method+" "+c.FullPath()]
	r.mu.RUnlock()
	if !known {
		web.Fail(c, errs.New(errs.KindForbidden, "forbidden", nil))
		return
	}
	// Resolve the org before deciding: an unknown (or absurdly long) slug
	// is a 404 that touches neither the decision cache nor the database,
	// and a community route on a sub-district is a 404 here, for every
	// such route at once, instead of a handler finding no tenant in its
	// context and failing with a 500.
	o, found := r.a.Org(c.Param("org"))
	if !found {
		web.Fail(c, errs.New(errs.KindNotFound, "org_not_found", nil))
		return
	}
	if !o.IsCommunity() && CommunityOnly(p.Resource) {
		web.Fail(c, errs.New(errs.KindNotFound, "community_only", nil))
		return
	}
	d := r.a.Check(u.ID, o.Slug, p.Resource, p.Action)
	if d.Org == nil {
		// The org went away between the lookup and the check (a reload).
		web.Fail(c, errs.New(errs.KindNotFound, "org_not_found", nil))
		return
	}
	if !d.Allowed {
		web.Fail(c, errs.New(errs.KindForbidden, "forbidden", nil))
		return
	}
	c.Request = c.Request.WithContext(r.a.bind(c, u, d))
	c.Next()
}

// bind puts the caller, the tenant scope and the audit actor in the
// request context: the three things the layers below take from it.
func (a *Authorizer) bind(c *gin.Context, u *authn.User, d *Decision) context.Context {
	return Bind(c.Request.Context(), u, d, c.ClientIP(), web.RequestID(c))
}

// Bind is what a request by u that was allowed by d carries below the
// HTTP layer: the caller, the tenant scope (a community's, with a grid
// worker's grids) and the audit actor. Every door into the services (the
// API, the console, a test's fixture) builds its context with it.
func Bind(ctx context.Context, u *authn.User, d *Decision, ip, requestID string) context.Context {
	caller := Caller{UserID: u.ID, Username: u.Username, Name: u.DisplayName, Org: d.Org, Role: d.Role, Grids: d.Grids}
	ctx = WithCaller(ctx, caller)
	actor := audit.Actor{UserID: u.ID, Username: u.Username, Role: d.Role, IP: ip, Request: requestID, OrgPath: "/"}
	if d.Org != nil {
		actor.Org, actor.OrgPath = d.Org.Slug, d.Org.Path
		if d.Org.IsCommunity() {
			ctx = store.WithTenant(ctx, store.Tenant{TenantID: d.Org.ID, Grids: d.Grids})
		}
	}
	return audit.WithActor(ctx, actor)
}

// RequireRoot is the middleware for platform routes outside any org
// (creating an org): the check runs in the root domain.
func (a *Authorizer) RequireRoot(p Perm) gin.HandlerFunc {
	return func(c *gin.Context) {
		u, ok := authn.UserFrom(c.Request.Context())
		if !ok {
			web.Fail(c, errs.New(errs.KindUnauthenticated, "unauthenticated", nil))
			return
		}
		d := a.Check(u.ID, RootDomain, p.Resource, p.Action)
		if !d.Allowed {
			web.Fail(c, errs.New(errs.KindForbidden, "forbidden", nil))
			return
		}
		c.Request = c.Request.WithContext(a.bind(c, u, d))
		c.Next()
	}
}

// Signed is the middleware for routes any signed-in user may call (their
// own profile, the orgs they can see): it binds the caller without an org.
func (a *Authorizer) Signed() gin.HandlerFunc {
	return func(c *gin.Context) {
		u, ok := authn.UserFrom(c.Request.Context())
		if !ok {
			web.Fail(c, errs.New(errs.KindUnauthenticated, "unauthenticated", nil))
			return
		}
		c.Request = c.Request.WithContext(a.bind(c, u, &Decision{}))
		c.Next()
	}
}
