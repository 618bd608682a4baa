package app_test

import (
	"context"
	"testing"

	"github.com/wanjia/wanjia/pkg/logs"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/screening"
)

// TestDemoScreeningHistory: the demo district's screening history gives
// the figures of the communities' report of 10 February 2020, and loading
// the demo again adds nothing. The copy of the demo golden is ApplyDemo's
// first load on an empty database; each round loads it again.
func TestDemoScreeningHistory(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t, nil)
	want := map[string]screening.Figures{
		"yucai": {HouseholdsTotal: 2100, HouseholdsScreenedTotal: 1859, ScreenedByPhoneTotal: 1528, ScreenedByVisitTotal: 331,
			HouseholdsUnreached: 241},
		"wangcheng": {HouseholdsTotal: 857, HouseholdsScreenedTotal: 105, ScreenedByPhoneTotal: 65, ScreenedByVisitTotal: 40,
			HouseholdsUnreached: 752},
	}
	// The notices posted are the logs' figures.
	notices := map[string]int{"yucai": 1300, "wangcheng": 110}
	figures := func(community string) (screening.Figures, logs.Figures, int) {
		t.Helper()
		o, ok := a.Authz.Org(community)
		if !ok {
			t.Fatalf("no community %s", community)
		}
		ctx := scope.With(context.Background(), scope.Tenant{TenantID: o.ID})
		f, err := a.Screening.Figures(ctx, "2020-02-10")
		if err != nil {
			t.Fatal(err)
		}
		lf, err := a.Logs.Figures(ctx, "2020-02-10")
		if err != nil {
			t.Fatal(err)
		}
		campaigns, _, err := a.Screening.ListScreenings(ctx, screening.Filter{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return f, lf, len(campaigns)
	}
	for round := range 2 {
		if err := a.ApplyDemo(t.Context()); err != nil {
			t.Fatal(err)
		}
		for community, w := range want {
			f, lf, campaigns := figures(community)
			// The last day's own figures are whatever the draw gave.
			f.ScreenedToday, f.CallsToday, f.VisitsToday = 0, 0, 0
			if f != w || campaigns != 1 {
				t.Errorf("round %d, %s: %d campaigns, figures of 2020-02-10 %+v\nwant %+v", round+1, community, campaigns, f, w)
			}
			if lf.NoticesPostedTotal != notices[community] {
				t.Errorf("round %d, %s: %d notices posted by 2020-02-10, want %d", round+1, community, lf.NoticesPostedTotal, notices[community])
			}
		}
	}
}
