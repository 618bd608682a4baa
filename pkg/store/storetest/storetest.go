// Package storetest gives each test a fresh, migrated database: a new
// PostgreSQL schema when WANJIA_TEST_DATABASE_URL is set, otherwise a new
// SQLite file in the test's temp dir. Tests never share rows, so they can run
// in parallel and in any order.
//
// Every database it hands out carries the tenant guard (see tenantGuard),
// including one that the code under test opens itself from Fresh's URL. On
// PostgreSQL the tests connect as AppRole, a role without superuser or
// BYPASSRLS rights, so row-level security binds them as it binds the
// application in production.
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

// AppRole is the role the tests connect as on PostgreSQL. The URL in EnvURL
// is the administrator's (a superuser, which row security never binds): it
// creates this role when missing, and a schema per test owned by it.
const AppRole = "wanjia_test_app"

// New opens a fresh database with every migration applied and the tenant
// guard installed. It is closed and dropped when the test ends. It is a
// copy of a migrated golden database when the package runs through Main.
func New(t testing.TB) *store.DB {
	t.Helper()
	return migrated.New(t)
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
// SQLite. Whatever opens it gets the tenant guard, reporting to t. The
// schema is dropped when the test ends.
func Fresh(t testing.TB) (databaseURL, dataDir string) {
	t.Helper()
	databaseURL, dataDir = fresh(t)
	key := databaseURL
	if key == "" {
		key = dataDir
	}
	t.Cleanup(store.RegisterOpenHook(key, func(db *store.DB) { guard(t, db) }))
	return databaseURL, dataDir
}

// FreshAdmin is Fresh for a test that must act as the administrator too
// (migrations run by the tables' owner, roles and grants): it also returns
// a URL to the same schema as the administrator of EnvURL. It is "" on
// SQLite.
func FreshAdmin(t testing.TB) (appURL, adminURL, dataDir string) {
	t.Helper()
	appURL, dataDir = Fresh(t)
	return appURL, AdminURL(appURL), dataDir
}

// AdminURL is appURL (from Fresh, FreshAdmin or a Golden's Fresh) as the
// administrator of EnvURL, whom row security does not bind: for a test
// that must reach past the application, to lock a table or end its
// connections. It is "" on SQLite (appURL "").
func AdminURL(appURL string) string {
	if appURL == "" {
		return ""
	}
	u, _ := url.Parse(appURL)
	base, _ := url.Parse(os.Getenv(EnvURL))
	u.User = base.User
	return u.String()
}

func fresh(t testing.TB) (string, string) {
	ctx := context.Background()
	base := os.Getenv(EnvURL)
	if base == "" {
		return "", t.TempDir()
	}
	admin := adminDB(t)
	schema := "t_" + randomHex(8)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema+" AUTHORIZATION "+AppRole); err != nil {
		t.Fatalf("storetest: create schema: %v", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("storetest: %s: %v", EnvURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema) // pgx passes it on as a runtime parameter
	u.RawQuery = q.Encode()
	u.User = url.User(AppRole)
	// Registered first, so it runs last: after the users of the schema
	// have closed their connections.
	t.Cleanup(func() {
		_, _ = admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	return u.String(), t.TempDir()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
