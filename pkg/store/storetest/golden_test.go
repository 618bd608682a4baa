package storetest

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wanjia/wanjia/pkg/store"
)

func TestMain(m *testing.M) { Main(m) }

var probeBuilds atomic.Int32

// probe is a golden with one row in a table of its own.
var probe = NewGolden("probe", func(t testing.TB, databaseURL, dataDir string) error {
	probeBuilds.Add(1)
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{URL: databaseURL, DataDir: dataDir})
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	for _, q := range []string{"CREATE TABLE golden_probe (n INTEGER)", "INSERT INTO golden_probe VALUES (1)"} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
})

// TestGoldenCopiesAreTheirOwn: each test gets the golden's rows, built
// once, and what one test writes no other sees.
func TestGoldenCopiesAreTheirOwn(t *testing.T) {
	ctx := context.Background()
	a, b := probe.New(t), probe.New(t)
	if _, err := a.ExecContext(ctx, "INSERT INTO golden_probe VALUES (2)"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		db   *store.DB
		want int
	}{{"written", a, 2}, {"other", b, 1}, {"third", probe.New(t), 1}} {
		var n int
		if err := c.db.NewRaw("SELECT count(*) FROM golden_probe").Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		if n != c.want {
			t.Errorf("%s copy has %d rows, want %d", c.name, n, c.want)
		}
	}
	if n := probeBuilds.Load(); n != 1 {
		t.Errorf("golden built %d times, want once", n)
	}
}

// TestGoldenCopiesAreGuarded: a database opened on a copy, by the test
// or by code under test from the copy's URL, carries the tenant guard.
func TestGoldenCopiesAreGuarded(t *testing.T) {
	ctx := context.Background()
	rec := &recorder{TB: t}
	databaseURL, dataDir := FreshMigrated(rec)
	db, err := store.Open(ctx, store.Options{URL: databaseURL, DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.NewRaw("SELECT count(*) FROM households").Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); len(got) != 1 || !strings.Contains(got[0], "households") {
		t.Errorf("unscoped select on a copy: guard reported %v", got)
	}
	if db.Flavor() == store.Postgres {
		// The copy is the database's public schema, owned by the role
		// row security binds, as Fresh's schema is.
		var schema, owner string
		if err := db.NewRaw("SELECT current_schema(), tableowner FROM pg_tables WHERE tablename = 'households' AND schemaname = current_schema()").Scan(ctx, &schema, &owner); err != nil {
			t.Fatal(err)
		}
		if schema != "public" || owner != AppRole {
			t.Errorf("copy's households in schema %q owned by %q, want public and %s", schema, owner, AppRole)
		}
	}
}
