package queue_test

import (
	"context"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/wanjia/wanjia/pkg/queue"
	"github.com/wanjia/wanjia/pkg/queue/queuetest"
)

// TestBacklogOfALostQueue: after Redis lost everything, the queue is not
// known to it at all; its backlog is zero, not an error (which the
// outreach reconciler would take for "cannot tell").
func TestBacklogOfALostQueue(t *testing.T) {
	r := queuetest.New(t)
	client := queue.NewClient(r)
	defer client.Close()
	insp := queue.NewInspector(r)
	defer insp.Close()
	backlog := queue.Backlog(insp, queue.QueueMessages)
	ctx := context.Background()
	for i, id := range []string{"a", "b"} {
		if _, err := client.Enqueue(asynq.NewTask("test:x", nil), asynq.Queue(queue.QueueMessages), asynq.TaskID(id)); err != nil {
			t.Fatal(err)
		}
		if n, err := backlog(ctx); n != i+1 || err != nil {
			t.Fatalf("backlog = %d, %v; want %d", n, err, i+1)
		}
	}
	if err := r.Client.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := backlog(ctx); n != 0 || err != nil {
		t.Fatalf("after the flush: backlog = %d, %v; want 0, nil", n, err)
	}
}
