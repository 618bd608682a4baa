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

// tenantGuard is the data lock's test. Every statement the code under test
// runs is read for the tenant tables it touches (a table with a tenant_id
// column), and each of them must be limited by a tenant predicate of its
// own: `<alias>.tenant_id = …` (or IN, or = ANY) in a WHERE or ON clause,
// or tenant_id among an INSERT's columns. Naming tenant_id in a column
// list is not enough, so a query built without TenantTx's scope fails
// whichever test runs it, for every table added later too.
//
// It is installed on every database storetest hands out, including the
// ones a whole app under test opens itself (see store.RegisterOpenHook).
// Work that crosses tenants on purpose runs in store.AcrossTenants, or in a
// context marked Unguarded (test fixtures), and is not checked.
type tenantGuard struct {
	t      testing.TB
	mu     sync.Mutex
	tables map[string]bool
	stale  bool // a DDL statement ran: learn the tenant tables again
}

var (
	// A table reference and its optional alias, as bun and hand-written
	// SQL spell them: FROM "residents" AS "r", JOIN households h, INTO x.
	tableRef = regexp.MustCompile(`(?i)\b(FROM|JOIN|UPDATE|INTO)\s+"?([a-z_][a-z0-9_]*)"?(?:\s+(?:AS\s+)?"?([a-z_][a-z0-9_]*)"?)?`)
	literal  = regexp.MustCompile(`'(?:[^']|'')*'`)
	ddl      = regexp.MustCompile(`(?i)^\s*(CREATE|ALTER|DROP)\s`)
	// Words that can follow a table name and are not its alias.
	notAlias = map[string]bool{
		"where": true, "set": true, "on": true, "left": true, "right": true, "inner": true, "full": true,
		"cross": true, "join": true, "group": true, "order": true, "limit": true, "values": true,
		"select": true, "returning": true, "using": true, "for": true, "union": true, "offset": true,
		"default": true, "natural": true, "having": true, "window": true, "except": true, "intersect": true,
	}
)

func (g *tenantGuard) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (g *tenantGuard) AfterQuery(ctx context.Context, e *bun.QueryEvent) {
	if unguarded(ctx) {
		return
	}
	if _, across := store.AcrossTenantsPurpose(ctx); across {
		return
	}
	if ddl.MatchString(e.Query) {
		g.mu.Lock()
		g.stale = true
		g.mu.Unlock()
		return
	}
	tables := g.tenantTables(ctx, e.DB)
	if len(tables) == 0 {
		return
	}
	if problem := checkScoped(e.Query, tables); problem != "" {
		g.t.Errorf("storetest: %s:\n%s", problem, clip(e.Query))
	}
}

// tenantTables returns the tables with tenant_id, learning them from the
// schema after migrations (or any DDL) ran.
func (g *tenantGuard) tenantTables(ctx context.Context, db *bun.DB) map[string]bool {
	g.mu.Lock()
	tables, stale := g.tables, g.stale || g.tables == nil
	g.mu.Unlock()
	if !stale || db == nil {
		return tables
	}
	names, err := tenantTableNames(Unguarded(ctx), db)
	if err != nil {
		return tables // mid-migration; next statement tries again
	}
	set := make(map[string]bool, len(names))
	for _, n := range names {
		set[strings.ToLower(n)] = true
	}
	g.mu.Lock()
	g.tables, g.stale = set, false
	g.mu.Unlock()
	return set
}

// checkScoped returns what is wrong with q, or "".
func checkScoped(q string, tables map[string]bool) string {
	head := q
	if i := strings.Index(strings.ToUpper(head[:min(len(head), 8192)]), " VALUES "); i > 0 {
		head = head[:i] // a bulk INSERT's values can run to megabytes
	}
	if len(head) > 64<<10 {
		head = head[:64<<10]
	}
	head = literal.ReplaceAllString(head, "''")
	lower := strings.ToLower(head)

	type ref struct{ table, alias string }
	var refs []ref
	for _, m := range tableRef.FindAllStringSubmatch(head, -1) {
		table := strings.ToLower(m[2])
		if !tables[table] {
			continue
		}
		if strings.EqualFold(m[1], "INTO") {
			// INSERT INTO t (cols…): the tenant must be among the columns.
			cols := lower[strings.Index(lower, table):]
			if end := strings.Index(cols, ")"); end > 0 {
				cols = cols[:end]
			}
			if !strings.Contains(cols, "tenant_id") {
				return "insert into tenant table " + table + " without tenant_id"
			}
			continue
		}
		alias := strings.ToLower(m[3])
		if alias == "" || notAlias[alias] {
			alias = table
		}
		refs = append(refs, ref{table, alias})
	}
	for _, r := range refs {
		if qualifiedPredicate(r.alias).MatchString(lower) {
			continue
		}
		if len(refs) == 1 && bareTenantPredicate.MatchString(lower) {
			continue
		}
		return "query on tenant table " + r.table + " (as " + r.alias + ") without a tenant_id predicate of its own"
	}
	return ""
}

var predicates sync.Map // alias → *regexp.Regexp

// qualifiedPredicate matches `alias.tenant_id =` (or IN), quoted or not.
func qualifiedPredicate(alias string) *regexp.Regexp {
	if re, ok := predicates.Load(alias); ok {
		return re.(*regexp.Regexp)
	}
	re := regexp.MustCompile(`(?:^|[^\w])"?` + regexp.QuoteMeta(alias) + `"?\s*\.\s*"?tenant_id"?\s*(=|in\b)`)
	predicates.Store(alias, re)
	return re
}

// A tenant_id predicate not qualified by a table: enough when the
// statement touches one tenant table only.
var bareTenantPredicate = regexp.MustCompile(`(^|[^.\w"])"?tenant_id"?\s*(=|in\b)`)

func clip(q string) string {
	if len(q) > 2000 {
		return q[:2000] + " …"
	}
	return q
}

type unguardedKey struct{}

// Unguarded marks a context whose queries may cross tenants on purpose:
// test fixtures and assertions that read the database directly.
func Unguarded(ctx context.Context) context.Context {
	return context.WithValue(ctx, unguardedKey{}, true)
}

func unguarded(ctx context.Context) bool { v, _ := ctx.Value(unguardedKey{}).(bool); return v }

// guard installs the tenant guard on db, reporting to t.
func guard(t testing.TB, db *store.DB) {
	db.DB = db.WithQueryHook(&tenantGuard{t: t})
}

// TenantTables lists the tables that have a tenant_id column.
func TenantTables(t testing.TB, db *store.DB) []string {
	names, err := tenantTableNames(Unguarded(context.Background()), db.DB)
	if err != nil {
		t.Fatalf("storetest: list tenant tables: %v", err)
	}
	return names
}

func tenantTableNames(ctx context.Context, db *bun.DB) ([]string, error) {
	var tables []string
	var err error
	if db.Dialect().Name().String() == "pg" {
		err = db.NewRaw(`SELECT table_name FROM information_schema.columns
			WHERE column_name = 'tenant_id' AND table_schema = current_schema() ORDER BY 1`).Scan(ctx, &tables)
	} else {
		err = db.NewRaw(`SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
			WHERE m.type = 'table' AND p.name = 'tenant_id' ORDER BY 1`).Scan(ctx, &tables)
	}
	return tables, err
}
