package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// Row-level security is the third tenancy lock and exists on PostgreSQL
// only; these tests skip on SQLite.
func requirePostgres(t *testing.T) {
	t.Helper()
	if os.Getenv(storetest.EnvURL) == "" {
		t.Skip("row-level security is PostgreSQL's; set " + storetest.EnvURL)
	}
}

func inTenant(id string) context.Context {
	return store.WithTenant(storetest.Unguarded(context.Background()), store.Tenant{TenantID: id})
}

// seedHouseholds writes n households for tenant, through its own scope.
func seedHouseholds(t *testing.T, db *store.DB, tenant string, n int) {
	t.Helper()
	err := db.InTenantTx(inTenant(tenant), func(ctx context.Context, tx *store.TenantTx) error {
		for i := range n {
			_, err := tx.Unscoped().ExecContext(ctx, `INSERT INTO households (id, tenant_id, grid_id, address, address_key, tags, created_at, updated_at)
				VALUES (?, ?, 'g', 'a', ?, '[]', now(), now())`, fmt.Sprintf("%s-%d", tenant, i), tenant, fmt.Sprintf("k%d", i))
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// countAll counts households with no WHERE at all: what a query that forgot
// its tenant predicate would see.
func countAll(ctx context.Context, db bun.IDB) (int, error) {
	var n int
	err := db.NewRaw("SELECT count(*) FROM households").Scan(ctx, &n)
	return n, err
}

// TestRowSecurityScopesForgottenWhere: inside a tenant's transaction a
// query without any tenant predicate still sees that tenant's rows only;
// outside every tenant, tenant tables look empty and refuse writes.
func TestRowSecurityScopesForgottenWhere(t *testing.T) {
	requirePostgres(t)
	db := storetest.New(t)
	seedHouseholds(t, db, "ta", 3)
	seedHouseholds(t, db, "tb", 2)

	for tenant, want := range map[string]int{"ta": 3, "tb": 2, "tc": 0} {
		err := db.InTenantTx(inTenant(tenant), func(ctx context.Context, tx *store.TenantTx) error {
			n, err := countAll(ctx, tx.Unscoped())
			if err != nil {
				return err
			}
			if n != want {
				t.Errorf("tenant %s: unscoped count = %d, want %d", tenant, n, want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// Writing another tenant's row is refused by the policy's check.
		err = db.InTenantTx(inTenant(tenant), func(ctx context.Context, tx *store.TenantTx) error {
			_, err := tx.Unscoped().ExecContext(ctx, `INSERT INTO households (id, tenant_id, grid_id, address, address_key, tags, created_at, updated_at)
				VALUES ('x-`+tenant+`', 'other', 'g', 'a', 'kx', '[]', now(), now())`)
			return err
		})
		if err == nil {
			t.Errorf("tenant %s: inserted a row of another tenant", tenant)
		}
	}

	ctx := storetest.Unguarded(context.Background())
	if n, err := countAll(ctx, db); err != nil || n != 0 {
		t.Errorf("no tenant bound: count = %d, %v; want 0", n, err)
	}
	// The pool hands back connections: nothing of a tenant's setting stays.
	for range 5 {
		if n, _ := countAll(ctx, db); n != 0 {
			t.Fatalf("a pooled connection kept a tenant: %d rows", n)
		}
	}

	// The one cross-tenant path sees what it names, and no more.
	for _, c := range []struct {
		tenants []string
		want    int
	}{{[]string{"ta"}, 3}, {[]string{"ta", "tb"}, 5}, {store.AllTenants, 5}} {
		err := db.AcrossTenants(ctx, "test", c.tenants, func(ctx context.Context, tx bun.Tx) error {
			n, err := countAll(ctx, tx)
			if n != c.want {
				t.Errorf("AcrossTenants(%v) = %d, want %d", c.tenants, n, c.want)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestEveryTenantTableHasRowSecurity holds every table with tenant_id, now
// and in later migrations, to row security with a policy.
func TestEveryTenantTableHasRowSecurity(t *testing.T) {
	requirePostgres(t)
	db := storetest.New(t)
	ctx := storetest.Unguarded(context.Background())
	var rows []struct {
		Table    string `bun:"table_name"`
		Enabled  bool   `bun:"enabled"`
		Forced   bool   `bun:"forced"`
		Policies int    `bun:"policies"`
		Part     bool   `bun:"part"`
	}
	err := db.NewRaw(`SELECT c.relname AS table_name, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced, c.relispartition AS part,
			(SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
		AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
		ORDER BY 1`).Scan(ctx, &rows)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 6 {
		t.Fatalf("found %d tenant tables, expected at least the roster's six", len(rows))
	}
	// Partitions are tables of their own (a query may name one): they are
	// held to it too.
	parts := 0
	for _, r := range rows {
		if r.Part {
			parts++
		}
	}
	if parts == 0 {
		t.Error("no partition among the tenant tables: the big tables are partitioned (20261215000001_partitions)")
	}
	for _, r := range rows {
		if !r.Enabled || !r.Forced || r.Policies == 0 {
			t.Errorf("tenant table %s: row security enabled=%v forced=%v policies=%d; call wanjia_enable_rls in its migration",
				r.Table, r.Enabled, r.Forced, r.Policies)
		}
	}
}

// TestCopyUnderRowSecurity: bulk loads keep working with row security on,
// and still cannot write another tenant's rows.
func TestCopyUnderRowSecurity(t *testing.T) {
	requirePostgres(t)
	db := storetest.New(t)
	cols := []string{"id", "tenant_id", "grid_id", "address", "address_key", "tags", "created_at", "updated_at"}
	now := time.Now().UTC()
	rows := func(tenant string, n int) [][]any {
		var out [][]any
		for i := range n {
			out = append(out, []any{fmt.Sprintf("%s-c%d", tenant, i), tenant, "g", "a", fmt.Sprintf("c%d", i), "[]", now, now})
		}
		return out
	}
	for round := range 2 { // twice in one transaction: the stage is emptied between
		err := db.InTenantTx(inTenant("ta"), func(ctx context.Context, tx *store.TenantTx) error {
			done, err := tx.CopyFrom(ctx, "households", cols, rows("ta", 100)[round*50:round*50+50])
			if !done || err != nil {
				return fmt.Errorf("copy: done=%v err=%w", done, err)
			}
			done, err = tx.CopyFrom(ctx, "households", cols, rows("ta", 200)[100+round*50:150+round*50])
			if !done || err != nil {
				return fmt.Errorf("second copy: done=%v err=%w", done, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	err := db.InTenantTx(inTenant("ta"), func(ctx context.Context, tx *store.TenantTx) error {
		n, err := countAll(ctx, tx.Unscoped())
		if n != 200 {
			t.Errorf("after copies: %d rows, want 200", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.InTenantTx(inTenant("ta"), func(ctx context.Context, tx *store.TenantTx) error {
		_, err := tx.CopyFrom(ctx, "households", cols, rows("tb", 1))
		return err
	})
	if err == nil {
		t.Error("CopyFrom wrote a row of another tenant")
	}
}

// TestAppRoleThatDoesNotOwnTheTables is the production setup the README
// describes: migrations run as the tables' owner, the application connects
// as a role that owns nothing and has only row privileges. Row security
// binds it even with FORCE switched off.
func TestAppRoleThatDoesNotOwnTheTables(t *testing.T) {
	requirePostgres(t)
	ctx := storetest.Unguarded(context.Background())
	appURL, adminURL, dir := storetest.FreshAdmin(t)
	owner, err := store.Open(ctx, store.Options{URL: adminURL, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	if _, err := owner.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	schema := schemaOf(t, owner)
	for _, q := range []string{
		// As in the README: the application may use the schema, not
		// create in it, and may read and write rows only.
		"ALTER SCHEMA " + schema + " OWNER TO CURRENT_USER",
		"REVOKE ALL ON SCHEMA " + schema + " FROM " + storetest.AppRole,
		"GRANT USAGE ON SCHEMA " + schema + " TO " + storetest.AppRole,
		"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA " + schema + " TO " + storetest.AppRole,
		"ALTER TABLE households NO FORCE ROW LEVEL SECURITY",
	} {
		if _, err := owner.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	app, err := store.Open(ctx, store.Options{URL: appURL, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	if err := app.CheckMigrated(ctx); err != nil {
		t.Fatalf("the application role cannot read the migration state: %v", err)
	}
	seedHouseholds(t, app, "ta", 2)
	seedHouseholds(t, app, "tb", 1)
	err = app.InTenantTx(inTenant("tb"), func(ctx context.Context, tx *store.TenantTx) error {
		n, err := countAll(ctx, tx.Unscoped())
		if n != 1 {
			t.Errorf("application role in tenant tb sees %d households, want 1", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.ExecContext(ctx, "ALTER TABLE households DISABLE ROW LEVEL SECURITY"); err == nil {
		t.Error("the application role could switch row security off")
	}
}

func schemaOf(t *testing.T, db *store.DB) string {
	t.Helper()
	var s string
	if err := db.NewRaw("SELECT current_schema()").Scan(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestTenantKeys holds every table with tenant_id, now and later, to keys
// that can be distributed by tenant: its primary key and unique indexes
// lead with tenant_id, and a foreign key to another tenant table carries
// it. orgs, users and memberships are reference tables and exempt.
func TestTenantKeys(t *testing.T) {
	requirePostgres(t)
	db := storetest.New(t)
	ctx := storetest.Unguarded(context.Background())
	var indexes []struct {
		Table   string `bun:"tbl"`
		Index   string `bun:"idx"`
		Primary bool   `bun:"is_primary"`
		First   string `bun:"first_col"`
	}
	err := db.NewRaw(`SELECT c.relname AS tbl, i.relname AS idx, x.indisprimary AS is_primary,
			COALESCE((SELECT a.attname FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum = x.indkey[0]), '') AS first_col
		FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND (x.indisunique OR x.indisprimary)
		AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
		ORDER BY 1, 2`).Scan(ctx, &indexes)
	if err != nil {
		t.Fatal(err)
	}
	primary := map[string]bool{}
	for _, ix := range indexes {
		if ix.Primary {
			primary[ix.Table] = true
		}
		if ix.First != "tenant_id" {
			t.Errorf("%s: unique index %s leads with %q, not tenant_id", ix.Table, ix.Index, ix.First)
		}
	}
	for _, table := range storetest.TenantTables(t, db) {
		if !primary[table] {
			t.Errorf("%s: no primary key", table)
		}
	}
	var fks []struct {
		Table  string `bun:"tbl"`
		Name   string `bun:"name"`
		Refers string `bun:"refers"`
		Tenant bool   `bun:"has_tenant"`
	}
	err = db.NewRaw(`SELECT c.relname AS tbl, k.conname AS name, r.relname AS refers,
			EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND a.attnum = ANY (k.conkey)) AS has_tenant
		FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class r ON r.oid = k.confrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE k.contype = 'f' AND n.nspname = current_schema()
		AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = r.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
		ORDER BY 1, 2`).Scan(ctx, &fks)
	if err != nil {
		t.Fatal(err)
	}
	if len(fks) < 4 {
		t.Fatalf("found %d foreign keys between tenant tables, expected at least the roster's four", len(fks))
	}
	for _, fk := range fks {
		if !fk.Tenant {
			t.Errorf("%s: foreign key %s to tenant table %s does not carry tenant_id", fk.Table, fk.Name, fk.Refers)
		}
	}
}

// TestReadTxRefusesWrites: every statement of a read is bound to its
// tenant, not only the first, and PostgreSQL refuses a write in any of
// them (each is sent read-only).
func TestReadTxRefusesWrites(t *testing.T) {
	requirePostgres(t)
	db := storetest.New(t)
	seedHouseholds(t, db, "ta", 2)
	seedHouseholds(t, db, "tb", 1)
	err := db.InTenantReadTx(inTenant("ta"), func(ctx context.Context, tx *store.TenantTx) error {
		for i := range 3 {
			n, err := countAll(ctx, tx.Unscoped())
			if err != nil {
				return err
			}
			if n != 2 {
				t.Errorf("statement %d of a read of ta sees %d households, want 2", i, n)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, before := range []int{0, 1} {
		err = db.InTenantReadTx(inTenant("ta"), func(ctx context.Context, tx *store.TenantTx) error {
			for range before {
				if _, err := countAll(ctx, tx.Unscoped()); err != nil {
					return err
				}
			}
			_, err := tx.Unscoped().ExecContext(ctx, "UPDATE households SET notes = 'x' WHERE tenant_id = 'ta'")
			return err
		})
		if err == nil {
			t.Errorf("a read wrote (after %d statements)", before)
		}
	}
}

// TestWriteTxRunsInsideItsTransaction: a write's first statement runs
// inside the transaction (a failure afterwards undoes it) and bound to the
// tenant; a write that issues nothing leaves its connection outside any
// transaction.
func TestWriteTxRunsInsideItsTransaction(t *testing.T) {
	requirePostgres(t)
	db := storetest.New(t)
	db.SetMaxOpenConns(1) // every statement below shares one connection
	seedHouseholds(t, db, "ta", 2)
	seedHouseholds(t, db, "tb", 1)
	ctx := storetest.Unguarded(context.Background())
	boom := errors.New("boom")
	err := db.InTenantTx(inTenant("ta"), func(ctx context.Context, tx *store.TenantTx) error {
		res, err := tx.Unscoped().ExecContext(ctx, "UPDATE households SET notes = 'first'")
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 2 {
			t.Errorf("the first statement of ta's write touched %d households, want its 2", n)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	var kept int
	if err := db.NewRaw("SELECT count(*) FROM households WHERE notes = 'first'").Scan(ctx, &kept); err != nil {
		t.Fatal(err)
	}
	if kept != 0 {
		t.Errorf("%d households kept the first statement of a write that failed", kept)
	}
	if err := db.InTenantTx(inTenant("ta"), func(context.Context, *store.TenantTx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	var inTx bool
	if err := db.NewRaw("SELECT now() <> statement_timestamp()").Scan(ctx, &inTx); err != nil || inTx {
		t.Fatalf("the pooled connection is in a transaction (%v, %v)", inTx, err)
	}
}

// TestReadTxLeavesNoTransactionBehind: a read that succeeds, fails, or
// panics hands its connection back outside any
// transaction and without its tenant.
func TestReadTxLeavesNoTransactionBehind(t *testing.T) {
	requirePostgres(t)
	db := storetest.New(t)
	db.SetMaxOpenConns(1) // every statement below shares one connection
	seedHouseholds(t, db, "ta", 2)
	ctx := storetest.Unguarded(context.Background())
	pid := func() int {
		var p int
		if err := db.NewRaw("SELECT pg_backend_pid()").Scan(ctx, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	before := pid()
	for i := range 3 {
		if err := db.InTenantReadTx(inTenant("ta"), func(ctx context.Context, tx *store.TenantTx) error {
			n, err := countAll(ctx, tx.Unscoped())
			if n != 2 {
				t.Errorf("read %d sees %d households, want 2", i, n)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	boom := fmt.Errorf("boom")
	if err := db.InTenantReadTx(inTenant("ta"), func(ctx context.Context, tx *store.TenantTx) error { return boom }); err != boom {
		t.Fatalf("err = %v", err)
	}
	func() {
		defer func() { _ = recover() }()
		_ = db.InTenantReadTx(inTenant("ta"), func(ctx context.Context, tx *store.TenantTx) error { panic("read") })
	}()
	// Not thrown away: the same connection serves on.
	if after := pid(); after != before {
		t.Errorf("the connection was discarded (backend %d, then %d) instead of rolled back", before, after)
	}
	var inTx bool
	if err := db.NewRaw("SELECT now() <> statement_timestamp()").Scan(ctx, &inTx); err != nil || inTx {
		t.Fatalf("the pooled connection is still in a transaction (%v, %v)", inTx, err)
	}
	if n, err := countAll(ctx, db); err != nil || n != 0 {
		t.Fatalf("the pooled connection kept the tenant: %d rows (%v)", n, err)
	}
}

// TestCommitOfAnAbortedTransactionFails: PostgreSQL answers the COMMIT of
// a transaction that a failed statement aborted with ROLLBACK, and no
// error; a caller that swallowed the statement's error must still hear of
// it.
func TestCommitOfAnAbortedTransactionFails(t *testing.T) {
	db := storetest.New(t)
	if db.Flavor() != store.Postgres {
		t.Skip("PostgreSQL only: SQLite carries on after a failed statement")
	}
	ctx := store.WithTenant(context.Background(), store.Tenant{TenantID: "no-such-tenant"})
	err := db.InTenantTx(ctx, func(ctx context.Context, tx *store.TenantTx) error {
		_, _ = tx.Unscoped().ExecContext(ctx, "SELECT 1/0") // swallowed on purpose
		return nil
	})
	if err == nil {
		t.Fatal("the commit of an aborted transaction reported success")
	}
}
