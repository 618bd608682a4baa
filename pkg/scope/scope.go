// Package scope is the frame every domain's operation runs in: the
// tenant's transaction (bound to the community in the context), the
// community's grids and which of them the caller may touch, and what the
// caller may see of personal data. A domain writes
//
//	out, err := scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (T, error) { … })
//
// and gets all three locks' worth of context in one call; roster,
// screening, isolation and outreach share it instead of copying it.
package scope

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/idempotency"
	"github.com/wanjia/wanjia/pkg/store"
)

// Frame runs operations in a tenant's scope. One per process, shared by
// every domain (it caches each community's grid list).
type Frame struct {
	DB *store.DB

	mu    sync.Mutex
	grids map[string]gridList // tenant id → its grids
}

// New returns the frame over db.
func New(db *store.DB) *Frame { return &Frame{DB: db} }

// Run runs fn in a read-write transaction of the tenant in ctx, with the
// tenant's grids, and returns what fn returns.
func Run[T any](ctx context.Context, f *Frame, fn func(ctx context.Context, tx *store.TenantTx, g *Grids) (T, error)) (T, error) {
	return in(ctx, f, f.DB.InTenantTx, fn)
}

// Once is Run for a create a client may retry: when ctx carries an
// idempotency.Request (the Idempotency-Key header), the key is claimed in
// fn's own transaction and stored with fn's result, so a retry with the
// same key gets that result back without running fn again, and the same
// key with another request is a 422. An error from fn rolls the claim back
// with the write, so the client may retry with the same key. Without a
// Request it is exactly Run.
//
// A request's key guards one write: a handler calls Once once.
func Once[T any](ctx context.Context, f *Frame, fn func(ctx context.Context, tx *store.TenantTx, g *Grids) (T, error)) (T, error) {
	req, ok := idempotency.From(ctx)
	if !ok {
		return Run(ctx, f, fn)
	}
	return Run(ctx, f, func(ctx context.Context, tx *store.TenantTx, g *Grids) (T, error) {
		var out T
		stored, claimed, err := idempotency.Claim(ctx, tx, req)
		if err != nil {
			return out, err
		}
		if !claimed {
			if err := json.Unmarshal(stored, &out); err != nil {
				return out, fmt.Errorf("idempotency: decode stored response: %w", err)
			}
			return out, nil
		}
		if out, err = fn(ctx, tx, g); err != nil {
			return out, err
		}
		return out, idempotency.Save(ctx, tx, req, out)
	})
}

// Do is Run for an operation that returns nothing but its error (a
// delete).
func Do(ctx context.Context, f *Frame, fn func(ctx context.Context, tx *store.TenantTx, g *Grids) error) error {
	_, err := Run(ctx, f, func(ctx context.Context, tx *store.TenantTx, g *Grids) (struct{}, error) {
		return struct{}{}, fn(ctx, tx, g)
	})
	return err
}

// Read is Run in a read-only transaction: lists and records, which on
// SQLite then do not queue behind writers.
func Read[T any](ctx context.Context, f *Frame, fn func(ctx context.Context, tx *store.TenantTx, g *Grids) (T, error)) (T, error) {
	return in(ctx, f, f.DB.InTenantReadTx, fn)
}

// in runs fn with the grids in a transaction begun by begin.
func in[T any](ctx context.Context, f *Frame, begin func(context.Context, func(context.Context, *store.TenantTx) error) error,
	fn func(ctx context.Context, tx *store.TenantTx, g *Grids) (T, error)) (T, error) {
	var out T
	err := begin(ctx, func(ctx context.Context, tx *store.TenantTx) error {
		g, err := f.Grids(ctx, tx)
		if err != nil {
			return err
		}
		out, err = fn(ctx, tx, g)
		return err
	})
	return out, err
}

// gridList is a community's grids, shared read-only by every caller.
type gridList struct {
	idBySlug map[string]string
	slugByID map[string]string
	at       time.Time
}

// gridTTL bounds how long a replica that did not make a grid change goes
// on without it; the replica that made it forgets at once (ForgetGrids).
const gridTTL = 5 * time.Second

// Grids returns the tenant's grids in tx, with the caller's allowance (a
// grid worker's grids). The list is cached per community for gridTTL,
// since every request needs it and it changes a few times a year.
func (f *Frame) Grids(ctx context.Context, tx *store.TenantTx) (*Grids, error) {
	tenant := tx.Tenant()
	now := time.Now()
	f.mu.Lock()
	l, ok := f.grids[tenant]
	f.mu.Unlock()
	if !ok || now.Sub(l.at) > gridTTL || now.Before(l.at) {
		var rows []struct {
			ID   string `bun:"id"`
			Slug string `bun:"slug"`
		}
		if err := tx.SelectTable("grids").Column("id", "slug").Scan(ctx, &rows); err != nil {
			return nil, fmt.Errorf("load grids: %w", err)
		}
		l = gridList{idBySlug: make(map[string]string, len(rows)), slugByID: make(map[string]string, len(rows)), at: now}
		for _, r := range rows {
			l.idBySlug[r.Slug], l.slugByID[r.ID] = r.ID, r.Slug
		}
		f.mu.Lock()
		if f.grids == nil {
			f.grids = map[string]gridList{}
		}
		f.grids[tenant] = l
		f.mu.Unlock()
	}
	g := &Grids{list: l}
	if grids := tx.Scope.Grids; grids != nil {
		g.allowed = make(map[string]bool, len(grids))
		for _, slug := range grids {
			if id, ok := l.idBySlug[slug]; ok {
				g.allowed[id] = true
			}
		}
	}
	return g, nil
}

// ForgetGrids drops a community's cached grids after this process changed
// them.
func (f *Frame) ForgetGrids(tenantID string) {
	f.mu.Lock()
	delete(f.grids, tenantID)
	f.mu.Unlock()
}

// Grids is the community's grids, and which of them the caller may see or
// touch.
type Grids struct {
	list    gridList
	allowed map[string]bool // grid ids; nil: all of them
}

// May reports whether the caller may see or touch records of grid id.
func (g *Grids) May(id string) bool { return g.allowed == nil || g.allowed[id] }

// Resolve turns a grid slug from input into an id the caller may use.
func (g *Grids) Resolve(slug string) (string, bool) {
	id, ok := g.list.idBySlug[slug]
	return id, ok && g.May(id)
}

// ID is the grid with slug, whether or not the caller may use it.
func (g *Grids) ID(slug string) (string, bool) {
	id, ok := g.list.idBySlug[slug]
	return id, ok
}

// Slug is the slug of grid id ("" if none).
func (g *Grids) Slug(id string) string { return g.list.slugByID[id] }

// Limit narrows a query on a table with a grid column to the caller's
// grids: nothing for a grid worker with none, everything for the rest.
func (g *Grids) Limit(q *bun.SelectQuery, col string) *bun.SelectQuery {
	if g.allowed == nil {
		return q
	}
	ids := make([]string, 0, len(g.allowed))
	for id := range g.allowed {
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return q.Where("1 = 0")
	}
	return q.Where("? IN (?)", bun.Ident(col), bun.List(ids))
}
