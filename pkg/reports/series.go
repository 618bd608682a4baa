package reports

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// seriesRange checks from and to (YYYY-MM-DD, from not after to, at most
// MaxSeriesDays days). Empty, to is today in loc and from the 30 days up
// to it.
func (s *Service) seriesRange(from, to string, loc *time.Location) (string, string, error) {
	if to == "" {
		to = s.now().In(loc).Format(time.DateOnly)
	}
	t, err := parseDay("to", to)
	if err != nil {
		return "", "", err
	}
	if from == "" {
		from = t.AddDate(0, 0, -29).Format(time.DateOnly)
	}
	f, err := parseDay("from", from)
	if err != nil {
		return "", "", err
	}
	if f.After(t) {
		return "", "", errs.Validation(errs.Field("from", "reports_from_after_to", nil))
	}
	if n := int(t.Sub(f).Hours()/24) + 1; n > MaxSeriesDays {
		return "", "", errs.Validation(errs.Field("to", "reports_range_too_long", map[string]any{"max": MaxSeriesDays}))
	}
	return from, to, nil
}

// Series is the org's days from from to to (YYYY-MM-DD; empty: the 30
// days up to today): on a community each day's latest submitted version
// or its live draft (Draft), above the communities each day's totals over
// those below that the caller may read.
func (s *Service) Series(ctx context.Context, from, to string) (*Series, error) {
	c, ok := authz.CallerFrom(ctx)
	if ok && c.Org != nil && !c.Org.IsCommunity() {
		return s.rollupSeries(ctx, from, to)
	}
	return scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, _ *scope.Grids) (*Series, error) {
		com, err := orgs.CommunityOf(ctx, tx)
		if err != nil {
			return nil, err
		}
		from, to, err := s.seriesRange(from, to, com.Loc)
		if err != nil {
			return nil, err
		}
		tenant := []string{tx.Tenant()}
		// One read of the versions and one of the drafts, named to the
		// tenant (the queries are the rollup's).
		latest, err := latestIn(ctx, tx.Unscoped(), tenant, from, to)
		if err != nil {
			return nil, err
		}
		done := make(map[string]latestRow, len(latest))
		for _, r := range latest {
			done[r.Date] = r
		}
		drafts, err := draftsIn(ctx, tx.Unscoped(), tenant, from, to)
		if err != nil {
			return nil, err
		}
		out := &Series{Org: orgSlug(ctx), From: from, To: to}
		for _, day := range days(from, to) {
			item := SeriesDay{Date: day}
			if r, ok := done[day]; ok {
				item.Status, item.Figures, item.Manual = StatusSubmitted, pick(r.Figures), manualOver(nil, r.Manual)
			} else {
				figures, pre, err := live(ctx, tx, day)
				if err != nil {
					return nil, err
				}
				item.Status, item.Draft = StatusDraft, true
				item.Figures, item.Manual = figures, manualOver(pre, drafts[[2]string{tx.Tenant(), day}])
			}
			out.Items = append(out.Items, item)
		}
		return out, nil
	})
}

// rollupSeries is Series above the communities: one read of the reports
// for the whole range, and each domain's grouped figures once per day
// for the communities without a submission that day.
func (s *Service) rollupSeries(ctx context.Context, from, to string) (*Series, error) {
	caller, err := above(ctx)
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(caller.Org.Timezone)
	if err != nil {
		loc = time.UTC
	}
	if from, to, err = s.seriesRange(from, to, loc); err != nil {
		return nil, err
	}
	out := &Series{Org: caller.Org.Slug, From: from, To: to}
	ids := s.below(caller)
	var lines map[string][]Community
	err = s.across(ctx, "reports: a series of the communities below", ids, func(ctx context.Context, db bun.IDB) error {
		_, ps, err := places(ctx, db, caller.Org.ID, ids)
		if err != nil || len(ps) == 0 {
			return err
		}
		lines, err = s.dayOf(ctx, db, ps, from, to)
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, day := range days(from, to) {
		item := SeriesDay{Date: day, Figures: zero(Keys), Manual: zero(ManualKeys)}
		for _, l := range lines[day] {
			item.Figures.Add(l.Figures)
			item.Manual.Add(l.Manual)
			if l.Draft {
				item.Drafts++
			} else {
				item.Submitted++
			}
		}
		item.Draft = item.Drafts > 0
		out.Items = append(out.Items, item)
	}
	return out, nil
}
