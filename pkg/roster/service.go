package roster

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/queue"
	"github.com/wanjia/wanjia/pkg/store"
)

// Service is the roster's plain-Go door; HTTP handlers and tasks call it.
type Service struct {
	DB     *store.DB
	Queue  queue.Enqueuer
	Reads  ReadRecorder // nil: reads are audited synchronously
	Logger *slog.Logger // nil: nothing is logged
	Now    func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// view is what the caller may see of personal data.
type view struct {
	role      string
	fullPhone bool // community roles call residents; officials above see masks
	fullID    bool // only admins and staff see ID numbers, and only one record at a time
}

func viewOf(ctx context.Context) view {
	c, _ := authz.CallerFrom(ctx)
	v := view{role: c.Role}
	switch c.Role {
	case authz.RoleCommunityAdmin, authz.RoleCommunityStaff:
		v.fullPhone, v.fullID = true, true
	case authz.RoleGridWorker:
		v.fullPhone = true
	}
	return v
}

// grids is the tenant's grids, and which of them the caller may touch.
type grids struct {
	idBySlug map[string]string
	slugByID map[string]string
	allowed  map[string]bool // grid ids; nil: all
}

func loadGrids(ctx context.Context, tx *store.TenantTx) (*grids, error) {
	var rows []struct {
		ID   string `bun:"id"`
		Slug string `bun:"slug"`
	}
	if err := tx.SelectTable("grids").Column("id", "slug").Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("load grids: %w", err)
	}
	g := &grids{idBySlug: map[string]string{}, slugByID: map[string]string{}}
	for _, r := range rows {
		g.idBySlug[r.Slug], g.slugByID[r.ID] = r.ID, r.Slug
	}
	if tx.Scope.Grids != nil {
		g.allowed = map[string]bool{}
		for _, slug := range tx.Scope.Grids {
			if id, ok := g.idBySlug[slug]; ok {
				g.allowed[id] = true
			}
		}
	}
	return g, nil
}

// inScope runs fn in the tenant's transaction with the tenant's grids
// loaded: the frame of every roster operation.
func (s *Service) inScope(ctx context.Context, fn func(ctx context.Context, tx *store.TenantTx, g *grids) error) error {
	return s.DB.InTenantTx(ctx, func(ctx context.Context, tx *store.TenantTx) error {
		g, err := loadGrids(ctx, tx)
		if err != nil {
			return err
		}
		return fn(ctx, tx, g)
	})
}

// inReadScope is inScope for reads: a read-only transaction.
func (s *Service) inReadScope(ctx context.Context, fn func(ctx context.Context, tx *store.TenantTx, g *grids) error) error {
	return s.DB.InTenantReadTx(ctx, func(ctx context.Context, tx *store.TenantTx) error {
		g, err := loadGrids(ctx, tx)
		if err != nil {
			return err
		}
		return fn(ctx, tx, g)
	})
}

// may reports whether the caller may see or touch records of grid id.
func (g *grids) may(id string) bool { return g.allowed == nil || g.allowed[id] }

// resolve turns a grid slug from input into an id the caller may use.
func (g *grids) resolve(slug string) (string, bool) {
	id, ok := g.idBySlug[slug]
	return id, ok && g.may(id)
}

// limitToGrids narrows a query on a table with grid_id to the caller's grids.
func (g *grids) limit(q *bun.SelectQuery, col string) *bun.SelectQuery {
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

// notFound is the answer for another tenant's record, another grid's
// record and a record that never was: the caller cannot tell them apart.
func notFound() error { return errs.New(errs.KindNotFound, "not_found", nil) }

// conflict is the 409 for a record that already exists. It names the
// existing record (so a form can link to it) only when the caller may see
// that record's grid; to a grid worker, a record of another grid is just a
// conflict, as a record of another community is nothing at all.
func conflict(key string, args map[string]any, g *grids, gridID, id string) error {
	e := errs.New(errs.KindConflict, key, args)
	if g.may(gridID) {
		e = e.WithData("existing_id", id)
	}
	return e
}

// ReadRecorder records reads of personal data outside the reader's
// transaction (audit.Reads, batched).
type ReadRecorder interface {
	Record(ctx context.Context, resource, resourceID string, details map[string]any)
}

// auditRead records that the caller saw one record with personal data,
// masked or not: the log must show who looked at whom, including the
// officials above the community who see masks. With a ReadRecorder the
// entry is queued (the read stays read-only); without one it is written at
// once.
func (s *Service) auditRead(ctx context.Context, resource, id string, v view, details map[string]any) error {
	if details == nil {
		details = map[string]any{}
	}
	details["masked"] = !v.fullPhone
	if s.Reads != nil {
		s.Reads.Record(ctx, resource, id, details)
		return nil
	}
	return audit.Record(ctx, s.DB, audit.ActionView, resource, id, details)
}

// auditList records a page of a listing: which records were returned (by
// id, never their personal values) and the search that found them.
func (s *Service) auditList(ctx context.Context, resource string, v view, ids []string, f Filter) error {
	if len(ids) == 0 && f.Q == "" {
		return nil
	}
	d := map[string]any{"count": len(ids), "ids": ids}
	for k, x := range map[string]string{"q": f.Q, "grid": f.Grid, "tag": f.Tag, "household_id": f.HouseholdID, "building_id": f.BuildingID} {
		if x != "" {
			d[k] = x
		}
	}
	return s.auditRead(ctx, resource, "list", v, d)
}

// looksLikeNumber tells a search for a phone or ID number (digits, with an
// ID number's final X) from a search for a name.
func looksLikeNumber(q string) bool {
	digits := 0
	for _, r := range q {
		switch {
		case r >= '0' && r <= '9', r >= '０' && r <= '９':
			digits++
		case r == 'x' || r == 'X' || r == ' ' || r == '-' || r == '+':
		default:
			return false
		}
	}
	return digits >= 3
}

// Filter narrows a listing.
type Filter struct {
	Grid        string
	Q           string
	Tag         string
	HouseholdID string
	BuildingID  string
	Limit       int
	Cursor      string
}

// tagCondition filters rows whose JSON tags contain tag.
func (s *Service) tagCondition(q *bun.SelectQuery, alias, tag string) *bun.SelectQuery {
	if s.DB.Flavor() == store.Postgres {
		return q.Where("?.tags @> ?::jsonb", bun.Ident(alias), `["`+jsonEscape(tag)+`"]`)
	}
	// The substring test first: it rules out most rows cheaply, and it is
	// the predicate of the partial indexes on well-known tags (migration
	// tag_indexes). It is only sound when the tag is stored as written,
	// which encoding/json does for all but quotes, backslashes, <, > and &.
	if needle, _ := json.Marshal(tag); string(needle) == `"`+tag+`"` {
		q = q.Where("instr(?.tags, ?) > 0", bun.Ident(alias), string(needle))
	}
	return q.Where("EXISTS (SELECT 1 FROM json_each(?.tags) WHERE value = ?)", bun.Ident(alias), tag)
}

func jsonEscape(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r == '"' || r == '\\' {
			out = append(out, '\\')
		}
		out = append(out, r)
	}
	return string(out)
}

// prefixCondition is an index-friendly "col starts with p".
func (s *Service) prefixCondition(q *bun.SelectQuery, col, p string) *bun.SelectQuery {
	if s.DB.Flavor() == store.Postgres {
		return q.Where("? LIKE ?", bun.Ident(col), likeEscape(p)+"%")
	}
	return q.Where("? GLOB ?", bun.Ident(col), globEscape(p)+"*")
}

func likeEscape(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r == '%' || r == '_' || r == '\\' {
			out = append(out, '\\')
		}
		out = append(out, r)
	}
	return string(out)
}

func globEscape(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		switch r {
		case '*', '?', '[':
			out = append(out, '[', r, ']')
		default:
			out = append(out, r)
		}
	}
	return string(out)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
