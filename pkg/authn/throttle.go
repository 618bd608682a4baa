package authn

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Throttle limits password guessing. Every attempt is counted in Redis
// before its password is checked, in one Lua script, so a burst of parallel
// requests cannot all slip through between a check and a count, and the
// limits hold across every API replica. Three limits apply:
//
//   - per (username, IP): FreeAttempts failures in a row go through at once;
//     after that each attempt waits BaseDelay, doubling with every further
//     failure, up to MaxDelay. A guesser elsewhere therefore slows down only
//     their own pair, and the real user at the office can still sign in.
//   - per IP: MaxPerIP failures within Window lock the address for the rest
//     of the window. Generous, because a whole community office often shares
//     one address.
//   - per username, across all addresses: MaxPerUser failures within Window
//     lock the username everywhere, a high ceiling against guessing spread
//     over many addresses.
//
// A success clears its pair and takes its attempt back from the other two
// counters, so they count failures (and attempts still in flight).
type Throttle struct {
	Redis redis.Cmdable

	FreeAttempts int
	BaseDelay    time.Duration
	MaxDelay     time.Duration
	// PairMemory is how long a pair's failures are remembered after its last
	// attempt; long, so that waiting out one delay does not reset the next.
	PairMemory time.Duration

	MaxPerIP   int
	MaxPerUser int
	Window     time.Duration

	// Now is the clock the delays are computed with (tests move it).
	Now func() time.Time

	// While Redis is away: the process's own count (throttle_local.go).
	local     localThrottle
	notes     localNotes
	downMu    sync.Mutex
	downUntil time.Time
}

// NewThrottle returns the default policy: five free failures per username
// and address, then 30 s doubling to 15 min; 30 failures per address or 100
// per username within 15 minutes lock for the rest of that window.
func NewThrottle(rdb redis.Cmdable) *Throttle {
	return &Throttle{Redis: rdb,
		FreeAttempts: 5, BaseDelay: 30 * time.Second, MaxDelay: 15 * time.Minute, PairMemory: 24 * time.Hour,
		MaxPerIP: 30, MaxPerUser: 100, Window: 15 * time.Minute,
		Now: time.Now}
}

// keyPart keeps Redis keys short whatever a client sends as a username:
// real usernames are at most 64 characters, anything longer is hashed.
func keyPart(s string) string {
	if len(s) <= 64 {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// keyPrefix starts every throttle key with one hash tag ({…}): a Redis
// Cluster places keys by the tag alone, so the scripts' keys (a pair, its
// address and its username; the two refusal claims) share a slot, as a
// script's keys must (else CROSSSLOT). The address and username counters
// are shared by many pairs, so no narrower tag would do: the throttle
// lives on one node of a cluster, which sign-ins' rate is far from
// filling. Only the first {…} of a key counts, so a "{" in a username
// changes nothing.
const keyPrefix = "{wanjia:login}:"

func (t *Throttle) keys(username, ip string) []string {
	u := keyPart(username)
	// An IP never contains "|", so the pair key is unambiguous.
	return []string{keyPrefix + "pair:" + ip + "|" + u, keyPrefix + "ip:" + ip, keyPrefix + "user:" + u}
}

func notedKeys(username, ip string) []string {
	u := keyPart(username)
	return []string{keyPrefix + "noted:ip:" + ip, keyPrefix + "noted:user:" + u}
}

// keysBroken tells a reply that no local count may hide: a script's keys
// in different slots of a cluster is a bug, not an outage.
func keysBroken(err error) bool { return redis.HasErrorPrefix(err, "CROSSSLOT") }

// admitScript refuses (returning the wait in ms) or counts the attempt
// (returning 0), atomically. The pair is a hash: n attempts not followed by a
// success, and until, the time (ms) before which it may not try again.
var admitScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local wait = 0
local untilMs = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if untilMs > now then wait = untilMs - now end
for i, max in ipairs({tonumber(ARGV[6]), tonumber(ARGV[7])}) do
  local n = tonumber(redis.call('GET', KEYS[i + 1]) or '0')
  if n >= max then
    local ttl = redis.call('PTTL', KEYS[i + 1])
    if ttl < 0 then ttl = tonumber(ARGV[8]) end
    if ttl > wait then wait = ttl end
  end
end
if wait > 0 then return wait end

local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
local free = tonumber(ARGV[2])
if n >= free then
  -- Set when the attempt is admitted: if it succeeds the pair is deleted,
  -- if it fails the delay is already in force for the next one.
  local d = tonumber(ARGV[3]) * 2 ^ (n - free)
  if d > tonumber(ARGV[4]) then d = tonumber(ARGV[4]) end
  redis.call('HSET', KEYS[1], 'until', string.format('%d', now + d))
end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
for i = 2, 3 do
  redis.call('INCR', KEYS[i])
  redis.call('PEXPIRE', KEYS[i], ARGV[8])
end
return 0
`)

// succeededScript clears the pair and gives back the attempt counted on the
// address and the username.
var succeededScript = redis.NewScript(`
redis.call('DEL', KEYS[1])
for i = 2, 3 do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then redis.call('DECR', KEYS[i]) end
end
return 0
`)

// noteScript claims, for one window, the audit entry of a refused
// (throttled) attempt: one claim per address and one per username. It
// answers 1 when neither was claimed yet in this window, so a flood of
// attempts from one address under random names, or at one username from
// many addresses, writes one entry per window, not one per attempt.
var noteScript = redis.NewScript(`
local a = redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1])
local b = redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1])
if a and b then return 1 end
return 0
`)

// FirstRefusal tells whether a throttled attempt by username from ip is
// the first of its window, for its address and its username alike, and so
// earns an audit entry; the others are only counted. Without Redis the
// process keeps the claims itself.
func (t *Throttle) FirstRefusal(ctx context.Context, username, ip string) bool {
	now := t.Now()
	keys := notedKeys(username, ip)
	if t.redisUsable(now) {
		rctx, cancel := budget(ctx)
		n, err := noteScript.Run(rctx, t.Redis, keys, t.Window.Milliseconds()).Int64()
		cancel()
		if err == nil {
			return n == 1
		}
		if keysBroken(err) {
			return true // audited every time rather than hidden by a local count
		}
		t.redisFailed(now)
	}
	return t.notes.claim(keys, now, t.Window)
}

// localNotes are FirstRefusal's claims while Redis is away.
type localNotes struct {
	mu sync.Mutex
	m  map[string]time.Time // key: until when it is claimed
}

func (l *localNotes) claim(keys []string, now time.Time, window time.Duration) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil || len(l.m) >= maxLocalKeys {
		l.m = make(map[string]time.Time) // bounded; at worst a few entries more
	}
	first := true
	for _, k := range keys {
		if until, ok := l.m[k]; ok && now.Before(until) {
			first = false
			continue
		}
		l.m[k] = now.Add(window)
	}
	return first
}

// Admit counts an attempt by username from ip before its password is
// checked. It returns how long the caller must wait instead (0: go ahead,
// the attempt is counted). When Redis does not answer within redisBudget,
// the attempt is counted in this process instead (see throttle_local.go).
func (t *Throttle) Admit(ctx context.Context, username, ip string) (time.Duration, error) {
	now := t.Now()
	keys := t.keys(username, ip)
	if t.redisUsable(now) {
		rctx, cancel := budget(ctx)
		ms, err := admitScript.Run(rctx, t.Redis, keys,
			now.UnixMilli(), t.FreeAttempts, t.BaseDelay.Milliseconds(), t.MaxDelay.Milliseconds(),
			t.PairMemory.Milliseconds(), t.MaxPerIP, t.MaxPerUser, t.Window.Milliseconds()).Int64()
		cancel()
		if err == nil {
			return time.Duration(ms) * time.Millisecond, nil
		}
		if keysBroken(err) {
			return 0, fmt.Errorf("login throttle: %w", err)
		}
		if ctx.Err() != nil {
			return 0, fmt.Errorf("login throttle: %w", ctx.Err())
		}
		t.redisFailed(now)
	}
	return t.local.admit(t, keys, now), nil
}

// Succeeded ends the pair's run of failures after a correct password.
func (t *Throttle) Succeeded(ctx context.Context, username, ip string) error {
	now := t.Now()
	keys := t.keys(username, ip)
	t.local.succeeded(keys, now) // harmless when it counted nothing
	if !t.redisUsable(now) {
		return nil
	}
	rctx, cancel := budget(ctx)
	defer cancel()
	if err := succeededScript.Run(rctx, t.Redis, keys).Err(); keysBroken(err) {
		return fmt.Errorf("login throttle: %w", err)
	} else if err != nil && err != redis.Nil {
		// The password was right: a sign-in does not fail for want of
		// clearing a counter, which only delays this pair's next failure.
		t.redisFailed(now)
	}
	return nil
}
