// Package queuetest gives each test its own Redis: an in-process one by
// default, or a private database of the real Redis named by
// WANJIA_TEST_REDIS_URL. Test packages run in parallel, and Asynq has no key
// prefix, so each test claims one of Redis's numbered databases, flushes it,
// and gives it back when done.
package queuetest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wanjia/wanjia/pkg/queue"
)

// EnvURL names the variable that switches tests to a real Redis.
const EnvURL = "WANJIA_TEST_REDIS_URL"

// New returns a Redis for one test; it is closed (and, when real, flushed
// and released) when the test ends.
func New(t testing.TB) *queue.Redis {
	t.Helper()
	ctx := context.Background()
	base := os.Getenv(EnvURL)
	if base == "" {
		r, err := queue.OpenRedis(ctx, "")
		if err != nil {
			t.Fatalf("queuetest: %v", err)
		}
		t.Cleanup(func() { _ = r.Close() })
		return r
	}
	opts, err := redis.ParseURL(base)
	if err != nil {
		t.Fatalf("queuetest: %s: %v", EnvURL, err)
	}
	// Database 0 holds the claims; 1..15 are handed out.
	ctl := redis.NewClient(&redis.Options{Addr: opts.Addr, Username: opts.Username, Password: opts.Password})
	t.Cleanup(func() { _ = ctl.Close() })
	deadline := time.Now().Add(2 * time.Minute)
	for {
		for n := 1; n < 16; n++ {
			key := fmt.Sprintf("wanjia:test:redis-db:%d", n)
			ok, err := ctl.SetNX(ctx, key, os.Getpid(), 10*time.Minute).Result()
			if err != nil {
				t.Fatalf("queuetest: claim a redis db: %v", err)
			}
			if !ok {
				continue
			}
			u := fmt.Sprintf("redis://%s/%d", opts.Addr, n)
			if opts.Password != "" {
				u = fmt.Sprintf("redis://%s:%s@%s/%d", opts.Username, opts.Password, opts.Addr, n)
			}
			r, err := queue.OpenRedis(ctx, u)
			if err != nil {
				ctl.Del(ctx, key)
				t.Fatalf("queuetest: %v", err)
			}
			r.Client.FlushDB(ctx)
			t.Cleanup(func() {
				r.Client.FlushDB(context.Background())
				_ = r.Close()
				ctl.Del(context.Background(), key)
			})
			return r
		}
		if time.Now().After(deadline) {
			t.Fatal("queuetest: no free redis database after 2 minutes")
		}
		time.Sleep(200 * time.Millisecond)
	}
}
