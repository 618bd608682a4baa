package console_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/store"
)

// gate is a listener the test takes off the network: down, it closes
// every connection it handed out and every new one, as a stairwell does.
type gate struct {
	net.Listener
	mu    sync.Mutex
	down  bool
	conns []net.Conn
}

func (g *gate) Accept() (net.Conn, error) {
	for {
		c, err := g.Listener.Accept()
		if err != nil {
			return nil, err
		}
		g.mu.Lock()
		if g.down {
			g.mu.Unlock()
			_ = c.Close()
			continue
		}
		g.conns = append(g.conns, c)
		g.mu.Unlock()
		return c, nil
	}
}

func (g *gate) set(down bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.down = down
	if down {
		for _, c := range g.conns {
			_ = c.Close()
		}
		g.conns = nil
	}
}

// offline puts the tab (and its service worker) off or on the network,
// navigator.onLine included, and the server with it.
func offline(gt *gate, off bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if off {
			gt.set(true)
		}
		yes := true
		if _, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			EmulateOfflineServiceWorker: &yes,
			MatchedNetworkConditions:    []*network.Conditions{{Offline: off, DownloadThroughput: -1, UploadThroughput: -1}},
		}); err != nil {
			return err
		}
		if _, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{
			Offline: off, DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
			return err
		}
		if !off {
			gt.set(false)
		}
		return nil
	})
}

// count is a number the database holds, across tenants.
func count(t testing.TB, a *testApp, table, where string, args ...any) int {
	t.Helper()
	var n int64
	err := a.DB.AcrossTenants(context.Background(), "test", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		var err error
		n, err = tx.NewSelect().TableExpr(table).Where(where, args...).Count(ctx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// TestBrowserOffline: yucai.grid1 downloads its call list and check-in
// list, loses the network, records three attempts and a check-in, reloads
// (the service worker answers with the offline lists), and is back: each
// is stored exactly once, one of them after an answer lost on the way
// (sent again under its key), and the badge clears. Then 100 records are
// synced against the clock.
func TestBrowserOffline(t *testing.T) {
	chromiumPath(t)
	gt := &gate{}
	a := startAppOn(t, func(ln net.Listener) net.Listener { gt.Listener = ln; return gt })
	id := startScreening(t, a.Base, "离线排查", "yucai-g1")
	staff := client(t)
	httpSignIn(t, staff, a.Base, "yucai.staff")
	caseID := openCase(t, staff, a.Base, residentIn(t, staff, a.Base, "yucai-g1", 0), "", "")

	ctx := browser(t, 360, 740, 120*time.Second)
	do(t, ctx, "phone screen", phone())
	do(t, ctx, "sign in", signIn(a.Base, "yucai.grid1"))
	calls := a.Base + "/console/orgs/yucai/screenings/" + id + "/calls"
	do(t, ctx, "the call list", chromedp.Navigate(calls), chromedp.WaitVisible(css(`#offline-download`)))
	if ok := val(t, ctx, "the service worker", chromedp.Evaluate[bool](`navigator.serviceWorker.ready.then(() => navigator.serviceWorker.controller ? true :
		new Promise(r => navigator.serviceWorker.addEventListener("controllerchange", () => r(true))))`, chromedp.EvalAwaitPromise)); !ok {
		t.Fatal("no service worker controls the call list")
	}
	do(t, ctx, "download for offline", chromedp.Click(css(`#offline-download`)),
		chromedp.WaitVisible(chromedp.Search(`//span[@id="offline-status" and contains(., "已下载")]`)))

	do(t, ctx, "the network goes", offline(gt, true))
	do(t, ctx, "reload offline: the shell", chromedp.Reload(), chromedp.WaitVisible(css(`#offline-app .offline-task`)))
	for i := range 3 {
		do(t, ctx, fmt.Sprintf("attempt %d", i+1),
			chromedp.Click(css(`#offline-app .offline-task:not(:has(.notice)) button[data-outcome="no_answer"]`)),
			chromedp.WaitVisible(chromedp.Search(fmt.Sprintf(`//span[@id="offline-badge" and @data-n="%d"]`, i+1))))
	}
	do(t, ctx, "a check-in",
		chromedp.SendKeys(css(`.offline-case[data-case="`+caseID+`"] input[name=temperature]`), "36.6"),
		chromedp.Click(css(`.offline-case[data-case="`+caseID+`"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.Search(`//span[@id="offline-badge" and @data-n="4"]`)))
	do(t, ctx, "reload, still offline", chromedp.Reload(),
		chromedp.WaitVisible(chromedp.Search(`//span[@id="offline-badge" and @data-n="4"]`)),
		chromedp.WaitVisible(css(`#offline-app .offline-task`)))
	if n := val(t, ctx, "recorded cards", chromedp.Evaluate[int](`document.querySelectorAll("#offline-app .notice").length`)); n != 4 {
		t.Fatalf("%d cards show a record waiting, want 4", n)
	}

	// The server is back; the tab does not know yet. The first record is
	// sent as a sync whose answer was lost would have sent it: stored,
	// still waiting in the tab.
	gt.set(false)
	first := val(t, ctx, "the first record", chromedp.Evaluate[map[string]any](`(async () => {
		const q = await wanjiaOffline.queue(); q.sort((a, b) => a.at - b.at); return q[0]; })()`, chromedp.EvalAwaitPromise))
	cookies := val(t, ctx, "the cookie", chromedp.Action[[]*network.Cookie](func(ctx context.Context, _ *chromedp.Target) ([]*network.Cookie, error) {
		res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{a.Base + "/console/"}})
		return res.Cookies, err
	}))
	send := func(method, u string, form url.Values) (int, string) {
		req, _ := http.NewRequest(method, a.Base+u, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Wanjia-Offline", "1")
		for _, ck := range cookies {
			req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	_, session := send(http.MethodGet, "/console/orgs/yucai/offline/session", nil)
	csrf := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(session), `{"csrf":"`), `"}`)
	form := url.Values{"csrf": {csrf}}
	for k, v := range first["fields"].(map[string]any) {
		form.Set(k, fmt.Sprint(v))
	}
	if status, body := send(http.MethodPost, first["url"].(string), form); status != http.StatusOK || !strings.Contains(body, `"stored":true`) {
		t.Fatalf("the first send: %d %s", status, body)
	}

	do(t, ctx, "the network is back", offline(gt, false),
		chromedp.WaitVisible(chromedp.Search(`//span[@id="offline-badge" and @data-n="0"]`)))
	if hidden := val(t, ctx, "the badge", chromedp.Evaluate[bool](`document.getElementById("offline-badge").hidden`)); !hidden {
		t.Fatal("the badge still shows")
	}
	if failed := val(t, ctx, "refused", chromedp.Evaluate[string](`document.getElementById("offline-failed").textContent`)); failed != "" {
		t.Fatalf("refused after sync: %q", failed)
	}
	if n, tasks := count(t, a, "attempts", "screening_id = ?", id), count(t, a, "screening_tasks", "screening_id = ? AND attempts = 1", id); n != 3 || tasks != 3 {
		t.Fatalf("%d attempts on %d tasks stored, want 3 on 3 (each exactly once)", n, tasks)
	}
	if n := count(t, a, "isolation_checkins", "case_id = ?", caseID); n != 1 {
		t.Fatalf("%d check-ins stored, want 1", n)
	}
	noProblems(t, ctx)

	// 100 records made offline, synced when the network is back.
	do(t, ctx, "offline again", offline(gt, true))
	do(t, ctx, "100 records", chromedp.Evaluate[chromedp.Void](`(async () => {
		const ls = (await wanjiaOffline.lists()).filter(l => l.data.tasks);
		const tasks = ls[0].data.tasks, sc = ls[0].data.screening, org = document.getElementById("offline-bar").dataset.org;
		for (let i = 0; i < 100; i++) {
			const t = tasks[i % tasks.length], key = wanjiaOffline.newKey();
			await wanjiaOffline.record({key: key, ref: "bench:" + i, label: "#" + i,
				url: org + "/screenings/" + sc.id + "/tasks/" + t.id + "/attempts",
				fields: {idempotency_key: key, method: "phone", outcome: "no_answer", from: "list"}});
		}
	})()`, chromedp.EvalAwaitPromise),
		chromedp.WaitVisible(chromedp.Search(`//span[@id="offline-badge" and @data-n="100"]`)))
	start := time.Now()
	do(t, ctx, "sync 100", offline(gt, false), chromedp.WaitVisible(chromedp.Search(`//span[@id="offline-badge" and @data-n="0"]`)))
	took := time.Since(start)
	t.Logf("synced 100 offline attempts in %v", took.Round(time.Millisecond))
	if n := count(t, a, "attempts", "screening_id = ?", id); n != 103 {
		t.Fatalf("%d attempts after syncing 100 more, want 103", n)
	}
	if took > 5*time.Second {
		t.Fatalf("syncing 100 attempts took %v, want under 5 s", took)
	}
}

// BenchmarkBrowserOfflineSync measures the third goal: 100
// attempts recorded offline are sent when the network is back, from the
// moment it is to the badge clearing (goal: under 5 s; sync-ms). Each
// iteration records 100 more. Run it with WANJIA_BROWSER=1:
//
//	WANJIA_BROWSER=1 go test -run '^$' -bench BrowserOfflineSync -benchtime 3x ./pkg/console/
func BenchmarkBrowserOfflineSync(b *testing.B) {
	chromiumPath(b)
	gt := &gate{}
	a := startAppOn(b, func(ln net.Listener) net.Listener { gt.Listener = ln; return gt })
	id := startScreening(b, a.Base, "离线同步", "yucai-g1")
	ctx := browser(b, 360, 740, 5*time.Minute)
	do(b, ctx, "phone screen", phone())
	do(b, ctx, "sign in", signIn(a.Base, "yucai.grid1"))
	do(b, ctx, "the call list", chromedp.Navigate(a.Base+"/console/orgs/yucai/screenings/"+id+"/calls"), chromedp.WaitVisible(css(`#offline-download`)))
	do(b, ctx, "download for offline", chromedp.Click(css(`#offline-download`)),
		chromedp.WaitVisible(chromedp.Search(`//span[@id="offline-status" and contains(., "已下载")]`)))
	var took time.Duration
	n := 0
	for b.Loop() {
		do(b, ctx, "offline", offline(gt, true))
		do(b, ctx, "100 records", chromedp.Evaluate[chromedp.Void](`(async () => {
			const ls = (await wanjiaOffline.lists()).filter(l => l.data.tasks);
			const tasks = ls[0].data.tasks, sc = ls[0].data.screening, org = document.getElementById("offline-bar").dataset.org;
			for (let i = 0; i < 100; i++) {
				const t = tasks[i % tasks.length], key = wanjiaOffline.newKey();
				await wanjiaOffline.record({key: key, ref: "bench:" + i, label: "#" + i,
					url: org + "/screenings/" + sc.id + "/tasks/" + t.id + "/attempts",
					fields: {idempotency_key: key, method: "phone", outcome: "no_answer", from: "list"}});
			}
		})()`, chromedp.EvalAwaitPromise),
			chromedp.WaitVisible(chromedp.Search(`//span[@id="offline-badge" and @data-n="100"]`)))
		start := time.Now()
		do(b, ctx, "sync 100", offline(gt, false), chromedp.WaitVisible(chromedp.Search(`//span[@id="offline-badge" and @data-n="0"]`)))
		took += time.Since(start)
		n++
		if got := count(b, a, "attempts", "screening_id = ?", id); got != 100*n {
			b.Fatalf("%d attempts stored after %d syncs of 100", got, n)
		}
	}
	b.ReportMetric(float64(took.Milliseconds())/float64(n), "sync-ms")
}
