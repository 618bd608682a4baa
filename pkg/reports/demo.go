package reports

import (
	"context"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// DemoReports are a demo community's daily reports: every day from From
// to To submitted at its cut-off (18:00) by By, from the records as they
// stand (the demo's history, logs and cases, seeded before), with the
// staff and volunteers on duty typed in.
type DemoReports struct {
	From, To         string
	By               string // the username shown as the submitter
	StaffOnDuty      int
	VolunteersOnDuty int
}

// DemoQixing is both demo communities' (DOMAIN.md: the report of 10
// February 2020 and the days before it since the campaigns began).
var (
	DemoYucai     = DemoReports{From: "2020-01-27", To: "2020-02-10", By: "yucai.admin", StaffOnDuty: 9, VolunteersOnDuty: 24}
	DemoWangcheng = DemoReports{From: "2020-01-27", To: "2020-02-10", By: "wangcheng.admin", StaffOnDuty: 6, VolunteersOnDuty: 12}
)

// SeedDemoReports submits the community's reports of spec's days that
// are not submitted yet, each with its cut-off snapshot, at the day's
// cut-off; it reports whether it added any. Idempotent.
func (s *Service) SeedDemoReports(ctx context.Context, spec DemoReports) (bool, error) {
	return scope.Run(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, _ *scope.Grids) (bool, error) {
		c, err := orgs.CommunityOf(ctx, tx)
		if err != nil {
			return false, err
		}
		var have []string
		if err := tx.Select((*row)(nil)).Column("r.date").Where("r.version = 1 AND r.date >= ? AND r.date <= ?", spec.From, spec.To).
			Scan(ctx, &have); err != nil {
			return false, wrap("demo reports", err)
		}
		done := map[string]bool{}
		for _, d := range have {
			done[d] = true
		}
		// The days still to submit, computed together: a domain with a
		// range of days is asked once for them all (liveAcrossDays), not
		// once a day (on PostgreSQL that was most of the demo's loading).
		open := map[string][]string{}
		for _, day := range days(spec.From, spec.To) {
			if !done[day] {
				open[day] = []string{tx.Tenant()}
			}
		}
		figures, pre, err := liveAcrossDays(ctx, tx.Unscoped(), open)
		if err != nil {
			return false, err
		}
		var added []string
		for _, day := range days(spec.From, spec.To) {
			if done[day] {
				continue
			}
			f := figures[day][tx.Tenant()]
			manual := manualOver(pre[day][tx.Tenant()], Figures{"staff_on_duty": spec.StaffOnDuty, "volunteers_on_duty": spec.VolunteersOnDuty})
			at := cutoffAt(day, c.Loc, c.Settings)
			rows := []row{
				{TenantID: tx.Tenant(), Date: day, Version: 0, Kind: KindCutoff, Figures: f, Manual: manual, At: at},
				{TenantID: tx.Tenant(), Date: day, Version: 1, Kind: KindSubmission, Figures: f, Manual: manual, At: at, ByName: spec.By},
			}
			if _, err := tx.Insert(&rows).On("CONFLICT (tenant_id, date, version) DO NOTHING").Exec(ctx); err != nil {
				return false, wrap("demo reports", err)
			}
			added = append(added, day)
		}
		if len(added) == 0 {
			return false, nil
		}
		return true, audit.Record(ctx, tx, audit.ActionCreate, "daily_report", "demo",
			map[string]any{"dates": added})
	})
}
