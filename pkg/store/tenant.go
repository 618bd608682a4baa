package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/uptrace/bun"
)

// ErrNoTenant means tenant-owned data was reached without a tenant in the
// context: a programming error, never the caller's.
var ErrNoTenant = errors.New("store: no tenant in context")

// TenantTx is a transaction bound to one tenant, or a read bound to one
// (on PostgreSQL a read's statements run one message each, see readDB).
// Every tenant-owned query goes through it, so the tenant always comes
// from the context (never from a request body).
//
// It does not hand out bun's builders: a read, update or delete can only be
// started scoped to the tenant (Select, SelectTable, Update, Delete), and an
// INSERT is checked by the database (row security's WITH CHECK) and by the
// test-time guard. Code that must reach past the scope says so with
// Unscoped, which is meant to be rare and easy to grep for.
type TenantTx struct {
	tx    bun.IDB // a bun.Tx, or for a read readDB (PostgreSQL) or readOnlyTx (SQLite)
	Scope Tenant

	// conn is the PostgreSQL connection under the transaction, for COPY
	// (nil on SQLite).
	conn *pgConn
}

// InTenantTx runs fn in a transaction scoped to the tenant in ctx. On
// PostgreSQL it also names the tenant for row-level security, so a query
// that forgot its WHERE still sees only this tenant's rows.
func (db *DB) InTenantTx(ctx context.Context, fn func(ctx context.Context, tx *TenantTx) error) error {
	return db.tenantTx(ctx, nil, fn)
}

// InTenantReadTx is InTenantTx for reads: read-only, refusing any write,
// and any transaction begun inside (Unscoped().RunInTx). On PostgreSQL it
// opens no transaction: each statement runs in one message with the
// tenant and read-only set for it alone (see readDB), at READ COMMITTED as
// before, where each statement sees the data as of its own start. On
// SQLite it is a transaction that begins without taking the write lock
// (so reads run side by side under WAL instead of queueing behind each
// other and every writer).
func (db *DB) InTenantReadTx(ctx context.Context, fn func(ctx context.Context, tx *TenantTx) error) error {
	return db.tenantTx(ctx, &sql.TxOptions{ReadOnly: true}, fn)
}

// tenantTx runs fn in a transaction (a bun.Tx on either database, so that
// a RunInTx inside it is a savepoint on both) bound to ctx's tenant. On
// PostgreSQL the tenant is set in the transaction's opening message (see
// pgConn.BeginTx), so binding it costs no round trip of its own.
func (db *DB) tenantTx(ctx context.Context, opts *sql.TxOptions, fn func(ctx context.Context, tx *TenantTx) error) error {
	scope, ok := TenantOf(ctx)
	if !ok {
		return ErrNoTenant
	}
	read := opts != nil && opts.ReadOnly
	if read && db.dialect == Postgres {
		// Each statement its own message: see readDB.
		return fn(ctx, &TenantTx{tx: newReadDB(db.DB, scope.TenantID), Scope: scope})
	}
	return db.runTx(ctx, opts, []string{"app.tenant_id", scope.TenantID}, func(ctx context.Context, tx bun.Tx, conn *pgConn) error {
		if read {
			return fn(ctx, &TenantTx{tx: readOnlyTx{tx}, Scope: scope})
		}
		return fn(ctx, &TenantTx{tx: tx, Scope: scope, conn: conn})
	})
}

// runTx is bun's RunInTx with settings local to the transaction, which
// PostgreSQL sets in the opening message (SQLite has none), and the
// PostgreSQL connection it runs on. fn's context does not carry the
// settings: a transaction fn begins elsewhere begins without them.
func (db *DB) runTx(ctx context.Context, opts *sql.TxOptions, settings []string, fn func(ctx context.Context, tx bun.Tx, conn *pgConn) error) (err error) {
	bctx, s := ctx, (*txSettings)(nil)
	if db.dialect == Postgres {
		bctx, s = withTxSettings(ctx, settings...)
	}
	tx, err := db.BeginTx(bctx, opts)
	if err != nil {
		return err
	}
	var conn *pgConn
	if s != nil {
		conn = s.conn
	}
	done := false
	defer func() {
		if !done {
			_ = tx.Rollback() // an error or a panic in fn
		}
	}()
	if err := fn(ctx, tx, conn); err != nil {
		return err
	}
	done = true
	return tx.Commit()
}

// bindTenant names the transaction's tenant for row-level security. The
// setting is local to the transaction, so a pooled connection never carries
// it into the next one.
func (db *DB) bindTenant(ctx context.Context, tx bun.Tx, tenantID string) error {
	if db.dialect != Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "SELECT set_config('app.tenant_id', ?, true)", tenantID); err != nil {
		return fmt.Errorf("bind tenant: %w", err)
	}
	return nil
}

// EnterTenant scopes an already open transaction to one tenant, for system
// work that provisions several orgs in one transaction (tenants apply) or
// checks a grant against its community's grids. Row security follows: from
// here to the end of tx, or to the next EnterTenant, only that tenant's
// rows are visible. Request code uses InTenantTx instead.
func (db *DB) EnterTenant(ctx context.Context, tx bun.Tx, tenantID string) (*TenantTx, error) {
	if tenantID == "" {
		return nil, ErrNoTenant
	}
	if err := db.bindTenant(ctx, tx, tenantID); err != nil {
		return nil, err
	}
	return &TenantTx{tx: tx, Scope: Tenant{TenantID: tenantID}}, nil
}

// AllTenants, passed to AcrossTenants, reaches every tenant's rows.
var AllTenants = []string{"*"}

// AcrossTenants is the one path for work that reads or writes several
// tenants' rows on purpose: reconcilers and the scheduler (AllTenants), an
// org's grants checked against its community's grids, and later the
// sub-district rollups over the communities below. purpose names the work
// (it is what docs/architecture.md lists and what a reviewer greps for);
// tenants bounds what row-level security lets the transaction see. Queries
// inside must still say which tenant each row belongs to.
func (db *DB) AcrossTenants(ctx context.Context, purpose string, tenants []string, fn func(ctx context.Context, tx bun.Tx) error) error {
	if purpose == "" || len(tenants) == 0 {
		return fmt.Errorf("store: AcrossTenants needs a purpose and tenants")
	}
	for _, t := range tenants {
		if t == "" || strings.Contains(t, ",") || (t == "*" && len(tenants) > 1) {
			return fmt.Errorf("store: AcrossTenants(%s): bad tenant list %q", purpose, tenants)
		}
	}
	ctx = context.WithValue(ctx, acrossKey{}, purpose)
	return db.runTx(ctx, nil, []string{"app.tenant_ids", strings.Join(tenants, ",")}, func(ctx context.Context, tx bun.Tx, _ *pgConn) error {
		return fn(ctx, tx)
	})
}

type acrossKey struct{}

// AcrossTenantsPurpose reports whether ctx is inside AcrossTenants, and why:
// the test-time guard lets such queries omit a tenant predicate.
func AcrossTenantsPurpose(ctx context.Context) (string, bool) {
	p, ok := ctx.Value(acrossKey{}).(string)
	return p, ok
}

// CanCopy reports whether CopyFrom is available (PostgreSQL), so that a
// caller builds COPY's rows only where they will be loaded.
func (t *TenantTx) CanCopy() bool { return t.conn != nil }

// CopyFrom bulk-loads rows into table with COPY, inside the transaction.
// It reports false (and does nothing) where COPY is not available
// (SQLite): the caller then inserts. Every row must carry the
// transaction's tenant in the column named tenant_id.
//
// PostgreSQL refuses COPY FROM into a table under row-level security, so
// the rows are copied into a temporary table of the same shape (no policy,
// no indexes, dropped with the transaction) and moved with one INSERT … SELECT, which
// the policy checks like any insert.
func (t *TenantTx) CopyFrom(ctx context.Context, table string, columns []string, rows [][]any) (bool, error) {
	if t.conn == nil {
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
	stage := "copy_stage_" + table
	cols := make([]string, len(columns))
	for i, c := range columns {
		cols[i] = pgx.Identifier{c}.Sanitize()
	}
	colList := strings.Join(cols, ", ")
	target := pgx.Identifier{table}.Sanitize()
	// The stage is the transaction's (ON COMMIT DROP): nothing of it
	// outlives the transaction in the pooled session.
	conn := t.conn.Conn.Conn()
	err := func() error {
		if _, err := conn.Exec(ctx, "CREATE TEMP TABLE IF NOT EXISTS "+stage+" (LIKE "+target+" INCLUDING DEFAULTS) ON COMMIT DROP"); err != nil {
			return err
		}
		if _, err := conn.CopyFrom(ctx, pgx.Identifier{stage}, columns, pgx.CopyFromRows(rows)); err != nil {
			return err
		}
		if _, err := conn.Exec(ctx, "INSERT INTO "+target+" ("+colList+") SELECT "+colList+" FROM "+stage+" WHERE tenant_id = $1", t.Scope.TenantID); err != nil {
			return err
		}
		// Emptied now, not only at commit: a second load into the same
		// table in this transaction must not move these rows again.
		_, err := conn.Exec(ctx, "TRUNCATE "+stage)
		return err
	}()
	if err != nil {
		return true, fmt.Errorf("copy into %s: %w", table, err)
	}
	return true, nil
}

// CanCopy reports whether CopyInto is available (PostgreSQL).
func (db *DB) CanCopy() bool { return db.dialect == Postgres }

// CopyInto bulk-loads rows into a table that belongs to no tenant and has
// no row security (the audit log), with COPY on PostgreSQL. It reports
// false (and does nothing) on SQLite: the caller then inserts.
func (db *DB) CopyInto(ctx context.Context, table string, columns []string, rows [][]any) (bool, error) {
	if db.dialect != Postgres {
		return false, nil
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return true, err
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		_, err := dc.(*pgConn).Conn.Conn().CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(rows))
		return err
	})
	if err != nil {
		return true, fmt.Errorf("copy into %s: %w", table, err)
	}
	return true, nil
}

// Select starts a SELECT on model limited to the tenant.
func (t *TenantTx) Select(model any) *bun.SelectQuery {
	return t.tx.NewSelect().Model(model).Where("?TableAlias.tenant_id = ?", t.Scope.TenantID)
}

// SelectTable starts a SELECT on a table by name (for reads into plain
// structs or rows), limited to the tenant.
func (t *TenantTx) SelectTable(table string) *bun.SelectQuery {
	return t.tx.NewSelect().TableExpr(table).Where("tenant_id = ?", t.Scope.TenantID)
}

// SelectAs is SelectTable with an alias, for grouped reads that join
// other tenant tables: the tenant predicate names the alias, so it stays
// unambiguous beside the joined tables' own.
func (t *TenantTx) SelectAs(table, alias string) *bun.SelectQuery {
	return t.tx.NewSelect().TableExpr("? AS ?", bun.Ident(table), bun.Ident(alias)).
		Where("?.tenant_id = ?", bun.Ident(alias), t.Scope.TenantID)
}

// Update starts an UPDATE on model limited to the tenant.
func (t *TenantTx) Update(model any) *bun.UpdateQuery {
	return t.tx.NewUpdate().Model(model).Where("?TableAlias.tenant_id = ?", t.Scope.TenantID)
}

// Delete starts a DELETE on model limited to the tenant.
func (t *TenantTx) Delete(model any) *bun.DeleteQuery {
	return t.tx.NewDelete().Model(model).Where("?TableAlias.tenant_id = ?", t.Scope.TenantID)
}

// Insert starts an INSERT of model. The model's tenant_id is the caller's
// to set (from Tenant); row security and the test guard check it.
func (t *TenantTx) Insert(model any) *bun.InsertQuery {
	return t.tx.NewInsert().Model(model)
}

// NewInsert lets the audit log (a platform table) be written in the same
// transaction as the change it records.
func (t *TenantTx) NewInsert() *bun.InsertQuery { return t.tx.NewInsert() }

// Unscoped is the escape hatch: the bare transaction, for a query the
// helpers above cannot express. Every use must scope itself and say why.
func (t *TenantTx) Unscoped() bun.IDB { return t.tx }

// Tenant is the tenant id, for inserts.
func (t *TenantTx) Tenant() string { return t.Scope.TenantID }
