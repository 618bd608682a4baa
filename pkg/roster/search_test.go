package roster_test

import (
	"strings"
	"testing"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/pii"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// TestSearchResidents: q is a name's start, a phone's end, or a whole ID
// number for the roles that see ID numbers; tag is one whole tag.
func TestSearchResidents(t *testing.T) {
	db := storetest.New(t)
	d := district(t, db)
	staff := d.As(t, "bench.staff", "bench")
	official := d.As(t, "sub.official", "bench")
	s := &roster.Service{DB: db}
	home, err := s.CreateHousehold(staff, roster.HouseholdInput{Grid: "g1", Address: "七星路1号"})
	if err != nil {
		t.Fatal(err)
	}
	id := "45030519500101002"
	id += string(pii.CheckDigit(id))
	for _, in := range []roster.ResidentInput{
		{HouseholdID: home.ID, Name: "张三", Phone: "13900001234", IDNumber: id, Tags: []string{"独居", "老人"}},
		{HouseholdID: home.ID, Name: "张三丰", Phone: "13900005678", Tags: []string{"楼长", "A&B"}},
		{HouseholdID: home.ID, Name: "李四", Tags: []string{"elderly"}},
	} {
		if _, err := s.CreateResident(staff, in); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name string
		asOf string
		q    string
		tag  string
		want string // names found; "422" for a refused search
	}{
		{"tag", "staff", "", "elderly", "张三,李四"},
		{"tag and name", "staff", "李", "elderly", "李四"},
		{"tag, lives alone", "official", "", "lives_alone", "张三"},
		{"custom tag", "staff", "", "楼长", "张三丰"},
		{"custom tag json escapes", "staff", "", "A&B", "张三丰"},
		{"tag prefix is not the tag", "staff", "", "elder", ""},
		{"name start", "staff", "张三", "", "张三,张三丰"},
		{"whole name", "staff", "李四", "", "李四"},
		{"phone end", "staff", "1234", "", "张三"},
		{"phone end, official: masked phones cannot be searched", "official", "5678", "", "422"},
		{"phone digits with a prefix, official", "official", "139 0000 5678", "", "422"},
		{"ID number", "staff", id, "", "张三"},
		{"ID number, lower-case x", "staff", strings.ToLower(id), "", "张三"},
		{"ID number, official", "official", id, "", "422"},
		{"name, official", "official", "李", "", "李四"},
		{"nothing", "staff", "王", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := staff
			if tt.asOf == "official" {
				ctx = official
			}
			list, _, err := s.ListResidents(ctx, roster.Filter{Q: tt.q, Tag: tt.tag, Limit: 10})
			if tt.want == "422" {
				if errs.KindOf(err) != errs.KindValidation {
					t.Fatalf("q=%q as %s: %v (%d found), want a validation error", tt.q, tt.asOf, err, len(list))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, r := range list {
				names = append(names, r.Name)
			}
			if got := strings.Join(names, ","); got != tt.want {
				t.Errorf("q=%q tag=%q as %s: %q, want %q", tt.q, tt.tag, tt.asOf, got, tt.want)
			}
		})
	}
}
