package residentpages

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"golang.org/x/time/rate"
)

// Limits bound how often a link and an address may be asked: a token
// is 256 random bits, so this is not against guessing but against a
// script hammering the page, the database behind it and, through
// check-ins, the alerts. Per address it is generous, because a mobile
// carrier puts many phones behind one address (carrier-grade NAT) and a
// whole community opens its links after the morning reminder.
type Limits struct {
	PerToken   redis_rate.Limit
	PerAddress redis_rate.Limit
}

// DefaultLimits: 30 requests a minute per link (a resident reloads, checks
// in, asks for help), 300 per address.
var DefaultLimits = Limits{
	PerToken:   redis_rate.Limit{Rate: 30, Burst: 30, Period: time.Minute},
	PerAddress: redis_rate.Limit{Rate: 300, Burst: 300, Period: time.Minute},
}

// limiter counts in Redis (GCRA, redis_rate), so the limits hold across
// replicas; while Redis does not answer it counts in this process, as
// authn's sign-in throttle does, rather than letting everything through
// or locking residents out.
type limiter struct {
	redis *redis_rate.Limiter // nil: in-process only

	mu    sync.Mutex
	down  time.Time // Redis failed: ask it again after this
	local map[string]*rate.Limiter
}

const (
	redisBudget = 300 * time.Millisecond
	redisRetry  = 5 * time.Second
	maxLocal    = 50_000
)

// key is a limit's Redis key: the token itself never leaves the process,
// only a digest of it.
func key(kind, v string) string {
	sum := sha256.Sum256([]byte(v))
	return "wanjia:resident:" + kind + ":" + hex.EncodeToString(sum[:12])
}

// allow counts one request against key's limit and reports whether it may
// go on, or how long to wait.
func (l *limiter) allow(ctx context.Context, key string, lim redis_rate.Limit) (bool, time.Duration) {
	now := time.Now()
	if l.redis != nil && l.redisUp(now) {
		rctx, cancel := context.WithTimeout(ctx, redisBudget)
		res, err := l.redis.Allow(rctx, key, lim)
		cancel()
		if err == nil {
			return res.Allowed > 0, res.RetryAfter
		}
		l.mu.Lock()
		l.down = now.Add(redisRetry)
		l.mu.Unlock()
	}
	return l.allowLocal(key, lim, now)
}

func (l *limiter) redisUp(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !now.Before(l.down)
}

func (l *limiter) allowLocal(key string, lim redis_rate.Limit, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.local == nil || len(l.local) >= maxLocal {
		l.local = map[string]*rate.Limiter{} // bounded; at worst a few requests more
	}
	rl, ok := l.local[key]
	if !ok {
		rl = rate.NewLimiter(rate.Limit(float64(lim.Rate)/lim.Period.Seconds()), lim.Burst)
		l.local[key] = rl
	}
	r := rl.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}
