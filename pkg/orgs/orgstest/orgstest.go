// Package orgstest builds organisations for other packages' tests the way
// an operator does, through the orgs service (as `wanjia tenants apply`
// would), and hands out the contexts the API's authorization middleware
// would build for its users. A domain's tests start from it instead of
// writing rows by hand, so they meet the same rules as production data.
package orgstest

import (
	"context"
	"fmt"
	"testing"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/authn"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/store"
)

// Password is every fixture user's password.
const Password = "fixture-password-1"

// cheap keeps the fixture's password hashing fast; the tests that measure
// hashing use the real parameters.
var cheap = authn.Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}

// District is a district › sub-district › communities tree with users.
type District struct {
	Orgs  *orgs.Service
	Authz *authz.Authorizer
	users map[string]*authn.User
}

// Spec describes a community: its slug and grid slugs.
type Spec struct {
	Slug  string
	Grids []string
}

// New builds the district "district" › sub-district "sub" › the
// communities in specs. Each community gets the users <slug>.admin,
// <slug>.staff and <slug>.grid1 (a grid worker of its first grid); the
// sub-district gets sub.official.
func New(t testing.TB, db *store.DB, specs ...Spec) *District {
	t.Helper()
	ctx := context.Background()
	d := Open(t, db)
	err := db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		for _, o := range []orgs.OrgInput{
			{Slug: "district", Name: "七星区", Kind: orgs.KindDistrict},
			{Slug: "sub", Name: "七星街道", Kind: orgs.KindSubdistrict, Parent: "district"},
		} {
			if _, err := d.Orgs.ApplyOrg(ctx, tx, o); err != nil {
				return err
			}
		}
		if _, _, err := d.Orgs.ApplyMember(ctx, tx, "sub", orgs.MemberInput{Username: "sub.official", DisplayName: "街道干部",
			Password: Password, Role: authz.RoleSubdistrictOfficial}); err != nil {
			return err
		}
		for _, c := range specs {
			if _, err := d.Orgs.ApplyOrg(ctx, tx, orgs.OrgInput{Slug: c.Slug, Name: c.Slug + "社区", Kind: orgs.KindCommunity, Parent: "sub"}); err != nil {
				return err
			}
			for i, g := range c.Grids {
				if _, err := d.Orgs.ApplyGrid(ctx, tx, c.Slug, orgs.GridInput{Slug: g, Name: fmt.Sprintf("网格%d", i+1)}); err != nil {
					return err
				}
			}
			members := []orgs.MemberInput{
				{Username: c.Slug + ".admin", DisplayName: "主任", Password: Password, Role: authz.RoleCommunityAdmin},
				{Username: c.Slug + ".staff", DisplayName: "工作人员", Password: Password, Role: authz.RoleCommunityStaff},
			}
			if len(c.Grids) > 0 {
				members = append(members, orgs.MemberInput{Username: c.Slug + ".grid1", DisplayName: "网格员", Password: Password,
					Role: authz.RoleGridWorker, Grids: c.Grids[:1]})
			}
			for _, m := range members {
				if _, _, err := d.Orgs.ApplyMember(ctx, tx, c.Slug, m); err != nil {
					return fmt.Errorf("%s: %w", m.Username, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("orgstest: %v", err)
	}
	if err := d.Authz.Reload(ctx); err != nil {
		t.Fatalf("orgstest: %v", err)
	}
	return d
}

// Open is the District of a database New already filled (a copy of a
// golden built with New): the same services and users, without building
// the orgs again.
func Open(t testing.TB, db *store.DB) *District {
	t.Helper()
	a, err := authz.New(context.Background(), orgs.Directory{DB: db})
	if err != nil {
		t.Fatalf("orgstest: %v", err)
	}
	d := &District{Orgs: &orgs.Service{DB: db, Authz: a, Argon2: cheap}, Authz: a, users: map[string]*authn.User{}}
	d.Orgs.Notify = reloader{a}
	return d
}

// Org is the org with slug.
func (d *District) Org(t testing.TB, slug string) *authz.Org {
	t.Helper()
	o, ok := d.Authz.Org(slug)
	if !ok {
		t.Fatalf("orgstest: no org %s", slug)
	}
	return o
}

// As is the context of a request by username in org, as the API's
// authorization middleware builds it (authz.Bind): the caller with its
// role there, the tenant scope with a grid worker's grids, the audit actor.
func (d *District) As(t testing.TB, username, org string) context.Context {
	t.Helper()
	u, ok := d.users[username]
	if !ok {
		var err error
		if u, err = authn.UserByUsername(context.Background(), d.Orgs.DB, username); err != nil {
			t.Fatalf("orgstest: user %s: %v", username, err)
		}
		d.users[username] = u
	}
	dec := d.Authz.Check(u.ID, org, "orgs", "read")
	if !dec.Allowed {
		t.Fatalf("orgstest: %s is not a member of %s", username, org)
	}
	return authz.Bind(context.Background(), u, dec, "192.0.2.1", "test")
}

type reloader struct{ a *authz.Authorizer }

func (r reloader) Changed(ctx context.Context) error { return r.a.Reload(ctx) }
