package isolation

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// CheckinInput is a report of temperature and symptoms. Temperature is
// kept raw so that "abc" is a 422 on the field, not a malformed body.
type CheckinInput struct {
	Temperature json.RawMessage `json:"temperature"`
	Symptoms    []string        `json:"symptoms"`
	Source      string          `json:"source"` // "": staff
}

// CheckinView is a check-in as the API shows it.
type CheckinView struct {
	ID          string    `json:"id"`
	CaseID      string    `json:"case_id"`
	Temperature float64   `json:"temperature"`
	Symptoms    []string  `json:"symptoms"`
	Source      string    `json:"source"`
	Counts      bool      `json:"counts"` // the first of its local day
	Date        string    `json:"date"`
	At          time.Time `json:"at"`
	By          string    `json:"by"`
	AlertID     string    `json:"alert_id,omitempty"`
}

func checkinView(k *Checkin) CheckinView {
	v := CheckinView{ID: k.ID, CaseID: k.CaseID, Temperature: tenths(k.Temperature), Symptoms: k.Symptoms, Source: k.Source,
		Counts: k.Counts, Date: k.LocalDate, At: k.At, By: k.ByName}
	if v.Symptoms == nil {
		v.Symptoms = []string{}
	}
	return v
}

// parseTemperature reads a temperature in °C (a number, or a number in a
// string) into tenths of a degree, within 34.0–43.0.
func parseTemperature(fe *[]errs.FieldError, raw json.RawMessage) int {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	if s == "" || s == "null" {
		*fe = append(*fe, errs.Field("temperature", "required", nil))
		return 0
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		*fe = append(*fe, errs.Field("temperature", "not_a_number", nil))
		return 0
	}
	t := int(math.Round(v * 10))
	if t < MinTemperature || t > MaxTemperature {
		*fe = append(*fe, errs.Field("temperature", "out_of_range", map[string]any{"min": "34.0", "max": "43.0"}))
		return 0
	}
	return t
}

// checkSymptoms validates symptoms against the fixed list, without
// repeats, in the list's order.
func checkSymptoms(fe *[]errs.FieldError, in []string) []string {
	out := []string{}
	for i, s := range in {
		if !slices.Contains(Symptoms, s) {
			*fe = append(*fe, errs.Field(fmt.Sprintf("symptoms[%d]", i), "one_of", map[string]any{"allowed": strings.Join(Symptoms, ", ")}))
			continue
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return slices.Index(Symptoms, a) - slices.Index(Symptoms, b) })
	return out
}

// RecordCheckin records a check-in on a live case (staff, and grid workers
// for their grids). The first of the case's local day counts for it; a
// fever (37.3 °C or more) or any symptom raises the day's fever alert and
// sends it to the grid's workers and the community's staff. Posted twice
// with the same Idempotency-Key, it is recorded once.
func (s *Service) RecordCheckin(ctx context.Context, caseID string, in CheckinInput) (*CheckinView, error) {
	ctx, sent := collect(ctx)
	out, err := scope.Once(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*CheckinView, error) {
		// The case first: another grid's or community's case is a 404
		// whatever the body says.
		r, err := loadCase(ctx, tx, g, caseID)
		if err != nil {
			return nil, err
		}
		var fe []errs.FieldError
		t := parseTemperature(&fe, in.Temperature)
		symptoms := checkSymptoms(&fe, in.Symptoms)
		source := in.Source
		if source == "" {
			source = SourceStaff
		}
		oneOf(&fe, "source", source, SourceStaff, SourceSelf, SourceSMS)
		if len(fe) > 0 {
			return nil, errs.Validation(fe...)
		}
		by, name := actor(ctx)
		return s.checkin(ctx, tx, r, &Checkin{Temperature: t, Symptoms: symptoms, Source: source, ByUser: by, ByName: name})
	})
	if err != nil {
		return nil, err
	}
	s.flush(ctx, sent)
	return out, nil
}

// checkin records k on case r: every source's path (staff, the link, an
// SMS reply) ends here.
func (s *Service) checkin(ctx context.Context, tx *store.TenantTx, r *caseRow, k *Checkin) (*CheckinView, error) {
	c, err := orgs.CommunityOf(ctx, tx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	// The id is made at the check-in's instant, which its day is of
	// (checkinsOn bounds a day's lookups by it).
	k.TenantID, k.ID, k.CaseID, k.At, k.LocalDate = tx.Tenant(), store.NewIDAt(now), r.ID, now, c.Day(now)
	fever := k.Temperature >= FeverTemperature || len(k.Symptoms) > 0
	// Updating the case first holds its row, so two check-ins of one day
	// cannot both be its first; a fever puts an eligible case back to
	// active. The status in the WHERE: a case closed meanwhile takes none.
	res, err := tx.Update((*Case)(nil)).Set("updated_at = ?", now).
		Set("status = CASE WHEN ? THEN ? ELSE c.status END", fever, StatusActive).
		Where("c.id = ? AND c.status IN (?, ?)", r.ID, StatusActive, StatusEligible).Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("hold case: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil, errs.Conflict("case_closed", map[string]any{"status": r.Status})
	}
	onDay, dayArgs := checkinsOn(k.LocalDate)
	first, err := tx.Select((*Checkin)(nil)).Where("k.case_id = ? AND k.counts", r.ID).Where(onDay, dayArgs...).Exists(ctx)
	if err != nil {
		return nil, fmt.Errorf("today's check-in: %w", err)
	}
	k.Counts = !first
	if _, err := tx.Insert(k).Exec(ctx); err != nil {
		return nil, fmt.Errorf("record check-in: %w", err)
	}
	v := checkinView(k)
	if err := audit.Record(ctx, tx, audit.ActionCreate, "isolation_checkin", k.ID,
		map[string]any{"case_id": r.ID, "source": k.Source, "temperature": v.Temperature, "symptoms": k.Symptoms}); err != nil {
		return nil, err
	}
	if fever {
		a, err := s.raiseAlert(ctx, tx, r, AlertFever, k.LocalDate, k)
		if err != nil {
			return nil, err
		}
		if a != nil {
			v.AlertID = a.ID
		}
	}
	return &v, nil
}

// raiseAlert files the case's alert of kind for day, unless it has one,
// and sends it at once to the grid's workers and the community's staff.
// It answers nil when the day had the alert already.
func (s *Service) raiseAlert(ctx context.Context, tx *store.TenantTx, r *caseRow, kind, day string, k *Checkin) (*Alert, error) {
	a := &Alert{TenantID: tx.Tenant(), ID: newID(), CaseID: r.ID, Kind: kind, LocalDate: day, Symptoms: []string{},
		Status: AlertOpen, CreatedAt: s.now()}
	if k != nil {
		a.CheckinID, a.Temperature, a.Symptoms = &k.ID, &k.Temperature, k.Symptoms
	}
	res, err := tx.Insert(a).On("CONFLICT (tenant_id, case_id, kind, local_date) DO NOTHING").Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("raise alert: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, nil
	}
	if err := audit.Record(ctx, tx, audit.ActionCreate, "isolation_alert", a.ID, map[string]any{"case_id": r.ID, "kind": kind}); err != nil {
		return nil, err
	}
	phones, err := s.onDuty(ctx, tx, r.GridID)
	if err != nil {
		return nil, err
	}
	args := map[string]any{"name": r.Name, "address": r.Address, "temperature": "", "symptoms": ""}
	if a.Temperature != nil {
		args["temperature"] = strconv.FormatFloat(tenths(*a.Temperature), 'f', 1, 64)
	}
	var names []string
	for _, sy := range a.Symptoms {
		names = append(names, i18n.T(i18n.ZH, "symptom_"+sy, nil))
	}
	args["symptoms"] = strings.Join(names, "、")
	body := i18n.T(i18n.ZH, "isolation_sms_alert_"+kind, args)
	notices := make([]outreach.Notice, 0, len(phones))
	for _, p := range phones {
		notices = append(notices, outreach.Notice{Key: "alert:" + a.ID + ":" + p, Phone: p, Text: body, Urgent: true, Subject: subject(r.ID)})
	}
	return a, s.notify(ctx, tx, notices...)
}

// onDuty are the phones alerts about a resident of grid go to: the grid's
// workers and the community's staff, enabled, with a phone. Users and
// memberships are platform tables (no tenant_id): the read names the
// tenant's own org.
func (s *Service) onDuty(ctx context.Context, tx *store.TenantTx, gridID string) ([]string, error) {
	var slug string
	if err := tx.SelectTable("grids").Column("slug").Where("id = ?", gridID).Scan(ctx, &slug); err != nil && !isNoRows(err) {
		return nil, fmt.Errorf("grid of alert: %w", err)
	}
	var rows []struct {
		Phone string   `bun:"phone"`
		Role  string   `bun:"role"`
		Grids []string `bun:"grids"`
	}
	err := tx.Unscoped().NewSelect().TableExpr("memberships AS m").ColumnExpr("u.phone, m.role, m.grids").
		Join("JOIN users AS u ON u.id = m.user_id").
		Where("m.org_id = ? AND m.role IN (?, ?) AND NOT u.disabled AND u.phone <> ''", tx.Tenant(), authz.RoleCommunityStaff, authz.RoleGridWorker).
		OrderExpr("u.phone").Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("staff on duty: %w", err)
	}
	var out []string
	for _, r := range rows {
		if (r.Role == authz.RoleCommunityStaff || slices.Contains(r.Grids, slug)) && !slices.Contains(out, r.Phone) {
			out = append(out, r.Phone)
		}
	}
	return out, nil
}

// checkinsOf is a case's check-ins, newest first.
func checkinsOf(ctx context.Context, tx *store.TenantTx, caseID string) ([]CheckinView, error) {
	var rows []Checkin
	if err := tx.Select(&rows).Where("k.case_id = ?", caseID).OrderExpr("k.at DESC, k.id DESC").Limit(500).Scan(ctx); err != nil {
		return nil, fmt.Errorf("check-ins of case: %w", err)
	}
	out := make([]CheckinView, 0, len(rows))
	for i := range rows {
		out = append(out, checkinView(&rows[i]))
	}
	return out, nil
}
