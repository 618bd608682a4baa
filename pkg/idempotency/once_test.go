package idempotency_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/idempotency"
	"github.com/wanjia/wanjia/pkg/orgs/orgstest"
	"github.com/wanjia/wanjia/pkg/queue"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// building is the row the writes under test insert: a real tenant table,
// so that a write done twice shows as two rows.
type building struct {
	bun.BaseModel `bun:"table:buildings,alias:b"`
	ID            string    `bun:"id,pk"`
	TenantID      string    `bun:"tenant_id"`
	GridID        string    `bun:"grid_id"`
	Name          string    `bun:"name"`
	Address       string    `bun:"address"`
	CreatedAt     time.Time `bun:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

// made is what a write answers.
type made struct {
	ID   string    `json:"id"`
	Name string    `json:"name"`
	At   time.Time `json:"at"`
}

var errWrite = errors.New("the write failed")

// fixture is a database with communities ta and tb (grid g1 each), a frame
// over it, and the contexts of their staff.
type fixture struct {
	db     *store.DB
	frame  *scope.Frame
	ctx    map[string]context.Context // community slug → its staff's request context
	tenant map[string]string          // community slug → tenant id
	runs   atomic.Int32               // writes that ran (committed or not)
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := storetest.New(t)
	d := orgstest.New(t, db, orgstest.Spec{Slug: "ta", Grids: []string{"g1"}}, orgstest.Spec{Slug: "tb", Grids: []string{"g1"}})
	f := &fixture{db: db, frame: scope.New(db), ctx: map[string]context.Context{}, tenant: map[string]string{}}
	for _, c := range []string{"ta", "tb"} {
		f.ctx[c] = d.As(t, c+".staff", c)
		f.tenant[c] = d.Org(t, c).ID
	}
	return f
}

// write inserts a building under a fresh name (a write run twice makes two
// rows, never a unique-index clash that would hide it) and answers it; with
// fail it inserts and then fails, which must roll the row back too.
func (f *fixture) write(fail bool) func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*made, error) {
	return f.slowWrite(fail, 0)
}

// slowWrite is write taking at least d, so that concurrent callers are
// inside their transactions at the same time.
func (f *fixture) slowWrite(fail bool, d time.Duration) func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*made, error) {
	return func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*made, error) {
		f.runs.Add(1)
		time.Sleep(d)
		grid, _ := g.ID("g1")
		now := time.Now().UTC()
		b := &building{ID: uuid.NewString(), TenantID: tx.Tenant(), GridID: grid, Name: "楼 " + uuid.NewString()[:8], CreatedAt: now, UpdatedAt: now}
		if _, err := tx.Insert(b).Exec(ctx); err != nil {
			return nil, err
		}
		if fail {
			return nil, errWrite
		}
		return &made{ID: b.ID, Name: b.Name, At: now}, nil
	}
}

// count counts a tenant's rows of table.
func (f *fixture) count(t *testing.T, table, community string) int {
	t.Helper()
	var n int
	err := f.db.AcrossTenants(context.Background(), "test fixture", []string{f.tenant[community]}, func(ctx context.Context, tx bun.Tx) error {
		c, err := tx.NewSelect().TableExpr(table).Where("tenant_id = ?", f.tenant[community]).Count(ctx)
		n = int(c)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// age moves a community's keys back by d.
func (f *fixture) age(t *testing.T, community string, d time.Duration) {
	t.Helper()
	err := f.db.AcrossTenants(context.Background(), "test fixture", []string{f.tenant[community]}, func(ctx context.Context, tx bun.Tx) error {
		var keys []struct {
			Key       string    `bun:"key"`
			CreatedAt time.Time `bun:"created_at"`
		}
		if err := tx.NewSelect().TableExpr("idempotency_keys").Column("key", "created_at").
			Where("tenant_id = ?", f.tenant[community]).Scan(ctx, &keys); err != nil {
			return err
		}
		for _, k := range keys {
			if _, err := tx.NewUpdate().TableExpr("idempotency_keys").Set("created_at = ?", k.CreatedAt.UTC().Add(-d)).
				Where("tenant_id = ? AND key = ?", f.tenant[community], k.Key).Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func encode(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// reused reports whether err is the 422 naming the Idempotency-Key field.
func reused(err error) bool {
	var e *errs.Error
	return errors.As(err, &e) && e.Kind == errs.KindValidation && len(e.Fields) == 1 &&
		e.Fields[0].Field == "Idempotency-Key" && e.Fields[0].Key == "idempotency_key_reused"
}

// TestOnce runs sequences of writes through scope.Once and checks, after
// each, whether the write ran, what it answered, and the rows left.
func TestOnce(t *testing.T) {
	t.Parallel()
	const (
		wrote    = "wrote"    // the write ran and committed
		replayed = "replayed" // the answer of the key's write, without running
		refused  = "refused"  // 422: the key was another request's
		failed   = "failed"   // the write's own error, nothing kept
	)
	type call struct {
		community  string
		key, fp    string        // key "": no Idempotency-Key
		fail       bool          // the write fails
		agedBefore time.Duration // age the community's keys by this first
		want       string
	}
	for _, c := range []struct {
		name  string
		calls []call
		rows  map[string]int // community → buildings written
		keys  map[string]int // community → keys kept
	}{
		{"same key twice: one write, the same answer", []call{
			{community: "ta", key: "k1", fp: "f1", want: wrote},
			{community: "ta", key: "k1", fp: "f1", want: replayed},
			{community: "ta", key: "k1", fp: "f1", want: replayed},
		}, map[string]int{"ta": 1}, map[string]int{"ta": 1}},
		{"same key, another request: 422, the first answer kept", []call{
			{community: "ta", key: "k1", fp: "f1", want: wrote},
			{community: "ta", key: "k1", fp: "f2", want: refused},
			{community: "ta", key: "k1", fp: "f1", want: replayed},
		}, map[string]int{"ta": 1}, map[string]int{"ta": 1}},
		{"a failed write leaves no key: the retry writes", []call{
			{community: "ta", key: "k1", fp: "f1", fail: true, want: failed},
			{community: "ta", key: "k1", fp: "f1", want: wrote},
			{community: "ta", key: "k1", fp: "f1", want: replayed},
		}, map[string]int{"ta": 1}, map[string]int{"ta": 1}},
		{"a failed write does not free a key already used", []call{
			{community: "ta", key: "k1", fp: "f1", want: wrote},
			{community: "ta", key: "k1", fp: "f1", fail: true, want: replayed},
		}, map[string]int{"ta": 1}, map[string]int{"ta": 1}},
		{"a key older than 24 hours is new, whatever it was", []call{
			{community: "ta", key: "k1", fp: "f1", want: wrote},
			{community: "ta", key: "k1", fp: "f2", agedBefore: idempotency.TTL + time.Minute, want: wrote},
			{community: "ta", key: "k1", fp: "f2", want: replayed},
			{community: "ta", key: "k1", fp: "f1", want: refused},
		}, map[string]int{"ta": 2}, map[string]int{"ta": 1}},
		{"a key younger than 24 hours still answers", []call{
			{community: "ta", key: "k1", fp: "f1", want: wrote},
			{community: "ta", key: "k1", fp: "f1", agedBefore: idempotency.TTL - time.Minute, want: replayed},
		}, map[string]int{"ta": 1}, map[string]int{"ta": 1}},
		{"the same key in two communities: two writes", []call{
			{community: "ta", key: "k1", fp: "f1", want: wrote},
			{community: "tb", key: "k1", fp: "f1", want: wrote},
			{community: "tb", key: "k1", fp: "f1", want: replayed},
			{community: "ta", key: "k1", fp: "f1", want: replayed},
		}, map[string]int{"ta": 1, "tb": 1}, map[string]int{"ta": 1, "tb": 1}},
		{"without a key every call writes (scope.Run)", []call{
			{community: "ta", want: wrote},
			{community: "ta", want: wrote},
			{community: "ta", fail: true, want: failed},
		}, map[string]int{"ta": 2}, map[string]int{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			answers := map[string]string{} // community/key → the answer of its write
			for i, call := range c.calls {
				if call.agedBefore > 0 {
					f.age(t, call.community, call.agedBefore)
				}
				ctx := f.ctx[call.community]
				if call.key != "" {
					ctx = idempotency.With(ctx, idempotency.Request{Key: call.key, Fingerprint: call.fp})
				}
				before := f.runs.Load()
				out, err := scope.Once(ctx, f.frame, f.write(call.fail))
				ran := f.runs.Load() != before
				id := call.community + "/" + call.key
				switch call.want {
				case wrote:
					if err != nil || !ran || out == nil {
						t.Fatalf("call %d: ran %v, %+v, %v; want a write", i, ran, out, err)
					}
					answers[id] = encode(t, out)
				case replayed:
					if err != nil || ran {
						t.Fatalf("call %d: ran %v, %v; want the stored answer", i, ran, err)
					}
					if got := encode(t, out); got != answers[id] {
						t.Fatalf("call %d: answer %s, want %s", i, got, answers[id])
					}
				case refused:
					if !reused(err) || ran {
						t.Fatalf("call %d: ran %v, %v; want the 422 on Idempotency-Key", i, ran, err)
					}
				case failed:
					if !errors.Is(err, errWrite) || !ran {
						t.Fatalf("call %d: ran %v, %v; want the write's own error", i, ran, err)
					}
				}
			}
			for _, community := range []string{"ta", "tb"} {
				if got := f.count(t, "buildings", community); got != c.rows[community] {
					t.Errorf("%s: %d rows written, want %d", community, got, c.rows[community])
				}
				if got := f.count(t, "idempotency_keys", community); got != c.keys[community] {
					t.Errorf("%s: %d keys kept, want %d", community, got, c.keys[community])
				}
			}
		})
	}
}

// TestOnceConcurrent sends one key ten times at once, as retries reaching
// several replicas would: one write, ten identical answers. On PostgreSQL
// the claims wait on each other's row; on SQLite writers queue.
func TestOnceConcurrent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := idempotency.With(f.ctx["ta"], idempotency.Request{Key: "retry-me", Fingerprint: "f1"})
	const n = 10
	answers := make([]string, n)
	failures := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out, err := scope.Once(ctx, f.frame, f.slowWrite(false, 100*time.Millisecond))
			failures[i] = err
			if err == nil {
				b, _ := json.Marshal(out)
				answers[i] = string(b)
			}
		}()
	}
	close(start)
	wg.Wait()
	for i := range n {
		if failures[i] != nil {
			t.Fatalf("call %d: %v", i, failures[i])
		}
		if answers[i] != answers[0] {
			t.Errorf("call %d answered %s, call 0 %s", i, answers[i], answers[0])
		}
	}
	if runs := f.runs.Load(); runs != 1 {
		t.Errorf("the write ran %d times, want once", runs)
	}
	if rows := f.count(t, "buildings", "ta"); rows != 1 {
		t.Errorf("%d rows written, want 1", rows)
	}
	if keys := f.count(t, "idempotency_keys", "ta"); keys != 1 {
		t.Errorf("%d keys kept, want 1", keys)
	}
}

// TestPurge deletes the keys older than 24 hours of every community and no
// other.
func TestPurge(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	put := func(community string, keys ...string) {
		for _, k := range keys {
			ctx := idempotency.With(f.ctx[community], idempotency.Request{Key: k, Fingerprint: "f"})
			if _, err := scope.Once(ctx, f.frame, f.write(false)); err != nil {
				t.Fatal(err)
			}
		}
	}
	put("ta", "old-1", "old-2")
	put("tb", "old-3")
	f.age(t, "ta", idempotency.TTL+time.Hour)
	f.age(t, "tb", idempotency.TTL+time.Hour)
	put("ta", "new-1")
	put("tb", "new-2", "new-3")

	n, err := idempotency.Purge(context.Background(), f.db, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("purged %d keys, want 3", n)
	}
	for community, want := range map[string]int{"ta": 1, "tb": 2} {
		if got := f.count(t, "idempotency_keys", community); got != want {
			t.Errorf("%s: %d keys left, want %d", community, got, want)
		}
	}
	// The keys left still answer; the purged ones write again.
	for _, c := range []struct {
		community, key string
		writes         bool
	}{{"ta", "new-1", false}, {"tb", "new-3", false}, {"ta", "old-1", true}, {"tb", "old-3", true}} {
		before := f.runs.Load()
		ctx := idempotency.With(f.ctx[c.community], idempotency.Request{Key: c.key, Fingerprint: "f"})
		if _, err := scope.Once(ctx, f.frame, f.write(false)); err != nil {
			t.Fatal(err)
		}
		if wrote := f.runs.Load() != before; wrote != c.writes {
			t.Errorf("%s %s: wrote %v, want %v", c.community, c.key, wrote, c.writes)
		}
	}
}

// TestPurgeTask runs the registered handler on the task the scheduler
// builds from the registered periodic entry.
func TestPurgeTask(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := idempotency.With(f.ctx["ta"], idempotency.Request{Key: "old", Fingerprint: "f"})
	if _, err := scope.Once(ctx, f.frame, f.write(false)); err != nil {
		t.Fatal(err)
	}
	f.age(t, "ta", idempotency.TTL+time.Second)
	tasks := queue.NewTasks(idempotency.Tasks(f.db))
	p, ok := tasks.PeriodicNamed("purge-idempotency-keys")
	if !ok {
		t.Fatal("no purge-idempotency-keys in the periodic table")
	}
	task, err := p.NewTask(time.Now())
	if err != nil || task.Type() != idempotency.TypePurge {
		t.Fatalf("task = %v, %v", task, err)
	}
	mux := asynq.NewServeMux()
	tasks.Mount(mux)
	if err := mux.ProcessTask(context.Background(), task); err != nil {
		t.Fatal(err)
	}
	if n := f.count(t, "idempotency_keys", "ta"); n != 0 {
		t.Errorf("%d keys left, want 0", n)
	}
}
