package reports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// The sweep's steps, each once per community and day (report_sweeps),
// due from its time for catchUp, so a sweep missed (the scheduler down
// for a while) is made up by the next, and a community made today does
// not get yesterday's:
//
//   - cutoff, from the day's report_cutoff: the live draft as it stands
//     is kept as version 0 (kind cutoff), beside any submission;
//   - reminder, report_reminder_after minutes later: when nothing was
//     submitted, an SMS to each community admin with a phone, keyed
//     "report-reminder:<date>:<phone>" so it goes once.
//
// A step's mark is written in the transaction that does it, so a second
// scheduler (or a slot queued again after Redis forgot it) does nothing.
const (
	stepCutoff   = "cutoff"
	stepReminder = "reminder"
)

// catchUp is how long after its time a step is still taken.
const catchUp = 6 * time.Hour

type sweepMark struct {
	bun.BaseModel `bun:"table:report_sweeps,alias:sw"`
	TenantID      string    `bun:"tenant_id,pk"`
	LocalDate     string    `bun:"local_date,pk"`
	Step          string    `bun:"step,pk"`
	DoneAt        time.Time `bun:"done_at"`
	Items         int       `bun:"items"`
}

// Swept says what one sweep did.
type Swept struct {
	Snapshots int // cut-off snapshots taken
	Reminders int // reminders written (one per admin's phone)
}

type sweepOrg struct {
	bun.BaseModel `bun:"table:orgs"`
	ID            string          `bun:"id"`
	Slug          string          `bun:"slug"`
	Name          string          `bun:"name"`
	Path          string          `bun:"path"`
	Timezone      string          `bun:"timezone"`
	Settings      json.RawMessage `bun:"settings"`
}

// Sweep takes the snapshots and sends the reminders that are due in every
// community, by its own zone and settings (the reports:sweep task, every
// minute). A community whose step fails is logged and the others go on.
func (s *Service) Sweep(ctx context.Context) (Swept, error) {
	now := s.now()
	var out Swept
	var list []sweepOrg
	var done []sweepMark
	err := s.DB.AcrossTenants(ctx, "reports: find the communities whose cut-off snapshot or reminder is due", store.AllTenants,
		func(ctx context.Context, tx bun.Tx) error {
			if err := tx.NewSelect().Model(&list).Column("id", "slug", "name", "path", "timezone", "settings").
				Where("kind = ?", orgs.KindCommunity).Order("id").Scan(ctx); err != nil {
				return fmt.Errorf("communities: %w", err)
			}
			return tx.NewSelect().Model(&done).Column("tenant_id", "local_date", "step").
				Where("local_date >= ?", now.AddDate(0, 0, -3).Format(time.DateOnly)).Scan(ctx)
		})
	if err != nil {
		return out, fmt.Errorf("reports sweep: %w", err)
	}
	marked := make(map[[3]string]bool, len(done))
	for _, m := range done {
		marked[[3]string{m.TenantID, m.LocalDate, m.Step}] = true
	}
	var failed []error
	for _, o := range list {
		c := orgRow{ID: o.ID, Slug: o.Slug, Name: o.Name, Timezone: o.Timezone, Settings: o.Settings}.community()
		local := now.In(c.Loc)
		for _, day := range []string{local.AddDate(0, 0, -1).Format(time.DateOnly), local.Format(time.DateOnly)} {
			at := cutoffAt(day, c.Loc, c.Settings)
			for _, st := range []struct {
				name string
				from time.Time
			}{{stepCutoff, at}, {stepReminder, at.Add(time.Duration(c.Settings.ReminderAfter()) * time.Minute)}} {
				if now.Before(st.from) || !now.Before(st.from.Add(catchUp)) || marked[[3]string{o.ID, day, st.name}] {
					continue
				}
				if err := s.runStep(ctx, o, c, st.name, day, now, &out); err != nil {
					if s.Logger != nil {
						s.Logger.Warn("reports: sweep step failed; the next sweep tries again", "community", o.Slug, "step", st.name, "err", err)
					}
					failed = append(failed, fmt.Errorf("reports sweep of %s, %s %s: %w", o.Slug, st.name, day, err))
				}
			}
		}
	}
	return out, errors.Join(failed...)
}

// runStep runs one step of a community's day in its own transaction,
// after writing its mark: a mark already there ends it with nothing done.
func (s *Service) runStep(ctx context.Context, o sweepOrg, c orgs.Community, step, day string, now time.Time, out *Swept) error {
	tctx := audit.InOrg(scope.With(ctx, scope.Tenant{TenantID: o.ID}), o.Slug, o.Path)
	var notices []outreach.Notice
	var got Swept
	err := s.DB.InTenantTx(tctx, func(ctx context.Context, tx *store.TenantTx) error {
		notices, got = nil, Swept{}
		mark := &sweepMark{TenantID: tx.Tenant(), LocalDate: day, Step: step, DoneAt: now}
		res, err := tx.Insert(mark).On("CONFLICT (tenant_id, local_date, step) DO NOTHING").Exec(ctx)
		if err != nil {
			return fmt.Errorf("mark step: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // done already
		}
		n := 0
		switch step {
		case stepCutoff:
			n, err = s.snapshot(ctx, tx, day, now)
			got.Snapshots = n
		case stepReminder:
			notices, err = s.remind(ctx, tx, c, day)
			n = len(notices)
			got.Reminders = n
		}
		if err != nil || n == 0 {
			return err
		}
		mark.Items = n
		_, err = tx.Update(mark).Column("items").WherePK().Exec(ctx)
		return err
	})
	if err != nil {
		return err
	}
	out.Snapshots += got.Snapshots
	out.Reminders += got.Reminders
	if s.Notify != nil && len(notices) > 0 {
		if err := s.Notify.NotifyTasks(tctx, notices...); err != nil && s.Logger != nil {
			s.Logger.Warn("reports: reminders written but not queued; the reconciler will queue them", "err", err)
		}
	}
	return nil
}

// snapshot keeps the live draft of day as version 0 (kind cutoff).
func (s *Service) snapshot(ctx context.Context, tx *store.TenantTx, day string, now time.Time) (int, error) {
	figures, manual, err := s.draftOf(ctx, tx, day)
	if err != nil {
		return 0, err
	}
	r := &row{TenantID: tx.Tenant(), Date: day, Version: 0, Kind: KindCutoff, Figures: figures, Manual: manual, At: now}
	res, err := tx.Insert(r).On("CONFLICT (tenant_id, date, version) DO NOTHING").Exec(ctx)
	if err != nil {
		return 0, wrap("cut-off snapshot", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// remind writes the reminder to each enabled community admin with a
// phone, unless day's report was submitted. Users and memberships are
// platform tables: the read names the tenant's own org.
func (s *Service) remind(ctx context.Context, tx *store.TenantTx, c orgs.Community, day string) ([]outreach.Notice, error) {
	if done, err := submitted(ctx, tx, day); err != nil || done {
		return nil, err
	}
	var phones []string
	err := tx.Unscoped().NewSelect().TableExpr("memberships AS m").ColumnExpr("DISTINCT u.phone").
		Join("JOIN users AS u ON u.id = m.user_id").
		Where("m.org_id = ? AND m.role = ? AND NOT u.disabled AND u.phone <> ''", tx.Tenant(), authz.RoleCommunityAdmin).
		OrderExpr("u.phone").Scan(ctx, &phones)
	if err != nil {
		return nil, wrap("community admins", err)
	}
	phones = slices.Compact(phones)
	if len(phones) == 0 || s.Notify == nil {
		return nil, nil
	}
	text := i18n.T(i18n.ZH, "reports_sms_reminder", map[string]any{"org": c.Name, "date": day, "cutoff": cutoffOf(c.Settings)})
	notices := make([]outreach.Notice, len(phones))
	for i, p := range phones {
		notices[i] = outreach.Notice{Key: "report-reminder:" + day + ":" + p, Phone: p, Text: text, Subject: "report:" + day}
	}
	if _, err := s.Notify.Notify(ctx, tx, notices...); err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	return notices, nil
}
