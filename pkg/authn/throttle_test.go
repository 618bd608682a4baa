package authn_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/wanjia/wanjia/pkg/errs"
)

// realClock makes the embedded Redis expire keys as real time passes. Out
// of the box miniredis only expires keys on FastForward, so without this a
// lockout would never end in embedded mode (see the report on pkg/queue).
func (e *env) realClock() {
	if m := e.redis.Embedded(); m != nil {
		m.ClockTTL(true)
	}
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

func TestThrottlePerUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.realClock()
	ctx := context.Background()
	e.svc.Throttle.Cooldown = time.Second
	const ip = "198.51.100.7"

	for i := 1; i <= e.svc.Throttle.MaxPerUser; i++ {
		_, _, err := e.svc.Login(ctx, "alice", fmt.Sprintf("guess-%d", i), ip)
		if errs.KindOf(err) != errs.KindUnauthenticated {
			t.Fatalf("failure %d: %v, want 401", i, err)
		}
	}
	// Locked now, even with the right password.
	_, _, err := e.svc.Login(ctx, "alice", alicePassword, ip)
	wantKind(t, err, errs.KindRateLimited)
	if n := retryAfter(t, err); n < 1 || n > 2 {
		t.Fatalf("retry_after = %d s with a 1 s cool-down", n)
	}
	// The lock is on alice, not on everyone behind the same address.
	if _, _, err := e.svc.Login(ctx, "bob", bobPassword, ip); err != nil {
		t.Fatalf("bob from the same IP: %v", err)
	}
	// Another address does not help a guesser either.
	_, _, err = e.svc.Login(ctx, "alice", alicePassword, "203.0.113.9")
	wantKind(t, err, errs.KindRateLimited)

	time.Sleep(e.svc.Throttle.Cooldown + 200*time.Millisecond)
	if _, _, err := e.svc.Login(ctx, "alice", alicePassword, ip); err != nil {
		t.Fatalf("after the cool-down: %v", err)
	}
}

// With the default policy the wait is reported in whole seconds and minutes.
func TestThrottleDefaultCooldown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	for i := 0; i < 10; i++ {
		_, _, _ = e.svc.Login(ctx, "alice", "wrong", "198.51.100.8")
	}
	_, _, err := e.svc.Login(ctx, "alice", alicePassword, "198.51.100.8")
	wantKind(t, err, errs.KindRateLimited)
	if n := retryAfter(t, err); n < 14*60 || n > 15*60+1 {
		t.Fatalf("retry_after = %d s, want about 15 minutes", n)
	}
	if m := appError(t, err).Args["minutes"]; m != 15 && m != 16 {
		t.Fatalf("message minutes = %v", m)
	}
}

// A success clears the run of failures, so an honest user who mistypes now
// and then is never locked out.
func TestThrottleSuccessResets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	for round := 0; round < 3; round++ {
		for i := 0; i < e.svc.Throttle.MaxPerUser-1; i++ {
			_, _, err := e.svc.Login(ctx, "alice", "typo", fmt.Sprintf("198.51.100.%d", round))
			wantKind(t, err, errs.KindUnauthenticated)
		}
		if _, _, err := e.svc.Login(ctx, "alice", alicePassword, fmt.Sprintf("198.51.100.%d", round)); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
}

// One address trying many usernames is locked too, but only that address.
func TestThrottlePerIP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	const ip = "198.51.100.66"
	th := e.svc.Throttle
	if th.MaxPerIP <= th.MaxPerUser {
		t.Fatalf("MaxPerIP %d should be above MaxPerUser %d", th.MaxPerIP, th.MaxPerUser)
	}
	for i := 0; i < th.MaxPerIP; i++ {
		_, _, err := e.svc.Login(ctx, fmt.Sprintf("user%02d", i), "guess", ip)
		wantKind(t, err, errs.KindUnauthenticated)
	}
	for _, who := range []struct{ user, pw string }{{"alice", alicePassword}, {"bob", bobPassword}, {"carol", "x"}} {
		_, _, err := e.svc.Login(ctx, who.user, who.pw, ip)
		wantKind(t, err, errs.KindRateLimited)
		if retryAfter(t, err) < 1 {
			t.Fatal("retry_after < 1")
		}
	}
	if _, _, err := e.svc.Login(ctx, "alice", alicePassword, "198.51.100.67"); err != nil {
		t.Fatalf("alice from another address: %v", err)
	}
}
