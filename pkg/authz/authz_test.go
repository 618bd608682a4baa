package authz

import (
	"context"
	"fmt"
	"testing"
)

type snapSource struct{ s *Snapshot }

func (s snapSource) AuthzSnapshot(context.Context) (*Snapshot, error) { return s.s, nil }

func demo() *Snapshot {
	return &Snapshot{
		Orgs: []Org{
			{ID: "d", Slug: "qixing-district", Kind: "district", Path: "/qixing-district/"},
			{ID: "s", Slug: "qixing", Kind: "subdistrict", Path: "/qixing-district/qixing/"},
			{ID: "y", Slug: "yucai", Kind: "community", Path: "/qixing-district/qixing/yucai/"},
			{ID: "w", Slug: "wangcheng", Kind: "community", Path: "/qixing-district/qixing/wangcheng/"},
		},
		Memberships: []Membership{
			{UserID: "admin", Role: RolePlatformAdmin},
			{UserID: "official", OrgID: "s", Role: RoleSubdistrictOfficial},
			{UserID: "ycadmin", OrgID: "y", Role: RoleCommunityAdmin},
			{UserID: "ycstaff", OrgID: "y", Role: RoleCommunityStaff},
			{UserID: "ycgrid", OrgID: "y", Role: RoleGridWorker, Grids: []string{"yucai-g1"}},
			{UserID: "wcadmin", OrgID: "w", Role: RoleCommunityAdmin},
		},
	}
}

func TestCheck(t *testing.T) {
	a, err := New(context.Background(), snapSource{demo()})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		user, org, obj, act string
		allowed             bool
		role                string
	}{
		{"ycadmin", "yucai", "members", "write", true, RoleCommunityAdmin},
		{"ycadmin", "wangcheng", "roster", "read", false, ""},
		{"wcadmin", "yucai", "roster", "read", false, ""},
		{"ycstaff", "yucai", "roster", "write", true, RoleCommunityStaff},
		{"ycstaff", "yucai", "members", "write", false, RoleCommunityStaff},
		{"ycstaff", "yucai", "audit", "read", false, RoleCommunityStaff},
		{"ycgrid", "yucai", "roster", "write", true, RoleGridWorker},
		{"ycgrid", "yucai", "roster", "export", false, RoleGridWorker},
		{"official", "yucai", "roster", "read", true, RoleSubdistrictOfficial},
		{"official", "wangcheng", "reports", "export", true, RoleSubdistrictOfficial},
		{"official", "qixing", "reports", "read", true, RoleSubdistrictOfficial},
		{"official", "yucai", "roster", "write", false, RoleSubdistrictOfficial},
		{"official", "qixing-district", "reports", "read", false, ""},
		{"admin", RootDomain, "orgs", "write", true, RolePlatformAdmin},
		{"admin", "yucai", "members", "write", true, RolePlatformAdmin},
		{"admin", "yucai", "roster", "read", false, RolePlatformAdmin},
		{"ycadmin", RootDomain, "orgs", "write", false, ""},
		{"ycadmin", "no-such-org", "orgs", "read", false, ""},
		{"nobody", "yucai", "orgs", "read", false, ""},
		{"ycadmin", "yucai", "no-such-resource", "read", false, RoleCommunityAdmin},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s/%s/%s", tt.user, tt.org, tt.obj, tt.act), func(t *testing.T) {
			for i := 0; i < 2; i++ { // the second answer comes from the cache
				d := a.Check(tt.user, tt.org, tt.obj, tt.act)
				if d.Allowed != tt.allowed || d.Role != tt.role {
					t.Fatalf("pass %d: allowed=%v role=%q, want %v %q", i, d.Allowed, d.Role, tt.allowed, tt.role)
				}
			}
		})
	}
	if d := a.Check("ycgrid", "yucai", "roster", "read"); len(d.Grids) != 1 || d.Grids[0] != "yucai-g1" {
		t.Fatalf("grid worker grids = %v", d.Grids)
	}
}

func TestReloadSeesNewMembership(t *testing.T) {
	snap := demo()
	a, err := New(context.Background(), snapSource{snap})
	if err != nil {
		t.Fatal(err)
	}
	if a.Check("newcomer", "wangcheng", "roster", "read").Allowed {
		t.Fatal("allowed before the grant")
	}
	snap.Memberships = append(snap.Memberships, Membership{UserID: "newcomer", OrgID: "w", Role: RoleCommunityStaff})
	if err := a.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !a.Check("newcomer", "wangcheng", "roster", "read").Allowed {
		t.Fatal("not allowed after the grant and a reload")
	}
}

func TestPolicyRolesAreKnown(t *testing.T) {
	known := map[string]bool{}
	for _, r := range Roles {
		known[r] = true
	}
	for _, p := range Policy() {
		if !known[p[0]] {
			t.Errorf("policy names unknown role %q", p[0])
		}
	}
}

// BenchmarkCheck is the per-request authorization check with 1,000
// communities of 20 users each.
func BenchmarkCheck(b *testing.B) {
	snap := &Snapshot{Orgs: []Org{{ID: "d", Slug: "d", Kind: "district", Path: "/d/"}}}
	for s := 0; s < 50; s++ {
		sid := fmt.Sprintf("s%d", s)
		snap.Orgs = append(snap.Orgs, Org{ID: sid, Slug: sid, Kind: "subdistrict", Path: "/d/" + sid + "/"})
		snap.Memberships = append(snap.Memberships, Membership{UserID: "official-" + sid, OrgID: sid, Role: RoleSubdistrictOfficial})
		for c := 0; c < 20; c++ {
			cid := fmt.Sprintf("c%d-%d", s, c)
			snap.Orgs = append(snap.Orgs, Org{ID: cid, Slug: cid, Kind: "community", Path: "/d/" + sid + "/" + cid + "/"})
			for u := 0; u < 20; u++ {
				role := []string{RoleCommunityAdmin, RoleCommunityStaff, RoleGridWorker}[u%3]
				snap.Memberships = append(snap.Memberships, Membership{UserID: fmt.Sprintf("u-%s-%d", cid, u), OrgID: cid, Role: role, Grids: []string{"g1"}})
			}
		}
	}
	a, err := New(context.Background(), snapSource{snap})
	if err != nil {
		b.Fatal(err)
	}
	users := make([]string, 0, 1000)
	orgs := make([]string, 0, 1000)
	for s := 0; s < 50; s++ {
		for c := 0; c < 20; c++ {
			cid := fmt.Sprintf("c%d-%d", s, c)
			orgs = append(orgs, cid)
			users = append(users, fmt.Sprintf("u-%s-%d", cid, c%20))
		}
	}
	for i := range users { // warm: the first check of a pair goes to Casbin
		a.Check(users[i], orgs[i], "roster", "read")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % len(users)
		if !a.Check(users[j], orgs[j], "roster", "read").Allowed {
			b.Fatal("denied")
		}
	}
}

// BenchmarkCheckCold measures a first decision (Casbin itself).
func BenchmarkCheckCold(b *testing.B) {
	a, err := New(context.Background(), snapSource{demo()})
	if err != nil {
		b.Fatal(err)
	}
	st := a.cur.Load()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		st.decide("ycstaff", "yucai", "roster", "write")
	}
}
