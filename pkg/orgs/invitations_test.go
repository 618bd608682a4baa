package orgs_test

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/authn"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// reloader is the Notifier: it reloads the one authorizer there is.
type reloader struct{ a **authz.Authorizer }

func (r reloader) Changed(ctx context.Context) error { return (*r.a).Reload(ctx) }

// cheap keeps argon2 fast in tests.
var cheap = authn.Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}

type fixture struct {
	svc   *orgs.Service
	users map[string]*authn.User
}

// newFixture builds qixing-district › qixing › {yucai, wangcheng}, the
// platform admin, and an admin and a staff member in each community.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{svc: &orgs.Service{DB: storetest.New(t), Argon2: cheap}, users: map[string]*authn.User{}}
	a, err := authz.New(ctx, orgs.Directory{DB: f.svc.DB})
	if err != nil {
		t.Fatal(err)
	}
	f.svc.Authz, f.svc.Notify = a, reloader{&f.svc.Authz}
	if _, _, _, err := f.svc.EnsurePlatformAdmin(ctx, "platform-admin-pw"); err != nil {
		t.Fatal(err)
	}
	err = f.svc.DB.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		for _, o := range []orgs.OrgInput{
			{Slug: "qixing-district", Name: "七星区", Kind: orgs.KindDistrict},
			{Slug: "qixing", Name: "七星街道", Kind: orgs.KindSubdistrict, Parent: "qixing-district"},
			{Slug: "yucai", Name: "育才社区", Kind: orgs.KindCommunity, Parent: "qixing"},
			{Slug: "wangcheng", Name: "王城社区", Kind: orgs.KindCommunity, Parent: "qixing"},
		} {
			if _, err := f.svc.ApplyOrg(ctx, tx, o); err != nil {
				return err
			}
		}
		for _, c := range []string{"yucai", "wangcheng"} {
			if _, err := f.svc.ApplyGrid(ctx, tx, c, orgs.GridInput{Slug: c + "-g1", Name: "一网格"}); err != nil {
				return err
			}
			for _, m := range []orgs.MemberInput{
				{Username: c + ".admin", DisplayName: "主任", Password: "community-admin-pw", Role: authz.RoleCommunityAdmin},
				{Username: c + ".staff", DisplayName: "工作人员", Phone: "13912345678", Password: "community-staff-pw", Role: authz.RoleCommunityStaff},
			} {
				if _, _, err := f.svc.ApplyMember(ctx, tx, c, m); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"admin", "yucai.admin", "yucai.staff", "wangcheng.admin", "wangcheng.staff"} {
		u, err := authn.UserByUsername(ctx, f.svc.DB, name)
		if err != nil {
			t.Fatal(err)
		}
		f.users[name] = u
	}
	return f
}

// as is the context of a request by username in org (the authz
// middleware's work).
func (f *fixture) as(t *testing.T, username, org string) context.Context {
	t.Helper()
	u := f.users[username]
	d := f.svc.Authz.Check(u.ID, org, "orgs", "read")
	o, _ := f.svc.Authz.Org(org)
	ctx := authz.WithCaller(context.Background(), authz.Caller{UserID: u.ID, Username: u.Username, Org: o, Role: d.Role})
	return audit.WithActor(ctx, audit.Actor{UserID: u.ID, Username: u.Username, Role: d.Role, Org: org, OrgPath: o.Path})
}

func kindOf(err error) errs.Kind { return errs.KindOf(err) }

func codeOf(err error) string { return errs.CodeOf(err) }

// pending returns u's open invitations.
func (f *fixture) pending(t *testing.T, username string) []orgs.InvitationView {
	t.Helper()
	items, _, err := f.svc.MyInvitations(context.Background(), f.users[username], 50, "")
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// TestPlatformAdminIsNeverAMember: neither the API path nor a tenants
// declaration makes a platform admin a member of an org, and nobody grants
// themselves a role.
func TestPlatformAdminIsNeverAMember(t *testing.T) {
	f := newFixture(t)
	ctx := f.as(t, "admin", "yucai")
	_, err := f.svc.AddMember(ctx, "yucai", orgs.MemberInput{Username: "admin", Role: authz.RoleCommunityAdmin})
	if kindOf(err) != errs.KindForbidden {
		t.Fatalf("admin adding itself: %v", err)
	}
	// A second platform admin (made by hand: there is no API for it).
	other := &authn.User{Username: "admin2", DisplayName: "第二平台管理员"}
	if err := authn.CreateUser(context.Background(), f.svc.DB, other, "second-admin-pw", cheap); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if _, err := f.svc.DB.NewInsert().Model(&orgs.Membership{ID: "pa2", UserID: other.ID, Role: authz.RolePlatformAdmin, Grids: []string{}, CreatedAt: now, UpdatedAt: now}).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.AddMember(ctx, "yucai", orgs.MemberInput{Username: "admin2", Role: authz.RoleCommunityAdmin})
	if kindOf(err) != errs.KindForbidden {
		t.Fatalf("admin adding another platform admin: %v", err)
	}
	for _, name := range []string{"admin", "admin2"} {
		err = f.svc.DB.InTx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
			_, _, err := f.svc.ApplyMember(ctx, tx, "wangcheng", orgs.MemberInput{Username: name, Role: authz.RoleCommunityStaff})
			return err
		})
		if kindOf(err) != errs.KindForbidden {
			t.Fatalf("a declaration making %s a member: %v", name, err)
		}
	}
	// Nor can a declaration change a membership a platform admin should
	// never have had (made here by hand, as by an older version).
	yucai, _ := f.svc.Authz.Org("yucai")
	if _, err := f.svc.DB.NewInsert().Model(&orgs.Membership{ID: "legacy", UserID: other.ID, OrgID: &yucai.ID, Role: authz.RoleCommunityStaff, Grids: []string{}, CreatedAt: now, UpdatedAt: now}).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	err = f.svc.DB.InTx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		_, _, err := f.svc.ApplyMember(ctx, tx, "yucai", orgs.MemberInput{Username: "admin2", Role: authz.RoleCommunityAdmin})
		return err
	})
	if kindOf(err) != errs.KindForbidden {
		t.Fatalf("a declaration promoting a platform admin's membership: %v", err)
	}
	if _, err := f.svc.DB.NewDelete().Model((*orgs.Membership)(nil)).Where("id = ?", "legacy").Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.AddMember(f.as(t, "yucai.admin", "yucai"), "yucai", orgs.MemberInput{Username: "yucai.admin", Role: authz.RoleCommunityStaff})
	if kindOf(err) != errs.KindForbidden {
		t.Fatalf("a community admin granting itself: %v", err)
	}
	for _, name := range []string{"admin", "admin2"} {
		for _, m := range f.svc.Authz.MembershipsOf(f.userID(t, name)) {
			if m.OrgID != "" {
				t.Fatalf("%s became a member of %s", name, m.OrgID)
			}
		}
	}
}

func (f *fixture) userID(t *testing.T, username string) string {
	t.Helper()
	u, err := authn.UserByUsername(context.Background(), f.svc.DB, username)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// TestInviteAnswersAlike: whatever the username, Invite returns the same,
// and only a real, invitable account gets a row.
func TestInviteAnswersAlike(t *testing.T) {
	f := newFixture(t)
	ctx := f.as(t, "yucai.admin", "yucai")
	for _, name := range []string{"wangcheng.staff", "no.such.user", "admin", "yucai.staff", "yucai.admin"} {
		if err := f.svc.Invite(ctx, "yucai", orgs.InvitationInput{Username: name, Role: authz.RoleCommunityStaff}); err != nil {
			t.Fatalf("invite %s: %v", name, err)
		}
	}
	n, err := f.svc.DB.NewSelect().Model((*orgs.Invitation)(nil)).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 || len(f.pending(t, "wangcheng.staff")) != 1 {
		t.Fatalf("%d invitation rows, want only wangcheng.staff's", n)
	}
	// Inviting again replaces the open invitation, under a new id.
	first := f.pending(t, "wangcheng.staff")[0]
	if err := f.svc.Invite(ctx, "yucai", orgs.InvitationInput{Username: "wangcheng.staff", Role: authz.RoleGridWorker, Grids: []string{"yucai-g1"}}); err != nil {
		t.Fatal(err)
	}
	again := f.pending(t, "wangcheng.staff")
	if len(again) != 1 || again[0].ID == first.ID || again[0].Role != authz.RoleGridWorker {
		t.Fatalf("after a second invitation: %+v (first %s)", again, first.ID)
	}
	// The errors depend on the request, never on the username: a role the
	// org cannot hold, a role the caller may not grant.
	for _, name := range []string{"no.such.user", "yucai.staff"} {
		err = f.svc.Invite(ctx, "yucai", orgs.InvitationInput{Username: name, Role: authz.RoleSubdistrictOfficial})
		if kindOf(err) != errs.KindValidation {
			t.Fatalf("an official in a community, %s: %v", name, err)
		}
		err = f.svc.Invite(f.as(t, "admin", "yucai"), "yucai", orgs.InvitationInput{Username: name, Role: authz.RoleCommunityStaff})
		if kindOf(err) != errs.KindForbidden {
			t.Fatalf("the platform admin inviting staff, %s: %v", name, err)
		}
	}
}

// TestExpiredInvitation: after seven days an invitation is neither listed
// nor accepted.
func TestExpiredInvitation(t *testing.T) {
	f := newFixture(t)
	if err := f.svc.Invite(f.as(t, "yucai.admin", "yucai"), "yucai", orgs.InvitationInput{Username: "wangcheng.staff", Role: authz.RoleCommunityStaff}); err != nil {
		t.Fatal(err)
	}
	inv := f.pending(t, "wangcheng.staff")[0]
	if d := inv.ExpiresAt.Sub(inv.CreatedAt); d != orgs.InvitationTTL {
		t.Fatalf("expires after %v", d)
	}
	if _, err := f.svc.DB.NewUpdate().Model((*orgs.Invitation)(nil)).Set("expires_at = ?", time.Now().UTC().Add(-time.Minute)).Where("id = ?", inv.ID).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(f.pending(t, "wangcheng.staff")) != 0 {
		t.Fatal("an expired invitation is listed")
	}
	_, err := f.svc.AcceptInvitation(context.Background(), f.users["wangcheng.staff"], inv.ID)
	if codeOf(err) != "invitation_expired" {
		t.Fatalf("accepting an expired invitation: %v", err)
	}
}

// TestWithdrawnInvitation: an invitation is worth what its inviter may
// still grant; an inviter who lost the role takes it back.
func TestWithdrawnInvitation(t *testing.T) {
	f := newFixture(t)
	if err := f.svc.Invite(f.as(t, "yucai.admin", "yucai"), "yucai", orgs.InvitationInput{Username: "wangcheng.staff", Role: authz.RoleCommunityAdmin}); err != nil {
		t.Fatal(err)
	}
	inv := f.pending(t, "wangcheng.staff")[0]
	ctx := context.Background()
	if _, err := f.svc.DB.NewUpdate().Model((*orgs.Membership)(nil)).Set("role = ?", authz.RoleCommunityStaff).Where("user_id = ?", f.users["yucai.admin"].ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Authz.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.AcceptInvitation(ctx, f.users["wangcheng.staff"], inv.ID)
	if codeOf(err) != "invitation_withdrawn" {
		t.Fatalf("accepting a withdrawn invitation: %v", err)
	}
	if d := f.svc.Authz.Check(f.users["wangcheng.staff"].ID, "yucai", "orgs", "read"); d.Allowed {
		t.Fatal("the invitee became a member anyway")
	}
}

// TestAnsweredOnce: an invitation is answered once; the second answer,
// either way, is a conflict and changes nothing.
func TestAnsweredOnce(t *testing.T) {
	f := newFixture(t)
	u := f.users["wangcheng.staff"]
	for _, first := range []string{"accept", "decline"} {
		org := map[string]string{"accept": "yucai", "decline": "qixing"}[first]
		role := map[string]string{"accept": authz.RoleCommunityStaff, "decline": authz.RoleSubdistrictOfficial}[first]
		inviter := map[string]string{"accept": "yucai.admin", "decline": "admin"}[first]
		if err := f.svc.Invite(f.as(t, inviter, org), org, orgs.InvitationInput{Username: u.Username, Role: role}); err != nil {
			t.Fatal(err)
		}
		inv := f.pending(t, u.Username)[0]
		answer := map[string]func(context.Context, *authn.User, string) (*orgs.InvitationView, error){
			"accept": f.svc.AcceptInvitation, "decline": f.svc.DeclineInvitation,
		}
		if _, err := answer[first](context.Background(), u, inv.ID); err != nil {
			t.Fatalf("%s: %v", first, err)
		}
		for _, second := range []string{"accept", "decline"} {
			if _, err := answer[second](context.Background(), u, inv.ID); codeOf(err) != "invitation_closed" {
				t.Fatalf("%s after %s: %v", second, first, err)
			}
		}
	}
	if n := len(f.svc.Authz.MembershipsOf(u.ID)); n != 2 {
		t.Fatalf("%d memberships, want wangcheng and the accepted yucai", n)
	}
	// Someone else's invitation is not found, as one that does not exist.
	if err := f.svc.Invite(f.as(t, "yucai.admin", "yucai"), "yucai", orgs.InvitationInput{Username: "wangcheng.admin", Role: authz.RoleCommunityStaff}); err != nil {
		t.Fatal(err)
	}
	id := f.pending(t, "wangcheng.admin")[0].ID
	if _, err := f.svc.AcceptInvitation(context.Background(), u, id); kindOf(err) != errs.KindNotFound {
		t.Fatalf("accepting another's invitation: %v", err)
	}
}
