package workers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wanjia/wanjia/pkg/queue"
)

// Scheduler enqueues each periodic task once per period.
//
// Two schedulers may run (a rolling deploy, a second replica). Each period
// is a slot with a task id of its own, "<name>:<slot unix>", and finished
// tasks are retained for two periods, so Asynq rejects the second enqueue
// of a slot whichever scheduler comes second: the work is never doubled.
type Scheduler struct {
	Client queue.Enqueuer
	Tasks  []queue.Periodic // the periodic table, queue.Tasks.Periodic()
	Logger *slog.Logger
	Tick   time.Duration
	Now    func() time.Time
	// Metrics counts the slots enqueued, found enqueued already (by
	// another scheduler) and failed, by task; nil counts nothing.
	Metrics *SchedulerMetrics
}

// SchedulerMetrics are the scheduler process's own series: without them a
// scheduler alone (the three-process deployment) shows nothing of its work.
type SchedulerMetrics struct {
	slots *prometheus.CounterVec
}

// NewSchedulerMetrics registers wanjia_scheduler_slots_total on reg.
func NewSchedulerMetrics(reg prometheus.Registerer) *SchedulerMetrics {
	m := &SchedulerMetrics{slots: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wanjia_scheduler_slots_total",
		Help: "Periodic task slots handled by this scheduler, by task and result (enqueued, duplicate, error).",
	}, []string{"task", "result"})}
	reg.MustRegister(m.slots)
	return m
}

func (m *SchedulerMetrics) count(task, result string) {
	if m != nil {
		m.slots.WithLabelValues(task, result).Inc()
	}
}

// Run enqueues due tasks until ctx ends. The current slot is enqueued at
// once, so a fresh process proves the path within seconds.
func (s *Scheduler) Run(ctx context.Context) error {
	if s.Tick == 0 {
		s.Tick = time.Second
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	last := map[string]time.Time{}
	t := time.NewTicker(s.Tick)
	defer t.Stop()
	for {
		now := s.Now()
		for _, p := range s.Tasks {
			slot := now.Truncate(p.Every)
			if last[p.Name].Equal(slot) {
				continue
			}
			enqueued, err := s.EnqueueSlot(ctx, p, slot)
			if err != nil {
				s.Metrics.count(p.Name, "error")
				s.Logger.Warn("periodic enqueue failed; will retry", "task", p.Name, "slot", slot, "err", err)
				continue
			}
			if enqueued {
				s.Metrics.count(p.Name, "enqueued")
			} else {
				s.Metrics.count(p.Name, "duplicate")
			}
			last[p.Name] = slot
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// EnqueueSlot enqueues p for slot. It reports false, with no error, when
// that slot was already enqueued (by this or another scheduler).
func (s *Scheduler) EnqueueSlot(ctx context.Context, p queue.Periodic, slot time.Time) (bool, error) {
	task, err := p.NewTask(slot)
	if err != nil {
		return false, err
	}
	id := fmt.Sprintf("%s:%d", p.Name, slot.Unix())
	_, err = s.Client.EnqueueContext(ctx, task, asynq.TaskID(id), asynq.Retention(2*p.Every))
	if errors.Is(err, asynq.ErrTaskIDConflict) || errors.Is(err, asynq.ErrDuplicateTask) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("enqueue %s: %w", id, err)
	}
	return true, nil
}
