// Package storetest gives each test a fresh, migrated database: a new
// PostgreSQL schema when WANJIA_TEST_DATABASE_URL is set, otherwise a new
// SQLite file in the test's temp dir. Tests never share rows, so they can run
// in parallel and in any order.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/wanjia/wanjia/pkg/store"
)

// EnvURL names the variable that switches tests to PostgreSQL.
const EnvURL = "WANJIA_TEST_DATABASE_URL"

// New opens a fresh database with every migration applied and the tenant
// guard installed (see tenantGuard). It is closed and dropped when the test
// ends.
func New(t testing.TB) *store.DB {
	t.Helper()
	db := NewEmpty(t)
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("storetest: migrate: %v", err)
	}
	guard(t, db)
	return db
}

// NewEmpty opens a fresh database with no migrations applied.
func NewEmpty(t testing.TB) *store.DB {
	t.Helper()
	url, dir := Fresh(t)
	db, err := store.Open(context.Background(), store.Options{URL: url, DataDir: dir, MaxOpenConns: 10})
	if err != nil {
		t.Fatalf("storetest: open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// Fresh makes an empty database for code that opens its own connection
// (a whole app under test) and returns what to configure it with: a URL
// whose search_path is a new PostgreSQL schema, or a new data directory for
// SQLite. The schema is dropped when the test ends.
func Fresh(t testing.TB) (databaseURL, dataDir string) {
	t.Helper()
	ctx := context.Background()
	base := os.Getenv(EnvURL)
	if base == "" {
		return "", t.TempDir()
	}
	admin, err := store.Open(ctx, store.Options{URL: base, MaxOpenConns: 1})
	if err != nil {
		t.Fatalf("storetest: open %s: %v", EnvURL, err)
	}
	schema := "t_" + randomHex(8)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("storetest: create schema: %v", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("storetest: %s: %v", EnvURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema) // pgx passes it on as a runtime parameter
	u.RawQuery = q.Encode()
	// Registered first, so it runs last: after the users of the schema
	// have closed their connections.
	t.Cleanup(func() {
		_, _ = admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		_ = admin.Close()
	})
	return u.String(), t.TempDir()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
