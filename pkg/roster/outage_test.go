package roster_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/queue"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// sevenHouseholds is a households file of seven rows, the second bad: in
// batches of two, three batches and a last row.
var sevenHouseholds = []byte("网格,地址\ng1,育才路1号\nnope,育才路2号\ng1,育才路3号\ng1,育才路4号\ng1,育才路5号\ng1,育才路6号\ng1,育才路7号\n")

// checkSevenDone checks that the import of sevenHouseholds ended as one
// uninterrupted run would: nothing counted or saved twice.
func checkSevenDone(t *testing.T, ctx context.Context, s *roster.Service, id string) {
	t.Helper()
	imp, err := s.GetImport(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if imp.Status != "done" || imp.Rows != 7 || imp.Created != 6 || imp.Unchanged != 0 || imp.Updated != 0 || imp.ErrorCount != 1 || len(imp.Errors) != 1 {
		t.Fatalf("import: status %s rows %d created %d unchanged %d updated %d errors %d %v",
			imp.Status, imp.Rows, imp.Created, imp.Unchanged, imp.Updated, imp.ErrorCount, imp.Errors)
	}
	hs, _, err := s.ListHouseholds(ctx, roster.Filter{Limit: 50})
	if err != nil || len(hs) != 6 {
		t.Fatalf("households: %d %v", len(hs), err)
	}
}

// TestImportWaitsOutDatabaseOutage: the database goes away in the middle
// of an import (after its second batch). The import's task answers
// queue.Later, which is no failure and uses up none of its retries, and the
// import stays running; once the database is back the task's next run
// resumes after the last committed batch and ends with the counts of one
// uninterrupted run. Real outages: the pool closed under the worker (both
// databases), PostgreSQL unreachable (its connections cut and new ones
// refused, through a proxy), SQLite's write lock held by another
// connection past the busy timeout (ten seconds).
func TestImportWaitsOutDatabaseOutage(t *testing.T) {
	type outage struct {
		name string
		pg   *bool // only on PostgreSQL (true) or SQLite (false)
		// open opens the worker's database; begin starts the outage, end
		// ends it and returns the database the worker uses after it.
		start func(t *testing.T, dbURL, dir string) (db *store.DB, begin func(), end func() *store.DB)
	}
	yes, no := true, false
	open := func(t *testing.T, dbURL, dir string) *store.DB {
		db, err := store.Open(context.Background(), store.Options{URL: dbURL, DataDir: dir, MaxOpenConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	for _, o := range []outage{
		{name: "pool closed", start: func(t *testing.T, dbURL, dir string) (*store.DB, func(), func() *store.DB) {
			db := open(t, dbURL, dir)
			return db, func() { _ = db.Close() }, func() *store.DB { return open(t, dbURL, dir) }
		}},
		{name: "server unreachable", pg: &yes, start: func(t *testing.T, dbURL, dir string) (*store.DB, func(), func() *store.DB) {
			p := newProxy(t, dbURL)
			db := open(t, p.url, dir)
			return db, func() { p.setDown(true) }, func() *store.DB { p.setDown(false); return db }
		}},
		{name: "write lock held", pg: &no, start: func(t *testing.T, dbURL, dir string) (*store.DB, func(), func() *store.DB) {
			db := open(t, dbURL, dir)
			raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, store.SQLiteFile))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = raw.Close() })
			var lock *sql.Tx
			return db, func() {
					if lock, err = raw.BeginTx(context.Background(), nil); err == nil {
						// A write takes the lock, as a backup or a long migration would hold it.
						_, err = lock.Exec("UPDATE imports SET size = size WHERE 0 = 1; CREATE TABLE outage_lock (x)")
					}
					if err != nil {
						t.Error(err)
					}
				}, func() *store.DB {
					_ = lock.Rollback()
					return db
				}
		}},
	} {
		t.Run(o.name, func(t *testing.T) {
			dbURL, dir := storetest.Fresh(t)
			if o.pg != nil && *o.pg != (dbURL != "") {
				t.Skip("not this database")
			}
			fixture := open(t, dbURL, dir)
			if _, err := fixture.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			ctx := community(t, fixture)
			worker, begin, end := o.start(t, dbURL, dir)
			s := &roster.Service{DB: worker}
			defer roster.SetImportBatch(2)()
			restore := roster.AfterBatches(2, begin)
			_, err := s.ImportNow(ctx, roster.KindHouseholds, "a.csv", sevenHouseholds)
			restore()
			var later *queue.LaterError
			if !errors.As(err, &later) {
				t.Fatalf("import during the outage: %v, want a LaterError", err)
			}
			s.DB = end() // read after the outage: SQLite's lock stops the fixture's transactions too
			var id, status string
			var rows int
			err = fixture.AcrossTenants(ctx, "test", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
				return tx.NewSelect().TableExpr("imports").Column("id", "status", "rows").Scan(ctx, &id, &status, &rows)
			})
			if err != nil || status != "running" || rows != 4 {
				t.Fatalf("import after the outage began: %s with %d rows (%v), want running with 4", status, rows, err)
			}
			if err := s.RunImport(ctx, id); err != nil {
				t.Fatal(err)
			}
			checkSevenDone(t, ctx, s, id)
		})
	}
}

// proxy forwards TCP connections to a PostgreSQL server; while it is down
// it cuts the connections it carries and closes new ones at once, as a
// server that restarts or a network that fails does.
type proxy struct {
	url  string
	mu   sync.Mutex
	down bool
	live map[net.Conn]bool
}

func newProxy(t *testing.T, dbURL string) *proxy {
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	target := u.Host
	u.Host = ln.Addr().String()
	p := &proxy{url: u.String(), live: map[net.Conn]bool{}}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			down := p.down
			p.mu.Unlock()
			if down {
				_ = c.Close()
				continue
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				_ = c.Close()
				continue
			}
			p.mu.Lock()
			p.live[c], p.live[s] = true, true
			p.mu.Unlock()
			go func() { _, _ = io.Copy(s, c); _ = s.Close() }()
			go func() { _, _ = io.Copy(c, s); _ = c.Close() }()
		}
	}()
	return p
}

func (p *proxy) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for c := range p.live {
			_ = c.Close()
		}
		clear(p.live)
	}
}
