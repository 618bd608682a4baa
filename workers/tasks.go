// Package workers is the asynchronous door into the application: the
// ServeMux with its middleware, the registration of each domain's task
// handlers (thin: they call the domain's service), and the table of
// periodic tasks with the scheduler that enqueues them. Task types,
// payloads and constructors live with their domain (pkg/<domain>/tasks.go);
// only the system's own heartbeat is defined here.
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
	TypeHeartbeat = "system:heartbeat"
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
