package authz

import (
	"context"
	"slices"
	"sort"
	"strings"
	"testing"
)

// allowed is the permissions table as it is meant to be, written out by
// hand: role → every "resource action" it holds. A line deleted from or
// added to policy.csv without changing this table fails
// TestPolicyIsExactlyTheTable, so deny by default cannot erode (or widen)
// unnoticed.
var allowed = map[string][]string{
	RolePlatformAdmin: {
		"grids read", "invitations write", "members read", "members write", "orgs read", "orgs write",
	},
	RoleSubdistrictOfficial: {
		"audit read", "grids read", "members read", "orgs read",
		"reports export", "reports read", "roster export", "roster read",
		"screening read", "logs read", "logs export", "directives read", "directives write",
	},
	RoleCommunityAdmin: {
		"audit read", "grids read", "grids write", "imports write", "invitations write", "members read", "members write",
		"orgs read", "reports export", "reports read", "reports submit", "reports write", "directives read", "directives ack",
		"residents_id_numbers export", "roster export", "roster read", "roster write", "settings write",
		"screening read", "screening write", "attempts write", "follow_ups write",
		"logs read", "logs write", "logs export", "care read", "care write",
		"outreach read", "outreach write", "outreach send", "opt_outs read", "opt_outs write",
		"wecom_robot read", "wecom_robot write",
		"isolation read", "isolation write", "checkins write", "alerts read", "alerts write", "support read", "support write",
	},
	RoleCommunityStaff: {
		"grids read", "imports write", "orgs read", "reports read", "reports write", "directives read", "directives ack",
		"roster export", "roster read", "roster write",
		"screening read", "screening write", "attempts write", "follow_ups write",
		"logs read", "logs write", "logs export", "care read", "care write",
		"outreach read", "outreach write", "outreach send", "opt_outs read", "opt_outs write",
		"wecom_robot read",
		"isolation read", "isolation write", "checkins write", "alerts read", "alerts write", "support read", "support write",
	},
	RoleGridWorker: {
		"grids read", "orgs read", "roster read", "roster write",
		"screening read", "attempts write", "logs read", "logs write", "care read", "care write",
		"isolation read", "checkins write", "alerts read", "support read", "support write",
	},
}

// TestPolicyIsExactlyTheTable compares the embedded policy with the table
// above, line by line.
func TestPolicyIsExactlyTheTable(t *testing.T) {
	got := map[string][]string{}
	for _, p := range Policy() {
		got[p[0]] = append(got[p[0]], p[1]+" "+p[2])
	}
	for _, role := range Roles {
		g := got[role]
		sort.Strings(g)
		want := slices.Clone(allowed[role])
		sort.Strings(want)
		if !slices.Equal(g, want) {
			t.Errorf("%s: policy.csv grants\n  %s\nwant\n  %s", role, strings.Join(g, ", "), strings.Join(want, ", "))
		}
		delete(got, role)
	}
	for role := range got {
		t.Errorf("policy.csv names role %q, which the table does not", role)
	}
}

// TestDecisionsFollowTheTable asks the enforcer itself, for every role and
// every (resource, action) known anywhere, and expects an allow exactly
// where the table says so: the model, the grants and the policy together
// must deny everything else.
func TestDecisionsFollowTheTable(t *testing.T) {
	a, err := New(context.Background(), snapSource{demo()})
	if err != nil {
		t.Fatal(err)
	}
	resources := map[string]bool{"no-such-resource": true}
	actions := map[string]bool{"delete": true, "admin": true}
	for _, perms := range allowed {
		for _, p := range perms {
			r, act, _ := strings.Cut(p, " ")
			resources[r], actions[act] = true, true
		}
	}
	for _, p := range Policy() {
		resources[p[1]], actions[p[2]] = true, true
	}
	// One holder of each role, asked in a community (where every role
	// applies: the platform admin's and the official's grants reach down).
	holders := map[string]string{
		RolePlatformAdmin: "admin", RoleSubdistrictOfficial: "official",
		RoleCommunityAdmin: "ycadmin", RoleCommunityStaff: "ycstaff", RoleGridWorker: "ycgrid",
	}
	for _, role := range Roles {
		user := holders[role]
		if user == "" {
			t.Fatalf("no holder of %s in the demo snapshot", role)
		}
		for r := range resources {
			for act := range actions {
				want := slices.Contains(allowed[role], r+" "+act)
				if got := a.Check(user, "yucai", r, act).Allowed; got != want {
					t.Errorf("%s: %s %s in a community allowed=%v, want %v", role, r, act, got, want)
				}
			}
		}
	}
	// Roles bind to their org: a community role gives nothing elsewhere.
	if a.Check("ycadmin", "wangcheng", "orgs", "read").Allowed || a.Check("ycadmin", "qixing", "orgs", "read").Allowed {
		t.Error("a community admin is allowed outside its community")
	}
}
