package scope

import (
	"context"

	"github.com/wanjia/wanjia/pkg/store"
)

// Tenant is the community (and, for a grid worker, the grids) a piece of
// work belongs to, carried in its context: the task middleware puts a
// payload's there, the authz middleware the caller's org (with store's
// WithTenant: authz is below scope), and cross-tenant work each
// community's in turn. Every frame (Run, Read, …) and every
// store.InTenantTx reads it from there only.
type Tenant = store.Tenant

// With returns ctx carrying t.
func With(ctx context.Context, t Tenant) context.Context { return store.WithTenant(ctx, t) }

// From returns the tenant in ctx, if any.
func From(ctx context.Context) (Tenant, bool) { return store.TenantOf(ctx) }
