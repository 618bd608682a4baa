package roster

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/pii"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// HouseholdInput creates or (with pointers left nil) patches a household.
type HouseholdInput struct {
	Grid       string   `json:"grid"`
	BuildingID string   `json:"building_id"`
	Unit       string   `json:"unit"`
	Room       string   `json:"room"`
	Address    string   `json:"address"`
	Phone      string   `json:"phone"`
	Tags       []string `json:"tags"`
	Notes      string   `json:"notes"`
}

// HouseholdPatch changes some fields of a household.
type HouseholdPatch struct {
	Grid       *string   `json:"grid"`
	BuildingID *string   `json:"building_id"`
	Unit       *string   `json:"unit"`
	Room       *string   `json:"room"`
	Address    *string   `json:"address"`
	Phone      *string   `json:"phone"`
	Tags       *[]string `json:"tags"`
	Notes      *string   `json:"notes"`
}

// HouseholdView is a household as the API shows it.
type HouseholdView struct {
	ID         string    `json:"id"`
	Grid       string    `json:"grid"`
	BuildingID string    `json:"building_id,omitempty"`
	Unit       string    `json:"unit"`
	Room       string    `json:"room"`
	Address    string    `json:"address"`
	Phone      string    `json:"phone"`
	Tags       []string  `json:"tags"`
	Notes      string    `json:"notes"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// householdViewColumns are what householdView reads: a list selects them
// only, since scanning each column of each row is most of its cost.
var householdViewColumns = []string{"h.id", "h.grid_id", "h.building_id", "h.unit", "h.room", "h.address", "h.phone",
	"h.tags", "h.notes", "h.created_at", "h.updated_at"}

func householdView(h *Household, g *scope.Grids, v scope.View) HouseholdView {
	out := HouseholdView{ID: h.ID, Grid: g.Slug(h.GridID), Unit: h.Unit, Room: h.Room, Address: h.Address,
		Phone: h.Phone, Tags: h.Tags, Notes: h.Notes, CreatedAt: h.CreatedAt, UpdatedAt: h.UpdatedAt}
	if h.BuildingID != nil {
		out.BuildingID = *h.BuildingID
	}
	if out.Tags == nil {
		out.Tags = []string{}
	}
	if !v.FullPhone && out.Phone != "" {
		out.Phone = pii.MaskPhone(out.Phone)
	}
	return out
}

// prepareHousehold validates in against the tenant's grids and buildings
// and fills h (a new household, or the one being patched).
func (s *Service) prepareHousehold(ctx context.Context, tx *store.TenantTx, g *scope.Grids, in HouseholdInput, h *Household) error {
	in.Grid, in.BuildingID = clean(in.Grid), clean(in.BuildingID)
	in.Unit, in.Room, in.Address, in.Notes = clean(in.Unit), clean(in.Room), clean(in.Address), clean(in.Notes)
	var fe []errs.FieldError
	var b *Building
	if in.BuildingID != "" {
		b = new(Building)
		err := tx.Select(b).Where("b.id = ? AND b.deleted_at IS NULL", in.BuildingID).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !g.May(b.GridID)) {
			fe = append(fe, errs.Field("building_id", "unknown_building", nil))
			b = nil
		} else if err != nil {
			return err
		}
	}
	gridID, ok := g.Resolve(in.Grid)
	switch {
	case in.Grid == "" && b != nil:
		gridID = b.GridID
	case in.Grid == "":
		fe = append(fe, errs.Field("grid", "required", nil))
	case !ok:
		fe = append(fe, errs.Field("grid", "unknown_grid", map[string]any{"grid": in.Grid}))
	case b != nil && b.GridID != gridID:
		fe = append(fe, errs.Field("building_id", "building_in_other_grid", nil))
	}
	if b == nil && in.BuildingID == "" && in.Address == "" {
		fe = append(fe, errs.Field("address", "address_or_building", nil))
	}
	checkText(&fe, "unit", in.Unit, 20, false)
	checkText(&fe, "room", in.Room, 20, false)
	checkText(&fe, "address", in.Address, 200, false)
	checkText(&fe, "notes", in.Notes, 500, false)
	phone := phoneField(&fe, "phone", in.Phone)
	tags := tagsField(&fe, "tags", in.Tags)
	if len(fe) > 0 {
		return errs.Validation(fe...)
	}
	h.GridID, h.Unit, h.Room, h.Phone, h.PhoneRev, h.Tags, h.Notes = gridID, in.Unit, in.Room, phone, reverse(phoneDigits(phone)), tags, in.Notes
	h.BuildingID, h.Address = nil, in.Address
	if b != nil {
		h.BuildingID = &b.ID
		if h.Address == "" {
			h.Address = joinAddress(b, in.Unit, in.Room)
		}
		h.AddressKey = addressKey(b.ID, in.Unit, in.Room, "")
	} else {
		h.AddressKey = addressKey("", "", "", in.Address)
	}
	return nil
}

func joinAddress(b *Building, unit, room string) string {
	base := b.Address
	if base == "" {
		base = b.Name
	} else {
		base += " " + b.Name
	}
	if unit != "" {
		base += " " + unit
	}
	if room != "" {
		base += " " + room
	}
	return base
}

// duplicateHousehold answers 409 when a household is already at the key,
// naming it only to a caller who may see it (see conflict).
func duplicateHousehold(ctx context.Context, tx *store.TenantTx, g *scope.Grids, key, except string) error {
	var found Household
	err := tx.Select(&found).Column("h.id", "h.grid_id").Where("h.address_key = ? AND h.deleted_at IS NULL AND h.id <> ?", key, except).Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return conflict("household_exists", nil, g, found.GridID, found.ID)
}

// CreateHousehold adds a household.
func (s *Service) CreateHousehold(ctx context.Context, in HouseholdInput) (*HouseholdView, error) {
	return scope.Once(ctx, s.frame(), func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*HouseholdView, error) {
		now := s.now()
		h := &Household{ID: newID(), TenantID: tx.Tenant(), CreatedAt: now, UpdatedAt: now}
		if err := s.prepareHousehold(ctx, tx, g, in, h); err != nil {
			return nil, err
		}
		if err := duplicateHousehold(ctx, tx, g, h.AddressKey, ""); err != nil {
			return nil, err
		}
		if _, err := tx.Insert(h).Exec(ctx); err != nil {
			return nil, fmt.Errorf("create household: %w", err)
		}
		if err := s.householdsChanged(ctx, tx, h.ID); err != nil {
			return nil, err
		}
		out := householdView(h, g, scope.ViewOf(ctx))
		if err := audit.Record(ctx, tx, audit.ActionCreate, "household", h.ID, nil); err != nil {
			return nil, err
		}
		return &out, nil
	})
}

// household loads one household the caller may see, or 404.
func (s *Service) household(ctx context.Context, tx *store.TenantTx, g *scope.Grids, id string) (*Household, error) {
	h := new(Household)
	err := tx.Select(h).Where("h.id = ? AND h.deleted_at IS NULL", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !g.May(h.GridID)) {
		return nil, notFound()
	}
	if err != nil {
		return nil, fmt.Errorf("load household: %w", err)
	}
	return h, nil
}

// GetHousehold returns one household. Seeing its phone in full is a read
// of personal data, so it is audited.
func (s *Service) GetHousehold(ctx context.Context, id string) (*HouseholdView, error) {
	return scope.Read(ctx, s.frame(), func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*HouseholdView, error) {
		h, err := s.household(ctx, tx, g, id)
		if err != nil {
			return nil, err
		}
		v := scope.ViewOf(ctx)
		out := householdView(h, g, v)
		if err := s.auditRead(ctx, "household", h.ID); err != nil {
			return nil, err
		}
		return &out, nil
	})
}

// UpdateHousehold applies a patch.
func (s *Service) UpdateHousehold(ctx context.Context, id string, p HouseholdPatch) (*HouseholdView, error) {
	return scope.Run(ctx, s.frame(), func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*HouseholdView, error) {
		h, err := s.household(ctx, tx, g, id)
		if err != nil {
			return nil, err
		}
		in := HouseholdInput{Grid: g.Slug(h.GridID), Unit: h.Unit, Room: h.Room, Address: h.Address, Phone: h.Phone, Tags: h.Tags, Notes: h.Notes}
		if h.BuildingID != nil {
			in.BuildingID = *h.BuildingID
		}
		var changed []string
		set := func(name string, dst *string, v *string) {
			if v != nil {
				*dst, changed = *v, append(changed, name)
			}
		}
		set("grid", &in.Grid, p.Grid)
		set("building_id", &in.BuildingID, p.BuildingID)
		set("unit", &in.Unit, p.Unit)
		set("room", &in.Room, p.Room)
		set("address", &in.Address, p.Address)
		set("phone", &in.Phone, p.Phone)
		set("notes", &in.Notes, p.Notes)
		if p.Tags != nil {
			in.Tags, changed = *p.Tags, append(changed, "tags")
		}
		if h.BuildingID != nil && (p.Unit != nil || p.Room != nil || p.BuildingID != nil) && p.Address == nil {
			in.Address = "" // recompute from the building
		}
		if err := s.prepareHousehold(ctx, tx, g, in, h); err != nil {
			return nil, err
		}
		if err := duplicateHousehold(ctx, tx, g, h.AddressKey, h.ID); err != nil {
			return nil, err
		}
		h.UpdatedAt = s.now()
		if _, err := tx.Update(h).WherePK().Exec(ctx); err != nil {
			return nil, fmt.Errorf("update household: %w", err)
		}
		// Residents follow their household's grid.
		if _, err := tx.Update((*Resident)(nil)).Set("grid_id = ?", h.GridID).Where("household_id = ?", h.ID).Exec(ctx); err != nil {
			return nil, err
		}
		if err := s.householdsChanged(ctx, tx, h.ID); err != nil {
			return nil, err
		}
		out := householdView(h, g, scope.ViewOf(ctx))
		if err := audit.Record(ctx, tx, audit.ActionUpdate, "household", h.ID, map[string]any{"fields": changed}); err != nil {
			return nil, err
		}
		return &out, nil
	})
}

// DeleteHousehold removes a household and its residents from the roster.
// Rows are kept (soft delete) so that history and audit stay meaningful.
func (s *Service) DeleteHousehold(ctx context.Context, id string) error {
	return scope.Do(ctx, s.frame(), func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) error {
		h, err := s.household(ctx, tx, g, id)
		if err != nil {
			return err
		}
		now := s.now()
		if _, err := tx.Update((*Household)(nil)).Set("deleted_at = ?", now).Where("id = ?", h.ID).Exec(ctx); err != nil {
			return err
		}
		res, err := tx.Update((*Resident)(nil)).Set("deleted_at = ?", now).Where("household_id = ? AND deleted_at IS NULL", h.ID).Exec(ctx)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		return audit.Record(ctx, tx, audit.ActionDelete, "household", h.ID, map[string]any{"residents": n})
	})
}

// ListHouseholds lists households, newest id last, with filters: grid,
// tag, q (digits: phone ending; otherwise part of the address).
func (s *Service) ListHouseholds(ctx context.Context, f Filter) ([]HouseholdView, string, error) {
	p, err := scope.Read(ctx, s.frame(), func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (store.Page[HouseholdView], error) {
		var none store.Page[HouseholdView]
		rows := store.PageRows[Household](f.Limit)
		v := scope.ViewOf(ctx)
		q, err := s.householdFilter(tx.Select(&rows).Column(householdViewColumns...), g, v, f)
		if err != nil {
			return none, err
		}
		if err := store.Keyset(q, "h.id", f.Cursor, f.Limit).Scan(ctx); err != nil {
			return none, fmt.Errorf("list households: %w", err)
		}
		page := store.NextPage(rows, f.Limit, func(h *Household) string { return h.ID })
		out := make([]HouseholdView, 0, len(page.Items))
		ids := make([]string, 0, len(page.Items))
		for i := range page.Items {
			out = append(out, householdView(&page.Items[i], g, v))
			ids = append(ids, page.Items[i].ID)
		}
		return store.Page[HouseholdView]{Items: out, Next: page.Next}, s.auditList(ctx, "households", ids, f)
	})
	return p.Items, p.Next, err
}

// householdFilter limits q to the caller's grids and f's filters (not its
// cursor): the list and its count see the same households.
func (s *Service) householdFilter(q *bun.SelectQuery, g *scope.Grids, v scope.View, f Filter) (*bun.SelectQuery, error) {
	q = g.Limit(q.Where("h.deleted_at IS NULL"), "h.grid_id")
	if f.Grid != "" {
		id, ok := g.Resolve(f.Grid)
		if !ok {
			return nil, errs.Validation(errs.Field("grid", "unknown_grid", map[string]any{"grid": f.Grid}))
		}
		q = q.Where("h.grid_id = ?", id)
	}
	if f.BuildingID != "" {
		q = q.Where("h.building_id = ?", f.BuildingID)
	}
	if f.Tag != "" {
		q = s.DB.HasTag(q, "h", f.Tag)
	}
	if qq := clean(f.Q); qq != "" {
		if isDigits(qq) && !v.FullPhone {
			// Phone digits would unmask a masked phone one guess at a time.
			return nil, errs.Validation(errs.Field("q", "search_by_address_only", nil))
		}
		if isDigits(qq) && len(qq) >= 3 {
			q = s.DB.HasPrefix(q, "h.phone_rev", reverse(qq))
		} else {
			q = store.Contains(q, "h.address", qq)
		}
	}
	return q, nil
}

// CountHouseholds counts the households f's filters find (its cursor and
// limit aside): a list's "共 N 户".
func (s *Service) CountHouseholds(ctx context.Context, f Filter) (int, error) {
	return scope.Read(ctx, s.frame(), func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (int, error) {
		q, err := s.householdFilter(tx.Select((*Household)(nil)), g, scope.ViewOf(ctx), f)
		if err != nil {
			return 0, err
		}
		n, err := q.Count(ctx)
		if err != nil {
			return 0, fmt.Errorf("count households: %w", err)
		}
		return int(n), nil
	})
}
