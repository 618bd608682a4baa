package directives

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
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

// RemindAt is the community's local time, on the day before a directive
// is due, from which the admins of a community that has not acknowledged
// it are reminded.
const RemindAt = "09:00"

// Reminded says what one sweep did.
type Reminded struct {
	Directives int // community copies reminded of
	Notices    int // SMS written (one per admin with a phone)
}

// openTarget is a community's copy still waiting for its acknowledgement.
type openTarget struct {
	TenantID    string `bun:"tenant_id"`
	DirectiveID string `bun:"directive_id"`
	DueDate     string `bun:"due_date"`
}

// sweepCommunity is a community as the sweep needs it.
type sweepCommunity struct {
	ID       string `bun:"id"`
	Slug     string `bun:"slug"`
	Path     string `bun:"path"`
	Timezone string `bun:"timezone"`
}

// Remind sends the reminders that are due (the directives:remind task):
// for each community's unacknowledged copy due tomorrow by the
// community's calendar, from RemindAt, one SMS to each of its admins
// through outreach.Notify (which keeps quiet hours). The copy's
// reminded_on is set in the transaction that writes the notices, so a
// copy is reminded once whatever the number of sweeps or schedulers; each
// notice's key (directive-reminder:<directive>:<day>:<phone>) would
// refuse a second one anyway. A community that fails is logged and the
// others go on; the error joins the failures.
func (s *Service) Remind(ctx context.Context) (Reminded, error) {
	now := s.now()
	var out Reminded
	var communities []sweepCommunity
	var open []openTarget
	err := s.DB.AcrossTenants(ctx, "directives: find the reminders that are due", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		// Every zone's tomorrow is within two days of UTC's today.
		from, to := now.AddDate(0, 0, -1).Format(time.DateOnly), now.AddDate(0, 0, 2).Format(time.DateOnly)
		if err := tx.NewSelect().TableExpr("directive_targets AS dt").Column("tenant_id", "directive_id", "due_date").
			Where("dt.acked_at IS NULL AND dt.reminded_on IS NULL AND dt.due_date BETWEEN ? AND ?", from, to).
			OrderExpr("dt.tenant_id, dt.directive_id").Scan(ctx, &open); err != nil {
			return fmt.Errorf("open directives: %w", err)
		}
		if len(open) == 0 {
			return nil
		}
		return tx.NewSelect().TableExpr("orgs").Column("id", "slug", "path", "timezone").
			Where("kind = ?", orgs.KindCommunity).Scan(ctx, &communities)
	})
	if err != nil {
		return out, fmt.Errorf("directive reminders: %w", err)
	}
	due := map[string][]string{} // tenant → directive ids
	days := map[string]string{}  // tenant → its local today
	for _, c := range communities {
		local := now.In(location(c.Timezone))
		if local.Format("15:04") < RemindAt {
			continue
		}
		days[c.ID] = local.Format(time.DateOnly)
		tomorrow := local.AddDate(0, 0, 1).Format(time.DateOnly)
		for _, t := range open {
			if t.TenantID == c.ID && t.DueDate == tomorrow {
				due[c.ID] = append(due[c.ID], t.DirectiveID)
			}
		}
	}
	var failed []error
	for _, c := range communities {
		if len(due[c.ID]) == 0 {
			continue
		}
		got, err := s.remindIn(ctx, c, days[c.ID], due[c.ID])
		if err != nil {
			if s.Logger != nil {
				s.Logger.Warn("directives: reminders failed; the next sweep tries again", "community", c.Slug, "err", err)
			}
			failed = append(failed, fmt.Errorf("directive reminders of %s: %w", c.Slug, err))
			continue
		}
		out.Directives += got.Directives
		out.Notices += got.Notices
	}
	return out, errors.Join(failed...)
}

// remindIn reminds one community's admins of its copies named, in the
// community's own transaction: the copies still open and not reminded are
// marked for today, and one notice per copy and admin is written.
func (s *Service) remindIn(ctx context.Context, c sweepCommunity, day string, directives []string) (Reminded, error) {
	tctx := audit.InOrg(scope.With(ctx, scope.Tenant{TenantID: c.ID}), c.Slug, c.Path)
	var out Reminded
	var notices []outreach.Notice
	err := s.DB.InTenantTx(tctx, func(ctx context.Context, tx *store.TenantTx) error {
		out, notices = Reminded{}, nil
		var marked []Target
		err := tx.Update((*Target)(nil)).Set("reminded_on = ?", day).
			Where("dt.directive_id IN (?) AND dt.acked_at IS NULL AND dt.reminded_on IS NULL", bun.List(directives)).
			Returning("directive_id, title, due_date, issuer_name").Scan(ctx, &marked)
		if err != nil && !isNoRows(err) {
			return fmt.Errorf("mark reminded: %w", err)
		}
		if len(marked) == 0 {
			return nil
		}
		phones, err := admins(ctx, tx)
		if err != nil {
			return err
		}
		slices.SortFunc(marked, func(a, b Target) int { return strings.Compare(a.DirectiveID, b.DirectiveID) })
		for _, t := range marked {
			body := i18n.T(i18n.ZH, "directives_sms_reminder", map[string]any{"from": t.IssuerName, "title": t.Title, "due_date": t.DueDate})
			for _, p := range phones {
				notices = append(notices, outreach.Notice{Key: "directive-reminder:" + t.DirectiveID + ":" + day + ":" + p, Phone: p, Text: body,
					Subject: "directive:" + t.DirectiveID})
			}
		}
		out.Directives = len(marked)
		if s.Notify == nil || len(notices) == 0 {
			return nil
		}
		n, err := s.Notify.Notify(ctx, tx, notices...)
		out.Notices = n
		return err
	})
	if err != nil {
		return Reminded{}, err
	}
	if s.Notify != nil && len(notices) > 0 {
		if err := s.Notify.NotifyTasks(tctx, notices...); err != nil && s.Logger != nil {
			s.Logger.Warn("directives: reminders written but not queued; the reconciler will queue them", "err", err)
		}
	}
	return out, nil
}

// admins are the phones of the community's enabled admins. Users and
// memberships are platform tables (no tenant_id): the read names the
// tenant's own org.
func admins(ctx context.Context, tx *store.TenantTx) ([]string, error) {
	var phones []string
	err := tx.Unscoped().NewSelect().TableExpr("memberships AS m").ColumnExpr("DISTINCT u.phone").
		Join("JOIN users AS u ON u.id = m.user_id").
		Where("m.org_id = ? AND m.role = ? AND NOT u.disabled AND u.phone <> ''", tx.Tenant(), authz.RoleCommunityAdmin).
		OrderExpr("u.phone").Scan(ctx, &phones)
	if err != nil {
		return nil, fmt.Errorf("community admins: %w", err)
	}
	return phones, nil
}
