package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/app"
	"github.com/wanjia/wanjia/pkg/config"
	"github.com/wanjia/wanjia/pkg/queue/queuetest"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

const demoPassword = "demo-pass-123"

func TestMain(m *testing.M) { storetest.Main(m) }

// newApp opens a whole app (all parts) on a fresh database and Redis.
// change may adjust the config first. The database is a copy of a
// migrated one, which Open finds with nothing to apply.
func newApp(t *testing.T, change func(*config.Config)) *app.App {
	t.Helper()
	dbURL, dir := storetest.FreshMigrated(t)
	return newAppWithDB(t, dbURL, dir, change)
}

// newDemoApp is newApp on a copy of the demo district (see demo): as if
// ApplyDemo had run on it, without paying for it again.
func newDemoApp(t *testing.T, change func(*config.Config)) *app.App {
	t.Helper()
	dbURL, dir := demo.Fresh(t)
	return newAppWithDB(t, dbURL, dir, change)
}

// demo is the demo district as ApplyDemo loads it, with the tests'
// passwords and secret key (the signing keys are sealed under it), built
// once per run and copied for each test.
var demo = storetest.NewGolden("demo", func(t testing.TB, dbURL, dir string) error {
	cfg := testConfig(t, dbURL, dir)
	if err := cfg.Validate(); err != nil {
		return err
	}
	a, err := app.Open(context.Background(), cfg, app.All, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer a.Close()
	return a.ApplyDemo(context.Background())
})

// testConfig is the tests' configuration on the given database.
func testConfig(tb testing.TB, dbURL, dir string) *config.Config {
	return &config.Config{
		Addr: "127.0.0.1:0", DataDir: dir, DatabaseURL: dbURL, RedisURL: queuetest.URL(tb),
		BaseURL: "http://localhost:8080", SMSProvider: "log", LogLevel: "info",
		AdminPassword: "admin-pass-123", DemoPassword: demoPassword,
		SecretKey:       "wanjia-test-secret-key-0123456789abcdef",
		ShutdownTimeout: 5 * time.Second, Out: io.Discard,
	}
}

// newAppWithDB is newApp on a database the caller made (storetest.Fresh
// or FreshAdmin): the same configuration, with the given URL and data dir.
func newAppWithDB(tb testing.TB, dbURL, dir string, change func(*config.Config)) *app.App {
	tb.Helper()
	cfg := testConfig(tb, dbURL, dir)
	if change != nil {
		change(cfg)
	}
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	a, err := app.Open(context.Background(), cfg, app.All, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = a.Close() })
	return a
}

// do sends one request to the app's engine.
func do(t *testing.T, h http.Handler, method, path, token string, body any) *httptest.ResponseRecorder {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func login(t *testing.T, h http.Handler, username, password string) string {
	t.Helper()
	rec := do(t, h, http.MethodPost, "/api/v1/auth/login", "", map[string]string{"username": username, "password": password})
	if rec.Code != http.StatusOK {
		t.Fatalf("login %s: %d %s", username, rec.Code, rec.Body)
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return out.AccessToken
}

func TestReadinessFollowsRedis(t *testing.T) {
	t.Parallel()
	m := miniredis.RunT(t)
	a := newApp(t, func(c *config.Config) { c.RedisURL = "redis://" + m.Addr() })

	if rec := do(t, a.Engine, http.MethodGet, "/readyz", "", nil); rec.Code != http.StatusOK {
		t.Fatalf("readyz with redis up: %d %s", rec.Code, rec.Body)
	}
	m.Close()
	rec := do(t, a.Engine, http.MethodGet, "/readyz", "", nil)
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("readyz with redis down: %d %s", rec.Code, rec.Body)
	}
	var body struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
		Error  struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body.Checks["database"] != "ok" || body.Checks["redis"] == "ok" || body.Error.Code != "unavailable" {
		t.Fatalf("readyz body should name redis: %s", rec.Body)
	}
	// Sign-in does not need Redis: its throttle counts in the process
	// meanwhile, and does not wait out Redis's timeouts.
	start := time.Now()
	rec = do(t, a.Engine, http.MethodPost, "/api/v1/auth/login", "", map[string]string{"username": "admin", "password": "admin-pass-123"})
	if rec.Code != http.StatusOK || time.Since(start) > 2*time.Second {
		t.Fatalf("login with redis down: %d after %v: %s", rec.Code, time.Since(start), rec.Body)
	}

	if err := m.Restart(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if rec := do(t, a.Engine, http.MethodGet, "/readyz", "", nil); rec.Code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("readyz did not recover after redis came back")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if rec := do(t, a.Engine, http.MethodPost, "/api/v1/auth/login", "", map[string]string{"username": "admin", "password": "admin-pass-123"}); rec.Code != http.StatusOK {
		t.Fatalf("login after redis came back: %d %s", rec.Code, rec.Body)
	}
}

func TestGracefulShutdownFinishesInFlightRequest(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil)
	started := make(chan struct{})
	a.Engine.GET("/test/slow", func(c *gin.Context) {
		close(started)
		time.Sleep(700 * time.Millisecond)
		c.String(http.StatusOK, "finished")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, ln) }()

	base := "http://" + ln.Addr().String()
	type result struct {
		status int
		body   string
		err    error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.Get(base + "/test/slow")
		if err != nil {
			res <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		res <- result{status: resp.StatusCode, body: string(b)}
	}()
	<-started
	cancel() // SIGTERM arrives while the request is in flight

	r := <-res
	if r.err != nil || r.status != http.StatusOK || r.body != "finished" {
		t.Fatalf("in-flight request: %+v", r)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after shutdown")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("the listener still accepts after shutdown")
	}
}

func TestMetricsExposeHTTPQueuesAndRuntime(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil)
	do(t, a.Engine, http.MethodGet, "/healthz", "", nil)
	do(t, a.Engine, http.MethodGet, "/no/such/route", "", nil)
	body := scrape(t, a)
	for _, want := range []string{
		`wanjia_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
		`route="unmatched",status="404"`,
		`wanjia_http_request_duration_seconds_bucket`,
		`wanjia_queue_tasks{queue="critical",state="pending"}`,
		`wanjia_queue_up 1`,
		`wanjia_pending_work{kind="import",status="queued"} 0`,
		`wanjia_pending_work_up 1`,
		`wanjia_login_throttled_total 0`,
		`go_goroutines`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// scrape reads the process's metrics as Prometheus does, from the handler
// served on WANJIA_METRICS_ADDR.
func scrape(t *testing.T, a *app.App) string {
	t.Helper()
	rec := httptest.NewRecorder()
	a.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("metrics: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

// TestMetricsOffThePublicPort: the public listener (API and console)
// answers /metrics with a 404; Run serves it on its own listener.
func TestMetricsOffThePublicPort(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil)
	for _, path := range []string{"/metrics", "/metrics/", "/console/metrics"} {
		rec := httptest.NewRecorder()
		a.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusNotFound || strings.Contains(rec.Body.String(), "go_goroutines") {
			t.Fatalf("GET %s on the public port: %d %.200s", path, rec.Code, rec.Body)
		}
	}
}

// TestPasswordsFromEnvironmentApply: WANJIA_ADMIN_PASSWORD and
// WANJIA_DEMO_PASSWORD changed between starts take effect; the old ones
// stop working.
func TestPasswordsFromEnvironmentApply(t *testing.T) {
	t.Parallel()
	var cfg config.Config
	// The demo loaded with the first passwords (see demo).
	first := newDemoApp(t, func(c *config.Config) { cfg = *c })
	_ = first.Close()

	cfg.AdminPassword, cfg.DemoPassword = "admin-pass-456", "demo-pass-456"
	second, err := app.Open(context.Background(), &cfg, app.All, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if err := second.ApplyDemo(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ user, old, new string }{
		{"admin", "admin-pass-123", "admin-pass-456"},
		{"yucai.staff", demoPassword, "demo-pass-456"},
	} {
		if rec := do(t, second.Engine, http.MethodPost, "/api/v1/auth/login", "", map[string]string{"username": c.user, "password": c.old}); rec.Code != http.StatusUnauthorized {
			t.Errorf("%s with the old password: %d", c.user, rec.Code)
		}
		login(t, second.Engine, c.user, c.new)
	}
}
