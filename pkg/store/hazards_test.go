package store_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// The hazards of issue 19, section 1: each test below failed on the
// connection layer that sent a transaction's opening ahead of its first
// statement.

// addRun writes a row of periodic_runs, a platform table that row
// security does not touch: what it keeps shows what committed.
func addRun(ctx context.Context, db bun.IDB, name string) error {
	_, err := db.NewRaw("INSERT INTO periodic_runs (name, slot, ran_at, runs) VALUES (?, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)",
		fmt.Sprintf("%s-%d", name, runs.Add(1))).Exec(ctx)
	return err
}

var runs atomic.Int64

func countRuns(t *testing.T, db *store.DB, name string) int {
	t.Helper()
	var n int
	if err := db.NewRaw("SELECT count(*) FROM periodic_runs WHERE name LIKE ?", name+"-%").Scan(storetest.Unguarded(context.Background()), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestFailedStatementPoisonsItsWrite: a write whose first statement fails
// (here, to parse) stays a failed transaction: what the caller runs after
// it does not run at all, let alone outside the transaction, and nothing
// of it survives the rollback.
func TestFailedStatementPoisonsItsWrite(t *testing.T) {
	requirePostgres(t)
	db := storetest.New(t)
	boom := errors.New("boom")
	var after error
	err := db.InTenantTx(inTenant("ta"), func(ctx context.Context, tx *store.TenantTx) error {
		_, _ = tx.Unscoped().ExecContext(ctx, "SELEC 1") // swallowed on purpose
		after = addRun(ctx, tx.Unscoped(), "poisoned")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if after == nil {
		t.Error("a statement after a failed one ran")
	}
	if n := countRuns(t, db, "poisoned"); n != 0 {
		t.Errorf("%d rows kept by a write that rolled back, want 0", n)
	}
}

// TestNestedRunInTxIsASavepoint: RunInTx inside a tenant transaction is a
// savepoint on both databases: what it commits is undone with the outer
// transaction, and what it rolls back leaves the outer one going.
func TestNestedRunInTxIsASavepoint(t *testing.T) {
	db := storetest.New(t)
	boom := errors.New("boom")
	err := db.InTenantTx(inTenant("ta"), func(ctx context.Context, tx *store.TenantTx) error {
		err := tx.Unscoped().RunInTx(ctx, nil, func(ctx context.Context, in bun.Tx) error {
			for range 3 {
				if err := addRun(ctx, in, "nested"); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if n := countRuns(t, db, "nested"); n != 0 {
		t.Errorf("%d rows of a nested transaction kept after the outer one rolled back, want 0", n)
	}

	err = db.InTenantTx(inTenant("ta"), func(ctx context.Context, tx *store.TenantTx) error {
		if err := addRun(ctx, tx.Unscoped(), "outer"); err != nil {
			return err
		}
		err := tx.Unscoped().RunInTx(ctx, nil, func(ctx context.Context, in bun.Tx) error {
			if err := addRun(ctx, in, "inner"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			return fmt.Errorf("nested: %w", err)
		}
		return addRun(ctx, tx.Unscoped(), "outer")
	})
	if err != nil {
		t.Fatal(err)
	}
	if outer, inner := countRuns(t, db, "outer"), countRuns(t, db, "inner"); outer != 2 || inner != 0 {
		t.Errorf("after a nested rollback: %d outer rows (want 2), %d inner (want 0)", outer, inner)
	}
}

// withParam returns u with a query parameter set.
func withParam(t *testing.T, u, key, value string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	q := p.Query()
	q.Set(key, value)
	p.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	return p.String()
}

// TestQuotingWhenTheServerDefaultsToBackslashEscapes: an operator may set
// standard_conforming_strings=off for a database or a role (here through
// the URL's options, which the server treats alike). bun quotes for "on":
// the connection must run with it on whatever the server's default, and
// a session that turns it off must not serve a tenant transaction.
func TestQuotingWhenTheServerDefaultsToBackslashEscapes(t *testing.T) {
	requirePostgres(t)
	ctx := storetest.Unguarded(context.Background())
	appURL, _ := storetest.Fresh(t)
	{
		db, err := store.Open(ctx, store.Options{URL: appURL})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		_ = db.Close()
	}
	db, err := store.Open(ctx, store.Options{URL: withParam(t, appURL, "options", "-c standard_conforming_strings=off"), MaxOpenConns: 1})
	if err != nil {
		t.Fatalf("open with the server's default off: %v", err)
	}
	defer db.Close()
	seedHouseholds(t, db, "ta", 3)

	probe := func(t *testing.T) {
		t.Helper()
		const stacked = `\'; INSERT INTO households (id, tenant_id, grid_id, address, address_key, tags, created_at, updated_at) VALUES ($$stacked$$, $$ta$$, $$g$$, $$a$$, $$stacked$$, $$[]$$, now(), now()); --`
		err := db.InTenantTx(inTenant("ta"), func(ctx context.Context, tx *store.TenantTx) error {
			_, err := tx.Unscoped().NewRaw("UPDATE households SET notes = ? WHERE tenant_id = ? AND id = ?", stacked, "ta", "ta-0").Exec(ctx)
			return err
		})
		if err != nil {
			t.Fatalf("update: %v", err)
		}
		var notes []string
		var found int
		err = db.InTenantReadTx(inTenant("ta"), func(ctx context.Context, tx *store.TenantTx) error {
			if err := tx.SelectTable("households").Column("notes").Where("id = ?", "ta-0").Scan(ctx, &notes); err != nil {
				return err
			}
			var ids []string
			err := tx.Unscoped().NewRaw("SELECT id FROM households WHERE tenant_id = ? AND address = ?", "ta", `x\' OR true --`).Scan(ctx, &ids)
			found = len(ids)
			return err
		})
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if len(notes) != 1 || notes[0] != stacked {
			t.Errorf("the value written is %q, want %q", notes, stacked)
		}
		if found != 0 {
			t.Errorf("a read by a quoted value returned %d rows, want 0", found)
		}
		err = db.InTenantReadTx(inTenant("ta"), func(ctx context.Context, tx *store.TenantTx) error {
			n, err := countAll(ctx, tx.Unscoped())
			if n != 3 {
				t.Errorf("tenant ta has %d households, want 3 (a stacked INSERT ran)", n)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	probe(t)

	// A session that turns it off (on its one connection) does not go back
	// to serve: the pool replaces it.
	if _, err := db.ExecContext(ctx, "SET standard_conforming_strings = off"); err != nil {
		t.Fatal(err)
	}
	probe(t)
}

// TestConnectionSettingsArePinned: the timeouts a stuck statement, lock
// or forgotten transaction would otherwise hold a connection for ever
// without, set on every connection, and configurable.
func TestConnectionSettingsArePinned(t *testing.T) {
	requirePostgres(t)
	ctx := storetest.Unguarded(context.Background())
	appURL, _ := storetest.Fresh(t)
	show := func(db *store.DB) map[string]string {
		got := map[string]string{}
		for _, name := range []string{"statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout", "standard_conforming_strings"} {
			var v string
			if err := db.NewRaw("SELECT current_setting(?)", name).Scan(ctx, &v); err != nil {
				t.Fatal(err)
			}
			got[name] = v
		}
		return got
	}
	for _, tt := range []struct {
		name string
		o    store.Options
		want map[string]string
	}{
		{"defaults", store.Options{}, map[string]string{"statement_timeout": "30s", "lock_timeout": "10s", "idle_in_transaction_session_timeout": "1min", "standard_conforming_strings": "on"}},
		{"configured", store.Options{StatementTimeout: 2 * time.Second, LockTimeout: 500 * time.Millisecond, IdleInTransactionTimeout: -1},
			map[string]string{"statement_timeout": "2s", "lock_timeout": "500ms", "idle_in_transaction_session_timeout": "0", "standard_conforming_strings": "on"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.o
			o.URL = appURL
			db, err := store.Open(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			got := show(db)
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

// TestCommitHasADeadline: a COMMIT that does not answer (here a deferred
// trigger that sleeps, with no statement timeout to stop it) fails after
// the end's deadline instead of holding the request.
func TestCommitHasADeadline(t *testing.T) {
	requirePostgres(t)
	ctx := storetest.Unguarded(context.Background())
	appURL, _ := storetest.Fresh(t)
	db, err := store.Open(ctx, store.Options{URL: appURL, StatementTimeout: -1, EndTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		"CREATE TABLE slow_commit (x int)",
		"CREATE FUNCTION sleep_a_while() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(5); RETURN NULL; END $$",
		"CREATE CONSTRAINT TRIGGER slow AFTER INSERT ON slow_commit DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION sleep_a_while()",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	start := time.Now()
	err = db.InTenantTx(inTenant("ta"), func(ctx context.Context, tx *store.TenantTx) error {
		_, err := tx.Unscoped().ExecContext(ctx, "INSERT INTO slow_commit VALUES (1)")
		return err
	})
	if err == nil {
		t.Error("a COMMIT that took 5 s succeeded within a deadline of 300 ms")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the COMMIT held its caller %v", d.Round(time.Millisecond))
	}
}

// terminate ends the backend pid from the administrator's connection, as
// a restart of PostgreSQL would.
func terminate(t *testing.T, admin *store.DB, pid int) {
	t.Helper()
	var ok bool
	if err := admin.NewRaw("SELECT pg_terminate_backend(?)", pid).Scan(context.Background(), &ok); err != nil || !ok {
		t.Fatalf("terminate %d: %v %v", pid, ok, err)
	}
	// pg_terminate_backend only signals; wait for the backend to go.
	for range 100 {
		var n int
		if err := admin.NewRaw("SELECT count(*) FROM pg_stat_activity WHERE pid = ?", pid).Scan(context.Background(), &n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("backend %d still there", pid)
}

// TestDeadPooledConnection: a pooled connection whose backend went away
// (a restart of PostgreSQL) is replaced when a tenant transaction begins
// on it; a request in flight on it fails as the database being
// unavailable (a 503), not as a defect.
func TestDeadPooledConnection(t *testing.T) {
	requirePostgres(t)
	ctx := storetest.Unguarded(context.Background())
	appURL, adminURL, _ := storetest.FreshAdmin(t)
	admin, err := store.Open(ctx, store.Options{URL: adminURL, MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	db, err := store.Open(ctx, store.Options{URL: appURL, MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	seedHouseholds(t, db, "ta", 2)
	pid := func() int {
		var p int
		if err := db.NewRaw("SELECT pg_backend_pid()").Scan(ctx, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}

	for _, name := range []string{"read", "write"} {
		terminate(t, admin, pid())
		run := db.InTenantReadTx
		if name == "write" {
			run = db.InTenantTx
		}
		err := run(inTenant("ta"), func(ctx context.Context, tx *store.TenantTx) error {
			n, err := countAll(ctx, tx.Unscoped())
			if err == nil && n != 2 {
				t.Errorf("%s: %d households, want 2", name, n)
			}
			return err
		})
		if err != nil {
			t.Errorf("a %s on a pooled connection whose backend is gone: %v", name, err)
		}
	}

	err = db.InTenantTx(inTenant("ta"), func(ctx context.Context, tx *store.TenantTx) error {
		var p int
		if err := tx.Unscoped().NewRaw("SELECT pg_backend_pid()").Scan(ctx, &p); err != nil {
			return err
		}
		terminate(t, admin, p)
		_, err := countAll(ctx, tx.Unscoped())
		return err
	})
	if err == nil {
		t.Fatal("a statement on a terminated backend succeeded")
	}
	if !errs.IsUnavailable(err) {
		t.Errorf("a request in flight when its backend was terminated fails with %v (%T), not as unavailable", err, errors.Unwrap(err))
	}
}

// TestCopyStageLivesInItsTransaction: COPY's staging table is the
// transaction's, not the pooled session's (where it would outlive a
// migration of its table, and pin the session to one server behind a
// transaction pooler).
func TestCopyStageLivesInItsTransaction(t *testing.T) {
	requirePostgres(t)
	db := storetest.New(t)
	db.SetMaxOpenConns(1)
	cols := []string{"id", "tenant_id", "grid_id", "address", "address_key", "tags", "created_at", "updated_at"}
	now := time.Now().UTC()
	err := db.InTenantTx(inTenant("ta"), func(ctx context.Context, tx *store.TenantTx) error {
		_, err := tx.CopyFrom(ctx, "households", cols, [][]any{{"ta-s", "ta", "g", "a", "s", "[]", now, now}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var temps []string
	if err := db.NewRaw("SELECT relname FROM pg_class WHERE relnamespace = pg_my_temp_schema()").Scan(storetest.Unguarded(context.Background()), &temps); err != nil {
		t.Fatal(err)
	}
	if len(temps) != 0 {
		t.Errorf("the session keeps temporary tables after its transaction: %s", strings.Join(temps, ", "))
	}
}

// TestRefusesToStartWithoutStandardQuoting: a session that reports
// standard_conforming_strings off (here asked for in the URL) is refused
// when the process starts, saying so, rather than failing later at the
// first value quoted, or at the migration lock with a message about
// another process.
func TestRefusesToStartWithoutStandardQuoting(t *testing.T) {
	requirePostgres(t)
	appURL, _ := storetest.Fresh(t)
	db, err := store.Open(context.Background(), store.Options{URL: withParam(t, appURL, "standard_conforming_strings", "off")})
	if err == nil {
		_ = db.Close()
		t.Fatal("opened a database whose sessions quote with backslash escapes")
	}
	var se *store.SessionError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "standard_conforming_strings") || strings.Contains(err.Error(), "does not answer") {
		t.Errorf("Open's error does not say what is wrong: %v", err)
	}
}
