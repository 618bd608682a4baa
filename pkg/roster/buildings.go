package roster

import (
	"context"
	"fmt"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// BuildingInput creates a building.
type BuildingInput struct {
	Grid    string `json:"grid"`
	Name    string `json:"name"`
	Address string `json:"address"`
}

// BuildingView is a building as the API shows it.
type BuildingView struct {
	ID      string `json:"id"`
	Grid    string `json:"grid"`
	Name    string `json:"name"`
	Address string `json:"address"`
}

func buildingView(b *Building, g *scope.Grids) BuildingView {
	return BuildingView{ID: b.ID, Grid: g.Slug(b.GridID), Name: b.Name, Address: b.Address}
}

// CreateBuilding adds a building to a grid of the community.
func (s *Service) CreateBuilding(ctx context.Context, in BuildingInput) (*BuildingView, error) {
	return scope.Once(ctx, s.frame(), func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*BuildingView, error) {
		b, err := s.createBuilding(ctx, tx, g, in)
		if err != nil {
			return nil, err
		}
		out := buildingView(b, g)
		return &out, nil
	})
}

func (s *Service) createBuilding(ctx context.Context, tx *store.TenantTx, g *scope.Grids, in BuildingInput) (*Building, error) {
	in.Grid, in.Name, in.Address = clean(in.Grid), clean(in.Name), clean(in.Address)
	var fe []errs.FieldError
	gridID, ok := g.Resolve(in.Grid)
	if in.Grid == "" {
		fe = append(fe, errs.Field("grid", "required", nil))
	} else if !ok {
		fe = append(fe, errs.Field("grid", "unknown_grid", map[string]any{"grid": in.Grid}))
	}
	checkText(&fe, "name", in.Name, 50, true)
	checkText(&fe, "address", in.Address, 200, false)
	if len(fe) > 0 {
		return nil, errs.Validation(fe...)
	}
	var existing Building
	if err := tx.Select(&existing).Where("name = ? AND deleted_at IS NULL", in.Name).Limit(1).Scan(ctx); err == nil {
		return nil, conflict("building_exists", map[string]any{"name": in.Name}, g, existing.GridID, existing.ID)
	}
	now := s.now()
	b := &Building{ID: newID(), TenantID: tx.Tenant(), GridID: gridID, Name: in.Name, Address: in.Address, CreatedAt: now, UpdatedAt: now}
	if _, err := tx.Insert(b).Exec(ctx); err != nil {
		return nil, fmt.Errorf("create building: %w", err)
	}
	return b, audit.Record(ctx, tx, audit.ActionCreate, "building", b.ID, nil)
}

// ListBuildings lists the community's buildings (a grid worker's grids only).
func (s *Service) ListBuildings(ctx context.Context, f Filter) ([]BuildingView, string, error) {
	p, err := scope.Read(ctx, s.frame(), func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (store.Page[BuildingView], error) {
		rows := store.PageRows[Building](f.Limit)
		q := g.Limit(tx.Select(&rows).Where("b.deleted_at IS NULL"), "b.grid_id")
		if f.Grid != "" {
			id, ok := g.Resolve(f.Grid)
			if !ok {
				return store.Page[BuildingView]{}, errs.Validation(errs.Field("grid", "unknown_grid", map[string]any{"grid": f.Grid}))
			}
			q = q.Where("b.grid_id = ?", id)
		}
		if f.Q != "" {
			q = s.DB.HasPrefix(q, "b.name", f.Q)
		}
		if err := store.Keyset(q, "b.id", f.Cursor, f.Limit).Scan(ctx); err != nil {
			return store.Page[BuildingView]{}, fmt.Errorf("list buildings: %w", err)
		}
		page := store.NextPage(rows, f.Limit, func(b *Building) string { return b.ID })
		out := make([]BuildingView, 0, len(page.Items))
		for i := range page.Items {
			out = append(out, buildingView(&page.Items[i], g))
		}
		return store.Page[BuildingView]{Items: out, Next: page.Next}, nil
	})
	return p.Items, p.Next, err
}
