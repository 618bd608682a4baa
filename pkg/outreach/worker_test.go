package outreach_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/queue"
	"github.com/wanjia/wanjia/pkg/queue/queuetest"
	"github.com/wanjia/wanjia/pkg/tenancy"
)

// startWorker runs an Asynq server with outreach's handlers until the
// returned stop is called.
func startWorker(t *testing.T, w *world, r *queue.Redis) (stop func()) {
	t.Helper()
	srv := queue.NewServer(r, queue.ServerOptions{Concurrency: 8, ShutdownTimeout: time.Millisecond})
	mux := asynq.NewServeMux()
	mux.Use(func(next asynq.Handler) asynq.Handler {
		return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
			var p struct {
				TenantID string `json:"tenant_id"`
			}
			if json.Unmarshal(t.Payload(), &p) == nil && p.TenantID != "" {
				ctx = tenancy.With(ctx, tenancy.Scope{TenantID: p.TenantID})
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
	deadline := time.Now().Add(timeout)
	ctx := w.as(t, "c1.staff", "c1")
	for {
		st := w.get(t, "c1", campaign).Stats
		if want(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %+v", st)
		}
		if _, err := w.Outreach.Reconcile(ctx); err != nil {
			t.Logf("reconcile: %v", err)
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

// TestExactlyOnceAcrossWorkerRestart: the worker is stopped mid-campaign
// (its tasks' contexts cancelled), a new one finishes: each message sent
// once.
func TestExactlyOnceAcrossWorkerRestart(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := queuetest.New(t)
	c := queued(t, w, r, 60)
	w.Fake.set(func(f *fake) { f.delay = 5 * time.Millisecond })
	stop := startWorker(t, w, r)
	if _, err := w.Outreach.SendCampaign(w.as(t, "c1.staff", "c1"), c.ID); err != nil {
		t.Fatal(err)
	}
	for w.Fake.count() < 10 {
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	if n := w.Fake.count(); n >= 60 {
		t.Logf("the first worker sent all %d before it stopped", n)
	}
	startWorker(t, w, r)
	until(t, w, c.ID, allSent, 30*time.Second)
	if d := w.Fake.twice(); len(d) > 0 || w.Fake.count() != 60 {
		t.Fatalf("sent twice: %v; sent %d of 60", d, w.Fake.count())
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
