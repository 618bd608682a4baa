package logs_test

import (
	"context"
	"maps"
	"testing"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/logs"
	"github.com/wanjia/wanjia/pkg/orgs/orgstest"
	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/testworld"
)

// TestFigures: the notices posted on a day and up to it, every kind but
// WeChat posts, the whole community's whatever the caller's grids, and
// nothing of another community's.
func TestFigures(t *testing.T) {
	w := newWorld(t)
	staff, grid1 := w.Staff(t, "c1"), w.GridWorker(t, "c1")
	for _, p := range []struct {
		ctx context.Context
		in  logs.PublicityInput
	}{
		{staff, logs.PublicityInput{Date: "2020-02-01", Kind: "notice", Count: pcount(10)}},
		{staff, logs.PublicityInput{Date: "2020-02-02", Kind: "poster", Count: pcount(5), Grid: "c1-g2"}},
		{grid1, logs.PublicityInput{Date: "2020-02-02", Kind: "letter", Count: pcount(3), Grid: "c1-g1"}},
		{grid1, logs.PublicityInput{Date: "2020-02-02", Kind: "wechat", Count: pcount(7), Grid: "c1-g1"}},
		{staff, logs.PublicityInput{Date: "2020-02-03", Kind: "notice", Count: pcount(2)}},
		{w.Staff(t, "c2"), logs.PublicityInput{Date: "2020-02-02", Kind: "notice", Count: pcount(100)}},
	} {
		if _, err := w.Logs.CreatePublicity(p.ctx, p.in); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		ctx  context.Context
		day  string
		want logs.Figures
	}{
		{staff, "2020-01-31", logs.Figures{}},
		{staff, "2020-02-01", logs.Figures{NoticesPostedToday: 10, NoticesPostedTotal: 10}},
		{staff, "2020-02-02", logs.Figures{NoticesPostedToday: 8, NoticesPostedTotal: 18}},
		{grid1, "2020-02-02", logs.Figures{NoticesPostedToday: 8, NoticesPostedTotal: 18}},
		{staff, "2020-02-03", logs.Figures{NoticesPostedToday: 2, NoticesPostedTotal: 20}},
	} {
		if got, err := w.Logs.Figures(c.ctx, c.day); err != nil || got != c.want {
			t.Errorf("figures of %s = %+v, %v; want %+v", c.day, got, err, c.want)
		}
	}
}

// TestDemoLogs: the demo's logs put up the notices the community reported
// by the end of its history, none before it, with WeChat posts and
// disinfection rounds beside them, and seeding again changes nothing.
func TestDemoLogs(t *testing.T) {
	w := testworld.With(t, testworld.Options{Communities: []orgstest.Spec{
		{Slug: "yucai", Grids: []string{"yucai-g1", "yucai-g2", "yucai-g3", "yucai-g4", "yucai-g5"}}}})
	s := &logs.Service{DB: w.DB, Frame: w.Frame, Now: w.Now}
	ctx := w.Tenant(t, "yucai")
	count := func(table string) int {
		var n int
		err := w.DB.AcrossTenants(context.Background(), "test fixture", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
			return tx.NewSelect().TableExpr(table).ColumnExpr("COUNT(*)").Scan(ctx, &n)
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for round, want := range []bool{true, false} {
		added, err := s.SeedDemoLogs(ctx, logs.DemoYucai)
		if err != nil || added != want {
			t.Fatalf("round %d: added %v, %v", round+1, added, err)
		}
		f, err := s.Figures(ctx, logs.DemoYucai.End)
		if err != nil || f.NoticesPostedTotal != logs.DemoYucai.Notices {
			t.Errorf("round %d: figures of the end %+v, %v; want %d notices", round+1, f, err, logs.DemoYucai.Notices)
		}
		if f, _ := s.Figures(ctx, "2020-01-26"); f.NoticesPostedTotal != 0 {
			t.Errorf("figures before the start %+v", f)
		}
		if n := count("publicity WHERE kind = 'wechat'"); n == 0 {
			t.Error("no WeChat posts in the publicity log")
		}
		if n := count("disinfections"); n == 0 {
			t.Error("no disinfection rounds")
		}
	}
}

// The logs are what outreach logs a WeCom group post in (app.go wires
// them as outreach's Posts).
var _ outreach.GroupPostLog = (*logs.Service)(nil)

// TestGroupPostIsLogged: a notice outreach posted to the community's group
// is one WeChat post in the publicity log, logged in outreach's
// transaction under the campaign's name, and no notice put up.
func TestGroupPostIsLogged(t *testing.T) {
	w := newWorld(t)
	tenant := w.Tenant(t, "c1")
	err := scope.Do(tenant, w.Frame, func(ctx context.Context, tx *store.TenantTx, _ *scope.Grids) error {
		return w.Logs.LogGroupPost(ctx, tx, "2020-02-03", "居民群防控提示", "u-1")
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := w.Logs.ListPublicity(w.Staff(t, "c1"), logs.Filter{})
	if err != nil || len(got) != 1 || got[0].Kind != logs.PublicityWeChat || got[0].Count != 1 || got[0].Notes != "居民群防控提示" || got[0].Date != "2020-02-03" {
		t.Fatalf("publicity after a group post: %+v, %v", got, err)
	}
	if other, _, _ := w.Logs.ListPublicity(w.Staff(t, "c2"), logs.Filter{}); len(other) != 0 {
		t.Errorf("another community's log has it: %+v", other)
	}
	if f, _ := w.Logs.Figures(tenant, "2020-02-03"); f != (logs.Figures{}) {
		t.Errorf("a group post counted as notices put up: %+v", f)
	}
}

// TestFiguresAcross: the disinfection rounds of a day are those whose
// local date is the day (one at 23:59, two at 00:01 Beijing time), the
// notices as TestFigures has them; FiguresAcross over both communities
// (and the sub-district, with no logs) equals each one's FiguresIn, with
// an entry for every community named and none for another.
func TestFiguresAcross(t *testing.T) {
	w := newWorld(t)
	ids := map[string]string{}
	for _, slug := range []string{"c1", "c2", "sub"} {
		ids[slug] = w.District.Org(t, slug).ID
	}
	round := func(org, place string) {
		t.Helper()
		if _, err := w.Logs.CreateDisinfection(w.Staff(t, org), logs.DisinfectionInput{Place: place}); err != nil {
			t.Fatal(err)
		}
	}
	w.Clock.At(t, "2020-02-02 23:59")
	round("c1", "1号楼楼道")
	w.Clock.At(t, "2020-02-03 00:01")
	round("c1", "2号楼楼道")
	round("c1", "垃圾站")
	round("c2", "门岗")
	w.Clock.At(t, "2020-02-03 09:00")
	for _, p := range []struct {
		org string
		in  logs.PublicityInput
	}{
		{"c1", logs.PublicityInput{Date: "2020-02-02", Kind: "notice", Count: pcount(10)}},
		{"c1", logs.PublicityInput{Date: "2020-02-03", Kind: "poster", Count: pcount(5)}},
		{"c1", logs.PublicityInput{Date: "2020-02-03", Kind: "wechat", Count: pcount(7)}},
		{"c2", logs.PublicityInput{Date: "2020-02-03", Kind: "notice", Count: pcount(100)}},
	} {
		if _, err := w.Logs.CreatePublicity(w.Staff(t, p.org), p.in); err != nil {
			t.Fatal(err)
		}
	}

	for _, c := range []struct {
		day  string
		want map[string]logs.Figures
	}{
		{"2020-02-01", map[string]logs.Figures{"c1": {}, "c2": {}, "sub": {}}},
		{"2020-02-02", map[string]logs.Figures{"c1": {NoticesPostedToday: 10, NoticesPostedTotal: 10, DisinfectionRoundsToday: 1},
			"c2": {}, "sub": {}}},
		{"2020-02-03", map[string]logs.Figures{"c1": {NoticesPostedToday: 5, NoticesPostedTotal: 15, DisinfectionRoundsToday: 2},
			"c2": {NoticesPostedToday: 100, NoticesPostedTotal: 100, DisinfectionRoundsToday: 1}, "sub": {}}},
	} {
		t.Run(c.day, func(t *testing.T) {
			across := logsAcross(t, w, []string{ids["c1"], ids["c2"], ids["sub"]}, c.day)
			want := map[string]logs.Figures{}
			for slug, f := range c.want {
				want[ids[slug]] = f
			}
			if !maps.Equal(across, want) {
				t.Errorf("across: %+v, want %+v", across, want)
			}
			for _, slug := range []string{"c1", "c2"} {
				in, err := w.Logs.Figures(w.Staff(t, slug), c.day)
				if err != nil || in != c.want[slug] || in != across[ids[slug]] {
					t.Errorf("%s: FiguresIn %+v, %v; want %+v, across %+v", slug, in, err, c.want[slug], across[ids[slug]])
				}
				alone := logsAcross(t, w, []string{ids[slug]}, c.day)
				if len(alone) != 1 || alone[ids[slug]] != c.want[slug] {
					t.Errorf("%s alone: %+v, want only %+v", slug, alone, c.want[slug])
				}
			}
		})
	}
	if got := logsAcross(t, w, nil, "2020-02-03"); len(got) != 0 {
		t.Errorf("no communities named: %+v", got)
	}
}

// logsAcross is FiguresAcross in a transaction that may read every
// community (so that row security does not hide a query that forgot to
// name its communities).
func logsAcross(t *testing.T, w *world, tenants []string, day string) map[string]logs.Figures {
	t.Helper()
	var out map[string]logs.Figures
	err := w.DB.AcrossTenants(context.Background(), "test: rollup", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		var err error
		out, err = logs.FiguresAcross(ctx, tx, tenants, day)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
