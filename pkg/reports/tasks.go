package reports

import (
	"context"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wanjia/wanjia/pkg/queue"
)

// TypeSweep takes the cut-off snapshots and sends the reminders that are
// due (sweep.go).
const TypeSweep = "reports:sweep"

// NewSweepTask builds the sweep of one period. Run twice (two schedulers,
// a slot queued again after Redis forgot its id), the second finds each
// step marked done in the database and does nothing.
func NewSweepTask(time.Time) (*asynq.Task, error) {
	return asynq.NewTask(TypeSweep, nil, asynq.Queue(queue.QueueDefault), asynq.MaxRetry(1), asynq.Timeout(5*time.Minute)), nil
}

// Tasks registers the reports' tasks: the sweep, every minute (each
// community's cut-off is at its own local time).
func (s *Service) Tasks(t *queue.Tasks) {
	t.HandleFunc(TypeSweep, s.handleSweep)
	t.Every(queue.Periodic{Name: "reports-sweep", Every: time.Minute, NewTask: NewSweepTask})
}

func (s *Service) handleSweep(ctx context.Context, _ *asynq.Task) error {
	r, err := s.Sweep(ctx)
	if r.Snapshots+r.Reminders > 0 && s.Logger != nil {
		s.Logger.Info("reports swept", "snapshots", r.Snapshots, "reminders", r.Reminders)
	}
	return err
}
