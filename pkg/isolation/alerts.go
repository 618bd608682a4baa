package isolation

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// AlertView is an alert as the API shows it, with whom it is about.
type AlertView struct {
	ID             string     `json:"id"`
	CaseID         string     `json:"case_id"`
	Kind           string     `json:"kind"`
	Date           string     `json:"date"`
	Temperature    *float64   `json:"temperature,omitempty"`
	Symptoms       []string   `json:"symptoms"`
	Status         string     `json:"status"`
	ResidentID     string     `json:"resident_id,omitempty"`
	Name           string     `json:"name,omitempty"`
	Address        string     `json:"address,omitempty"`
	Grid           string     `json:"grid,omitempty"`
	AcknowledgedBy string     `json:"acknowledged_by,omitempty"`
	AcknowledgedAt *time.Time `json:"acknowledged_at,omitempty"`
	ClosedBy       string     `json:"closed_by,omitempty"`
	ClosedAt       *time.Time `json:"closed_at,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
}

type alertRow struct {
	Alert      `bun:",extend"`
	ResidentID string `bun:"resident_id"`
	Name       string `bun:"name"`
	GridID     string `bun:"grid_id"`
	Address    string `bun:"address"`
}

func alertView(a *Alert) AlertView {
	v := AlertView{ID: a.ID, CaseID: a.CaseID, Kind: a.Kind, Date: a.LocalDate, Symptoms: a.Symptoms, Status: a.Status,
		AcknowledgedAt: a.AcknowledgedAt, ClosedAt: a.ClosedAt, CreatedAt: a.CreatedAt}
	if a.Temperature != nil {
		t := tenths(*a.Temperature)
		v.Temperature = &t
	}
	if v.Symptoms == nil {
		v.Symptoms = []string{}
	}
	if a.AcknowledgedBy != nil {
		v.AcknowledgedBy = *a.AcknowledgedBy
	}
	if a.ClosedBy != nil {
		v.ClosedBy = *a.ClosedBy
	}
	return v
}

func alertRowView(r *alertRow, g *scope.Grids) AlertView {
	v := alertView(&r.Alert)
	v.ResidentID, v.Name, v.Address, v.Grid = r.ResidentID, r.Name, r.Address, g.Slug(r.GridID)
	return v
}

// selectAlerts is the alerts with their residents, narrowed to the
// caller's grids.
func selectAlerts(tx *store.TenantTx, g *scope.Grids, dst any) *bun.SelectQuery {
	q := tx.Select(dst).ColumnExpr("al.*, c.resident_id, r.name, r.grid_id, h.address").
		Join("JOIN isolation_cases AS c ON c.tenant_id = al.tenant_id AND c.id = al.case_id").
		Join("JOIN residents AS r ON r.tenant_id = c.tenant_id AND r.id = c.resident_id").
		Join("JOIN households AS h ON h.tenant_id = c.tenant_id AND h.id = c.household_id")
	return g.Limit(q, "r.grid_id")
}

// ListAlerts lists alerts, newest first; filters status, kind and grid.
func (s *Service) ListAlerts(ctx context.Context, f Filter) ([]AlertView, string, error) {
	p, err := scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (store.Page[AlertView], error) {
		var none store.Page[AlertView]
		rows := store.PageRows[alertRow](f.Limit)
		q := selectAlerts(tx, g, &rows)
		var fe []errs.FieldError
		if f.Status != "" && oneOf(&fe, "status", f.Status, AlertOpen, AlertAcknowledged, AlertClosed) {
			q = q.Where("al.status = ?", f.Status)
		}
		if f.Kind != "" && oneOf(&fe, "kind", f.Kind, AlertFever, AlertMissedCheckin) {
			q = q.Where("al.kind = ?", f.Kind)
		}
		if f.Grid != "" {
			if id, ok := g.Resolve(f.Grid); ok {
				q = q.Where("r.grid_id = ?", id)
			} else {
				fe = append(fe, errs.Field("grid", "unknown_grid", map[string]any{"grid": f.Grid}))
			}
		}
		if len(fe) > 0 {
			return none, errs.Validation(fe...)
		}
		if err := store.KeysetDesc(q, "al.id", f.Cursor, f.Limit).Scan(ctx); err != nil {
			return none, fmt.Errorf("list alerts: %w", err)
		}
		page := store.NextPage(rows, f.Limit, func(r *alertRow) string { return r.ID })
		out := make([]AlertView, 0, len(page.Items))
		ids := make([]string, 0, len(page.Items))
		for i := range page.Items {
			out = append(out, alertRowView(&page.Items[i], g))
			ids = append(ids, page.Items[i].CaseID)
		}
		if err := scope.RecordRead(ctx, s.Reads, s.DB, scope.Seen{Resource: "isolation_cases", IDs: ids,
			Filters: map[string]any{"alerts": true, "status": f.Status, "kind": f.Kind, "grid": f.Grid}}); err != nil {
			return none, err
		}
		return store.Page[AlertView]{Items: out, Next: page.Next}, nil
	})
	return p.Items, p.Next, err
}

// AckAlert acknowledges an open alert (again: unchanged); a closed one is
// a 409.
func (s *Service) AckAlert(ctx context.Context, id string) (*AlertView, error) {
	return s.moveAlert(ctx, id, AlertAcknowledged)
}

// CloseAlert closes an open or acknowledged alert (again: unchanged).
func (s *Service) CloseAlert(ctx context.Context, id string) (*AlertView, error) {
	return s.moveAlert(ctx, id, AlertClosed)
}

func (s *Service) moveAlert(ctx context.Context, id, to string) (*AlertView, error) {
	return scope.Run(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*AlertView, error) {
		r := new(alertRow)
		err := selectAlerts(tx, g, r).Where("al.id = ?", id).Scan(ctx)
		if isNoRows(err) {
			return nil, notFound()
		}
		if err != nil {
			return nil, fmt.Errorf("load alert: %w", err)
		}
		if r.Status == to {
			v := alertRowView(r, g)
			return &v, nil
		}
		if r.Status == AlertClosed {
			return nil, errs.Conflict("alert_closed", nil)
		}
		now := s.now()
		_, name := actor(ctx)
		q := tx.Update(&r.Alert).Set("status = ?", to).WherePK().Where("al.status = ?", r.Status)
		if to == AlertAcknowledged {
			r.AcknowledgedBy, r.AcknowledgedAt = &name, &now
			q = q.Set("acknowledged_by = ?, acknowledged_at = ?", name, now)
		} else {
			r.ClosedBy, r.ClosedAt = &name, &now
			q = q.Set("closed_by = ?, closed_at = ?", name, now)
		}
		res, err := q.Exec(ctx)
		if err != nil {
			return nil, fmt.Errorf("update alert: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil, errs.Conflict("alert_closed", nil)
		}
		r.Status = to
		if err := audit.Record(ctx, tx, audit.ActionUpdate, "isolation_alert", r.ID, map[string]any{"status": to, "case_id": r.CaseID}); err != nil {
			return nil, err
		}
		v := alertRowView(r, g)
		return &v, nil
	})
}

// alertsOf is a case's alerts, newest first.
func alertsOf(ctx context.Context, tx *store.TenantTx, caseID string) ([]AlertView, error) {
	var rows []Alert
	if err := tx.Select(&rows).Where("al.case_id = ?", caseID).OrderExpr("al.id DESC").Limit(500).Scan(ctx); err != nil {
		return nil, fmt.Errorf("alerts of case: %w", err)
	}
	out := make([]AlertView, 0, len(rows))
	for i := range rows {
		out = append(out, alertView(&rows[i]))
	}
	return out, nil
}
