package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/store"
)

type grid struct {
	bun.BaseModel `bun:"table:grids,alias:g"`
	ID            string `bun:"id,pk"`
	TenantID      string `bun:"tenant_id"`
	Slug          string `bun:"slug"`
}

// recorder stands in for the test the guard reports to.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.errs
	r.errs = nil
	return out
}

// TestCheckScoped pins what counts as scoped: a tenant predicate of each
// tenant table's own, not tenant_id anywhere in the text.
func TestCheckScoped(t *testing.T) {
	tables := map[string]bool{"residents": true, "households": true, "grids": true}
	cases := []struct {
		name, q string
		ok      bool
	}{
		{"bun model select scoped", `SELECT "r"."id", "r"."tenant_id" FROM "residents" AS "r" WHERE ("r"."tenant_id" = 'a') AND (r.id = 'x')`, true},
		{"bun model select, tenant_id only in columns", `SELECT "r"."id", "r"."tenant_id", "r"."name" FROM "residents" AS "r" WHERE (r.id = 'x')`, false},
		{"table expr scoped", `SELECT "id", "slug" FROM grids WHERE (tenant_id = 'a')`, true},
		{"table expr unscoped", `SELECT count(*) FROM grids`, false},
		{"update scoped", `UPDATE "households" AS "h" SET deleted_at = '2026' WHERE ("h"."tenant_id" = 'a') AND (id = 'x')`, true},
		{"update unscoped", `UPDATE "households" AS "h" SET deleted_at = '2026', tenant_id2 = 1 WHERE (id = 'x')`, false},
		{"delete unscoped", `DELETE FROM "residents" AS "r" WHERE (household_id = 'x')`, false},
		{"join scoped on both", `SELECT r.id FROM "residents" AS "r" JOIN "households" AS "h" ON "h"."tenant_id" = "r"."tenant_id" AND h.id = r.household_id WHERE ("r"."tenant_id" = 'a')`, true},
		{"join unscoped", `SELECT r.id FROM "residents" AS "r" JOIN "households" AS "h" ON h.id = r.household_id WHERE ("r"."tenant_id" = 'a')`, false},
		{"a literal does not scope", `SELECT "r"."id" FROM "residents" AS "r" WHERE (r.name = 'r.tenant_id = 1')`, false},
		{"another alias's predicate does not scope", `SELECT hr.id FROM "residents" AS "r" JOIN x AS hr ON hr.tenant_id = 'a' WHERE r.id = 'x'`, false},
		{"insert with tenant", `INSERT INTO "residents" ("id", "tenant_id", "name") VALUES ('1', 'a', 'x')`, true},
		{"insert without tenant", `INSERT INTO "residents" ("id", "name") VALUES ('1', 'x')`, false},
		{"not a tenant table", `SELECT * FROM users WHERE id = 'x'`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := checkScoped(c.q, tables)
			if (got == "") != c.ok {
				t.Errorf("checkScoped = %q, want ok=%v", got, c.ok)
			}
		})
	}
}

// TestGuardCatchesUnscopedQueries proves the data lock's test works on a
// real database: it learns every table with tenant_id from the schema and
// flags a query that forgets its scope, and TenantTx's builders pass.
func TestGuardCatchesUnscopedQueries(t *testing.T) {
	rec := &recorder{TB: t}
	url, dir := fresh(t)
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{URL: url, DataDir: dir, MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	guard(rec, db)
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}

	tables := TenantTables(t, db)
	if len(tables) == 0 {
		t.Fatal("no tenant tables found")
	}
	for _, table := range tables {
		if _, err := db.NewRaw("SELECT count(*) FROM " + table).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if got := rec.take(); len(got) != 1 || !strings.Contains(got[0], table) {
			t.Errorf("unscoped select on %s: guard reported %v", table, got)
		}
	}

	scoped := store.WithTenant(ctx, store.Tenant{TenantID: "t1"})
	err = db.InTenantTx(scoped, func(ctx context.Context, tx *store.TenantTx) error {
		var n int
		if err := tx.Select((*grid)(nil)).ColumnExpr("count(*)").Scan(ctx, &n); err != nil {
			return err
		}
		if err := tx.SelectTable("grids").ColumnExpr("count(*)").Scan(ctx, &n); err != nil {
			return err
		}
		if got := rec.take(); len(got) != 0 {
			t.Errorf("TenantTx's scoped builders flagged: %v", got)
		}
		// The escape hatch is checked like anything else.
		if err := tx.Unscoped().NewSelect().Model((*grid)(nil)).Where("g.slug = 'x'").Scan(ctx, &grid{}); err != nil && !strings.Contains(err.Error(), "no rows") {
			return err
		}
		if got := rec.take(); len(got) != 1 {
			t.Errorf("unscoped model select through Unscoped: guard reported %v", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.NewRaw("SELECT count(*) FROM grids WHERE tenant_id = ?", "t1").Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); len(got) != 0 {
		t.Errorf("scoped select flagged: %v", got)
	}
	if _, err := db.NewRaw("SELECT count(*) FROM grids").Exec(Unguarded(ctx)); err != nil {
		t.Fatal(err)
	}
	err = db.AcrossTenants(ctx, "test", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewRaw("SELECT count(*) FROM grids").Exec(ctx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); len(got) != 0 {
		t.Errorf("unguarded context or AcrossTenants flagged: %v", got)
	}
}
