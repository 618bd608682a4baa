package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wanjia/wanjia/pkg/config"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// proxy stands between the app and a real server, so a test can take the
// server away (every connection cut, new ones refused) and bring it back on
// the same address, without stopping a server other tests share.
type proxy struct {
	t      *testing.T
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, target: target, conns: map[net.Conn]bool{}}
	p.start("127.0.0.1:0")
	t.Cleanup(p.stop)
	return p
}

func (p *proxy) start(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = true, true
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
}

// stop refuses new connections and cuts the open ones: the server is gone.
func (p *proxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
}

// restart brings the server back on the same address.
func (p *proxy) restart() { p.start(p.addr) }

// TestDatabaseOutage: with PostgreSQL gone, /readyz names the database and
// API calls answer 503 in the error shape, quickly; when it is back, both
// recover without a restart.
func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	if os.Getenv(storetest.EnvURL) == "" {
		t.Skip("an outage of PostgreSQL; set " + storetest.EnvURL)
	}
	var p *proxy
	a := newDemoApp(t, func(c *config.Config) {
		u, err := url.Parse(c.DatabaseURL)
		if err != nil {
			t.Fatal(err)
		}
		p = newProxy(t, u.Host)
		u.Host = p.addr
		q := u.Query()
		q.Set("connect_timeout", "2")
		u.RawQuery = q.Encode()
		c.DatabaseURL = u.String()
	})
	staff := login(t, a.Engine, "yucai.staff", demoPassword)
	list := "/api/v1/orgs/yucai/households?limit=5"
	if rec := do(t, a.Engine, http.MethodGet, list, staff, nil); rec.Code != http.StatusOK {
		t.Fatalf("before the outage: %d %s", rec.Code, rec.Body)
	}

	p.stop()
	start := time.Now()
	rec := do(t, a.Engine, http.MethodGet, "/readyz", "", nil)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"database"`) {
		t.Fatalf("readyz with the database down: %d %s", rec.Code, rec.Body)
	}
	// The first call may meet a pooled connection cut under it; every
	// answer is a 503 in the error shape, never a 500 or a hang.
	for i := range 3 {
		rec = do(t, a.Engine, http.MethodGet, list, staff, nil)
		if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"code":"unavailable"`) {
			t.Fatalf("call %d with the database down: %d %s", i+1, rec.Code, rec.Body)
		}
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Fatalf("answering during the outage took %v", took)
	}

	p.restart()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ready := do(t, a.Engine, http.MethodGet, "/readyz", "", nil).Code == http.StatusOK
		if ready && do(t, a.Engine, http.MethodGet, list, staff, nil).Code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the app did not recover after the database came back")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestStatementTimeout: a statement that outlasts WANJIA_DB_STATEMENT_TIMEOUT
// (here a list waiting on a table another session holds locked) is
// cancelled by PostgreSQL (57014) and answered 503 in the error shape, not
// a 500, and the app answers again once the lock is gone.
func TestStatementTimeout(t *testing.T) {
	t.Parallel()
	if os.Getenv(storetest.EnvURL) == "" {
		t.Skip("statement_timeout is PostgreSQL's; set " + storetest.EnvURL)
	}
	// The demo was loaded with the default limits; the app under test has
	// a short statement timeout and a lock timeout well past it, so the
	// wait below ends by the statement timeout.
	appURL, dir := demo.Fresh(t)
	adminURL := storetest.AdminURL(appURL)
	a := newAppWithDB(t, appURL, dir, func(c *config.Config) {
		c.DBStatementTimeout = 500 * time.Millisecond
		c.DBLockTimeout = 20 * time.Second
	})
	staff := login(t, a.Engine, "yucai.staff", demoPassword)
	list := "/api/v1/orgs/yucai/households?limit=5"
	if rec := do(t, a.Engine, http.MethodGet, list, staff, nil); rec.Code != http.StatusOK {
		t.Fatalf("before the lock: %d %s", rec.Code, rec.Body)
	}

	ctx := t.Context()
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	lock, err := admin.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.Exec(ctx, "LOCK TABLE households IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rec := do(t, a.Engine, http.MethodGet, list, staff, nil)
	took := time.Since(start)
	if err := lock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if rec.Code != http.StatusServiceUnavailable || json.Unmarshal(rec.Body.Bytes(), &body) != nil ||
		body.Error.Code != "unavailable" || body.Error.Message == "" {
		t.Fatalf("a list outlasting the statement timeout: %d %s, want 503 unavailable", rec.Code, rec.Body)
	}
	if took < 400*time.Millisecond || took > 15*time.Second {
		t.Errorf("the list answered after %v; the statement timeout is 500ms", took)
	}
	if rec := do(t, a.Engine, http.MethodGet, list, staff, nil); rec.Code != http.StatusOK {
		t.Fatalf("after the lock: %d %s", rec.Code, rec.Body)
	}
}
