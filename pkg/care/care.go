// Package care is the special-care list (特殊人群关怀, DOMAIN.md 6): the
// residents who carry all of the community's care tags (orgs.Settings.CareList,
// elderly and lives_alone unless the community chose others), with their
// last care call or visit, and the calls and visits that keep them on the
// office's mind (care contacts, a table of their own).
package care

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// "Contact" is a care attempt that reached the resident. The overdue
// clock runs from the last contact, not from the last attempt: a call
// nobody answered does not tell the office an elderly person living alone
// is well, so it leaves them overdue (and the list shows that attempt, its
// reason and outcome, beside the last contact).
//
// The order is the order of work: never contacted first, then the
// longest without contact. Since "overdue" is "last contact older than N
// days", that one order puts every overdue resident before the rest.

// Bounds of a care contact's free text.
const (
	maxCareReason = 200
	maxNotes      = 500
)

// Filter narrows the care list: one grid, or only the overdue.
type Filter struct {
	Grid    string
	Overdue bool
	Limit   int
	Cursor  string
}

// Entry is a resident on the care list. Phones are as the caller's
// role may see them.
type Entry struct {
	ResidentID     string   `json:"resident_id"`
	Name           string   `json:"name"`
	Phone          string   `json:"phone"`
	HouseholdID    string   `json:"household_id"`
	HouseholdPhone string   `json:"household_phone"`
	Address        string   `json:"address"`
	Grid           string   `json:"grid"`
	Tags           []string `json:"tags"`
	BirthYear      *int     `json:"birth_year"`
	// Age is this year (in the community's zone) less the birth year.
	Age *int `json:"age"`
	// LastContactAt is the last care attempt that reached the resident;
	// null when none ever did.
	LastContactAt    *time.Time `json:"last_contact_at"`
	DaysSinceContact *int       `json:"days_since_contact"`
	Overdue          bool       `json:"overdue"`
	// The last care attempt, reached or not.
	LastAttemptAt *time.Time `json:"last_attempt_at"`
	LastMethod    string     `json:"last_method"`
	LastOutcome   string     `json:"last_outcome"`
	LastReason    string     `json:"last_reason"`
	LastBy        string     `json:"last_by"`
}

// careRow is a resident with their household and care attempts, as the
// list's one query reads them.
type careRow struct {
	bun.BaseModel `bun:"table:residents,alias:r"`
	ID            string     `bun:"id"`
	HouseholdID   string     `bun:"household_id"`
	GridID        string     `bun:"grid_id"`
	Name          string     `bun:"name"`
	Phone         string     `bun:"phone"`
	BirthYear     *int       `bun:"birth_year"`
	Tags          store.Tags `bun:"tags"`
	Address       string     `bun:"h_address"`
	HPhone        string     `bun:"h_phone"`
	AttemptAt     *time.Time `bun:"attempt_at"`
	Method        *string    `bun:"method"`
	Outcome       *string    `bun:"outcome"`
	Reason        *string    `bun:"reason"`
	ByName        *string    `bun:"by_name"`
	ContactAt     *time.Time `bun:"contact_at"`
	ContactDate   *string    `bun:"contact_date"`
}

// lastCare is every resident's latest care attempt (n = 1) and latest
// contact, over the tenant's care attempts in one pass: one subquery for
// the whole page, never a query per resident.
const lastCare = `(SELECT c.resident_id, c.at, c.method, c.outcome, c.reason, c.by_name,
	ROW_NUMBER() OVER (PARTITION BY c.resident_id ORDER BY c.at DESC, c.id DESC) AS n,
	MAX(CASE WHEN c.outcome = 'reached' THEN c.at END) OVER (PARTITION BY c.resident_id) AS contact_at,
	MAX(CASE WHEN c.outcome = 'reached' THEN c.local_date END) OVER (PARTITION BY c.resident_id) AS contact_date
	FROM care_contacts AS c WHERE c.tenant_id = ?)`

// contacted is the first part of the sort key: 0 never contacted, 1
// contacted (then ordered by when).
const contacted = "(CASE WHEN lc.contact_at IS NULL THEN 0 ELSE 1 END)"

// careCursor is the sort key of a page's last row: "0.<id>" or
// "1.<unix µs of the last contact>.<id>".
func careCursor(r *careRow) string {
	if r.ContactAt == nil {
		return "0." + r.ID
	}
	return "1." + strconv.FormatInt(r.ContactAt.UnixMicro(), 10) + "." + r.ID
}

// afterCursor narrows q to the rows after cursor in the list's order.
func afterCursor(q *bun.SelectQuery, cursor string) (*bun.SelectQuery, error) {
	bad := errs.Validation(errs.Field("cursor", "invalid_cursor", nil))
	rank, rest, ok := strings.Cut(cursor, ".")
	switch {
	case !ok:
		return nil, bad
	case rank == "0":
		return q.Where("("+contacted+" = 0 AND r.id > ? OR "+contacted+" = 1)", rest), nil
	case rank == "1":
		us, id, ok := strings.Cut(rest, ".")
		n, err := strconv.ParseInt(us, 10, 64)
		if !ok || err != nil {
			return nil, bad
		}
		// Row values compare alike on PostgreSQL and SQLite; the time is
		// rendered as bun wrote it, so it compares as stored.
		return q.Where(contacted+" = 1 AND (lc.contact_at, r.id) > (?, ?)", time.UnixMicro(n).UTC(), id), nil
	}
	return nil, bad
}

// daysBetween counts calendar days from day a to day b (YYYY-MM-DD).
func daysBetween(a, b string) (int, bool) {
	ta, err1 := time.Parse(time.DateOnly, a)
	tb, err2 := time.Parse(time.DateOnly, b)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return int(tb.Sub(ta).Hours() / 24), true
}

// List lists the care list of the caller's grids in the order of work
// (see above), with filters grid and overdue. Seeing it is a read of
// personal data (names, phones), recorded with the ids shown.
func (s *Service) List(ctx context.Context, f Filter) ([]Entry, string, error) {
	p, err := scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (store.Page[Entry], error) {
		var none store.Page[Entry]
		c, err := orgs.CommunityOf(ctx, tx)
		if err != nil {
			return none, err
		}
		now := s.now()
		today := c.Day(now)
		days := c.Settings.CareOverdue()

		var rows []careRow
		q := tx.Select(&rows).
			ColumnExpr("r.id, r.household_id, r.grid_id, r.name, r.phone, r.birth_year, r.tags").
			ColumnExpr("h.address AS h_address, h.phone AS h_phone").
			ColumnExpr("lc.at AS attempt_at, lc.method, lc.outcome, lc.reason, lc.by_name, lc.contact_at, lc.contact_date")
		if q, err = s.careFilter(q, tx, g, c, f, now); err != nil {
			return none, err
		}
		if f.Cursor != "" {
			if q, err = afterCursor(q, f.Cursor); err != nil {
				return none, err
			}
		}
		limit := pageSize(f.Limit)
		q = q.OrderExpr(contacted + " ASC, lc.contact_at ASC, r.id ASC").Limit(int64(limit) + 1)
		if err := q.Scan(ctx); err != nil {
			return none, fmt.Errorf("care list: %w", err)
		}
		page := store.NextPage(rows, limit, careCursor)

		v := scope.ViewOf(ctx)
		year := now.In(c.Loc).Year()
		out := make([]Entry, 0, len(page.Items))
		ids := make([]string, 0, len(page.Items))
		for i := range page.Items {
			r := &page.Items[i]
			cv := Entry{ResidentID: r.ID, Name: r.Name, Phone: v.Phone(r.Phone), HouseholdID: r.HouseholdID,
				HouseholdPhone: v.Phone(r.HPhone), Address: r.Address, Grid: g.Slug(r.GridID), Tags: r.Tags,
				BirthYear: r.BirthYear, LastContactAt: r.ContactAt, LastAttemptAt: r.AttemptAt, Overdue: true}
			if cv.Tags == nil {
				cv.Tags = []string{}
			}
			if r.BirthYear != nil {
				age := year - *r.BirthYear
				cv.Age = &age
			}
			if r.ContactDate != nil {
				if n, ok := daysBetween(*r.ContactDate, today); ok {
					cv.DaysSinceContact, cv.Overdue = &n, n > days
				}
			}
			for dst, src := range map[*string]*string{&cv.LastMethod: r.Method, &cv.LastOutcome: r.Outcome, &cv.LastReason: r.Reason, &cv.LastBy: r.ByName} {
				if src != nil {
					*dst = *src
				}
			}
			out = append(out, cv)
			ids = append(ids, r.ID)
		}
		if err := scope.RecordRead(ctx, s.Reads, s.DB, scope.Seen{Resource: "care_list", IDs: ids,
			Filters: map[string]any{"grid": f.Grid, "overdue": f.Overdue}}); err != nil {
			return none, err
		}
		return store.Page[Entry]{Items: out, Next: page.Next}, nil
	})
	return p.Items, p.Next, err
}

// careFilter limits q (over residents AS r) to the care list of the
// caller's grids and f's filters, its cursor aside: the list and its count
// see the same residents.
func (s *Service) careFilter(q *bun.SelectQuery, tx *store.TenantTx, g *scope.Grids, c orgs.Community, f Filter, now time.Time) (*bun.SelectQuery, error) {
	q = q.Join("JOIN households AS h ON h.id = r.household_id AND h.tenant_id = r.tenant_id").
		Join("LEFT JOIN "+lastCare+" AS lc ON lc.resident_id = r.id AND lc.n = 1", tx.Tenant()).
		Where("r.deleted_at IS NULL")
	q = g.Limit(q, "r.grid_id")
	for _, tag := range c.Settings.CareList() {
		q = s.DB.HasTag(q, "r", tag)
	}
	if f.Grid != "" {
		id, ok := g.Resolve(f.Grid)
		if !ok {
			return nil, errs.Validation(errs.Field("grid", "unknown_grid", map[string]any{"grid": f.Grid}))
		}
		q = q.Where("r.grid_id = ?", id)
	}
	if f.Overdue {
		cutoff := now.In(c.Loc).AddDate(0, 0, -c.Settings.CareOverdue()).Format(time.DateOnly)
		q = q.Where("(lc.contact_date IS NULL OR lc.contact_date < ?)", cutoff)
	}
	return q, nil
}

// Count counts the residents f's filters find on the care list (its
// cursor and limit aside): the list's "共 N 人".
func (s *Service) Count(ctx context.Context, f Filter) (int, error) {
	return scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (int, error) {
		c, err := orgs.CommunityOf(ctx, tx)
		if err != nil {
			return 0, err
		}
		q, err := s.careFilter(tx.Select((*careRow)(nil)), tx, g, c, f, s.now())
		if err != nil {
			return 0, err
		}
		n, err := q.Count(ctx)
		if err != nil {
			return 0, fmt.Errorf("count care list: %w", err)
		}
		return int(n), nil
	})
}

// ContactInput is one care call or visit: how, how it went, and why
// (a routine check, the cold, a heat wave, …).
type ContactInput struct {
	Method  string `json:"method"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
	Notes   string `json:"notes"`
}

// ContactView is a recorded care call or visit.
type ContactView struct {
	ID          string    `json:"id"`
	ResidentID  string    `json:"resident_id"`
	HouseholdID string    `json:"household_id"`
	Grid        string    `json:"grid"`
	Method      string    `json:"method"`
	Outcome     string    `json:"outcome"`
	Reason      string    `json:"reason"`
	Notes       string    `json:"notes"`
	By          string    `json:"by"`
	At          time.Time `json:"at"`
	Date        string    `json:"date"`
}

// careResident is what a care contact needs of its resident.
type careResident struct {
	bun.BaseModel `bun:"table:residents,alias:r"`
	ID            string `bun:"id"`
	HouseholdID   string `bun:"household_id"`
	GridID        string `bun:"grid_id"`
}

// RecordContact records a care call or visit to a resident, now. Any
// live resident of the caller's grids may be called, on the care list or
// not: a worker who checks on a neighbour just out of hospital should not
// have to tag them first, and the attempt is the same record. Another
// grid's or another community's resident, or one removed from the roster,
// is a 404. Posted twice with the same Idempotency-Key, it is recorded
// once.
func (s *Service) RecordContact(ctx context.Context, residentID string, in ContactInput) (*ContactView, error) {
	return scope.Once(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*ContactView, error) {
		r := new(careResident)
		err := tx.Select(r).Column("r.id", "r.household_id", "r.grid_id").
			Where("r.id = ? AND r.deleted_at IS NULL", residentID).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !g.May(r.GridID)) {
			return nil, notFound()
		}
		if err != nil {
			return nil, fmt.Errorf("load resident: %w", err)
		}
		var fe []errs.FieldError
		in.Method, in.Outcome = strings.TrimSpace(in.Method), strings.TrimSpace(in.Outcome)
		in.Reason, in.Notes = strings.TrimSpace(in.Reason), strings.TrimSpace(in.Notes)
		oneOf(&fe, "method", in.Method, Methods...)
		oneOf(&fe, "outcome", in.Outcome, Outcomes...)
		if in.Reason == "" {
			fe = append(fe, errs.Field("reason", "required", nil))
		}
		text(&fe, "reason", in.Reason, maxCareReason)
		text(&fe, "notes", in.Notes, maxNotes)
		if len(fe) > 0 {
			return nil, errs.Validation(fe...)
		}
		c, err := orgs.CommunityOf(ctx, tx)
		if err != nil {
			return nil, err
		}
		now := s.now()
		byUser, byName := actor(ctx)
		a := &Contact{TenantID: tx.Tenant(), ID: newID(), ResidentID: r.ID, HouseholdID: r.HouseholdID,
			GridID: r.GridID, Reason: in.Reason, Method: in.Method, Outcome: in.Outcome, Notes: in.Notes,
			ByUser: byUser, ByName: byName, At: now, LocalDate: c.Day(now)}
		if _, err := tx.Insert(a).Exec(ctx); err != nil {
			return nil, fmt.Errorf("record care contact: %w", err)
		}
		if err := audit.Record(ctx, tx, audit.ActionCreate, "care_contact", a.ID,
			map[string]any{"resident_id": r.ID, "method": a.Method, "outcome": a.Outcome}); err != nil {
			return nil, err
		}
		return &ContactView{ID: a.ID, ResidentID: r.ID, HouseholdID: r.HouseholdID, Grid: g.Slug(r.GridID),
			Method: a.Method, Outcome: a.Outcome, Reason: a.Reason, Notes: a.Notes, By: a.ByName, At: a.At, Date: a.LocalDate}, nil
	})
}
