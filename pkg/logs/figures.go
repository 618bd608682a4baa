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
// kind of publicity put up but WeChat posts (messages, not notices).
type Figures struct {
	NoticesPostedToday int `json:"notices_posted_today"`
	NoticesPostedTotal int `json:"notices_posted_total"`
}

// Figures computes the figures of day (YYYY-MM-DD) for the community in
// ctx, whole (whatever the caller's grids: a report is the community's).
func (s *Service) Figures(ctx context.Context, day string) (Figures, error) {
	return scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, _ *scope.Grids) (Figures, error) {
		return FiguresIn(ctx, tx, day)
	})
}

// FiguresIn computes them in the caller's transaction, as
// screening.FiguresIn does its own: the daily report reads every domain's
// figures in one transaction. One query whatever the size of the log.
func FiguresIn(ctx context.Context, tx *store.TenantTx, day string) (Figures, error) {
	var p struct {
		Today int `bun:"today"`
		Total int `bun:"total"`
	}
	err := tx.SelectAs("publicity", "p").
		ColumnExpr("COALESCE(SUM(CASE WHEN p.date = ? THEN p.count ELSE 0 END), 0) AS today", day).
		ColumnExpr("COALESCE(SUM(p.count), 0) AS total").
		Where("p.kind IN (?) AND p.date <= ?", bun.List([]string{PublicityNotice, PublicityPoster, PublicityLetter}), day).Scan(ctx, &p)
	if err != nil {
		return Figures{}, fmt.Errorf("publicity sums: %w", err)
	}
	return Figures{NoticesPostedToday: p.Today, NoticesPostedTotal: p.Total}, nil
}
