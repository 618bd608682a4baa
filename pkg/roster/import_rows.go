package roster

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"strings"

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

	// claimed maps the saved residents that rows of this import matched or
	// created to the row's line: a saved resident is described by one row
	// of a file at most (see find).
	claimed map[string]int
	// resumeAt is how many rows batches committed before this run of the
	// import (it resumed after a crash); replay reads them again, without
	// saving anything, to claim what they matched.
	resumeAt int
	dry      bool // replaying: match and claim only
	// committed is the import's row count as of this run's last committed
	// batch (or its start): a batch commits only while the import's row
	// count is still that, so two runs of one import never both save it.
	committed int
	// keptRows and keptBytes are the rejected rows kept and their cells'
	// bytes, against rejectedLimits; stop, once they are reached, ends
	// the import after the batch that reached them.
	keptRows, keptBytes int
	stop                *importStop
	// touched is the batch's households added or changed, for the hook.
	touched []string
}

type homeRef struct{ id, gridID string }

type pendingRow struct {
	line   int
	values []string
}

func newBatcher(s *Service, imp *Import) *batcher {
	return &batcher{s: s, imp: imp, seen: map[string]int{}, pending: map[string]bool{}, rejected: map[int]*rejectedRow{},
		homes: map[string]homeRef{}, saved: map[uint64]struct{}{}, seed: maphash.MakeSeed(), claimed: map[string]int{}, resumeAt: imp.Rows,
		committed: imp.Rows}
}

func (b *batcher) add(line int, values []string) {
	// Values may be reused by the reader: keep a copy.
	b.rows = append(b.rows, pendingRow{line: line, values: append([]string(nil), values...)})
}

func (b *batcher) flush(ctx context.Context) error {
	if len(b.rows) == 0 && len(b.rejected) == 0 {
		return nil
	}
	b.touched = b.touched[:0]
	err := b.s.DB.InTenantTx(ctx, func(ctx context.Context, tx *store.TenantTx) error {
		// First, and holding the import's row until the commit: is the
		// import where this run left it? If another run of it (see
		// RequeueStale) committed a batch meanwhile, this one stops before
		// saving anything.
		res, err := tx.Update((*Import)(nil)).Set("rows = rows").
			Where("i.id = ? AND i.status = 'running' AND i.rows = ?", b.imp.ID, b.committed).Exec(ctx)
		if err != nil {
			return fmt.Errorf("import: hold progress: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errSuperseded
		}
		if !b.loaded {
			if err := b.load(ctx, tx); err != nil {
				return err
			}
		}
		if b.imp.Kind == KindHouseholds {
			err = b.households(ctx, tx)
		} else {
			err = b.residents(ctx, tx)
		}
		if err != nil {
			return err
		}
		if err := b.s.householdsChanged(ctx, tx, b.touched...); err != nil {
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
	if err == nil {
		b.committed = b.imp.Rows
	}
	return err
}

func (b *batcher) load(ctx context.Context, tx *store.TenantTx) error {
	var gs []struct {
		ID   string `bun:"id"`
		Slug string `bun:"slug"`
		Name string `bun:"name"`
	}
	if err := tx.SelectTable("grids").Column("id", "slug", "name").Scan(ctx, &gs); err != nil {
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
		if b.resumeAt > 0 {
			if err := b.replay(ctx, tx); err != nil {
				return err
			}
		}
	}
	b.loaded = true
	return nil
}

func (b *batcher) loadHomes(ctx context.Context, tx *store.TenantTx) error {
	rows, err := tx.SelectTable("households").Column("id", "grid_id", "address_key").
		Where("deleted_at IS NULL").Rows(ctx)
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
	rows, err := tx.SelectTable("residents").Column("household_id", "name", "phone", "id_number").
		Where("deleted_at IS NULL").Rows(ctx)
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
// phone (the last only finds a duplicate, as the API refuses it).
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
	if _, err := tx.Insert(p.newBuilding).Exec(ctx); err != nil {
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

// insertHouseholds and insertResidents use COPY where the database has it
// (a bulk load is then several times faster) and a multi-row INSERT
// elsewhere.
func insertHouseholds(ctx context.Context, tx *store.TenantTx, hs []*Household) error {
	if len(hs) == 0 {
		return nil
	}
	if !tx.CanCopy() {
		if _, err := tx.Insert(&hs).Exec(ctx); err != nil {
			return fmt.Errorf("import: insert households: %w", err)
		}
		return nil
	}
	cols := []string{"id", "tenant_id", "grid_id", "building_id", "unit", "room", "address", "address_key", "phone", "phone_rev", "tags", "notes", "created_at", "updated_at"}
	rows := make([][]any, len(hs))
	for i, h := range hs {
		rows[i] = []any{h.ID, h.TenantID, h.GridID, h.BuildingID, h.Unit, h.Room, h.Address, h.AddressKey, h.Phone, h.PhoneRev, tagsJSON(h.Tags), h.Notes, h.CreatedAt, h.UpdatedAt}
	}
	_, err := tx.CopyFrom(ctx, "households", cols, rows)
	return err
}

func insertResidents(ctx context.Context, tx *store.TenantTx, rs []*Resident) error {
	if len(rs) == 0 {
		return nil
	}
	if !tx.CanCopy() {
		if _, err := tx.Insert(&rs).Exec(ctx); err != nil {
			return fmt.Errorf("import: insert residents: %w", err)
		}
		return nil
	}
	cols := []string{"id", "tenant_id", "household_id", "grid_id", "name", "phone", "phone_rev", "id_number", "birth_year", "sex", "tags", "created_at", "updated_at"}
	rows := make([][]any, len(rs))
	for i, r := range rs {
		rows[i] = []any{r.ID, r.TenantID, r.HouseholdID, r.GridID, r.Name, r.Phone, r.PhoneRev, r.IDNumber, r.BirthYear, r.Sex, tagsJSON(r.Tags), r.CreatedAt, r.UpdatedAt}
	}
	_, err := tx.CopyFrom(ctx, "residents", cols, rows)
	return err
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
