package app_test

import (
	"slices"
	"testing"
	"time"
)

// TestTaskTable: every owner in App.tasks registered its handlers and its
// periodic tasks. The periodic names are the slots' task ids: renaming one
// lets a scheduler of the old build and one of the new enqueue the same
// slot twice during a rolling deploy.
func TestTaskTable(t *testing.T) {
	a := newApp(t, nil)
	types := a.Tasks.Types()
	for _, want := range []string{"system:heartbeat", "idempotency:purge", "roster:import", "roster:reconcile-imports",
		"outreach:send", "outreach:dispatch", "outreach:reconcile", "isolation:sweep", "directives:remind", "reports:sweep"} {
		if !slices.Contains(types, want) {
			t.Errorf("no handler for %s in %v", want, types)
		}
	}
	periods := map[string]time.Duration{}
	for _, p := range a.Tasks.Periodic() {
		periods[p.Name] = p.Every
	}
	for name, every := range map[string]time.Duration{"heartbeat": time.Minute, "reconcile-imports": 30 * time.Second,
		"reconcile-outreach": 15 * time.Second, "purge-idempotency-keys": time.Hour, "isolation-sweep": time.Minute, "directives-remind": 5 * time.Minute, "reports-sweep": time.Minute} {
		if periods[name] != every {
			t.Errorf("periodic %s every %s, want %s (table %v)", name, periods[name], every, periods)
		}
	}
}
