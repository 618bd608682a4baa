package authn

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Revocations is the denylist of signed-out sessions, so that an access
// token copied before sign-out stops working at once rather than at its
// expiry (up to 15 minutes later). An access token names its session (the
// refresh token family, claim "sid"); signing out, or a refresh token
// presented twice, revokes the family in the database and adds it here
// for as long as any access token of it can live.
//
// The request path asks only this process's copy: one atomic load and a
// map lookup, no network. The copy is kept in step through Redis: a
// revocation is added here at once and written to a sorted set
// (member "sid|until", score the time it was written), which every process
// reads every PollInterval from the newest score it has seen, so another
// replica refuses the token within about a second.
//
// When Redis is down the check fails open: every request would otherwise
// be refused and every office signed out for the length of an outage. What
// this process knew stays enforced, its own sign-outs are enforced at once
// and written to Redis when it answers again (until they expire), and other
// replicas learn them then; the gap is bounded by the access token's own
// lifetime.
type Revocations struct {
	Redis  redis.Cmdable
	Logger *slog.Logger
	// Lifetime is how long an access token can live after it is issued
	// (the longest the keys accept, with the clocks' leeway).
	Lifetime time.Duration
	// PollInterval is how often Run reads revocations made elsewhere.
	PollInterval time.Duration

	set atomic.Pointer[map[string]time.Time] // sid → until when it is refused

	mu      sync.Mutex // guards the set's writers, pending, since
	pending []revocation
	since   int64 // newest score read from Redis (ms)
	down    bool  // the last Redis call failed (logged once)
}

type revocation struct {
	sid   string
	until time.Time
}

const (
	revokedKey = "wanjia:authn:revoked"
	// revocationOverlap re-reads revocations this much older than the
	// newest seen, since replicas' clocks (which give the scores) differ.
	revocationOverlap = 10 * time.Second
	// DefaultRevocationPoll is how often a process reads revocations.
	DefaultRevocationPoll = time.Second
)

// NewRevocations returns an empty denylist over rdb for access tokens that
// live at most maxTTL.
func NewRevocations(rdb redis.Cmdable, maxTTL time.Duration, logger *slog.Logger) *Revocations {
	if logger == nil {
		logger = slog.Default()
	}
	return &Revocations{Redis: rdb, Logger: logger, Lifetime: maxTTL + lifetimeLeeway, PollInterval: DefaultRevocationPoll}
}

// Revoked tells whether the session sid was signed out (and its tokens may
// still be alive at now). This is the request path's check.
func (r *Revocations) Revoked(sid string, now time.Time) bool {
	if r == nil || sid == "" {
		return false
	}
	m := r.set.Load()
	if m == nil {
		return false
	}
	until, ok := (*m)[sid]
	return ok && now.Before(until)
}

// Revoke refuses the session's access tokens from now on: here at once,
// on other processes once Redis has it. A failure to reach Redis is kept
// and retried by Run, not returned: the sign-out itself has happened.
func (r *Revocations) Revoke(ctx context.Context, sid string, now time.Time) {
	if r == nil || sid == "" {
		return
	}
	rv := revocation{sid: sid, until: now.Add(r.Lifetime)}
	r.mu.Lock()
	r.add([]revocation{rv}, now)
	r.pending = append(r.pending, rv)
	r.mu.Unlock()
	r.push(ctx, now)
}

// add copies the set with rs added and expired entries dropped. r.mu held.
func (r *Revocations) add(rs []revocation, now time.Time) {
	old := r.set.Load()
	next := make(map[string]time.Time, len(rs)+lenOf(old))
	if old != nil {
		for sid, until := range *old {
			if now.Before(until) {
				next[sid] = until
			}
		}
	}
	for _, rv := range rs {
		if now.Before(rv.until) && rv.until.After(next[rv.sid]) {
			next[rv.sid] = rv.until
		}
	}
	r.set.Store(&next)
}

func lenOf(m *map[string]time.Time) int {
	if m == nil {
		return 0
	}
	return len(*m)
}

// push writes the pending revocations to Redis, dropping those expired.
func (r *Revocations) push(ctx context.Context, now time.Time) {
	if r.Redis == nil {
		return
	}
	r.mu.Lock()
	unsent := r.pending
	r.pending = nil
	r.mu.Unlock()
	var members []redis.Z
	for _, rv := range unsent {
		if now.Before(rv.until) {
			// Scored when written, not when revoked: one kept through an
			// outage must still be newer than what the others have read.
			members = append(members, redis.Z{Score: float64(now.UnixMilli()), Member: rv.sid + "|" + strconv.FormatInt(rv.until.UnixMilli(), 10)})
		}
	}
	if len(members) == 0 {
		return
	}
	rctx, cancel := budget(ctx)
	defer cancel()
	if err := r.Redis.ZAdd(rctx, revokedKey, members...).Err(); err != nil {
		r.failed(err)
		r.mu.Lock()
		r.pending = append(unsent, r.pending...) // again on the next poll
		r.mu.Unlock()
		return
	}
	r.recovered()
}

// Sync writes what is pending and reads the revocations made since the
// last read (all that can still matter, the first time). Run calls it
// every PollInterval.
func (r *Revocations) Sync(ctx context.Context, now time.Time) error {
	if r == nil || r.Redis == nil {
		return nil
	}
	r.push(ctx, now)
	r.mu.Lock()
	since := r.since
	r.mu.Unlock()
	from := now.Add(-r.Lifetime).UnixMilli()
	if since > 0 {
		from = max(from, since-revocationOverlap.Milliseconds())
	}
	rctx, cancel := budget(ctx)
	defer cancel()
	zs, err := r.Redis.ZRangeByScoreWithScores(rctx, revokedKey, &redis.ZRangeBy{Min: strconv.FormatInt(from, 10), Max: "+inf"}).Result()
	if err != nil {
		r.failed(err)
		return fmt.Errorf("read revocations: %w", err)
	}
	var rs []revocation
	newest := since
	for _, z := range zs {
		m, _ := z.Member.(string)
		sid, untilMs, ok := strings.Cut(m, "|")
		ms, err := strconv.ParseInt(untilMs, 10, 64)
		if !ok || err != nil {
			continue
		}
		rs = append(rs, revocation{sid: sid, until: time.UnixMilli(ms)})
		newest = max(newest, int64(z.Score))
	}
	r.mu.Lock()
	r.add(rs, now)
	r.since = newest
	r.mu.Unlock()
	// What no token can still need goes; any process may do it.
	_ = r.Redis.ZRemRangeByScore(rctx, revokedKey, "-inf", "("+strconv.FormatInt(now.Add(-2*r.Lifetime).UnixMilli(), 10)).Err()
	r.recovered()
	return nil
}

// Run keeps the copy in step until ctx ends.
func (r *Revocations) Run(ctx context.Context) {
	t := time.NewTicker(r.PollInterval)
	defer t.Stop()
	for {
		_ = r.Sync(ctx, time.Now())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (r *Revocations) failed(err error) {
	r.mu.Lock()
	first := !r.down
	r.down = true
	r.mu.Unlock()
	if first {
		r.Logger.Warn("session revocations: Redis does not answer; signed-out sessions known here stay refused, others reach this process when it is back", "err", err)
	}
}

func (r *Revocations) recovered() {
	r.mu.Lock()
	was := r.down
	r.down = false
	r.mu.Unlock()
	if was {
		r.Logger.Info("session revocations: Redis answers again")
	}
}
