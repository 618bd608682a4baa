package isolation

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// SupportInput is a resident's request for help.
type SupportInput struct {
	ResidentID string     `json:"resident_id"`
	Kind       string     `json:"kind"`
	Details    string     `json:"details"`
	DueAt      *time.Time `json:"due_at"` // nil: support_overdue_hours from now
}

// SupportPatch moves a request on: assigned (to a member of the
// community, by username), done or cancelled.
type SupportPatch struct {
	Status   *string `json:"status"`
	Assignee *string `json:"assignee"`
	Details  *string `json:"details"`
}

// SupportView is a request as the API shows it.
type SupportView struct {
	ID          string    `json:"id"`
	ResidentID  string    `json:"resident_id"`
	HouseholdID string    `json:"household_id"`
	CaseID      string    `json:"case_id,omitempty"`
	Name        string    `json:"name"`
	Phone       string    `json:"phone"`
	Address     string    `json:"address"`
	Grid        string    `json:"grid"`
	Kind        string    `json:"kind"`
	Details     string    `json:"details"`
	Status      string    `json:"status"`
	Assignee    string    `json:"assignee,omitempty"`
	DueAt       time.Time `json:"due_at"`
	Overdue     bool      `json:"overdue"`
	Date        string    `json:"date"`
	ClosedOn    string    `json:"closed_on,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

type supportRow struct {
	SupportRequest `bun:",extend"`
	Name           string `bun:"name"`
	Phone          string `bun:"phone"`
	GridID         string `bun:"grid_id"`
	Address        string `bun:"address"`
}

func supportView(r *supportRow, g *scope.Grids, v scope.View, now time.Time) SupportView {
	out := SupportView{ID: r.ID, ResidentID: r.ResidentID, HouseholdID: r.HouseholdID, Name: r.Name, Phone: v.Phone(r.Phone),
		Address: r.Address, Grid: g.Slug(r.GridID), Kind: r.Kind, Details: r.Details, Status: r.Status, Assignee: r.AssigneeName,
		DueAt: r.DueAt, Date: r.LocalDate, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	out.Overdue = (r.Status == SupportOpen || r.Status == SupportAssigned) && r.DueAt.Before(now)
	if r.CaseID != nil {
		out.CaseID = *r.CaseID
	}
	if r.ClosedOn != nil {
		out.ClosedOn = *r.ClosedOn
	}
	return out
}

func selectSupport(tx *store.TenantTx, g *scope.Grids, dst any) *bun.SelectQuery {
	q := tx.Select(dst).ColumnExpr("sr.*, r.name, r.phone, r.grid_id, h.address").
		Join("JOIN residents AS r ON r.tenant_id = sr.tenant_id AND r.id = sr.resident_id").
		Join("JOIN households AS h ON h.tenant_id = sr.tenant_id AND h.id = sr.household_id")
	return g.Limit(q, "r.grid_id")
}

// dueLocal is t in the community's local time, as support_requests keeps
// it for the figures.
func dueLocal(c orgs.Community, t time.Time) string { return t.In(c.Loc).Format("2006-01-02T15:04") }

// CreateSupport files a request for a resident the caller may work on,
// tied to the resident's live case if any. Posted twice with the same
// Idempotency-Key, it files one.
func (s *Service) CreateSupport(ctx context.Context, in SupportInput) (*SupportView, error) {
	return scope.Once(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*SupportView, error) {
		c, err := orgs.CommunityOf(ctx, tx)
		if err != nil {
			return nil, err
		}
		var fe []errs.FieldError
		oneOf(&fe, "kind", in.Kind, SupportKinds...)
		text(&fe, "details", &in.Details, 500)
		r, err := resident(ctx, tx, g, "resident_id", in.ResidentID)
		if err != nil {
			e, ok := err.(*errs.Error)
			if !ok || e.Kind != errs.KindValidation {
				return nil, err
			}
			fe = append(fe, e.Fields...)
		}
		if len(fe) > 0 {
			return nil, errs.Validation(fe...)
		}
		now := s.now()
		due := now.Add(time.Duration(c.Settings.SupportOverdue()) * time.Hour)
		if in.DueAt != nil {
			due = in.DueAt.UTC()
		}
		by, _ := actor(ctx)
		sr := &SupportRequest{TenantID: tx.Tenant(), ID: newID(), ResidentID: r.ID, HouseholdID: r.HouseholdID, Kind: in.Kind,
			Details: in.Details, Status: SupportOpen, DueAt: due, DueLocal: dueLocal(c, due), LocalDate: c.Day(now),
			CreatedBy: by, CreatedAt: now, UpdatedAt: now}
		var live []string
		if err := tx.Select((*Case)(nil)).Column("id").Where("c.resident_id = ? AND c.status IN (?, ?)", r.ID, StatusActive, StatusEligible).
			Scan(ctx, &live); err != nil {
			return nil, fmt.Errorf("resident's case: %w", err)
		}
		if len(live) > 0 {
			sr.CaseID = &live[0]
		}
		if _, err := tx.Insert(sr).Exec(ctx); err != nil {
			return nil, fmt.Errorf("file support request: %w", err)
		}
		if err := audit.Record(ctx, tx, audit.ActionCreate, "support_request", sr.ID, map[string]any{"resident_id": r.ID, "kind": sr.Kind}); err != nil {
			return nil, err
		}
		v := supportView(&supportRow{SupportRequest: *sr, Name: r.Name, Phone: r.Phone, GridID: r.GridID, Address: r.Address}, g, scope.ViewOf(ctx), now)
		return &v, nil
	})
}

// ListSupport lists requests, oldest first; filters status, grid and
// overdue (open or assigned past their due time).
func (s *Service) ListSupport(ctx context.Context, f Filter) ([]SupportView, string, error) {
	p, err := scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (store.Page[SupportView], error) {
		var none store.Page[SupportView]
		rows := store.PageRows[supportRow](f.Limit)
		now := s.now()
		q, err := supportFilter(selectSupport(tx, g, &rows), g, f, now)
		if err != nil {
			return none, err
		}
		if err := store.Keyset(q, "sr.id", f.Cursor, f.Limit).Scan(ctx); err != nil {
			return none, fmt.Errorf("list support requests: %w", err)
		}
		page := store.NextPage(rows, f.Limit, func(r *supportRow) string { return r.ID })
		v := scope.ViewOf(ctx)
		out := make([]SupportView, 0, len(page.Items))
		ids := make([]string, 0, len(page.Items))
		for i := range page.Items {
			out = append(out, supportView(&page.Items[i], g, v, now))
			ids = append(ids, page.Items[i].ResidentID)
		}
		if err := scope.RecordRead(ctx, s.Reads, s.DB, scope.Seen{Resource: "residents", IDs: ids,
			Filters: map[string]any{"support_requests": true, "status": f.Status, "grid": f.Grid, "overdue": f.Overdue}}); err != nil {
			return none, err
		}
		return store.Page[SupportView]{Items: out, Next: page.Next}, nil
	})
	return p.Items, p.Next, err
}

// supportFilter narrows q (selectSupport's) to f's filters, its cursor
// aside: the list and its count see the same requests.
func supportFilter(q *bun.SelectQuery, g *scope.Grids, f Filter, now time.Time) (*bun.SelectQuery, error) {
	var fe []errs.FieldError
	if f.Status != "" && oneOf(&fe, "status", f.Status, SupportOpen, SupportAssigned, SupportDone, SupportCancelled) {
		q = q.Where("sr.status = ?", f.Status)
	}
	if f.Grid != "" {
		if id, ok := g.Resolve(f.Grid); ok {
			q = q.Where("r.grid_id = ?", id)
		} else {
			fe = append(fe, errs.Field("grid", "unknown_grid", map[string]any{"grid": f.Grid}))
		}
	}
	if len(fe) > 0 {
		return nil, errs.Validation(fe...)
	}
	if f.Overdue {
		q = q.Where("sr.status IN (?, ?) AND sr.due_at < ?", SupportOpen, SupportAssigned, now)
	}
	return q, nil
}

// CountSupport counts the requests f's filters find (its cursor and limit
// aside): the list's "共 N 条".
func (s *Service) CountSupport(ctx context.Context, f Filter) (int, error) {
	return scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (int, error) {
		q, err := supportFilter(selectSupport(tx, g, (*SupportRequest)(nil)), g, f, s.now())
		if err != nil {
			return 0, err
		}
		n, err := q.Count(ctx)
		if err != nil {
			return 0, fmt.Errorf("count support requests: %w", err)
		}
		return int(n), nil
	})
}

// UpdateSupport moves a request on: open → assigned (an assignee given
// assigns it) → done, or cancelled; done and cancelled are final (409).
func (s *Service) UpdateSupport(ctx context.Context, id string, p SupportPatch) (*SupportView, error) {
	return scope.Run(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*SupportView, error) {
		r := new(supportRow)
		err := selectSupport(tx, g, r).Where("sr.id = ?", id).Scan(ctx)
		if isNoRows(err) {
			return nil, notFound()
		}
		if err != nil {
			return nil, fmt.Errorf("load support request: %w", err)
		}
		var fe []errs.FieldError
		to := r.Status
		if p.Status != nil && oneOf(&fe, "status", *p.Status, SupportAssigned, SupportDone, SupportCancelled) {
			to = *p.Status
		}
		if p.Details != nil {
			text(&fe, "details", p.Details, 500)
			r.Details = *p.Details
		}
		if p.Assignee != nil {
			if to == SupportOpen {
				to = SupportAssigned
			}
			id, name, err := member(ctx, tx, *p.Assignee)
			if err != nil {
				return nil, err
			}
			if id == "" {
				fe = append(fe, errs.Field("assignee", "unknown_member", nil))
			}
			r.AssigneeID, r.AssigneeName = &id, name
		}
		if to == SupportAssigned && r.AssigneeID == nil && len(fe) == 0 {
			fe = append(fe, errs.Field("assignee", "required", nil))
		}
		if p.Status == nil && p.Assignee == nil && p.Details == nil {
			fe = append(fe, errs.Field("status", "required", nil))
		}
		if len(fe) > 0 {
			return nil, errs.Validation(fe...)
		}
		if r.Status == SupportDone || r.Status == SupportCancelled {
			return nil, errs.Conflict("support_closed", map[string]any{"status": r.Status})
		}
		c, err := orgs.CommunityOf(ctx, tx)
		if err != nil {
			return nil, err
		}
		now := s.now()
		changed := r.Status != to
		r.Status, r.UpdatedAt = to, now
		if to == SupportDone || to == SupportCancelled {
			today := c.Day(now)
			r.ClosedOn = &today
		}
		if _, err := tx.Update(&r.SupportRequest).Column("status", "assignee_id", "assignee_name", "details", "closed_on", "updated_at").
			WherePK().Exec(ctx); err != nil {
			return nil, fmt.Errorf("update support request: %w", err)
		}
		details := map[string]any{"status": to, "assignee": r.AssigneeName}
		if !changed {
			delete(details, "status")
		}
		if err := audit.Record(ctx, tx, audit.ActionUpdate, "support_request", r.ID, details); err != nil {
			return nil, err
		}
		v := supportView(r, g, scope.ViewOf(ctx), now)
		return &v, nil
	})
}

// member finds a member of the tenant's community by username: its id and
// the name shown ("" when there is none). Users and memberships are
// platform tables: the read names the tenant's own org.
func member(ctx context.Context, tx *store.TenantTx, username string) (id, name string, err error) {
	var row struct {
		ID   string `bun:"id"`
		Name string `bun:"display_name"`
	}
	err = tx.Unscoped().NewSelect().TableExpr("users AS u").ColumnExpr("u.id, u.display_name").
		Join("JOIN memberships AS m ON m.user_id = u.id").
		Where("u.username = ? AND m.org_id = ? AND m.role IN (?) AND NOT u.disabled", username, tx.Tenant(),
			bun.List([]string{authz.RoleCommunityAdmin, authz.RoleCommunityStaff, authz.RoleGridWorker})).
		Limit(1).Scan(ctx, &row)
	if isNoRows(err) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("find member: %w", err)
	}
	if row.Name == "" {
		row.Name = username
	}
	return row.ID, row.Name, nil
}

// supportOf is a case's support requests.
func (s *Service) supportOf(ctx context.Context, tx *store.TenantTx, g *scope.Grids, caseID string) ([]SupportView, error) {
	var rows []supportRow
	if err := selectSupport(tx, g, &rows).Where("sr.case_id = ?", caseID).OrderExpr("sr.id").Limit(500).Scan(ctx); err != nil {
		return nil, fmt.Errorf("support requests of case: %w", err)
	}
	now := s.now()
	v := scope.ViewOf(ctx)
	out := make([]SupportView, 0, len(rows))
	for i := range rows {
		out = append(out, supportView(&rows[i], g, v, now))
	}
	return out, nil
}
