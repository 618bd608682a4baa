package roster_test

import (
	"context"
	"errors"
	"testing"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/pii"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// TestConflictsOutsideGridsNameNothing: a 409 tells a grid worker that a
// record conflicts, and names it (existing_id) only when it lies in the
// worker's grids; staff are always told which one.
func TestConflictsOutsideGridsNameNothing(t *testing.T) {
	db := storetest.New(t)
	d := district(t, db)
	staff := d.As(t, "bench.staff", "bench")
	worker := d.As(t, "bench.grid1", "bench") // grid g1 only
	s := &roster.Service{DB: db}

	idNumber := "45030519500101002"
	idNumber += string(pii.CheckDigit(idNumber))
	other, err := s.CreateHousehold(staff, roster.HouseholdInput{Grid: "g2", Address: "七星路2号"})
	if err != nil {
		t.Fatal(err)
	}
	otherBuilding, err := s.CreateBuilding(staff, roster.BuildingInput{Grid: "g2", Name: "2栋"})
	if err != nil {
		t.Fatal(err)
	}
	resident, err := s.CreateResident(staff, roster.ResidentInput{HouseholdID: other.ID, Name: "王五", Phone: "13900001111", IDNumber: idNumber})
	if err != nil {
		t.Fatal(err)
	}
	mine, err := s.CreateHousehold(worker, roster.HouseholdInput{Grid: "g1", Address: "七星路1号"})
	if err != nil {
		t.Fatal(err)
	}

	type attempt func(ctx context.Context) error
	cases := []struct {
		name     string
		try      attempt
		existing string
	}{
		{"household at the same address", func(ctx context.Context) error {
			_, err := s.CreateHousehold(ctx, roster.HouseholdInput{Grid: "g1", Address: "七星路2号"})
			return err
		}, other.ID},
		{"building with the same name", func(ctx context.Context) error {
			_, err := s.CreateBuilding(ctx, roster.BuildingInput{Grid: "g1", Name: "2栋"})
			return err
		}, otherBuilding.ID},
		{"resident with the same ID number", func(ctx context.Context) error {
			_, err := s.CreateResident(ctx, roster.ResidentInput{HouseholdID: mine.ID, Name: "王五五", IDNumber: idNumber})
			return err
		}, resident.ID},
		{"resident with the same name and phone", func(ctx context.Context) error {
			_, err := s.CreateResident(ctx, roster.ResidentInput{HouseholdID: mine.ID, Name: "王五", Phone: "13900001111"})
			return err
		}, resident.ID},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, who := range []struct {
				as    string
				ctx   context.Context
				named bool
			}{{"grid worker of another grid", worker, false}, {"staff", staff, true}} {
				err := c.try(who.ctx)
				var e *errs.Error
				if !errors.As(err, &e) || e.Kind != errs.KindConflict {
					t.Fatalf("%s: %v, want a conflict", who.as, err)
				}
				got, named := e.Data["existing_id"]
				if named != who.named || (named && got != c.existing) {
					t.Errorf("%s: existing_id = %v (present %v), want present %v", who.as, got, named, who.named)
				}
			}
		})
	}
}

// TestReadsAreAudited: every list and record read of personal data is in
// the audit log with the ids returned and the search, masked or not, so
// an official's searches leave a trace as staff's do.
func TestReadsAreAudited(t *testing.T) {
	db := storetest.New(t)
	d := district(t, db)
	staff := d.As(t, "bench.staff", "bench")
	official := d.As(t, "sub.official", "bench")
	s := &roster.Service{DB: db}
	h, err := s.CreateHousehold(staff, roster.HouseholdInput{Grid: "g1", Address: "七星路1号", Phone: "13900002222"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.CreateResident(staff, roster.ResidentInput{HouseholdID: h.ID, Name: "赵六", Phone: "13900002222"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.ListResidents(official, roster.Filter{Q: "赵", Limit: 10}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetResident(official, r.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.ListHouseholds(staff, roster.Filter{Limit: 10}); err != nil {
		t.Fatal(err)
	}
	entries, _, err := audit.List(storetest.Unguarded(context.Background()), db, audit.Filter{OrgPath: d.Org(t, "bench").Path, Action: audit.ActionView, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	find := func(actor, resource, id string) *audit.Entry {
		for i := range entries {
			if e := &entries[i]; e.Actor == actor && e.Resource == resource && e.ResourceID == id {
				return e
			}
		}
		return nil
	}
	if e := find("sub.official", "residents", "list"); e == nil {
		t.Errorf("the official's masked search is not audited: %+v", entries)
	} else if ids, _ := e.Details["ids"].([]any); len(ids) != 1 || ids[0] != r.ID || e.Details["q"] != "赵" || e.Details["masked"] != true {
		t.Errorf("the official's search entry: %+v", e.Details)
	}
	if e := find("sub.official", "resident", r.ID); e == nil || e.Details["masked"] != true {
		t.Errorf("the official's masked read of one resident: %+v", e)
	}
	if e := find("bench.staff", "households", "list"); e == nil {
		t.Error("staff's household list is not audited")
	} else if ids, _ := e.Details["ids"].([]any); len(ids) != 1 || ids[0] != h.ID || e.Details["masked"] != false {
		t.Errorf("staff's household list entry: %+v", e.Details)
	}
}
