package app_test

import (
	"context"
	"testing"

	"github.com/wanjia/wanjia/pkg/isolation"
	"github.com/wanjia/wanjia/pkg/scope"
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
