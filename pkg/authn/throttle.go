package authn

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Throttle limits failed logins per username and per client IP. Counters
// live in Redis so that the limit holds across every API replica.
type Throttle struct {
	Redis redis.Cmdable
	// MaxPerUser failures in a row lock a username for Cooldown.
	MaxPerUser int
	// MaxPerIP failures lock an IP; higher than per user because a whole
	// community office often shares one address.
	MaxPerIP int
	Cooldown time.Duration
}

// NewThrottle returns the default policy: 10 failures per username or 30 per
// IP lock logins for 15 minutes.
func NewThrottle(rdb redis.Cmdable) *Throttle {
	return &Throttle{Redis: rdb, MaxPerUser: 10, MaxPerIP: 30, Cooldown: 15 * time.Minute}
}

func failUserKey(u string) string { return "wanjia:login:fail:user:" + u }
func failIPKey(ip string) string  { return "wanjia:login:fail:ip:" + ip }

// Check returns how long the caller must wait (0: may try now).
func (t *Throttle) Check(ctx context.Context, username, ip string) (time.Duration, error) {
	pipe := t.Redis.Pipeline()
	u := pipe.Get(ctx, failUserKey(username))
	uttl := pipe.PTTL(ctx, failUserKey(username))
	i := pipe.Get(ctx, failIPKey(ip))
	ittl := pipe.PTTL(ctx, failIPKey(ip))
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return 0, fmt.Errorf("login throttle: %w", err)
	}
	var wait time.Duration
	if n, _ := u.Int(); n >= t.MaxPerUser {
		wait = max(wait, uttl.Val())
	}
	if n, _ := i.Int(); n >= t.MaxPerIP {
		wait = max(wait, ittl.Val())
	}
	return wait, nil
}

// Failed counts a failed attempt. Every failure restarts the cool-down, so
// a guesser who keeps trying stays locked out.
func (t *Throttle) Failed(ctx context.Context, username, ip string) error {
	pipe := t.Redis.TxPipeline()
	pipe.Incr(ctx, failUserKey(username))
	pipe.PExpire(ctx, failUserKey(username), t.Cooldown)
	pipe.Incr(ctx, failIPKey(ip))
	pipe.PExpire(ctx, failIPKey(ip), t.Cooldown)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("login throttle: %w", err)
	}
	return nil
}

// Succeeded clears the username's run of failures.
func (t *Throttle) Succeeded(ctx context.Context, username string) error {
	return t.Redis.Del(ctx, failUserKey(username)).Err()
}
