package authn_test

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/wanjia/wanjia/pkg/authn"
)

// TestThrottleWithoutRedis: with Redis down, sign-in is neither slow nor
// unthrottled: each attempt gives Redis a short deadline once, then counts
// in the process under the same policy; when Redis is back it is used
// again.
func TestThrottleWithoutRedis(t *testing.T) {
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr(), DialTimeout: 2 * time.Second, ReadTimeout: 3 * time.Second, MaxRetries: -1})
	defer rdb.Close()
	th := authn.NewThrottle(rdb)
	c := &clock{now: time.Now()}
	th.Now = c.Now
	ctx := context.Background()
	m.Close()

	start := time.Now()
	for i := range th.FreeAttempts {
		wait, err := th.Admit(ctx, "alice", "192.0.2.1")
		if err != nil || wait != 0 {
			t.Fatalf("attempt %d with Redis down: wait %v, err %v", i+1, wait, err)
		}
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("%d attempts with Redis down took %v", th.FreeAttempts, took)
	}
	wait, err := th.Admit(ctx, "alice", "192.0.2.1")
	if err != nil || wait <= 0 {
		t.Fatalf("after %d failures with Redis down: wait %v, err %v; want a delay", th.FreeAttempts, wait, err)
	}
	if wait, err := th.Admit(ctx, "alice", "198.51.100.7"); err != nil || wait != 0 {
		t.Fatalf("the same user from another address: wait %v, err %v", wait, err)
	}
	if err := th.Succeeded(ctx, "alice", "198.51.100.7"); err != nil {
		t.Fatalf("a right password with Redis down: %v", err)
	}

	// Redis back: after the retry interval it counts there again.
	if err := m.Restart(); err != nil {
		t.Fatal(err)
	}
	c.Add(10 * time.Second)
	if wait, err := th.Admit(ctx, "bob", "192.0.2.2"); err != nil || wait != 0 {
		t.Fatalf("with Redis back: wait %v, err %v", wait, err)
	}
	if !m.Exists("{wanjia:login}:ip:192.0.2.2") {
		t.Fatalf("with Redis back the attempt was not counted there: keys %v", m.Keys())
	}
}

// TestFirstRefusalWithoutRedis: with Redis down, the process keeps the
// window's claims itself: one audited refusal per address and username.
func TestFirstRefusalWithoutRedis(t *testing.T) {
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr(), MaxRetries: -1})
	defer rdb.Close()
	th := authn.NewThrottle(rdb)
	c := &clock{now: time.Now()}
	th.Now = c.Now
	ctx := context.Background()
	for _, redisUp := range []bool{true, false} {
		if !redisUp {
			m.Close()
		}
		ip := map[bool]string{true: "192.0.2.1", false: "192.0.2.2"}[redisUp]
		steps := []struct {
			user, ip string
			want     bool
		}{
			{"u1", ip, true},
			{"u2", ip, false}, // the address is noted
			{"u1", "198.51.100." + ip[len(ip)-1:], false}, // the username is noted
		}
		for _, s := range steps {
			if got := th.FirstRefusal(ctx, s.user+ip, s.ip); got != s.want {
				t.Fatalf("redis up %v: %s from %s: %v, want %v", redisUp, s.user, s.ip, got, s.want)
			}
		}
		c.Add(th.Window + time.Second)
		if !redisUp && !th.FirstRefusal(ctx, "u1"+ip, ip) {
			t.Fatal("a new window is not noted again")
		}
	}
}
