package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wanjia/wanjia/pkg/app"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// BenchmarkRequestCost measures what one request costs through the whole
// stack, against bare handlers doing the same database work, in one run:
// GET /api/v1/orgs/yucai/households?limit=50 as yucai.staff on the demo
// district, over real HTTP with keep-alive, from C concurrent clients.
//
//   - wanjia: the whole app (a.Run on a real listener): access log, metrics,
//     authentication (token check and the user's row), Casbin, the tenant's
//     read-only transaction with row security, its grids, bun, the batched
//     read audit, the JSON answer.
//   - bare-select (PostgreSQL only): a plain gin engine and a pgx pool,
//     connected as the administrator so row security hides nothing, running
//     the same page (51 rows by id, with their grid slug, one statement) and
//     writing the same JSON shape with roster.HouseholdView.
//   - bare-tx (PostgreSQL only): bare-select in a transaction that also binds
//     the tenant, reads the tenant's grids first and INSERTs the audit_log row
//     of the page, as wanjia did on every list before reads were audited in
//     batches.
//   - bare-readtx (PostgreSQL only): bare-select in the read-only
//     transaction wanjia's reads run in, opened as store opens it ("BEGIN
//     READ ONLY" and the tenant's set_config in one message) and committed:
//     what the transaction's two round trips cost without the rest of the
//     stack.
//   - bare-batch (PostgreSQL only): the tenant's set_config and the page in
//     one pgx.Batch, which PostgreSQL runs as one implicit transaction (one
//     round trip): what a read without an explicit transaction would cost.
//
// Each leaf (wanjia/c8, wanjia/c32, ...) sends b.N requests in all from C
// clients and reports req/s, p50-ms and p99-ms (ns/op is turned off: it
// would only be 1/throughput) and, on PostgreSQL on this machine,
// cpu-us/req: the CPU time of this process and of the server's PostgreSQL
// backends per request (see cpuMeter), which a machine shared with other
// work disturbs far less than throughput, and pg-us/req, the backends'
// part of it (cpu-us/req less pg-us/req is this process's: the server and
// the client, which is the same for every server). The servers run in interleaved rounds,
// WANJIA_BENCH_ROUNDS of them (default 2), each round in the reverse order
// of the one before (ABBA), so drift and noise of the machine fall on all of
// them; testing names the second round's leaves wanjia#01/c8 and so on.
//
//	go test -run '^$' -bench RequestCost -benchtime 2000x ./pkg/app/
//	WANJIA_TEST_DATABASE_URL='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' \
//	WANJIA_TEST_REDIS_URL='redis://127.0.0.1:6379/0' \
//	go test -run '^$' -bench RequestCost -benchtime 2000x ./pkg/app/
//
// For benchstat, take more rounds and fold the round suffix, so that each
// round is one sample of its leaf (medians and confidence intervals per
// server and C; six rounds or more for an interval):
//
//	WANJIA_BENCH_ROUNDS=6 go test -run '^$' -bench RequestCost -benchtime 2000x ./pkg/app/ |
//	    sed -E 's/#[0-9]+//' > cost.txt && benchstat cost.txt
//
// On SQLite (no WANJIA_TEST_DATABASE_URL) only wanjia runs: the embedded
// mode's figures.
//
// The app runs as production does, without storetest's tenant guard (a
// regexp pass over every statement, test-only), and logs to a discarding
// handler, as the other tests here do.
func BenchmarkRequestCost(b *testing.B) {
	appURL, adminURL, dir := storetest.FreshAdmin(b)
	var cpu *cpuMeter
	if appURL != "" {
		// Named, so that the meter finds each server's PostgreSQL backends.
		appURL = withAppName(b, appURL, benchAppName)
		cpu = newCPUMeter(b, adminURL)
	}
	key := appURL
	if key == "" {
		key = dir
	}
	b.Cleanup(store.RegisterOpenHook(key, func(*store.DB) {})) // no tenant guard
	a := newAppWithDB(b, appURL, dir, nil)
	if err := a.ApplyDemo(b.Context()); err != nil {
		b.Skipf("the demo district cannot be loaded, so there is nothing to list: %v", err)
	}
	base := runApp(b, a)
	token, userID := httpLogin(b, base, "yucai.staff", demoPassword)
	const path = "/api/v1/orgs/yucai/households?limit=50"

	want := fetchPage(b, base+path, token)
	if len(want.Items) != 50 || want.NextCursor == "" {
		b.Fatalf("wanjia answered %d items (cursor %q), want 50 and a next page", len(want.Items), want.NextCursor)
	}
	servers := []benchServer{{name: "wanjia", url: base + path, token: token, backends: benchAppName, cpu: cpu}}

	if adminURL != "" {
		pool := adminPool(b, adminURL)
		tenants := loadTenants(b, pool)
		if _, ok := tenants["yucai"]; !ok {
			b.Fatal("no community yucai in the demo district")
		}
		actor := bareActor{userID: userID, username: "yucai.staff", role: authz.RoleCommunityStaff}
		for _, s := range []struct {
			name string
			mode bareMode
		}{{"bare-select", bareSelect}, {"bare-tx", bareTx}, {"bare-readtx", bareReadTx}, {"bare-batch", bareBatch}} {
			h := &bareHouseholds{pool: pool, tenants: tenants, actor: actor, mode: s.mode}
			url := serveHTTP(b, h.engine()) + path
			got := fetchPage(b, url, "")
			if err := samePage(want, got); err != nil {
				b.Fatalf("%s does not answer as wanjia does: %v", s.name, err)
			}
			servers = append(servers, benchServer{name: s.name, url: url, backends: bareAppName, cpu: cpu})
		}
	}

	rounds := 2
	if v := os.Getenv("WANJIA_BENCH_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("WANJIA_BENCH_ROUNDS=%q: want a positive number", v)
		}
		rounds = n
	}
	for r := range rounds {
		order := slices.Clone(servers)
		if r%2 == 1 {
			slices.Reverse(order)
		}
		for _, s := range order {
			b.Run(s.name, func(b *testing.B) {
				for _, c := range []int{8, 32} {
					b.Run("c"+strconv.Itoa(c), func(b *testing.B) { drive(b, s, c) })
				}
			})
		}
	}
}

// runApp runs all of a's parts on a real listener until the benchmark
// ends, as demoApp does, and returns the base URL.
func runApp(tb testing.TB, a *app.App) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = a.Run(ctx, ln); close(done) }()
	tb.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String()
}

// serveHTTP serves h on a real listener until the benchmark ends.
func serveHTTP(tb testing.TB, h http.Handler) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	done := make(chan struct{})
	go func() { _ = srv.Serve(ln); close(done) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	})
	return "http://" + ln.Addr().String()
}

// httpLogin signs in over HTTP and returns the access token and user id.
func httpLogin(tb testing.TB, base, username, password string) (token, userID string) {
	tb.Helper()
	body := fmt.Sprintf(`{"username":%q,"password":%q}`, username, password)
	resp, err := http.Post(base+"/api/v1/auth/login", "application/json", strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("login %s: %d %s", username, resp.StatusCode, raw)
	}
	var out struct {
		AccessToken string `json:"access_token"`
		User        struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.AccessToken == "" || out.User.ID == "" {
		tb.Fatalf("login %s: %v %s", username, err, raw)
	}
	return out.AccessToken, out.User.ID
}

type householdPage struct {
	Items      []roster.HouseholdView `json:"items"`
	NextCursor string                 `json:"next_cursor"`
}

func fetchPage(tb testing.TB, url, token string) householdPage {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET %s: %d %s", url, resp.StatusCode, raw)
	}
	var p householdPage
	if err := json.Unmarshal(raw, &p); err != nil {
		tb.Fatalf("GET %s: %v", url, err)
	}
	return p
}

// samePage checks that a bare answer lists what wanjia's does.
func samePage(want, got householdPage) error {
	if len(got.Items) != len(want.Items) || got.NextCursor != want.NextCursor {
		return fmt.Errorf("%d items, cursor %q; want %d, %q", len(got.Items), got.NextCursor, len(want.Items), want.NextCursor)
	}
	for i, w := range want.Items {
		g := got.Items[i]
		if g.ID != w.ID || g.Grid != w.Grid || g.BuildingID != w.BuildingID || g.Address != w.Address ||
			g.Phone != w.Phone || !slices.Equal(g.Tags, w.Tags) || !g.CreatedAt.Equal(w.CreatedAt) {
			return fmt.Errorf("item %d: %+v, want %+v", i, g, w)
		}
	}
	return nil
}

// benchServer is one server under test and the request it is sent.
type benchServer struct {
	name, url, token string
	backends         string    // application_name of its PostgreSQL connections
	cpu              *cpuMeter // nil on SQLite
}

// The application_name of the app's and the bare handlers' connections.
const (
	benchAppName = "wanjia-bench-app"
	bareAppName  = "wanjia-bench-bare"
)

func withAppName(tb testing.TB, dbURL, name string) string {
	tb.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// cpuMeter measures the CPU time a server's requests cost in all: this
// process (the server, and the client, the same for every server) and the
// PostgreSQL backends of the server's connections, read from
// /proc/<pid>/schedstat (nanoseconds on a CPU). On a machine shared with
// other work, CPU time per request moves far less than throughput does, and
// at saturation throughput is the cores over it.
type cpuMeter struct {
	conn *pgx.Conn // the administrator's, to find the backends
}

func newCPUMeter(tb testing.TB, adminURL string) *cpuMeter {
	tb.Helper()
	if _, err := os.Stat("/proc/self/schedstat"); err != nil {
		return nil // not Linux, or no schedstat: throughput only
	}
	conn, err := pgx.Connect(context.Background(), withAppName(tb, adminURL, "wanjia-bench-meter"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = conn.Close(context.Background()) })
	return &cpuMeter{conn: conn}
}

// sample is the CPU time so far of this process and of the backends named
// app (by pid), or ok false when a backend's cannot be read (PostgreSQL
// on another machine).
func (m *cpuMeter) sample(app string) (self time.Duration, backends map[int]time.Duration, ok bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, nil, false
	}
	self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	rows, err := m.conn.Query(context.Background(), "SELECT pid FROM pg_stat_activity WHERE application_name = $1", app)
	if err != nil {
		return 0, nil, false
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return 0, nil, false
	}
	backends = make(map[int]time.Duration, len(pids))
	for _, pid := range pids {
		raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/schedstat")
		if err != nil {
			return 0, nil, false
		}
		f := strings.Fields(string(raw))
		if len(f) == 0 {
			return 0, nil, false
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, nil, false
		}
		backends[pid] = time.Duration(ns)
	}
	return self, backends, true
}

// since is the CPU time spent since an earlier sample: a backend that
// started in between counts from zero, one that ended is lost (rare: the
// pools keep their connections).
func since(self0, self1 time.Duration, b0, b1 map[int]time.Duration) time.Duration {
	d := self1 - self0
	for pid, t := range b1 {
		d += t - b0[pid]
	}
	return d
}

// drive sends b.N GETs in all from clients goroutines sharing one
// keep-alive client, times each, and reports throughput and latency.
func drive(b *testing.B, s benchServer, clients int) {
	tr := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	get := func() error {
		req, err := http.NewRequest(http.MethodGet, s.url, nil)
		if err != nil {
			return err
		}
		if s.token != "" {
			req.Header.Set("Authorization", "Bearer "+s.token)
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		n, err := io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK || n == 0 {
			return fmt.Errorf("GET %s: status %d, %d bytes", s.url, resp.StatusCode, n)
		}
		return nil
	}

	var (
		wg       sync.WaitGroup
		firstErr atomic.Pointer[error]
	)
	fail := func(err error) { firstErr.CompareAndSwap(nil, &err) }
	// Warm up outside the timing: open the clients' connections.
	for range clients {
		wg.Go(func() {
			for range 2 {
				if err := get(); err != nil {
					fail(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := firstErr.Load(); err != nil {
		b.Fatalf("warm-up: %v", *err)
	}

	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var (
		self0   time.Duration
		cpu0    map[int]time.Duration
		metered bool
	)
	if s.cpu != nil {
		self0, cpu0, metered = s.cpu.sample(s.backends)
	}
	b.ResetTimer()
	start := time.Now()
	for range min(clients, b.N) {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(len(lat)) || firstErr.Load() != nil {
					return
				}
				t0 := time.Now()
				if err := get(); err != nil {
					fail(err)
					return
				}
				lat[i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if metered {
		if self1, cpu1, ok := s.cpu.sample(s.backends); ok {
			b.ReportMetric(float64(since(self0, self1, cpu0, cpu1).Microseconds())/float64(len(lat)), "cpu-us/req")
			// The backends' share alone: what the server side costs, apart
			// from this process (whose figure the client is part of).
			b.ReportMetric(float64(since(0, 0, cpu0, cpu1).Microseconds())/float64(len(lat)), "pg-us/req")
		}
	}
	if err := firstErr.Load(); err != nil {
		b.Fatal(*err)
	}
	slices.Sort(lat)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "req/s")
	b.ReportMetric(ms(quantile(lat, 0.50)), "p50-ms")
	b.ReportMetric(ms(quantile(lat, 0.99)), "p99-ms")
}

// quantile is the nearest-rank quantile q of sorted durations.
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// adminPool is a pgx pool on the benchmark's schema as the administrator,
// whom row security does not bind. It has wanjia's pool size (store.Open's
// default of 20) and uses the simple protocol as wanjia does, so that the
// difference measured is the stack, not the wire protocol.
func adminPool(tb testing.TB, adminURL string) *pgxpool.Pool {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(adminURL)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.MaxConns = 20
	cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	cfg.ConnConfig.RuntimeParams["application_name"] = bareAppName
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

type bareTenant struct{ id, path string }

func loadTenants(tb testing.TB, pool *pgxpool.Pool) map[string]bareTenant {
	tb.Helper()
	rows, err := pool.Query(context.Background(), "SELECT slug, id, path FROM orgs WHERE kind = 'community'")
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bareTenant{}
	for rows.Next() {
		var slug string
		var t bareTenant
		if err := rows.Scan(&slug, &t.id, &t.path); err != nil {
			tb.Fatal(err)
		}
		out[slug] = t
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

type bareActor struct{ userID, username, role string }

// bareMode is what a bare handler does around the page.
type bareMode int

const (
	bareSelect bareMode = iota // the page alone: one statement, one round trip
	bareTx                     // wanjia's list before reads were audited in batches
	// bareReadTx is the page in the transaction wanjia's reads have: an
	// opening of "BEGIN READ ONLY" and the tenant's set_config in one
	// message, the page, COMMIT (three round trips).
	bareReadTx
	// bareBatch binds the tenant and reads the page in one pgx.Batch: one
	// message (pgx joins a simple-protocol batch into one query string),
	// which PostgreSQL runs as one implicit transaction, so set_config(…,
	// true) holds for the page. One round trip.
	bareBatch
)

// bareHouseholds is the list of households with nothing around it: no
// authentication, no middleware, one pgx pool.
type bareHouseholds struct {
	pool    *pgxpool.Pool
	tenants map[string]bareTenant
	actor   bareActor
	mode    bareMode
}

func (h *bareHouseholds) engine() *gin.Engine {
	e := gin.New()
	e.GET("/api/v1/orgs/:org/households", h.list)
	return e
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

const bareListSQL = `SELECT h.id, g.slug, h.building_id, h.unit, h.room, h.address, h.phone, h.tags, h.notes, h.created_at, h.updated_at
	FROM households h JOIN grids g ON g.tenant_id = h.tenant_id AND g.id = h.grid_id
	WHERE h.tenant_id = $1 AND h.deleted_at IS NULL
	ORDER BY h.id LIMIT $2`

func (h *bareHouseholds) list(c *gin.Context) {
	t, ok := h.tenants[c.Param("org")]
	if !ok {
		c.AbortWithStatus(http.StatusNotFound)
		return
	}
	limit := 50
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			c.AbortWithStatus(http.StatusUnprocessableEntity)
			return
		}
		limit = n
	}
	ctx := c.Request.Context()
	var page householdPage
	var err error
	switch h.mode {
	case bareSelect:
		page, err = bareList(ctx, h.pool, t.id, limit)
	case bareReadTx:
		page, err = bareReadTxList(ctx, h.pool, t.id, limit)
	case bareBatch:
		page, err = bareBatchList(ctx, h.pool, t.id, limit)
	case bareTx:
		err = pgx.BeginFunc(ctx, h.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT set_config('app.tenant_id', $1, true)", t.id); err != nil {
				return err
			}
			// The grids as wanjia loaded them; the page below still joins
			// for the slugs, so that bare-tx is bare-select plus the extra
			// work and nothing else changes.
			rows, err := tx.Query(ctx, "SELECT id, slug FROM grids WHERE tenant_id = $1", t.id)
			if err != nil {
				return err
			}
			grids := map[string]string{}
			for rows.Next() {
				var id, slug string
				if err := rows.Scan(&id, &slug); err != nil {
					rows.Close()
					return err
				}
				grids[id] = slug
			}
			if err := rows.Err(); err != nil {
				return err
			}
			if page, err = bareList(ctx, tx, t.id, limit); err != nil {
				return err
			}
			ids := make([]string, len(page.Items))
			for i, it := range page.Items {
				ids[i] = it.ID
			}
			details, err := json.Marshal(map[string]any{"count": len(ids), "ids": ids, "masked": false})
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `INSERT INTO audit_log (id, org_path, at, actor_id, actor, role, org, action, resource, resource_id, ip, request_id, details)
				VALUES ($1, $2, $3, $4, $5, $6, $7, 'view', 'households', 'list', $8, $9, $10)`,
				uuid.Must(uuid.NewV7()).String(), t.path, time.Now().UTC(), h.actor.userID, h.actor.username, h.actor.role,
				c.Param("org"), c.ClientIP(), uuid.NewString(), string(details))
			return err
		})
	}
	if err != nil {
		c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
		return
	}
	c.JSON(http.StatusOK, page)
}

// bareReadTxList is bareList in a read-only transaction bound to the
// tenant, begun in one message as store's pgConn begins it.
func bareReadTxList(ctx context.Context, pool *pgxpool.Pool, tenantID string, limit int) (householdPage, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return householdPage{}, err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "BEGIN READ ONLY; SELECT set_config('app.tenant_id', $1, true)", tenantID); err != nil {
		return householdPage{}, err
	}
	page, err := bareList(ctx, conn, tenantID, limit)
	if err != nil {
		_, _ = conn.Exec(ctx, "ROLLBACK")
		return householdPage{}, err
	}
	_, err = conn.Exec(ctx, "COMMIT")
	return page, err
}

// bareBatchList binds the tenant and reads the page in one pgx.Batch.
func bareBatchList(ctx context.Context, pool *pgxpool.Pool, tenantID string, limit int) (page householdPage, err error) {
	var b pgx.Batch
	b.Queue("SELECT set_config('app.tenant_id', $1, true)", tenantID)
	b.Queue(bareListSQL, tenantID, limit+1)
	br := pool.SendBatch(ctx, &b)
	defer func() {
		if cerr := br.Close(); err == nil {
			err = cerr
		}
	}()
	if _, err := br.Exec(); err != nil {
		return householdPage{}, err
	}
	return bareList(ctx, batchQuerier{br}, tenantID, limit)
}

// batchQuerier reads the next result of a batch as a query's rows (the
// query itself was queued in the batch).
type batchQuerier struct{ br pgx.BatchResults }

func (q batchQuerier) Query(context.Context, string, ...any) (pgx.Rows, error) { return q.br.Query() }

// bareList reads one page of a tenant's live households, by id, with the
// slug of each one's grid, into the views wanjia answers with.
func bareList(ctx context.Context, q querier, tenantID string, limit int) (householdPage, error) {
	rows, err := q.Query(ctx, bareListSQL, tenantID, limit+1)
	if err != nil {
		return householdPage{}, err
	}
	defer rows.Close()
	items := make([]roster.HouseholdView, 0, limit+1)
	for rows.Next() {
		var v roster.HouseholdView
		var building *string
		if err := rows.Scan(&v.ID, &v.Grid, &building, &v.Unit, &v.Room, &v.Address, &v.Phone, &v.Tags, &v.Notes,
			&v.CreatedAt, &v.UpdatedAt); err != nil {
			return householdPage{}, err
		}
		if building != nil {
			v.BuildingID = *building
		}
		if v.Tags == nil {
			v.Tags = []string{}
		}
		v.CreatedAt, v.UpdatedAt = v.CreatedAt.UTC(), v.UpdatedAt.UTC()
		items = append(items, v)
	}
	if err := rows.Err(); err != nil {
		return householdPage{}, err
	}
	page := householdPage{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		page.NextCursor = page.Items[limit-1].ID
	}
	return page, nil
}
