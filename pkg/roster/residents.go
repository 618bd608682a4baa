package roster

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/pii"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// ResidentInput creates a resident.
type ResidentInput struct {
	HouseholdID string   `json:"household_id"`
	Name        string   `json:"name"`
	Phone       string   `json:"phone"`
	IDNumber    string   `json:"id_number"`
	BirthYear   *int     `json:"birth_year"`
	Sex         string   `json:"sex"`
	Tags        []string `json:"tags"`
}

// ResidentPatch changes some fields of a resident.
type ResidentPatch struct {
	HouseholdID *string   `json:"household_id"`
	Name        *string   `json:"name"`
	Phone       *string   `json:"phone"`
	IDNumber    *string   `json:"id_number"`
	BirthYear   *int      `json:"birth_year"`
	Sex         *string   `json:"sex"`
	Tags        *[]string `json:"tags"`
}

// ResidentView is a resident as the API shows it.
type ResidentView struct {
	ID          string    `json:"id"`
	HouseholdID string    `json:"household_id"`
	Grid        string    `json:"grid"`
	Name        string    `json:"name"`
	Phone       string    `json:"phone"`
	IDNumber    string    `json:"id_number"`
	BirthYear   *int      `json:"birth_year"`
	Sex         string    `json:"sex"`
	Tags        []string  `json:"tags"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// Address is the household's, for the console's list; the API's
	// resident carries its household_id instead.
	Address string `json:"-"`
}

// residentView masks per the caller's role. fullID is false in lists: an
// ID number is shown only when one record is opened, and that is audited.
func residentView(r *Resident, g *scope.Grids, v scope.View, fullID bool) ResidentView {
	out := ResidentView{ID: r.ID, HouseholdID: r.HouseholdID, Grid: g.Slug(r.GridID), Name: r.Name, Phone: r.Phone,
		BirthYear: r.BirthYear, Sex: r.Sex, Tags: r.Tags, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if out.Tags == nil {
		out.Tags = []string{}
	}
	if r.IDNumber != nil {
		out.IDNumber = *r.IDNumber
		if !(v.FullID && fullID) {
			out.IDNumber = pii.MaskID(out.IDNumber)
		}
	}
	if !v.FullPhone && out.Phone != "" {
		out.Phone = pii.MaskPhone(out.Phone)
	}
	return out
}

var sexAliases = map[string]string{"male": "male", "m": "male", "男": "male", "female": "female", "f": "female", "女": "female"}

// checkPerson validates the person fields (not the household) and returns
// them as a Resident, deriving birth year and sex from the ID number.
func (s *Service) checkPerson(in ResidentInput) (Resident, []errs.FieldError) {
	var fe []errs.FieldError
	name := clean(in.Name)
	checkText(&fe, "name", name, 50, true)
	phone := phoneField(&fe, "phone", in.Phone)
	tags := tagsField(&fe, "tags", in.Tags)
	sex := ""
	if v := strings.ToLower(clean(in.Sex)); v != "" {
		var ok bool
		if sex, ok = sexAliases[v]; !ok {
			fe = append(fe, errs.Field("sex", "invalid_sex", nil))
		}
	}
	var idNumber *string
	birthYear := in.BirthYear
	if v := strings.TrimSpace(in.IDNumber); v != "" {
		id, err := pii.ParseID(v, s.now())
		if err != nil {
			fe = append(fe, errs.Field("id_number", piiKey(err, "id_format"), nil))
		} else {
			idNumber = &id.Number
			y := id.Birth.Year()
			if birthYear == nil {
				birthYear = &y
			} else if *birthYear != y {
				fe = append(fe, errs.Field("birth_year", "birth_year_mismatch", nil))
			}
			idSex := "male"
			if id.Female {
				idSex = "female"
			}
			if sex == "" {
				sex = idSex
			} else if sex != idSex {
				fe = append(fe, errs.Field("sex", "sex_mismatch", nil))
			}
		}
	}
	if birthYear != nil && (*birthYear < 1880 || *birthYear > s.now().Year()) {
		fe = append(fe, errs.Field("birth_year", "out_of_range", map[string]any{"min": 1880, "max": s.now().Year()}))
	}
	return Resident{Name: name, Phone: phone, PhoneRev: reverse(phoneDigits(phone)), IDNumber: idNumber, BirthYear: birthYear, Sex: sex, Tags: tags}, fe
}

// prepareResident validates in and fills r. The household must be one the
// caller may see; its grid becomes the resident's.
func (s *Service) prepareResident(ctx context.Context, tx *store.TenantTx, g *scope.Grids, in ResidentInput, r *Resident) error {
	var fe []errs.FieldError
	var h *Household
	if id := strings.TrimSpace(in.HouseholdID); id == "" {
		fe = append(fe, errs.Field("household_id", "required", nil))
	} else {
		var err error
		h, err = s.household(ctx, tx, g, id)
		if errs.KindOf(err) == errs.KindNotFound {
			fe = append(fe, errs.Field("household_id", "unknown_household", nil))
		} else if err != nil {
			return err
		}
	}
	p, pfe := s.checkPerson(in)
	fe = append(fe, pfe...)
	if len(fe) > 0 {
		return errs.Validation(fe...)
	}
	r.HouseholdID, r.GridID, r.Name, r.Phone, r.PhoneRev = h.ID, h.GridID, p.Name, p.Phone, p.PhoneRev
	r.IDNumber, r.BirthYear, r.Sex, r.Tags = p.IDNumber, p.BirthYear, p.Sex, p.Tags
	return nil
}

// duplicateResident answers 409 when the ID number, or the name and phone,
// are already in the community. The existing record's id is named only
// when the caller may see it: a grid worker learns nothing about other
// grids from a conflict but that it is one.
func duplicateResident(ctx context.Context, tx *store.TenantTx, g *scope.Grids, r *Resident) error {
	find := func(where string, args ...any) (*Resident, error) {
		var found Resident
		err := tx.Select(&found).Column("r.id", "r.grid_id").Where("r.deleted_at IS NULL AND r.id <> ?", r.ID).
			Where(where, args...).Limit(1).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		return &found, err
	}
	if r.IDNumber != nil {
		found, err := find("r.id_number = ?", *r.IDNumber)
		if err != nil {
			return err
		}
		if found != nil {
			return conflict("resident_same_id", nil, g, found.GridID, found.ID)
		}
	}
	if r.Phone != "" {
		found, err := find("r.name = ? AND r.phone = ?", r.Name, r.Phone)
		if err != nil {
			return err
		}
		if found != nil {
			return conflict("resident_same_name_phone", nil, g, found.GridID, found.ID)
		}
	}
	return nil
}

// CreateResident adds a resident to a household.
func (s *Service) CreateResident(ctx context.Context, in ResidentInput) (*ResidentView, error) {
	return scope.Once(ctx, s.frame(), func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*ResidentView, error) {
		now := s.now()
		r := &Resident{ID: newID(), TenantID: tx.Tenant(), CreatedAt: now, UpdatedAt: now}
		if err := s.prepareResident(ctx, tx, g, in, r); err != nil {
			return nil, err
		}
		if err := duplicateResident(ctx, tx, g, r); err != nil {
			return nil, err
		}
		if _, err := tx.Insert(r).Exec(ctx); err != nil {
			return nil, fmt.Errorf("create resident: %w", err)
		}
		out := residentView(r, g, scope.ViewOf(ctx), true)
		if err := audit.Record(ctx, tx, audit.ActionCreate, "resident", r.ID, nil); err != nil {
			return nil, err
		}
		return &out, nil
	})
}

func (s *Service) resident(ctx context.Context, tx *store.TenantTx, g *scope.Grids, id string) (*Resident, error) {
	r := new(Resident)
	err := tx.Select(r).Where("r.id = ? AND r.deleted_at IS NULL", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !g.May(r.GridID)) {
		return nil, notFound()
	}
	if err != nil {
		return nil, fmt.Errorf("load resident: %w", err)
	}
	return r, nil
}

// GetResident returns one resident; an unmasked read is audited.
func (s *Service) GetResident(ctx context.Context, id string) (*ResidentView, error) {
	return scope.Read(ctx, s.frame(), func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*ResidentView, error) {
		r, err := s.resident(ctx, tx, g, id)
		if err != nil {
			return nil, err
		}
		v := scope.ViewOf(ctx)
		out := residentView(r, g, v, true)
		if err := s.auditRead(ctx, "resident", r.ID); err != nil {
			return nil, err
		}
		return &out, nil
	})
}

// UpdateResident applies a patch.
func (s *Service) UpdateResident(ctx context.Context, id string, p ResidentPatch) (*ResidentView, error) {
	return scope.Run(ctx, s.frame(), func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*ResidentView, error) {
		r, err := s.resident(ctx, tx, g, id)
		if err != nil {
			return nil, err
		}
		in := ResidentInput{HouseholdID: r.HouseholdID, Name: r.Name, Phone: r.Phone, BirthYear: r.BirthYear, Sex: r.Sex, Tags: r.Tags}
		if r.IDNumber != nil {
			in.IDNumber = *r.IDNumber
		}
		var changed []string
		set := func(name string, dst *string, v *string) {
			if v != nil {
				*dst, changed = *v, append(changed, name)
			}
		}
		set("household_id", &in.HouseholdID, p.HouseholdID)
		set("name", &in.Name, p.Name)
		set("phone", &in.Phone, p.Phone)
		set("id_number", &in.IDNumber, p.IDNumber)
		set("sex", &in.Sex, p.Sex)
		if p.BirthYear != nil {
			in.BirthYear, changed = p.BirthYear, append(changed, "birth_year")
		} else if p.IDNumber != nil {
			in.BirthYear = nil // follow the new ID number
		}
		if p.Tags != nil {
			in.Tags, changed = *p.Tags, append(changed, "tags")
		}
		if err := s.prepareResident(ctx, tx, g, in, r); err != nil {
			return nil, err
		}
		if err := duplicateResident(ctx, tx, g, r); err != nil {
			return nil, err
		}
		r.UpdatedAt = s.now()
		if _, err := tx.Update(r).WherePK().Exec(ctx); err != nil {
			return nil, fmt.Errorf("update resident: %w", err)
		}
		out := residentView(r, g, scope.ViewOf(ctx), true)
		if err := audit.Record(ctx, tx, audit.ActionUpdate, "resident", r.ID, map[string]any{"fields": changed}); err != nil {
			return nil, err
		}
		return &out, nil
	})
}

// DeleteResident removes a resident from the roster (soft delete).
func (s *Service) DeleteResident(ctx context.Context, id string) error {
	return scope.Do(ctx, s.frame(), func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) error {
		r, err := s.resident(ctx, tx, g, id)
		if err != nil {
			return err
		}
		if _, err := tx.Update((*Resident)(nil)).Set("deleted_at = ?", s.now()).Where("id = ?", r.ID).Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.ActionDelete, "resident", r.ID, nil)
	})
}

// ListResidents lists residents with filters: grid, household_id, tag, q
// (digits: phone ending; otherwise the start of the name).
func (s *Service) ListResidents(ctx context.Context, f Filter) ([]ResidentView, string, error) {
	p, err := scope.Read(ctx, s.frame(), func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (store.Page[ResidentView], error) {
		var none store.Page[ResidentView]
		rows := store.PageRows[Resident](f.Limit)
		v := scope.ViewOf(ctx)
		q, err := s.residentFilter(tx.Select(&rows), g, v, f)
		if err != nil {
			return none, err
		}
		if err := store.Keyset(q, "r.id", f.Cursor, f.Limit).Scan(ctx); err != nil {
			return none, fmt.Errorf("list residents: %w", err)
		}
		page := store.NextPage(rows, f.Limit, func(r *Resident) string { return r.ID })
		out := make([]ResidentView, 0, len(page.Items))
		ids := make([]string, 0, len(page.Items))
		for i := range page.Items {
			out = append(out, residentView(&page.Items[i], g, v, false))
			ids = append(ids, page.Items[i].ID)
		}
		if err := householdAddresses(ctx, tx, out); err != nil {
			return none, err
		}
		return store.Page[ResidentView]{Items: out, Next: page.Next}, s.auditList(ctx, "residents", ids, f)
	})
	return p.Items, p.Next, err
}

// residentFilter limits q to the caller's grids and f's filters (not its
// cursor): the list and its count see the same residents.
func (s *Service) residentFilter(q *bun.SelectQuery, g *scope.Grids, v scope.View, f Filter) (*bun.SelectQuery, error) {
	q = g.Limit(q.Where("r.deleted_at IS NULL"), "r.grid_id")
	if f.Grid != "" {
		id, ok := g.Resolve(f.Grid)
		if !ok {
			return nil, errs.Validation(errs.Field("grid", "unknown_grid", map[string]any{"grid": f.Grid}))
		}
		q = q.Where("r.grid_id = ?", id)
	}
	if f.HouseholdID != "" {
		q = q.Where("r.household_id = ?", f.HouseholdID)
	}
	if f.Tag != "" {
		q = s.DB.HasTag(q, "r", f.Tag)
	}
	if qq := clean(f.Q); qq != "" {
		// A whole ID number finds its holder, and digits a phone's
		// ending, for the roles that see them. For the others either
		// would confirm who lives here, digit by digit, so they may
		// search by name only.
		id, err := pii.ParseID(qq, s.now())
		switch {
		case err == nil && v.FullID:
			q = q.Where("r.id_number = ?", id.Number)
		case looksLikeNumber(qq) && !v.FullPhone:
			return nil, errs.Validation(errs.Field("q", "search_by_name_only", nil))
		case isDigits(qq) && len(qq) >= 3:
			q = s.DB.HasPrefix(q, "r.phone_rev", reverse(qq))
		default:
			q = s.DB.HasPrefix(q, "r.name", qq)
		}
	}
	return q, nil
}

// CountResidents counts the residents f's filters find (its cursor and
// limit aside).
func (s *Service) CountResidents(ctx context.Context, f Filter) (int, error) {
	return scope.Read(ctx, s.frame(), func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (int, error) {
		q, err := s.residentFilter(tx.Select((*Resident)(nil)), g, scope.ViewOf(ctx), f)
		if err != nil {
			return 0, err
		}
		n, err := q.Count(ctx)
		if err != nil {
			return 0, fmt.Errorf("count residents: %w", err)
		}
		return int(n), nil
	})
}

// householdAddresses fills a page of residents' addresses in one query.
func householdAddresses(ctx context.Context, tx *store.TenantTx, rs []ResidentView) error {
	if len(rs) == 0 {
		return nil
	}
	ids := make([]string, 0, len(rs))
	for _, r := range rs {
		ids = append(ids, r.HouseholdID)
	}
	var hs []Household
	if err := tx.Select(&hs).Column("h.id", "h.address").Where("h.id IN (?)", bun.List(ids)).Scan(ctx); err != nil {
		return fmt.Errorf("residents' addresses: %w", err)
	}
	addr := make(map[string]string, len(hs))
	for _, h := range hs {
		addr[h.ID] = h.Address
	}
	for i := range rs {
		rs[i].Address = addr[rs[i].HouseholdID]
	}
	return nil
}
