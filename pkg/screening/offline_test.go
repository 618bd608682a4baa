package screening_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/screening"
)

// TestOfflineTasks: a download carries the open tasks of the caller's
// grids only, with members and at most three last attempts, phones as the
// caller's role sees them, and is recorded as a read of the households.
func TestOfflineTasks(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	g1 := w.households(t, "c1", "c1-g1", 3)
	g2 := w.households(t, "c1", "c1-g2", 2)
	w.Resident(t, "c1", g1[0], "张秀英", "elderly", "lives_alone")
	w.Resident(t, "c1", g1[0], "李明")
	sc := w.campaign(t, "c1", screening.ScreeningInput{Method: screening.MethodPhone})
	worker := w.As(t, "c1.grid1", "c1")
	// g1[0] tried four times (still open); g1[1] reached (closed).
	for range 4 {
		w.attempt(t, worker, sc.ID, w.taskOf(t, "c1", sc.ID, g1[0]), "phone", "no_answer")
	}
	w.attempt(t, worker, sc.ID, w.taskOf(t, "c1", sc.ID, g1[1]), "phone", "reached")

	cases := []struct {
		name       string
		ctx        context.Context
		households []string
		masked     bool
	}{
		{"grid worker: its grid's open tasks", worker, []string{g1[0], g1[2]}, false},
		{"staff: every grid", w.Staff(t, "c1"), []string{g1[0], g1[2], g2[0], g2[1]}, false},
		{"official: masked phones", w.Official(t, "c1"), []string{g1[0], g1[2], g2[0], g2[1]}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			list, err := w.Screening.OfflineTasks(tc.ctx, sc.ID)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, task := range list.Tasks {
				got = append(got, task.HouseholdID)
				if task.Phone == "" || strings.Contains(task.Phone, "*") != tc.masked || (task.Tel != "") == tc.masked {
					t.Errorf("phone %q tel %q, want masked=%v", task.Phone, task.Tel, tc.masked)
				}
				if task.HouseholdID == g1[0] {
					if len(task.Members) != 2 || len(task.Last) != 3 || task.Attempts != 4 {
						t.Errorf("g1[0]: members %+v, last %d, attempts %d; want 2 members, 3 last, 4 attempts", task.Members, len(task.Last), task.Attempts)
					}
					var names []string
					for _, m := range task.Members {
						names = append(names, m.Name)
					}
					slices.Sort(names)
					if strings.Join(names, ",") != "张秀英,李明" {
						t.Errorf("members %v", names)
					}
				}
			}
			slices.Sort(got)
			want := slices.Clone(tc.households)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("households %v, want %v", got, want)
			}
		})
	}

	// Another community: the campaign does not exist.
	if _, err := w.Screening.OfflineTasks(w.Staff(t, "c2"), sc.ID); kind(err) != errs.KindNotFound {
		t.Errorf("another community: %v, want 404", err)
	}

	// The download is a read of personal data, recorded as such.
	n, err := w.DB.NewSelect().TableExpr("audit_log").
		Where("resource = 'households' AND actor = 'c1.grid1' AND CAST(details AS TEXT) LIKE '%offline%'").Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("the grid worker's download was recorded %d times, want 1", n)
	}
}
