// Package authz decides who may do what where: Casbin RBAC with domains
// (org slugs), a static embedded permissions table, role grants loaded from
// memberships, and a per-decision cache that keeps the hot path free of
// allocations. It also carries the caller through the request context.
package authz

import (
	"context"
	_ "embed"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
)

//go:embed model.conf
var modelText string

//go:embed policy.csv
var policyText string

// Roles.
const (
	RolePlatformAdmin       = "platform_admin"
	RoleSubdistrictOfficial = "subdistrict_official"
	RoleCommunityAdmin      = "community_admin"
	RoleCommunityStaff      = "community_staff"
	RoleGridWorker          = "grid_worker"
)

// Roles lists every role, for validation.
var Roles = []string{RolePlatformAdmin, RoleSubdistrictOfficial, RoleCommunityAdmin, RoleCommunityStaff, RoleGridWorker}

// RootDomain is the platform itself, above every district.
const RootDomain = "/"

// Org is what authz knows of an org.
type Org struct {
	ID       string
	Slug     string
	Kind     string // district, subdistrict, community
	Path     string // "/district/subdistrict/community/"
	Timezone string
}

// IsCommunity reports whether the org is a tenant.
func (o *Org) IsCommunity() bool { return o.Kind == "community" }

// Membership is one role grant. OrgID "" is the platform root.
type Membership struct {
	UserID string
	OrgID  string
	Role   string
	Grids  []string
}

// Snapshot is everything the decisions depend on.
type Snapshot struct {
	Orgs        []Org
	Memberships []Membership
}

// Source loads a Snapshot; pkg/orgs provides it (authz sits below orgs and
// does not read its tables).
type Source interface {
	AuthzSnapshot(ctx context.Context) (*Snapshot, error)
}

// Decision is the outcome of one check, with what the caller is in the org.
type Decision struct {
	Allowed bool
	Org     *Org
	Role    string   // the role that applies in Org (direct or inherited)
	Grids   []string // grid slugs for a grid worker; nil otherwise
}

type cacheKey struct{ user, org, obj, act string }

// state is one loaded generation: replaced whole on reload, so readers
// never see half of an update and never take a lock.
type state struct {
	enforcer *casbin.Enforcer
	orgs     map[string]*Org          // by slug
	orgsByID map[string]*Org          // by id
	byUser   map[string][]*membership // a user's memberships
	cache    sync.Map                 // cacheKey → *Decision
}

type membership struct {
	Membership
	path string // org path; "" for the platform root
}

// Authorizer answers authorization questions.
type Authorizer struct {
	src Source
	cur atomic.Pointer[state]
	mu  sync.Mutex // serialises reloads
}

// New loads the policy and the role grants.
func New(ctx context.Context, src Source) (*Authorizer, error) {
	a := &Authorizer{src: src}
	if err := a.Reload(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

// Reload rebuilds the decisions from the source. Call it after a change to
// orgs or memberships; other instances hear of it through the Watcher.
func (a *Authorizer) Reload(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	snap, err := a.src.AuthzSnapshot(ctx)
	if err != nil {
		return fmt.Errorf("authz: load memberships: %w", err)
	}
	st, err := build(snap)
	if err != nil {
		return err
	}
	a.cur.Store(st)
	return nil
}

func build(snap *Snapshot) (*state, error) {
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, fmt.Errorf("authz: model: %w", err)
	}
	e, err := casbin.NewEnforcer(m)
	if err != nil {
		return nil, fmt.Errorf("authz: enforcer: %w", err)
	}
	e.EnableAutoSave(false)
	if _, err := e.AddPolicies(Policy()); err != nil {
		return nil, fmt.Errorf("authz: policy: %w", err)
	}
	st := &state{enforcer: e, orgs: map[string]*Org{}, orgsByID: map[string]*Org{}, byUser: map[string][]*membership{}}
	for i := range snap.Orgs {
		o := snap.Orgs[i]
		st.orgs[o.Slug] = &o
		st.orgsByID[o.ID] = &o
	}
	// below[path] is the org at path and every org under it, found by
	// walking each org's ancestors, so expanding grants stays linear.
	below := map[string][]*Org{}
	for _, o := range st.orgs {
		for p := o.Path; p != ""; p = parentPath(p) {
			below[p] = append(below[p], o)
		}
	}
	var grants [][]string
	for _, ms := range snap.Memberships {
		mm := &membership{Membership: ms}
		reach := below["/"]
		if ms.OrgID != "" {
			o, ok := st.orgsByID[ms.OrgID]
			if !ok {
				continue
			}
			mm.path = o.Path
			reach = below[o.Path]
		} else {
			grants = append(grants, []string{ms.UserID, ms.Role, RootDomain})
		}
		st.byUser[ms.UserID] = append(st.byUser[ms.UserID], mm)
		for _, o := range reach {
			grants = append(grants, []string{ms.UserID, ms.Role, o.Slug})
		}
	}
	if len(grants) > 0 {
		if _, err := e.AddGroupingPolicies(grants); err != nil {
			return nil, fmt.Errorf("authz: grants: %w", err)
		}
	}
	return st, nil
}

// parentPath is "/a/b/" for "/a/b/c/", "/" for "/a/", and "" for "/".
func parentPath(p string) string {
	if p == "/" || p == "" {
		return ""
	}
	i := strings.LastIndex(strings.TrimSuffix(p, "/"), "/")
	return p[:i+1]
}

// Policy returns the static permissions table as (role, resource, action).
func Policy() [][]string {
	var out [][]string
	for _, line := range strings.Split(policyText, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ",")
		if len(f) != 4 || strings.TrimSpace(f[0]) != "p" {
			panic("authz: bad policy line: " + line)
		}
		out = append(out, []string{strings.TrimSpace(f[1]), strings.TrimSpace(f[2]), strings.TrimSpace(f[3])})
	}
	return out
}

// MaxSlugLen bounds an org slug as it arrives in a path. Real slugs are at
// most 63 bytes (pkg/orgs validates them); anything longer names no org and
// is refused before it reaches a map, the cache or the database.
const MaxSlugLen = 64

// Check decides whether user may do act on obj in the org with slug org.
// Decisions are cached per generation, so after the first time a check is
// one map lookup with no allocation. Only decisions about orgs that exist
// are cached: the slug comes from the request path, and caching denials
// for made-up slugs would let any signed-in caller grow the cache (and the
// heap) without bound.
func (a *Authorizer) Check(userID, org, obj, act string) *Decision {
	st := a.cur.Load()
	if org != RootDomain && (len(org) > MaxSlugLen || st.orgs[org] == nil) {
		return denied
	}
	k := cacheKey{userID, org, obj, act}
	if d, ok := st.cache.Load(k); ok {
		return d.(*Decision)
	}
	d := st.decide(userID, org, obj, act)
	st.cache.Store(k, d)
	return d
}

// cacheLen counts the cached decisions of the current generation (tests).
func (a *Authorizer) cacheLen() int {
	n := 0
	a.cur.Load().cache.Range(func(any, any) bool { n++; return true })
	return n
}

var denied = &Decision{}

func (st *state) decide(userID, slug, obj, act string) *Decision {
	var o *Org
	if slug != RootDomain {
		o = st.orgs[slug]
		if o == nil {
			return denied
		}
	}
	ok, err := st.enforcer.Enforce(userID, slug, obj, act)
	if err != nil || !ok {
		return &Decision{Org: o, Role: st.roleIn(userID, o)}
	}
	d := &Decision{Allowed: true, Org: o, Role: st.roleIn(userID, o)}
	if d.Role == RoleGridWorker {
		d.Grids = st.gridsIn(userID, o)
	}
	return d
}

// roleIn is the role that applies to user in o: the grant on the nearest
// org at or above o (a community admin who is also on the sub-district
// staff acts as community admin in their own community).
func (st *state) roleIn(userID string, o *Org) string {
	best, bestLen := "", -1
	for _, m := range st.byUser[userID] {
		if o == nil {
			if m.OrgID == "" {
				return m.Role
			}
			continue
		}
		if strings.HasPrefix(o.Path, m.path) && len(m.path) > bestLen {
			best, bestLen = m.Role, len(m.path)
		}
	}
	return best
}

func (st *state) gridsIn(userID string, o *Org) []string {
	for _, m := range st.byUser[userID] {
		if o != nil && m.OrgID == o.ID && m.Role == RoleGridWorker {
			return m.Grids
		}
	}
	return []string{}
}

// Org returns the org with slug, if it exists.
func (a *Authorizer) Org(slug string) (*Org, bool) {
	if len(slug) > MaxSlugLen {
		return nil, false
	}
	o, ok := a.cur.Load().orgs[slug]
	return o, ok
}

// treeResources are the resources every org has, whatever its kind: the
// org itself, its people and its log, the daily report (a
// sub-district's is the sum of its communities') and the directives (an
// office's are those it sent down; a community's, those it received).
// Every other resource is
// a community's own records (roster, grids, imports, and whatever is added
// next), which only exist where there is a tenant. Listing the exceptions
// rather than the community resources keeps a new resource closed on
// sub-districts until someone decides otherwise.
var treeResources = map[string]bool{
	"orgs": true, "settings": true, "members": true, "invitations": true, "audit": true, "reports": true,
	"directives": true,
}

// CommunityOnly reports whether resource exists only in communities.
func CommunityOnly(resource string) bool { return !treeResources[resource] }

// OrgByID returns the org with id, if it exists.
func (a *Authorizer) OrgByID(id string) (*Org, bool) {
	o, ok := a.cur.Load().orgsByID[id]
	return o, ok
}

// Visible lists the orgs where user has any membership, and all below them.
func (a *Authorizer) Visible(userID string) []*Org {
	st := a.cur.Load()
	var out []*Org
	for _, o := range st.orgs {
		for _, m := range st.byUser[userID] {
			if strings.HasPrefix(o.Path, m.path) {
				out = append(out, o)
				break
			}
		}
	}
	return out
}

// PathsBelow lists the paths of the orgs at and below path (for
// audit.Filter.Paths).
func (a *Authorizer) PathsBelow(path string) []string {
	var out []string
	for _, o := range a.cur.Load().orgs {
		if strings.HasPrefix(o.Path, path) {
			out = append(out, o.Path)
		}
	}
	return out
}

// MembershipsOf lists a user's memberships.
func (a *Authorizer) MembershipsOf(userID string) []Membership {
	st := a.cur.Load()
	out := make([]Membership, 0, len(st.byUser[userID]))
	for _, m := range st.byUser[userID] {
		out = append(out, m.Membership)
	}
	return out
}
