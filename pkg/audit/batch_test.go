package audit_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

func count(t *testing.T, db *store.DB) int {
	t.Helper()
	n, err := db.NewSelect().TableExpr("audit_log").Where("action = 'view'").Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

func actor(i int) context.Context {
	return audit.WithActor(context.Background(), audit.Actor{UserID: fmt.Sprint("u", i), Username: "staff", Role: "community_staff", Org: "yucai", OrgPath: "/qixing/yucai/"})
}

// TestReadsWritesEveryEntry: reads recorded from many goroutines are all
// written, in batches, by Close at the latest.
func TestReadsWritesEveryEntry(t *testing.T) {
	db := storetest.New(t)
	r := audit.NewReads(db, audit.ReadsOptions{Interval: time.Hour, MaxBatch: 64, Logger: slog.New(slog.DiscardHandler)})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				r.Record(actor(g), "residents", "list", map[string]any{"ids": []string{fmt.Sprint(g, "-", i)}})
			}
		}()
	}
	wg.Wait()
	r.Close(context.Background())
	if got := count(t, db); got != 800 || r.Written() != 800 || r.Dropped() != 0 {
		t.Fatalf("rows %d, written %d, dropped %d; want 800, 800, 0", got, r.Written(), r.Dropped())
	}
	var e audit.Entry
	if err := db.NewSelect().Model(&e).Limit(1).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e.Actor != "staff" || e.Org != "yucai" || e.Resource != "residents" || e.Details["ids"] == nil {
		t.Fatalf("entry: %+v", e)
	}
}

// TestReadsFlushWithinInterval: an entry is written without Close, within
// the interval.
func TestReadsFlushWithinInterval(t *testing.T) {
	db := storetest.New(t)
	r := audit.NewReads(db, audit.ReadsOptions{Interval: 20 * time.Millisecond})
	defer r.Close(context.Background())
	r.Record(actor(1), "resident", "r-1", nil)
	deadline := time.Now().Add(5 * time.Second)
	for count(t, db) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the entry was not written within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestReadsCountWhatIsLost: a full queue, a database that refuses the
// batch, and reads after Close are counted as dropped, never silently lost.
func TestReadsCountWhatIsLost(t *testing.T) {
	db := storetest.New(t)
	r := audit.NewReads(db, audit.ReadsOptions{Interval: time.Hour, MaxBatch: 1000, MaxQueue: 10, Logger: slog.New(slog.DiscardHandler)})
	for i := range 15 {
		r.Record(actor(i), "resident", fmt.Sprint(i), nil)
	}
	if r.Dropped() != 5 {
		t.Fatalf("queue of 10 took 15: dropped %d, want 5", r.Dropped())
	}
	_ = db.Close()
	r.Flush(context.Background())
	if r.Dropped() != 15 || r.Written() != 0 {
		t.Fatalf("database closed: dropped %d written %d, want 15 and 0", r.Dropped(), r.Written())
	}
	r.Close(context.Background())
	r.Record(actor(99), "resident", "late", nil)
	if r.Dropped() != 16 {
		t.Fatalf("after Close: dropped %d, want 16", r.Dropped())
	}
}
