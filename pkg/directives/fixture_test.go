package directives_test

import (
	"context"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/directives"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/orgs/orgstest"
	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/testworld"
)

// world is testworld's (communities c1 and c2 under the sub-district sub,
// sub.official above them, the clock at 2020-02-03 09:00 Beijing time)
// with a second sub-district beside it, sub2 with the community c3 and
// sub2.official, and a district official (district.official) above both;
// the communities' admins have phones. Directives are over it, with an
// outbox that keeps every notice written.
type world struct {
	*testworld.World
	Directives *directives.Service
	outbox     *outbox
}

func newWorld(t testing.TB) *world {
	t.Helper()
	tw := testworld.New(t)
	w := &world{World: tw, outbox: &outbox{}}
	w.Directives = &directives.Service{DB: tw.DB, Frame: tw.Frame, Now: tw.Now, Notify: w.outbox}
	ctx := context.Background()
	d := tw.District
	err := tw.DB.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		for _, o := range []orgs.OrgInput{
			{Slug: "sub2", Name: "二号街道", Kind: orgs.KindSubdistrict, Parent: "district"},
			{Slug: "c3", Name: "c3社区", Kind: orgs.KindCommunity, Parent: "sub2"},
		} {
			if _, err := d.Orgs.ApplyOrg(ctx, tx, o); err != nil {
				return err
			}
		}
		for _, m := range []struct {
			org string
			orgs.MemberInput
		}{
			{"sub2", orgs.MemberInput{Username: "sub2.official", DisplayName: "二号街道干部", Password: orgstest.Password, Role: authz.RoleSubdistrictOfficial}},
			{"district", orgs.MemberInput{Username: "district.official", DisplayName: "区干部", Password: orgstest.Password, Role: authz.RoleSubdistrictOfficial}},
			{"c3", orgs.MemberInput{Username: "c3.admin", DisplayName: "主任", Password: orgstest.Password, Role: authz.RoleCommunityAdmin}},
		} {
			if _, _, err := d.Orgs.ApplyMember(ctx, tx, m.org, m.MemberInput); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Authz.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	for user, phone := range map[string]string{"c1.admin": "13800000001", "c2.admin": "13800000002", "c3.admin": "13800000003",
		"c1.staff": "13800000011"} {
		tw.Exec(t, "UPDATE users SET phone = ? WHERE username = ?", phone, user)
	}
	return w
}

// office is the context of an official in their office.
func (w *world) office(t testing.TB, username, org string) context.Context {
	return w.As(t, username, org)
}

// outbox is the Notifier: it keeps every notice written, per community,
// without dropping a key written twice (so a reminder sent twice shows).
type outbox struct {
	mu      sync.Mutex
	notices []sent
	queued  int
}

type sent struct {
	Tenant string
	outreach.Notice
}

func (o *outbox) Notify(_ context.Context, tx *store.TenantTx, ns ...outreach.Notice) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, n := range ns {
		o.notices = append(o.notices, sent{tx.Tenant(), n})
	}
	return len(ns), nil
}

func (o *outbox) NotifyTasks(_ context.Context, ns ...outreach.Notice) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.queued += len(ns)
	return nil
}

func (o *outbox) all() []sent {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]sent(nil), o.notices...)
}
