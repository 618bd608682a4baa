package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

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

	// raw reaches the driver connection under the transaction; set only by
	// InTenantConnTx on PostgreSQL, for COPY.
	raw func(func(driverConn any) error) error
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

// InTenantConnTx is InTenantTx on a connection of its own, so that bulk
// loads inside it can use PostgreSQL's COPY (see CopyFrom).
func (db *DB) InTenantConnTx(ctx context.Context, fn func(ctx context.Context, tx *TenantTx) error) error {
	scope, ok := tenancy.From(ctx)
	if !ok {
		return ErrNoTenant
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		t := &TenantTx{Tx: tx, Scope: scope}
		if db.dialect == Postgres {
			t.raw = conn.Raw
		}
		return fn(ctx, t)
	})
}

// CopyFrom bulk-loads rows into table with COPY, inside the transaction.
// It reports false (and does nothing) where COPY is not available: SQLite,
// or a transaction not begun by InTenantConnTx. Every row must carry the
// transaction's tenant in the column named tenant_id.
func (t *TenantTx) CopyFrom(ctx context.Context, table string, columns []string, rows [][]any) (bool, error) {
	if t.raw == nil {
		return false, nil
	}
	ti := -1
	for i, c := range columns {
		if c == "tenant_id" {
			ti = i
		}
	}
	if ti < 0 {
		return true, errors.New("store: CopyFrom without a tenant_id column")
	}
	for _, r := range rows {
		if r[ti] != t.Scope.TenantID {
			return true, errors.New("store: CopyFrom row of another tenant")
		}
	}
	err := t.raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("store: CopyFrom on %T", dc)
		}
		_, err := c.Conn().CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(rows))
		return err
	})
	if err != nil {
		return true, fmt.Errorf("copy into %s: %w", table, err)
	}
	return true, nil
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
