// Package workers is the asynchronous door into the application, as
// pkg/web is the HTTP one: the ServeMux's middleware (the payload's tenant
// in the context, metrics and logs of each outcome, panics caught), the
// scheduler that enqueues the periodic table, and the system's own
// heartbeat. The domains' tasks (types, payloads, constructors, handlers
// and periodic entries) live with their domain, registered by its Tasks
// method on a queue.Tasks; pkg/app lists the domains.
package workers

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wanjia/wanjia/pkg/health"
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

// System is the system's own tasks: the heartbeat, which proves the whole
// path (scheduler, Redis, worker, database) every minute and records it
// for /readyz.
type System struct {
	Health *health.Checker
}

// Tasks registers the heartbeat and its period.
func (s System) Tasks(t *queue.Tasks) {
	t.HandleFunc(TypeHeartbeat, s.heartbeat)
	t.Every(queue.Periodic{Name: "heartbeat", Every: time.Minute, NewTask: NewHeartbeatTask})
}

func (s System) heartbeat(ctx context.Context, t *asynq.Task) error {
	var p HeartbeatPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		// A payload that cannot be read never will be: do not retry it.
		return fmt.Errorf("heartbeat payload: %v: %w", err, asynq.SkipRetry)
	}
	return s.Health.RecordRun(ctx, health.HeartbeatName, p.Slot)
}
