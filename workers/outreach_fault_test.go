package workers_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/orgs/orgstest"
	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/outreach/provider"
	"github.com/wanjia/wanjia/pkg/queue"
	"github.com/wanjia/wanjia/pkg/queue/queuetest"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/store/storetest"
	"github.com/wanjia/wanjia/workers"
)

// TestOutreachExactlyOnceUnderFaults runs a 2,000-message campaign through
// the real mux on two workers at once, with two schedulers racing for
// every slot of the outreach reconciler. Mid-campaign one worker is killed
// (its tasks' contexts cancelled at once) and, later, Redis is flushed:
// every task still queued is lost, and only the scheduled reconciler can
// bring those messages back. The second worker and a third started after
// the flush finish the campaign: every message ends sent, each handed to
// the provider exactly once.
func TestOutreachExactlyOnceUnderFaults(t *testing.T) {
	const n = 2000
	t0 := time.Now()
	db := storetest.New(t)
	d := orgstest.New(t, db, orgstest.Spec{Slug: "c1", Grids: []string{"c1-g1"}})
	addResidents(t, db, d.Org(t, "c1").ID, n)
	r := queuetest.New(t)
	// The reconciler's period, and StaleQueued with it. Each run tries
	// again the task of every message queued for longer than StaleQueued:
	// in a campaign whose messages were all created at once, every message
	// not yet sent, up to 2,000 Redis scripts a run. That is about a
	// second on a real Redis under -race on two cores, and several on the
	// in-process one (its Lua is interpreted in Go); runs that come faster
	// than they end pile up in the workers and starve the sends.
	period := 2 * time.Second
	if m := r.Embedded(); m != nil {
		// miniredis emulates TTLs by walking and sorting every key on
		// every command: with thousands of tasks in Redis, that alone
		// would be most of this test's time. Nothing here waits for a key
		// to expire.
		m.ClockTTL(false)
		period = 5 * time.Second
	}
	client := queue.NewClient(r)
	t.Cleanup(func() { _ = client.Close() })
	fake := &countingProvider{sends: map[string]int{}}
	svc := &outreach.Service{DB: db, Frame: scope.New(db), Queue: client, Provider: fake, Logger: quiet, Now: beijingNoon(),
		Rules: outreach.Rules{StaleQueued: period, StaleSending: 3 * time.Second,
			Backoff: func(int) time.Duration { return 10 * time.Millisecond }}}
	staff := d.As(t, "c1.staff", "c1")
	c, err := svc.CreateCampaign(staff, outreach.CampaignInput{Name: "通知", Channel: "sms",
		Body: "{{.Name}}您好，{{.Community}}提醒您做好防护。", Audience: outreach.Audience{All: true}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Stats.Queued != n {
		t.Fatalf("campaign: %+v, want %d queued", c.Stats, n)
	}
	t.Logf("fixture ready in %s", time.Since(t0).Round(time.Millisecond))

	// The workers: the real mux, each with its own metrics, which count the
	// reconciler's runs.
	var regs []*prometheus.Registry
	startWorker := func() (kill func()) {
		reg := prometheus.NewRegistry()
		regs = append(regs, reg)
		srv := queue.NewServer(r, queue.ServerOptions{Concurrency: 16, ShutdownTimeout: time.Millisecond, Logger: quiet})
		if err := srv.Start(workers.NewMux(workers.Deps{Metrics: reg, Logger: quiet}, queue.NewTasks(svc.Tasks))); err != nil {
			t.Fatal(err)
		}
		var once sync.Once
		kill = func() { once.Do(srv.Shutdown) }
		t.Cleanup(kill)
		return kill
	}

	// The schedulers, with the reconciler's entry of outreach's periodic
	// table at a short period; both look at the clock every 20 ms, so both
	// try every slot within moments of each other.
	entry, ok := queue.NewTasks(svc.Tasks).PeriodicNamed("reconcile-outreach")
	if !ok {
		t.Fatal("no reconcile-outreach in outreach's periodic tasks")
	}
	entry.Every = period
	sctx, stopSchedulers := context.WithCancel(context.Background())
	var running sync.WaitGroup
	slots := &slotLog{ids: map[string][]time.Time{}}
	for range 2 {
		sc := queue.NewClient(r)
		s := &workers.Scheduler{Client: slots.wrap(sc), Tasks: []queue.Periodic{entry}, Tick: 20 * time.Millisecond, Logger: quiet}
		running.Add(1)
		go func() {
			defer running.Done()
			_ = s.Run(sctx)
		}()
		t.Cleanup(func() { _ = sc.Close() })
	}
	t.Cleanup(func() { stopSchedulers(); running.Wait() })

	kill := startWorker()
	startWorker()
	t1 := time.Now()
	deadline := t1.Add(5 * time.Minute)
	if _, err := svc.SendCampaign(staff, c.ID); err != nil {
		t.Fatal(err)
	}
	waitSent := func(k int) {
		t.Helper()
		for fake.count() < k {
			if time.Now().After(deadline) {
				logQueues(t, r)
				t.Fatalf("only %d of %d sent after %s", fake.count(), n, time.Since(t1).Round(time.Millisecond))
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	waitSent(n / 3)
	kill()
	t.Logf("worker killed after %d of %d sent (%s)", fake.count(), n, time.Since(t1).Round(time.Millisecond))
	waitSent(n / 2)
	before := reconcileRuns(t, regs)
	flushStart := time.Now()
	if err := r.Client.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	slots.flushed(flushStart, time.Now())
	atFlush := fake.count()
	t.Logf("Redis flushed after %d of %d sent (%s)", atFlush, n, time.Since(t1).Round(time.Millisecond))
	if atFlush >= n {
		t.Fatalf("all %d were sent before Redis was flushed: the flush was not tested", atFlush)
	}
	startWorker()

	var v *outreach.CampaignView
	for ; ; time.Sleep(50 * time.Millisecond) {
		if v, err = svc.GetCampaign(staff, c.ID); err != nil {
			t.Fatal(err)
		}
		// FinishedAt is stored by the reconciler, once it finds nothing
		// left to do.
		if v.Stats.Sent == n && v.FinishedAt != nil {
			break
		}
		if time.Now().After(deadline) {
			logQueues(t, r)
			t.Fatalf("timed out: %+v, finished at %v; %d at the provider", v.Stats, v.FinishedAt, fake.count())
		}
	}
	t.Logf("all sent and the campaign finished %s after the start", time.Since(t1).Round(time.Millisecond))

	if v.Stats.Total != n || v.Stats.Sent != n || v.Status != "finished" {
		t.Errorf("campaign %s: %+v, want all %d sent", v.Status, v.Stats, n)
	}
	if d := fake.twice(); len(d) > 0 || fake.count() != n {
		t.Fatalf("sent twice: %d, such as %v; sent %d of %d", len(d), d[:min(len(d), 5)], fake.count(), n)
	}
	var bad []string
	listed, cursor := 0, ""
	for {
		page, next, err := svc.ListMessages(staff, outreach.Filter{Campaign: c.ID, Limit: 500, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page {
			listed++
			if k := fake.sent(m.ID); m.Status != outreach.StatusSent || k != 1 {
				bad = append(bad, fmt.Sprintf("%s %s %q, at the provider %d times", m.ID, m.Status, m.Error, k))
			}
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	if len(bad) > 0 || listed != n {
		t.Errorf("%d messages listed; %d not sent exactly once, such as %v", listed, len(bad), bad[:min(len(bad), 5)])
	}
	if after := reconcileRuns(t, regs); after <= before {
		t.Errorf("the reconciler ran %d times before the flush and %d in all: never after it", before, after)
	}
	slots.check(t)
	t.Logf("the reconciler ran %d times; the schedulers enqueued %d slots and were refused %d times",
		reconcileRuns(t, regs), slots.enqueued(), slots.refused.Load())
}

// addResidents adds n residents with phones of their own to the tenant's
// first grid, 100 to a household without a phone, in SQL (as
// pkg/outreach's benchmark does): the roster's service, one at a time,
// would take longer than the sending under test.
func addResidents(t *testing.T, db *store.DB, tenant string, n int) {
	t.Helper()
	now := time.Now().UTC()
	err := db.AcrossTenants(context.Background(), "test fixture", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		var grid string
		if err := tx.NewRaw("SELECT id FROM grids WHERE tenant_id = ? ORDER BY slug LIMIT 1", tenant).Scan(ctx, &grid); err != nil {
			return fmt.Errorf("grid: %w", err)
		}
		if _, err := tx.NewRaw(`INSERT INTO households (id, tenant_id, grid_id, address, address_key, tags, created_at, updated_at)
			WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i + 1 < ?)
			SELECT 'fault-h-' || CAST(i AS TEXT), ?, ?, '测试路 ' || CAST(i AS TEXT) || ' 号', 'fault ' || CAST(i AS TEXT), '[]', ?, ? FROM s`,
			(n+99)/100, tenant, grid, now, now).Exec(ctx); err != nil {
			return fmt.Errorf("households: %w", err)
		}
		if _, err := tx.NewRaw(`INSERT INTO residents (id, tenant_id, household_id, grid_id, name, phone, tags, created_at, updated_at)
			WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i + 1 < ?)
			SELECT 'fault-r-' || CAST(i AS TEXT), ?, 'fault-h-' || CAST(i / 100 AS TEXT), ?, '居民' || CAST(i AS TEXT),
				CAST(13900000000 + i AS TEXT), '[]', ?, ? FROM s`,
			n, tenant, grid, now, now).Exec(ctx); err != nil {
			return fmt.Errorf("residents: %w", err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
}

var quiet = slog.New(slog.DiscardHandler)

// beijingNoon is real time moved to noon in Beijing: never quiet hours.
func beijingNoon() func() time.Time {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	now := time.Now().In(loc)
	shift := time.Date(now.Year(), now.Month(), now.Day(), 12, 0, 0, 0, loc).Sub(now)
	return func() time.Time { return time.Now().Add(shift) }
}

// countingProvider takes every message, after a moment, and counts the
// sends of each by our message id; asked about one, it says sent if it
// has it.
type countingProvider struct {
	mu    sync.Mutex
	sends map[string]int
}

func (*countingProvider) Name() string { return "counting" }

func (p *countingProvider) Send(_ context.Context, m provider.Message) (provider.Sent, error) {
	time.Sleep(time.Millisecond)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sends[m.ID]++
	return provider.Sent{ProviderID: "counting-" + m.ID, At: time.Now()}, nil
}

func (p *countingProvider) Query(_ context.Context, m provider.Message, _ provider.Sent) (provider.Status, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.sends[m.ID] > 0 {
		return provider.Status{State: provider.StateSent}, nil
	}
	return provider.Status{State: provider.StateUnknown}, nil
}

func (p *countingProvider) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.sends)
}

func (p *countingProvider) sent(id string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sends[id]
}

// twice lists the messages sent more than once.
func (p *countingProvider) twice() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for id, k := range p.sends {
		if k > 1 {
			out = append(out, fmt.Sprintf("%s×%d", id, k))
		}
	}
	return out
}

// reconcileRuns sums the reconciler's runs over the workers' metrics.
func reconcileRuns(t *testing.T, regs []*prometheus.Registry) int {
	t.Helper()
	runs := 0
	for _, reg := range regs {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != "wanjia_tasks_processed_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "type" && l.GetValue() == outreach.TypeReconcile {
						runs += int(m.GetCounter().GetValue())
					}
				}
			}
		}
	}
	return runs
}

// slotLog records the slots the schedulers enqueued, by task id.
type slotLog struct {
	mu      sync.Mutex
	ids     map[string][]time.Time
	flush   [2]time.Time // from, to
	refused atomic.Int64
}

func (l *slotLog) wrap(c queue.Enqueuer) queue.Enqueuer { return loggedEnqueuer{c, l} }

func (l *slotLog) flushed(from, to time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flush = [2]time.Time{from, to}
}

func (l *slotLog) enqueued() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.ids)
}

// check: each slot was enqueued once, but for one that Redis lost in the
// flush between two schedulers' tries.
func (l *slotLog) check(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ids) < 2 {
		t.Errorf("the schedulers enqueued %d slots", len(l.ids))
	}
	for id, at := range l.ids {
		if len(at) > 2 || len(at) == 2 && !(at[0].Before(l.flush[1]) && at[1].After(l.flush[0])) {
			t.Errorf("slot %s enqueued %d times: %v (Redis flushed at %v)", id, len(at), at, l.flush)
		}
	}
	if l.refused.Load() == 0 {
		t.Error("no scheduler was ever refused a slot: the two never raced")
	}
}

type loggedEnqueuer struct {
	queue.Enqueuer
	log *slotLog
}

func (e loggedEnqueuer) EnqueueContext(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error) {
	info, err := e.Enqueuer.EnqueueContext(ctx, task, opts...)
	switch {
	case err == nil:
		e.log.mu.Lock()
		e.log.ids[info.ID] = append(e.log.ids[info.ID], time.Now())
		e.log.mu.Unlock()
	case errors.Is(err, asynq.ErrTaskIDConflict) || errors.Is(err, asynq.ErrDuplicateTask):
		e.log.refused.Add(1)
	}
	return info, err
}

// logQueues says where the tasks are, for a test about to fail.
func logQueues(t *testing.T, r *queue.Redis) {
	insp := queue.NewInspector(r)
	defer func() { _ = insp.Close() }()
	for _, q := range []string{queue.QueueMessages, queue.QueueDefault} {
		qi, err := insp.GetQueueInfo(q)
		if err != nil {
			t.Logf("queue %s: %v", q, err)
			continue
		}
		t.Logf("queue %s: pending %d, active %d, scheduled %d, retry %d, archived %d, completed %d; processed %d, failed %d",
			q, qi.Pending, qi.Active, qi.Scheduled, qi.Retry, qi.Archived, qi.Completed, qi.ProcessedTotal, qi.FailedTotal)
		for _, list := range []func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){insp.ListActiveTasks, insp.ListRetryTasks, insp.ListArchivedTasks} {
			tasks, _ := list(q, asynq.PageSize(3))
			for _, ti := range tasks {
				t.Logf("  %s %s %s: retried %d/%d, last error %q, next at %v", q, ti.State, ti.ID, ti.Retried, ti.MaxRetry, ti.LastErr, ti.NextProcessAt)
			}
		}
	}
}
