package authz

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
)

// Channel is the Redis pub/sub channel that announces changes to orgs and
// memberships.
const Channel = "wanjia:authz:changed"

// Watcher keeps every instance's decisions current: a change reloads this
// instance at once and tells the others over Redis, which reload within a
// second. Pub/sub can drop a message while Redis is away, so each instance
// also reloads on a slow timer and whenever its subscription comes back.
type Watcher struct {
	A      *Authorizer
	Redis  redis.UniversalClient
	Logger *slog.Logger
	// Every is the safety-net reload interval.
	Every time.Duration

	id string
}

// NewWatcher returns a watcher for a.
func NewWatcher(a *Authorizer, rdb redis.UniversalClient, logger *slog.Logger) *Watcher {
	return &Watcher{A: a, Redis: rdb, Logger: logger, Every: time.Minute, id: uuid.NewString()}
}

// Changed reloads this instance and notifies the others. A failed notice
// is logged, not returned: the change is saved, and the others catch up on
// their timer.
func (w *Watcher) Changed(ctx context.Context) error {
	if err := w.A.Reload(ctx); err != nil {
		return err
	}
	if err := w.Redis.Publish(ctx, Channel, w.id).Err(); err != nil {
		w.Logger.Warn("authz: could not announce a change; other instances reload on their timer", "err", err)
	}
	return nil
}

// Run listens for changes until ctx ends.
func (w *Watcher) Run(ctx context.Context) {
	sub := w.Redis.Subscribe(ctx, Channel)
	defer sub.Close()
	ch := sub.Channel(redis.WithChannelHealthCheckInterval(10 * time.Second))
	tick := time.NewTicker(w.Every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case msg, ok := <-ch:
			if !ok {
				return
			}
			if msg.Payload == w.id {
				continue // our own change, already loaded
			}
			w.reload(ctx)
		case <-tick.C:
			w.reload(ctx)
		}
	}
}

func (w *Watcher) reload(ctx context.Context) {
	if err := w.A.Reload(ctx); err != nil && ctx.Err() == nil {
		w.Logger.Warn("authz: reload failed; keeping the last decisions", "err", err)
	}
}
