// Package tenancy carries the tenant a piece of work belongs to through a
// context.Context. HTTP middleware (from the caller's org) and the task
// middleware (from the payload) put it there; stores take it from there and
// never from a request body.
package tenancy

import "context"

type ctxKey struct{}

// Scope is the tenant (a community's id) and, for grid workers, the grids
// they are limited to. An empty Grids means the whole community.
type Scope struct {
	TenantID string
	Grids    []string
}

// With returns ctx carrying s.
func With(ctx context.Context, s Scope) context.Context {
	return context.WithValue(ctx, ctxKey{}, s)
}

// From returns the scope in ctx, if any.
func From(ctx context.Context) (Scope, bool) {
	s, ok := ctx.Value(ctxKey{}).(Scope)
	return s, ok && s.TenantID != ""
}
