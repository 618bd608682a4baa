package authn_test

import (
	"context"
	"testing"
	"time"

	"github.com/wanjia/wanjia/pkg/authn"
	"github.com/wanjia/wanjia/pkg/queue"
	"github.com/wanjia/wanjia/pkg/queue/queuetest"
)

// TestThrottleOnCluster: on a Redis Cluster the throttle counts in Redis,
// its scripts' keys in one slot: no CROSSSLOT, and no fall back to the
// process's own count (Admit would return the CROSSSLOT). Revocations
// travel through the cluster too.
func TestThrottleOnCluster(t *testing.T) {
	r, err := queue.OpenRedis(context.Background(), queuetest.Cluster(t))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Kind != queue.RedisCluster {
		t.Fatalf("kind %s, want a cluster", r.Kind)
	}
	ctx := context.Background()
	c := &clock{now: time.Now()}
	// Two replicas: what one counts, the other sees.
	a, b := authn.NewThrottle(r.Client), authn.NewThrottle(r.Client)
	a.Now, b.Now = c.Now, c.Now
	for i := range a.FreeAttempts {
		th := []*authn.Throttle{a, b}[i%2]
		if wait, err := th.Admit(ctx, "alice", "192.0.2.1"); err != nil || wait != 0 {
			t.Fatalf("attempt %d: wait %v, err %v", i+1, wait, err)
		}
	}
	if wait, err := b.Admit(ctx, "alice", "192.0.2.1"); err != nil || wait <= 0 {
		t.Fatalf("after %d failures on two replicas: wait %v, err %v; want a delay", a.FreeAttempts, wait, err)
	}
	if n, err := r.Client.Exists(ctx, "{wanjia:login}:ip:192.0.2.1", "{wanjia:login}:user:alice").Result(); err != nil || n != 2 {
		t.Fatalf("the counters in the cluster: %d, %v; want both", n, err)
	}
	if err := a.Succeeded(ctx, "bob", "192.0.2.9"); err != nil {
		t.Fatal(err)
	}
	if !a.FirstRefusal(ctx, "alice", "192.0.2.1") || b.FirstRefusal(ctx, "alice", "192.0.2.1") {
		t.Fatal("the refusal's audit claim is not once per window across replicas")
	}

	rv1 := authn.NewRevocations(r.Client, time.Minute, nil)
	rv2 := authn.NewRevocations(r.Client, time.Minute, nil)
	rv2.PollInterval = 20 * time.Millisecond
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go rv2.Run(rctx)
	rv1.Revoke(ctx, "sid-1", time.Now())
	for deadline := time.Now().Add(5 * time.Second); !rv2.Revoked("sid-1", time.Now()); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("a revocation did not reach the other replica through the cluster")
		}
	}
}
