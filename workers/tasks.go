// Package workers is the asynchronous door into the application: Asynq
// task types, their payloads and constructors, the handlers (thin: they
// call pkg services), the ServeMux with its middleware, and the table of
// periodic tasks with the scheduler that enqueues them.
package workers

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/wanjia/wanjia/pkg/queue"
)

// Task types, "<area>:<what>".
const (
	TypeHeartbeat        = "system:heartbeat"
	TypeReconcileImports = "roster:reconcile-imports"
)

// HeartbeatPayload is the slot (start of the period) a heartbeat stands for.
type HeartbeatPayload struct {
	Slot time.Time `json:"slot"`
}

// NewHeartbeatTask builds the heartbeat for one slot.
func NewHeartbeatTask(slot time.Time) (*asynq.Task, error) {
	b, err := json.Marshal(HeartbeatPayload{Slot: slot.UTC()})
	if err != nil {
		return nil, fmt.Errorf("heartbeat payload: %w", err)
	}
	return asynq.NewTask(TypeHeartbeat, b, asynq.Queue(queue.QueueDefault), asynq.MaxRetry(3), asynq.Timeout(30*time.Second)), nil
}

// NewReconcileImportsTask re-queues uploads whose task Redis lost.
func NewReconcileImportsTask(slot time.Time) (*asynq.Task, error) {
	return asynq.NewTask(TypeReconcileImports, nil, asynq.Queue(queue.QueueDefault), asynq.MaxRetry(1), asynq.Timeout(time.Minute)), nil
}
