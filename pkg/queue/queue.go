// Package queue sets up Redis and Asynq: the connection (a real Redis or
// one running inside this process), the queue names and their weights, and
// constructors for the Asynq client, server and inspector.
package queue

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// Queue names. Tasks choose one; workers drain them by weight.
const (
	QueueCritical = "critical" // alerts: fever, missed check-ins
	QueueDefault  = "default"
	QueueMessages = "messages" // SMS and voice sending, rate-limited
	QueueReports  = "reports"  // snapshots, rollups, exports
)

// Weights is how often each queue is served relative to the others.
var Weights = map[string]int{
	QueueCritical: 6,
	QueueDefault:  3,
	QueueMessages: 3,
	QueueReports:  1,
}

// Enqueuer hands a task to the queue: the part of the Asynq client that
// services and the scheduler use (tests may pass a fake).
type Enqueuer interface {
	EnqueueContext(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

// Redis is the Redis connection shared by Asynq and the rest of the app:
// one node, a cluster or a Sentinel-watched master (redisurl.go), behind
// one redis.UniversalClient.
type Redis struct {
	Client   redis.UniversalClient
	Kind     string // RedisSingle, RedisCluster or RedisSentinel
	embedded *miniredis.Miniredis
	where    string
}

// OpenRedis connects to rawURL (any form ParseRedisURL reads), or starts
// an in-process Redis when it is empty (embedded mode), and checks that
// it answers. Its errors name WANJIA_REDIS_URL: they stop the process at
// start.
func OpenRedis(ctx context.Context, rawURL string) (*Redis, error) {
	r := &Redis{Kind: RedisSingle}
	if rawURL == "" {
		m := miniredis.NewMiniRedis()
		if err := m.StartAddr("127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("start embedded redis: %w", err)
		}
		// Let keys expire as real time passes (miniredis only expires on
		// FastForward otherwise): login lock-outs and locks must end.
		m.ClockTTL(true)
		r.embedded = m
		r.where = "embedded " + m.Addr()
		r.Client = redis.NewClient(&redis.Options{Addr: m.Addr(), DialTimeout: dialTimeout, ReadTimeout: readTimeout, WriteTimeout: writeTimeout})
	} else {
		t, err := ParseRedisURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("WANJIA_REDIS_URL: %w", err)
		}
		r.Kind, r.where, r.Client = t.Kind, t.Where(), t.NewClient()
	}
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := r.ping(pctx); err != nil {
		_ = r.Close()
		return nil, fmt.Errorf("WANJIA_REDIS_URL: no node of %s answers: %w", r.where, err)
	}
	return r, nil
}

// ping checks one node, or every master of a cluster: a cluster missing
// one serves only part of the keys.
func (r *Redis) ping(ctx context.Context) error {
	if c, ok := r.Client.(*redis.ClusterClient); ok {
		return c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { return m.Ping(ctx).Err() })
	}
	return r.Client.Ping(ctx).Err()
}

// Where says which Redis this is, without secrets.
func (r *Redis) Where() string { return r.where }

// Embedded returns the in-process server, or nil in real mode.
func (r *Redis) Embedded() *miniredis.Miniredis { return r.embedded }

// Ping checks Redis within the context's deadline.
func (r *Redis) Ping(ctx context.Context) error { return r.ping(ctx) }

// Close closes the connection and stops the embedded server.
func (r *Redis) Close() error {
	var err error
	if r.Client != nil {
		err = r.Client.Close()
	}
	if r.embedded != nil {
		r.embedded.Close()
	}
	return err
}

// NewClient returns an Asynq client sharing r's connection pool.
func NewClient(r *Redis) *asynq.Client { return asynq.NewClientFromRedisClient(r.Client) }

// NewInspector returns an Asynq inspector sharing r's connection pool.
func NewInspector(r *Redis) *asynq.Inspector { return asynq.NewInspectorFromRedisClient(r.Client) }

// DefaultConcurrency is how many tasks a worker runs at once. Most of a
// task's time is spent waiting (on a provider's HTTP answer, or on the
// batch its claim rides in: see pkg/outreach), not computing, so a worker
// runs many; the database pool is not the bound, because outreach's
// batchers hold one connection per kind of write whatever the
// concurrency. More tasks waiting make fuller batches, and each batch has
// a fixed cost (begin, the rate buckets, commit): BenchmarkSend100k sent
// 3,634 msgs/s at 256 against 3,165 at 128 (50,000 messages).
const DefaultConcurrency = 256

// ServerOptions tune the Asynq server.
type ServerOptions struct {
	Concurrency     int
	ShutdownTimeout time.Duration
	Logger          *slog.Logger
}

// NewServer returns an Asynq server over every queue, by weight.
func NewServer(r *Redis, o ServerOptions) *asynq.Server {
	if o.Concurrency == 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.ShutdownTimeout == 0 {
		o.ShutdownTimeout = 20 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return asynq.NewServerFromRedisClient(r.Client, asynq.Config{
		Concurrency:     o.Concurrency,
		Queues:          Weights,
		ShutdownTimeout: o.ShutdownTimeout,
		Logger:          slogAdapter{o.Logger.With("component", "asynq")},
		LogLevel:        asynq.WarnLevel,
		// Scheduled and retried tasks move to pending this often; the
		// default 5 s makes retries and tests needlessly slow.
		DelayedTaskCheckInterval: time.Second,
		IsFailure:                isFailure,
		RetryDelayFunc:           retryDelay,
	})
}

// slogAdapter lets Asynq log through slog.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a slogAdapter) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a slogAdapter) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a slogAdapter) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }
func (a slogAdapter) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...)) }

// RouteRedisLogs sends go-redis's own log lines (a dropped pub/sub
// connection, a failed dial during an outage) through l, so that a real
// mode's log stays one JSON object per line. go-redis keeps one logger per
// process, so this is set once, at start.
func RouteRedisLogs(l *slog.Logger) {
	redis.SetLogger(redisLogger{l.With("component", "redis")})
}

// redisLogger is go-redis's logging interface over slog.
type redisLogger struct{ l *slog.Logger }

func (r redisLogger) Printf(ctx context.Context, format string, v ...any) {
	r.l.WarnContext(ctx, strings.TrimSpace(fmt.Sprintf(format, v...)))
}

// Backlog returns a count of the tasks queue q holds that a worker will
// still run: pending, active, scheduled and waiting to retry (not the
// archived ones). A queue Redis does not know (never used, or lost with
// everything else in a flush or a restart without persistence) holds none.
func Backlog(insp *asynq.Inspector, q string) func(context.Context) (int, error) {
	return func(context.Context) (int, error) {
		info, err := insp.GetQueueInfo(q)
		if err != nil {
			// Asynq's "queue not found" is an internal type: ask for the
			// list of queues to tell it from an outage.
			known, lerr := insp.Queues()
			if lerr != nil || slices.Contains(known, q) {
				return 0, err
			}
			return 0, nil
		}
		return info.Pending + info.Active + info.Scheduled + info.Retry, nil
	}
}
