package roster

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// Figures are a roster's counts: live households and residents, residents
// both elderly and living alone, and the latest change. They are counts,
// never personal data, so reading them is not audited.
type Figures struct {
	Households   int
	Residents    int
	ElderlyAlone int
	LastChange   time.Time
}

// Add adds o's counts (and keeps the later change).
func (f *Figures) Add(o Figures) {
	f.Households += o.Households
	f.Residents += o.Residents
	f.ElderlyAlone += o.ElderlyAlone
	if o.LastChange.After(f.LastChange) {
		f.LastChange = o.LastChange
	}
}

// GridFigures are one grid's figures.
type GridFigures struct {
	Slug, Name string
	Figures
}

// GridFigures counts the community's roster per grid, for the caller's
// grids only (a grid worker sees its own).
func (s *Service) GridFigures(ctx context.Context) ([]GridFigures, error) {
	return scope.Read(ctx, s.frame(), func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) ([]GridFigures, error) {
		var grids []struct {
			ID   string `bun:"id"`
			Slug string `bun:"slug"`
			Name string `bun:"name"`
		}
		if err := tx.SelectTable("grids").Column("id", "slug", "name").Order("slug").Scan(ctx, &grids); err != nil {
			return nil, fmt.Errorf("grids: %w", err)
		}
		byGrid, err := s.count(ctx, func(table string) *bun.SelectQuery {
			return g.Limit(tx.SelectTable(table), "grid_id")
		}, "grid_id")
		if err != nil {
			return nil, err
		}
		out := make([]GridFigures, 0, len(grids))
		for _, gr := range grids {
			if g.May(gr.ID) {
				out = append(out, GridFigures{Slug: gr.Slug, Name: gr.Name, Figures: byGrid[gr.ID]})
			}
		}
		return out, nil
	})
}

// CommunityFigures counts the rosters of the communities named, in one
// pass across them: a sub-district's table of its communities. The caller
// has decided that its user may read each of them.
func (s *Service) CommunityFigures(ctx context.Context, tenants []string) (map[string]Figures, error) {
	if len(tenants) == 0 {
		return map[string]Figures{}, nil
	}
	var out map[string]Figures
	err := s.DB.AcrossTenants(ctx, "roster: figures of a sub-district's communities", tenants, func(ctx context.Context, tx bun.Tx) error {
		var err error
		out, err = s.count(ctx, func(table string) *bun.SelectQuery {
			return tx.NewSelect().TableExpr(table).Where("tenant_id IN (?)", bun.List(tenants))
		}, "tenant_id")
		return err
	})
	return out, err
}

// count counts live households, residents and elderly residents living
// alone, grouped by column key, over the rows from(table) selects: one
// grouped query per figure, not a loop over records.
func (s *Service) count(ctx context.Context, from func(table string) *bun.SelectQuery, key string) (map[string]Figures, error) {
	type row struct {
		Key  string    `bun:"k"`
		N    int       `bun:"n"`
		Last time.Time `bun:"last"`
	}
	grouped := func(table, alias string, narrow func(*bun.SelectQuery) *bun.SelectQuery) ([]row, error) {
		var rows []row
		q := from(table+" AS "+alias).ColumnExpr("?.? AS k, count(*) AS n, max(?.updated_at) AS last", bun.Ident(alias), bun.Ident(key), bun.Ident(alias)).
			Where("?.deleted_at IS NULL", bun.Ident(alias))
		if narrow != nil {
			q = narrow(q)
		}
		err := q.GroupExpr("?.?", bun.Ident(alias), bun.Ident(key)).Scan(ctx, &rows)
		return rows, err
	}
	hs, err := grouped("households", "h", nil)
	if err != nil {
		return nil, fmt.Errorf("count households: %w", err)
	}
	rs, err := grouped("residents", "r", nil)
	if err != nil {
		return nil, fmt.Errorf("count residents: %w", err)
	}
	alone, err := grouped("residents", "r", func(q *bun.SelectQuery) *bun.SelectQuery {
		return s.DB.HasTag(s.DB.HasTag(q, "r", "elderly"), "r", "lives_alone")
	})
	if err != nil {
		return nil, fmt.Errorf("count elderly residents living alone: %w", err)
	}
	out := map[string]Figures{}
	for _, set := range []struct {
		rows []row
		into func(*Figures, row)
	}{
		{hs, func(f *Figures, r row) { f.Add(Figures{Households: r.N, LastChange: r.Last}) }},
		{rs, func(f *Figures, r row) { f.Add(Figures{Residents: r.N, LastChange: r.Last}) }},
		{alone, func(f *Figures, r row) { f.ElderlyAlone += r.N }},
	} {
		for _, r := range set.rows {
			f := out[r.Key]
			set.into(&f, r)
			out[r.Key] = f
		}
	}
	return out, nil
}
