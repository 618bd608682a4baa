package outreach

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// Figures are outreach's part of a community's daily report, as of the
// end of one local day, under the report's stable key (API.md, "Reports").
//
//   - messages_sent_today: SMS and voice messages sent or delivered whose
//     send fell on the day (the outbox's sent_date: the community's date
//     when the message was claimed for sending). A message delivered after
//     midnight counts on the day it went. Failed, queued, held and skipped
//     messages do not count; nor do WeCom group posts, which are publicity
//     (logs counts them as WeChat posts).
type Figures struct {
	MessagesSentToday int `json:"messages_sent_today"`
}

// figureChannels and figureStatuses are what messages_sent_today counts.
var (
	figureChannels = []string{ChannelSMS, ChannelVoice}
	figureStatuses = []string{StatusSent, StatusDelivered}
)

// Figures computes the figures of day (YYYY-MM-DD) for the community in
// ctx, whole (whatever the caller's grids: a report is the community's).
func (s *Service) Figures(ctx context.Context, day string) (Figures, error) {
	return scope.Read(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, _ *scope.Grids) (Figures, error) {
		return FiguresIn(ctx, tx, day)
	})
}

// FiguresIn computes them in the caller's transaction (the daily
// report's). It runs FiguresAcross's grouped query, named to the tenant
// with an explicit tenant_id predicate, hence Unscoped: both agree by
// construction.
func FiguresIn(ctx context.Context, tx *store.TenantTx, day string) (Figures, error) {
	m, err := figures(ctx, tx.Unscoped(), []string{tx.Tenant()}, day)
	return m[tx.Tenant()], err
}

// FiguresAcross computes the figures of day for each of tenants at once,
// in a transaction of store.AcrossTenants (a sub-district's rollup): one
// grouped query whatever the number of communities, on
// outreach_messages_figures_idx. A community that sent nothing has zeros.
func FiguresAcross(ctx context.Context, tx bun.IDB, tenants []string, day string) (map[string]Figures, error) {
	return figures(ctx, tx, tenants, day)
}

func figures(ctx context.Context, db bun.IDB, tenants []string, day string) (map[string]Figures, error) {
	out := make(map[string]Figures, len(tenants))
	if len(tenants) == 0 {
		return out, nil
	}
	var rows []struct {
		TenantID string `bun:"tenant_id"`
		Sent     int    `bun:"sent"`
	}
	err := db.NewSelect().TableExpr("outreach_messages AS m").ColumnExpr("m.tenant_id, COUNT(*) AS sent").
		Where("m.tenant_id IN (?) AND m.sent_date = ?", bun.List(tenants), day).
		Where("m.channel IN (?) AND m.status IN (?)", bun.List(figureChannels), bun.List(figureStatuses)).
		GroupExpr("m.tenant_id").Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("outreach figures: %w", err)
	}
	for _, r := range rows {
		out[r.TenantID] = Figures{MessagesSentToday: r.Sent}
	}
	for _, t := range tenants {
		if _, ok := out[t]; !ok {
			out[t] = Figures{} // every community named has its entry, zeros included
		}
	}
	return out, nil
}
