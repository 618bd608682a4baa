package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// Reads records reads of personal data (a list page, one record, a search)
// without a write in the reader's transaction: entries queue in memory and
// a single writer inserts them in batches, within Interval of the read and
// on Close. A read then needs no write lock (SQLite) and no extra round
// trip (PostgreSQL), and a thousand reads cost one INSERT (a COPY on
// PostgreSQL).
//
// Changes are never recorded this way: their entry belongs to their own
// transaction (Record). An entry that cannot be queued (the queue is full)
// or written (after retries) is counted in Dropped and logged, never
// silently lost.
type Reads struct {
	db       Writer
	log      *slog.Logger
	interval time.Duration
	maxBatch int
	maxQueue int

	mu      sync.Mutex
	pending []Entry
	kick    chan struct{}
	done    chan struct{}
	closed  bool
	flushMu sync.Mutex // one flush at a time

	dropped atomic.Int64
	written atomic.Int64
}

// ReadsOptions tune a Reads writer; zero values take the defaults.
type ReadsOptions struct {
	Interval time.Duration // longest an entry waits (default 200 ms)
	MaxBatch int           // entries per INSERT (default 500)
	MaxQueue int           // entries held before new ones are dropped (default 50,000)
	Logger   *slog.Logger
}

// NewReads starts the writer; Close flushes and stops it.
func NewReads(db Writer, o ReadsOptions) *Reads {
	if o.Interval == 0 {
		o.Interval = 200 * time.Millisecond
	}
	if o.MaxBatch == 0 {
		o.MaxBatch = 500
	}
	if o.MaxQueue == 0 {
		o.MaxQueue = 50000
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	r := &Reads{db: db, log: o.Logger, interval: o.Interval, maxBatch: o.MaxBatch, maxQueue: o.MaxQueue,
		kick: make(chan struct{}, 1), done: make(chan struct{})}
	r.pending = make([]Entry, 0, o.MaxBatch)
	go r.loop()
	return r
}

// Record queues one read of personal data by the actor in ctx.
func (r *Reads) Record(ctx context.Context, resource, resourceID string, details map[string]any) {
	e := newEntry(ctx, ActionView, resource, resourceID, details)
	r.mu.Lock()
	if r.closed || len(r.pending) >= r.maxQueue {
		r.mu.Unlock()
		r.dropped.Add(1)
		r.log.Error("audit: read entry dropped", "resource", resource, "resource_id", resourceID, "actor", e.Actor)
		return
	}
	r.pending = append(r.pending, e)
	full := len(r.pending) >= r.maxBatch
	r.mu.Unlock()
	if full {
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
}

func (r *Reads) loop() {
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		select {
		case <-r.done:
			return
		case <-t.C:
		case <-r.kick:
		}
		r.Flush(context.Background())
	}
}

// Flush writes every queued entry now.
func (r *Reads) Flush(ctx context.Context) {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	for {
		r.mu.Lock()
		n := min(len(r.pending), r.maxBatch)
		if n == 0 {
			r.mu.Unlock()
			return
		}
		batch := make([]Entry, n)
		copy(batch, r.pending[:n])
		r.pending = append(r.pending[:0], r.pending[n:]...)
		r.mu.Unlock()
		if err := r.write(ctx, batch); err != nil {
			r.dropped.Add(int64(len(batch)))
			r.log.Error("audit: read entries dropped", "count", len(batch), "err", err)
		} else {
			r.written.Add(int64(len(batch)))
		}
	}
}

// write inserts a batch, retrying a database that is briefly away.
func (r *Reads) write(ctx context.Context, batch []Entry) error {
	var err error
	for attempt := range 3 {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * 250 * time.Millisecond)
		}
		if err = r.insert(ctx, batch); err == nil {
			return nil
		}
	}
	return fmt.Errorf("write %d audit entries: %w", len(batch), err)
}

// copier is a Writer that can bulk-load (store.DB on PostgreSQL): a batch
// of reads, each naming the fifty ids of its page, is a large statement for
// the server to parse, and COPY skips that.
type copier interface {
	CanCopy() bool
	CopyInto(ctx context.Context, table string, columns []string, rows [][]any) (bool, error)
}

var entryColumns = []string{"id", "org_path", "at", "actor_id", "actor", "role", "org", "action", "resource", "resource_id", "ip", "request_id", "details", "ids"}

func (r *Reads) insert(ctx context.Context, batch []Entry) error {
	if c, ok := r.db.(copier); ok && c.CanCopy() {
		rows := make([][]any, len(batch))
		for i, e := range batch {
			var details any // NULL when there are none
			if e.Details != nil {
				b, err := json.Marshal(e.Details)
				if err != nil {
					return err
				}
				details = string(b)
			}
			var ids any // NULL, not an empty bytea, when there are none
			if e.IDs != nil {
				ids = e.IDs
			}
			rows[i] = []any{e.ID, e.OrgPath, e.At, e.ActorID, e.Actor, e.Role, e.Org, e.Action, e.Resource, e.ResourceID, e.IP, e.RequestID, details, ids}
		}
		if done, err := c.CopyInto(ctx, "audit_log", entryColumns, rows); done || err != nil {
			return err
		}
	}
	_, err := r.db.NewInsert().Model(&batch).Exec(ctx)
	return err
}

// Close flushes what is queued and stops the writer; later reads are
// counted as dropped.
func (r *Reads) Close(ctx context.Context) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	r.mu.Unlock()
	close(r.done)
	r.Flush(ctx)
}

// Dropped is how many read entries could not be recorded.
func (r *Reads) Dropped() int64 { return r.dropped.Load() }

// Written is how many read entries were recorded.
func (r *Reads) Written() int64 { return r.written.Load() }

func newEntry(ctx context.Context, action, resource, resourceID string, details map[string]any) Entry {
	a := ActorFrom(ctx)
	e := Entry{
		ID: uuid.Must(uuid.NewV7()).String(), OrgPath: a.OrgPath, At: time.Now().UTC(),
		ActorID: a.UserID, Actor: a.Username, Role: a.Role, Org: a.Org,
		Action: action, Resource: resource, ResourceID: resourceID, IP: a.IP, RequestID: a.Request,
		Details: maskDetails(details),
	}
	e.IDs = packIDs(e.Details)
	if e.OrgPath == "" {
		e.OrgPath = "/"
	}
	return e
}
