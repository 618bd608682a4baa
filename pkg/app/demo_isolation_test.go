package app_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/isolation"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// TestDemoIsolation: on 10 February 2020 the demo gives Yucai 89
// households isolated and 80 released, no suspected, confirmed or close
// contact, and no fever that day; Wangcheng has no case. The figures hold
// after the retention pass (a sweep long after the releases), and loading
// the demo again adds nothing.
func TestDemoIsolation(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t, nil)
	figures := func(community string) isolation.Figures {
		t.Helper()
		o, ok := a.Authz.Org(community)
		if !ok {
			t.Fatalf("no community %s", community)
		}
		f, err := a.Isolation.Figures(scope.With(context.Background(), scope.Tenant{TenantID: o.ID}), "2020-02-10")
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	check := func(when string) {
		t.Helper()
		f := figures("yucai")
		if f.HouseholdsIsolatedTotal != 89 || f.HouseholdsReleasedTotal != 80 || f.Suspected != 0 || f.Confirmed != 0 ||
			f.CloseContacts != 0 || f.FeverAlertsToday != 0 || f.IsolationActive == 0 || f.CheckinsMissedToday != 0 {
			t.Errorf("%s: yucai's isolation figures of 2020-02-10: %+v", when, f)
		}
		if w := figures("wangcheng"); w != (isolation.Figures{}) {
			t.Errorf("%s: wangcheng has isolation figures: %+v", when, w)
		}
	}
	check("first load")
	if err := a.ApplyDemo(t.Context()); err != nil {
		t.Fatal(err)
	}
	check("second load")
	// The retention pass of today: every released demo case was closed in
	// February 2020.
	r, err := a.Isolation.Sweep(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if r.Purged < 80 {
		t.Errorf("retention cleared %d cases, want the released ones", r.Purged)
	}
	check("after retention")
}

// TestSweepSendsOnce: with outreach's real outbox, two schedulers sweeping
// at once and a sweep of the same slot after Redis was flushed write each
// of the demo's check-in reminders once.
func TestSweepSendsOnce(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t, nil)
	a.Isolation.Now = func() time.Time { return time.Date(2020, 2, 11, 1, 0, 0, 0, time.UTC) } // 09:00 in Guilin
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := a.Isolation.Sweep(t.Context()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := a.Redis.Client.FlushDB(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Isolation.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	var rows, keys, active int
	err := a.DB.AcrossTenants(t.Context(), "test", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewRaw(`SELECT count(*), count(DISTINCT notice_key) FROM outreach_messages WHERE notice_key LIKE 'checkin:%'`).Scan(ctx, &rows, &keys); err != nil {
			return err
		}
		return tx.NewRaw(`SELECT count(*) FROM isolation_cases WHERE status IN ('active', 'eligible')`).Scan(ctx, &active)
	})
	if err != nil {
		t.Fatal(err)
	}
	if active == 0 || rows != active || keys != active {
		t.Fatalf("%d reminders (%d keys) for %d live cases", rows, keys, active)
	}
}
