package isolation

import (
	"context"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wanjia/wanjia/pkg/queue"
)

// TypeSweep runs the daily steps due in every community (sweep.go).
const TypeSweep = "isolation:sweep"

// NewSweepTask builds the sweep of one period. Two schedulers, or a slot
// queued again after Redis forgot its id, run the sweep twice: each step
// is marked done in the database, so the second finds nothing to do.
func NewSweepTask(time.Time) (*asynq.Task, error) {
	return asynq.NewTask(TypeSweep, nil, asynq.Queue(queue.QueueDefault), asynq.MaxRetry(1), asynq.Timeout(5*time.Minute)), nil
}

// Tasks registers isolation's tasks: the sweep, every minute (a
// community's steps are due at its own local times).
func (s *Service) Tasks(t *queue.Tasks) {
	t.HandleFunc(TypeSweep, s.handleSweep)
	t.Every(queue.Periodic{Name: "isolation-sweep", Every: time.Minute, NewTask: NewSweepTask})
}

func (s *Service) handleSweep(ctx context.Context, _ *asynq.Task) error {
	r, err := s.Sweep(ctx)
	if r.Steps > 0 && s.Logger != nil {
		s.Logger.Info("isolation swept", "steps", r.Steps, "eligible", r.Eligible, "reminders", r.Reminders,
			"release_reminders", r.ReleaseReminders, "missed", r.Missed, "purged", r.Purged)
	}
	return err
}
