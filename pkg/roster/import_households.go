package roster

import (
	"context"
	"fmt"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/store"
)

// households saves a batch of household rows, upserting on the address key.
func (b *batcher) households(ctx context.Context, tx *store.TenantTx) error {
	type good struct {
		line int
		p    place
		h    Household
	}
	var goods []good
	for _, r := range b.rows {
		v := r.values // grid, building, unit, room, address, phone, tags, notes
		var fe []errs.FieldError
		p := b.locate(tx, &fe, v[0], v[1], v[2], v[3], v[4])
		checkText(&fe, "unit", p.unit, 20, false)
		checkText(&fe, "room", p.room, 20, false)
		checkText(&fe, "address", p.address, 200, false)
		notes := clean(v[7])
		checkText(&fe, "notes", notes, 500, false)
		phone := phoneField(&fe, "phone", v[5])
		tags := tagsField(&fe, "tags", splitTags(v[6]))
		if len(fe) == 0 {
			if first, dup := b.seen[p.key]; dup {
				fe = append(fe, errs.Field("address", "repeated_in_file", map[string]any{"row": first}))
			} else {
				b.seen[p.key] = r.line
			}
		}
		if len(fe) > 0 {
			b.failFields(r.line, fe)
			continue
		}
		goods = append(goods, good{line: r.line, p: p, h: Household{GridID: p.gridID, Unit: p.unit, Room: p.room, Address: p.address,
			AddressKey: p.key, Phone: phone, PhoneRev: reverse(phoneDigits(phone)), Tags: tags, Notes: notes}})
	}
	var keys []string
	for i := range goods {
		if _, ok := b.homes[goods[i].p.key]; ok {
			keys = append(keys, goods[i].p.key)
		}
	}
	existing, err := existingHouseholds(ctx, tx, keys)
	if err != nil {
		return err
	}
	now := b.s.now()
	var inserts []*Household
	for i := range goods {
		g := &goods[i]
		if err := b.insertBuilding(ctx, tx, &g.p); err != nil {
			return err
		}
		h := &g.h
		if g.p.buildingID != "" {
			id := g.p.buildingID
			h.BuildingID = &id
		}
		if old, ok := existing[h.AddressKey]; ok {
			if old.GridID == h.GridID && old.Address == h.Address && old.Phone == h.Phone && sameTags(old.Tags, h.Tags) && old.Notes == h.Notes {
				b.imp.Unchanged++
				continue
			}
			h.ID, h.TenantID, h.CreatedAt, h.UpdatedAt = old.ID, tx.Tenant(), old.CreatedAt, now
			if _, err := tx.Update(h).Column("grid_id", "building_id", "unit", "room", "address", "phone", "phone_rev", "tags", "notes", "updated_at").WherePK().Exec(ctx); err != nil {
				return fmt.Errorf("import: update household: %w", err)
			}
			b.imp.Updated++
			b.touched = append(b.touched, h.ID)
			continue
		}
		h.ID, h.TenantID, h.CreatedAt, h.UpdatedAt = newID(), tx.Tenant(), now, now
		inserts = append(inserts, h)
		b.homes[h.AddressKey] = homeRef{id: h.ID, gridID: h.GridID}
	}
	if len(inserts) > 0 {
		if _, err := tx.Insert(&inserts).Exec(ctx); err != nil {
			return fmt.Errorf("import: insert households: %w", err)
		}
		b.imp.Created += len(inserts)
		for _, h := range inserts {
			b.touched = append(b.touched, h.ID)
		}
	}
	return nil
}
