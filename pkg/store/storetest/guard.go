package storetest

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/store"
)

// tenantGuard is the data lock's test: every query the code under test
// runs against a table that has a tenant_id column must mention tenant_id
// (a scoped WHERE, or the column of an INSERT). A store query that forgets
// the scope fails whichever test runs it, for every table added later too.
type tenantGuard struct {
	t      testing.TB
	mu     sync.Mutex
	tables map[string]bool
	off    bool
}

var tableRef = regexp.MustCompile(`(?i)(?:FROM|JOIN|UPDATE|INTO)\s+"?([a-z_][a-z0-9_]*)"?`)

func (g *tenantGuard) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context { return ctx }

func (g *tenantGuard) AfterQuery(ctx context.Context, e *bun.QueryEvent) {
	g.mu.Lock()
	tables, off := g.tables, g.off
	g.mu.Unlock()
	if off || len(tables) == 0 || unguarded(ctx) {
		return
	}
	q := e.Query
	// Table names sit at the head of a statement; a bulk INSERT's values
	// can run to megabytes and would make every test pay for the regexp.
	head := q
	if i := strings.Index(head, " VALUES "); i > 0 {
		head = head[:i]
	}
	if len(head) > 8192 {
		head = head[:8192]
	}
	for _, m := range tableRef.FindAllStringSubmatch(head, -1) {
		if tables[strings.ToLower(m[1])] && !strings.Contains(q, "tenant_id") {
			g.t.Errorf("storetest: query on tenant table %q without tenant_id scope:\n%s", m[1], q)
			return
		}
	}
}

type unguardedKey struct{}

// Unguarded marks a context whose queries may cross tenants on purpose:
// test fixtures, and the few platform-wide jobs (a report rollup) that a
// test drives directly.
func Unguarded(ctx context.Context) context.Context {
	return context.WithValue(ctx, unguardedKey{}, true)
}

func unguarded(ctx context.Context) bool { v, _ := ctx.Value(unguardedKey{}).(bool); return v }

// guard installs the tenant guard on db, learning the tenant tables from
// the migrated schema.
func guard(t testing.TB, db *store.DB) {
	g := &tenantGuard{t: t}
	db.DB = db.WithQueryHook(g)
	tables := TenantTables(t, db)
	set := map[string]bool{}
	for _, n := range tables {
		set[strings.ToLower(n)] = true
	}
	g.mu.Lock()
	g.tables = set
	g.mu.Unlock()
}

// TenantTables lists the tables that have a tenant_id column.
func TenantTables(t testing.TB, db *store.DB) []string {
	ctx := Unguarded(context.Background())
	var tables []string
	var err error
	if db.Flavor() == store.Postgres {
		err = db.NewRaw(`SELECT table_name FROM information_schema.columns
			WHERE column_name = 'tenant_id' AND table_schema = current_schema() ORDER BY 1`).Scan(ctx, &tables)
	} else {
		err = db.NewRaw(`SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
			WHERE m.type = 'table' AND p.name = 'tenant_id' ORDER BY 1`).Scan(ctx, &tables)
	}
	if err != nil {
		t.Fatalf("storetest: list tenant tables: %v", err)
	}
	return tables
}
