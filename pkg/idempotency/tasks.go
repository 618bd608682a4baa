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

// PurgeHandler is the task's handler over db, for workers' mux.
func PurgeHandler(db *store.DB) asynq.HandlerFunc {
	return func(ctx context.Context, _ *asynq.Task) error {
		_, err := Purge(ctx, db, time.Now())
		return err
	}
}
