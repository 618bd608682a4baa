package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"golang.org/x/sync/errgroup"

	"github.com/wanjia/wanjia/pkg/outreach/provider"
)

// Faults the drill can inject, in the order it injects them.
var allFaults = []string{"worker-kill", "redis-restart", "redis-flush", "api-kill", "pg-terminate", "pg-stop"}

// Config is what the flags set.
type Config struct {
	AdminURL    string
	Bin         string
	Communities int
	Households  int
	Residents   int // per community, each under isolation
	Messages    int // the day's notices, across the waves
	Duration    time.Duration
	Rate        float64 // multiplies the default rates of the mix
	Faults      []string
	Settle      time.Duration // how long to wait for the stack to finish its work after the traffic
	PGStop      time.Duration
	PGCtl       []string // the command that stops/starts the server (pg-stop): "<cmd> stop" / "<cmd> start"
	OwnPG       bool     // run on a cluster of the drill's own (-own-pg), which pg-stop stops
	ownPG       *OwnPG   // that cluster, once started
	KeepDir     bool
	Out         io.Writer
}

// Drill is one run.
type Drill struct {
	cfg    Config
	st     *Stack
	fp     *FakeProvider
	rec    *Recorder
	ledger *Ledger
	api    *API
	rt     *retrier
	comms  []*community
	window atomic.Value // string
	secret string

	campMu    sync.Mutex
	campaigns map[string]string // campaign id → window
	imports   []importCheck
	notes     []string
	failures  []string
}

type importCheck struct {
	window, org string
	want        int
	got         *importView
	err         error
}

func (d *Drill) logf(format string, args ...any) {
	fmt.Fprintf(d.cfg.Out, "load: "+format+"\n", args...)
}

func (d *Drill) fail(format string, args ...any) {
	d.failures = append(d.failures, fmt.Sprintf(format, args...))
}

func (d *Drill) win() string { return d.window.Load().(string) }

func randKey() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Run runs the drill: it returns an error when the stack could not be set
// up, and the verdict's failures otherwise. Everything it started is
// stopped, and its database dropped, before it returns.
func Run(ctx context.Context, cfg Config) (err error) {
	if cfg.Out == nil {
		cfg.Out = os.Stdout
	}
	dir, err := os.MkdirTemp("", "wanjia-load-")
	if err != nil {
		return err
	}
	d := &Drill{cfg: cfg, fp: NewFakeProvider(), rec: NewRecorder(), ledger: NewLedger(), campaigns: map[string]string{}, secret: "load-webhook-secret-" + randKey()}
	d.fp.Secret = d.secret
	d.window.Store("setup")
	d.st = &Stack{AdminURL: cfg.AdminURL, Bin: cfg.Bin, Dir: dir, OwnerRole: "wanjia_load_owner", AppRole: "wanjia_test_app"}
	defer func() {
		if cerr := d.st.Close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
		// A failed drill keeps its parts' logs, unless it failed before
		// any part started (an empty directory says nothing).
		if entries, _ := os.ReadDir(dir); (err != nil && len(entries) > 0) || cfg.KeepDir {
			fmt.Fprintf(cfg.Out, "load: logs of the parts kept in %s\n", dir)
		} else {
			_ = os.RemoveAll(dir)
		}
	}()
	start := time.Now()
	// The database first: where it cannot be made, nothing else starts.
	if err := d.st.CreateDatabase(ctx); err != nil {
		return err
	}
	d.logf("database %s created", d.st.DB)
	if err := d.setUp(ctx); err != nil {
		return err
	}
	d.logf("stack up and provisioned in %s", time.Since(start).Round(time.Second))
	if err := d.day(ctx); err != nil {
		return err
	}
	d.check(ctx)
	d.logf("drill took %s", time.Since(start).Round(time.Second))
	if len(d.failures) > 0 {
		return fmt.Errorf("verdict: FAIL\n  - %s", strings.Join(d.failures, "\n  - "))
	}
	fmt.Fprintln(cfg.Out, "verdict: PASS (0 lost, 0 doubled through every fault; every import right; the campaigns finished; the reports rolled up)")
	return nil
}

func (d *Drill) setUp(ctx context.Context) error {
	st := d.st
	if err := st.StartRedis(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: d.fp, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	go func() { <-ctx.Done(); _ = srv.Close() }()

	ports := [2]int{}
	for i := range ports {
		if ports[i], err = freePort(); err != nil {
			return err
		}
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	st.Env = []string{
		"WANJIA_REDIS_URL=" + st.RedisURL(),
		"WANJIA_SECRET_KEY=load-drill-secret-key-0123456789abcdefghijklmnop",
		"WANJIA_BASE_URL=" + base,
		"WANJIA_SMS_PROVIDER=webhook",
		"WANJIA_SMS_WEBHOOK_URL=http://" + ln.Addr().String() + "/send",
		"WANJIA_SMS_WEBHOOK_SECRET=" + d.secret,
		"WANJIA_TRUSTED_PROXIES=127.0.0.1",
		"WANJIA_LOG_LEVEL=warn",
		"WANJIA_LOG_FORMAT=text",
		"WANJIA_METRICS_ADDR=",
		"WANJIA_SHUTDOWN_TIMEOUT=5s",
		"WANJIA_ADMIN_PASSWORD=",
		"WANJIA_DEMO_PASSWORD=",
	}
	if _, err := st.Run(ctx, "migrate", []string{"WANJIA_DATABASE_URL=" + st.URL(st.OwnerRole, "wanjia-load-migrate")}, "migrate", "up"); err != nil {
		return err
	}
	appURL := func(name string) []string {
		return []string{"WANJIA_DATABASE_URL=" + st.URL(st.AppRole, "wanjia-load-"+name)}
	}
	subs := max(1, d.cfg.Communities/10)
	tdir := filepath.Join(st.Dir, "tenants")
	if d.comms, err = writeTenants(tdir, d.cfg.Communities, subs); err != nil {
		return err
	}
	if _, err := st.Run(ctx, "tenants", appURL("tenants"), "tenants", "apply", "--password", drillPassword, tdir); err != nil {
		return err
	}
	d.logf("migrated; %d communities in %d sub-districts applied", len(d.comms), subs)

	hosts := []string{fmt.Sprintf("127.0.0.1:%d", ports[0]), fmt.Sprintf("127.0.0.1:%d", ports[1])}
	// The first api replica alone first: on a fresh database each replica
	// makes the platform admin, and two at once collide (the second exits
	// on the unique key; a supervisor would start it again).
	for i := 1; i <= 2; i++ {
		for _, part := range []string{"serve", "worker", "scheduler"} {
			if i == 2 && part == "serve" {
				if err := waitReady(ctx, hosts[0], 60*time.Second); err != nil {
					return err
				}
			}
			name := fmt.Sprintf("%s-%d", part, i)
			env := appURL(name)
			if part == "serve" {
				env = append(env, "WANJIA_ADDR="+hosts[i-1])
			}
			if err := st.Start(&Proc{Name: name, Args: []string{part}, Env: env}); err != nil {
				return err
			}
		}
	}
	for _, h := range hosts[1:] {
		if err := waitReady(ctx, h, 60*time.Second); err != nil {
			return err
		}
	}
	d.rt = &retrier{
		base:    &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second},
		hosts:   hosts,
		ledger:  d.ledger,
		rec:     d.rec,
		window:  d.win,
		maxWait: 90 * time.Second,
	}
	d.api = &API{client: &http.Client{Transport: d.rt, Timeout: 120 * time.Second,
		// The link's form answers 303; its page is another request.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	d.logf("2 × serve, worker, scheduler running (api on %s and %s; redis on %d)", hosts[0], hosts[1], st.RedisPort)

	for _, c := range d.comms {
		if c.Token, err = login(ctx, d.api, c.Slug+".admin"); err != nil {
			return err
		}
	}
	// The roster, through the API's imports, every community at once.
	per := d.cfg.Households / len(d.comms)
	waves := len(d.cfg.Faults) + 1
	tagged := min(per, d.cfg.Messages/len(d.comms))
	t0 := time.Now()
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(len(d.comms))
	for i, c := range d.comms {
		g.Go(func() error {
			v, err := importFile(gctx, d.api, c, "households", householdsCSV(i+1, per, tagged, waves), 8*time.Minute)
			mu.Lock()
			d.imports = append(d.imports, importCheck{window: "setup", org: c.Slug, want: per, got: v, err: err})
			mu.Unlock()
			if err != nil {
				return err
			}
			v, err = importFile(gctx, d.api, c, "residents", residentsCSV(i+1, d.cfg.Residents), 2*time.Minute)
			mu.Lock()
			d.imports = append(d.imports, importCheck{window: "setup", org: c.Slug, want: d.cfg.Residents, got: v, err: err})
			mu.Unlock()
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("imports: %w", err)
	}
	el := time.Since(t0)
	d.notes = append(d.notes, fmt.Sprintf("imports: %d households and %d residents in %s (%.0f rows/s, 2 workers)",
		per*len(d.comms), d.cfg.Residents*len(d.comms), el.Round(time.Second), float64(per*len(d.comms)+d.cfg.Residents*len(d.comms))/el.Seconds()))
	d.logf("%s", d.notes[len(d.notes)-1])
	today := time.Now().In(shanghai).Format("2006-01-02")
	if err := prepare(ctx, d.api, d.comms, d.cfg.Residents, today); err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	// The residents under isolation get a notice first: a reply is taken
	// from a phone the community wrote to lately.
	ids, err := startCampaigns(ctx, d.api, d.comms, "isolation-notice", map[string]any{"tags": []string{"iso"}})
	if err != nil {
		return err
	}
	d.addCampaigns(ids, "setup")
	want := d.cfg.Residents * len(d.comms)
	for deadline := time.Now().Add(3 * time.Minute); d.fp.ArrivedSince(time.Time{}) < want; time.Sleep(500 * time.Millisecond) {
		if time.Now().After(deadline) {
			return fmt.Errorf("the isolation notice reached %d of %d phones in 3 minutes", d.fp.ArrivedSince(time.Time{}), want)
		}
	}
	time.Sleep(2 * time.Second) // the workers record sent_at after the provider answers
	return nil
}

var shanghai = func() *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return l
}()

func (d *Drill) addCampaigns(ids []string, window string) {
	d.campMu.Lock()
	defer d.campMu.Unlock()
	for _, id := range ids {
		d.campaigns[id] = window
	}
}

func waitReady(ctx context.Context, host string, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		resp, err := http.Get("http://" + host + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s", host, wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// target builders of the mix. Each names a community at random.

func (d *Drill) pick() (int, *community) {
	i := mrand.IntN(len(d.comms))
	return i, d.comms[i]
}

func (d *Drill) listTarget(t *vegeta.Target) error {
	_, c := d.pick()
	t.Method = "GET"
	t.URL = fmt.Sprintf("http://api/api/v1/orgs/%s/households?limit=50&grid=%s-g%d", c.Slug, c.Slug, mrand.IntN(5)+1)
	t.Header = http.Header{"Authorization": {"Bearer " + c.Token}, hdrKind: {"list"}}
	return nil
}

func (d *Drill) searchTarget(t *vegeta.Target) error {
	i, c := d.pick()
	t.Method = "GET"
	t.URL = fmt.Sprintf("http://api/api/v1/orgs/%s/households?limit=20&q=%s", c.Slug, url.QueryEscape(fmt.Sprintf("压测路%d号%d", i+1, mrand.IntN(300))))
	t.Header = http.Header{"Authorization": {"Bearer " + c.Token}, hdrKind: {"search"}}
	return nil
}

var taskNext atomic.Int64

func (d *Drill) attemptTarget(t *vegeta.Target) error {
	n := int(taskNext.Add(1))
	c := d.comms[n%len(d.comms)]
	if len(c.Tasks) == 0 {
		return vegeta.ErrNoTargets
	}
	path := c.Tasks[(n/len(d.comms))%len(c.Tasks)]
	key := randKey()
	d.ledger.Sent("attempt", key, d.win(), "")
	t.Method = "POST"
	t.URL = "http://api" + path
	t.Body, _ = json.Marshal(map[string]any{"method": "phone", "outcome": "no_answer", "notes": "load:" + key})
	t.Header = http.Header{"Authorization": {"Bearer " + c.Token}, "Content-Type": {"application/json"},
		"Idempotency-Key": {key}, hdrKind: {"attempt"}, hdrKey: {key}}
	return nil
}

// windowCases are the cases whose links window w uses: each window its
// own, so that a case's check-ins all count in one window.
func (d *Drill) windowCase(w string) (*community, caseRef) {
	ws := d.windows()
	wi := 0
	for i, x := range ws {
		if x == w {
			wi = i
		}
	}
	for {
		_, c := d.pick()
		var mine []caseRef
		for j, cs := range c.Cases {
			if j%len(ws) == wi {
				mine = append(mine, cs)
			}
		}
		if len(mine) > 0 {
			return c, mine[mrand.IntN(len(mine))]
		}
	}
}

func (d *Drill) windows() []string { return append([]string{"baseline"}, d.cfg.Faults...) }

var addrNext atomic.Uint32

func (d *Drill) linkTarget(t *vegeta.Target) error {
	w := d.win()
	_, cs := d.windowCase(w)
	key := randKey()
	d.ledger.Sent("checkin-link", key, w, cs.ID)
	csrf := randKey() + randKey()
	form := url.Values{"csrf": {csrf}, "idempotency_key": {key}, "temperature": {fmt.Sprintf("36.%d", mrand.IntN(8))}}
	a := addrNext.Add(1)
	t.Method = "POST"
	t.URL = "http://api/r/" + cs.Token + "/checkin"
	t.Body = []byte(form.Encode())
	t.Header = http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Cookie": {"wanjia_r=" + csrf},
		"X-Forwarded-For": {fmt.Sprintf("10.%d.%d.%d", a>>16&255, a>>8&255, a&255)}, hdrKind: {"checkin-link"}, hdrKey: {key}}
	return nil
}

func (d *Drill) smsTarget(t *vegeta.Target) error {
	_, cs := d.windowCase(d.win())
	key := "load-" + randKey()
	d.ledger.Sent("checkin-sms", key, d.win(), "")
	body, _ := json.Marshal(map[string]string{"from": cs.Phone, "text": fmt.Sprintf("36.%d", mrand.IntN(8)), "provider_id": key})
	now := time.Now()
	t.Method = "POST"
	t.URL = "http://api/hooks/sms/webhook/inbound"
	t.Body = body
	t.Header = http.Header{"Content-Type": {"application/json"}, provider.TimestampHeader: {strconv.FormatInt(now.Unix(), 10)},
		provider.SignatureHeader: {provider.Sign([]byte(d.secret), now, body)}, hdrKind: {"checkin-sms"}, hdrKey: {key}}
	return nil
}

// day replays the working day: the mix runs for the whole duration,
// which is cut into windows, the first without a fault, then one for each
// fault; each window starts its wave of notices, then injects its fault
// while the wave is being sent.
func (d *Drill) day(ctx context.Context) error {
	ws := d.windows()
	win := d.cfg.Duration / time.Duration(len(ws))
	sizeBefore := d.dbSize(ctx)
	atk := vegeta.NewAttacker(vegeta.Client(d.api.client), vegeta.Workers(8), vegeta.MaxWorkers(256))
	r := d.cfg.Rate
	mix := []struct {
		name string
		rate float64
		tr   vegeta.Targeter
	}{
		{"list", 8 * r, d.listTarget},
		{"search", 4 * r, d.searchTarget},
		{"attempt", 8 * r, d.attemptTarget},
		{"checkin-link", 4 * r, d.linkTarget},
		{"checkin-sms", 2 * r, d.smsTarget},
	}
	d.window.Store(ws[0])
	dayStart := time.Now()
	total := d.cfg.Duration
	for _, f := range d.cfg.Faults {
		if f == "pg-stop" {
			total += d.cfg.PGStop
		}
	}
	var wg sync.WaitGroup
	var requests atomic.Int64
	attackers := make([]*vegeta.Attacker, len(mix))
	for i, m := range mix {
		attackers[i] = atk
		if i > 0 {
			attackers[i] = vegeta.NewAttacker(vegeta.Client(d.api.client), vegeta.Workers(8), vegeta.MaxWorkers(256))
		}
		wg.Add(1)
		go func(a *vegeta.Attacker) {
			defer wg.Done()
			for range a.Attack(m.tr, vegeta.ConstantPacer{Freq: max(1, int(m.rate)), Per: time.Second}, total, m.name) {
				requests.Add(1)
			}
		}(attackers[i])
	}
	stopAll := func() {
		for _, a := range attackers {
			a.Stop()
		}
	}
	go func() { <-ctx.Done(); stopAll() }()

	var peakRedis atomic.Int64
	sampleDone := make(chan struct{})
	go func() {
		rc := d.st.Redis()
		defer rc.Close()
		for {
			select {
			case <-sampleDone:
				return
			case <-time.After(time.Second):
			}
			if info, err := rc.Info(context.Background(), "memory").Result(); err == nil {
				for _, line := range strings.Split(info, "\r\n") {
					if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
						if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > peakRedis.Load() {
							peakRedis.Store(n)
						}
					}
				}
			}
		}
	}()

	perWave := d.cfg.Messages / len(ws)
	for i, w := range ws {
		d.window.Store(w)
		wStart := time.Now()
		ids, err := startCampaigns(ctx, d.api, d.comms, "wave-"+w, map[string]any{"tags": []string{fmt.Sprintf("w%d", i)}})
		if err != nil {
			stopAll()
			return err
		}
		d.addCampaigns(ids, w)
		d.logf("window %s: %d campaigns started (~%d messages)", w, len(ids), perWave)
		sleepCtx(ctx, win/4)
		if w != "baseline" {
			if err := d.inject(ctx, w, win); err != nil {
				d.fail("fault %s: %v", w, err)
			}
		}
		sleepCtx(ctx, time.Until(wStart.Add(win)))
		if ctx.Err() != nil {
			break
		}
	}
	wg.Wait()
	close(sampleDone)
	dayEnd := time.Now()
	d.window.Store("after")
	d.notes = append(d.notes, fmt.Sprintf("mix: %d requests in %s (%.1f a second over 2 api processes), %d retried against the other replica",
		requests.Load(), dayEnd.Sub(dayStart).Round(time.Second), float64(requests.Load())/dayEnd.Sub(dayStart).Seconds(), d.rt.retries.Load()))

	// The stack finishes its work by itself.
	settled := d.settle(ctx)
	msgs := d.fp.ArrivedSince(dayStart)
	last := time.Unix(0, d.fp.last.Load())
	d.notes = append(d.notes, fmt.Sprintf("messages: %d reached the provider from the day's start in %s: %.0f a second (20 communities, WANJIA_SMS_RATE default 50 each)",
		msgs, last.Sub(dayStart).Round(time.Second), float64(msgs)/last.Sub(dayStart).Seconds()))
	if !settled {
		d.fail("the campaigns did not finish within %s after the traffic", d.cfg.Settle)
	}
	sizeAfter := d.dbSize(ctx)
	d.notes = append(d.notes, fmt.Sprintf("database: %d MB before the day, %d MB after (%d KB per 1,000 messages and requests); Redis used_memory peak %d MB",
		sizeBefore>>20, sizeAfter>>20, (sizeAfter-sizeBefore)>>10*1000/max(1, int64(msgs)+requests.Load()), peakRedis.Load()>>20))
	d.notes = append(d.notes, d.cpu()...)
	return d.reports(ctx)
}

func sleepCtx(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// inject makes fault w happen, lets the stack heal as a supervisor would
// (a killed process is started again), and says how long the messages
// took to flow again.
func (d *Drill) inject(ctx context.Context, w string, win time.Duration) error {
	at, since := time.Now(), "after the fault"
	switch w {
	case "worker-kill":
		d.st.Kill("worker-1")
		sleepCtx(ctx, 2*time.Second)
		if err := d.st.Restart("worker-1"); err != nil {
			return err
		}
	case "redis-restart":
		d.st.KillRedis()
		if err := d.st.StartRedis(ctx); err != nil {
			return err
		}
	case "redis-flush":
		rc := d.st.Redis()
		err := rc.FlushAll(ctx).Err()
		_ = rc.Close()
		if err != nil {
			return err
		}
	case "api-kill":
		d.st.Kill("serve-1")
		sleepCtx(ctx, 3*time.Second)
		if err := d.st.Restart("serve-1"); err != nil {
			return err
		}
	case "pg-terminate":
		var n int
		err := d.st.DBAdmin.QueryRowContext(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND application_name LIKE 'wanjia-load-%' AND application_name <> 'wanjia-load-drill'`).Scan(&n)
		if err != nil {
			return err
		}
		d.logf("pg-terminate: %d connections of the parts terminated", n)
	case "pg-stop":
		// An import runs while the server is down; it must finish with
		// the right counts once the server is back.
		c := d.comms[0]
		done := make(chan struct{})
		var finished time.Time
		go func() {
			defer close(done)
			v, err := importFile(ctx, d.api, c, "households", extraHouseholdsCSV(2000), 10*time.Minute)
			finished = time.Now()
			d.imports = append(d.imports, importCheck{window: w, org: c.Slug, want: 2000, got: v, err: err})
		}()
		sleepCtx(ctx, 2*time.Second)
		if len(d.cfg.PGCtl) == 0 && d.cfg.ownPG == nil {
			return errors.New("no command to stop PostgreSQL (-own-pg or -pg-ctl)")
		}
		run := func(verb string) error {
			if d.cfg.ownPG != nil {
				return d.cfg.ownPG.Ctl(context.Background(), verb)
			}
			args := append(append([]string{}, d.cfg.PGCtl[1:]...), verb)
			out, err := exec.CommandContext(context.Background(), d.cfg.PGCtl[0], args...).CombinedOutput()
			if err != nil {
				return fmt.Errorf("%s %s: %w: %s", d.cfg.PGCtl[0], verb, err, out)
			}
			return nil
		}
		stopped := time.Now()
		if err := run("stop"); err != nil {
			return err
		}
		d.logf("pg-stop: PostgreSQL stopped (pg_ctl -m fast took %s)", time.Since(stopped).Round(100*time.Millisecond))
		sleepCtx(ctx, d.cfg.PGStop)
		started := time.Now()
		if err := run("start"); err != nil {
			return err
		}
		d.logf("pg-stop: PostgreSQL started again after %s down", started.Sub(stopped).Round(time.Second))
		// Recovery counts from the server's return: nothing can recover
		// while it is down.
		at, since = started, "after PostgreSQL came back"
		// The import is waited for once recovery is measured.
		defer func() {
			<-done
			if finished.Before(stopped) {
				d.notes = append(d.notes, "pg-stop: the import finished before PostgreSQL stopped (not mid-import)")
			} else {
				d.notes = append(d.notes, fmt.Sprintf("pg-stop: the import running when PostgreSQL stopped finished %s after it came back",
					finished.Sub(started).Round(100*time.Millisecond)))
			}
		}()
	}
	// Recovery: both replicas ready, and a message reached the provider
	// after the fault.
	deadline := time.Now().Add(win * 3)
	var ready, flow time.Duration
	for time.Now().Before(deadline) && ctx.Err() == nil && (ready == 0 || flow == 0) {
		if ready == 0 && readyNow(d.rt.hosts) {
			ready = time.Since(at)
		}
		if flow == 0 {
			if t := d.fp.FirstAfter(at); !t.IsZero() {
				flow = t.Sub(at)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.notes = append(d.notes, fmt.Sprintf("fault %s: api ready again after %s, messages flowing again %s %s",
		w, orNever(ready), orNever(flow), since))
	d.logf("%s", d.notes[len(d.notes)-1])
	return nil
}

func orNever(d time.Duration) string {
	if d == 0 {
		return "never (within the window)"
	}
	return d.Round(100 * time.Millisecond).String()
}

func readyNow(hosts []string) bool {
	c := &http.Client{Timeout: time.Second}
	for _, h := range hosts {
		resp, err := c.Get("http://" + h + "/readyz")
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		if resp.StatusCode != 200 {
			return false
		}
	}
	return true
}

func extraHouseholdsCSV(n int) []byte {
	var b strings.Builder
	b.WriteString("grid,address,phone\n")
	for h := 1; h <= n; h++ {
		fmt.Fprintf(&b, "load01-g1,停库路%d号,%s\n", h, fmt.Sprintf("13600%06d", h))
	}
	return []byte(b.String())
}

func (d *Drill) dbSize(ctx context.Context) int64 {
	var n int64
	_ = d.st.DBAdmin.QueryRowContext(ctx, `SELECT pg_database_size(current_database())`).Scan(&n)
	return n
}

// settle waits until no message of the drill is waiting or being sent
// (held for quiet hours counts as waiting: the notices are urgent).
func (d *Drill) settle(ctx context.Context) bool {
	deadline := time.Now().Add(d.cfg.Settle)
	for {
		var n int
		err := d.st.DBAdmin.QueryRowContext(ctx, `SELECT count(*) FROM outreach_messages WHERE status IN ('queued', 'sending', 'held_quiet_hours')`).Scan(&n)
		if err == nil && n == 0 {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			d.logf("still %d messages queued or sending (err %v)", n, err)
			return false
		}
		sleepCtx(ctx, time.Second)
	}
}

// cpu reads what each surviving part used (Linux /proc): the basis of the
// replicas a column of the capacity table needs.
func (d *Drill) cpu() []string {
	d.st.mu.Lock()
	defer d.st.mu.Unlock()
	names := make([]string, 0, len(d.st.procs))
	for n := range d.st.procs {
		names = append(names, n)
	}
	sort.Strings(names)
	var parts []string
	for _, n := range names {
		p := d.st.procs[n]
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
		if err != nil {
			continue
		}
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseFloat(f[11], 64)
		s, _ := strconv.ParseFloat(f[12], 64)
		parts = append(parts, fmt.Sprintf("%s %.1fs", n, (u+s)/100))
	}
	return []string{"cpu used since (re)start: " + strings.Join(parts, ", ")}
}

// reports: every community fills and submits today's report, then each
// sub-district reads its roll-up, which must name no community missing.
func (d *Drill) reports(ctx context.Context) error {
	today := time.Now().In(shanghai).Format("2006-01-02")
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, c := range d.comms {
		g.Go(func() error {
			p := "/api/v1/orgs/" + c.Slug + "/reports/daily/" + today
			if _, err := d.api.Do(gctx, "report", "PUT", p, c.Token, map[string]any{"manual": map[string]int{"notices_posted": 3, "disinfection_rounds": 2, "staff_on_duty": 12, "volunteers_on_duty": 8}}, nil, nil); err != nil {
				return err
			}
			_, err := d.api.Do(gctx, "report", "POST", p+"/submit", c.Token, nil, nil, map[string]string{"Idempotency-Key": "load-report-" + c.Slug})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		d.fail("reports: %v", err)
		return nil
	}
	subs := map[string]int{}
	for _, c := range d.comms {
		subs[c.Sub]++
	}
	for sub, n := range subs {
		tok, err := login(ctx, d.api, sub+".official")
		if err != nil {
			return err
		}
		var rr struct {
			Communities []struct {
				Org, Status string
			} `json:"communities"`
			Missing []string `json:"missing"`
		}
		if _, err := d.api.Do(ctx, "rollup", "GET", "/api/v1/orgs/"+sub+"/reports/daily/"+today, tok, nil, &rr, nil); err != nil {
			d.fail("roll-up of %s: %v", sub, err)
			continue
		}
		submitted := 0
		for _, c := range rr.Communities {
			if c.Status == "submitted" {
				submitted++
			}
		}
		if submitted != n || len(rr.Missing) > 0 {
			d.fail("roll-up of %s: %d of %d communities submitted, missing %v", sub, submitted, n, rr.Missing)
		}
	}
	return nil
}
