package outreach

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wanjia/wanjia/pkg/queue"
)

// The outreach tasks: their types, payloads and constructors live here,
// beside the service they call; workers/ registers the handlers.
const (
	// TypeSend sends one message of the outbox.
	TypeSend = "outreach:send"
	// TypeDispatch queues the send tasks of a running campaign.
	TypeDispatch = "outreach:dispatch"
	// TypeReconcile starts due campaigns, releases held messages, re-queues
	// messages whose task Redis lost and resolves abandoned sends (periodic).
	TypeReconcile = "outreach:reconcile"
)

// SendPayload names one message.
type SendPayload struct {
	TenantID  string `json:"tenant_id"`
	MessageID string `json:"message_id"`
}

// NewSendTask builds the task; its id is the message's, so a message has
// at most one task in the queue however often it is queued.
func NewSendTask(tenantID, messageID string) (*asynq.Task, []asynq.Option, error) {
	return newSendTask(tenantID, messageID, queue.QueueMessages)
}

// NewAlertTask is NewSendTask for an alert to staff (Notify's urgent
// notices): on the critical queue, which workers serve first, so that it
// never waits behind a campaign's tasks.
func NewAlertTask(tenantID, messageID string) (*asynq.Task, []asynq.Option, error) {
	return newSendTask(tenantID, messageID, queue.QueueCritical)
}

func newSendTask(tenantID, messageID, q string) (*asynq.Task, []asynq.Option, error) {
	b, err := json.Marshal(SendPayload{TenantID: tenantID, MessageID: messageID})
	if err != nil {
		return nil, nil, err
	}
	// MaxRetry above zero: waiting (rate limit, backoff) answers
	// queue.Later, which Asynq retries without counting, but only while
	// retries are allowed at all.
	return asynq.NewTask(TypeSend, b), []asynq.Option{asynq.Queue(q), asynq.TaskID(messageID),
		asynq.MaxRetry(5), asynq.Timeout(2 * time.Minute)}, nil
}

// DispatchPayload names a campaign.
type DispatchPayload struct {
	TenantID   string `json:"tenant_id"`
	CampaignID string `json:"campaign_id"`
}

// NewDispatchTask builds a campaign's dispatch.
func NewDispatchTask(tenantID, campaignID string) (*asynq.Task, []asynq.Option, error) {
	b, err := json.Marshal(DispatchPayload{TenantID: tenantID, CampaignID: campaignID})
	if err != nil {
		return nil, nil, err
	}
	return asynq.NewTask(TypeDispatch, b), []asynq.Option{asynq.Queue(queue.QueueMessages), asynq.MaxRetry(3),
		asynq.Timeout(10 * time.Minute)}, nil
}

// NewReconcileTask builds the reconciler's task for one period.
func NewReconcileTask(time.Time) (*asynq.Task, error) {
	return asynq.NewTask(TypeReconcile, nil, asynq.Queue(queue.QueueDefault), asynq.MaxRetry(1), asynq.Timeout(time.Minute)), nil
}

// enqueueSend queues a message's send task (an alert's on the critical
// queue); it reports false when the task was still in the queue.
func (s *Service) enqueueSend(ctx context.Context, tenantID, messageID string, alert bool) (bool, error) {
	if s.Queue == nil {
		return false, nil
	}
	newTask := NewSendTask
	if alert {
		newTask = NewAlertTask
	}
	t, opts, err := newTask(tenantID, messageID)
	if err != nil {
		return false, err
	}
	_, err = s.Queue.EnqueueContext(ctx, t, opts...)
	if errors.Is(err, asynq.ErrTaskIDConflict) || errors.Is(err, asynq.ErrDuplicateTask) {
		return false, nil // its task is still in the queue
	}
	return err == nil, err
}

func (s *Service) enqueueDispatch(ctx context.Context, tenantID, campaignID string) error {
	if s.Queue == nil {
		return nil
	}
	t, opts, err := NewDispatchTask(tenantID, campaignID)
	if err != nil {
		return err
	}
	_, err = s.Queue.EnqueueContext(ctx, t, opts...)
	return err
}

// HandleSend is TypeSend's handler (the task middleware has put the
// payload's tenant in ctx).
func (s *Service) HandleSend(ctx context.Context, t *asynq.Task) error {
	var p SendPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.MessageID == "" {
		return fmt.Errorf("send payload: %v: %w", err, asynq.SkipRetry)
	}
	return s.SendMessage(ctx, p.MessageID)
}

// HandleDispatch is TypeDispatch's handler.
func (s *Service) HandleDispatch(ctx context.Context, t *asynq.Task) error {
	var p DispatchPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.CampaignID == "" {
		return fmt.Errorf("dispatch payload: %v: %w", err, asynq.SkipRetry)
	}
	_, err := s.Dispatch(ctx, p.CampaignID)
	return err
}

// HandleReconcile is TypeReconcile's handler.
func (s *Service) HandleReconcile(ctx context.Context, _ *asynq.Task) error {
	r, err := s.Reconcile(ctx)
	if r.Requeued+r.Resolved+r.Released+r.Started > 0 {
		s.logger().Info("outreach reconciled", "started", r.Started, "released", r.Released, "requeued", r.Requeued,
			"resolved", r.Resolved, "finished", r.Finished)
	}
	return err
}
