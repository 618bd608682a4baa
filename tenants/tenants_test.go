package tenants_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/wanjia/wanjia/pkg/authn"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/tenants"
)

const demoPassword = "demo-password-1"

func TestDemoLoads(t *testing.T) {
	t.Parallel()
	set, err := tenants.Demo()
	if err != nil {
		t.Fatalf("Demo: %v", err)
	}
	if len(set.Files) != 3 {
		t.Fatalf("demo has %d files, want 3", len(set.Files))
	}
	if f := set.Files[0]; f.Kind != orgs.KindSubdistrict || f.Slug != "qixing" || f.District == nil || f.District.Slug != "qixing-district" {
		t.Fatalf("first file is %s %s, want the sub-district qixing under qixing-district", f.Kind, f.Slug)
	}
	var communities []string
	for _, f := range set.Files[1:] {
		if f.Kind != orgs.KindCommunity || f.Subdistrict != "qixing" || len(f.Grids) != 5 {
			t.Errorf("%s: kind %s, subdistrict %q, %d grids", f.Slug, f.Kind, f.Subdistrict, len(f.Grids))
		}
		communities = append(communities, f.Slug)
	}
	sort.Strings(communities)
	if !slices.Equal(communities, []string{"wangcheng", "yucai"}) {
		t.Fatalf("communities = %v", communities)
	}
}

// Sub-districts come first whatever the file names, so parents exist
// before their communities.
func TestLoadOrdersSubdistrictsFirst(t *testing.T) {
	t.Parallel()
	dir := demoDir(t)
	b, err := os.ReadFile(dir + "/qixing.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(dir + "/qixing.yaml"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "zz-subdistrict.yml", string(b)) // sorts last, and .yml
	set, err := tenants.Load(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, f := range set.Files {
		kinds = append(kinds, f.Kind)
	}
	if !slices.Equal(kinds, []string{"subdistrict", "community", "community"}) {
		t.Fatalf("order = %v", kinds)
	}
	svc, _ := newOrgs(t)
	if _, err := tenants.Apply(context.Background(), svc, set, tenants.Options{Password: demoPassword}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

func TestLoadNoFiles(t *testing.T) {
	t.Parallel()
	if _, err := tenants.Load(os.DirFS(t.TempDir())); err == nil {
		t.Fatal("Load of an empty directory succeeded")
	}
}

// demoUsers is API.md's table of demo users.
var demoUsers = []struct {
	username, org, role string
	grids               []string
}{
	{"qixing.official", "qixing", authz.RoleSubdistrictOfficial, nil},
	{"yucai.admin", "yucai", authz.RoleCommunityAdmin, nil},
	{"yucai.staff", "yucai", authz.RoleCommunityStaff, nil},
	{"yucai.grid1", "yucai", authz.RoleGridWorker, []string{"yucai-g1"}},
	{"wangcheng.admin", "wangcheng", authz.RoleCommunityAdmin, nil},
	{"wangcheng.staff", "wangcheng", authz.RoleCommunityStaff, nil},
}

func TestApplyDemo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, notified := newOrgs(t)
	set, err := tenants.Demo()
	if err != nil {
		t.Fatal(err)
	}
	res, err := tenants.Apply(ctx, svc, set, tenants.Options{Password: demoPassword})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	// 4 orgs, 10 grids, 6 members.
	if len(res.Changes) != 20 {
		t.Errorf("first apply made %d changes, want 20: %q", len(res.Changes), res.Changes)
	}
	if len(res.Passwords) != 0 {
		t.Errorf("passwords were generated although one was given: %v", res.Passwords)
	}
	if notified.count() != 1 {
		t.Errorf("authz told of %d changes, want 1", notified.count())
	}

	// The tree.
	orgTests := []struct{ slug, kind, parent string }{
		{"qixing-district", orgs.KindDistrict, ""},
		{"qixing", orgs.KindSubdistrict, "qixing-district"},
		{"yucai", orgs.KindCommunity, "qixing"},
		{"wangcheng", orgs.KindCommunity, "qixing"},
	}
	for _, tt := range orgTests {
		o, err := svc.Get(ctx, tt.slug)
		if err != nil {
			t.Errorf("org %s: %v", tt.slug, err)
			continue
		}
		if o.Kind != tt.kind || o.Parent != tt.parent || o.Timezone != "Asia/Shanghai" {
			t.Errorf("org %s = %+v, want kind %s parent %q", tt.slug, o, tt.kind, tt.parent)
		}
		// The demo communities keep the defaults, and watch returnees from
		// where the outbreak began.
		want := orgs.DefaultSettings()
		want.WatchList = []string{"武汉", "湖北"}
		if tt.kind == orgs.KindCommunity && (o.Settings == nil || !o.Settings.Equal(want)) {
			t.Errorf("org %s settings = %+v", tt.slug, o.Settings)
		}
	}
	if o, _ := svc.Get(ctx, "yucai"); o.Name != "师大育才社区" {
		t.Errorf("yucai name = %q", o.Name)
	}

	// The grids.
	for _, c := range []string{"yucai", "wangcheng"} {
		got := gridSlugs(t, svc, c)
		want := []string{c + "-g1", c + "-g2", c + "-g3", c + "-g4", c + "-g5"}
		if !slices.Equal(got, want) {
			t.Errorf("%s grids = %v, want %v", c, got, want)
		}
	}

	// The users, their memberships and passwords.
	for _, du := range demoUsers {
		u, err := authn.UserByUsername(ctx, svc.DB, du.username)
		if err != nil {
			t.Errorf("user %s: %v", du.username, err)
			continue
		}
		if ok, err := authn.CheckPassword(u.PasswordHash, demoPassword); err != nil || !ok {
			t.Errorf("user %s: demo password does not work (%v)", du.username, err)
		}
		if u.DisplayName == "" {
			t.Errorf("user %s has no display name", du.username)
		}
		me := svc.Me(ctx, u)
		if len(me.Memberships) != 1 {
			t.Errorf("%s memberships = %+v, want one", du.username, me.Memberships)
			continue
		}
		m := me.Memberships[0]
		want := du.grids
		if want == nil {
			want = []string{}
		}
		if m.Org != du.org || m.Role != du.role || !slices.Equal(m.Grids, want) {
			t.Errorf("%s membership = %+v, want %s in %s grids %v", du.username, m, du.role, du.org, want)
		}
	}

	// And the decisions they lead to.
	id := func(username string) string {
		u, err := authn.UserByUsername(ctx, svc.DB, username)
		if err != nil {
			t.Fatalf("user %s: %v", username, err)
		}
		return u.ID
	}
	decisions := []struct {
		user, org, obj, act string
		allowed             bool
		role                string
	}{
		{"yucai.admin", "yucai", "members", "write", true, authz.RoleCommunityAdmin},
		{"yucai.admin", "wangcheng", "roster", "read", false, ""},
		{"yucai.staff", "yucai", "roster", "write", true, authz.RoleCommunityStaff},
		{"yucai.staff", "yucai", "members", "write", false, authz.RoleCommunityStaff},
		{"yucai.grid1", "yucai", "roster", "write", true, authz.RoleGridWorker},
		{"yucai.grid1", "yucai", "roster", "export", false, authz.RoleGridWorker},
		{"wangcheng.admin", "wangcheng", "grids", "write", true, authz.RoleCommunityAdmin},
		{"wangcheng.admin", "yucai", "orgs", "read", false, ""},
		{"wangcheng.staff", "wangcheng", "reports", "write", true, authz.RoleCommunityStaff},
		{"qixing.official", "yucai", "roster", "read", true, authz.RoleSubdistrictOfficial},
		{"qixing.official", "wangcheng", "reports", "export", true, authz.RoleSubdistrictOfficial},
		{"qixing.official", "yucai", "roster", "write", false, authz.RoleSubdistrictOfficial},
		{"qixing.official", "qixing-district", "reports", "read", false, ""},
	}
	for _, tt := range decisions {
		d := svc.Authz.Check(id(tt.user), tt.org, tt.obj, tt.act)
		if d.Allowed != tt.allowed || d.Role != tt.role {
			t.Errorf("%s %s %s in %s: allowed=%v role=%q, want %v %q", tt.user, tt.act, tt.obj, tt.org, d.Allowed, d.Role, tt.allowed, tt.role)
		}
	}
	if d := svc.Authz.Check(id("yucai.grid1"), "yucai", "roster", "read"); !slices.Equal(d.Grids, []string{"yucai-g1"}) {
		t.Errorf("yucai.grid1 grids = %v", d.Grids)
	}

	// Applying the same definitions again changes nothing.
	again, err := tenants.Apply(ctx, svc, set, tenants.Options{Password: "another-password"})
	if err != nil {
		t.Fatalf("second Apply: %v", err)
	}
	if len(again.Changes) != 0 || len(again.Passwords) != 0 {
		t.Fatalf("second apply changed %q, generated %v", again.Changes, again.Passwords)
	}
	if notified.count() != 1 {
		t.Errorf("a no-op apply told authz of a change")
	}
	// Existing users keep their password.
	u, _ := authn.UserByUsername(ctx, svc.DB, "yucai.admin")
	if ok, _ := authn.CheckPassword(u.PasswordHash, demoPassword); !ok {
		t.Error("re-applying changed an existing user's password")
	}
}

// Without a password, each new user gets a random one, reported once.
func TestApplyGeneratesPasswords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, _ := newOrgs(t)
	set, err := tenants.Demo()
	if err != nil {
		t.Fatal(err)
	}
	res, err := tenants.Apply(ctx, svc, set, tenants.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Passwords) != len(demoUsers) {
		t.Fatalf("generated %d passwords, want %d: %v", len(res.Passwords), len(demoUsers), res.Passwords)
	}
	seen := map[string]bool{}
	for _, du := range demoUsers {
		pw := res.Passwords[du.username]
		if len(pw) < 12 || seen[pw] {
			t.Errorf("%s: weak or repeated password %q", du.username, pw)
		}
		seen[pw] = true
		u, err := authn.UserByUsername(ctx, svc.DB, du.username)
		if err != nil {
			t.Fatal(err)
		}
		if ok, _ := authn.CheckPassword(u.PasswordHash, pw); !ok {
			t.Errorf("%s: the reported password does not work", du.username)
		}
	}
	again, err := tenants.Apply(ctx, svc, set, tenants.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Passwords) != 0 || len(again.Changes) != 0 {
		t.Fatalf("second apply: changes %q, passwords %v", again.Changes, again.Passwords)
	}
}

func gridSlugs(t *testing.T, svc *orgs.Service, community string) []string {
	t.Helper()
	names := gridNames(t, svc, community)
	out := make([]string, 0, len(names))
	for s := range names {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func gridNames(t *testing.T, svc *orgs.Service, community string) map[string]string {
	t.Helper()
	o, ok := svc.Authz.Org(community)
	if !ok {
		t.Fatalf("authz does not know %s", community)
	}
	ctx := scope.With(context.Background(), scope.Tenant{TenantID: o.ID})
	grids, err := svc.ListGrids(ctx)
	if err != nil {
		t.Fatalf("grids of %s: %v", community, err)
	}
	out := map[string]string{}
	for _, g := range grids {
		out[g.Slug] = g.Name
	}
	return out
}

// A changed file updates exactly what changed.
func TestApplyChanges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		edits []edit
		want  []string
		check func(t *testing.T, svc *orgs.Service)
	}{
		{
			name: "rename a grid and change isolation days",
			edits: []edit{
				{"yucai.yaml", "{slug: yucai-g3, name: 北院}", "{slug: yucai-g3, name: 北院（新）}"},
				{"yucai.yaml", "isolation_days: 14", "isolation_days: 21"},
			},
			want: []string{"org yucai", "grid yucai-g3"},
			check: func(t *testing.T, svc *orgs.Service) {
				o, err := svc.Get(context.Background(), "yucai")
				if err != nil {
					t.Fatal(err)
				}
				if o.Settings.IsolationDays != 21 || o.Settings.ReportCutoff != "18:00" || o.Name != "师大育才社区" {
					t.Errorf("yucai = %+v %+v", o, o.Settings)
				}
				if w, _ := svc.Get(context.Background(), "wangcheng"); w.Settings.IsolationDays != 14 {
					t.Errorf("wangcheng isolation days changed to %d", w.Settings.IsolationDays)
				}
				g := gridNames(t, svc, "yucai")
				if g["yucai-g3"] != "北院（新）" || g["yucai-g1"] != "东院" || len(g) != 5 {
					t.Errorf("yucai grids = %v", g)
				}
			},
		},
		{
			name:  "rename a community",
			edits: []edit{{"wangcheng.yaml", "name: 王城社区", "name: 王城社区（东）"}},
			want:  []string{"org wangcheng"},
		},
		{
			name:  "rename the district",
			edits: []edit{{"qixing.yaml", "name: 七星区", "name: 桂林市七星区"}},
			want:  []string{"org qixing-district"},
		},
		{
			name:  "add a grid",
			edits: []edit{{"yucai.yaml", "  - {slug: yucai-g5, name: 市场及出租屋}\n", "  - {slug: yucai-g5, name: 市场及出租屋}\n  - {slug: yucai-g6, name: 新区}\n"}},
			want:  []string{"grid yucai-g6"},
			check: func(t *testing.T, svc *orgs.Service) {
				if g := gridNames(t, svc, "yucai"); g["yucai-g6"] != "新区" || len(g) != 6 {
					t.Errorf("yucai grids = %v", g)
				}
			},
		},
		{
			name:  "give a grid worker another grid",
			edits: []edit{{"yucai.yaml", "grids: [yucai-g1]", "grids: [yucai-g1, yucai-g2]"}},
			want:  []string{"member yucai.grid1 in yucai"},
			check: func(t *testing.T, svc *orgs.Service) {
				u, err := authn.UserByUsername(context.Background(), svc.DB, "yucai.grid1")
				if err != nil {
					t.Fatal(err)
				}
				d := svc.Authz.Check(u.ID, "yucai", "roster", "read")
				if !slices.Equal(d.Grids, []string{"yucai-g1", "yucai-g2"}) {
					t.Errorf("grids = %v", d.Grids)
				}
			},
		},
		{
			name:  "promote staff to admin",
			edits: []edit{{"wangcheng.yaml", "role: community_staff", "role: community_admin"}},
			want:  []string{"member wangcheng.staff in wangcheng"},
			check: func(t *testing.T, svc *orgs.Service) {
				u, err := authn.UserByUsername(context.Background(), svc.DB, "wangcheng.staff")
				if err != nil {
					t.Fatal(err)
				}
				if d := svc.Authz.Check(u.ID, "wangcheng", "members", "write"); !d.Allowed || d.Role != authz.RoleCommunityAdmin {
					t.Errorf("decision = %+v", d)
				}
			},
		},
		{
			name:  "add a member",
			edits: []edit{{"wangcheng.yaml", "role: community_staff}", "role: community_staff}\n  - {username: wangcheng.grid2, display_name: 南区网格员, role: grid_worker, grids: [wangcheng-g2]}"}},
			want:  []string{"member wangcheng.grid2 in wangcheng"},
		},
		{
			name:  "comments and formatting only",
			edits: []edit{{"yucai.yaml", "kind: community", "# reformatted\nkind:   community"}},
			want:  nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			svc, notified := newOrgs(t)
			demo, err := tenants.Demo()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tenants.Apply(ctx, svc, demo, tenants.Options{Password: demoPassword}); err != nil {
				t.Fatal(err)
			}
			before := notified.count()
			set, err := tenants.Load(os.DirFS(demoDir(t, tt.edits...)))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			res, err := tenants.Apply(ctx, svc, set, tenants.Options{Password: demoPassword})
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if !slices.Equal(res.Changes, tt.want) {
				t.Fatalf("changes = %q, want %q", res.Changes, tt.want)
			}
			if wantNotify := min(len(tt.want), 1); notified.count()-before != wantNotify {
				t.Errorf("authz notified %d times, want %d", notified.count()-before, wantNotify)
			}
			if tt.check != nil {
				tt.check(t, svc)
			}
			again, err := tenants.Apply(ctx, svc, set, tenants.Options{Password: demoPassword})
			if err != nil || len(again.Changes) != 0 {
				t.Fatalf("re-apply: %q, %v", again.Changes, err)
			}
		})
	}
}

// countOrgs is how many orgs the database holds.
func countOrgs(t *testing.T, svc *orgs.Service) int64 {
	t.Helper()
	n, err := svc.DB.NewSelect().Model((*orgs.Org)(nil)).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Definitions that pass Load but that the database refuses are rejected
// whole at Apply: one transaction, nothing left behind.
func TestApplyRollsBack(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		edits []edit
		want  string // in the error
	}{
		{"community under an unknown sub-district", []edit{{"yucai.yaml", "subdistrict: qixing", "subdistrict: nowhere"}}, "yucai.yaml"},
		{"role that a sub-district cannot hold", []edit{{"qixing.yaml", "role: subdistrict_official", "role: community_admin"}}, "qixing.yaml"},
		{"unknown role", []edit{{"wangcheng.yaml", "role: community_staff", "role: community_staf"}}, "wangcheng.yaml"},
		{"bad username", []edit{{"wangcheng.yaml", "username: wangcheng.staff", "username: 王城"}}, "wangcheng.yaml"},
		{"grid worker without grids", []edit{{"yucai.yaml", ", grids: [yucai-g1]", ""}}, "yucai.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			svc, notified := newOrgs(t)
			set, err := tenants.Load(os.DirFS(demoDir(t, tt.edits...)))
			if err != nil {
				var inv *tenants.Invalid
				if !errors.As(err, &inv) {
					t.Fatalf("Load: %v", err)
				}
				// Caught even earlier: fine, with file and line.
				if !strings.Contains(err.Error(), tt.want+":") {
					t.Fatalf("Load error %v does not name %s", err, tt.want)
				}
				return
			}
			res, err := tenants.Apply(ctx, svc, set, tenants.Options{Password: demoPassword})
			if err == nil {
				t.Fatalf("Apply succeeded: %q", res.Changes)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %s", err, tt.want)
			}
			t.Logf("rejected: %v", err)
			if n := countOrgs(t, svc); n != 0 {
				t.Errorf("%d orgs left behind by a rejected apply", n)
			}
			if _, err := authn.UserByUsername(ctx, svc.DB, "qixing.official"); !errors.Is(err, authn.ErrNoUser) {
				t.Errorf("a user was left behind: %v", err)
			}
			if notified.count() != 0 {
				t.Errorf("authz notified of a rolled-back apply")
			}
		})
	}
}
