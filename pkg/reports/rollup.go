package reports

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/orgs"
)

// place is a community of a rollup as its figures need it.
type place struct {
	id, slug, name string
	c              orgs.Community
}

// orgRow is an org as the rollup reads it (orgs is a platform table).
type orgRow struct {
	ID       string          `bun:"id"`
	Slug     string          `bun:"slug"`
	Name     string          `bun:"name"`
	Timezone string          `bun:"timezone"`
	Settings json.RawMessage `bun:"settings"`
}

func (o orgRow) community() orgs.Community {
	c := orgs.Community{Name: o.Name, Loc: time.UTC, Settings: orgs.DefaultSettings()}
	if loc, err := time.LoadLocation(o.Timezone); err == nil {
		c.Loc = loc
	}
	if len(o.Settings) > 0 {
		_ = json.Unmarshal(o.Settings, &c.Settings) // a broken one keeps the defaults: a rollup still shows the day
	}
	return c
}

// above is the caller's org when it is above the communities.
func above(ctx context.Context) (authz.Caller, error) {
	c, ok := authz.CallerFrom(ctx)
	if !ok || c.Org == nil {
		return c, errs.Forbidden()
	}
	if c.Org.IsCommunity() {
		return c, errs.NotFound()
	}
	return c, nil
}

// below is the ids of the communities under the caller's org whose
// reports it may read, as authz decides for each (a sub-district's
// official sees its own communities, never another sub-district's).
func (s *Service) below(c authz.Caller) []string {
	var ids []string
	for _, o := range s.Authz.Visible(c.UserID) {
		if o.IsCommunity() && strings.HasPrefix(o.Path, c.Org.Path) && s.Authz.Check(c.UserID, o.Slug, "reports", "read").Allowed {
			ids = append(ids, o.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

// places reads the org of the caller and the communities ids name (names,
// zones, settings), communities by slug.
func places(ctx context.Context, db bun.IDB, org string, ids []string) (orgRow, []place, error) {
	var rows []orgRow
	err := db.NewSelect().Table("orgs").Column("id", "slug", "name", "timezone", "settings").
		Where("id IN (?)", bun.List(append([]string{org}, ids...))).Order("slug").Scan(ctx, &rows)
	if err != nil {
		return orgRow{}, nil, wrap("orgs", err)
	}
	var self orgRow
	out := make([]place, 0, len(ids))
	for _, o := range rows {
		if o.ID == org {
			self = o
			continue
		}
		out = append(out, place{id: o.ID, slug: o.Slug, name: o.Name, c: o.community()})
	}
	return self, out, nil
}

// latestRow is a day's latest submitted version of a community, with its
// submission's time and whether that was after the cut-off.
type latestRow struct {
	TenantID    string    `bun:"tenant_id"`
	Date        string    `bun:"date"`
	Version     int       `bun:"version"`
	Figures     Figures   `bun:"figures"`
	Manual      Figures   `bun:"manual"`
	SubmittedAt time.Time `bun:"submitted_at"`
	AfterCutoff bool      `bun:"after_cutoff"`
}

// latestIn is one grouped read of daily_reports: for each of tenants and
// each day from from to to, the latest version of those submitted.
func latestIn(ctx context.Context, db bun.IDB, tenants []string, from, to string) ([]latestRow, error) {
	var out []latestRow
	err := db.NewSelect().TableExpr("daily_reports AS r").
		ColumnExpr("r.tenant_id, r.date, r.version, r.figures, r.manual, s.at AS submitted_at, s.after_cutoff").
		Join("JOIN daily_reports AS s ON s.tenant_id = r.tenant_id AND s.date = r.date AND s.version = 1").
		Where("r.tenant_id IN (?) AND r.date >= ? AND r.date <= ?", bun.List(tenants), from, to).
		Where(`r.version = (SELECT MAX(m.version) FROM daily_reports AS m WHERE m.tenant_id = r.tenant_id AND m.date = r.date)`).
		Scan(ctx, &out)
	return out, wrap("latest versions", err)
}

// draftsIn is the typed-in fields saved for drafts of tenants' days.
func draftsIn(ctx context.Context, db bun.IDB, tenants []string, from, to string) (map[[2]string]Figures, error) {
	var rows []draft
	err := db.NewSelect().Model(&rows).Column("tenant_id", "date", "manual").
		Where("d.tenant_id IN (?) AND d.date >= ? AND d.date <= ?", bun.List(tenants), from, to).Scan(ctx)
	out := make(map[[2]string]Figures, len(rows))
	for _, d := range rows {
		out[[2]string{d.TenantID, d.Date}] = d.Manual
	}
	return out, wrap("drafts", err)
}

// liveAcrossDays is liveAcross for each day of open (the communities
// without a submission that day): a domain with a range of days is asked
// once for them all, the others once per day.
func liveAcrossDays(ctx context.Context, db bun.IDB, open map[string][]string) (figures, prefilled map[string]map[string]Figures, err error) {
	all := make(map[string]map[string]Figures, len(open))
	var union []string
	from, to := "", ""
	for day, tenants := range open {
		all[day] = make(map[string]Figures, len(tenants))
		for _, t := range tenants {
			all[day][t] = Figures{}
			if !slices.Contains(union, t) {
				union = append(union, t)
			}
		}
		if from == "" || day < from {
			from = day
		}
		if day > to {
			to = day
		}
	}
	if len(union) == 0 {
		return map[string]map[string]Figures{}, map[string]map[string]Figures{}, nil
	}
	keep := func(day string, m map[string]Figures) {
		for t, f := range m {
			if a, ok := all[day][t]; ok {
				a.Add(f)
			}
		}
	}
	for _, s := range sources {
		if s.days != nil {
			m, err := s.days(ctx, db, union, from, to)
			if err != nil {
				return nil, nil, fmt.Errorf("%s figures: %w", s.name, err)
			}
			for day := range all {
				keep(day, m[day])
			}
			continue
		}
		for day, tenants := range open {
			if len(tenants) == 0 {
				continue
			}
			m, err := s.across(ctx, db, tenants, day)
			if err != nil {
				return nil, nil, fmt.Errorf("%s figures: %w", s.name, err)
			}
			keep(day, m)
		}
	}
	figures, prefilled = make(map[string]map[string]Figures, len(all)), make(map[string]map[string]Figures, len(all))
	for day, byTenant := range all {
		figures[day], prefilled[day] = make(map[string]Figures, len(byTenant)), make(map[string]Figures, len(byTenant))
		for t, a := range byTenant {
			figures[day][t], prefilled[day][t] = pick(a), prefill(a)
		}
	}
	return figures, prefilled, nil
}

// dayOf is every place's line of each day from from to to.
func (s *Service) dayOf(ctx context.Context, db bun.IDB, ps []place, from, to string) (map[string][]Community, error) {
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.id
	}
	latest, err := latestIn(ctx, db, ids, from, to)
	if err != nil {
		return nil, err
	}
	done := make(map[[2]string]latestRow, len(latest))
	for _, r := range latest {
		done[[2]string{r.TenantID, r.Date}] = r
	}
	drafts, err := draftsIn(ctx, db, ids, from, to)
	if err != nil {
		return nil, err
	}
	now := s.now()
	open := map[string][]string{}
	for _, day := range days(from, to) {
		for _, p := range ps {
			if _, ok := done[[2]string{p.id, day}]; !ok {
				open[day] = append(open[day], p.id)
			}
		}
	}
	liveFigures, livePre, err := liveAcrossDays(ctx, db, open)
	if err != nil {
		return nil, err
	}
	out := map[string][]Community{}
	for _, day := range days(from, to) {
		figures, pre := liveFigures[day], livePre[day]
		lines := make([]Community, 0, len(ps))
		for _, p := range ps {
			line := Community{Org: p.slug, Name: p.name}
			if r, ok := done[[2]string{p.id, day}]; ok {
				at := r.SubmittedAt
				line.Status, line.Version, line.SubmittedAt, line.AfterCutoff = StatusSubmitted, r.Version, &at, r.AfterCutoff
				line.Figures, line.Manual = pick(r.Figures), manualOver(nil, r.Manual)
			} else {
				line.Status, line.Draft = StatusMissing, true
				if late(now, day, p.c) {
					line.Status = StatusLate
				}
				line.Figures, line.Manual = figures[p.id], manualOver(pre[p.id], drafts[[2]string{p.id, day}])
			}
			lines = append(lines, line)
		}
		out[day] = lines
	}
	return out, nil
}

// days lists the days from from to to, both included.
func days(from, to string) []string {
	f, _ := time.Parse(time.DateOnly, from)
	t, _ := time.Parse(time.DateOnly, to)
	var out []string
	for d := f; !d.After(t); d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format(time.DateOnly))
	}
	return out
}

// Rollup is the day's table of the caller's sub-district or district:
// each community below that the caller may read, with its status
// (submitted, late, missing) and figures (its latest submitted version,
// or its live draft, marked Draft), their totals, and the communities not
// submitted. One grouped read of the reports and one of each domain's
// figures for the communities without a submission, whatever their
// number; nothing cached. On a community it is a 404 (Day is its report).
func (s *Service) Rollup(ctx context.Context, date string) (*Rollup, error) {
	caller, err := above(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := parseDay("date", date); err != nil {
		return nil, err
	}
	out := &Rollup{Org: caller.Org.Slug, Date: date, Totals: zero(Keys), ManualTotals: zero(ManualKeys),
		Communities: []Community{}, Missing: []string{}}
	ids := s.below(caller)
	err = s.across(ctx, "reports: the day's rollup of the communities below", ids, func(ctx context.Context, db bun.IDB) error {
		self, ps, err := places(ctx, db, caller.Org.ID, ids)
		if err != nil {
			return err
		}
		out.Name = self.Name
		if len(ps) == 0 {
			return nil
		}
		lines, err := s.dayOf(ctx, db, ps, date, date)
		if err != nil {
			return err
		}
		out.Communities = lines[date]
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, l := range out.Communities {
		out.Totals.Add(l.Figures)
		out.ManualTotals.Add(l.Manual)
		if l.Status != StatusSubmitted {
			out.Missing = append(out.Missing, l.Org)
		}
	}
	return out, nil
}

// across runs fn in a transaction across the tenants named (none: a
// plain one, for the orgs alone).
func (s *Service) across(ctx context.Context, purpose string, tenants []string, fn func(ctx context.Context, db bun.IDB) error) error {
	if len(tenants) == 0 {
		return s.DB.InTx(ctx, func(ctx context.Context, tx bun.Tx) error { return fn(ctx, tx) })
	}
	return s.DB.AcrossTenants(ctx, purpose, tenants, func(ctx context.Context, tx bun.Tx) error { return fn(ctx, tx) })
}

// zero is every key at 0.
func zero(keys []string) Figures {
	out := make(Figures, len(keys))
	for _, k := range keys {
		out[k] = 0
	}
	return out
}
