package orgs

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/store"
)

// GridInput creates a grid.
type GridInput struct {
	Slug string `json:"slug" yaml:"slug"`
	Name string `json:"name" yaml:"name"`
}

// ListGrids lists the grids of the community in ctx.
func (s *Service) ListGrids(ctx context.Context) ([]Grid, error) {
	var out []Grid
	err := s.DB.InTenantTx(ctx, func(ctx context.Context, tx *store.TenantTx) error {
		return tx.Select(&out).Order("slug").Scan(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("list grids: %w", err)
	}
	if out == nil {
		out = []Grid{}
	}
	return out, nil
}

// CreateGrid adds a grid to the community in ctx.
func (s *Service) CreateGrid(ctx context.Context, in GridInput) (*Grid, error) {
	var g *Grid
	err := s.DB.InTenantTx(ctx, func(ctx context.Context, tx *store.TenantTx) error {
		var err error
		g, err = createGrid(ctx, tx, in)
		return err
	})
	if err == nil {
		s.gridsChanged(g.TenantID)
	}
	return g, err
}

// gridsChanged tells the frame that caches grid lists (other replicas see
// the change when their cache expires, within seconds).
func (s *Service) gridsChanged(tenantID string) {
	if s.Frame != nil {
		s.Frame.ForgetGrids(tenantID)
	}
}

func createGrid(ctx context.Context, tx *store.TenantTx, in GridInput) (*Grid, error) {
	in.Slug, in.Name = strings.TrimSpace(in.Slug), strings.TrimSpace(in.Name)
	var fe []errs.FieldError
	if !slugRE.MatchString(in.Slug) {
		fe = append(fe, errs.Field("slug", "invalid_slug", nil))
	}
	if in.Name == "" {
		fe = append(fe, errs.Field("name", "required", nil))
	} else if utf8.RuneCountInString(in.Name) > 100 {
		fe = append(fe, errs.Field("name", "too_long", map[string]any{"max": 100}))
	}
	if len(fe) > 0 {
		return nil, errs.Validation(fe...)
	}
	exists, err := tx.Select((*Grid)(nil)).Where("slug = ?", in.Slug).Exists(ctx)
	if err != nil {
		return nil, err
	}
	if exists {
		return nil, errs.New(errs.KindConflict, "slug_taken", map[string]any{"slug": in.Slug})
	}
	now := time.Now().UTC()
	g := &Grid{ID: newID(), TenantID: tx.Tenant(), Slug: in.Slug, Name: in.Name, CreatedAt: now, UpdatedAt: now}
	if _, err := tx.Insert(g).Exec(ctx); err != nil {
		return nil, fmt.Errorf("create grid: %w", err)
	}
	if err := audit.Record(ctx, tx, audit.ActionCreate, "grid", g.ID, map[string]any{"slug": g.Slug}); err != nil {
		return nil, err
	}
	return g, nil
}
