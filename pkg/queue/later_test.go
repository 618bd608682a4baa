package queue_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wanjia/wanjia/pkg/queue"
	"github.com/wanjia/wanjia/pkg/queue/queuetest"
)

// TestLater: a task that answers Later runs again after the delay it
// asked for, and its retries are not used up.
func TestLater(t *testing.T) {
	r := queuetest.New(t)
	client := queue.NewClient(r)
	defer client.Close()
	srv := queue.NewServer(r, queue.ServerOptions{Concurrency: 1})
	type call struct {
		retried int
		at      time.Time
	}
	calls := make(chan call, 10)
	var runs atomic.Int32
	mux := asynq.NewServeMux()
	mux.HandleFunc("test:busy", func(ctx context.Context, _ *asynq.Task) error {
		n, _ := asynq.GetRetryCount(ctx)
		calls <- call{n, time.Now()}
		if runs.Add(1) < 3 {
			return queue.Later(2*time.Second, "busy")
		}
		return nil
	})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	if _, err := client.Enqueue(asynq.NewTask("test:busy", nil), asynq.Queue(queue.QueueDefault), asynq.MaxRetry(1)); err != nil {
		t.Fatal(err)
	}
	var got []call
	timeout := time.After(20 * time.Second)
	for len(got) < 3 {
		select {
		case c := <-calls:
			got = append(got, c)
		case <-timeout:
			t.Fatalf("ran %d times, want 3 (MaxRetry 1 must not stop a task that is only waiting)", len(got))
		}
	}
	for i, c := range got {
		if c.retried != 0 {
			t.Errorf("run %d: retry count %d, want 0", i+1, c.retried)
		}
		if i > 0 {
			// Asynq keeps retry times in whole seconds: 2 s is 1 to 3 s.
			if gap := c.at.Sub(got[i-1].at); gap < time.Second || gap > 10*time.Second {
				t.Errorf("run %d came %s after the previous, want about 2 s", i+1, gap)
			}
		}
	}
}
