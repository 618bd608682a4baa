package roster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/sheet"
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
// resident is matched as find says. The rules that the API holds a
// resident to hold here too: two residents may share a name in one
// household, never an ID number, nor a name and a phone.
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
		old, earlier := b.find(m, r)
		if earlier != 0 {
			b.refuse(g.line, errs.Field("id_number", "repeated_in_file", map[string]any{"row": earlier}))
			continue
		}
		if old == nil {
			if r.Phone != "" && m.samePhone(r.Name, r.Phone, "") {
				b.refuse(g.line, errs.Field("name", "resident_same_name_phone", nil))
				continue
			}
			r.ID, r.TenantID, r.CreatedAt, r.UpdatedAt = newID(), tx.Tenant(), now, now
			inserts = append(inserts, r)
			m.hold(nil, r)
			b.claimed[r.ID] = g.line
			continue
		}
		if unchanged(old, r) {
			b.claimed[old.ID] = g.line
			if !b.dry {
				b.imp.Unchanged++
			}
			continue
		}
		if r.IDNumber == nil {
			r.IDNumber = old.IDNumber // a sheet without the column keeps what is known
		}
		if r.Phone == "" {
			r.Phone, r.PhoneRev = old.Phone, old.PhoneRev
		}
		// As the API's update: the name and phone a change leaves may not
		// be another resident's.
		if r.Phone != "" && m.samePhone(r.Name, r.Phone, old.ID) {
			b.refuse(g.line, errs.Field("name", "resident_same_name_phone", nil))
			continue
		}
		b.claimed[old.ID] = g.line
		r.ID, r.TenantID, r.CreatedAt, r.UpdatedAt = old.ID, tx.Tenant(), old.CreatedAt, now
		updates = append(updates, r)
		m.hold(old, r)
	}
	if b.dry {
		return nil // replaying: nothing is saved or counted
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
	for _, h := range homes {
		b.touched = append(b.touched, h.ID)
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
		// An ID number is one person's: a second row with it repeats the
		// first. A name is not: two rows of one household may name two
		// people called alike (see find).
		if len(fe) == 0 && r.IDNumber != nil {
			if first, dup := b.seen["i|"+*r.IDNumber]; dup {
				fe = append(fe, errs.Field("id_number", "repeated_in_file", map[string]any{"row": first}))
			} else {
				b.seen["i|"+*r.IDNumber] = row.line
			}
		}
		if len(fe) > 0 {
			b.refuse(row.line, fe...)
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

// refuse rejects a row, unless the rows are being replayed.
func (b *batcher) refuse(line int, fe ...errs.FieldError) {
	if !b.dry {
		b.failFields(line, fe)
	}
}

// residentMatch holds the saved residents a batch's rows may match.
type residentMatch struct {
	byID map[string]*Resident
	// byHomeName lists residents in the order of their ids.
	byHomeName, byNamePhone map[string][]*Resident
}

// find is the saved resident a row describes, and the line of an earlier
// row of the file that described it already (0 when none did):
//
//   - a row with an ID number is the resident who has it; when nobody has
//     it, it is the first resident of its household and name, in the order
//     of their ids, who has no ID number and whom no earlier row matched;
//   - a row without an ID number is one of the residents of its household
//     and name whom no earlier row matched: the first of them, in the order
//     of their ids, that the row leaves unchanged, else the first of them.
//
// So the n-th row of a household and name in a file is the n-th such
// resident on the roster, unless another is the row exactly: a file the
// roster holds imports again without change, in any order of its rows,
// its ID numbers whole, masked (not read) or left out. And two residents
// of one name in one household, whom the API allows, are two rows that
// import as two residents.
func (b *batcher) find(m *residentMatch, r *Resident) (*Resident, int) {
	if r.IDNumber != nil {
		if old := m.byID[*r.IDNumber]; old != nil {
			return old, b.claimed[old.ID]
		}
	}
	var first *Resident
	for _, o := range m.byHomeName[r.HouseholdID+"|"+r.Name] {
		if _, taken := b.claimed[o.ID]; taken || (o.IDNumber != nil && r.IDNumber != nil) {
			continue
		}
		if r.IDNumber != nil || unchanged(o, r) {
			return o, 0
		}
		if first == nil {
			first = o
		}
	}
	return first, 0
}

// unchanged reports whether row r, matched to old, would change nothing of
// it. An empty phone or ID number in the row keeps old's.
func unchanged(old, r *Resident) bool {
	phone, id := r.Phone, r.IDNumber
	if phone == "" {
		phone = old.Phone
	}
	if id == nil {
		id = old.IDNumber
	}
	return old.HouseholdID == r.HouseholdID && old.Name == r.Name && old.Phone == phone && eqPtr(old.IDNumber, id) &&
		eqPtr(old.BirthYear, r.BirthYear) && old.Sex == r.Sex && sameTags(old.Tags, r.Tags)
}

// samePhone reports a saved resident other than except with the name and
// phone.
func (m *residentMatch) samePhone(name, phone, except string) bool {
	for _, o := range m.byNamePhone[name+"|"+phone] {
		if o.ID != except {
			return true
		}
	}
	return false
}

// hold records that r, saved by this batch, now has its name and phone
// (and no longer old's, when r updates old), for the rows after it.
func (m *residentMatch) hold(old, r *Resident) {
	if old != nil && old.Phone != "" {
		k := old.Name + "|" + old.Phone
		m.byNamePhone[k] = slices.DeleteFunc(m.byNamePhone[k], func(o *Resident) bool { return o.ID == old.ID })
	}
	if r.Phone != "" {
		m.byNamePhone[r.Name+"|"+r.Phone] = append(m.byNamePhone[r.Name+"|"+r.Phone], r)
	}
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
	}
	m := &residentMatch{byID: map[string]*Resident{}, byHomeName: map[string][]*Resident{}, byNamePhone: map[string][]*Resident{}}
	found := map[string]bool{}
	// Index-friendly queries, one per key, rather than one OR, which the
	// planner may turn into a scan of the whole community.
	fetch := func(col string, vals []string) error {
		if len(vals) == 0 {
			return nil
		}
		var part []*Resident
		if err := tx.Select(&part).Where("r.deleted_at IS NULL").Where("? IN (?)", bun.Ident(col), bun.List(vals)).Scan(ctx); err != nil {
			return fmt.Errorf("import: match residents: %w", err)
		}
		for _, r := range part {
			if found[r.ID] { // by another of the queries
				continue
			}
			found[r.ID] = true
			if r.IDNumber != nil {
				m.byID[*r.IDNumber] = r
			}
			m.byHomeName[r.HouseholdID+"|"+r.Name] = append(m.byHomeName[r.HouseholdID+"|"+r.Name], r)
			if r.Phone != "" {
				m.byNamePhone[r.Name+"|"+r.Phone] = append(m.byNamePhone[r.Name+"|"+r.Phone], r)
			}
		}
		return nil
	}
	if err := fetch("r.household_id", homeIDs); err != nil {
		return nil, err
	}
	if err := fetch("r.id_number", ids); err != nil {
		return nil, err
	}
	// Then by phone, for the duplicate check, with the name and phone a
	// row leaves: its own, or, when it has no phone, that of a resident it
	// may change (who keeps the phone).
	for i := range goods {
		r := &goods[i].r
		if r.Phone != "" {
			if b.mayExist(keyNamePhone, r.Name, r.Phone) {
				phones = append(phones, r.PhoneRev) // phone_rev is indexed
			}
			continue
		}
		olds := m.byHomeName[r.HouseholdID+"|"+r.Name]
		if r.IDNumber != nil && m.byID[*r.IDNumber] != nil {
			olds = append(olds[:len(olds):len(olds)], m.byID[*r.IDNumber])
		}
		for _, o := range olds {
			if o.Phone != "" && !unchanged(o, r) && b.mayExist(keyNamePhone, r.Name, o.Phone) {
				phones = append(phones, o.PhoneRev)
			}
		}
	}
	if err := fetch("r.phone_rev", phones); err != nil {
		return nil, err
	}
	for _, rs := range m.byHomeName {
		if len(rs) > 1 {
			slices.SortFunc(rs, func(x, y *Resident) int { return strings.Compare(x.ID, y.ID) })
		}
	}
	return m, nil
}

// replay reads again the rows that batches committed before this import
// resumed (runRows skips them), and matches them without saving or
// counting anything: the saved residents they matched or created are
// claimed, and their ID numbers seen, so the rows after them match as in
// one uninterrupted run. Without it, the second of two people of one name
// in one household, on either side of the crash, would be taken for the
// first, whom the first run created.
func (b *batcher) replay(ctx context.Context, tx *store.TenantTx) error {
	rd, err := sheet.Open(bytes.NewReader(b.imp.File), b.imp.Filename, residentFields, importLimits)
	if err != nil {
		return err
	}
	defer rd.Close()
	batch := b.rows
	b.rows, b.dry = nil, true
	defer func() { b.rows, b.dry = batch, false }()
	for read := 0; read < b.resumeAt; read++ {
		row, err := rd.Next()
		var re *sheet.RowError
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.As(err, &re) {
			continue
		}
		if err != nil {
			return err
		}
		b.add(row.Line, row.Values)
		if len(b.rows) >= importBatch {
			if err := b.residents(ctx, tx); err != nil {
				return err
			}
			b.rows = b.rows[:0]
		}
	}
	return b.residents(ctx, tx)
}
