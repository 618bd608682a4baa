package workers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/wanjia/wanjia/pkg/health"
	"github.com/wanjia/wanjia/pkg/idempotency"
	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/queue"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/tenancy"
)

// Deps are the services the handlers call.
type Deps struct {
	Logger  *slog.Logger
	Metrics prometheus.Registerer
	Health  *health.Checker
	Roster  *roster.Service
	// Outreach sends the outbox's messages and reconciles it.
	Outreach *outreach.Service
	// DB is the database for system tasks of no domain (the idempotency
	// keys' purge).
	DB *store.DB
}

// NewMux returns the ServeMux with every handler and the middleware that
// every task passes through.
func NewMux(d Deps) *asynq.ServeMux {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	m := newTaskMetrics(d.Metrics)
	mux := asynq.NewServeMux()
	mux.Use(observeTask(d.Logger, m), recoverTask(d.Logger), tenantContext)
	h := handlers{d}
	mux.HandleFunc(TypeHeartbeat, h.heartbeat)
	if d.Roster != nil {
		mux.HandleFunc(roster.TypeImport, h.importRoster)
		mux.HandleFunc(roster.TypeReconcileImports, h.reconcileImports)
	}
	if d.Outreach != nil {
		mux.HandleFunc(outreach.TypeSend, d.Outreach.HandleSend)
		mux.HandleFunc(outreach.TypeDispatch, d.Outreach.HandleDispatch)
		mux.HandleFunc(outreach.TypeReconcile, d.Outreach.HandleReconcile)
	}
	if d.DB != nil {
		mux.Handle(idempotency.TypePurge, idempotency.PurgeHandler(d.DB))
	}
	return mux
}

type handlers struct{ Deps }

func (h handlers) heartbeat(ctx context.Context, t *asynq.Task) error {
	var p HeartbeatPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		// A payload that cannot be read never will be: do not retry it.
		return fmt.Errorf("heartbeat payload: %v: %w", err, asynq.SkipRetry)
	}
	return h.Health.RecordRun(ctx, health.HeartbeatName, p.Slot)
}

// tenantContext puts the payload's tenant_id into the context, so that the
// stores a handler reaches are scoped exactly as for an HTTP request.
func tenantContext(next asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		var p struct {
			TenantID string `json:"tenant_id"`
		}
		if json.Unmarshal(t.Payload(), &p) == nil && p.TenantID != "" {
			ctx = tenancy.With(ctx, tenancy.Scope{TenantID: p.TenantID})
		}
		return next.ProcessTask(ctx, t)
	})
}

// recoverTask turns a panicking handler into a failed task with a logged
// stack, so one bad task cannot take the worker down.
func recoverTask(log *slog.Logger) asynq.MiddlewareFunc {
	return func(next asynq.Handler) asynq.Handler {
		return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) (err error) {
			defer func() {
				if r := recover(); r != nil {
					id, _ := asynq.GetTaskID(ctx)
					log.Error("task panicked", "type", t.Type(), "task_id", id, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
					err = fmt.Errorf("task %s panicked: %v", t.Type(), r)
				}
			}()
			return next.ProcessTask(ctx, t)
		})
	}
}

type taskMetrics struct {
	processed *prometheus.CounterVec
	duration  *prometheus.HistogramVec
}

func newTaskMetrics(reg prometheus.Registerer) *taskMetrics {
	m := &taskMetrics{
		processed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wanjia_tasks_processed_total", Help: "Tasks processed, by type and outcome (ok, error, later: waiting, not failed).",
		}, []string{"type", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "wanjia_task_duration_seconds", Help: "Task processing time.", Buckets: prometheus.DefBuckets,
		}, []string{"type"}),
	}
	if reg != nil {
		reg.MustRegister(m.processed, m.duration)
	}
	return m
}

// observeTask logs and counts every task with its outcome and duration.
// A task that asks to run again later (queue.Later: the send rate's bucket
// is empty, another import holds the community) has not failed: it is
// counted as "later" and logged at debug. Logged as a failure, a campaign
// of 5,000 wrote 140,000 WARN lines, and its 5 real failures were lost in
// them.
func observeTask(log *slog.Logger, m *taskMetrics) asynq.MiddlewareFunc {
	return func(next asynq.Handler) asynq.Handler {
		return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
			start := time.Now()
			err := next.ProcessTask(ctx, t)
			d := time.Since(start)
			id, _ := asynq.GetTaskID(ctx)
			status := "ok"
			var later *queue.LaterError
			switch {
			case errors.As(err, &later):
				status = "later"
				log.Debug("task waits", "type", t.Type(), "task_id", id, "duration", d, "after", later.After, "reason", later.Reason)
			case err != nil:
				status = "error"
				log.Warn("task failed", "type", t.Type(), "task_id", id, "duration", d, "err", err)
			default:
				log.Debug("task done", "type", t.Type(), "task_id", id, "duration", d)
			}
			m.processed.WithLabelValues(t.Type(), status).Inc()
			m.duration.WithLabelValues(t.Type()).Observe(d.Seconds())
			return err
		})
	}
}
