package directives

import (
	"context"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wanjia/wanjia/pkg/queue"
)

// TypeRemind sends the directives' reminders that are due (remind.go).
const TypeRemind = "directives:remind"

// NewRemindTask builds the sweep of one period. A sweep run twice (two
// schedulers, a slot queued again after Redis forgot its id) finds the
// copies it reminded marked, and sends nothing twice.
func NewRemindTask(time.Time) (*asynq.Task, error) {
	return asynq.NewTask(TypeRemind, nil, asynq.Queue(queue.QueueDefault), asynq.MaxRetry(1), asynq.Timeout(5*time.Minute)), nil
}

// Tasks registers the directives' tasks: the reminder sweep, every five
// minutes (a community's reminder is due at its own local time; outreach
// holds what falls in quiet hours).
func (s *Service) Tasks(t *queue.Tasks) {
	t.HandleFunc(TypeRemind, s.handleRemind)
	t.Every(queue.Periodic{Name: "directives-remind", Every: 5 * time.Minute, NewTask: NewRemindTask})
}

func (s *Service) handleRemind(ctx context.Context, _ *asynq.Task) error {
	r, err := s.Remind(ctx)
	if r.Directives > 0 && s.Logger != nil {
		s.Logger.Info("directives reminded", "directives", r.Directives, "notices", r.Notices)
	}
	return err
}
