package app_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// TestDemoAppliedTogether: two processes of `wanjia all --demo` starting
// together on one fresh PostgreSQL database both apply the demo. Both
// succeed, and the database holds one demo: every table counts what the
// demo golden (one ApplyDemo alone) counts.
func TestDemoAppliedTogether(t *testing.T) {
	if os.Getenv(storetest.EnvURL) == "" {
		t.Skip("two processes on one database is PostgreSQL's case; set " + storetest.EnvURL)
	}
	t.Parallel()
	dbURL, dir := storetest.FreshMigrated(t)
	// Both open before either applies: each loads its authorizer with no
	// district in it.
	apps := []interface{ ApplyDemo(context.Context) error }{newAppWithDB(t, dbURL, dir, nil), newAppWithDB(t, dbURL, dir, nil)}
	var wg sync.WaitGroup
	errs := make([]error, len(apps))
	start := make(chan struct{})
	for i, a := range apps {
		wg.Go(func() {
			<-start
			errs[i] = a.ApplyDemo(t.Context())
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("ApplyDemo %d: %v", i, err)
		}
	}
	if t.Failed() {
		return
	}
	oneURL, oneDir := demo.Fresh(t)
	got, want := tableCounts(t, dbURL, dir), tableCounts(t, oneURL, oneDir)
	for table, n := range want {
		if got[table] != n {
			t.Errorf("%s: %d rows after two demos at once, %d after one", table, got[table], n)
		}
	}
	for table, n := range got {
		if _, ok := want[table]; !ok {
			t.Errorf("%s: %d rows, a table the demo golden does not have", table, n)
		}
	}
}

// tableCounts counts the rows of every table of the database's schema.
func tableCounts(t *testing.T, dbURL, dir string) map[string]int {
	t.Helper()
	ctx := storetest.Unguarded(t.Context())
	db, err := store.Open(ctx, store.Options{URL: dbURL, DataDir: dir, MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	counts := map[string]int{}
	err = db.AcrossTenants(ctx, "test", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		var tables []string
		// Partitions are counted in their parents.
		if err := tx.NewRaw(`SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition`).Scan(ctx, &tables); err != nil {
			return err
		}
		for _, table := range tables {
			var n int
			if err := tx.NewRaw("SELECT count(*) FROM ?", bun.Ident(table)).Scan(ctx, &n); err != nil {
				return fmt.Errorf("count %s: %w", table, err)
			}
			counts[table] = n
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return counts
}
