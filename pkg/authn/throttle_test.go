package authn_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wanjia/wanjia/pkg/authn"
	"github.com/wanjia/wanjia/pkg/errs"
)

// clock is a settable time for the throttle's delays.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// fakeClock puts the throttle on a clock the test moves.
func (e *env) fakeClock() *clock {
	c := &clock{now: time.Now()}
	e.svc.Throttle.Now = c.Now
	return c
}

func retryAfter(t *testing.T, err error) int {
	t.Helper()
	v, ok := appError(t, err).Data["retry_after"]
	if !ok {
		t.Fatalf("429 %v has no retry_after", err)
	}
	n, ok := v.(int)
	if !ok {
		t.Fatalf("retry_after = %#v, want an int of seconds", v)
	}
	return n
}

// The finding: 40 parallel wrong passwords for one user were all checked.
// Attempts are now counted before the password is checked, atomically, so
// a burst gets no more checks than the free attempts; the rest are 429. The
// real user elsewhere is not locked out by it.
func TestThrottleParallelBurst(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	checks := authn.CountPasswordChecks(e.svc)
	th := e.svc.Throttle
	const attacker = "198.51.100.7"

	const n = 40
	var wrong, limited atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			_, _, err := e.svc.Login(context.Background(), "alice", fmt.Sprintf("guess-number-%d", i), attacker)
			switch errs.KindOf(err) {
			case errs.KindUnauthenticated:
				wrong.Add(1)
			case errs.KindRateLimited:
				if retryAfter(t, err) < 1 {
					t.Errorf("429 with retry_after < 1")
				}
				limited.Add(1)
			default:
				t.Errorf("attempt %d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()

	got := checks.Load()
	if got > int64(th.FreeAttempts) || got < 1 {
		t.Fatalf("%d of %d parallel attempts had their password checked, want 1..%d", got, n, th.FreeAttempts)
	}
	if wrong.Load() != got || limited.Load() != n-got {
		t.Fatalf("401s = %d, 429s = %d; want %d and %d", wrong.Load(), limited.Load(), got, n-got)
	}
	// The right password from the attacker's address is still refused...
	_, _, err := e.svc.Login(context.Background(), "alice", alicePassword, attacker)
	wantKind(t, err, errs.KindRateLimited)
	// ...but alice at her office signs in.
	if _, _, err := e.svc.Login(context.Background(), "alice", alicePassword, "203.0.113.20"); err != nil {
		t.Fatalf("alice from another address after the burst: %v", err)
	}
}

// After the free attempts each one waits, the wait doubling per failure up
// to the cap; the wait is per (username, IP).
func TestThrottleDelaysDouble(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	clk := e.fakeClock()
	ctx := context.Background()
	th := e.svc.Throttle
	const ip = "198.51.100.8"

	for i := 1; i <= th.FreeAttempts; i++ {
		_, _, err := e.svc.Login(ctx, "alice", "wrong-password", ip)
		wantKind(t, err, errs.KindUnauthenticated)
	}
	want := th.BaseDelay
	for range 8 {
		_, _, err := e.svc.Login(ctx, "alice", alicePassword, ip)
		wantKind(t, err, errs.KindRateLimited)
		if got := time.Duration(retryAfter(t, err)) * time.Second; got < want-time.Second || got > want+time.Second {
			t.Fatalf("retry_after = %v, want %v", got, want)
		}
		// Bob behind the same address is not slowed down.
		if _, _, err := e.svc.Login(ctx, "bob", bobPassword, ip); err != nil {
			t.Fatalf("bob from the same address: %v", err)
		}
		clk.Add(want)
		_, _, err = e.svc.Login(ctx, "alice", "wrong-password", ip)
		wantKind(t, err, errs.KindUnauthenticated)
		want = min(2*want, th.MaxDelay)
	}
	if want != th.MaxDelay {
		t.Fatalf("the delay did not reach the cap: %v", want)
	}
	// The default policy: 15 minutes at most, told in minutes too.
	_, _, err := e.svc.Login(ctx, "alice", alicePassword, ip)
	wantKind(t, err, errs.KindRateLimited)
	if n := retryAfter(t, err); n < 15*60-1 || n > 15*60 {
		t.Fatalf("retry_after = %d s, want 15 minutes", n)
	}
	if m := appError(t, err).Args["minutes"]; m != 15 {
		t.Fatalf("message minutes = %v", m)
	}
	// Once the wait is over the right password works and ends the run.
	clk.Add(th.MaxDelay)
	if _, _, err := e.svc.Login(ctx, "alice", alicePassword, ip); err != nil {
		t.Fatalf("after the wait: %v", err)
	}
	for i := 1; i <= th.FreeAttempts; i++ {
		_, _, err := e.svc.Login(ctx, "alice", "wrong-password", ip)
		wantKind(t, err, errs.KindUnauthenticated)
	}
}

// A success clears the run of failures and gives its attempt back, so an
// honest user who mistypes now and then, or an office where everyone signs
// in, is never locked out.
func TestThrottleSuccessResets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	th := e.svc.Throttle
	for round := range 3 {
		for range th.FreeAttempts - 1 {
			_, _, err := e.svc.Login(ctx, "alice", "typo-typo-typo", "198.51.100.9")
			wantKind(t, err, errs.KindUnauthenticated)
		}
		if _, _, err := e.svc.Login(ctx, "alice", alicePassword, "198.51.100.9"); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	th.MaxPerIP, th.MaxPerUser = 3, 3
	for i := range 10 {
		if _, _, err := e.svc.Login(ctx, "bob", bobPassword, "198.51.100.10"); err != nil {
			t.Fatalf("success %d from one address: %v", i, err)
		}
	}
}

// One address trying many usernames is locked, but only that address.
func TestThrottlePerIP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	const ip = "198.51.100.66"
	th := e.svc.Throttle
	if th.MaxPerIP < 30 {
		t.Fatalf("MaxPerIP %d: offices share an address, keep it generous", th.MaxPerIP)
	}
	for i := range th.MaxPerIP {
		_, _, err := e.svc.Login(ctx, fmt.Sprintf("user%02d", i), "guess-guess", ip)
		wantKind(t, err, errs.KindUnauthenticated)
	}
	for _, who := range []struct{ user, pw string }{{"alice", alicePassword}, {"bob", bobPassword}, {"carol", "x"}} {
		_, _, err := e.svc.Login(ctx, who.user, who.pw, ip)
		wantKind(t, err, errs.KindRateLimited)
		if n := retryAfter(t, err); n < 1 || n > int(th.Window/time.Second) {
			t.Fatalf("retry_after = %d", n)
		}
	}
	if _, _, err := e.svc.Login(ctx, "alice", alicePassword, "198.51.100.67"); err != nil {
		t.Fatalf("alice from another address: %v", err)
	}
}

// Guesses spread over many addresses meet the per-username ceiling.
func TestThrottlePerUserCeiling(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	th := e.svc.Throttle
	if th.MaxPerUser <= th.FreeAttempts*2 {
		t.Fatalf("MaxPerUser %d is not a high ceiling", th.MaxPerUser)
	}
	th.MaxPerUser = 8
	for i := range th.MaxPerUser {
		_, _, err := e.svc.Login(ctx, "alice", "guess-guess", fmt.Sprintf("203.0.113.%d", i+1))
		wantKind(t, err, errs.KindUnauthenticated)
	}
	_, _, err := e.svc.Login(ctx, "alice", alicePassword, "203.0.113.200")
	wantKind(t, err, errs.KindRateLimited)
	if _, _, err := e.svc.Login(ctx, "bob", bobPassword, "203.0.113.200"); err != nil {
		t.Fatalf("bob: %v", err)
	}
}
