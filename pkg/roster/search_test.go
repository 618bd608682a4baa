package roster_test

import (
	"strings"
	"testing"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/pii"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// TestSearchResidents: q is a name's start, a phone's end, or a whole ID
// number for the roles that see ID numbers.
func TestSearchResidents(t *testing.T) {
	db := storetest.New(t)
	staff := community(t, db)
	official := authz.WithCaller(staff, authz.Caller{UserID: "u-2", Username: "official", Role: authz.RoleSubdistrictOfficial})
	s := &roster.Service{DB: db}
	home, err := s.CreateHousehold(staff, roster.HouseholdInput{Grid: "g1", Address: "七星路1号"})
	if err != nil {
		t.Fatal(err)
	}
	id := "45030519500101002"
	id += string(pii.CheckDigit(id))
	for _, in := range []roster.ResidentInput{
		{HouseholdID: home.ID, Name: "张三", Phone: "13900001234", IDNumber: id},
		{HouseholdID: home.ID, Name: "张三丰", Phone: "13900005678"},
		{HouseholdID: home.ID, Name: "李四"},
	} {
		if _, err := s.CreateResident(staff, in); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name string
		asOf string
		q    string
		want string
	}{
		{"name start", "staff", "张三", "张三,张三丰"},
		{"whole name", "staff", "李四", "李四"},
		{"phone end", "staff", "1234", "张三"},
		{"phone end, official", "official", "5678", "张三丰"},
		{"ID number", "staff", id, "张三"},
		{"ID number, lower-case x", "staff", strings.ToLower(id), "张三"},
		{"ID number, official", "official", id, ""},
		{"nothing", "staff", "王", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := staff
			if tt.asOf == "official" {
				ctx = official
			}
			list, _, err := s.ListResidents(ctx, roster.Filter{Q: tt.q, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, r := range list {
				names = append(names, r.Name)
			}
			if got := strings.Join(names, ","); got != tt.want {
				t.Errorf("q=%q as %s: %q, want %q", tt.q, tt.asOf, got, tt.want)
			}
		})
	}
}
