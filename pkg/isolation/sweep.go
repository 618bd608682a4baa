package isolation

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

// The sweep's daily steps, each run once per community and local day
// (isolation_sweeps), in this order:
//
//   - eligible, from 00:00: active cases at or past their end date with no
//     fever alert (a fever or any symptom) in the last 3 days become
//     eligible, and so appear on the release list;
//   - reminders, from checkin_reminder_at until checkin_deadline: the
//     check-in reminder with the link to those not checked in today (a
//     keypad check-in call instead, voice.go, for a case whose channel is
//     voice or whose resident has no mobile number), and
//     the release reminder to the resident and the grid's workers the day
//     before the end date;
//   - missed, from checkin_deadline: a missed_checkin alert for each case
//     without a check-in today, sent at once to the grid's workers and the
//     community's staff;
//   - retention, from 00:00: closed cases past isolation_retention_days
//     lose their personal data (retention.go).
//
// A step is due from its local time until the end of its window, so a
// sweep missed (the scheduler down for ten minutes) is made up by the
// next; a step's mark is written in the transaction that does its work,
// so the work is done once whatever the number of schedulers, and a
// flushed Redis (which forgets the periodic slots' ids) changes nothing.
// Each notice has a key besides ("checkin:<case>:<date>",
// "release-reminder:<case>", "release-reminder:<case>:<phone>",
// "alert:<alert>:<phone>"), so a step done twice would send nothing twice.
const (
	stepEligible  = "eligible"
	stepReminders = "reminders"
	stepMissed    = "missed"
	stepRetention = "retention"
)

// feverWindow is how many days before the day of eligibility a fever or a
// symptom holds a case back (the day itself counts too).
const feverWindow = 3

// sweepMark records a step done for a community's local day.
type sweepMark struct {
	bun.BaseModel `bun:"table:isolation_sweeps,alias:sw"`
	TenantID      string    `bun:"tenant_id,pk"`
	LocalDate     string    `bun:"local_date,pk"`
	Step          string    `bun:"step,pk"`
	DoneAt        time.Time `bun:"done_at"`
	Items         int       `bun:"items"`
}

// Swept says what one sweep did, over every community.
type Swept struct {
	Steps            int // steps run (not found done)
	Eligible         int // cases made eligible
	Reminders        int // check-in reminders written (SMS)
	Calls            int // keypad check-in calls written (voice)
	ReleaseReminders int // release reminders written (residents and workers)
	Missed           int // missed_checkin alerts raised
	Purged           int // closed cases whose personal data went
}

// sweepOrg is a community as the sweep needs it.
type sweepOrg struct {
	bun.BaseModel `bun:"table:orgs"`
	ID            string          `bun:"id"`
	Slug          string          `bun:"slug"`
	Path          string          `bun:"path"`
	Timezone      string          `bun:"timezone"`
	Settings      json.RawMessage `bun:"settings"`
}

// step is one of a community's daily steps and its local window.
type step struct {
	name        string
	from, until string // "HH:MM"; until is exclusive, "24:00" the day's end
	run         func(ctx context.Context, tx *store.TenantTx, c orgs.Community, day sweepDay, out *Swept) (int, error)
}

// sweepDay is the community's local day being swept.
type sweepDay struct {
	now              time.Time // UTC
	today, yesterday string
	tomorrow         string
}

func (s *Service) steps(c orgs.Community) []step {
	remind, deadline := c.Settings.ReminderAt(), c.Settings.Deadline()
	until := deadline
	if until <= remind {
		until = "24:00"
	}
	return []step{
		{stepEligible, "00:00", "24:00", s.sweepEligible},
		{stepReminders, remind, until, s.sweepReminders},
		{stepMissed, deadline, "24:00", s.sweepMissed},
		{stepRetention, "00:00", "24:00", s.sweepRetention},
	}
}

// Sweep runs the daily steps that are due in every community, by each
// community's local time (the isolation:sweep task, every minute). A
// community whose step fails is logged and the others go on; the error
// returned joins the failures.
func (s *Service) Sweep(ctx context.Context) (Swept, error) { return s.sweep(ctx, false) }

// sweep is Sweep; blind takes no step for done on the marks read at the
// start (a scheduler that read them just before another committed its
// steps), leaving each step's own mark, in its transaction, to decide.
func (s *Service) sweep(ctx context.Context, blind bool) (Swept, error) {
	now := s.now()
	var out Swept
	var list []sweepOrg
	var done []sweepMark
	err := s.DB.AcrossTenants(ctx, "isolation: find the communities whose daily steps are due", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewSelect().Model(&list).Column("id", "slug", "path", "timezone", "settings").
			Where("kind = ?", orgs.KindCommunity).Order("id").Scan(ctx); err != nil {
			return fmt.Errorf("communities: %w", err)
		}
		// Every zone's today is within a day of UTC's.
		return tx.NewSelect().Model(&done).Column("tenant_id", "local_date", "step").
			Where("local_date >= ?", now.AddDate(0, 0, -2).Format(time.DateOnly)).Scan(ctx)
	})
	if err != nil {
		return out, fmt.Errorf("isolation sweep: %w", err)
	}
	marked := make(map[[3]string]bool, len(done))
	for _, m := range done {
		if blind {
			break
		}
		marked[[3]string{m.TenantID, m.LocalDate, m.Step}] = true
	}
	var failed []error
	for _, o := range list {
		c := orgs.Community{Loc: time.UTC, Settings: orgs.DefaultSettings()}
		if loc, err := time.LoadLocation(o.Timezone); err == nil {
			c.Loc = loc
		}
		if len(o.Settings) > 0 {
			if err := json.Unmarshal(o.Settings, &c.Settings); err != nil {
				failed = append(failed, fmt.Errorf("isolation sweep of %s: settings: %w", o.Slug, err))
				continue
			}
		}
		local := now.In(c.Loc)
		day := sweepDay{now: now, today: local.Format(time.DateOnly),
			yesterday: local.AddDate(0, 0, -1).Format(time.DateOnly), tomorrow: local.AddDate(0, 0, 1).Format(time.DateOnly)}
		hm := local.Format("15:04")
		for _, st := range s.steps(c) {
			if hm < st.from || hm >= st.until || marked[[3]string{o.ID, day.today, st.name}] {
				continue
			}
			if err := s.runStep(ctx, o, c, st, day, &out); err != nil {
				if s.Logger != nil {
					s.Logger.Warn("isolation: sweep step failed; the next sweep tries again", "community", o.Slug, "step", st.name, "err", err)
				}
				failed = append(failed, fmt.Errorf("isolation sweep of %s, %s: %w", o.Slug, st.name, err))
			}
		}
	}
	return out, errors.Join(failed...)
}

// runStep runs one step in the community's own transaction, after writing
// its mark: a mark already there (another scheduler did the step, or is
// doing it and holds the mark's row until it commits) ends the step with
// nothing done. The notices the step wrote are queued after the commit.
func (s *Service) runStep(ctx context.Context, o sweepOrg, c orgs.Community, st step, day sweepDay, out *Swept) error {
	tctx := audit.InOrg(scope.With(ctx, scope.Tenant{TenantID: o.ID}), o.Slug, o.Path)
	tctx, sent := collect(tctx)
	var got Swept
	err := s.DB.InTenantTx(tctx, func(ctx context.Context, tx *store.TenantTx) error {
		got = Swept{}
		mark := &sweepMark{TenantID: tx.Tenant(), LocalDate: day.today, Step: st.name, DoneAt: day.now}
		res, err := tx.Insert(mark).On("CONFLICT (tenant_id, local_date, step) DO NOTHING").Exec(ctx)
		if err != nil {
			return fmt.Errorf("mark step: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // done already
		}
		got.Steps = 1
		n, err := st.run(ctx, tx, c, day, &got)
		if err != nil {
			return err
		}
		if n > 0 {
			mark.Items = n
			if _, err := tx.Update(mark).Column("items").WherePK().Exec(ctx); err != nil {
				return fmt.Errorf("mark step: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	out.Steps += got.Steps
	out.Eligible += got.Eligible
	out.Reminders += got.Reminders
	out.Calls += got.Calls
	out.ReleaseReminders += got.ReleaseReminders
	out.Missed += got.Missed
	out.Purged += got.Purged
	s.flush(tctx, sent)
	return nil
}

// sweepEligible makes eligible the active cases at or past their end
// date with no fever alert (a fever or any symptom) in the window: one
// statement for the community.
func (s *Service) sweepEligible(ctx context.Context, tx *store.TenantTx, c orgs.Community, day sweepDay, out *Swept) (int, error) {
	t, _ := time.Parse(time.DateOnly, day.today)
	from := t.AddDate(0, 0, -feverWindow).Format(time.DateOnly)
	var ids []string
	err := tx.Update((*Case)(nil)).Set("status = ?, updated_at = ?", StatusEligible, day.now).
		Where("c.status = ? AND c.end_date <= ?", StatusActive, day.today).
		Where(`NOT EXISTS (SELECT 1 FROM isolation_alerts AS al WHERE al.tenant_id = c.tenant_id AND al.case_id = c.id
			AND al.kind = ? AND al.local_date >= ?)`, AlertFever, from).
		Returning("id").Scan(ctx, &ids)
	if err != nil && !isNoRows(err) {
		return 0, fmt.Errorf("eligible cases: %w", err)
	}
	out.Eligible = len(ids)
	if len(ids) == 0 {
		return 0, nil
	}
	slices.Sort(ids)
	return len(ids), audit.Record(ctx, tx, audit.ActionUpdate, "isolation_case", "sweep",
		map[string]any{"status": StatusEligible, "date": day.today, "case_ids": ids})
}

// remindRow is a live case the reminders step looks at.
type remindRow struct {
	ID         string `bun:"id"`
	ResidentID string `bun:"resident_id"`
	EndDate    string `bun:"end_date"`
	Channel    string `bun:"checkin_channel"`
	LinkSealed []byte `bun:"link_sealed"`
	Name       string `bun:"name"`
	Phone      string `bun:"phone"`
	Address    string `bun:"address"`
	Grid       string `bun:"grid"`
	CheckedIn  bool   `bun:"checked_in"`
}

// sweepReminders writes the day's check-in reminders (with each
// resident's link, rendered again from its sealed token) and the release
// reminders of the cases ending tomorrow: one query for the community's
// cases, one for its staff, and one Notify for every notice.
func (s *Service) sweepReminders(ctx context.Context, tx *store.TenantTx, c orgs.Community, day sweepDay, out *Swept) (int, error) {
	var rows []remindRow
	onDay, dayArgs := checkinsOn(day.today)
	err := tx.Select((*Case)(nil)).
		ColumnExpr("c.id, c.resident_id, c.end_date, c.checkin_channel, c.link_sealed, r.name, r.phone, h.address, g.slug AS grid").
		ColumnExpr(`EXISTS (SELECT 1 FROM isolation_checkins AS k WHERE k.tenant_id = c.tenant_id AND k.case_id = c.id
			AND `+onDay+` AND k.counts) AS checked_in`, dayArgs...).
		Join("JOIN residents AS r ON r.tenant_id = c.tenant_id AND r.id = c.resident_id").
		Join("JOIN households AS h ON h.tenant_id = c.tenant_id AND h.id = c.household_id").
		Join("LEFT JOIN grids AS g ON g.tenant_id = r.tenant_id AND g.id = r.grid_id").
		Where("c.status IN (?, ?) AND c.start_date <= ?", StatusActive, StatusEligible, day.today).
		OrderExpr("c.id").Scan(ctx, &rows)
	if err != nil {
		return 0, fmt.Errorf("cases to remind: %w", err)
	}
	var d duty
	var notices []outreach.Notice
	for _, r := range rows {
		if !r.CheckedIn && r.Phone != "" && wantsCall(r.Channel, r.Phone) {
			// A keypad check-in call instead of the link's SMS.
			notices = append(notices, callNotice(r.ID, r.ResidentID, r.Name, r.Phone, day.today, 1, time.Time{}))
			out.Calls++
		} else if !r.CheckedIn && r.Phone != "" && r.LinkSealed != nil && s.Links != nil {
			tok, err := s.Links.Open(r.LinkSealed, []byte(r.ID))
			if err != nil {
				return 0, fmt.Errorf("open the link of case %s: %w", r.ID, err)
			}
			body := i18n.T(i18n.ZH, "isolation_sms_checkin_reminder", map[string]any{"name": r.Name, "url": s.linkURL(string(tok))})
			notices = append(notices, outreach.Notice{Key: "checkin:" + r.ID + ":" + day.today, Phone: r.Phone, Text: body,
				ResidentID: r.ResidentID, Subject: subject(r.ID)})
			out.Reminders++
		}
		if r.EndDate != day.tomorrow {
			continue
		}
		if r.Phone != "" {
			body := i18n.T(i18n.ZH, "isolation_sms_release_reminder", map[string]any{"name": r.Name, "end_date": r.EndDate})
			notices = append(notices, outreach.Notice{Key: "release-reminder:" + r.ID, Phone: r.Phone, Text: body,
				ResidentID: r.ResidentID, Subject: subject(r.ID)})
			out.ReleaseReminders++
		}
		if d.workers == nil {
			if d, err = loadDuty(ctx, tx); err != nil {
				return 0, err
			}
		}
		body := i18n.T(i18n.ZH, "isolation_sms_release_reminder_worker", map[string]any{"name": r.Name, "address": r.Address, "end_date": r.EndDate})
		for _, p := range d.workers[r.Grid] {
			notices = append(notices, outreach.Notice{Key: "release-reminder:" + r.ID + ":" + p, Phone: p, Text: body, Subject: subject(r.ID)})
			out.ReleaseReminders++
		}
	}
	return len(notices), s.notify(ctx, tx, notices...)
}

// missedRow is a live case without a check-in by the deadline.
type missedRow struct {
	ID      string `bun:"id"`
	Name    string `bun:"name"`
	Address string `bun:"address"`
	Grid    string `bun:"grid"`
}

// sweepMissed raises a missed_checkin alert for each live case without a
// check-in today (cases opened after the deadline excepted) and sends each
// at once to the grid's workers and the community's staff: one query for
// the cases, one insert of the alerts (one per case and day: a case that
// has today's alert keeps it), one Notify.
func (s *Service) sweepMissed(ctx context.Context, tx *store.TenantTx, c orgs.Community, day sweepDay, out *Swept) (int, error) {
	deadline, err := time.ParseInLocation("2006-01-02 15:04", day.today+" "+c.Settings.Deadline(), c.Loc)
	if err != nil {
		return 0, fmt.Errorf("checkin deadline: %w", err)
	}
	var rows []missedRow
	onDay, dayArgs := checkinsOn(day.today)
	err = tx.Select((*Case)(nil)).ColumnExpr("c.id, r.name, h.address, g.slug AS grid").
		Join("JOIN residents AS r ON r.tenant_id = c.tenant_id AND r.id = c.resident_id").
		Join("JOIN households AS h ON h.tenant_id = c.tenant_id AND h.id = c.household_id").
		Join("LEFT JOIN grids AS g ON g.tenant_id = r.tenant_id AND g.id = r.grid_id").
		Where("c.status IN (?, ?) AND c.start_date <= ? AND c.created_at < ?", StatusActive, StatusEligible, day.today, deadline.UTC()).
		Where(`NOT EXISTS (SELECT 1 FROM isolation_checkins AS k WHERE k.tenant_id = c.tenant_id AND k.case_id = c.id
			AND `+onDay+` AND k.counts)`, dayArgs...).
		OrderExpr("c.id").Scan(ctx, &rows)
	if err != nil {
		return 0, fmt.Errorf("missed check-ins: %w", err)
	}
	if len(rows) == 0 {
		return 0, nil
	}
	alerts := make([]Alert, len(rows))
	byCase := make(map[string]*missedRow, len(rows))
	for i := range rows {
		alerts[i] = Alert{TenantID: tx.Tenant(), ID: newID(), CaseID: rows[i].ID, Kind: AlertMissedCheckin, LocalDate: day.today,
			Symptoms: []string{}, Status: AlertOpen, CreatedAt: day.now}
		byCase[rows[i].ID] = &rows[i]
	}
	var written []struct {
		ID     string `bun:"id"`
		CaseID string `bun:"case_id"`
	}
	for part := range slices.Chunk(alerts, 1000) {
		var got []struct {
			ID     string `bun:"id"`
			CaseID string `bun:"case_id"`
		}
		err := tx.Insert(&part).On("CONFLICT (tenant_id, case_id, kind, local_date) DO NOTHING").Returning("id, case_id").Scan(ctx, &got)
		if err != nil && !isNoRows(err) {
			return 0, fmt.Errorf("raise missed check-in alerts: %w", err)
		}
		written = append(written, got...)
	}
	out.Missed = len(written)
	if len(written) == 0 {
		return 0, nil
	}
	d, err := loadDuty(ctx, tx)
	if err != nil {
		return 0, err
	}
	var notices []outreach.Notice
	ids := make([]string, 0, len(written))
	for _, a := range written {
		ids = append(ids, a.ID)
		r := byCase[a.CaseID]
		body := i18n.T(i18n.ZH, "isolation_sms_alert_"+AlertMissedCheckin, map[string]any{"name": r.Name, "address": r.Address})
		for _, p := range d.onDuty(r.Grid) {
			notices = append(notices, outreach.Notice{Key: "alert:" + a.ID + ":" + p, Phone: p, Text: body, Urgent: true, Subject: subject(a.CaseID)})
		}
	}
	slices.Sort(ids)
	if err := audit.Record(ctx, tx, audit.ActionCreate, "isolation_alert", "sweep",
		map[string]any{"kind": AlertMissedCheckin, "date": day.today, "alert_ids": ids}); err != nil {
		return 0, err
	}
	return len(written), s.notify(ctx, tx, notices...)
}

// duty is who the community's alerts and reminders go to: its staff, and
// each grid's workers (by grid slug), enabled and with a phone.
type duty struct {
	staff   []string
	workers map[string][]string
}

// onDuty is the phones an alert about a resident of grid goes to.
func (d duty) onDuty(grid string) []string {
	out := slices.Clone(d.staff)
	for _, p := range d.workers[grid] {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// loadDuty reads the community's staff and grid workers in one query.
// Users and memberships are platform tables (no tenant_id): the read names
// the tenant's own org.
func loadDuty(ctx context.Context, tx *store.TenantTx) (duty, error) {
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
		return duty{}, fmt.Errorf("staff on duty: %w", err)
	}
	d := duty{workers: map[string][]string{}}
	for _, r := range rows {
		if r.Role == authz.RoleCommunityStaff {
			if !slices.Contains(d.staff, r.Phone) {
				d.staff = append(d.staff, r.Phone)
			}
			continue
		}
		for _, g := range r.Grids {
			if !slices.Contains(d.workers[g], r.Phone) {
				d.workers[g] = append(d.workers[g], r.Phone)
			}
		}
	}
	return d, nil
}

func init() {
	i18n.Register(map[string]i18n.Message{
		"isolation_sms_checkin_reminder": {
			ZH: "{name}您好，您今天还未上报体温，请点击链接上报：{url} 也可直接回复体温，如 36.8",
			EN: "Hello {name}, you have not reported today. Report your temperature at {url} or reply with it, e.g. 36.8",
		},
		"isolation_sms_release_reminder": {
			ZH: "{name}您好，您的居家隔离将于{end_date}期满。期满时如无发热等症状，社区将为您办理解除。",
			EN: "Hello {name}, your isolation ends on {end_date}. Without fever or symptoms, the community will then release you.",
		},
		"isolation_sms_release_reminder_worker": {
			ZH: "【解除提醒】{address} {name} 的居家隔离将于{end_date}期满，请做好解除准备。",
			EN: "[Release reminder] {address} {name}: isolation ends on {end_date}. Please prepare the release.",
		},
	})
}
