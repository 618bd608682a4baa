package roster_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/queue"
	"github.com/wanjia/wanjia/pkg/queue/queuetest"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// TestRequeueStale: Redis loses the import's task; the reconciler queues
// it again from the database, once.
func TestRequeueStale(t *testing.T) {
	db := storetest.New(t)
	ctx := community(t, db)
	r := queuetest.New(t)
	client := queue.NewClient(r)
	defer client.Close()
	insp := queue.NewInspector(r)
	defer insp.Close()
	s := &roster.Service{DB: db, Queue: client}

	imp, err := s.CreateImport(ctx, roster.KindHouseholds, "a.csv", []byte("网格,地址\ng1,育才路1号\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Client.FlushDB(ctx).Err(); err != nil { // Redis lost everything
		t.Fatal(err)
	}
	// A new client, as after a restart: Asynq's client remembers which
	// queues it has registered and would not register them again.
	fresh := queue.NewClient(r)
	defer fresh.Close()
	s.Queue = fresh
	for i := 0; i < 2; i++ { // a second pass must not double it
		if _, err := s.RequeueStale(ctx, 0); err != nil {
			t.Fatal(err)
		}
	}
	tasks, err := insp.ListPendingTasks(queue.QueueDefault)
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 1 || tasks[0].ID != "import:"+imp.ID {
		t.Fatalf("pending tasks after reconcile: %+v", tasks)
	}
	// Finished imports are left alone.
	if err := s.RunImport(ctx, imp.ID); err != nil {
		t.Fatal(err)
	}
	_ = r.Client.FlushDB(ctx).Err()
	if n, err := s.RequeueStale(ctx, 0); err != nil || n != 0 {
		t.Fatalf("reconcile after done: %d %v", n, err)
	}
}

// TestFailAbandoned: an import left running by a worker that died on its
// last attempt ends as failed, with a message; finished ones are left alone.
func TestFailAbandoned(t *testing.T) {
	db := storetest.New(t)
	ctx := community(t, db)
	s := &roster.Service{DB: db}
	done, err := s.ImportNow(ctx, roster.KindHouseholds, "a.csv", []byte("网格,地址\ng1,育才路1号\n"))
	if err != nil {
		t.Fatal(err)
	}
	stuck, err := s.ImportNow(ctx, roster.KindHouseholds, "b.csv", []byte("网格,地址\ng1,育才路2号\n"))
	if err != nil {
		t.Fatal(err)
	}
	long := time.Now().Add(-2 * time.Hour)
	if err := fixtureExec(ctx, db, "UPDATE imports SET status = 'running', started_at = ?, finished_at = NULL WHERE tenant_id = ? AND id = ?", long, tenantOf(ctx), stuck.ID); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{1, 0} { // the second pass finds nothing left
		if n, err := s.FailAbandoned(ctx); err != nil || n != want {
			t.Fatalf("pass %d: ended %d, want %d (%v)", i+1, n, want, err)
		}
	}
	got, err := s.GetImport(ctx, stuck.ID)
	if err != nil || got.Status != "failed" || got.Message != "import_gave_up" || got.FinishedAt == nil {
		t.Fatalf("abandoned import: %+v %v", got, err)
	}
	if err := s.GiveUp(ctx, done.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetImport(ctx, done.ID); got.Status != "done" {
		t.Fatalf("a finished import was changed: %+v", got)
	}
}

// TestOneImportAtATime: while one import of a community runs, another
// waits (a LaterError for the queue) and runs once the first is done.
func TestOneImportAtATime(t *testing.T) {
	db := storetest.New(t)
	ctx := community(t, db)
	r := queuetest.New(t)
	client := queue.NewClient(r)
	defer client.Close()
	s := &roster.Service{DB: db, Queue: client}
	first, err := s.CreateImport(ctx, roster.KindHouseholds, "a.csv", []byte("网格,地址\ng1,育才路1号\n"))
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.CreateImport(ctx, roster.KindHouseholds, "b.csv", []byte("网格,地址\ng1,育才路1号\ng1,育才路2号\n"))
	if err != nil {
		t.Fatal(err)
	}
	// The first one's worker has claimed the community.
	if err := fixtureExec(ctx, db, "UPDATE imports SET status = 'running', started_at = ? WHERE tenant_id = ? AND id = ?", time.Now(), tenantOf(ctx), first.ID); err != nil {
		t.Fatal(err)
	}
	var later *queue.LaterError
	if err := s.RunImport(ctx, second.ID); !errors.As(err, &later) {
		t.Fatalf("second import while the first runs: %v, want a LaterError", err)
	}
	if got, _ := s.GetImport(ctx, second.ID); got.Status != "queued" {
		t.Fatalf("the waiting import is %s", got.Status)
	}
	// The first one's task runs (again) and finishes; then the second runs.
	for _, id := range []string{first.ID, second.ID} {
		if err := s.RunImport(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.GetImport(ctx, second.ID)
	if err != nil || got.Status != "done" || got.Created != 1 || got.Unchanged != 1 {
		t.Fatalf("second import: %+v %v", got, err)
	}
}

// TestPendingWork: uploads waiting in the database are counted, with the
// age of the oldest, whatever the queue holds.
func TestPendingWork(t *testing.T) {
	db := storetest.New(t)
	ctx := community(t, db)
	s := &roster.Service{DB: db, Queue: queue.NewClient(queuetest.New(t))}
	if _, err := s.CreateImport(ctx, roster.KindHouseholds, "a.csv", []byte("网格,地址\ng1,育才路1号\n")); err != nil {
		t.Fatal(err)
	}
	s.Now = func() time.Time { return time.Now().Add(time.Minute) }
	got, err := s.PendingWork(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"queued": 1, "running": 0}
	for _, p := range got {
		if p.Kind != "import" || p.Count != want[p.Status] {
			t.Errorf("pending %+v, want %d", p, want[p.Status])
		}
		if p.Status == "queued" && (p.Oldest < 50*time.Second || p.Oldest > 2*time.Minute) {
			t.Errorf("oldest queued import is %v old, want about a minute", p.Oldest)
		}
	}
	if len(got) != 2 {
		t.Fatalf("pending work: %+v", got)
	}
}

// TestRequeueRunningImport: an import stopped mid-file (its worker died
// after two batches) and Redis lost its task. The reconciler queues it
// again although it is running, once, and its next run resumes from the
// last saved batch: the counts are one run's, no household is saved twice.
func TestRequeueRunningImport(t *testing.T) {
	db := storetest.New(t)
	ctx := community(t, db)
	r := queuetest.New(t)
	client := queue.NewClient(r)
	defer client.Close()
	insp := queue.NewInspector(r)
	defer insp.Close()
	s := &roster.Service{DB: db, Queue: client}
	defer roster.SetImportBatch(2)()

	imp, err := s.CreateImport(ctx, roster.KindHouseholds, "a.csv", sevenHouseholds)
	if err != nil {
		t.Fatal(err)
	}
	restore := roster.CrashAfterBatches(2)
	err = s.RunImport(ctx, imp.ID)
	restore()
	if err == nil {
		t.Fatal("the simulated crash did not stop the import")
	}
	if got, _ := s.GetImport(ctx, imp.ID); got.Status != "running" || got.Rows != 4 {
		t.Fatalf("after the crash: %s, %d rows", got.Status, got.Rows)
	}
	if err := r.Client.FlushDB(ctx).Err(); err != nil { // Redis lost the task
		t.Fatal(err)
	}
	fresh := queue.NewClient(r)
	defer fresh.Close()
	s.Queue = fresh
	for i, want := range []int{1, 0} { // the second pass finds its task there
		if n, err := s.RequeueStale(ctx, 0); err != nil || n != want {
			t.Fatalf("pass %d: re-queued %d, want %d (%v)", i+1, n, want, err)
		}
	}
	tasks, err := insp.ListPendingTasks(queue.QueueDefault)
	if err != nil || len(tasks) != 1 || tasks[0].ID != "import:"+imp.ID {
		t.Fatalf("pending tasks after reconcile: %+v %v", tasks, err)
	}
	if err := s.RunImport(ctx, imp.ID); err != nil { // the task runs
		t.Fatal(err)
	}
	checkSevenDone(t, ctx, s, imp.ID)
}

// TestTwoRunsOfOneImport: the reconciler queued a running import again
// while its first run was in fact alive (Redis lost the task of a worker
// still at it). The second run finishes the import between two batches of
// the first; the first then finds the import ahead of it, saves nothing
// more and waits (a LaterError), and nothing is saved or counted twice.
func TestTwoRunsOfOneImport(t *testing.T) {
	db := storetest.New(t)
	ctx := community(t, db)
	s := &roster.Service{DB: db}
	defer roster.SetImportBatch(2)()
	restore := roster.CrashAfterBatches(1)
	_, err := s.ImportNow(ctx, roster.KindHouseholds, "a.csv", sevenHouseholds)
	restore()
	if err == nil {
		t.Fatal("the simulated crash did not stop the import")
	}
	var id string
	err = db.AcrossTenants(ctx, "test", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewSelect().TableExpr("imports").Column("id").Scan(ctx, &id)
	})
	if err != nil {
		t.Fatal(err)
	}
	var second error
	restore = roster.AfterBatches(1, func() { second = s.RunImport(ctx, id) })
	first := s.RunImport(ctx, id)
	restore()
	if second != nil {
		t.Fatalf("the second run: %v", second)
	}
	var later *queue.LaterError
	if !errors.As(first, &later) {
		t.Fatalf("the first run, overtaken: %v, want a LaterError", first)
	}
	checkSevenDone(t, ctx, s, id)
	if err := s.RunImport(ctx, id); err != nil { // its task comes back
		t.Fatal(err)
	}
	checkSevenDone(t, ctx, s, id)
}
