package idempotency

import (
	"context"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wanjia/wanjia/pkg/queue"
	"github.com/wanjia/wanjia/pkg/store"
)

// TypePurge deletes expired idempotency keys of every community (a
// periodic task).
const TypePurge = "idempotency:purge"

// NewPurgeTask builds the purge's task for one period. A missed period
// costs nothing: the next one deletes what this one would have.
func NewPurgeTask(time.Time) (*asynq.Task, error) {
	return asynq.NewTask(TypePurge, nil, asynq.Queue(queue.QueueDefault), asynq.MaxRetry(1), asynq.Timeout(5*time.Minute)), nil
}

// Tasks registers the purge and its period, for pkg/app's list of task
// owners (db is the database whose keys it deletes).
func Tasks(db *store.DB) func(*queue.Tasks) {
	return func(t *queue.Tasks) {
		t.HandleFunc(TypePurge, func(ctx context.Context, _ *asynq.Task) error {
			_, err := Purge(ctx, db, time.Now())
			return err
		})
		// Keys are kept for a day; an hour's lag in purging them costs a
		// few rows.
		t.Every(queue.Periodic{Name: "purge-idempotency-keys", Every: time.Hour, NewTask: NewPurgeTask})
	}
}
