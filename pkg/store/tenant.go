package store

import (
	"context"
	"errors"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/tenancy"
)

// ErrNoTenant means tenant-owned data was reached without a tenant in the
// context: a programming error, never the caller's.
var ErrNoTenant = errors.New("store: no tenant in context")

// TenantTx is a transaction bound to one tenant. Every tenant-owned query
// goes through it, so the tenant always comes from the context (never from
// a request body) and there is one place that knows it: the place where
// PostgreSQL row-level security will be switched on per transaction.
type TenantTx struct {
	bun.Tx
	Scope tenancy.Scope
}

// InTenantTx runs fn in a transaction scoped to the tenant in ctx.
func (db *DB) InTenantTx(ctx context.Context, fn func(ctx context.Context, tx *TenantTx) error) error {
	scope, ok := tenancy.From(ctx)
	if !ok {
		return ErrNoTenant
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		return fn(ctx, &TenantTx{Tx: tx, Scope: scope})
	})
}

// Select starts a SELECT on model limited to the tenant.
func (t *TenantTx) Select(model any) *bun.SelectQuery {
	return t.NewSelect().Model(model).Where("?TableAlias.tenant_id = ?", t.Scope.TenantID)
}

// Update starts an UPDATE on model limited to the tenant.
func (t *TenantTx) Update(model any) *bun.UpdateQuery {
	return t.NewUpdate().Model(model).Where("?TableAlias.tenant_id = ?", t.Scope.TenantID)
}

// Delete starts a DELETE on model limited to the tenant.
func (t *TenantTx) Delete(model any) *bun.DeleteQuery {
	return t.NewDelete().Model(model).Where("?TableAlias.tenant_id = ?", t.Scope.TenantID)
}

// Tenant is the tenant id, for inserts.
func (t *TenantTx) Tenant() string { return t.Scope.TenantID }
