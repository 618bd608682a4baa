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
	"github.com/wanjia/wanjia/pkg/queue"
	"github.com/wanjia/wanjia/pkg/scope"
)

// Deps are what the middleware needs.
type Deps struct {
	Logger  *slog.Logger
	Metrics prometheus.Registerer
}

// NewMux returns the ServeMux with the handlers of tasks (each domain's,
// registered by its Tasks method: see pkg/app's App.tasks) behind the
// middleware every task passes through: the payload's tenant put in the
// context, the metrics and log line of each outcome (a queue.Later wait
// is none of a failure), and a panic turned into a failed task.
func NewMux(d Deps, tasks *queue.Tasks) *asynq.ServeMux {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	m := newTaskMetrics(d.Metrics)
	mux := asynq.NewServeMux()
	mux.Use(observeTask(d.Logger, m), recoverTask(d.Logger), tenantContext)
	tasks.Mount(mux)
	return mux
}

// tenantContext puts the payload's tenant_id into the context, so that the
// stores a handler reaches are scoped exactly as for an HTTP request.
func tenantContext(next asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		var p struct {
			TenantID string `json:"tenant_id"`
		}
		if json.Unmarshal(t.Payload(), &p) == nil && p.TenantID != "" {
			ctx = scope.With(ctx, scope.Tenant{TenantID: p.TenantID})
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
