package roster

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/store"
)

// batcher validates rows and saves them a batch at a time.
//
// At the start it takes a compact picture of what the community already
// holds: every household's address key, and a hash of every resident's
// natural keys. A row is looked up in the database only when its keys are
// in that picture, so the first import into an empty community costs no
// lookups at all, and a re-import fetches only the rows it matches.
// Records written by others while an import runs are not in the picture;
// a clash with them fails the batch on a unique index, and the task's
// retry starts again from a fresh picture, creating nothing twice.
type batcher struct {
	s   *Service
	imp *Import

	loaded    bool
	grids     map[string]string    // slug or name → grid id
	buildings map[string]*Building // name → building
	pending   map[string]bool      // ids of buildings planned but not yet saved
	homes     map[string]homeRef   // address key → household, saved or created by this import
	seed      maphash.Seed
	saved     map[uint64]struct{} // hashes of residents' keys (see residentKey)
	rows      []pendingRow
	rejected  map[int]*rejectedRow // this batch's rows that were not saved, by line
	seen      map[string]int       // natural key → first row, to catch repeats in one file
}

type homeRef struct{ id, gridID string }

type pendingRow struct {
	line   int
	values []string
}

func newBatcher(s *Service, imp *Import) *batcher {
	return &batcher{s: s, imp: imp, seen: map[string]int{}, pending: map[string]bool{}, rejected: map[int]*rejectedRow{},
		homes: map[string]homeRef{}, saved: map[uint64]struct{}{}, seed: maphash.MakeSeed()}
}

func (b *batcher) add(line int, values []string) {
	// Values may be reused by the reader: keep a copy.
	b.rows = append(b.rows, pendingRow{line: line, values: append([]string(nil), values...)})
}

func (b *batcher) flush(ctx context.Context) error {
	if len(b.rows) == 0 && len(b.rejected) == 0 {
		return nil
	}
	err := b.s.DB.InTenantConnTx(ctx, func(ctx context.Context, tx *store.TenantTx) error {
		if !b.loaded {
			if err := b.load(ctx, tx); err != nil {
				return err
			}
		}
		var err error
		if b.imp.Kind == KindHouseholds {
			err = b.households(ctx, tx)
		} else {
			err = b.residents(ctx, tx)
		}
		if err != nil {
			return err
		}
		if err := b.saveRejected(ctx, tx); err != nil {
			return err
		}
		// Progress commits with the rows it counts, so a reader never sees
		// counts ahead of (or behind) what was saved.
		_, err = tx.Update(b.imp).Column("rows", "created", "updated", "unchanged", "error_count").WherePK().Exec(ctx)
		return err
	})
	b.rows = b.rows[:0]
	return err
}

func (b *batcher) load(ctx context.Context, tx *store.TenantTx) error {
	var gs []struct {
		ID   string `bun:"id"`
		Slug string `bun:"slug"`
		Name string `bun:"name"`
	}
	if err := tx.NewSelect().TableExpr("grids").Column("id", "slug", "name").Where("tenant_id = ?", tx.Tenant()).Scan(ctx, &gs); err != nil {
		return err
	}
	b.grids = map[string]string{}
	for _, g := range gs {
		b.grids[strings.ToLower(g.Slug)], b.grids[clean(g.Name)] = g.ID, g.ID
	}
	var bs []*Building
	if err := tx.Select(&bs).Where("b.deleted_at IS NULL").Scan(ctx); err != nil {
		return err
	}
	b.buildings = map[string]*Building{}
	for _, x := range bs {
		b.buildings[x.Name] = x
	}
	if err := b.loadHomes(ctx, tx); err != nil {
		return err
	}
	if b.imp.Kind == KindResidents {
		if err := b.loadResidents(ctx, tx); err != nil {
			return err
		}
	}
	b.loaded = true
	return nil
}

func (b *batcher) loadHomes(ctx context.Context, tx *store.TenantTx) error {
	rows, err := tx.NewSelect().TableExpr("households").Column("id", "grid_id", "address_key").
		Where("tenant_id = ? AND deleted_at IS NULL", tx.Tenant()).Rows(ctx)
	if err != nil {
		return fmt.Errorf("import: load households: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, grid, key string
		if err := rows.Scan(&id, &grid, &key); err != nil {
			return fmt.Errorf("import: load households: %w", err)
		}
		b.homes[key] = homeRef{id: id, gridID: grid}
	}
	return rows.Err()
}

func (b *batcher) loadResidents(ctx context.Context, tx *store.TenantTx) error {
	rows, err := tx.NewSelect().TableExpr("residents").Column("household_id", "name", "phone", "id_number").
		Where("tenant_id = ? AND deleted_at IS NULL", tx.Tenant()).Rows(ctx)
	if err != nil {
		return fmt.Errorf("import: load residents: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r Resident
		if err := rows.Scan(&r.HouseholdID, &r.Name, &r.Phone, &r.IDNumber); err != nil {
			return fmt.Errorf("import: load residents: %w", err)
		}
		b.remember(&r)
	}
	return rows.Err()
}

// Kinds of resident key: by ID number, by household and name, by name and
// phone (the last only flags a likely duplicate).
const (
	keyID byte = iota
	keyHomeName
	keyNamePhone
)

func (b *batcher) residentKey(kind byte, x, y string) uint64 {
	var h maphash.Hash
	h.SetSeed(b.seed)
	h.WriteByte(kind)
	h.WriteString(x)
	h.WriteByte(0)
	h.WriteString(y)
	return h.Sum64()
}

// remember adds a saved resident's keys to the picture.
func (b *batcher) remember(r *Resident) {
	if r.IDNumber != nil {
		b.saved[b.residentKey(keyID, *r.IDNumber, "")] = struct{}{}
	}
	b.saved[b.residentKey(keyHomeName, r.HouseholdID, r.Name)] = struct{}{}
	if r.Phone != "" {
		b.saved[b.residentKey(keyNamePhone, r.Name, r.Phone)] = struct{}{}
	}
}

// mayExist tells whether a saved resident may have the key. A hash collision
// only costs a lookup that finds nothing.
func (b *batcher) mayExist(kind byte, x, y string) bool {
	_, ok := b.saved[b.residentKey(kind, x, y)]
	return ok
}

// place is where a row's household is: its grid, building and key.
type place struct {
	gridID, buildingID, unit, room, address, key string
	newBuilding                                  *Building
}

// locate reads the location columns (grid, building, unit, room, address
// at the given indexes) and finds or plans the building.
func (b *batcher) locate(tx *store.TenantTx, fe *[]errs.FieldError, grid, building, unit, room, address string) place {
	p := place{unit: clean(unit), room: clean(room), address: clean(address)}
	grid, building = clean(grid), clean(building)
	if grid != "" {
		id, ok := b.grids[strings.ToLower(grid)]
		if !ok {
			id, ok = b.grids[grid]
		}
		if !ok {
			*fe = append(*fe, errs.Field("grid", "unknown_grid", map[string]any{"grid": grid}))
			return p
		}
		p.gridID = id
	}
	if building != "" {
		bl, ok := b.buildings[building]
		switch {
		case ok && p.gridID != "" && bl.GridID != p.gridID:
			*fe = append(*fe, errs.Field("building", "building_in_other_grid", nil))
			return p
		case ok:
			p.gridID = bl.GridID
			if b.pending[bl.ID] {
				p.newBuilding = bl
			}
		case p.gridID == "":
			*fe = append(*fe, errs.Field("grid", "required", nil))
			return p
		default:
			// A building first seen in a spreadsheet is added to the roster.
			now := b.s.now()
			bl = &Building{ID: newID(), TenantID: tx.Tenant(), GridID: p.gridID, Name: building, CreatedAt: now, UpdatedAt: now}
			// Later rows naming it share it; it is saved with the first
			// good row that uses it.
			b.buildings[building], b.pending[bl.ID] = bl, true
			p.newBuilding = bl
		}
		p.buildingID = bl.ID
		if p.address == "" {
			p.address = joinAddress(bl, p.unit, p.room)
		}
		p.key = addressKey(bl.ID, p.unit, p.room, "")
		return p
	}
	if p.gridID == "" {
		*fe = append(*fe, errs.Field("grid", "required", nil))
	}
	if p.address == "" {
		*fe = append(*fe, errs.Field("address", "address_or_building", nil))
		return p
	}
	p.key = addressKey("", "", "", p.address)
	return p
}

func (b *batcher) insertBuilding(ctx context.Context, tx *store.TenantTx, p *place) error {
	if p.newBuilding == nil || !b.pending[p.newBuilding.ID] {
		return nil
	}
	if _, err := tx.NewInsert().Model(p.newBuilding).Exec(ctx); err != nil {
		return fmt.Errorf("import building: %w", err)
	}
	delete(b.pending, p.newBuilding.ID)
	return nil
}

// existingHouseholds maps address keys to households already on the roster.
func existingHouseholds(ctx context.Context, tx *store.TenantTx, keys []string) (map[string]*Household, error) {
	out := map[string]*Household{}
	if len(keys) == 0 {
		return out, nil
	}
	var rows []*Household
	if err := tx.Select(&rows).Where("h.deleted_at IS NULL AND h.address_key IN (?)", bun.List(keys)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("match households: %w", err)
	}
	for _, h := range rows {
		out[h.AddressKey] = h
	}
	return out, nil
}

func sameTags(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

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
			continue
		}
		h.ID, h.TenantID, h.CreatedAt, h.UpdatedAt = newID(), tx.Tenant(), now, now
		inserts = append(inserts, h)
		b.homes[h.AddressKey] = homeRef{id: h.ID, gridID: h.GridID}
	}
	if len(inserts) > 0 {
		if _, err := tx.NewInsert().Model(&inserts).Exec(ctx); err != nil {
			return fmt.Errorf("import: insert households: %w", err)
		}
		b.imp.Created += len(inserts)
	}
	return nil
}

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

// insertHouseholds and insertResidents use COPY where the database has it
// (a bulk load is then several times faster) and a multi-row INSERT
// elsewhere.
func insertHouseholds(ctx context.Context, tx *store.TenantTx, hs []*Household) error {
	if len(hs) == 0 {
		return nil
	}
	cols := []string{"id", "tenant_id", "grid_id", "building_id", "unit", "room", "address", "address_key", "phone", "phone_rev", "tags", "notes", "created_at", "updated_at"}
	rows := make([][]any, len(hs))
	for i, h := range hs {
		rows[i] = []any{h.ID, h.TenantID, h.GridID, h.BuildingID, h.Unit, h.Room, h.Address, h.AddressKey, h.Phone, h.PhoneRev, tagsJSON(h.Tags), h.Notes, h.CreatedAt, h.UpdatedAt}
	}
	done, err := tx.CopyFrom(ctx, "households", cols, rows)
	if done || err != nil {
		return err
	}
	if _, err := tx.NewInsert().Model(&hs).Exec(ctx); err != nil {
		return fmt.Errorf("import: insert households: %w", err)
	}
	return nil
}

func insertResidents(ctx context.Context, tx *store.TenantTx, rs []*Resident) error {
	if len(rs) == 0 {
		return nil
	}
	cols := []string{"id", "tenant_id", "household_id", "grid_id", "name", "phone", "phone_rev", "id_number", "birth_year", "sex", "tags", "created_at", "updated_at"}
	rows := make([][]any, len(rs))
	for i, r := range rs {
		rows[i] = []any{r.ID, r.TenantID, r.HouseholdID, r.GridID, r.Name, r.Phone, r.PhoneRev, r.IDNumber, r.BirthYear, r.Sex, tagsJSON(r.Tags), r.CreatedAt, r.UpdatedAt}
	}
	done, err := tx.CopyFrom(ctx, "residents", cols, rows)
	if done || err != nil {
		return err
	}
	if _, err := tx.NewInsert().Model(&rs).Exec(ctx); err != nil {
		return fmt.Errorf("import: insert residents: %w", err)
	}
	return nil
}

func tagsJSON(tags []string) string {
	if len(tags) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(tags)
	return string(b)
}

func eqPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
