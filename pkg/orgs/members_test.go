package orgs_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/authn"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/orgs"
)

// addShijia adds a third community with no admin yet.
func (f *fixture) addShijia(t *testing.T) {
	t.Helper()
	err := f.svc.DB.InTx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		_, err := f.svc.ApplyOrg(ctx, tx, orgs.OrgInput{Slug: "shijia", Name: "世纪社区", Kind: orgs.KindCommunity, Parent: "qixing"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Authz.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func newAccount(username, role string) orgs.MemberInput {
	return orgs.MemberInput{Username: username, DisplayName: "某人", Password: "a-long-pass-2022", Role: role}
}

// TestPlatformAdminAppointsTheFirstAdminOnly: the platform admin makes a
// community's first admin, and no second one (which would read residents'
// phones on its behalf), neither directly nor by invitation; later admins
// come from the community's own admins. Officials are not affected.
func TestPlatformAdminAppointsTheFirstAdminOnly(t *testing.T) {
	f := newFixture(t)
	f.addShijia(t)
	admin := func() context.Context { return f.as(t, "admin", "shijia") }
	steps := []struct {
		name string
		do   func() error
		code string // "" for success
	}{
		{"the first admin", func() error {
			_, err := f.svc.AddMember(admin(), "shijia", newAccount("shijia.admin", authz.RoleCommunityAdmin))
			return err
		}, ""},
		{"a second admin by the platform admin", func() error {
			_, err := f.svc.AddMember(admin(), "shijia", newAccount("shijia.admin2", authz.RoleCommunityAdmin))
			return err
		}, "community_has_admin"},
		{"an existing account as admin of a community with one", func() error {
			_, err := f.svc.AddMember(f.as(t, "admin", "yucai"), "yucai", orgs.MemberInput{Username: "wangcheng.staff", Role: authz.RoleCommunityAdmin})
			return err
		}, "community_has_admin"},
		{"an invitation to be admin, by the platform admin", func() error {
			return f.svc.Invite(f.as(t, "admin", "yucai"), "yucai", orgs.InvitationInput{Username: "wangcheng.staff", Role: authz.RoleCommunityAdmin})
		}, "community_has_admin"},
		{"a second admin by the first", func() error {
			f.users["shijia.admin"] = f.user(t, "shijia.admin")
			_, err := f.svc.AddMember(f.as(t, "shijia.admin", "shijia"), "shijia", newAccount("shijia.deputy", authz.RoleCommunityAdmin))
			return err
		}, ""},
		{"officials, as many as needed", func() error {
			for _, name := range []string{"qixing.official1", "qixing.official2"} {
				if _, err := f.svc.AddMember(f.as(t, "admin", "qixing"), "qixing", newAccount(name, authz.RoleSubdistrictOfficial)); err != nil {
					return err
				}
			}
			return nil
		}, ""},
	}
	for _, s := range steps {
		err := s.do()
		if s.code == "" && err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if s.code != "" && (codeOf(err) != s.code || kindOf(err) != errs.KindForbidden) {
			t.Fatalf("%s: %v, want %s (403)", s.name, err, s.code)
		}
	}
	ms, err := f.svc.ListMembers(admin(), "shijia")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Username != "shijia.admin" || ms[1].Username != "shijia.deputy" {
		t.Fatalf("shijia's members: %+v", ms)
	}
}

// TestPlatformAdminsOfferLapses: the platform admin's invitation to be a
// community's first admin cannot be accepted once the community has one.
func TestPlatformAdminsOfferLapses(t *testing.T) {
	f := newFixture(t)
	f.addShijia(t)
	if err := f.svc.Invite(f.as(t, "admin", "shijia"), "shijia", orgs.InvitationInput{Username: "wangcheng.staff", Role: authz.RoleCommunityAdmin}); err != nil {
		t.Fatal(err)
	}
	inv := f.pending(t, "wangcheng.staff")[0]
	if _, err := f.svc.AddMember(f.as(t, "admin", "shijia"), "shijia", newAccount("shijia.admin", authz.RoleCommunityAdmin)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AcceptInvitation(context.Background(), f.users["wangcheng.staff"], inv.ID); codeOf(err) != "invitation_withdrawn" {
		t.Fatalf("accepting the lapsed offer: %v", err)
	}
}

// TestNewAccountsInTheCommunitysNamespace: a community admin creates
// accounts named "<community>.<name>" only, so POST /members answers a
// name taken in another community exactly as a free one there: it cannot
// be used to find out which accounts exist elsewhere.
func TestNewAccountsInTheCommunitysNamespace(t *testing.T) {
	f := newFixture(t)
	ctx := f.as(t, "yucai.admin", "yucai")
	add := func(username string) error {
		_, err := f.svc.AddMember(ctx, "yucai", newAccount(username, authz.RoleCommunityStaff))
		return err
	}
	// Taken elsewhere and free elsewhere: one answer.
	pairs := [][2]string{
		{"wangcheng.staff", "wangcheng.nobody"},
		{"wangcheng.admin", "wangcheng.newcomer"},
		{"admin", "adminx"},
		{"yucai", "yucaix"}, // no dot: not in the namespace
	}
	for _, p := range pairs {
		taken, free := add(p[0]), add(p[1])
		if taken == nil || free == nil || kindOf(taken) != errs.KindValidation || describe(taken) != describe(free) {
			t.Errorf("%s (taken) answers %v; %s (free) answers %v", p[0], taken, p[1], free)
		}
		var e *errs.Error
		if errors.As(taken, &e) && (len(e.Fields) != 1 || e.Fields[0].Key != "username_outside_community" || e.Fields[0].Args["prefix"] != "yucai.") {
			t.Errorf("%s: %+v", p[0], e.Fields)
		}
	}
	// Inside the namespace, new accounts are made.
	if err := add("yucai.newcomer"); err != nil {
		t.Fatal(err)
	}
	// The platform admin and declarations are not held to it.
	if _, err := f.svc.AddMember(f.as(t, "admin", "qixing"), "qixing", newAccount("official.elsewhere", authz.RoleSubdistrictOfficial)); err != nil {
		t.Fatal(err)
	}
}

// describe is what an answer tells a client: kind, code, key, fields and
// their arguments.
func describe(err error) string {
	var e *errs.Error
	if !errors.As(err, &e) {
		return fmt.Sprint(err)
	}
	return fmt.Sprintf("%v %s %s %v %v %v", e.Kind, e.MachineCode(), e.Key, e.Args, e.Fields, e.Data)
}

func (f *fixture) user(t *testing.T, username string) *authn.User {
	t.Helper()
	u, err := authn.UserByUsername(context.Background(), f.svc.DB, username)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
