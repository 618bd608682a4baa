package store

import "context"

// The tenant a piece of work belongs to travels in its context.Context,
// and is read from there only (never from a request body): InTenantTx
// binds its transaction to it. It lives here, with its one reader, so
// that pkg/scope, above store, can be the door everyone else uses
// (scope.With, scope.From); authz's middleware, below scope, sets it
// with WithTenant.

type tenantKey struct{}

// Tenant is the tenant (a community's id) and, for grid workers, the grids
// they are limited to. An empty Grids means the whole community.
type Tenant struct {
	TenantID string
	Grids    []string
}

// WithTenant returns ctx carrying t.
func WithTenant(ctx context.Context, t Tenant) context.Context {
	return context.WithValue(ctx, tenantKey{}, t)
}

// TenantOf returns the tenant in ctx, if any.
func TenantOf(ctx context.Context) (Tenant, bool) {
	t, ok := ctx.Value(tenantKey{}).(Tenant)
	return t, ok && t.TenantID != ""
}
