package main

import (
	"bytes"
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wanjia/wanjia/pkg/outreach/provider"
)

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // unsorted on purpose
	}
	for _, tc := range []struct {
		name string
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{"empty", nil, 99, 0},
		{"one", ms(7), 50, 7 * time.Millisecond},
		{"p50 of 1..100", ms(hundred...), 50, 50 * time.Millisecond},
		{"p95 of 1..100", ms(hundred...), 95, 95 * time.Millisecond},
		{"p99 of 1..100", ms(hundred...), 99, 99 * time.Millisecond},
		{"p100 is the max", ms(hundred...), 100, 100 * time.Millisecond},
		{"p99 of 4 is the max (nearest rank)", ms(1, 2, 3, 400), 99, 400 * time.Millisecond},
		{"p50 of 4", ms(4, 1, 3, 2), 50, 2 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Percentile(tc.in, tc.p); got != tc.want {
				t.Fatalf("Percentile(%v) = %v, want %v", tc.p, got, tc.want)
			}
		})
	}
}

func TestRecorderRows(t *testing.T) {
	r := NewRecorder()
	r.Add("baseline", "list", 200, 10*time.Millisecond)
	r.Add("baseline", "list", 503, 30*time.Millisecond)
	r.Add("api-kill", "list", 0, 50*time.Millisecond)
	rows := r.Rows()
	var all *Row
	for i := range rows {
		if rows[i].Window == "all" && rows[i].Kind == "list" {
			all = &rows[i]
		}
	}
	if all == nil || all.N != 3 || all.Status[200] != 1 || all.Status[503] != 1 || all.Status[0] != 1 || all.P99 != 50*time.Millisecond {
		t.Fatalf("the all row = %+v", all)
	}
	var b bytes.Buffer
	PrintRows(&b, rows)
	if !strings.Contains(b.String(), "no-answer:1") || !strings.Contains(b.String(), "503:1") {
		t.Fatalf("table:\n%s", b.String())
	}
}

func TestTally(t *testing.T) {
	for _, tc := range []struct {
		name                       string
		acked, got                 map[string]int
		lost, doubled, unackedWant int
	}{
		{"all once", map[string]int{"a": 1, "b": 1}, map[string]int{"a": 1, "b": 1}, 0, 0, 0},
		{"one lost", map[string]int{"a": 1, "b": 1}, map[string]int{"a": 1}, 1, 0, 0},
		{"one doubled", map[string]int{"a": 1}, map[string]int{"a": 2}, 0, 1, 0},
		{"tripled counts twice", map[string]int{"a": 1}, map[string]int{"a": 3}, 0, 2, 0},
		{"a group acked thrice, stored twice", map[string]int{"case": 3}, map[string]int{"case": 2}, 1, 0, 0},
		{"stored but never acked", map[string]int{}, map[string]int{"x": 1}, 0, 0, 1},
		{"never acked and stored twice", nil, map[string]int{"x": 2}, 0, 1, 1},
		{"nothing", nil, nil, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lost, doubled, unacked := Tally(tc.acked, tc.got)
			if lost != tc.lost || doubled != tc.doubled || unacked != tc.unackedWant {
				t.Fatalf("Tally = %d lost, %d doubled, %d unacked; want %d, %d, %d", lost, doubled, unacked, tc.lost, tc.doubled, tc.unackedWant)
			}
		})
	}
}

func TestFakeProviderCounts(t *testing.T) {
	p := NewFakeProvider()
	base := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	now := base
	p.now = func() time.Time { return now }
	srv := httptest.NewServer(p)
	defer srv.Close()
	post := func(body string) int {
		resp, err := http.Post(srv.URL+"/send", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		body string
		want int
	}{
		{`{"id":"m1","phone":"13900000001","body":"x"}`, 200},
		{`{"id":"m2","phone":"13900000002"}`, 200},
		{`{"id":"m1","phone":"13900000001"}`, 200}, // sent again: counted twice
		{`{"phone":"13900000003"}`, 400},           // no id: refused, not counted
		{`not json`, 400},
	} {
		if got := post(tc.body); got != tc.want {
			t.Fatalf("POST %s = %d, want %d", tc.body, got, tc.want)
		}
		now = now.Add(time.Second)
	}
	c := p.Counts()
	if len(c) != 2 || c["m1"] != 2 || c["m2"] != 1 || p.Total() != 3 {
		t.Fatalf("counts %v, total %d", c, p.Total())
	}
	if n := p.ArrivedSince(base.Add(time.Second)); n != 1 {
		t.Fatalf("ArrivedSince = %d, want 1 (m2; m1 first came earlier)", n)
	}
	if got := p.FirstAfter(base); !got.Equal(base.Add(time.Second)) {
		t.Fatalf("FirstAfter = %v", got)
	}
	if ph := p.Phones(); !ph["13900000002"] || len(ph) != 2 {
		t.Fatalf("phones %v", ph)
	}
	// The lost/doubled check over what the provider saw.
	lost, doubled, _ := Tally(map[string]int{"m1": 1, "m2": 1, "m3": 1}, c)
	if lost != 1 || doubled != 1 {
		t.Fatalf("lost %d, doubled %d; want 1 and 1", lost, doubled)
	}
}

// Where the drill cannot make its database, it says so and leaves
// nothing running: not even its Redis, which starts only after.
func TestNoDatabaseNothingLeft(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where the drill makes its directory
	var out bytes.Buffer
	for _, url := range []string{
		"postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", // nothing listens
		"mysql://root@127.0.0.1/x", // not PostgreSQL
	} {
		cfg := Config{AdminURL: url, Bin: "/nonexistent/wanjia", Communities: 2, Households: 10, Residents: 1, Duration: time.Minute, Out: &out}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := Run(ctx, cfg)
		cancel()
		if err == nil || !strings.Contains(err.Error(), "cannot create the drill's database") {
			t.Fatalf("Run(%s) = %v, want a clear error", url, err)
		}
		if strings.Contains(err.Error(), "nobody@") && strings.Contains(err.Error(), "password") {
			t.Fatalf("error shows credentials: %v", err)
		}
	}
	if n := runningRedis(t); n != 0 {
		t.Fatalf("%d redis-server processes of the drill left", n)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Fatalf("the drill left %d entries in its temporary directory, e.g. %s", len(left), left[0].Name())
	}
}

func TestStackCloseStopsEverything(t *testing.T) {
	st := &Stack{Dir: t.TempDir()}
	if err := st.StartRedis(context.Background()); err != nil {
		t.Skip("no redis-server here:", err)
	}
	if st.Running() != 1 {
		t.Fatalf("running = %d after StartRedis", st.Running())
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if st.Running() != 0 {
		t.Fatalf("running = %d after Close", st.Running())
	}
}

// runningRedis counts the redis-server processes this test process
// started (its children).
func runningRedis(t *testing.T) int {
	t.Helper()
	dirs, _ := os.ReadDir("/proc")
	n := 0
	for _, d := range dirs {
		b, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 || !strings.Contains(s[:i], "redis-server") {
			continue
		}
		f := strings.Fields(s[i+2:])
		if len(f) > 1 && f[1] == strconv.Itoa(os.Getpid()) {
			n++
		}
	}
	return n
}

// TestFakeProviderStatusQuery: the fake gateway answers the webhook
// provider's status query from its counts, as the contract says, and
// refuses a query not signed with its secret.
func TestFakeProviderStatusQuery(t *testing.T) {
	p := NewFakeProvider()
	p.Secret = "load-webhook-secret-0123456789"
	srv := httptest.NewServer(p)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/send", "application/json", strings.NewReader(`{"id":"m1","phone":"13900000001"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	query := func(secret, id string) (provider.Status, error) {
		w, err := provider.NewWebhook(provider.Config{WebhookURL: srv.URL + "/send", WebhookSecret: provider.Secret(secret)})
		if err != nil {
			t.Fatal(err)
		}
		return w.Query(context.Background(), provider.Message{ID: id}, provider.Sent{})
	}
	if st, err := query(p.Secret, "m1"); err != nil || st.State != provider.StateSent {
		t.Fatalf("posted: %+v, %v", st, err)
	}
	if st, err := query(p.Secret, "m2"); err != nil || st.State != provider.StateNotFound {
		t.Fatalf("never posted: %+v, %v", st, err)
	}
	if _, err := query("another-secret-0123456789", "m2"); !provider.IsCredentials(err) {
		t.Fatalf("wrong secret: %v", err)
	}
	if c := p.Counts(); len(c) != 1 || p.Total() != 1 {
		t.Fatalf("a query counted as a message: %v", c)
	}
}

// TestOwnPG: -own-pg's cluster answers on its port, stops and starts again
// with its pg_ctl (what pg-stop runs), and Close leaves nothing: no
// server, no directory.
func TestOwnPG(t *testing.T) {
	if _, err := pgBinDir(); err != nil {
		t.Skip(err)
	}
	ctx := context.Background()
	pg, err := StartOwnPG(ctx, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	ping := func() error {
		db, err := sql.Open("pgx", pg.AdminURL()+"&connect_timeout=2")
		if err != nil {
			return err
		}
		defer db.Close()
		return db.PingContext(ctx)
	}
	if err := ping(); err != nil {
		t.Fatalf("own cluster does not answer: %v", err)
	}
	if err := pg.Ctl(ctx, "stop"); err != nil {
		t.Fatal(err)
	}
	if ping() == nil {
		t.Fatal("own cluster answers after pg_ctl stop")
	}
	if err := pg.Ctl(ctx, "start"); err != nil {
		t.Fatal(err)
	}
	if err := ping(); err != nil {
		t.Fatalf("own cluster does not answer after pg_ctl start: %v", err)
	}
	pidFile := filepath.Join(pg.Dir, "data", "postmaster.pid")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	pg.Close()
	if _, err := os.Stat(pg.Dir); !os.IsNotExist(err) {
		t.Errorf("%s left after Close: %v", pg.Dir, err)
	}
	// pg_ctl -w returns once the pid file is gone; the process itself
	// ends (and is reaped) a moment later.
	for deadline := time.Now().Add(5 * time.Second); pid > 0 && syscall.Kill(pid, 0) == nil; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("postmaster %d still running after Close", pid)
		}
	}
}
