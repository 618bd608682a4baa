package reports_test

import (
	"context"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/isolation"
	"github.com/wanjia/wanjia/pkg/logs"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/orgs/orgstest"
	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/reports"
	"github.com/wanjia/wanjia/pkg/screening"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/testworld"
)

// world is testworld's (communities c1 with grids c1-g1 … c1-g3 and c2
// under the sub-district sub; the clock at 2020-02-03 09:00 Beijing time)
// with the reports and the domains whose records make its figures.
type world struct {
	*testworld.World
	Reports   *reports.Service
	Screening *screening.Service
	Logs      *logs.Service
	Isolation *isolation.Service
	outbox    *outbox
}

func newWorld(t testing.TB) *world {
	t.Helper()
	tw := testworld.New(t)
	w := &world{World: tw, outbox: &outbox{sent: map[string]outreach.Notice{}}}
	w.Screening = &screening.Service{DB: tw.DB, Frame: tw.Frame, Now: tw.Now}
	tw.Roster.Households = w.Screening
	w.Logs = &logs.Service{DB: tw.DB, Frame: tw.Frame, Now: tw.Now}
	w.Isolation = &isolation.Service{DB: tw.DB, Frame: tw.Frame, Now: tw.Now}
	w.Reports = &reports.Service{DB: tw.DB, Frame: tw.Frame, Authz: tw.District.Authz, Notify: w.outbox, Now: tw.Now}
	return w
}

// outbox is the Notifier: one notice per community and key, as outreach
// keeps them.
type outbox struct {
	mu   sync.Mutex
	sent map[string]outreach.Notice // tenant | key
	keys []string
}

func (o *outbox) Notify(_ context.Context, tx *store.TenantTx, ns ...outreach.Notice) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, x := range ns {
		k := tx.Tenant() + "|" + x.Key
		if _, ok := o.sent[k]; ok {
			continue
		}
		o.sent[k] = x
		o.keys = append(o.keys, x.Key)
		n++
	}
	return n, nil
}

func (o *outbox) NotifyTasks(context.Context, ...outreach.Notice) error { return nil }

// campaign opens a screening campaign over the whole of org and returns
// its id and each household's task by household id.
func (w *world) campaign(t testing.TB, org string) (string, map[string]string) {
	t.Helper()
	staff := w.Staff(t, org)
	sc, err := w.Screening.CreateScreening(staff, screening.ScreeningInput{Name: "排查", Method: "any"})
	if err != nil {
		t.Fatal(err)
	}
	items, _, err := w.Screening.ListTasks(staff, sc.ID, screening.Filter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	tasks := map[string]string{}
	for _, it := range items {
		tasks[it.HouseholdID] = it.ID
	}
	return sc.ID, tasks
}

// attempt records a reached attempt by method at the clock's time.
func (w *world) attempt(t testing.TB, org, campaign, task, method string) {
	t.Helper()
	if _, err := w.Screening.RecordAttempt(w.Staff(t, org), campaign, task, screening.AttemptInput{Method: method, Outcome: "reached"}); err != nil {
		t.Fatalf("attempt: %v", err)
	}
}

// secondSubdistrict adds the sub-district sub2 under the district with
// the community c3 (grid c3-g1, its admin c3.admin and staff c3.staff) and the official sub2.official.
func (w *world) secondSubdistrict(t testing.TB) {
	t.Helper()
	d := w.District
	err := w.DB.InTx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		for _, o := range []orgs.OrgInput{
			{Slug: "sub2", Name: "东江街道", Kind: orgs.KindSubdistrict, Parent: "district"},
			{Slug: "c3", Name: "c3社区", Kind: orgs.KindCommunity, Parent: "sub2"},
		} {
			if _, err := d.Orgs.ApplyOrg(ctx, tx, o); err != nil {
				return err
			}
		}
		if _, err := d.Orgs.ApplyGrid(ctx, tx, "c3", orgs.GridInput{Slug: "c3-g1", Name: "网格1"}); err != nil {
			return err
		}
		for _, m := range []struct {
			org string
			in  orgs.MemberInput
		}{
			{"sub2", orgs.MemberInput{Username: "sub2.official", DisplayName: "街道干部", Password: orgstest.Password, Role: authz.RoleSubdistrictOfficial}},
			{"c3", orgs.MemberInput{Username: "c3.admin", DisplayName: "主任", Password: orgstest.Password, Role: authz.RoleCommunityAdmin}},
			{"c3", orgs.MemberInput{Username: "c3.staff", DisplayName: "工作人员", Password: orgstest.Password, Role: authz.RoleCommunityStaff}},
		} {
			if _, _, err := d.Orgs.ApplyMember(ctx, tx, m.org, m.in); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Authz.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// logsNotice is n notices put up today.
func logsNotice(n int) logs.PublicityInput {
	return logs.PublicityInput{Date: "2020-02-03", Kind: logs.PublicityNotice, Count: &n}
}
