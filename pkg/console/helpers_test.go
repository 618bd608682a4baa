package console_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/wanjia/wanjia/pkg/app"
	"github.com/wanjia/wanjia/pkg/config"
	"github.com/wanjia/wanjia/pkg/queue/queuetest"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// demoPassword is the demo users' password in tests (as in pkg/app's).
const demoPassword = "demo-pass-123"

func TestMain(m *testing.M) { storetest.Main(m) }

// testApp is a whole app with the demo district, serving on a real
// listener, as `wanjia all --demo` does.
type testApp struct {
	*app.App
	Base string // http://127.0.0.1:port
}

// testConfig is the tests' configuration on the given database.
func testConfig(tb testing.TB, dbURL, dir string) (*config.Config, error) {
	cfg := &config.Config{
		Addr: "127.0.0.1:0", DataDir: dir, DatabaseURL: dbURL, RedisURL: queuetest.URL(tb),
		BaseURL: "http://localhost:8080", SMSProvider: "log", LogLevel: "info",
		AdminPassword: "admin-pass-123", DemoPassword: demoPassword,
		SecretKey:       "wanjia-test-secret-key-0123456789abcdef",
		ShutdownTimeout: 5 * time.Second, Out: io.Discard,
		// The demo's grid 2 alone has some 1,400 phones: at the default
		// rate of 50 a second a campaign to it would take half a minute.
		SMSRate: 500,
	}
	return cfg, cfg.Validate()
}

// demo is the demo district as ApplyDemo loads it, with the tests'
// passwords and secret key (the signing keys are sealed under it), built
// once per run and copied for each test.
var demo = storetest.NewGolden("demo", func(t testing.TB, dbURL, dir string) error {
	cfg, err := testConfig(t, dbURL, dir)
	if err != nil {
		return err
	}
	a, err := app.Open(context.Background(), cfg, app.All, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer a.Close()
	return a.ApplyDemo(context.Background())
})

// startApp opens the app on a copy of the demo district (PostgreSQL when
// WANJIA_TEST_DATABASE_URL is set) and a fresh Redis, and serves it until
// the test ends. change, if any, adjusts the configuration first.
func startApp(t testing.TB, change ...func(*config.Config)) *testApp {
	t.Helper()
	return startAppOn(t, nil, change...)
}

// startAppOn is startApp serving through wrap's listener (nil: the bare
// one), for a test that takes the server off the network.
func startAppOn(t testing.TB, wrap func(net.Listener) net.Listener, change ...func(*config.Config)) *testApp {
	t.Helper()
	dbURL, dir := demo.Fresh(t)
	cfg, err := testConfig(t, dbURL, dir)
	for _, ch := range change {
		ch(cfg)
	}
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(context.Background(), cfg, app.All, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if wrap != nil {
		ln = wrap(ln)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		_ = a.Close()
	})
	return &testApp{App: a, Base: "http://" + ln.Addr().String()}
}

// chromiumPath finds Debian's chromium (or WANJIA_CHROMIUM). The browser
// tests run once, in a step of their own (make test-browser sets
// WANJIA_BROWSER=1 and runs the tests named TestBrowser…), not in the
// suite's passes: elsewhere they skip. Asked for, they need chromium.
func chromiumPath(t testing.TB) string {
	t.Helper()
	if !strings.HasPrefix(t.Name(), "TestBrowser") && !strings.HasPrefix(t.Name(), "BenchmarkBrowser") && !strings.HasPrefix(t.Name(), "TestScreenshots") {
		t.Fatalf("%s drives a browser: name it TestBrowser… (make test-browser runs them) or BenchmarkBrowser…", t.Name())
	}
	if os.Getenv("WANJIA_BROWSER") == "" && os.Getenv("WANJIA_SCREENSHOTS") == "" {
		t.Skip("a browser test: set WANJIA_BROWSER=1 (make test-browser) to run it")
	}
	if p := os.Getenv("WANJIA_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no chromium on this machine (apt-get install chromium, or set WANJIA_CHROMIUM)")
	return ""
}

// browser starts a fresh headless chromium (its own profile, so no
// cookies carry over) with a window of width×height, and returns a tab's
// context, which ends with the test or after limit.
func browser(t testing.TB, width, height int, limit time.Duration) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("accept-lang", "zh-CN"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, limit)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // start the browser now, so its start-up shows as such
		t.Fatalf("start chromium: %v", err)
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: watchProblems}); err != nil {
		t.Fatalf("watch the pages: %v", err)
	}
	return ctx
}

// watchProblems collects, in every page, what the content security
// policy refused and any script error (htmx's included).
const watchProblems = `window.__problems = [];
document.addEventListener("securitypolicyviolation", e => window.__problems.push("CSP " + e.violatedDirective + " " + e.blockedURI));
window.addEventListener("error", e => window.__problems.push("error " + e.message));
document.addEventListener("htmx:responseError", e => window.__problems.push("htmx " + e.detail.xhr.status));`

// noProblems fails the test if the page in the tab met any (see watchProblems).
func noProblems(t testing.TB, ctx context.Context) {
	t.Helper()
	if p := val(t, ctx, "the page's problems", chromedp.Evaluate[[]string](`window.__problems || []`)); len(p) > 0 {
		t.Fatalf("the page met problems: %q", p)
	}
	// The page's assets, as they came over the wire (gzipped; a cold call
	// list as a whole is held to 30 KB by TestColdCallListWeight).
	// htmx's requests are the page's data, not its assets: a page that
	// polls while work goes on fetches more the longer the work takes.
	weight := val(t, ctx, "the page's assets", chromedp.Evaluate[float64](
		`performance.getEntriesByType("resource").filter(e => e.initiatorType !== "xmlhttprequest" && e.initiatorType !== "fetch")
			.reduce((n, e) => n + (e.transferSize || e.encodedBodySize || 0), 0)`))
	if weight > maxAssetBytes {
		t.Fatalf("the page loaded %.0f bytes of assets, over the %d-byte budget", weight, maxAssetBytes)
	}
}

// maxAssetBytes is the console's budget of assets per page (100 KiB):
// offices on slow lines and grid workers on phones load it.
const maxAssetBytes = 100 << 10

// phone makes the tab a 360×740 phone screen.
func phone() chromedp.Action[chromedp.Void] {
	return chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile, chromedp.EmulateScale(2))
}

// signIn signs in through the sign-in page and waits for the first page.
func signIn(base, username string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(base+"/console/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=username]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), username),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), demoPassword),
		chromedp.Click(chromedp.CSS(`form.form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav.menu`)),
	)
}

// do runs steps in ctx, failing the test with what was being done.
func do(t testing.TB, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	val(t, ctx, what, chromedp.Steps(steps...))
}

// val runs one action in ctx and returns its value.
func val[T any](t testing.TB, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s: the scenario ran out of its time", what)
		}
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// client is a plain HTTP client with its own cookies that does not
// follow redirects, for requests a browser would not make.
func client(t testing.TB) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	// 30 s: a campaign to a whole demo community writes some 5,000 outbox
	// rows in the request, which under -race on SQLite, beside the other
	// parallel tests on two cores, once took more than 10 s.
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// httpSignIn signs c in through the sign-in form, as a browser would.
func httpSignIn(t testing.TB, c *http.Client, base, username string) {
	t.Helper()
	resp, err := c.Get(base + "/console/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf field on the sign-in page")
	}
	resp, err = c.PostForm(base+"/console/login", url.Values{"username": {username}, "password": {demoPassword}, "csrf": {string(m[1])}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in %s: %d", username, resp.StatusCode)
	}
}

// get fetches a page with c and returns its status and body.
func get(t testing.TB, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// post sends a url-encoded form with c.
func post(t testing.TB, c *http.Client, u string, form url.Values) (int, string) {
	t.Helper()
	resp, err := c.Post(u, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// noQuietHours turns Yucai's quiet hours off (start = end) through the
// API, so that a test waiting for a message to go out does not depend on
// the time of day it runs at (21:00–08:00 in Shanghai holds it).
func noQuietHours(t testing.TB, base string) {
	t.Helper()
	token := apiLogin(t, base, "yucai.admin")
	code, b := api(t, base, token, http.MethodGet, "/api/v1/orgs/yucai", nil)
	var org struct {
		Settings map[string]any `json:"settings"`
	}
	if code != http.StatusOK || json.Unmarshal(b, &org) != nil || org.Settings == nil {
		t.Fatalf("yucai's settings: %d %s", code, b)
	}
	org.Settings["quiet_hours"] = map[string]any{"start": "00:00", "end": "00:00"}
	if code, b := api(t, base, token, http.MethodPatch, "/api/v1/orgs/yucai", map[string]any{"settings": org.Settings}); code != http.StatusOK {
		t.Fatalf("quiet hours off: %d %s", code, b)
	}
}
