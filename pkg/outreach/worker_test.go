package outreach_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/queue"
	"github.com/wanjia/wanjia/pkg/queue/queuetest"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// startWorker runs an Asynq server with outreach's handlers until the
// returned stop is called.
func startWorker(t *testing.T, w *world, r *queue.Redis) (stop func()) {
	t.Helper()
	return startWorkerN(t, w, r, 8)
}

// startWorkerN is startWorker with the given concurrency.
func startWorkerN(t *testing.T, w *world, r *queue.Redis, concurrency int) (stop func()) {
	t.Helper()
	srv := queue.NewServer(r, queue.ServerOptions{Concurrency: concurrency, ShutdownTimeout: time.Millisecond})
	mux := asynq.NewServeMux()
	mux.Use(func(next asynq.Handler) asynq.Handler {
		return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
			var p struct {
				TenantID string `json:"tenant_id"`
			}
			if json.Unmarshal(t.Payload(), &p) == nil && p.TenantID != "" {
				ctx = scope.With(ctx, scope.Tenant{TenantID: p.TenantID})
			}
			return next.ProcessTask(ctx, t)
		})
	})
	mux.HandleFunc(outreach.TypeSend, w.Outreach.HandleSend)
	mux.HandleFunc(outreach.TypeDispatch, w.Outreach.HandleDispatch)
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() { once.Do(srv.Shutdown) }
	t.Cleanup(stop)
	return stop
}

// until runs the reconciler every 100 ms until every message of campaign
// is sent, or fails after timeout.
func until(t *testing.T, w *world, campaign string, want func(outreach.Stats) bool, timeout time.Duration) outreach.Stats {
	t.Helper()
	return untilEvery(t, w, campaign, want, timeout, 100*time.Millisecond)
}

// untilEvery is until with the reconciler run every period; the stats are
// still read every 100 ms.
func untilEvery(t *testing.T, w *world, campaign string, want func(outreach.Stats) bool, timeout, period time.Duration) outreach.Stats {
	t.Helper()
	deadline := time.Now().Add(timeout)
	ctx := w.as(t, "c1.staff", "c1")
	var last time.Time
	for {
		st := w.get(t, "c1", campaign).Stats
		if want(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %+v", st)
		}
		if time.Since(last) >= period {
			last = time.Now()
			if _, err := w.Outreach.Reconcile(ctx); err != nil {
				t.Logf("reconcile: %v", err)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func allSent(st outreach.Stats) bool { return st.Sent == st.Total }

func queued(t *testing.T, w *world, r *queue.Redis, n int) *outreach.CampaignView {
	t.Helper()
	w.realNoon()
	w.Outreach.Queue = queue.NewClient(r)
	w.households(t, "c1", "c1-g1", n)
	return w.campaign(t, "c1", outreach.CampaignInput{})
}

// TestExactlyOnceAcrossWorkerRestart: the worker is killed (its tasks'
// contexts cancelled at once) when about a third of a 2,000-message
// campaign is sent, and a new one finishes it: every message ends sent,
// each handed to the provider exactly once.
func TestExactlyOnceAcrossWorkerRestart(t *testing.T) {
	t.Parallel()
	const n = 2000
	w := newWorld(t)
	r := queuetest.New(t)
	if m := r.Embedded(); m != nil {
		// miniredis emulates TTLs by walking and sorting every key on
		// every command: with thousands of tasks in Redis, that alone
		// would be most of this test's time. Nothing here waits for a key
		// to expire.
		m.ClockTTL(false)
	}
	w.realNoon()
	w.Outreach.Queue = queue.NewClient(r)
	// As in production: the killed worker's tasks go back to the queue by
	// themselves, and the reconciler is there for what it left sending. A
	// shorter StaleQueued would have each run try again the task of every
	// message not yet sent, 1,000 and more.
	w.Outreach.Rules.StaleQueued = time.Minute
	residents(t, w, "c1", n)
	c := w.campaign(t, "c1", outreach.CampaignInput{})
	if c.Stats.Queued != n {
		t.Fatalf("campaign: %+v, want %d queued", c.Stats, n)
	}
	w.Fake.set(func(f *fake) { f.delay = time.Millisecond })
	stop := startWorkerN(t, w, r, 16)
	t0 := time.Now()
	if _, err := w.Outreach.SendCampaign(w.as(t, "c1.staff", "c1"), c.ID); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(2 * time.Minute); w.Fake.count() < n/3; time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the first worker sent only %d of %d", w.Fake.count(), n)
		}
	}
	stop()
	killed := w.Fake.count()
	t.Logf("first worker killed after %d of %d sent (%s)", killed, n, time.Since(t0).Round(time.Millisecond))
	if killed >= n {
		t.Fatalf("the first worker sent all %d before it was killed: the restart was not tested", killed)
	}
	startWorkerN(t, w, r, 16)
	// Registered after the worker's stop, so it runs before it: the tasks
	// are seen where the worker left them.
	t.Cleanup(func() {
		if t.Failed() {
			logQueues(t, r)
		}
	})
	st := untilEvery(t, w, c.ID, allSent, 3*time.Minute, time.Second)
	t.Logf("all sent %s after the start", time.Since(t0).Round(time.Millisecond))
	if st.Total != n {
		t.Fatalf("stats %+v, want %d messages", st, n)
	}
	if d := w.Fake.twice(); len(d) > 0 || w.Fake.count() != n {
		t.Fatalf("sent twice: %d, such as %v; sent %d of %d", len(d), d[:min(len(d), 5)], w.Fake.count(), n)
	}
	everySentOnce(t, w, c.ID, n)
}

// logQueues says where the tasks are, for a test that failed.
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

// residents adds n residents to org, each with a phone of its own, 100 to
// a household without a phone, in SQL: the roster's service, one household
// at a time, would take longer than the sending under test.
func residents(t testing.TB, w *world, org string, n int) {
	t.Helper()
	ctx := context.Background()
	tenant := w.District.Org(t, org).ID
	now := time.Now().UTC()
	prefix := fmt.Sprintf("r%d-", seq.Add(1))
	err := w.DB.AcrossTenants(ctx, "test fixture", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		var grid string
		if err := tx.NewRaw("SELECT id FROM grids WHERE tenant_id = ? ORDER BY slug LIMIT 1", tenant).Scan(ctx, &grid); err != nil {
			return fmt.Errorf("grid: %w", err)
		}
		if _, err := tx.NewRaw(`INSERT INTO households (id, tenant_id, grid_id, address, address_key, tags, created_at, updated_at)
			WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i + 1 < ?)
			SELECT ? || 'h' || CAST(i AS TEXT), ?, ?, '测试路 ' || CAST(i AS TEXT) || ' 号', ? || CAST(i AS TEXT), '[]', ?, ? FROM s`,
			(n+99)/100, prefix, tenant, grid, prefix, now, now).Exec(ctx); err != nil {
			return fmt.Errorf("households: %w", err)
		}
		_, err := tx.NewRaw(`INSERT INTO residents (id, tenant_id, household_id, grid_id, name, phone, tags, created_at, updated_at)
			WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i + 1 < ?)
			SELECT ? || CAST(i AS TEXT), ?, ? || 'h' || CAST(i / 100 AS TEXT), ?, '居民' || CAST(i AS TEXT),
				CAST(13700000000 + i AS TEXT), '[]', ?, ? FROM s`,
			n, prefix, tenant, prefix, grid, now, now).Exec(ctx)
		if err != nil {
			return fmt.Errorf("residents: %w", err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
}

// everySentOnce checks that each of the campaign's n messages is listed
// sent and was handed to the provider exactly once, and that the provider
// got nothing else.
func everySentOnce(t *testing.T, w *world, campaign string, n int) {
	t.Helper()
	ctx := w.as(t, "c1.staff", "c1")
	var bad []string
	listed, cursor := 0, ""
	for {
		page, next, err := w.Outreach.ListMessages(ctx, outreach.Filter{Campaign: campaign, Limit: 500, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		w.Fake.mu.Lock()
		for _, m := range page {
			listed++
			if k := w.Fake.sends[m.ID]; m.Status != outreach.StatusSent || k != 1 {
				bad = append(bad, fmt.Sprintf("%s %s %q, at the provider %d times", m.ID, m.Status, m.Error, k))
			}
		}
		w.Fake.mu.Unlock()
		if cursor = next; cursor == "" {
			break
		}
	}
	if len(bad) > 0 {
		t.Errorf("%d messages not sent exactly once, such as %v", len(bad), bad[:min(len(bad), 5)])
	}
	if listed != n || w.Fake.count() != n {
		t.Fatalf("%d messages listed, %d at the provider; want %d", listed, w.Fake.count(), n)
	}
}

// TestRedisFlushedMidCampaign: every task is lost; the reconciler queues
// the messages again from the outbox, and none goes twice.
func TestRedisFlushedMidCampaign(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := queuetest.New(t)
	c := queued(t, w, r, 60)
	w.Fake.set(func(f *fake) { f.delay = 5 * time.Millisecond })
	startWorker(t, w, r)
	if _, err := w.Outreach.SendCampaign(w.as(t, "c1.staff", "c1"), c.ID); err != nil {
		t.Fatal(err)
	}
	for w.Fake.count() < 10 {
		time.Sleep(5 * time.Millisecond)
	}
	if err := r.Client.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	until(t, w, c.ID, allSent, 30*time.Second)
	if d := w.Fake.twice(); len(d) > 0 || w.Fake.count() != 60 {
		t.Fatalf("sent twice: %v; sent %d of 60", d, w.Fake.count())
	}
}

// TestProviderErrors: 500s then recovery send everything; a permanent
// error fails the message with the provider's reason.
func TestProviderErrors(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := queuetest.New(t)
	c := queued(t, w, r, 20)
	ids := messageIDs(t, w, c.ID)
	_ = ids
	var bad string
	page, _, _ := w.Outreach.ListMessages(w.as(t, "c1.staff", "c1"), outreach.Filter{Campaign: c.ID, Limit: 1})
	bad = page[0].Phone
	w.Fake.set(func(f *fake) { f.transient = 15; f.permanent[bad] = "号码无效" })
	startWorker(t, w, r)
	if _, err := w.Outreach.SendCampaign(w.as(t, "c1.staff", "c1"), c.ID); err != nil {
		t.Fatal(err)
	}
	st := until(t, w, c.ID, func(st outreach.Stats) bool { return st.Sent == 19 && st.Failed == 1 }, 30*time.Second)
	if st.Total != 20 {
		t.Fatalf("%+v", st)
	}
	failed, _, err := w.Outreach.ListMessages(w.as(t, "c1.staff", "c1"), outreach.Filter{Campaign: c.ID, Status: "failed", Limit: 10})
	if err != nil || len(failed) != 1 || failed[0].Error != "号码无效" || failed[0].Phone != bad {
		t.Fatalf("failed: %+v %v", failed, err)
	}
	if d := w.Fake.twice(); len(d) > 0 {
		t.Fatalf("sent twice: %v", d)
	}
	// retry-failed sends the failed one only.
	w.Fake.set(func(f *fake) { delete(f.permanent, bad) })
	if _, err := w.Outreach.RetryFailedCampaign(w.as(t, "c1.staff", "c1"), c.ID); err != nil {
		t.Fatal(err)
	}
	until(t, w, c.ID, allSent, 30*time.Second)
	if d := w.Fake.twice(); len(d) > 0 || w.Fake.count() != 20 {
		t.Fatalf("after retry: twice %v, %d sent", d, w.Fake.count())
	}
}

// TestTwoWorkersAtOnce: every message's task runs in two workers at the
// same moment; the claim lets one send.
func TestTwoWorkersAtOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.realNoon()
	w.households(t, "c1", "c1-g1", 40)
	c := w.campaign(t, "c1", outreach.CampaignInput{})
	if _, err := w.Outreach.SendCampaign(w.as(t, "c1.staff", "c1"), c.ID); err != nil {
		t.Fatal(err)
	}
	task := w.tenant(t, "c1")
	var wg sync.WaitGroup
	for _, id := range messageIDs(t, w, c.ID) {
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := w.Outreach.SendMessage(task, id); err != nil {
					t.Errorf("send: %v", err)
				}
			}()
		}
	}
	wg.Wait()
	if d := w.Fake.twice(); len(d) > 0 || w.Fake.count() != 40 {
		t.Fatalf("sent twice: %v; %d of 40", d, w.Fake.count())
	}
}

// TestAbandonedSendResolved: a row left sending by a worker that died is
// asked about, never sent again.
func TestAbandonedSendResolved(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.realNoon()
	w.households(t, "c1", "c1-g1", 2)
	c := w.campaign(t, "c1", outreach.CampaignInput{})
	staff := w.as(t, "c1.staff", "c1")
	if _, err := w.Outreach.SendCampaign(staff, c.ID); err != nil {
		t.Fatal(err)
	}
	ids := messageIDs(t, w, c.ID)
	// One reached the provider before the crash, the other did not.
	w.Fake.set(func(f *fake) { f.sends[ids[0]] = 1 })
	stamp := time.Now().Add(w.clock.shift).Add(-time.Hour)
	for _, id := range ids {
		execAcross(t, w, "UPDATE outreach_messages SET status = 'sending', sending_at = ?, attempts = 1 WHERE id = ?", stamp, id)
	}
	if err := w.Outreach.SendMessage(w.tenant(t, "c1"), ids[1]); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Outreach.Reconcile(staff); err != nil {
		t.Fatal(err)
	}
	st := w.get(t, "c1", c.ID).Stats
	if st.Sent != 1 || st.Unknown != 1 || w.Fake.count() != 1 {
		t.Fatalf("after resolving: %+v, provider has %d", st, w.Fake.count())
	}
}

// cancelAtClaim cancels a context when the claim's UPDATE goes to the
// database, as a worker's stop would.
type cancelAtClaim struct {
	once   sync.Once
	cancel context.CancelFunc
}

func (h *cancelAtClaim) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	if strings.HasPrefix(e.Query, "UPDATE") && strings.Contains(e.Query, "outreach_messages") && strings.Contains(e.Query, "'sending'") {
		h.once.Do(h.cancel)
	}
	return ctx
}

func (*cancelAtClaim) AfterQuery(context.Context, *bun.QueryEvent) {}

// TestClaimOutlivesWorkerStop: the worker stops in the middle of a claim.
// A claim begun is finished and its message sent: on PostgreSQL a COMMIT
// cut short by the cancellation may be committed all the same, and a row
// claimed but never sent would end unknown after the reconciler asked the
// provider.
func TestClaimOutlivesWorkerStop(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.realNoon()
	w.households(t, "c1", "c1-g1", 1)
	c := w.campaign(t, "c1", outreach.CampaignInput{})
	if _, err := w.Outreach.SendCampaign(w.as(t, "c1.staff", "c1"), c.ID); err != nil {
		t.Fatal(err)
	}
	ids := messageIDs(t, w, c.ID)
	ctx, cancel := context.WithCancel(w.tenant(t, "c1"))
	defer cancel()
	w.DB.DB = w.DB.WithQueryHook(&cancelAtClaim{cancel: cancel})
	if err := w.Outreach.SendMessage(ctx, ids[0]); err != nil {
		t.Fatalf("send: %v", err)
	}
	if ctx.Err() == nil {
		t.Fatal("the claim was never seen: the hook no longer matches it")
	}
	if st := w.get(t, "c1", c.ID).Stats; st.Sent != 1 || w.Fake.count() != 1 {
		t.Fatalf("after a stop mid-claim: %+v, provider has %d", st, w.Fake.count())
	}
}

// TestReconcileRetriesOnlyWhatIsMissing: a long campaign's old queued rows
// whose tasks are still in the queue are not retried every run; tasks
// that Redis lost are, and only real additions are counted.
func TestReconcileRetriesOnlyWhatIsMissing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := queuetest.New(t)
	c := queued(t, w, r, 5)
	insp := queue.NewInspector(r)
	t.Cleanup(func() { _ = insp.Close() })
	w.Outreach.Backlog = queue.Backlog(insp, queue.QueueMessages)
	staff := w.as(t, "c1.staff", "c1")
	if _, err := w.Outreach.SendCampaign(staff, c.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := w.Outreach.Dispatch(w.tenant(t, "c1"), c.ID); err != nil || n != 5 {
		t.Fatalf("dispatch: %d %v", n, err)
	}
	// No worker runs: the five tasks wait in the queue past StaleQueued.
	time.Sleep(400 * time.Millisecond)
	calls := &countingEnqueuer{Enqueuer: w.Outreach.Queue}
	w.Outreach.Queue = calls
	if rec, err := w.Outreach.Reconcile(staff); err != nil || rec.Requeued != 0 || calls.n.Load() != 0 {
		t.Fatalf("with every task in the queue: %+v %v, %d calls to Redis", rec, err, calls.n.Load())
	}
	// Without the backlog's count, each is tried and none is new.
	w.Outreach.Backlog = nil
	if rec, err := w.Outreach.Reconcile(staff); err != nil || rec.Requeued != 0 {
		t.Fatalf("retrying tasks still queued: %+v %v", rec, err)
	}
	w.Outreach.Backlog = queue.Backlog(insp, queue.QueueMessages)
	if err := r.Client.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	if rec, err := w.Outreach.Reconcile(staff); err != nil || rec.Requeued != 5 {
		t.Fatalf("after Redis lost them: %+v %v", rec, err)
	}
}

type countingEnqueuer struct {
	queue.Enqueuer
	n atomic.Int64
}

func (c *countingEnqueuer) EnqueueContext(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error) {
	c.n.Add(1)
	return c.Enqueuer.EnqueueContext(ctx, t, opts...)
}

// TestRedisLossRequeuedAtOnce: Redis loses every task mid-campaign. The
// send queue is then empty while the campaign runs, and the worker's
// watch queues the rest again at once: the campaign is all sent within a
// few seconds of the loss, not once its rows are StaleQueued old (a
// minute, and the reconciler's next run after that), and none twice. The
// reconciler does not run here.
func TestRedisLossRequeuedAtOnce(t *testing.T) {
	t.Parallel()
	const n = 60
	w := newWorld(t)
	r := queuetest.New(t)
	c := queued(t, w, r, n)
	w.Outreach.Rules.StaleQueued = 0 // the default, a minute
	insp := queue.NewInspector(r)
	t.Cleanup(func() { _ = insp.Close() })
	w.Outreach.Backlog = queue.Backlog(insp, queue.QueueMessages)
	w.Fake.set(func(f *fake) { f.delay = 5 * time.Millisecond })
	startWorkerN(t, w, r, 2)
	ctx, stop := context.WithCancel(context.Background())
	watching := make(chan struct{})
	go func() { defer close(watching); w.Outreach.WatchQueue(ctx, 200*time.Millisecond) }()
	t.Cleanup(func() { stop(); <-watching })
	if _, err := w.Outreach.SendCampaign(w.as(t, "c1.staff", "c1"), c.ID); err != nil {
		t.Fatal(err)
	}
	for w.Fake.count() < 10 {
		time.Sleep(2 * time.Millisecond)
	}
	if err := r.Client.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	lost := time.Now()
	if w.Fake.count() >= n {
		t.Fatal("all sent before Redis was flushed: the loss was not tested")
	}
	for w.Fake.count() < n {
		if time.Since(lost) > 5*time.Second {
			logQueues(t, r)
			t.Fatalf("%d of %d sent 5 s after Redis lost its tasks: %+v", w.Fake.count(), n, w.get(t, "c1", c.ID).Stats)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("all %d sent %s after Redis lost its tasks", n, time.Since(lost).Round(time.Millisecond))
	if d := w.Fake.twice(); len(d) > 0 {
		t.Fatalf("sent twice: %v", d)
	}
}
