package roster

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/store"
)

// residentRow is a resident row that passed validation.
type residentRow struct {
	line int
	p    place
	r    Resident
}

// residents saves a batch of resident rows. A row's household is found by
// its location, and created when new and a resident lands in it; the
// resident is matched on its ID number, else on household and name.
func (b *batcher) residents(ctx context.Context, tx *store.TenantTx) error {
	goods := b.checkResidents(tx)
	if len(goods) == 0 {
		return nil
	}
	now := b.s.now()
	planned := b.placeResidents(tx, goods, now)
	m, err := b.matchResidents(ctx, tx, goods)
	if err != nil {
		return err
	}
	var inserts, updates []*Resident
	for i := range goods {
		g := &goods[i]
		r := &g.r
		old := m.find(r)
		if old == nil && r.Phone != "" && m.byNamePhone[r.Name+"|"+r.Phone] != nil {
			b.fail(g.line, "name", "resident_same_name_phone", nil)
			continue
		}
		if old == nil {
			r.ID, r.TenantID, r.CreatedAt, r.UpdatedAt = newID(), tx.Tenant(), now, now
			inserts = append(inserts, r)
			if r.Phone != "" {
				m.byNamePhone[r.Name+"|"+r.Phone] = r
			}
			continue
		}
		if r.IDNumber == nil {
			r.IDNumber = old.IDNumber // a sheet without the column keeps what is known
		}
		if r.Phone == "" {
			r.Phone, r.PhoneRev = old.Phone, old.PhoneRev
		}
		if old.HouseholdID == r.HouseholdID && old.Name == r.Name && old.Phone == r.Phone && eqPtr(old.IDNumber, r.IDNumber) &&
			eqPtr(old.BirthYear, r.BirthYear) && old.Sex == r.Sex && sameTags(old.Tags, r.Tags) {
			b.imp.Unchanged++
			continue
		}
		r.ID, r.TenantID, r.CreatedAt, r.UpdatedAt = old.ID, tx.Tenant(), old.CreatedAt, now
		updates = append(updates, r)
	}

	// Only now are new households (and buildings) saved: a household whose
	// every row was refused is not left empty on the roster.
	var homes []*Household
	for _, r := range append(updates, inserts...) {
		ph := planned[r.HouseholdID]
		if ph == nil || ph.saved {
			continue
		}
		if err := b.insertBuilding(ctx, tx, &ph.p); err != nil {
			return err
		}
		ph.saved = true
		homes = append(homes, ph.h)
		b.homes[ph.h.AddressKey] = homeRef{id: ph.h.ID, gridID: ph.h.GridID}
	}
	if err := insertHouseholds(ctx, tx, homes); err != nil {
		return err
	}
	for _, r := range updates {
		if _, err := tx.Update(r).Column("household_id", "grid_id", "name", "phone", "phone_rev", "id_number", "birth_year", "sex", "tags", "updated_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("import: update resident: %w", err)
		}
		b.remember(r)
	}
	if err := insertResidents(ctx, tx, inserts); err != nil {
		return err
	}
	for _, r := range inserts {
		b.remember(r)
	}
	b.imp.Updated += len(updates)
	b.imp.Created += len(inserts)
	return nil
}

// checkResidents validates the batch's rows and explains the bad ones.
func (b *batcher) checkResidents(tx *store.TenantTx) []residentRow {
	var goods []residentRow
	for _, row := range b.rows {
		v := row.values // name, phone, id_number, birth_year, sex, tags, grid, building, unit, room, address
		var fe []errs.FieldError
		in := ResidentInput{Name: v[0], Phone: v[1], IDNumber: v[2], Sex: v[4], Tags: splitTags(v[5])}
		if y := strings.TrimSpace(v[3]); y != "" {
			n, err := strconv.Atoi(strings.TrimSuffix(y, "年"))
			if err != nil {
				fe = append(fe, errs.Field("birth_year", "invalid_format", nil))
			} else {
				in.BirthYear = &n
			}
		}
		p := b.locate(tx, &fe, v[6], v[7], v[8], v[9], v[10])
		r, rfe := b.s.checkPerson(in)
		fe = append(fe, rfe...)
		if len(fe) == 0 {
			key := "n|" + p.key + "|" + r.Name
			if r.IDNumber != nil {
				key = "i|" + *r.IDNumber
			}
			if first, dup := b.seen[key]; dup {
				fe = append(fe, errs.Field("name", "repeated_in_file", map[string]any{"row": first}))
			} else {
				b.seen[key] = row.line
			}
		}
		if len(fe) > 0 {
			b.failFields(row.line, fe)
			continue
		}
		goods = append(goods, residentRow{line: row.line, p: p, r: r})
	}
	return goods
}

// plannedHome is a household a row needs that is not on the roster yet.
type plannedHome struct {
	h     *Household
	p     place
	saved bool
}

// placeResidents puts every row's resident in its household: a saved one,
// or one planned for this batch (by household id).
func (b *batcher) placeResidents(tx *store.TenantTx, goods []residentRow, now time.Time) map[string]*plannedHome {
	planned := map[string]*plannedHome{}
	byKey := map[string]*plannedHome{}
	for i := range goods {
		g := &goods[i]
		if home, ok := b.homes[g.p.key]; ok {
			g.r.HouseholdID, g.r.GridID = home.id, home.gridID
			continue
		}
		ph := byKey[g.p.key]
		if ph == nil {
			h := &Household{ID: newID(), TenantID: tx.Tenant(), GridID: g.p.gridID, Unit: g.p.unit, Room: g.p.room, Address: g.p.address,
				AddressKey: g.p.key, Tags: []string{}, CreatedAt: now, UpdatedAt: now}
			if g.p.buildingID != "" {
				id := g.p.buildingID
				h.BuildingID = &id
			}
			ph = &plannedHome{h: h, p: g.p}
			byKey[g.p.key], planned[h.ID] = ph, ph
		}
		g.r.HouseholdID, g.r.GridID = ph.h.ID, ph.h.GridID
	}
	return planned
}

// residentMatch holds the saved residents a batch's rows may match.
type residentMatch struct {
	byID, byHomeName, byNamePhone map[string]*Resident
}

// find is the saved resident a row updates: the one with its ID number,
// else the one of its name in its household (unless both have different
// ID numbers, which makes them two people).
func (m *residentMatch) find(r *Resident) *Resident {
	if r.IDNumber != nil {
		if old := m.byID[*r.IDNumber]; old != nil {
			return old
		}
	}
	if o := m.byHomeName[r.HouseholdID+"|"+r.Name]; o != nil && (o.IDNumber == nil || r.IDNumber == nil) {
		return o
	}
	return nil
}

// matchResidents fetches the saved residents that may match the rows: by
// ID number, by household and name, or by name and phone (the duplicate
// check). Only keys in the picture are looked up.
func (b *batcher) matchResidents(ctx context.Context, tx *store.TenantTx, goods []residentRow) (*residentMatch, error) {
	var ids, homeIDs, phones []string
	for i := range goods {
		r := &goods[i].r
		if r.IDNumber != nil && b.mayExist(keyID, *r.IDNumber, "") {
			ids = append(ids, *r.IDNumber)
		}
		if b.mayExist(keyHomeName, r.HouseholdID, r.Name) {
			homeIDs = append(homeIDs, r.HouseholdID)
		}
		if r.Phone != "" && b.mayExist(keyNamePhone, r.Name, r.Phone) {
			phones = append(phones, r.PhoneRev) // phone_rev is indexed
		}
	}
	m := &residentMatch{byID: map[string]*Resident{}, byHomeName: map[string]*Resident{}, byNamePhone: map[string]*Resident{}}
	// Three index-friendly queries rather than one OR, which the planner
	// may turn into a scan of the whole community.
	for _, c := range []struct {
		col  string
		vals []string
	}{{"r.household_id", homeIDs}, {"r.id_number", ids}, {"r.phone_rev", phones}} {
		if len(c.vals) == 0 {
			continue
		}
		var part []*Resident
		if err := tx.Select(&part).Where("r.deleted_at IS NULL").Where("? IN (?)", bun.Ident(c.col), bun.List(c.vals)).Scan(ctx); err != nil {
			return nil, fmt.Errorf("import: match residents: %w", err)
		}
		for _, r := range part {
			if r.IDNumber != nil {
				m.byID[*r.IDNumber] = r
			}
			m.byHomeName[r.HouseholdID+"|"+r.Name] = r
			if r.Phone != "" {
				m.byNamePhone[r.Name+"|"+r.Phone] = r
			}
		}
	}
	return m, nil
}
