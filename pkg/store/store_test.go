package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

func TestMigrateUpDownUp(t *testing.T) {
	ctx := context.Background()
	db := storetest.NewEmpty(t)

	var pending *store.PendingError
	if err := db.CheckMigrated(ctx); !errors.As(err, &pending) || len(pending.Names) == 0 {
		t.Fatalf("fresh database: CheckMigrated = %v, want pending migrations", err)
	}
	if !strings.Contains(pending.Error(), "foundation") {
		t.Fatalf("pending error should name the migration: %v", pending)
	}

	for round := 1; round <= 2; round++ {
		applied, err := db.Migrate(ctx)
		if err != nil {
			t.Fatalf("round %d: up: %v", round, err)
		}
		if len(applied) == 0 {
			t.Fatalf("round %d: nothing applied", round)
		}
		if err := db.CheckMigrated(ctx); err != nil {
			t.Fatalf("round %d: after up: %v", round, err)
		}
		// Applying again is a no-op.
		again, err := db.Migrate(ctx)
		if err != nil || len(again) != 0 {
			t.Fatalf("round %d: second up = %v, %v", round, again, err)
		}
		if _, err := db.ExecContext(ctx, "INSERT INTO periodic_runs (name, slot, ran_at, runs) VALUES ('x', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"); err != nil {
			t.Fatalf("round %d: schema unusable: %v", round, err)
		}
		rolled, err := db.Rollback(ctx)
		if err != nil {
			t.Fatalf("round %d: down: %v", round, err)
		}
		if len(rolled) != len(applied) {
			t.Fatalf("round %d: rolled back %v, applied %v", round, rolled, applied)
		}
		if _, err := db.ExecContext(ctx, "SELECT 1 FROM periodic_runs"); err == nil {
			t.Fatalf("round %d: table still there after down", round)
		}
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := db.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if !s.Applied {
			t.Errorf("%s not applied", s.Name)
		}
	}
}

func TestInTx(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	boom := errors.New("boom")
	err := db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO periodic_runs (name, slot, ran_at, runs) VALUES ('a', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	var n int
	if err := db.NewSelect().TableExpr("periodic_runs").ColumnExpr("count(*)").Scan(ctx, &n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("rolled-back insert is visible: %d rows", n)
	}
	if err := db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO periodic_runs (name, slot, ran_at, runs) VALUES ('a', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.NewSelect().TableExpr("periodic_runs").ColumnExpr("count(*)").Scan(ctx, &n); err != nil || n != 1 {
		t.Fatalf("committed insert: n=%d err=%v", n, err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name, url, want string
	}{
		{"malformed", "postgres://%zz", "not a valid PostgreSQL URL"},
		{"unreachable", "postgres://nobody@127.0.0.1:1/none?connect_timeout=2", "127.0.0.1:1/none does not answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := store.Open(ctx, store.Options{URL: tt.url})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestIsUniqueViolation(t *testing.T) {
	ctx := storetest.Unguarded(context.Background())
	db := storetest.New(t)
	if _, err := db.ExecContext(ctx, `CREATE TABLE uniq (id TEXT PRIMARY KEY, k TEXT NOT NULL UNIQUE, n INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO uniq VALUES ('a', 'x', 1)`); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		sql  string
		want bool
	}{
		{`INSERT INTO uniq VALUES ('a', 'y', 1)`, true}, // primary key
		{`INSERT INTO uniq VALUES ('b', 'x', 1)`, true}, // unique column
		{`INSERT INTO uniq VALUES ('c', 'z', NULL)`, false},
		{`INSERT INTO nowhere VALUES (1)`, false},
	} {
		_, err := db.ExecContext(ctx, tt.sql)
		if err == nil || store.IsUniqueViolation(err) != tt.want {
			t.Errorf("%s: err %v, unique violation %v, want %v", tt.sql, err, store.IsUniqueViolation(err), tt.want)
		}
	}
	if store.IsUniqueViolation(errors.New("UNIQUE constraint failed")) {
		t.Error("a plain error is not a violation")
	}
}

// TestOptimize: statistics are gathered on both databases, as whichever
// role the tests connect as.
func TestOptimize(t *testing.T) {
	db := storetest.New(t)
	if err := db.Optimize(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := db.Optimize(context.Background(), "grids", "households"); err != nil {
		t.Fatal(err)
	}
}

// TestNewIDAtIncreasesPerInstant: ids made at one instant increase in the
// order they were made, also with ids of other instants made in between
// (a test's clock beside another's, the demo's history beside now), so
// that "newest first" by id holds for rows of the same instant.
func TestNewIDAtIncreasesPerInstant(t *testing.T) {
	a := time.Date(2020, 2, 3, 1, 0, 0, 0, time.UTC)
	others := []time.Time{a.Add(time.Second), a.Add(-time.Hour), a.AddDate(6, 0, 0), a.Add(time.Millisecond)}
	prev := store.NewIDAt(a)
	for i := range 50 {
		_ = store.NewIDAt(others[i%len(others)])
		id := store.NewIDAt(a)
		if id <= prev {
			t.Fatalf("id %d made at %v: %s, not after %s", i, a, id, prev)
		}
		prev = id
	}
}
