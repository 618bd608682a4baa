package logs

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// Figures are the logs' part of a community's daily report, as of the end
// of one local day, under the report's stable keys: notices count every
// kind of publicity put up but WeChat posts (messages, not notices);
// disinfection rounds count the rounds of the disinfection log whose local
// date is the day. The report pre-fills its typed-in notices_posted and
// disinfection_rounds from notices_posted_today and
// disinfection_rounds_today.
type Figures struct {
	NoticesPostedToday      int `json:"notices_posted_today"`
	NoticesPostedTotal      int `json:"notices_posted_total"`
	DisinfectionRoundsToday int `json:"disinfection_rounds_today"`
}

// noticeKinds are the kinds of publicity that count as notices put up.
var noticeKinds = []string{PublicityNotice, PublicityPoster, PublicityLetter}

// Figures computes the figures of day (YYYY-MM-DD) for the community in
// ctx, whole (whatever the caller's grids: a report is the community's).
func (s *Service) Figures(ctx context.Context, day string) (Figures, error) {
	return scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, _ *scope.Grids) (Figures, error) {
		return FiguresIn(ctx, tx, day)
	})
}

// FiguresIn computes them in the caller's transaction, as
// screening.FiguresIn does its own: the daily report reads every domain's
// figures in one transaction. It runs FiguresAcross's grouped queries,
// named to the tenant with an explicit tenant_id predicate, hence
// Unscoped: both agree by construction.
func FiguresIn(ctx context.Context, tx *store.TenantTx, day string) (Figures, error) {
	m, err := figures(ctx, tx.Unscoped(), []string{tx.Tenant()}, day)
	return m[tx.Tenant()], err
}

// FiguresAcross computes the figures of day for each of tenants at once,
// in a transaction of store.AcrossTenants (a sub-district's rollup): two
// grouped queries whatever the number of communities or the size of the
// logs (on publicity_date_idx and disinfections_date_idx). A community
// with nothing logged has zeros.
func FiguresAcross(ctx context.Context, tx bun.IDB, tenants []string, day string) (map[string]Figures, error) {
	return figures(ctx, tx, tenants, day)
}

func figures(ctx context.Context, db bun.IDB, tenants []string, day string) (map[string]Figures, error) {
	out := make(map[string]Figures, len(tenants))
	if len(tenants) == 0 {
		return out, nil
	}
	in := bun.List(tenants)

	var publicity []struct {
		TenantID string `bun:"tenant_id"`
		Today    int    `bun:"today"`
		Total    int    `bun:"total"`
	}
	err := db.NewSelect().TableExpr("publicity AS p").ColumnExpr("p.tenant_id").
		ColumnExpr("COALESCE(SUM(CASE WHEN p.date = ? THEN p.count ELSE 0 END), 0) AS today", day).
		ColumnExpr("COALESCE(SUM(p.count), 0) AS total").
		Where("p.tenant_id IN (?) AND p.kind IN (?) AND p.date <= ?", in, bun.List(noticeKinds), day).
		GroupExpr("p.tenant_id").Scan(ctx, &publicity)
	if err != nil {
		return nil, fmt.Errorf("logs figures: publicity: %w", err)
	}
	for _, r := range publicity {
		f := out[r.TenantID]
		f.NoticesPostedToday, f.NoticesPostedTotal = r.Today, r.Total
		out[r.TenantID] = f
	}

	var rounds []struct {
		TenantID string `bun:"tenant_id"`
		Rounds   int    `bun:"rounds"`
	}
	err = db.NewSelect().TableExpr("disinfections AS d").ColumnExpr("d.tenant_id, COUNT(*) AS rounds").
		Where("d.tenant_id IN (?) AND d.local_date = ?", in, day).
		GroupExpr("d.tenant_id").Scan(ctx, &rounds)
	if err != nil {
		return nil, fmt.Errorf("logs figures: disinfections: %w", err)
	}
	for _, r := range rounds {
		f := out[r.TenantID]
		f.DisinfectionRoundsToday = r.Rounds
		out[r.TenantID] = f
	}

	for _, t := range tenants {
		if _, ok := out[t]; !ok {
			out[t] = Figures{} // every community named has its entry, zeros included
		}
	}
	return out, nil
}
