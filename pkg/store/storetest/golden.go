package storetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wanjia/wanjia/pkg/store"
)

// A Golden is a database built once per test binary and copied for each
// test that asks for one, so that a package whose tests all start from the
// same rows (migrated, or the demo district seeded) pays for building them
// once instead of once per test.
//
// A copy is as fresh as one from Fresh: the test owns it alone, may write
// to it, and it is dropped when the test ends; whatever opens it carries
// the tenant guard. On SQLite the golden is a data directory whose
// database file is copied; on PostgreSQL it is a database that each test's
// copy is made from with CREATE DATABASE … TEMPLATE (a file-level copy of
// the tables, their rows, row-security policies and statistics).
//
// The goldens live as long as the test binary: a package that uses them
// runs its tests through Main, which drops them at the end. Without Main
// (a package that did not opt in) a Golden builds each copy from scratch,
// which is slower but the same.
type Golden struct {
	name  string
	build func(t testing.TB, databaseURL, dataDir string) error

	once   sync.Once
	err    error
	dir    string // SQLite: the golden data directory
	pgName string // PostgreSQL: the template database
}

// NewGolden defines a golden database. build fills an empty database,
// given as Fresh gives it (a URL, or a data directory for SQLite), and must
// close every connection it opened before it returns: the golden is copied
// as it is left. t is the first test to ask for a copy, which reports what
// goes wrong while building (the tenant guard included).
//
// Anything build seals with a secret must be sealed with the secret the
// tests use, since every copy carries it.
func NewGolden(name string, build func(t testing.TB, databaseURL, dataDir string) error) *Golden {
	return &Golden{name: name, build: build}
}

// migrated is every migration applied to an empty database.
var migrated = NewGolden("migrated", func(t testing.TB, databaseURL, dataDir string) error {
	db, err := store.Open(context.Background(), store.Options{URL: databaseURL, DataDir: dataDir, MaxOpenConns: 1})
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Migrate(context.Background())
	return err
})

// FreshMigrated is Fresh with every migration applied: what a whole app
// under test opens and finds already migrated.
func FreshMigrated(t testing.TB) (databaseURL, dataDir string) {
	t.Helper()
	return migrated.Fresh(t)
}

// Fresh returns a new copy of the golden for t, as Fresh does an empty
// database: a URL (PostgreSQL) or a data directory (SQLite) that the test
// owns alone until it ends.
func (g *Golden) Fresh(t testing.TB) (databaseURL, dataDir string) {
	t.Helper()
	if !mainRunning.Load() {
		databaseURL, dataDir = Fresh(t)
		if err := g.build(t, databaseURL, dataDir); err != nil {
			t.Fatalf("storetest: build %s: %v", g.name, err)
		}
		return databaseURL, dataDir
	}
	g.once.Do(func() {
		// Should build end the goroutine (t.Fatal), the golden stays
		// unusable rather than half built.
		g.err = errors.New("its build did not finish")
		g.err = g.make(t)
	})
	if g.err != nil {
		t.Fatalf("storetest: golden %s: %v", g.name, g.err)
	}
	if os.Getenv(EnvURL) == "" {
		dataDir = t.TempDir()
		if err := copySQLite(g.dir, dataDir); err != nil {
			t.Fatalf("storetest: copy golden %s: %v", g.name, err)
		}
		t.Cleanup(store.RegisterOpenHook(dataDir, func(db *store.DB) { guard(t, db) }))
		return "", dataDir
	}
	clone := dbName("t")
	admin := adminDB(t)
	if _, err := admin.ExecContext(context.Background(),
		"CREATE DATABASE "+clone+" TEMPLATE "+g.pgName+" OWNER "+AppRole); err != nil {
		t.Fatalf("storetest: copy golden %s: %v", g.name, err)
	}
	// Registered first, so it runs last: after the test's own cleanups
	// closed its connections (FORCE ends any left behind). Dropping takes
	// a while and nobody waits for it but Main.
	t.Cleanup(func() {
		drops.Add(1)
		go func() {
			defer drops.Done()
			_, _ = admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+clone+" WITH (FORCE)")
		}()
	})
	databaseURL = appURLOf(t, clone)
	t.Cleanup(store.RegisterOpenHook(databaseURL, func(db *store.DB) { guard(t, db) }))
	return databaseURL, t.TempDir()
}

// New opens a new copy of the golden, as New opens a migrated database.
func (g *Golden) New(t testing.TB) *store.DB {
	t.Helper()
	databaseURL, dataDir := g.Fresh(t)
	db, err := store.Open(context.Background(), store.Options{URL: databaseURL, DataDir: dataDir, MaxOpenConns: 10})
	if err != nil {
		t.Fatalf("storetest: open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// make builds the golden once.
func (g *Golden) make(t testing.TB) error {
	if os.Getenv(EnvURL) == "" {
		dir, err := os.MkdirTemp("", "wanjia-golden-"+g.name+"-")
		if err != nil {
			return err
		}
		g.dir = dir
		register(g)
		unhook := store.RegisterOpenHook(dir, func(db *store.DB) { guard(t, db) })
		defer unhook()
		return g.build(t, "", dir)
	}
	admin := adminDB(t)
	ctx := context.Background()
	sweepOnce.Do(func() { sweep(ctx, admin) })
	g.pgName = dbName("g")
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+g.pgName+" OWNER "+AppRole); err != nil {
		return err
	}
	register(g)
	u := appURLOf(t, g.pgName)
	unhook := store.RegisterOpenHook(u, func(db *store.DB) { guard(t, db) })
	defer unhook()
	dir, err := os.MkdirTemp("", "wanjia-golden-"+g.name+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := g.build(t, u, dir); err != nil {
		return err
	}
	// Nobody may connect to a template while it is copied: refusing
	// connections from now on turns a stray one into a clear error.
	_, err = admin.ExecContext(ctx, "ALTER DATABASE "+g.pgName+" ALLOW_CONNECTIONS false")
	return err
}

// copySQLite copies the database file (and a write-ahead log left
// behind, which belongs to it) from one data directory to another. The
// shared-memory index is rebuilt by whoever opens the copy.
func copySQLite(from, to string) error {
	for _, name := range []string{store.SQLiteFile, store.SQLiteFile + "-wal"} {
		src, err := os.Open(filepath.Join(from, name))
		if errors.Is(err, os.ErrNotExist) && name != store.SQLiteFile {
			continue
		}
		if err != nil {
			return err
		}
		dst, err := os.OpenFile(filepath.Join(to, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			_ = src.Close()
			return err
		}
		_, err = io.Copy(dst, src)
		_ = src.Close()
		if cerr := dst.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Main runs a package's tests with its goldens and drops them afterwards.
// Call it from the package's TestMain:
//
//	func TestMain(m *testing.M) { storetest.Main(m) }
func Main(m *testing.M) {
	mainRunning.Store(true)
	code := m.Run()
	dropGoldens()
	os.Exit(code)
}

var (
	mainRunning atomic.Bool
	drops       sync.WaitGroup // copies being dropped
	goldensMu   sync.Mutex
	goldens     []*Golden
)

func register(g *Golden) {
	goldensMu.Lock()
	goldens = append(goldens, g)
	goldensMu.Unlock()
}

func dropGoldens() {
	drops.Wait()
	goldensMu.Lock()
	defer goldensMu.Unlock()
	for _, g := range goldens {
		if g.dir != "" {
			_ = os.RemoveAll(g.dir)
		}
		if g.pgName != "" && adminPool != nil {
			_, _ = adminPool.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+g.pgName+" WITH (FORCE)")
		}
	}
	goldens = nil
	if adminPool != nil {
		_ = adminPool.Close()
	}
}

// Database names: wanjia_<kind>_<unix seconds>_<random>. The time lets a
// later run drop what a run killed midway left behind (see sweep).
const dbPrefix = "wanjia_"

func dbName(kind string) string {
	return dbPrefix + kind + "_" + strconv.FormatInt(time.Now().Unix(), 10) + "_" + randomHex(6)
}

// staleAfter is how old a test database must be for sweep to drop it: no
// test binary runs that long (make test's timeout is far shorter).
const staleAfter = 3 * time.Hour

// sweep drops goldens and copies that runs killed before their cleanup
// (a timeout's panic, ^C) left behind.
func sweep(ctx context.Context, admin *store.DB) {
	var names []string
	if err := admin.NewRaw("SELECT datname FROM pg_database WHERE datname LIKE 'wanjia\\_%'").Scan(ctx, &names); err != nil {
		return
	}
	for _, n := range names {
		parts := strings.Split(n, "_")
		if len(parts) != 4 || (parts[1] != "g" && parts[1] != "t") {
			continue
		}
		sec, err := strconv.ParseInt(parts[2], 10, 64)
		if err != nil || time.Since(time.Unix(sec, 0)) < staleAfter {
			continue
		}
		_, _ = admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+n+" WITH (FORCE)")
	}
}

var (
	adminOnce sync.Once
	adminPool *store.DB
	adminErr  error
	sweepOnce sync.Once
)

// adminDB is one connection pool to EnvURL as its administrator, shared by
// the package's tests for creating and dropping databases.
func adminDB(t testing.TB) *store.DB {
	t.Helper()
	adminOnce.Do(func() {
		ctx := context.Background()
		adminPool, adminErr = store.Open(ctx, store.Options{URL: os.Getenv(EnvURL), MaxOpenConns: 4})
		if adminErr != nil {
			return
		}
		adminErr = ensureAppRole(ctx, adminPool)
	})
	if adminErr != nil {
		t.Fatalf("storetest: %s: %v", EnvURL, adminErr)
	}
	return adminPool
}

// appURLOf is EnvURL pointed at database name, as AppRole.
func appURLOf(t testing.TB, name string) string {
	t.Helper()
	u, err := url.Parse(os.Getenv(EnvURL))
	if err != nil {
		t.Fatalf("storetest: %s: %v", EnvURL, err)
	}
	u.Path = "/" + name
	q := u.Query()
	q.Del("search_path") // the database's own public schema
	u.RawQuery = q.Encode()
	u.User = url.User(AppRole)
	return u.String()
}

// ensureAppRole creates AppRole when missing. Packages run in parallel:
// the role may be created by another one between the check and the
// CREATE, which the handler forgives.
func ensureAppRole(ctx context.Context, admin *store.DB) error {
	_, err := admin.ExecContext(ctx, `DO $$ BEGIN
		IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '`+AppRole+`') THEN
			CREATE ROLE `+AppRole+` LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
		END IF;
	EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
	END $$`)
	if err != nil {
		return fmt.Errorf("create role %s: %w", AppRole, err)
	}
	return nil
}
