package residentpages

import (
	"context"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// TestLimiterWithoutRedis: with Redis away the limits still hold, counted
// in the process, and the page does not wait on Redis for each request.
func TestLimiterWithoutRedis(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	t.Cleanup(func() { _ = rdb.Close() })
	l := &limiter{redis: redis_rate.NewLimiter(rdb)}
	lim := redis_rate.Limit{Rate: 5, Burst: 5, Period: time.Minute}
	start := time.Now()
	for i := range 5 {
		if ok, _ := l.allow(context.Background(), key("token", "t"), lim); !ok {
			t.Fatalf("request %d refused", i+1)
		}
	}
	ok, wait := l.allow(context.Background(), key("token", "t"), lim)
	if ok || wait <= 0 {
		t.Fatalf("the 6th request: allowed %v, wait %s; want refused with a wait", ok, wait)
	}
	if ok, _ := l.allow(context.Background(), key("token", "other"), lim); !ok {
		t.Fatal("another link was refused")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("7 requests took %s: each waited on Redis", d)
	}
}
