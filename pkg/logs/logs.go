package logs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// Bounds of the logs' fields.
const (
	maxPublicityCount = 100000
	maxPlace          = 100
	maxLogNotes       = 500
	maxByName         = 50
	// A disinfection round may be logged a little ahead of the server's
	// clock (a phone's clock runs fast), not for a round still to come.
	maxClockSkew = 5 * time.Minute
)

// PublicityInput is one publicity entry: what was put out, how many, on
// which day, in which grid ("" for the whole community; staff only).
type PublicityInput struct {
	Date  string `json:"date"`
	Kind  string `json:"kind"`
	Count *int   `json:"count"`
	Grid  string `json:"grid"`
	Notes string `json:"notes"`
}

// PublicityView is a publicity entry as the API shows it.
type PublicityView struct {
	ID        string    `json:"id"`
	Date      string    `json:"date"`
	Kind      string    `json:"kind"`
	Count     int       `json:"count"`
	Grid      string    `json:"grid"`
	Notes     string    `json:"notes"`
	By        string    `json:"by"`
	CreatedAt time.Time `json:"created_at"`
}

func publicityView(p *Publicity, g *scope.Grids) PublicityView {
	return PublicityView{ID: p.ID, Date: p.Date, Kind: p.Kind, Count: p.Count, Grid: gridSlug(g, p.GridID),
		Notes: p.Notes, By: p.ByName, CreatedAt: p.CreatedAt}
}

// DisinfectionInput is one disinfection round. At is RFC 3339 (now when
// empty); By names who did it when that is not the person recording it.
type DisinfectionInput struct {
	Place string `json:"place"`
	At    string `json:"at"`
	Grid  string `json:"grid"`
	Notes string `json:"notes"`
	By    string `json:"by"`
}

// DisinfectionView is a disinfection round as the API shows it; Date is
// At's day in the community's zone.
type DisinfectionView struct {
	ID        string    `json:"id"`
	Place     string    `json:"place"`
	At        time.Time `json:"at"`
	Date      string    `json:"date"`
	Grid      string    `json:"grid"`
	Notes     string    `json:"notes"`
	By        string    `json:"by"`
	CreatedAt time.Time `json:"created_at"`
}

func disinfectionView(d *Disinfection, g *scope.Grids) DisinfectionView {
	return DisinfectionView{ID: d.ID, Place: d.Place, At: d.At, Date: d.LocalDate, Grid: gridSlug(g, d.GridID),
		Notes: d.Notes, By: d.ByName, CreatedAt: d.CreatedAt}
}

func gridSlug(g *scope.Grids, id *string) string {
	if id == nil {
		return ""
	}
	return g.Slug(*id)
}

// logGrid resolves the grid an entry is for. Staff may leave it empty (an
// entry for the whole community). A grid worker must name one of its own
// grids: an entry of theirs without one would count for every grid, and
// another grid's is not theirs to write (422, as the roster answers a
// household form naming such a grid).
func logGrid(fe *[]errs.FieldError, tx *store.TenantTx, g *scope.Grids, slug string) *string {
	slug = strings.TrimSpace(slug)
	if slug == "" {
		if tx.Scope.Grids != nil {
			*fe = append(*fe, errs.Field("grid", "grid_worker_grid", nil))
		}
		return nil
	}
	id, ok := g.Resolve(slug)
	if !ok {
		*fe = append(*fe, errs.Field("grid", "unknown_grid", map[string]any{"grid": slug}))
		return nil
	}
	return &id
}

// CreatePublicity logs publicity work. The date defaults to the
// community's today and may not be after it. Posted twice with the same
// Idempotency-Key, it is logged once.
func (s *Service) CreatePublicity(ctx context.Context, in PublicityInput) (*PublicityView, error) {
	return scope.Once(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*PublicityView, error) {
		loc, err := zone(ctx, tx)
		if err != nil {
			return nil, err
		}
		now := s.now()
		today := day(loc, now)
		var fe []errs.FieldError
		date, ok := parseDate(&fe, "date", strings.TrimSpace(in.Date))
		switch {
		case ok && date == "":
			date = today
		case ok && date > today:
			fe = append(fe, errs.Field("date", "date_in_future", nil))
		}
		kind := strings.TrimSpace(in.Kind)
		oneOf(&fe, "kind", kind, PublicityKinds...)
		switch {
		case in.Count == nil:
			fe = append(fe, errs.Field("count", "required", nil))
		case *in.Count < 1 || *in.Count > maxPublicityCount:
			fe = append(fe, errs.Field("count", "out_of_range", map[string]any{"min": 1, "max": maxPublicityCount}))
		}
		gridID := logGrid(&fe, tx, g, in.Grid)
		notes := strings.TrimSpace(in.Notes)
		text(&fe, "notes", notes, maxLogNotes)
		if len(fe) > 0 {
			return nil, errs.Validation(fe...)
		}
		byUser, byName := actor(ctx)
		p := &Publicity{TenantID: tx.Tenant(), ID: newID(), Date: date, Kind: kind, Count: *in.Count, GridID: gridID,
			Notes: notes, ByUser: byUser, ByName: byName, CreatedAt: now}
		if _, err := tx.Insert(p).Exec(ctx); err != nil {
			return nil, fmt.Errorf("create publicity: %w", err)
		}
		if err := audit.Record(ctx, tx, audit.ActionCreate, "publicity", p.ID, map[string]any{"kind": kind, "count": p.Count, "date": date}); err != nil {
			return nil, err
		}
		out := publicityView(p, g)
		return &out, nil
	})
}

// CreateDisinfection logs a disinfection round: at now unless said, and
// not ahead of the clock by more than a few minutes; its day is taken in
// the community's zone. By defaults to the caller.
func (s *Service) CreateDisinfection(ctx context.Context, in DisinfectionInput) (*DisinfectionView, error) {
	return scope.Once(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*DisinfectionView, error) {
		loc, err := zone(ctx, tx)
		if err != nil {
			return nil, err
		}
		now := s.now()
		var fe []errs.FieldError
		place := strings.TrimSpace(in.Place)
		if place == "" {
			fe = append(fe, errs.Field("place", "required", nil))
		}
		text(&fe, "place", place, maxPlace)
		at := now
		if v := strings.TrimSpace(in.At); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			switch {
			case err != nil:
				fe = append(fe, errs.Field("at", "invalid_datetime", nil))
			case t.After(now.Add(maxClockSkew)):
				fe = append(fe, errs.Field("at", "time_in_future", nil))
			default:
				at = t.UTC()
			}
		}
		gridID := logGrid(&fe, tx, g, in.Grid)
		notes := strings.TrimSpace(in.Notes)
		text(&fe, "notes", notes, maxLogNotes)
		byUser, byName := actor(ctx)
		if by := strings.TrimSpace(in.By); by != "" {
			text(&fe, "by", by, maxByName)
			byName = by
		}
		if len(fe) > 0 {
			return nil, errs.Validation(fe...)
		}
		d := &Disinfection{TenantID: tx.Tenant(), ID: newID(), Place: place, At: at, LocalDate: day(loc, at), GridID: gridID,
			Notes: notes, ByUser: byUser, ByName: byName, CreatedAt: now}
		if _, err := tx.Insert(d).Exec(ctx); err != nil {
			return nil, fmt.Errorf("create disinfection: %w", err)
		}
		if err := audit.Record(ctx, tx, audit.ActionCreate, "disinfection", d.ID, map[string]any{"date": d.LocalDate}); err != nil {
			return nil, err
		}
		out := disinfectionView(d, g)
		return &out, nil
	})
}

// mineOrWhole narrows q to the entries of the caller's grids and those of
// the whole community (no grid). It is g.Limit inside an OR: for staff the
// group is always true, for a grid worker it keeps its grids' rows and the
// community's.
func mineOrWhole(q *bun.SelectQuery, g *scope.Grids, col string) *bun.SelectQuery {
	return q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
		return g.Limit(q.Where("? IS NOT NULL", bun.Ident(col)), col).WhereOr("? IS NULL", bun.Ident(col))
	})
}

// logFilter narrows a log's query by f: the days from and to (inclusive,
// on dateCol), grid, and (publicity) kind. Bad values are a 422.
func logFilter(q *bun.SelectQuery, g *scope.Grids, f Filter, alias, dateCol string, kinds bool) (*bun.SelectQuery, error) {
	var fe []errs.FieldError
	from, _ := parseDate(&fe, "from", f.From)
	to, _ := parseDate(&fe, "to", f.To)
	if !kinds {
		f.Kind = "" // disinfections have none
	}
	if f.Kind != "" {
		oneOf(&fe, "kind", f.Kind, PublicityKinds...)
	}
	var gridID string
	if f.Grid != "" {
		var ok bool
		if gridID, ok = g.Resolve(f.Grid); !ok {
			fe = append(fe, errs.Field("grid", "unknown_grid", map[string]any{"grid": f.Grid}))
		}
	}
	if len(fe) > 0 {
		return nil, errs.Validation(fe...)
	}
	col := func(c string) bun.Ident { return bun.Ident(alias + "." + c) }
	q = mineOrWhole(q, g, alias+".grid_id")
	if gridID != "" {
		q = q.Where("? = ?", col("grid_id"), gridID)
	}
	if from != "" {
		q = q.Where("? >= ?", col(dateCol), from)
	}
	if to != "" {
		q = q.Where("? <= ?", col(dateCol), to)
	}
	if f.Kind != "" {
		q = q.Where("? = ?", col("kind"), f.Kind)
	}
	return q, nil
}

// ListPublicity lists publicity entries, latest recorded first, with
// filters from, to (days), kind and grid. A grid worker sees its grids'
// entries and the community's.
func (s *Service) ListPublicity(ctx context.Context, f Filter) ([]PublicityView, string, error) {
	p, err := scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (store.Page[PublicityView], error) {
		var none store.Page[PublicityView]
		limit := pageSize(f.Limit)
		rows := store.PageRows[Publicity](limit)
		q, err := logFilter(tx.Select(&rows), g, f, "p", "date", true)
		if err != nil {
			return none, err
		}
		if err := store.KeysetDesc(q, "p.id", f.Cursor, limit).Scan(ctx); err != nil {
			return none, fmt.Errorf("list publicity: %w", err)
		}
		page := store.NextPage(rows, limit, func(p *Publicity) string { return p.ID })
		out := make([]PublicityView, 0, len(page.Items))
		for i := range page.Items {
			out = append(out, publicityView(&page.Items[i], g))
		}
		return store.Page[PublicityView]{Items: out, Next: page.Next}, nil
	})
	return p.Items, p.Next, err
}

// ListDisinfections lists disinfection rounds, latest recorded first,
// with filters from, to (days in the community's zone) and grid.
func (s *Service) ListDisinfections(ctx context.Context, f Filter) ([]DisinfectionView, string, error) {
	p, err := scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (store.Page[DisinfectionView], error) {
		var none store.Page[DisinfectionView]
		limit := pageSize(f.Limit)
		rows := store.PageRows[Disinfection](limit)
		q, err := logFilter(tx.Select(&rows), g, f, "d", "local_date", false)
		if err != nil {
			return none, err
		}
		if err := store.KeysetDesc(q, "d.id", f.Cursor, limit).Scan(ctx); err != nil {
			return none, fmt.Errorf("list disinfections: %w", err)
		}
		page := store.NextPage(rows, limit, func(d *Disinfection) string { return d.ID })
		out := make([]DisinfectionView, 0, len(page.Items))
		for i := range page.Items {
			out = append(out, disinfectionView(&page.Items[i], g))
		}
		return store.Page[DisinfectionView]{Items: out, Next: page.Next}, nil
	})
	return p.Items, p.Next, err
}

// LogGroupPost records a notice posted to the community's WeCom group by
// outreach, in outreach's transaction: one WeChat post on day, under the
// campaign's name, by whoever made the campaign.
func (s *Service) LogGroupPost(ctx context.Context, tx *store.TenantTx, date, notes, byUser string) error {
	p := &Publicity{TenantID: tx.Tenant(), ID: newID(), Date: date, Kind: PublicityWeChat, Count: 1, Notes: notes,
		ByUser: byUser, ByName: "企业微信群机器人", CreatedAt: s.now()}
	if _, err := tx.Insert(p).Exec(ctx); err != nil {
		return fmt.Errorf("log group post: %w", err)
	}
	return nil
}
