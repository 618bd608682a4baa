package outreach_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"

	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/outreach/provider"
	"github.com/wanjia/wanjia/pkg/queue"
	"github.com/wanjia/wanjia/pkg/queue/queuetest"
	"github.com/wanjia/wanjia/pkg/store"
)

// notify writes ns in a transaction of org's tenant, as isolation does.
func notify(t testing.TB, w *world, org string, ns ...outreach.Notice) int {
	t.Helper()
	var n int
	err := w.DB.InTenantTx(w.tenant(t, org), func(ctx context.Context, tx *store.TenantTx) error {
		var err error
		n, err = w.Outreach.Notify(ctx, tx, ns...)
		return err
	})
	if err != nil {
		t.Fatalf("notify: %v", err)
	}
	return n
}

// about lists subject's messages in org, by key.
func about(t testing.TB, w *world, org, subject string) map[string]outreach.NoticeView {
	t.Helper()
	vs, err := w.Outreach.MessagesAbout(w.as(t, org+".staff", org), subject)
	if err != nil {
		t.Fatalf("messages about %s: %v", subject, err)
	}
	out := make(map[string]outreach.NoticeView, len(vs))
	for _, v := range vs {
		if _, dup := out[v.Key]; dup {
			t.Fatalf("key %s listed twice", v.Key)
		}
		out[v.Key] = v
	}
	return out
}

func phone(i int) string { return fmt.Sprintf("1370000%04d", i) }

// TestNotifyKeyOnce: a key is one message per community, whether it comes
// twice in one call, again in a later transaction, or from two
// transactions at once; another community's same key is its own; a bad
// notice writes nothing of its call.
func TestNotifyKeyOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	n := func(key string) outreach.Notice {
		return outreach.Notice{Key: key, Phone: phone(1), Text: "请完成今日健康打卡", Subject: "isolation:case-1"}
	}
	if got := notify(t, w, "c1", n("checkin:case-1:2020-02-03"), n("release:case-1"), n("checkin:case-1:2020-02-03")); got != 2 {
		t.Fatalf("first call wrote %d, want 2", got)
	}
	if got := notify(t, w, "c1", n("checkin:case-1:2020-02-03")); got != 0 {
		t.Fatalf("the key again wrote %d, want 0", got)
	}
	// Two transactions at once: the second writes while the first, which
	// wrote the key too, has not committed.
	wrote := make(chan struct{})
	release := make(chan struct{})
	var first, second int
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		_ = w.DB.InTenantTx(w.tenant(t, "c1"), func(ctx context.Context, tx *store.TenantTx) error {
			var err error
			first, err = w.Outreach.Notify(ctx, tx, n("checkin:case-1:2020-02-04"))
			close(wrote)
			<-release
			return err
		})
	}()
	<-wrote
	go func() {
		defer wg.Done()
		second = notify(t, w, "c1", n("checkin:case-1:2020-02-04"))
	}()
	time.Sleep(200 * time.Millisecond)
	close(release)
	wg.Wait()
	if first+second != 1 {
		t.Fatalf("two transactions wrote %d and %d, want one message", first, second)
	}
	if got := notify(t, w, "c2", n("release:case-1")); got != 1 {
		t.Fatalf("c2's own key wrote %d, want 1", got)
	}
	if m := about(t, w, "c1", "isolation:case-1"); len(m) != 3 {
		t.Fatalf("c1's messages: %d, want 3: %v", len(m), m)
	}
	// One bad notice: nothing of the call is written.
	err := w.DB.InTenantTx(w.tenant(t, "c1"), func(ctx context.Context, tx *store.TenantTx) error {
		_, err := w.Outreach.Notify(ctx, tx, n("release:case-9"), outreach.Notice{Key: "x", Phone: "12", Text: "x"})
		return err
	})
	if f := fields(err); f != "notices[1].phone=phone_format" {
		t.Fatalf("a bad phone: %v (%q)", err, f)
	}
	if m := about(t, w, "c1", "isolation:case-1"); len(m) != 3 {
		t.Fatalf("after a refused call: %d messages, want 3", len(m))
	}
}

// TestNotifyRules: a resident's notice obeys the opt-out list, quiet
// hours and the daily cap; an urgent alert obeys none of them.
func TestNotifyRules(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	staff := w.as(t, "c1.staff", "c1")
	task := w.tenant(t, "c1")
	send := func(subject string) map[string]outreach.NoticeView {
		t.Helper()
		for _, v := range about(t, w, "c1", subject) {
			if err := w.Outreach.SendMessage(task, v.ID); err != nil {
				t.Fatalf("send: %v", err)
			}
		}
		return about(t, w, "c1", subject)
	}
	notice := func(key, ph string, urgent bool, subject string) outreach.Notice {
		return outreach.Notice{Key: key, Phone: ph, Text: "通知", Urgent: urgent, Subject: subject}
	}
	if _, err := w.Outreach.AddOptOut(staff, outreach.OptOutInput{Phone: phone(1)}); err != nil {
		t.Fatal(err)
	}
	notify(t, w, "c1", notice("n-opt", phone(1), false, "opt"), notice("a-opt", phone(1), true, "opt"))
	// Quiet hours: 22:30 in Beijing.
	w.clock.t = time.Date(2020, 2, 3, 14, 30, 0, 0, time.UTC)
	notify(t, w, "c1", notice("n-night", phone(2), false, "night"), notice("a-night", phone(2), true, "night"))
	night := send("night")
	w.clock.t = time.Date(2020, 2, 3, 2, 0, 0, 0, time.UTC) // back to 10:00
	opt := send("opt")
	// The cap: five a day to one phone; the sixth and seventh are one
	// resident's notice and one alert.
	for i := range 5 {
		notify(t, w, "c1", notice(fmt.Sprintf("n-cap-%d", i), phone(3), false, "cap-first"))
	}
	send("cap-first")
	notify(t, w, "c1", notice("n-cap-6", phone(3), false, "cap"), notice("a-cap-7", phone(3), true, "cap"))
	capped := send("cap")

	for _, c := range []struct {
		name string
		got  outreach.NoticeView
		want string
	}{
		{"opted-out resident", opt["n-opt"], outreach.StatusSkippedOptOut},
		{"alert to an opted-out phone", opt["a-opt"], outreach.StatusSent},
		{"resident at night", night["n-night"], outreach.StatusHeldQuietHours},
		{"alert at night", night["a-night"], outreach.StatusSent},
		{"resident's sixth of the day", capped["n-cap-6"], outreach.StatusSkippedDailyCap},
		{"alert past the cap", capped["a-cap-7"], outreach.StatusSent},
	} {
		if c.got.Status != c.want {
			t.Errorf("%s: %s, want %s", c.name, c.got.Status, c.want)
		}
	}
	if !opt["a-opt"].Urgent || opt["n-opt"].Urgent {
		t.Errorf("urgent as listed: alert %v, notice %v", opt["a-opt"].Urgent, opt["n-opt"].Urgent)
	}
	// A system campaign is no staff's to list or move.
	cs, _, err := w.Outreach.ListCampaigns(staff, outreach.Filter{Limit: 50})
	if err != nil || len(cs) != 0 {
		t.Fatalf("campaigns listed: %d %v", len(cs), err)
	}
	if _, err := w.Outreach.PauseCampaign(staff, "system-notices-sms"); err == nil {
		t.Fatal("the notices' system campaign was paused")
	}
	// The reconciler finds nothing left to send, and the system campaigns
	// keep running: the next notice still goes.
	if _, err := w.Outreach.Reconcile(staff); err != nil {
		t.Fatal(err)
	}
	notify(t, w, "c1", notice("n-after", phone(6), false, "after"), notice("a-after", phone(6), true, "after"))
	for k, v := range send("after") {
		if v.Status != outreach.StatusSent {
			t.Errorf("%s after the reconciler: %s", k, v.Status)
		}
	}
}

// refusing refuses our credentials until told otherwise.
type refusing struct {
	*fake
	refuse atomic.Bool
}

func (p *refusing) Send(ctx context.Context, m provider.Message) (provider.Sent, error) {
	if p.refuse.Load() {
		return provider.Sent{}, &provider.Error{Credentials: true, Code: "InvalidAccessKeyId.NotFound", Reason: "bad key"}
	}
	return p.fake.Send(ctx, m)
}

// TestNoticeWaitsOutRefusedCredentials: a notice the provider refuses for
// our credentials goes back to queued, its attempt not counted, and its
// system campaign is not paused (no one would resume it): once the
// credentials are fixed it is sent, and so are the notices after it.
func TestNoticeWaitsOutRefusedCredentials(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	p := &refusing{fake: w.Fake}
	p.refuse.Store(true)
	w.Outreach.Provider = p
	w.Outreach.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	task := w.tenant(t, "c1")
	notify(t, w, "c1", outreach.Notice{Key: "k1", Phone: phone(11), Text: "打卡", Subject: "creds"})
	if err := w.Outreach.SendMessage(task, about(t, w, "c1", "creds")["k1"].ID); !isLater(err) {
		t.Fatalf("refused credentials: %v, want a wait", err)
	}
	if v := about(t, w, "c1", "creds")["k1"]; v.Status != outreach.StatusQueued {
		t.Fatalf("after refused credentials: %s", v.Status)
	}
	p.refuse.Store(false)
	notify(t, w, "c1", outreach.Notice{Key: "k2", Phone: phone(12), Text: "打卡", Subject: "creds"})
	// Due a minute later: the test's clock moves past it.
	w.clock.t = w.clock.t.Add(2 * time.Minute)
	for _, v := range about(t, w, "c1", "creds") {
		if err := w.Outreach.SendMessage(task, v.ID); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range about(t, w, "c1", "creds") {
		if v.Status != outreach.StatusSent {
			t.Errorf("%s once the credentials are fixed: %s", k, v.Status)
		}
	}
}

// TestNotifyExactlyOnceThroughWorker: notices and alerts reach the
// provider once each through a worker, with their tasks queued twice, the
// send of each also run a second time beside the worker (a task
// delivered twice), and then, for a second lot, with Redis flushed before
// any task ran and two reconcilers running side by side.
func TestNotifyExactlyOnceThroughWorker(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := queuetest.New(t)
	w.realNoon()
	w.Outreach.Queue = queue.NewClient(r)
	lot := func(name string, n int) []outreach.Notice {
		var out []outreach.Notice
		for i := range n {
			out = append(out, outreach.Notice{Key: fmt.Sprintf("%s:%d", name, i), Phone: phone(100 + len(name)*100 + i),
				Text: "请完成今日健康打卡", Urgent: i%3 == 0, Subject: name})
		}
		return out
	}
	first := lot("first", 30)
	if got := notify(t, w, "c1", first...); got != 30 {
		t.Fatalf("wrote %d", got)
	}
	startWorker(t, w, r)
	for range 2 {
		if err := w.Outreach.NotifyTasks(w.tenant(t, "c1"), first...); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for _, v := range about(t, w, "c1", "first") {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.Outreach.SendMessage(w.tenant(t, "c1"), v.ID); err != nil && !isLater(err) {
				t.Errorf("second delivery: %v", err)
			}
		}()
	}
	wg.Wait()

	second := lot("second", 30)
	notify(t, w, "c1", second...)
	if err := r.Client.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		done := true
		for _, subject := range []string{"first", "second"} {
			for k, v := range about(t, w, "c1", subject) {
				if v.Status != outreach.StatusSent {
					done = false
					if time.Now().After(deadline) {
						t.Fatalf("%s: %s", k, v.Status)
					}
				}
			}
		}
		if done {
			break
		}
		var rg sync.WaitGroup
		for range 2 {
			rg.Add(1)
			go func() {
				defer rg.Done()
				if _, err := w.Outreach.Reconcile(w.tenant(t, "c1")); err != nil {
					t.Logf("reconcile: %v", err)
				}
			}()
		}
		rg.Wait()
		time.Sleep(200 * time.Millisecond)
	}
	if d := w.Fake.twice(); len(d) > 0 || w.Fake.count() != 60 {
		t.Fatalf("sent twice: %v; %d of 60 sent", d, w.Fake.count())
	}
}

// TestAlertOwnBucket: with the community's bucket empty (a campaign at
// one a second), a resident's notice waits for it, and an alert does not.
func TestAlertOwnBucket(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := queuetest.New(t)
	w.realNoon()
	w.Outreach.Limiter = redis_rate.NewLimiter(r.Client)
	w.Outreach.Rules.TenantRate = 1
	w.households(t, "c1", "c1-g1", 3)
	c := w.campaign(t, "c1", outreach.CampaignInput{})
	if _, err := w.Outreach.SendCampaign(w.as(t, "c1.staff", "c1"), c.ID); err != nil {
		t.Fatal(err)
	}
	task := w.tenant(t, "c1")
	emptied := false
	for _, id := range messageIDs(t, w, c.ID) {
		if err := w.Outreach.SendMessage(task, id); isLater(err) {
			emptied = true
			break
		}
	}
	if !emptied {
		t.Fatal("the community's bucket never ran dry")
	}
	notify(t, w, "c1", outreach.Notice{Key: "checkin:x", Phone: phone(7), Text: "打卡", Subject: "bucket"},
		outreach.Notice{Key: "alert:x:1", Phone: phone(8), Text: "发热预警", Urgent: true, Subject: "bucket"})
	m := about(t, w, "c1", "bucket")
	if err := w.Outreach.SendMessage(task, m["checkin:x"].ID); !isLater(err) {
		t.Fatalf("a resident's notice with the bucket empty: %v, want a wait", err)
	}
	if err := w.Outreach.SendMessage(task, m["alert:x:1"].ID); err != nil {
		t.Fatalf("an alert with the campaign's bucket empty: %v", err)
	}
	if v := about(t, w, "c1", "bucket")["alert:x:1"]; v.Status != outreach.StatusSent {
		t.Fatalf("alert: %s", v.Status)
	}
}

// TestAlertWhileCampaignRuns: a fever alert written while a long campaign
// at five a second is sending reaches the provider within 3 s: its task is
// on the critical queue and its tokens in its own bucket, so it waits
// behind neither the campaign's tasks nor its rate.
func TestAlertWhileCampaignRuns(t *testing.T) {
	t.Parallel()
	const n = 1000
	w := newWorld(t)
	r := queuetest.New(t)
	if m := r.Embedded(); m != nil {
		m.ClockTTL(false) // see TestExactlyOnceAcrossWorkerRestart
	}
	w.realNoon()
	w.Outreach.Queue = queue.NewClient(r)
	w.Outreach.Limiter = redis_rate.NewLimiter(r.Client)
	w.Outreach.Rules.TenantRate = 5
	w.Outreach.Rules.StaleQueued = time.Minute
	residents(t, w, "c1", n)
	c := w.campaign(t, "c1", outreach.CampaignInput{})
	startWorker(t, w, r)
	if _, err := w.Outreach.SendCampaign(w.as(t, "c1.staff", "c1"), c.ID); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); w.Fake.count() < 10; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the campaign is not sending: %d sent", w.Fake.count())
		}
	}
	alert := outreach.Notice{Key: "alert:fever-1:" + phone(9), Phone: phone(9), Text: "发热预警：3 号楼 502 体温 38.6", Urgent: true, Subject: "fever"}
	t0 := time.Now()
	notify(t, w, "c1", alert)
	if err := w.Outreach.NotifyTasks(w.tenant(t, "c1"), alert); err != nil {
		t.Fatal(err)
	}
	id := about(t, w, "c1", "fever")[alert.Key].ID
	for {
		if _, ok := w.Fake.handed(id); ok {
			break
		}
		if time.Since(t0) > 3*time.Second {
			logQueues(t, r)
			t.Fatalf("the alert was not sent 3 s after it was written; the campaign: %+v", w.get(t, "c1", c.ID).Stats)
		}
		time.Sleep(5 * time.Millisecond)
	}
	st := w.get(t, "c1", c.ID).Stats
	t.Logf("alert sent %s after it was written, with %d of the campaign's %d sent", time.Since(t0).Round(time.Millisecond), st.Sent, n)
	if st.Sent > n/2 {
		t.Fatalf("the campaign was nearly done (%d of %d): the alert did not have to pass it", st.Sent, n)
	}
}

// replyHandler takes replies that look like a temperature; it fails as
// many times as told, and writes an alert in the reply's transaction.
type replyHandler struct {
	mu    sync.Mutex
	fail  int
	calls []outreach.Reply
	svc   *outreach.Service
}

func (h *replyHandler) HandleReply(ctx context.Context, tx *store.TenantTx, r outreach.Reply) (bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, r)
	if r.ID == "" {
		return false, errors.New("no reply id")
	}
	if _, err := h.svc.Notify(ctx, tx, outreach.Notice{Key: "alert:reply-" + r.ID, Phone: phone(4242), Text: "发热：" + r.Text,
		Urgent: true, Subject: "replies"}); err != nil {
		return false, err
	}
	if h.fail > 0 {
		h.fail--
		return false, errors.New("isolation is down")
	}
	return true, nil
}

// TestReplyHandlerRetried: a reply whose handler fails is not kept (the
// hook answers 503), so the provider's retry of it is handled, not
// dropped as a duplicate; the retry after a success is dropped. The alert
// the handler writes commits with the reply, once, and is queued after
// the commit.
func TestReplyHandlerRetried(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := queuetest.New(t)
	w.realNoon()
	calls := &countingEnqueuer{Enqueuer: queue.NewClient(r)}
	w.Outreach.Queue = calls
	h := &replyHandler{fail: 1, svc: w.Outreach}
	w.Outreach.Replies = h
	// The community wrote to the phone today: its reply is the community's.
	checkin := outreach.Notice{Key: "checkin:c:1", Phone: phone(5), Text: "请回复体温", Subject: "case"}
	notify(t, w, "c1", checkin)
	if err := w.Outreach.SendMessage(w.tenant(t, "c1"), about(t, w, "c1", "case")[checkin.Key].ID); err != nil {
		t.Fatal(err)
	}
	in := inbound(phone(5), "38.2", "up-1")
	if err := w.Outreach.Inbound(context.Background(), in); err == nil {
		t.Fatal("a failed handler was acknowledged")
	}
	if got := about(t, w, "c1", "replies"); len(got) != 0 {
		t.Fatalf("the failed handler's alert was kept: %v", got)
	}
	for range 2 { // the provider's retry, then a duplicate of it
		if err := w.Outreach.Inbound(context.Background(), in); err != nil {
			t.Fatalf("retry: %v", err)
		}
	}
	if len(h.calls) != 2 {
		t.Fatalf("handler called %d times, want 2 (the failure and the retry)", len(h.calls))
	}
	replies, _, err := w.Outreach.ListReplies(w.as(t, "c1.staff", "c1"), outreach.Filter{Limit: 10})
	if err != nil || len(replies) != 1 || replies[0].Kind != "handled" || replies[0].ID != h.calls[1].ID {
		t.Fatalf("replies: %+v %v; want the retry's, handled", replies, err)
	}
	alerts := about(t, w, "c1", "replies")
	if len(alerts) != 1 || calls.n.Load() != 1 {
		t.Fatalf("alerts written %d, tasks queued %d: want 1 and 1", len(alerts), calls.n.Load())
	}
}

func isLater(err error) bool {
	var l *queue.LaterError
	return errors.As(err, &l)
}

func inbound(from, text, providerID string) provider.Inbound {
	return provider.Inbound{From: from, Text: text, ProviderID: providerID}
}

// TestMessagesAbout: a subject's messages, newest first, the phone whole
// for staff and masked for an official, and each read recorded with the
// ids it returned; another subject's and another community's are not
// listed.
func TestMessagesAbout(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rec := &reads{}
	w.Outreach.Reads = rec
	notify(t, w, "c1", outreach.Notice{Key: "checkin:a:1", Phone: phone(31), Text: "一", Subject: "isolation:a"})
	notify(t, w, "c1", outreach.Notice{Key: "alert:a:1", Phone: phone(32), Text: "二", Urgent: true, Subject: "isolation:a"},
		outreach.Notice{Key: "checkin:b:1", Phone: phone(33), Text: "三", Subject: "isolation:b"})
	notify(t, w, "c2", outreach.Notice{Key: "checkin:a:1", Phone: phone(34), Text: "四", Subject: "isolation:a"})
	for _, c := range []struct {
		name, user, phone string
	}{
		{"staff", "c1.staff", phone(32)},
		{"official", "sub.official", phone(32)[:3] + "****" + phone(32)[7:]},
	} {
		vs, err := w.Outreach.MessagesAbout(w.as(t, c.user, "c1"), "isolation:a")
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if len(vs) != 2 || vs[0].Key != "alert:a:1" || !vs[0].Urgent || vs[1].Key != "checkin:a:1" || vs[0].Phone != c.phone ||
			vs[0].CreatedAt.IsZero() {
			t.Fatalf("%s: %+v", c.name, vs)
		}
		e := rec.last("outreach_messages")
		if e == nil || len(e.details["ids"].([]string)) != 2 {
			t.Fatalf("%s: read recorded as %+v", c.name, e)
		}
	}
}
