package roster_test

import (
	"testing"

	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// TestFigures: per-grid figures for the caller's grids only, and the
// figures of several communities in one pass; elderly residents living
// alone are those with both tags.
func TestFigures(t *testing.T) {
	db := storetest.New(t)
	d := district(t, db)
	staff := d.As(t, "bench.staff", "bench")
	s := &roster.Service{DB: db}
	for i, in := range []struct {
		grid string
		tags [][]string
	}{
		{"g1", [][]string{{"elderly", "lives_alone"}, {"elderly"}}},
		{"g2", [][]string{{"lives_alone"}, {"elderly", "lives_alone", "disabled"}, {}}},
	} {
		h, err := s.CreateHousehold(staff, roster.HouseholdInput{Grid: in.grid, Address: "七星路" + string(rune('1'+i)) + "号"})
		if err != nil {
			t.Fatal(err)
		}
		for j, tags := range in.tags {
			if _, err := s.CreateResident(staff, roster.ResidentInput{HouseholdID: h.ID, Name: "居民" + string(rune('甲'+j)), Tags: tags}); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := map[string]roster.Figures{"g1": {Households: 1, Residents: 2, ElderlyAlone: 1}, "g2": {Households: 1, Residents: 3, ElderlyAlone: 1}}
	check := func(who string, got []roster.GridFigures, grids ...string) {
		t.Helper()
		if len(got) != len(grids) {
			t.Fatalf("%s: %d grids, want %v", who, len(got), grids)
		}
		for i, g := range got {
			w := want[grids[i]]
			if g.Slug != grids[i] || g.Households != w.Households || g.Residents != w.Residents || g.ElderlyAlone != w.ElderlyAlone || g.LastChange.IsZero() {
				t.Errorf("%s, grid %s: %+v, want %+v", who, g.Slug, g.Figures, w)
			}
		}
	}
	all, err := s.GridFigures(staff)
	if err != nil {
		t.Fatal(err)
	}
	check("staff", all[:2], "g1", "g2")
	mine, err := s.GridFigures(d.As(t, "bench.grid1", "bench"))
	if err != nil {
		t.Fatal(err)
	}
	check("grid worker of g1", mine, "g1")

	id := d.Org(t, "bench").ID
	byCommunity, err := s.CommunityFigures(storetest.Unguarded(staff), []string{id, "another"})
	if err != nil {
		t.Fatal(err)
	}
	if f := byCommunity[id]; f.Households != 2 || f.Residents != 5 || f.ElderlyAlone != 2 {
		t.Fatalf("community figures: %+v", f)
	}
}
