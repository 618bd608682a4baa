package orgs_test

import (
	"context"
	"errors"
	"testing"

	"github.com/wanjia/wanjia/pkg/authn"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/store"
)

func keyOf(err error) string {
	var e *errs.Error
	if errors.As(err, &e) {
		if e.Kind == errs.KindValidation && len(e.Fields) > 0 {
			return e.Fields[0].Key
		}
		return e.Key
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func ptr(s string) *string { return &s }

// TestManageMembers: a community admin edits its people (name, phone, role
// and grids within what it may grant), disables and enables them, and
// gives them a new password; never itself, nor another org's member, nor
// the account fields of an account that is not its community's. The
// platform admin manages no one but the admins it may appoint, and cannot
// make a second admin or demote one.
func TestManageMembers(t *testing.T) {
	f := newFixture(t)
	admin := func() context.Context { return f.as(t, "yucai.admin", "yucai") }
	platform := func() context.Context { return f.as(t, "admin", "yucai") }
	staff, wstaff := f.users["yucai.staff"].ID, f.users["wangcheng.staff"].ID
	// wangcheng.staff joins yucai too, by invitation.
	if err := f.svc.Invite(admin(), "yucai", orgs.InvitationInput{Username: "wangcheng.staff", Role: authz.RoleCommunityStaff}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AcceptInvitation(context.Background(), f.users["wangcheng.staff"], f.pending(t, "wangcheng.staff")[0].ID); err != nil {
		t.Fatal(err)
	}
	grid := authz.RoleGridWorker
	for _, s := range []struct {
		name string
		do   func() error
		want string // the error's key; "" for success
	}{
		{"name and phone", func() error {
			_, err := f.svc.UpdateMember(admin(), "yucai", staff, orgs.MemberPatch{DisplayName: ptr("李四"), Phone: ptr("13800001111")})
			return err
		}, ""},
		{"a bad phone", func() error {
			_, err := f.svc.UpdateMember(admin(), "yucai", staff, orgs.MemberPatch{Phone: ptr("12345")})
			return err
		}, "invalid_mobile"},
		{"to grid worker without grids", func() error {
			_, err := f.svc.UpdateMember(admin(), "yucai", staff, orgs.MemberPatch{Role: &grid})
			return err
		}, "required"},
		{"to grid worker of a grid", func() error {
			_, err := f.svc.UpdateMember(admin(), "yucai", staff, orgs.MemberPatch{Role: &grid, Grids: []string{"yucai-g1"}})
			return err
		}, ""},
		{"to a grid of another community", func() error {
			_, err := f.svc.UpdateMember(admin(), "yucai", staff, orgs.MemberPatch{Grids: []string{"wangcheng-g1"}})
			return err
		}, "unknown_grid"},
		{"to an official", func() error {
			_, err := f.svc.UpdateMember(admin(), "yucai", staff, orgs.MemberPatch{Role: ptr(authz.RoleSubdistrictOfficial)})
			return err
		}, "invalid_choice"},
		{"to platform admin", func() error {
			_, err := f.svc.UpdateMember(admin(), "yucai", staff, orgs.MemberPatch{Role: ptr(authz.RolePlatformAdmin)})
			return err
		}, "invalid_choice"},
		{"itself", func() error {
			_, err := f.svc.UpdateMember(admin(), "yucai", f.users["yucai.admin"].ID, orgs.MemberPatch{Role: ptr(authz.RoleCommunityStaff)})
			return err
		}, "may_not_grant_self"},
		{"another community's member", func() error {
			_, err := f.svc.UpdateMember(admin(), "yucai", f.users["wangcheng.admin"].ID, orgs.MemberPatch{DisplayName: ptr("x")})
			return err
		}, "not_found"},
		{"the role of an account of another community", func() error {
			_, err := f.svc.UpdateMember(admin(), "yucai", wstaff, orgs.MemberPatch{Role: &grid, Grids: []string{"yucai-g1"}})
			return err
		}, ""},
		{"the name of an account of another community", func() error {
			_, err := f.svc.UpdateMember(admin(), "yucai", wstaff, orgs.MemberPatch{DisplayName: ptr("改名")})
			return err
		}, "account_outside_community"},
		{"disabling an account of another community", func() error {
			return f.svc.SetMemberDisabled(admin(), "yucai", wstaff, true)
		}, "account_outside_community"},
		{"the platform admin edits staff", func() error {
			_, err := f.svc.UpdateMember(platform(), "yucai", staff, orgs.MemberPatch{Phone: ptr("13800002222")})
			return err
		}, "may_not_grant_role"},
		{"the platform admin makes a second admin", func() error {
			_, err := f.svc.UpdateMember(f.as(t, "admin", "wangcheng"), "wangcheng", wstaff, orgs.MemberPatch{Role: ptr(authz.RoleCommunityAdmin)})
			return err
		}, "may_not_grant_role"},
		{"the platform admin demotes the admin", func() error {
			_, err := f.svc.UpdateMember(platform(), "yucai", f.users["yucai.admin"].ID, orgs.MemberPatch{Role: ptr(authz.RoleCommunityStaff)})
			return err
		}, "may_not_grant_role"},
		{"staff past the route's check edits a grid worker", func() error {
			_, err := f.svc.UpdateMember(f.as(t, "yucai.staff", "yucai"), "yucai", f.users["yucai.admin"].ID, orgs.MemberPatch{Role: &grid, Grids: []string{"yucai-g1"}})
			return err
		}, "may_not_grant_role"},
		{"staff past the route's check adds an admin", func() error {
			_, err := f.svc.AddMember(f.as(t, "yucai.staff", "yucai"), "yucai", orgs.MemberInput{Username: "yucai.boss", DisplayName: "主任", Password: "a-long-passw0rd!", Role: authz.RoleCommunityAdmin})
			return err
		}, "may_not_grant_role"},
		{"the admin appoints a second admin", func() error {
			_, err := f.svc.UpdateMember(admin(), "yucai", staff, orgs.MemberPatch{Role: ptr(authz.RoleCommunityAdmin)})
			return err
		}, ""},
		{"and takes it back", func() error {
			_, err := f.svc.UpdateMember(admin(), "yucai", staff, orgs.MemberPatch{Role: ptr(authz.RoleCommunityStaff)})
			return err
		}, ""},
	} {
		if err := s.do(); keyOf(err) != s.want {
			t.Errorf("%s: %v (%s), want %q", s.name, err, keyOf(err), s.want)
		}
	}
	ms, err := f.svc.ListMembers(admin(), "yucai")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.UserID == staff && (m.DisplayName != "李四" || m.Phone != "13800001111" || m.Role != authz.RoleCommunityStaff || len(m.Grids) != 0) {
			t.Errorf("yucai.staff after the changes: %+v", m)
		}
		if m.UserID == wstaff && (m.Role != grid || m.DisplayName != "工作人员") {
			t.Errorf("wangcheng.staff in yucai after the changes: %+v", m)
		}
	}

	// Disabled: no sign-in, no grants; enabled again: both back.
	if err := f.svc.SetMemberDisabled(admin(), "yucai", staff, true); err != nil {
		t.Fatal(err)
	}
	if u := f.user(t, "yucai.staff"); !u.Disabled || f.svc.Authz.Check(staff, "yucai", "orgs", "read").Allowed {
		t.Fatal("the disabled account keeps its grants")
	}
	if err := f.svc.SetMemberDisabled(admin(), "yucai", staff, false); err != nil {
		t.Fatal(err)
	}
	if u := f.user(t, "yucai.staff"); u.Disabled || !f.svc.Authz.Check(staff, "yucai", "orgs", "read").Allowed {
		t.Fatal("the enabled account has no grants")
	}

	// A new password, shown once: the old one no longer works.
	pw, err := f.svc.ResetMemberPassword(admin(), "yucai", staff)
	if err != nil || len(pw) < 12 {
		t.Fatalf("reset: %q, %v", pw, err)
	}
	u := f.user(t, "yucai.staff")
	if ok, _ := authn.CheckPassword(u.PasswordHash, pw); !ok {
		t.Fatal("the new password does not work")
	}
	if ok, _ := authn.CheckPassword(u.PasswordHash, "community-staff-pw"); ok {
		t.Fatal("the old password still works")
	}
	if _, err := f.svc.ResetMemberPassword(platform(), "yucai", staff); keyOf(err) != "may_not_grant_role" {
		t.Fatalf("the platform admin resets staff's password: %v", err)
	}
}

// TestRenameGrid: a grid's name changes, its slug stays; another
// community's grid is not found.
func TestRenameGrid(t *testing.T) {
	f := newFixture(t)
	ctx := f.as(t, "yucai.admin", "yucai")
	ctx = tenantOf(t, f, ctx, "yucai")
	g, err := f.svc.RenameGrid(ctx, "yucai-g1", "  东区网格 ")
	if err != nil || g.Name != "东区网格" || g.Slug != "yucai-g1" {
		t.Fatalf("rename: %+v, %v", g, err)
	}
	if _, err := f.svc.RenameGrid(ctx, "wangcheng-g1", "x"); keyOf(err) != "not_found" {
		t.Fatalf("another community's grid: %v", err)
	}
	if _, err := f.svc.RenameGrid(ctx, "yucai-g1", " "); keyOf(err) != "required" {
		t.Fatalf("no name: %v", err)
	}
}

// tenantOf scopes ctx to the community with slug, as the authz middleware
// does for a community's routes.
func tenantOf(t *testing.T, f *fixture, ctx context.Context, slug string) context.Context {
	t.Helper()
	o, ok := f.svc.Authz.Org(slug)
	if !ok {
		t.Fatal(slug)
	}
	return store.WithTenant(ctx, store.Tenant{TenantID: o.ID})
}
