package authn

import (
	"context"
	"sync"
	"time"
)

// While Redis is away, sign-in must neither hang on it nor go unthrottled:
// Admit and Succeeded give Redis a short deadline, and after it fails they
// stop asking it for a while and count in this process instead, under the
// same policy. Each API replica then limits on its own (N replicas allow N
// times the attempts) until Redis answers again, which beats locking every
// office out of the system for the length of an outage.

// redisBudget bounds one throttle call to Redis; an outage costs a sign-in
// this much at most, once per redisRetry.
const (
	redisBudget = 300 * time.Millisecond
	redisRetry  = 5 * time.Second
)

// localThrottle is the process's own count of attempts, kept like the
// Redis one: a pair's run of failures and delay, and windows per address
// and per username.
type localThrottle struct {
	mu      sync.Mutex
	pairs   map[string]*localPair
	windows map[string]*localWindow
	sweep   time.Time
}

type localPair struct {
	n       int
	until   time.Time
	expires time.Time
}

type localWindow struct {
	n       int
	expires time.Time
}

// maxLocalKeys bounds the memory a flood of made-up usernames can take; past
// it, expired entries are swept first and then the oldest window is reset.
const maxLocalKeys = 100_000

func (l *localThrottle) admit(t *Throttle, keys []string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.housekeep(now)
	var wait time.Duration
	p := l.pairs[keys[0]]
	if p != nil && p.expires.Before(now) {
		p = nil
	}
	if p != nil && p.until.After(now) {
		wait = p.until.Sub(now)
	}
	for i, max := range []int{t.MaxPerIP, t.MaxPerUser} {
		if w := l.window(keys[i+1], now, t.Window, false); w != nil && w.n >= max {
			wait = max64(wait, w.expires.Sub(now))
		}
	}
	if wait > 0 {
		return wait
	}
	if p == nil {
		p = &localPair{}
		l.pairs[keys[0]] = p
	}
	p.n++
	if p.n >= t.FreeAttempts {
		d := t.BaseDelay << (p.n - t.FreeAttempts)
		if d > t.MaxDelay || d <= 0 {
			d = t.MaxDelay
		}
		p.until = now.Add(d)
	}
	p.expires = now.Add(t.PairMemory)
	for _, k := range keys[1:] {
		l.window(k, now, t.Window, true).n++
	}
	return 0
}

func (l *localThrottle) succeeded(keys []string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.pairs, keys[0])
	for _, k := range keys[1:] {
		if w := l.windows[k]; w != nil && w.n > 0 {
			w.n--
		}
	}
}

// window returns the live window at key, starting one if create is set.
func (l *localThrottle) window(key string, now time.Time, length time.Duration, create bool) *localWindow {
	w := l.windows[key]
	if w != nil && !w.expires.After(now) {
		delete(l.windows, key)
		w = nil
	}
	if w == nil && create {
		w = &localWindow{expires: now.Add(length)}
		l.windows[key] = w
	}
	return w
}

func (l *localThrottle) housekeep(now time.Time) {
	if l.pairs == nil {
		l.pairs, l.windows = map[string]*localPair{}, map[string]*localWindow{}
	}
	if len(l.pairs)+len(l.windows) < maxLocalKeys && now.Sub(l.sweep) < time.Minute {
		return
	}
	l.sweep = now
	for k, p := range l.pairs {
		if p.expires.Before(now) {
			delete(l.pairs, k)
		}
	}
	for k, w := range l.windows {
		if !w.expires.After(now) {
			delete(l.windows, k)
		}
	}
	// Still full: forget pairs first (they only slow one name at one
	// address); the address and username windows keep the hard limits.
	for k := range l.pairs {
		if len(l.pairs)+len(l.windows) < maxLocalKeys {
			break
		}
		delete(l.pairs, k)
	}
}

func max64(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}

// redisUsable reports whether to ask Redis now: not within redisRetry of
// its last failure.
func (t *Throttle) redisUsable(now time.Time) bool {
	t.downMu.Lock()
	defer t.downMu.Unlock()
	return now.After(t.downUntil)
}

func (t *Throttle) redisFailed(now time.Time) {
	t.downMu.Lock()
	t.downUntil = now.Add(redisRetry)
	t.downMu.Unlock()
}

func budget(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, redisBudget)
}
