package screening_test

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/screening"
	"github.com/wanjia/wanjia/pkg/store"
)

// TestFiguresAcross: attempts at 23:59 and 00:01 Beijing time fall on
// their own days; FiguresAcross over both communities (and the
// sub-district, with no households) equals each one's FiguresIn, with an
// entry for every community named and none for another, and one
// community's households and attempts never in the other's figures.
func TestFiguresAcross(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ids := map[string]string{}
	for _, slug := range []string{"c1", "c2", "sub"} {
		ids[slug] = w.District.Org(t, slug).ID
	}
	w.Clock.At(t, "2020-02-02 20:00")
	h1 := w.households(t, "c1", "c1-g1", 3)
	h2 := w.households(t, "c2", "c2-g1", 2)
	sc1, sc2 := w.campaign(t, "c1", screening.ScreeningInput{}), w.campaign(t, "c2", screening.ScreeningInput{})
	c1, c2 := w.As(t, "c1.staff", "c1"), w.As(t, "c2.staff", "c2")

	w.Clock.At(t, "2020-02-02 23:59")
	w.attempt(t, c1, sc1.ID, w.taskOf(t, "c1", sc1.ID, h1[0]), "phone", "reached")
	w.attempt(t, c2, sc2.ID, w.taskOf(t, "c2", sc2.ID, h2[0]), "visit", "reached")
	w.Clock.At(t, "2020-02-03 00:01")
	w.attempt(t, c1, sc1.ID, w.taskOf(t, "c1", sc1.ID, h1[1]), "visit", "reached")
	w.attempt(t, c1, sc1.ID, w.taskOf(t, "c1", sc1.ID, h1[2]), "phone", "no_answer")
	w.attempt(t, c2, sc2.ID, w.taskOf(t, "c2", sc2.ID, h2[1]), "phone", "no_answer")

	for _, c := range []struct {
		day  string
		want map[string]screening.Figures
	}{
		{"2020-02-01", map[string]screening.Figures{"c1": {HouseholdsTotal: 3, HouseholdsUnreached: 3},
			"c2": {HouseholdsTotal: 2, HouseholdsUnreached: 2}, "sub": {}}},
		{"2020-02-02", map[string]screening.Figures{
			"c1":  {HouseholdsTotal: 3, HouseholdsScreenedTotal: 1, ScreenedByPhoneTotal: 1, HouseholdsUnreached: 2, ScreenedToday: 1, CallsToday: 1},
			"c2":  {HouseholdsTotal: 2, HouseholdsScreenedTotal: 1, ScreenedByVisitTotal: 1, HouseholdsUnreached: 1, ScreenedToday: 1, VisitsToday: 1},
			"sub": {}}},
		{"2020-02-03", map[string]screening.Figures{
			"c1": {HouseholdsTotal: 3, HouseholdsScreenedTotal: 2, ScreenedByPhoneTotal: 1, ScreenedByVisitTotal: 1, HouseholdsUnreached: 1,
				ScreenedToday: 1, CallsToday: 1, VisitsToday: 1},
			"c2":  {HouseholdsTotal: 2, HouseholdsScreenedTotal: 1, ScreenedByVisitTotal: 1, HouseholdsUnreached: 1, CallsToday: 1},
			"sub": {}}},
	} {
		t.Run(c.day, func(t *testing.T) {
			across := screeningAcross(t, w, []string{ids["c1"], ids["c2"], ids["sub"]}, c.day)
			want := map[string]screening.Figures{}
			for slug, f := range c.want {
				want[ids[slug]] = f
			}
			if !maps.Equal(across, want) {
				t.Errorf("across:\n got %+v\nwant %+v", across, want)
			}
			for _, slug := range []string{"c1", "c2"} {
				in, err := w.Screening.Figures(w.As(t, slug+".staff", slug), c.day)
				if err != nil || in != c.want[slug] || in != across[ids[slug]] {
					t.Errorf("%s: FiguresIn %+v, %v\nwant %+v\nacross %+v", slug, in, err, c.want[slug], across[ids[slug]])
				}
				alone := screeningAcross(t, w, []string{ids[slug]}, c.day)
				if len(alone) != 1 || alone[ids[slug]] != c.want[slug] {
					t.Errorf("%s alone: %+v, want only %+v", slug, alone, c.want[slug])
				}
			}
		})
	}
	if got := screeningAcross(t, w, nil, "2020-02-03"); len(got) != 0 {
		t.Errorf("no communities named: %+v", got)
	}

	// A range is each of its days, whether it starts before, on or after
	// the days households were first reached.
	tenants := []string{ids["c1"], ids["c2"], ids["sub"]}
	for _, r := range [][2]string{{"2020-02-01", "2020-02-04"}, {"2020-02-03", "2020-02-03"}, {"2020-02-03", "2020-02-05"}, {"2020-02-04", "2020-02-02"}} {
		var got map[string]map[string]screening.Figures
		err := w.DB.AcrossTenants(context.Background(), "test: series", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
			var err error
			got, err = screening.FiguresAcrossDays(ctx, tx, tenants, r[0], r[1])
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for day, fs := range got {
			n++
			if want := screeningAcross(t, w, tenants, day); !maps.Equal(fs, want) {
				t.Errorf("%s to %s, %s:\n got %+v\nwant %+v", r[0], r[1], day, fs, want)
			}
		}
		if want := len(daysFrom(t, r[0], r[1])); n != want {
			t.Errorf("%s to %s: %d days, want %d", r[0], r[1], n, want)
		}
	}
}

func daysFrom(t *testing.T, from, to string) []string {
	t.Helper()
	f, err1 := time.Parse(time.DateOnly, from)
	l, err2 := time.Parse(time.DateOnly, to)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	var out []string
	for d := f; !d.After(l); d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format(time.DateOnly))
	}
	return out
}

// screeningAcross is FiguresAcross in a transaction that may read every
// community (so that row security does not hide a query that forgot to
// name its communities).
func screeningAcross(t *testing.T, w *world, tenants []string, day string) map[string]screening.Figures {
	t.Helper()
	var out map[string]screening.Figures
	err := w.DB.AcrossTenants(context.Background(), "test: rollup", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		var err error
		out, err = screening.FiguresAcross(ctx, tx, tenants, day)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
