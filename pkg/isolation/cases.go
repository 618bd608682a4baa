package isolation

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/screening"
	"github.com/wanjia/wanjia/pkg/store"
)

// CaseInput opens a case for one resident.
type CaseInput struct {
	ResidentID string `json:"resident_id"`
	Kind       string `json:"kind"`
	StartDate  string `json:"start_date"` // "": today
	Days       *int   `json:"days"`       // nil: the community's isolation_days
	Reason     string `json:"reason"`
	// CheckinChannel: "sms" (the default: the link by SMS) or "voice" (a
	// keypad check-in call each day).
	CheckinChannel string `json:"checkin_channel"`
}

// FollowUpCasesInput opens the cases of a follow-up's household.
type FollowUpCasesInput struct {
	Kind        string   `json:"kind"`
	StartDate   string   `json:"start_date"`
	Days        *int     `json:"days"`
	Reason      string   `json:"reason"`
	ResidentIDs []string `json:"resident_ids"` // none: the household's live residents
	// CheckinChannel as CaseInput's.
	CheckinChannel string `json:"checkin_channel"`
}

// CaseView is a case as the API shows it. One case opened (Get) also
// carries its check-ins, alerts and support requests.
type CaseView struct {
	ID          string `json:"id"`
	ResidentID  string `json:"resident_id"`
	HouseholdID string `json:"household_id"`
	Name        string `json:"name"`
	Phone       string `json:"phone"`
	Address     string `json:"address"`
	Grid        string `json:"grid"`
	Kind        string `json:"kind"`
	StartDate   string `json:"start_date"`
	Days        int    `json:"days"`
	EndDate     string `json:"end_date"`
	Reason      string `json:"reason"`
	// CheckinChannel: sms or voice (a keypad check-in call each day).
	CheckinChannel string    `json:"checkin_channel"`
	Status         string    `json:"status"`
	EndReason      string    `json:"end_reason,omitempty"`
	ClosedOn       string    `json:"closed_on,omitempty"`
	Diagnosis      string    `json:"diagnosis,omitempty"`
	DiagnosedOn    string    `json:"diagnosed_on,omitempty"`
	FollowUpID     string    `json:"follow_up_id,omitempty"`
	CheckinURL     string    `json:"checkin_url,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`

	Checkins []CheckinView         `json:"checkins,omitempty"`
	Messages []outreach.NoticeView `json:"messages,omitempty"`
	Alerts   []AlertView           `json:"alerts,omitempty"`
	Support  []SupportView         `json:"support_requests,omitempty"`
}

type caseRow struct {
	Case    `bun:",extend"`
	Name    string `bun:"name"`
	Phone   string `bun:"phone"`
	GridID  string `bun:"grid_id"`
	Address string `bun:"address"`
}

func caseView(r *caseRow, g *scope.Grids, v scope.View) CaseView {
	out := CaseView{ID: r.ID, ResidentID: r.ResidentID, HouseholdID: r.HouseholdID, Name: r.Name, Phone: v.Phone(r.Phone),
		Address: r.Address, Grid: g.Slug(r.GridID), Kind: r.Kind, StartDate: r.StartDate, Days: r.Days, EndDate: r.EndDate,
		Reason: r.Reason, CheckinChannel: r.CheckinChannel, Status: r.Status, EndReason: r.EndReason, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if out.CheckinChannel == "" {
		out.CheckinChannel = ChannelSMS
	}
	for dst, src := range map[*string]*string{&out.ClosedOn: r.ClosedOn, &out.Diagnosis: r.Diagnosis, &out.DiagnosedOn: r.DiagnosedOn, &out.FollowUpID: r.FollowUpID} {
		if src != nil {
			*dst = *src
		}
	}
	return out
}

// selectCases is the cases joined with their residents and households,
// narrowed to the caller's grids.
func selectCases(tx *store.TenantTx, g *scope.Grids, dst any) *bun.SelectQuery {
	q := tx.Select(dst).ColumnExpr("c.*, r.name, r.phone, r.grid_id, h.address").
		Join("JOIN residents AS r ON r.tenant_id = c.tenant_id AND r.id = c.resident_id").
		Join("JOIN households AS h ON h.tenant_id = c.tenant_id AND h.id = c.household_id")
	return g.Limit(q, "r.grid_id")
}

// loadCase loads one case the caller may see: another community's,
// another grid's and none at all are the same 404.
func loadCase(ctx context.Context, tx *store.TenantTx, g *scope.Grids, id string) (*caseRow, error) {
	r := new(caseRow)
	err := selectCases(tx, g, r).Where("c.id = ?", id).Scan(ctx)
	if isNoRows(err) {
		return nil, notFound()
	}
	if err != nil {
		return nil, fmt.Errorf("load case: %w", err)
	}
	return r, nil
}

// opened is what a create stores for a retry: the views, and each link
// sealed (never the token in clear, which the idempotency row would keep
// for a day); the link is rendered after.
type opened struct {
	Cases  []CaseView `json:"cases"`
	Sealed [][]byte   `json:"sealed"`
}

// withLinks fills each case's checkin_url from its sealed token.
func (s *Service) withLinks(o opened) ([]CaseView, error) {
	for i := range o.Cases {
		tok, err := s.Links.Open(o.Sealed[i], []byte(o.Cases[i].ID))
		if err != nil {
			return nil, fmt.Errorf("open the link of case %s: %w", o.Cases[i].ID, err)
		}
		o.Cases[i].CheckinURL = s.linkURL(string(tok))
	}
	return o.Cases, nil
}

func (s *Service) linkURL(token string) string { return s.BaseURL + "/r/" + token }

// newToken is a resident's link token (32 random bytes, base64url: 43
// characters) and the hex SHA-256 it is looked up by.
func newToken() (token, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand does not fail on supported platforms
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken is the lookup key of a link token.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// CreateCase opens a case for one resident and sends them their link.
// Posted twice with the same Idempotency-Key, it opens one.
func (s *Service) CreateCase(ctx context.Context, in CaseInput) (*CaseView, error) {
	ctx, sent := collect(ctx)
	o, err := scope.Once(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (opened, error) {
		c, err := orgs.CommunityOf(ctx, tx)
		if err != nil {
			return opened{}, err
		}
		var fe []errs.FieldError
		p := s.plan(&fe, c, in.Kind, in.StartDate, in.Days, &in.Reason)
		p.channel = checkinChannel(&fe, in.CheckinChannel)
		r, err := resident(ctx, tx, g, "resident_id", in.ResidentID)
		if err != nil {
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind != errs.KindValidation {
				return opened{}, err
			}
			fe = append(fe, e.Fields...)
		}
		if len(fe) > 0 {
			return opened{}, errs.Validation(fe...)
		}
		return s.open(ctx, tx, g, c, p, []*residentRow{r}, nil)
	})
	if err != nil {
		return nil, err
	}
	s.flush(ctx, sent)
	cases, err := s.withLinks(o)
	if err != nil {
		return nil, err
	}
	return &cases[0], nil
}

// CasesFromFollowUp opens the cases of a screening follow-up's household
// (its live residents, or those named) and makes the follow-up a case, in
// one transaction. A follow-up that is not open is a 409.
func (s *Service) CasesFromFollowUp(ctx context.Context, followUpID string, in FollowUpCasesInput) ([]CaseView, error) {
	ctx, sent := collect(ctx)
	o, err := scope.Once(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (opened, error) {
		c, err := orgs.CommunityOf(ctx, tx)
		if err != nil {
			return opened{}, err
		}
		var out opened
		// The follow-up first (ToCase): another grid's or community's is a
		// 404 whatever the body says; a refusal after rolls its claim back.
		err = screening.ToCase(ctx, tx, g, followUpID, s.now(), func(householdID, _ string) (string, error) {
			var fe []errs.FieldError
			p := s.plan(&fe, c, in.Kind, in.StartDate, in.Days, &in.Reason)
			p.channel = checkinChannel(&fe, in.CheckinChannel)
			if len(in.ResidentIDs) > 50 {
				fe = append(fe, errs.Field("resident_ids", "too_many_entries", map[string]any{"max": 50}))
			}
			if len(fe) > 0 {
				return "", errs.Validation(fe...)
			}
			rs, err := s.householdResidents(ctx, tx, g, householdID, in.ResidentIDs)
			if err != nil {
				return "", err
			}
			out, err = s.open(ctx, tx, g, c, p, rs, &followUpID)
			if err != nil {
				return "", err
			}
			return out.Cases[0].ID, nil
		})
		return out, err
	})
	if err != nil {
		return nil, err
	}
	s.flush(ctx, sent)
	return s.withLinks(o)
}

// householdResidents are the residents of a household cases open for:
// those named (each must live there), or all its live residents.
func (s *Service) householdResidents(ctx context.Context, tx *store.TenantTx, g *scope.Grids, householdID string, ids []string) ([]*residentRow, error) {
	var rows []residentRow
	q := tx.SelectAs("residents", "r").ColumnExpr("r.id, r.household_id, r.grid_id, r.name, r.phone, h.address").
		Join("JOIN households AS h ON h.tenant_id = r.tenant_id AND h.id = r.household_id").
		Where("r.household_id = ? AND r.deleted_at IS NULL", householdID).OrderExpr("r.id")
	if err := q.Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("household's residents: %w", err)
	}
	byID := make(map[string]*residentRow, len(rows))
	for i := range rows {
		byID[rows[i].ID] = &rows[i]
	}
	var out []*residentRow
	if len(ids) == 0 {
		for i := range rows {
			out = append(out, &rows[i])
		}
		if len(out) == 0 {
			return nil, errs.Validation(errs.Field("resident_ids", "household_has_no_residents", nil))
		}
		return out, nil
	}
	seen := map[string]bool{}
	for i, id := range ids {
		r, ok := byID[id]
		if !ok || !g.May(r.GridID) {
			return nil, errs.Validation(errs.Field(fmt.Sprintf("resident_ids[%d]", i), "unknown_resident", nil))
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, r)
		}
	}
	return out, nil
}

// plan is a case's validated kind, dates and reason.
type plan struct {
	kind, start, end, reason string
	channel                  string
	days                     int
	today                    string
}

// checkinChannel validates a case's check-in channel ("": sms).
func checkinChannel(fe *[]errs.FieldError, v string) string {
	if v == "" {
		return ChannelSMS
	}
	oneOf(fe, "checkin_channel", v, ChannelSMS, ChannelVoice)
	return v
}

func (s *Service) plan(fe *[]errs.FieldError, c orgs.Community, kind, start string, days *int, reason *string) plan {
	p := plan{kind: kind, today: c.Day(s.now()), days: c.Settings.IsolationDays}
	oneOf(fe, "kind", kind, Kinds...)
	p.start = start
	if p.start == "" {
		p.start = p.today
	}
	t, err := time.Parse(time.DateOnly, p.start)
	switch {
	case err != nil:
		*fe = append(*fe, errs.Field("start_date", "invalid_date", nil))
	case p.start > p.today:
		*fe = append(*fe, errs.Field("start_date", "date_in_future", nil))
	}
	if days != nil {
		p.days = *days
	}
	if p.days < 1 || p.days > 60 {
		*fe = append(*fe, errs.Field("days", "out_of_range", map[string]any{"min": 1, "max": 60}))
	}
	if err == nil {
		p.end = t.AddDate(0, 0, p.days).Format(time.DateOnly)
	}
	text(fe, "reason", reason, 200)
	p.reason = *reason
	return p
}

// open writes a case per resident, each with its link, and sends each
// resident their link. A resident with a live case already is a 409.
func (s *Service) open(ctx context.Context, tx *store.TenantTx, g *scope.Grids, c orgs.Community, p plan, rs []*residentRow, followUpID *string) (opened, error) {
	if s.Links == nil {
		return opened{}, errors.New("isolation: no box to seal residents' links")
	}
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	var live []struct {
		ID         string `bun:"id"`
		ResidentID string `bun:"resident_id"`
	}
	if err := tx.Select((*Case)(nil)).Column("id", "resident_id").
		Where("c.resident_id IN (?) AND c.status IN (?, ?)", bun.List(ids), StatusActive, StatusEligible).Scan(ctx, &live); err != nil {
		return opened{}, fmt.Errorf("live cases: %w", err)
	}
	if len(live) > 0 {
		// The residents are the caller's to see (resident() and
		// householdResidents checked their grids), and so are their cases.
		return opened{}, errs.Conflict("case_already_open", map[string]any{"case_id": live[0].ID}).
			WithData("case_id", live[0].ID).WithData("resident_id", live[0].ResidentID)
	}
	by, _ := actor(ctx)
	now := s.now()
	var out opened
	for _, r := range rs {
		token, hash := newToken()
		cs := &Case{TenantID: tx.Tenant(), ID: newID(), ResidentID: r.ID, HouseholdID: r.HouseholdID, Kind: p.kind,
			StartDate: p.start, Days: p.days, EndDate: p.end, Reason: p.reason, CheckinChannel: p.channel, Status: StatusActive, FollowUpID: followUpID,
			LinkHash: &hash, CreatedBy: by, CreatedAt: now, UpdatedAt: now}
		cs.LinkSealed = s.Links.Seal([]byte(token), []byte(cs.ID))
		if _, err := tx.Insert(cs).Exec(ctx); err != nil {
			if store.IsUniqueViolation(err) {
				return opened{}, errs.Conflict("case_already_open", nil)
			}
			return opened{}, fmt.Errorf("open case: %w", err)
		}
		details := map[string]any{"resident_id": r.ID, "kind": p.kind, "start_date": p.start, "end_date": p.end, "checkin_channel": p.channel}
		if followUpID != nil {
			details["follow_up_id"] = *followUpID
		}
		if err := audit.Record(ctx, tx, audit.ActionCreate, "isolation_case", cs.ID, details); err != nil {
			return opened{}, err
		}
		if r.Phone != "" {
			body := i18n.T(i18n.ZH, "isolation_sms_link", map[string]any{"name": r.Name, "end_date": p.end, "url": s.linkURL(token)})
			if err := s.notify(ctx, tx, outreach.Notice{Key: "link:" + cs.ID, Phone: r.Phone, Text: body, ResidentID: r.ID, Subject: subject(cs.ID)}); err != nil {
				return opened{}, err
			}
		}
		row := &caseRow{Case: *cs, Name: r.Name, Phone: r.Phone, GridID: r.GridID, Address: r.Address}
		out.Cases = append(out.Cases, caseView(row, g, scope.ViewOf(ctx)))
		out.Sealed = append(out.Sealed, cs.LinkSealed)
	}
	return out, nil
}

// ListCases lists cases, oldest first; filters status and grid.
func (s *Service) ListCases(ctx context.Context, f Filter) ([]CaseView, string, error) {
	p, err := scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (store.Page[CaseView], error) {
		var none store.Page[CaseView]
		rows := store.PageRows[caseRow](f.Limit)
		q := selectCases(tx, g, &rows)
		switch f.Status {
		case "":
		case StatusActive, StatusEligible, StatusReleased, StatusEnded:
			q = q.Where("c.status = ?", f.Status)
		default:
			return none, errs.Validation(errs.Field("status", "one_of", map[string]any{"allowed": "active, eligible, released, ended"}))
		}
		if f.Grid != "" {
			id, ok := g.Resolve(f.Grid)
			if !ok {
				return none, errs.Validation(errs.Field("grid", "unknown_grid", map[string]any{"grid": f.Grid}))
			}
			q = q.Where("r.grid_id = ?", id)
		}
		if err := store.Keyset(q, "c.id", f.Cursor, f.Limit).Scan(ctx); err != nil {
			return none, fmt.Errorf("list cases: %w", err)
		}
		page := store.NextPage(rows, f.Limit, func(r *caseRow) string { return r.ID })
		v := scope.ViewOf(ctx)
		out := make([]CaseView, 0, len(page.Items))
		ids := make([]string, 0, len(page.Items))
		for i := range page.Items {
			out = append(out, caseView(&page.Items[i], g, v))
			ids = append(ids, page.Items[i].ID)
		}
		if err := scope.RecordRead(ctx, s.Reads, s.DB, scope.Seen{Resource: "isolation_cases", IDs: ids,
			Filters: map[string]any{"status": f.Status, "grid": f.Grid}}); err != nil {
			return none, err
		}
		return store.Page[CaseView]{Items: out, Next: page.Next}, nil
	})
	return p.Items, p.Next, err
}

// GetCase is one case with its check-ins, alerts and support requests.
func (s *Service) GetCase(ctx context.Context, id string) (*CaseView, error) {
	v, err := scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*CaseView, error) {
		r, err := loadCase(ctx, tx, g, id)
		if err != nil {
			return nil, err
		}
		v := caseView(r, g, scope.ViewOf(ctx))
		if v.Checkins, err = checkinsOf(ctx, tx, id); err != nil {
			return nil, err
		}
		if v.Alerts, err = alertsOf(ctx, tx, id); err != nil {
			return nil, err
		}
		if v.Support, err = s.supportOf(ctx, tx, g, id); err != nil {
			return nil, err
		}
		if err := scope.RecordRead(ctx, s.Reads, s.DB, scope.Seen{Resource: "isolation_case", ID: id}); err != nil {
			return nil, err
		}
		return &v, nil
	})
	if err != nil || s.Notify == nil {
		return v, err
	}
	// The messages sent about the case, from outreach's outbox (a read of
	// its own, recorded there).
	if v.Messages, err = s.Notify.MessagesAbout(ctx, subject(id)); err != nil {
		return nil, err
	}
	return v, nil
}

// CasePatch records a diagnosis or ends a case early.
type CasePatch struct {
	Diagnosis *string `json:"diagnosis"`
	Status    *string `json:"status"` // only "ended", with a reason
	Reason    *string `json:"reason"`
	// CheckinChannel switches a live case's daily reminder between sms
	// and voice.
	CheckinChannel *string `json:"checkin_channel"`
}

// UpdateCase records a diagnosis (dated, audited) or ends a live case with
// a reason (hospital, central quarantine, moved away); an ended case's
// link dies with it.
func (s *Service) UpdateCase(ctx context.Context, id string, p CasePatch) (*CaseView, error) {
	return scope.Run(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*CaseView, error) {
		r, err := loadCase(ctx, tx, g, id)
		if err != nil {
			return nil, err
		}
		c, err := orgs.CommunityOf(ctx, tx)
		if err != nil {
			return nil, err
		}
		now := s.now()
		today := c.Day(now)
		by, _ := actor(ctx)
		var fe []errs.FieldError
		details := map[string]any{}
		cols := []string{"updated_at"}
		if p.Diagnosis == nil && p.Status == nil && p.CheckinChannel == nil {
			fe = append(fe, errs.Field("diagnosis", "required", nil))
		}
		if p.CheckinChannel != nil && oneOf(&fe, "checkin_channel", *p.CheckinChannel, ChannelSMS, ChannelVoice) {
			details["checkin_channel"], details["previous_checkin_channel"] = *p.CheckinChannel, r.CheckinChannel
			r.CheckinChannel = *p.CheckinChannel
			cols = append(cols, "checkin_channel")
		}
		if p.Diagnosis != nil && oneOf(&fe, "diagnosis", *p.Diagnosis, DiagnosisSuspected, DiagnosisConfirmed, DiagnosisExcluded) {
			details["diagnosis"], details["previous_diagnosis"] = *p.Diagnosis, r.Diagnosis
			r.Diagnosis, r.DiagnosedOn, r.DiagnosedBy = p.Diagnosis, &today, &by
			cols = append(cols, "diagnosis", "diagnosed_on", "diagnosed_by")
		}
		if p.Status != nil {
			reason := ""
			if p.Reason != nil {
				reason = *p.Reason
			}
			text(&fe, "reason", &reason, 200)
			if oneOf(&fe, "status", *p.Status, StatusEnded) && reason == "" {
				fe = append(fe, errs.Field("reason", "required", nil))
			}
			if len(fe) == 0 && !r.live() {
				return nil, errs.Conflict("case_closed", map[string]any{"status": r.Status})
			}
			r.Status, r.EndReason, r.ClosedOn, r.ClosedBy, r.ClosedAt = StatusEnded, reason, &today, &by, &now
			r.LinkHash, r.LinkSealed = nil, nil
			cols = append(cols, "status", "end_reason", "closed_on", "closed_by", "closed_at", "link_hash", "link_sealed")
			details["status"], details["reason"] = StatusEnded, reason
		}
		if len(fe) > 0 {
			return nil, errs.Validation(fe...)
		}
		r.UpdatedAt = now
		if _, err := tx.Update(&r.Case).Column(cols...).WherePK().Exec(ctx); err != nil {
			return nil, fmt.Errorf("update case: %w", err)
		}
		if err := audit.Record(ctx, tx, audit.ActionUpdate, "isolation_case", r.ID, details); err != nil {
			return nil, err
		}
		v := caseView(r, g, scope.ViewOf(ctx))
		return &v, nil
	})
}

// ReleaseInput asks for a release; before the end date only a community
// admin may force one, with a reason.
type ReleaseInput struct {
	Force  bool   `json:"force"`
	Reason string `json:"reason"`
}

// Release ends a live case as released, from its end date on (before it,
// 409 unless a community admin forces it with a reason; 403 for anyone
// else forcing), and sends the resident the release notice.
func (s *Service) Release(ctx context.Context, id string, in ReleaseInput) (*CaseView, error) {
	ctx, sent := collect(ctx)
	out, err := scope.Run(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*CaseView, error) {
		r, err := loadCase(ctx, tx, g, id)
		if err != nil {
			return nil, err
		}
		c, err := orgs.CommunityOf(ctx, tx)
		if err != nil {
			return nil, err
		}
		if !r.live() {
			return nil, errs.Conflict("case_closed", map[string]any{"status": r.Status})
		}
		now := s.now()
		today := c.Day(now)
		var fe []errs.FieldError
		text(&fe, "reason", &in.Reason, 200)
		if len(fe) > 0 {
			return nil, errs.Validation(fe...)
		}
		early := today < r.EndDate
		if early {
			if !in.Force {
				return nil, errs.Conflict("release_before_end", map[string]any{"end_date": r.EndDate})
			}
			if caller, _ := authz.CallerFrom(ctx); caller.Role != authz.RoleCommunityAdmin {
				return nil, errs.New(errs.KindForbidden, "release_force_admin_only", nil)
			}
			if in.Reason == "" {
				return nil, errs.Validation(errs.Field("reason", "required", nil))
			}
		}
		by, _ := actor(ctx)
		r.Status, r.ClosedOn, r.ClosedBy, r.ClosedAt, r.UpdatedAt = StatusReleased, &today, &by, &now, now
		r.LinkHash, r.LinkSealed = nil, nil
		if early {
			r.EndReason = in.Reason
		}
		// The status in the WHERE: two releases at once release once.
		res, err := tx.Update(&r.Case).Column("status", "end_reason", "closed_on", "closed_by", "closed_at", "link_hash", "link_sealed", "updated_at").
			WherePK().Where("c.status IN (?, ?)", StatusActive, StatusEligible).Exec(ctx)
		if err != nil {
			return nil, fmt.Errorf("release case: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil, errs.Conflict("case_closed", map[string]any{"status": StatusReleased})
		}
		if err := audit.Record(ctx, tx, audit.ActionUpdate, "isolation_case", r.ID,
			map[string]any{"status": StatusReleased, "forced": early, "reason": r.EndReason}); err != nil {
			return nil, err
		}
		if r.Phone != "" {
			body := i18n.T(i18n.ZH, "isolation_sms_released", map[string]any{"name": r.Name, "date": today})
			if err := s.notify(ctx, tx, outreach.Notice{Key: "release:" + r.ID, Phone: r.Phone, Text: body, ResidentID: r.ResidentID, Subject: subject(r.ID)}); err != nil {
				return nil, err
			}
		}
		v := caseView(r, g, scope.ViewOf(ctx))
		return &v, nil
	})
	if err != nil {
		return nil, err
	}
	s.flush(ctx, sent)
	return out, nil
}
