// Package queuetest gives each test its own Redis: an in-process one by
// default, or a private database of the real Redis named by
// WANJIA_TEST_REDIS_URL. Test packages run in parallel, and Asynq has no key
// prefix, so each test claims one of Redis's numbered databases, flushes it,
// and gives it back when done.
package queuetest

import (
	"context"
	"fmt"
	"net/url"
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
	r, err := queue.OpenRedis(context.Background(), URL(t))
	if err != nil {
		t.Fatalf("queuetest: %v", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// URL claims a private Redis database for one test and returns its URL,
// or "" (the in-process Redis) when no real Redis is configured. The
// database is flushed now and when the test ends, then released.
func URL(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	base := os.Getenv(EnvURL)
	if base == "" {
		return ""
	}
	opts, err := redis.ParseURL(base)
	if err != nil {
		t.Fatalf("queuetest: %s: %v", EnvURL, err)
	}
	// Database 0 holds the claims; 1..15 are handed out.
	ctl := redis.NewClient(&redis.Options{Addr: opts.Addr, Username: opts.Username, Password: opts.Password})
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
			u := &url.URL{Scheme: "redis", Host: opts.Addr, Path: fmt.Sprintf("/%d", n)}
			if opts.Password != "" {
				u.User = url.UserPassword(opts.Username, opts.Password)
			}
			db := redis.NewClient(&redis.Options{Addr: opts.Addr, Username: opts.Username, Password: opts.Password, DB: n})
			db.FlushDB(ctx)
			t.Cleanup(func() {
				db.FlushDB(context.Background())
				_ = db.Close()
				ctl.Del(context.Background(), key)
				_ = ctl.Close()
			})
			return u.String()
		}
		if time.Now().After(deadline) {
			t.Fatal("queuetest: no free redis database after 2 minutes")
		}
		time.Sleep(200 * time.Millisecond)
	}
}
