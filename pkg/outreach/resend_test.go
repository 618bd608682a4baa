package outreach_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/outreach/provider"
	"github.com/wanjia/wanjia/pkg/queue"
)

// gateway is a deployment's SMS gateway speaking the webhook provider's
// protocol, with the status query: it counts the POSTs of each message id
// (a second POST of an id counts as a second message) and answers a query
// from those counts. holdQuery and holdPost, when set, hold the first
// query (after its answer is computed) or the first POST (before it is
// counted) until they are closed; asked and posted say that it came.
type gateway struct {
	mu        sync.Mutex
	posts     map[string]int
	noQuery   bool // a gateway without the status query: a router's 404
	holdQuery chan struct{}
	holdPost  chan struct{}
	asked     chan struct{}
	posted    chan struct{}
	queries   atomic.Int32
	postsSeen atomic.Int32
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		id := strings.TrimPrefix(r.URL.Path, "/send/")
		g.mu.Lock()
		n, noQuery := g.posts[id], g.noQuery
		g.mu.Unlock()
		if g.holdQuery != nil && g.queries.Add(1) == 1 {
			close(g.asked)
			<-g.holdQuery
		}
		switch {
		case noQuery:
			http.NotFound(w, r)
		case n == 0:
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(map[string]string{"id": id, "status": provider.NotReceived})
		default:
			_ = json.NewEncoder(w).Encode(map[string]string{"id": id, "status": "received"})
		}
		return
	}
	var m struct {
		ID string `json:"id"`
	}
	body, _ := io.ReadAll(r.Body)
	if json.Unmarshal(body, &m) != nil || m.ID == "" {
		http.Error(w, "no id", http.StatusBadRequest)
		return
	}
	if g.holdPost != nil && g.postsSeen.Add(1) == 1 {
		close(g.posted)
		<-g.holdPost
	}
	g.mu.Lock()
	g.posts[m.ID]++
	g.mu.Unlock()
	_ = json.NewEncoder(w).Encode(map[string]string{"id": "gw-" + m.ID})
}

func (g *gateway) count(id string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.posts[id]
}

// useGateway makes w's provider the webhook, posting to a new gateway.
func useGateway(t *testing.T, w *world) *gateway {
	t.Helper()
	g := &gateway{posts: map[string]int{}}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	p, err := provider.NewWebhook(provider.Config{WebhookURL: srv.URL + "/send", WebhookSecret: "resend-test-secret-0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	w.Outreach.Provider = p
	return g
}

// abandonedSend makes a one-message campaign whose message a worker
// claimed and then died with (status sending, an attempt counted, long
// past StaleSending).
func abandonedSend(t *testing.T, w *world) (campaign, id string) {
	t.Helper()
	w.realNoon()
	w.households(t, "c1", "c1-g1", 1)
	c := w.campaign(t, "c1", outreach.CampaignInput{})
	if _, err := w.Outreach.SendCampaign(w.as(t, "c1.staff", "c1"), c.ID); err != nil {
		t.Fatal(err)
	}
	id = messageIDs(t, w, c.ID)[0]
	stamp := time.Now().Add(w.clock.shift).Add(-time.Hour)
	execAcross(t, w, "UPDATE outreach_messages SET status = 'sending', sending_at = ?, attempts = 1 WHERE id = ?", stamp, id)
	return c.ID, id
}

// sendTask runs the message's send task as Asynq would: again for as long
// as it answers queue.Later.
func sendTask(t *testing.T, w *world, id string) {
	t.Helper()
	for i := 0; ; i++ {
		err := w.Outreach.SendMessage(w.tenant(t, "c1"), id)
		var later *queue.LaterError
		if !errors.As(err, &later) {
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			return
		}
		if i == 10 {
			t.Fatalf("send: still %v", err)
		}
	}
}

func statusOf(t *testing.T, w *world, campaign, id string) string {
	t.Helper()
	page, _, err := w.Outreach.ListMessages(w.as(t, "c1.staff", "c1"), outreach.Filter{Campaign: campaign, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range page {
		if m.ID == id {
			return m.Status
		}
	}
	t.Fatalf("message %s not listed", id)
	return ""
}

// TestAbandonedSendSentAgain: a worker killed after claiming a message
// leaves it sending. The resolver asks the provider: the webhook gateway,
// asked by our id, says for certain whether it ever got the message, so
// one it never got is sent again, once, and one it got is sent; a
// provider whose answer is not certain (Aliyun's and Twilio's records lag:
// no record is unknown) or a gateway without the status query leaves it
// unknown, never sent twice.
func TestAbandonedSendSentAgain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		provider   string // "gateway", "no-query gateway", "fake" (answers unknown without a record, as Aliyun and Twilio)
		received   bool   // the provider got the message before the worker died
		byTask     bool   // resolved by the message's own task (else by the reconciler)
		wantStatus string
		wantSends  int
	}{
		{"never received, by the reconciler", "gateway", false, false, outreach.StatusSent, 1},
		{"never received, by its task", "gateway", false, true, outreach.StatusSent, 1},
		{"received, by the reconciler", "gateway", true, false, outreach.StatusSent, 1},
		{"received, by its task", "gateway", true, true, outreach.StatusSent, 1},
		{"a gateway without the query", "no-query gateway", false, false, outreach.StatusUnknown, 0},
		{"a provider without a record", "fake", false, false, outreach.StatusUnknown, 0},
		{"a provider with a record", "fake", true, false, outreach.StatusSent, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			var g *gateway
			if tt.provider != "fake" {
				g = useGateway(t, w)
				g.noQuery = tt.provider == "no-query gateway"
			}
			camp, id := abandonedSend(t, w)
			sends := func() int {
				if g != nil {
					return g.count(id)
				}
				w.Fake.mu.Lock()
				defer w.Fake.mu.Unlock()
				return w.Fake.sends[id]
			}
			if tt.received {
				if g != nil {
					g.posts[id] = 1
				} else {
					w.Fake.set(func(f *fake) { f.sends[id] = 1 })
				}
			}
			if tt.byTask {
				sendTask(t, w, id)
			} else {
				if _, err := w.Outreach.Reconcile(w.as(t, "c1.staff", "c1")); err != nil {
					t.Fatal(err)
				}
				// The task the reconciler queued (no queue here) or the dead
				// worker's own, back from Asynq: it claims what is queued.
				sendTask(t, w, id)
			}
			// Later runs change nothing.
			if _, err := w.Outreach.Reconcile(w.as(t, "c1.staff", "c1")); err != nil {
				t.Fatal(err)
			}
			sendTask(t, w, id)
			if got := statusOf(t, w, camp, id); got != tt.wantStatus || sends() != tt.wantSends {
				t.Fatalf("status %s, provider got it %d times; want %s, %d", got, sends(), tt.wantStatus, tt.wantSends)
			}
			if st := w.get(t, "c1", camp).Stats; st.Sending != 0 {
				t.Fatalf("still sending: %+v", st)
			}
		})
	}
}

// TestTwoResolversSendOnce: two resolvers of one abandoned message (its
// task back from Asynq, and the reconciler) both hear "never received".
// The first sends it again; the second, whose answer came before that
// send, must move nothing, whether the send is done or still going.
func TestTwoResolversSendOnce(t *testing.T) {
	t.Parallel()
	for _, inFlight := range []bool{false, true} {
		name := "the resend done"
		if inFlight {
			name = "the resend in flight"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			g := useGateway(t, w)
			g.holdQuery, g.asked = make(chan struct{}), make(chan struct{})
			if inFlight {
				g.holdPost, g.posted = make(chan struct{}), make(chan struct{})
			}
			camp, id := abandonedSend(t, w)
			// B: the task asks first, and its answer waits.
			bDone := make(chan error, 1)
			go func() { bDone <- w.Outreach.SendMessage(w.tenant(t, "c1"), id) }()
			<-g.asked
			// A: the reconciler asks, hears the same, and sends it again.
			if _, err := w.Outreach.Reconcile(w.as(t, "c1.staff", "c1")); err != nil {
				t.Fatal(err)
			}
			aDone := make(chan struct{})
			go func() { defer close(aDone); sendTask(t, w, id) }()
			if inFlight {
				<-g.posted
			} else {
				<-aDone
			}
			// B's answer arrives now.
			close(g.holdQuery)
			errB := <-bDone
			var later *queue.LaterError
			if errors.As(errB, &later) {
				sendTask(t, w, id) // Asynq runs B's task again
			} else if errB != nil {
				t.Fatal(errB)
			}
			if inFlight {
				close(g.holdPost)
			}
			<-aDone
			if got := statusOf(t, w, camp, id); got != outreach.StatusSent || g.count(id) != 1 {
				t.Fatalf("status %s, the gateway got it %d times", got, g.count(id))
			}
		})
	}
}
