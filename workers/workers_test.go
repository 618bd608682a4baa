package workers_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wanjia/wanjia/pkg/health"
	"github.com/wanjia/wanjia/pkg/queue"
	"github.com/wanjia/wanjia/pkg/queue/queuetest"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store/storetest"
	"github.com/wanjia/wanjia/workers"
)

// TestHeartbeatEndToEnd enqueues the heartbeat through the real scheduler
// code path and lets a real Asynq server (on the embedded Redis, or the real
// one in CI) process it into the database.
func TestHeartbeatEndToEnd(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	r := queuetest.New(t)
	checker := health.New(db)

	srv := queue.NewServer(r, queue.ServerOptions{Concurrency: 2, ShutdownTimeout: 5 * time.Second, Logger: slog.New(slog.DiscardHandler)})
	tasks := queue.NewTasks(workers.System{Health: checker}.Tasks)
	if err := srv.Start(workers.NewMux(workers.Deps{Metrics: prometheus.NewRegistry()}, tasks)); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()

	client := queue.NewClient(r)
	defer client.Close()
	s := &workers.Scheduler{Client: client, Tasks: tasks.Periodic()}
	slot := time.Now().Truncate(time.Minute)
	fresh, err := s.EnqueueSlot(ctx, s.Tasks[0], slot)
	if err != nil || !fresh {
		t.Fatalf("enqueue = %v, %v", fresh, err)
	}

	deadline := time.Now().Add(15 * time.Second)
	for {
		run, err := checker.LastRun(ctx, health.HeartbeatName)
		if err == nil {
			if !run.Slot.Equal(slot.UTC()) || run.Runs != 1 {
				t.Fatalf("run = %+v, want slot %v once", run, slot)
			}
			break
		}
		if !errors.Is(err, health.ErrNoRun) {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("heartbeat was not processed within 15 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestTwoSchedulersDoNotDouble runs two schedulers over the same slots at
// once: every slot is enqueued exactly once, even after it was processed.
func TestTwoSchedulersDoNotDouble(t *testing.T) {
	ctx := context.Background()
	r := queuetest.New(t)
	client := queue.NewClient(r)
	defer client.Close()
	p, _ := queue.NewTasks(workers.System{}.Tasks).PeriodicNamed("heartbeat")
	a := &workers.Scheduler{Client: client}
	b := &workers.Scheduler{Client: client}
	base := time.Date(2026, 2, 10, 8, 0, 0, 0, time.UTC)

	var mu sync.Mutex
	enqueued := map[time.Time]int{}
	var wg sync.WaitGroup
	for _, s := range []*workers.Scheduler{a, b} {
		wg.Add(1)
		go func(s *workers.Scheduler) {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				slot := base.Add(time.Duration(i) * time.Minute)
				fresh, err := s.EnqueueSlot(ctx, p, slot)
				if err != nil {
					t.Error(err)
					return
				}
				if fresh {
					mu.Lock()
					enqueued[slot]++
					mu.Unlock()
				}
			}
		}(s)
	}
	wg.Wait()
	if len(enqueued) != 5 {
		t.Fatalf("slots enqueued: %d, want 5", len(enqueued))
	}
	for slot, n := range enqueued {
		if n != 1 {
			t.Errorf("slot %v enqueued %d times", slot, n)
		}
	}

	// Process one slot, then a late scheduler tries it again: still refused
	// because finished tasks are retained.
	insp := queue.NewInspector(r)
	defer insp.Close()
	srv := queue.NewServer(r, queue.ServerOptions{Concurrency: 1, Logger: slog.New(slog.DiscardHandler)})
	done := make(chan struct{}, 5)
	mux := asynq.NewServeMux()
	mux.HandleFunc(workers.TypeHeartbeat, func(context.Context, *asynq.Task) error { done <- struct{}{}; return nil })
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	for i := 0; i < 5; i++ {
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Fatal("tasks not processed")
		}
	}
	// Asynq moves a task to completed just after its handler returns.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		done, err := insp.ListCompletedTasks(queue.QueueDefault)
		if err == nil && len(done) == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("completed tasks: %d %v, want 5", len(done), err)
		}
	}
	fresh, err := b.EnqueueSlot(ctx, p, base)
	if err != nil || fresh {
		t.Fatalf("late re-enqueue of a processed slot = %v, %v; want refused", fresh, err)
	}
}

// TestTenantFromPayload checks the middleware that carries a payload's
// tenant into the handler's context.
func TestTenantFromPayload(t *testing.T) {
	r := queuetest.New(t)
	srv := queue.NewServer(r, queue.ServerOptions{Concurrency: 1, Logger: slog.New(slog.DiscardHandler)})
	got := make(chan string, 1)
	mux := workers.NewMux(workers.Deps{Metrics: prometheus.NewRegistry()}, queue.NewTasks(func(t *queue.Tasks) {
		t.HandleFunc("test:tenant", func(ctx context.Context, _ *asynq.Task) error {
			s, _ := scope.From(ctx)
			got <- s.TenantID
			return nil
		})
	}))
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	client := queue.NewClient(r)
	defer client.Close()
	if _, err := client.Enqueue(asynq.NewTask("test:tenant", []byte(`{"tenant_id":"yucai-id"}`))); err != nil {
		t.Fatal(err)
	}
	select {
	case id := <-got:
		if id != "yucai-id" {
			t.Fatalf("tenant = %q", id)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("task not processed")
	}
}
