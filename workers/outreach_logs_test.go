package workers_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wanjia/wanjia/pkg/orgs/orgstest"
	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/queue"
	"github.com/wanjia/wanjia/pkg/queue/queuetest"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store/storetest"
	"github.com/wanjia/wanjia/workers"
)

// syncBuffer is a log sink for many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines(t *testing.T) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// TestRateWaitsAreNotLoggedAsFailures runs a campaign through the real mux
// at 20 messages a second, so that most sends wait for the rate
// (queue.Later): the worker's log at INFO has no line for those waits, and
// the waits are counted apart from failures.
func TestRateWaitsAreNotLoggedAsFailures(t *testing.T) {
	const n = 60
	db := storetest.New(t)
	d := orgstest.New(t, db, orgstest.Spec{Slug: "c1", Grids: []string{"c1-g1"}})
	addResidents(t, db, d.Org(t, "c1").ID, n)
	r := queuetest.New(t)
	client := queue.NewClient(r)
	t.Cleanup(func() { _ = client.Close() })
	var logs syncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	fake := &countingProvider{sends: map[string]int{}}
	svc := &outreach.Service{DB: db, Frame: scope.New(db), Queue: client, Provider: fake, Logger: log, Now: beijingNoon(),
		Limiter: redis_rate.NewLimiter(r.Client), Rules: outreach.Rules{TenantRate: 20}}
	reg := prometheus.NewRegistry()
	srv := queue.NewServer(r, queue.ServerOptions{Concurrency: 16, ShutdownTimeout: time.Millisecond, Logger: log})
	if err := srv.Start(workers.NewMux(workers.Deps{Metrics: reg, Logger: log}, queue.NewTasks(svc.Tasks))); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	staff := d.As(t, "c1.staff", "c1")
	c, err := svc.CreateCampaign(staff, outreach.CampaignInput{Name: "通知", Channel: "sms",
		Body: "{{.Name}}您好，请做好防护。", Audience: outreach.Audience{All: true}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SendCampaign(staff, c.ID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for fake.count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d sent", fake.count(), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	waits := 0
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "wanjia_tasks_processed_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["type"] == outreach.TypeSend && labels["status"] == "later" {
				waits += int(m.GetCounter().GetValue())
			}
		}
	}
	var noisy []string
	for _, l := range logs.lines(t) {
		noisy = append(noisy, l["level"].(string)+" "+l["msg"].(string)+" "+strings.TrimSpace(fmtAny(l["err"])))
	}
	if len(noisy) > 0 {
		t.Fatalf("%d waits for the rate, and %d log lines at INFO or above, such as %q", waits, len(noisy), noisy[:min(3, len(noisy))])
	}
	if waits < n/2 {
		t.Fatalf("%d sends waited for the rate: the test did not make them wait", waits)
	}
	t.Logf("%d sends waited for the rate; nothing logged at INFO or above", waits)
}

func fmtAny(v any) string {
	if v == nil {
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}
