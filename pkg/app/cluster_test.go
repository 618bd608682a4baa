package app_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wanjia/wanjia/pkg/app"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/config"
	"github.com/wanjia/wanjia/pkg/health"
	"github.com/wanjia/wanjia/pkg/outreach/provider"
	"github.com/wanjia/wanjia/pkg/queue"
	"github.com/wanjia/wanjia/pkg/queue/queuetest"
)

// TestClusterEndToEnd runs two replicas of everything (API, worker and
// scheduler) on one database and a three-node Redis Cluster of the test's
// own (make test-cluster): an import, a campaign through the outbox, the
// isolation reminders and the periodic tasks each finish exactly once,
// whichever replica takes a request or a task; a policy change is
// announced from one replica to the other.
func TestClusterEndToEnd(t *testing.T) {
	started := time.Now()
	url := queuetest.Cluster(t)
	t.Logf("cluster up in %v", time.Since(started).Round(time.Millisecond))

	gw := &gateway{sent: map[string]int{}}
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	dbURL, dir := demo.Fresh(t)
	change := func(c *config.Config) {
		c.RedisURL = url
		c.SMSProvider = "webhook"
		c.Provider.WebhookURL, c.Provider.WebhookSecret = srv.URL, provider.Secret("cluster-test-secret-0123456789")
		fastOutreach(c)
	}
	apps := []*app.App{newAppWithDB(t, dbURL, dir, change), newAppWithDB(t, dbURL, dir, change)}
	if apps[0].Redis.Kind != queue.RedisCluster {
		t.Fatalf("redis is %s, want the cluster", apps[0].Redis.Kind)
	}
	h0, h1 := apps[0].Engine, apps[1].Engine
	// The reminders are due all day (but its last minute) and no quiet
	// hours hold messages back, before any scheduler sweeps.
	admin := login(t, h0, "yucai.admin", demoPassword)
	org := decode[struct {
		Settings map[string]any `json:"settings"`
	}](t, do(t, h0, http.MethodGet, "/api/v1/orgs/yucai", admin, nil).Body.Bytes())
	org.Settings["quiet_hours"] = map[string]any{"start": "00:00", "end": "00:00"}
	org.Settings["checkin_reminder_at"], org.Settings["checkin_deadline"] = "00:00", "23:59"
	if rec := do(t, h0, http.MethodPatch, "/api/v1/orgs/yucai", admin, map[string]any{"settings": org.Settings}); rec.Code != http.StatusOK {
		t.Fatalf("settings: %d %s", rec.Code, rec.Body)
	}
	for _, a := range apps {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = a.Run(ctx, ln); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	staff := login(t, h1, "yucai.staff", demoPassword)

	t.Run("an import", func(t *testing.T) {
		csv := "姓名,电话,身份证号,网格,楼栋,单元,房号,标签\n" +
			"集群甲,13900005551,,yucai-g3,集群楼,1单元,101,\n" +
			"集群乙,13900005552,,yucai-g3,集群楼,1单元,102,\n" +
			"集群丙,13900005553,,yucai-g3,集群楼,1单元,103,\n"
		rec := upload(t, h1, staff, "residents", "cluster.csv", []byte(csv))
		if rec.Code != http.StatusAccepted {
			t.Fatalf("upload: %d %s", rec.Code, rec.Body)
		}
		v := waitImport(t, h0, staff, decode[idView](t, rec.Body.Bytes()).ID)
		if v.Status != "done" || v.Rows != 3 || v.Created != 3 || v.Updated != 0 || len(v.Errors) != 0 {
			t.Fatalf("import: %+v", v)
		}
	})

	t.Run("a campaign through the outbox", func(t *testing.T) {
		rec := do(t, h0, http.MethodPost, "/api/v1/orgs/yucai/campaigns", staff, map[string]any{
			"name": "集群通知", "channel": "sms", "body": "{{.Community}}集群演练通知。", "audience": map[string]any{"grids": []string{"yucai-g3"}}})
		if rec.Code != http.StatusCreated {
			t.Fatalf("campaign: %d %s", rec.Code, rec.Body)
		}
		path := "/api/v1/orgs/yucai/campaigns/" + decode[campaignView](t, rec.Body.Bytes()).ID
		if rec := do(t, h1, http.MethodPost, path+"/send", staff, nil); rec.Code != http.StatusOK {
			t.Fatalf("send: %d %s", rec.Code, rec.Body)
		}
		done := waitFinished(t, h0, staff, path)
		statsAddUp(t, done)
		if got := gw.count("集群演练通知"); got != done.AudienceSize || done.Stats["sent"] != got {
			t.Fatalf("the gateway has %d of the campaign's messages; the campaign %+v", got, done)
		}
	})

	t.Run("the isolation reminders", func(t *testing.T) {
		// The first sweep (both schedulers asked for its slot at start)
		// wrote them; they are all sent once nothing is queued.
		waitUntil(t, 30*time.Second, "the reminders to be sent", func() bool {
			return gw.count("您今天还未上报体温") > 0 &&
				strings.Contains(scrape(t, apps[0]), `wanjia_pending_work{kind="message",status="queued"} 0`)
		}, nil)
	})

	t.Run("the periodic tasks", func(t *testing.T) {
		// Every slot is enqueued by one scheduler (the other finds it there)
		// and runs once: the heartbeat's runs are the slots enqueued.
		var seen string
		waitUntil(t, 30*time.Second, "each heartbeat slot to be enqueued by one scheduler and run once", func() bool {
			run, err := apps[0].Health.LastRun(context.Background(), health.HeartbeatName)
			if err != nil {
				seen = err.Error()
				return false
			}
			enqueued, duplicate := 0, 0
			for _, a := range apps {
				body := scrape(t, a)
				enqueued += slots(body, "heartbeat", "enqueued")
				duplicate += slots(body, "heartbeat", "duplicate")
			}
			if int64(enqueued) < run.Runs {
				t.Fatalf("the heartbeat ran %d times for %d slots enqueued", run.Runs, enqueued)
			}
			seen = fmt.Sprintf("%d runs, %d slots enqueued, %d found enqueued by the other scheduler", run.Runs, enqueued, duplicate)
			return run.Runs == int64(enqueued) && duplicate > 0
		}, &seen)
		for _, p := range apps[0].Tasks.Periodic() {
			n := 0
			for _, a := range apps {
				n += slots(scrape(t, a), p.Name, "enqueued")
			}
			if n < 1 {
				t.Errorf("%s: %d slots enqueued", p.Name, n)
			}
		}
	})

	t.Run("the policy watcher", func(t *testing.T) {
		// A change on one replica is announced through the cluster's
		// pub/sub to the other's client.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		sub := apps[1].Redis.Client.Subscribe(ctx, authz.Channel)
		defer sub.Close()
		if _, err := sub.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		if err := apps[0].Watcher.Changed(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := sub.ReceiveMessage(ctx); err != nil {
			t.Fatalf("the change was not announced through the cluster: %v", err)
		}
	})

	gw.mu.Lock()
	for id, n := range gw.sent {
		if n != 1 {
			t.Errorf("message %s reached the gateway %d times", id, n)
		}
	}
	gw.mu.Unlock()
	t.Logf("%d messages, each sent once; the whole test took %v", len(gw.sent), time.Since(started).Round(time.Millisecond))
}

// count is how many messages the gateway took whose text contains s.
func (g *gateway) count(s string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for id := range g.sent {
		if strings.Contains(g.texts[id], s) {
			n++
		}
	}
	return n
}

// slots reads wanjia_scheduler_slots_total for one task and result.
func slots(metrics, task, result string) int {
	re := regexp.MustCompile(fmt.Sprintf(`wanjia_scheduler_slots_total\{result="%s",task="%s"\} (\d+)`, result, regexp.QuoteMeta(task)))
	m := re.FindStringSubmatch(metrics)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// waitUntil polls ok; on timeout it says what and, when given, what was
// last seen.
func waitUntil(t *testing.T, within time.Duration, what string, ok func() bool, seen *string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			last := ""
			if seen != nil {
				last = ": " + *seen
			}
			t.Fatalf("waited %v for %s%s", within, what, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
