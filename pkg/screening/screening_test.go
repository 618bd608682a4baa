package screening_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/idempotency"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/screening"
)

// campaign creates a campaign in org as its staff, failing the test on error.
func (w *world) campaign(t testing.TB, org string, in screening.ScreeningInput) *screening.ScreeningView {
	t.Helper()
	if in.Name == "" {
		in.Name = "全覆盖排查"
	}
	if in.Method == "" {
		in.Method = screening.MethodAny
	}
	sc, err := w.Screening.CreateScreening(w.As(t, org+".staff", org), in)
	if err != nil {
		t.Fatalf("create screening: %v", err)
	}
	return sc
}

// taskOf is the id of household's task in the campaign, listed as staff.
func (w *world) taskOf(t testing.TB, org, screeningID, household string) string {
	t.Helper()
	items, _, err := w.Screening.ListTasks(w.As(t, org+".staff", org), screeningID, screening.Filter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.HouseholdID == household {
			return it.ID
		}
	}
	t.Fatalf("household %s has no task in %s", household, screeningID)
	return ""
}

func (w *world) attempt(t testing.TB, ctx context.Context, screeningID, task, method, outcome string) *screening.AttemptView {
	t.Helper()
	a, err := w.Screening.RecordAttempt(ctx, screeningID, task, screening.AttemptInput{Method: method, Outcome: outcome})
	if err != nil {
		t.Fatalf("attempt %s/%s: %v", method, outcome, err)
	}
	return a
}

func households(t testing.TB, w *world, ctx context.Context, id string) []string {
	t.Helper()
	items, _, err := w.Screening.ListTasks(ctx, id, screening.Filter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, it := range items {
		out = append(out, it.HouseholdID)
	}
	slices.Sort(out)
	return out
}

func sorted(xs ...[]string) []string {
	var out []string
	for _, x := range xs {
		out = append(out, x...)
	}
	slices.Sort(out)
	return out
}

func TestTasksForScopeAndLaterHouseholds(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	g1, g2, g3 := w.households(t, "c1", "c1-g1", 3), w.households(t, "c1", "c1-g2", 2), w.households(t, "c1", "c1-g3", 1)
	w.households(t, "c2", "c2-g1", 2)
	staff := w.As(t, "c1.staff", "c1")

	some := w.campaign(t, "c1", screening.ScreeningInput{Grids: []string{"c1-g1", "c1-g2"}})
	whole := w.campaign(t, "c1", screening.ScreeningInput{})
	if some.Progress.Households != 5 || whole.Progress.Households != 6 {
		t.Fatalf("households in scope = %d, %d; want 5, 6", some.Progress.Households, whole.Progress.Households)
	}
	if got := households(t, w, staff, some.ID); !slices.Equal(got, sorted(g1, g2)) {
		t.Fatalf("scoped campaign's households = %v", got)
	}

	// Later: one in a grid in both scopes, one only in the whole
	// community's, and one moved from c1-g3 into c1-g2.
	late1 := w.households(t, "c1", "c1-g1", 1)
	late3 := w.households(t, "c1", "c1-g3", 1)
	g2slug := "c1-g2"
	if _, err := w.Roster.UpdateHousehold(staff, g3[0], roster.HouseholdPatch{Grid: &g2slug}); err != nil {
		t.Fatal(err)
	}
	if got, want := households(t, w, staff, some.ID), sorted(g1, g2, late1, g3); !slices.Equal(got, want) {
		t.Errorf("scoped campaign after additions = %v, want %v", got, want)
	}
	if got, want := households(t, w, staff, whole.ID), sorted(g1, g2, g3, late1, late3); !slices.Equal(got, want) {
		t.Errorf("whole campaign after additions = %v, want %v", got, want)
	}
	// The moved household's task moved with it.
	items, _, _ := w.Screening.ListTasks(staff, whole.ID, screening.Filter{Grid: "c1-g2", Limit: 50})
	if len(items) != 3 {
		t.Errorf("whole campaign's c1-g2 tasks = %d, want 3 (two, and the one moved in)", len(items))
	}

	// A closed campaign takes no one new.
	if _, err := w.Screening.CloseScreening(staff, some.ID); err != nil {
		t.Fatal(err)
	}
	w.households(t, "c1", "c1-g1", 1)
	if sc, _ := w.Screening.GetScreening(staff, some.ID); sc.Progress.Households != 7 {
		t.Errorf("closed campaign grew to %d households", sc.Progress.Households)
	}
	if _, err := w.Screening.CloseScreening(staff, some.ID); kind(err) != errs.KindConflict {
		t.Errorf("closing twice: %v, want 409", err)
	}
}

func TestGridWorkerSeesItsGridsInCallOrder(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	g1 := w.households(t, "c1", "c1-g1", 3)
	g2 := w.households(t, "c1", "c1-g2", 2)
	sc := w.campaign(t, "c1", screening.ScreeningInput{Method: screening.MethodPhone})
	worker := w.As(t, "c1.grid1", "c1")

	// Tried: g1[0] at 09:00, g1[1] at 08:00; never tried: g1[2].
	w.Clock.At(t, "2020-02-03 09:00")
	w.attempt(t, worker, sc.ID, w.taskOf(t, "c1", sc.ID, g1[0]), "phone", "no_answer")
	w.Clock.At(t, "2020-02-03 08:00")
	w.attempt(t, worker, sc.ID, w.taskOf(t, "c1", sc.ID, g1[1]), "phone", "no_answer")

	items, _, err := w.Screening.ListTasks(worker, sc.ID, screening.Filter{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range items {
		got = append(got, it.HouseholdID)
		if it.Tel == "" || it.Phone == "" {
			t.Errorf("a grid worker's call list needs the phone: %+v", it)
		}
	}
	if want := []string{g1[2], g1[1], g1[0]}; !slices.Equal(got, want) {
		t.Errorf("call order = %v, want never tried, then longest ago %v", got, want)
	}
	next, err := w.Screening.NextTask(worker, sc.ID, screening.Filter{})
	if err != nil || next.Task == nil || next.Task.HouseholdID != g1[2] || next.Remaining != 3 {
		t.Errorf("next = %+v, %v", next, err)
	}

	// Another grid's task, through its own campaign: not found.
	other := w.taskOf(t, "c1", sc.ID, g2[0])
	if _, err := w.Screening.GetTask(worker, sc.ID, other); kind(err) != errs.KindNotFound {
		t.Errorf("another grid's task: %v, want 404", err)
	}
	if _, err := w.Screening.RecordAttempt(worker, sc.ID, other, screening.AttemptInput{Method: "phone", Outcome: "reached"}); kind(err) != errs.KindNotFound {
		t.Errorf("attempt on another grid's task: %v, want 404", err)
	}
	if _, _, err := w.Screening.ListTasks(worker, sc.ID, screening.Filter{Grid: "c1-g2", Limit: 5}); kind(err) != errs.KindValidation {
		t.Errorf("filtering by another grid: %v, want 422", err)
	}
	// Another community: the campaign and its tasks do not exist.
	c2 := w.As(t, "c2.staff", "c2")
	if _, err := w.Screening.GetScreening(c2, sc.ID); kind(err) != errs.KindNotFound {
		t.Errorf("another community's campaign: %v", err)
	}
	if _, err := w.Screening.RecordAttempt(c2, sc.ID, other, screening.AttemptInput{Method: "phone", Outcome: "reached"}); kind(err) != errs.KindNotFound {
		t.Errorf("attempt from another community: %v, want 404", err)
	}
	if _, _, err := w.Screening.ListTasks(c2, sc.ID, screening.Filter{Limit: 5}); kind(err) != errs.KindNotFound {
		t.Errorf("another community's tasks: %v", err)
	}
}

func TestUnreachedByPhoneGoToTheDoor(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	hh := w.households(t, "c1", "c1-g1", 3)
	sc := w.campaign(t, "c1", screening.ScreeningInput{Method: screening.MethodPhone})
	staff := w.As(t, "c1.staff", "c1")
	a, b, c := w.taskOf(t, "c1", sc.ID, hh[0]), w.taskOf(t, "c1", sc.ID, hh[1]), w.taskOf(t, "c1", sc.ID, hh[2])

	for i, outcome := range []string{"no_answer", "refused", "no_answer"} {
		v := w.attempt(t, staff, sc.ID, a, "phone", outcome)
		if v.Task.Door != (i == 2) {
			t.Errorf("after %d failed calls door = %v", i+1, v.Task.Door)
		}
	}
	if v := w.attempt(t, staff, sc.ID, b, "phone", "wrong_number"); !v.Task.Door {
		t.Error("a wrong number goes to the door at once")
	}
	door, _, _ := w.Screening.ListTasks(staff, sc.ID, screening.Filter{List: "door", Limit: 50})
	call, _, _ := w.Screening.ListTasks(staff, sc.ID, screening.Filter{List: "call", Limit: 50})
	if len(door) != 2 || len(call) != 1 || call[0].ID != c {
		t.Errorf("door list %d, call list %d", len(door), len(call))
	}
	// A visit that reaches them closes the task, by visit.
	v := w.attempt(t, staff, sc.ID, a, "visit", "reached")
	if v.Task.Status != "done" {
		t.Errorf("reached: task %s", v.Task.Status)
	}
	got, _ := w.Screening.GetScreening(staff, sc.ID)
	if p := got.Progress; p.Reached != 1 || p.ByVisit != 1 || p.ByPhone != 0 || p.Door != 1 || p.Unreached != 2 {
		t.Errorf("progress = %+v", p)
	}

	// The threshold is the community's: two failed calls in c2.
	w.Exec(t, `UPDATE orgs SET settings = ? WHERE slug = 'c2'`, `{"isolation_days":14,"report_cutoff":"18:00","quiet_hours":{"start":"21:00","end":"08:00"},"failed_calls_before_visit":2}`)
	h2 := w.households(t, "c2", "c2-g1", 1)
	sc2 := w.campaign(t, "c2", screening.ScreeningInput{})
	c2 := w.As(t, "c2.staff", "c2")
	t2 := w.taskOf(t, "c2", sc2.ID, h2[0])
	w.attempt(t, c2, sc2.ID, t2, "phone", "no_answer")
	if v := w.attempt(t, c2, sc2.ID, t2, "phone", "no_answer"); !v.Task.Door {
		t.Error("c2 sends to the door after two failed calls")
	}
}

func TestProgressFigures(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	g1 := w.households(t, "c1", "c1-g1", 4)
	g2 := w.households(t, "c1", "c1-g2", 3)
	sc := w.campaign(t, "c1", screening.ScreeningInput{})
	staff, worker := w.As(t, "c1.staff", "c1"), w.As(t, "c1.grid1", "c1")
	task := func(h string) string { return w.taskOf(t, "c1", sc.ID, h) }

	// Yesterday: g1[0] reached by phone; g2[0] no answer.
	w.Clock.At(t, "2020-02-02 10:00")
	w.attempt(t, worker, sc.ID, task(g1[0]), "phone", "reached")
	w.attempt(t, staff, sc.ID, task(g2[0]), "phone", "no_answer")
	// Today: g1[1] reached by visit after a failed call; g2[0] reached by
	// phone; g1[2] no answer; g2[1] moved out.
	w.Clock.At(t, "2020-02-03 10:00")
	w.attempt(t, worker, sc.ID, task(g1[1]), "phone", "no_answer")
	w.attempt(t, worker, sc.ID, task(g1[1]), "visit", "reached")
	w.attempt(t, staff, sc.ID, task(g2[0]), "phone", "reached")
	w.attempt(t, worker, sc.ID, task(g1[2]), "phone", "no_answer")
	w.attempt(t, staff, sc.ID, task(g2[1]), "visit", "moved_out")

	got, err := w.Screening.GetScreening(staff, sc.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := screening.Progress{Households: 7, Reached: 3, ByPhone: 2, ByVisit: 1, Unreached: 4, NotTried: 2, MovedOut: 1, CallsToday: 3, VisitsToday: 2}
	if got.Progress != want {
		t.Errorf("progress\n got %+v\nwant %+v", got.Progress, want)
	}
	wantGrid := map[string]screening.Progress{
		"c1-g1": {Households: 4, Reached: 2, ByPhone: 1, ByVisit: 1, Unreached: 2, NotTried: 1, CallsToday: 2, VisitsToday: 1},
		"c1-g2": {Households: 3, Reached: 1, ByPhone: 1, Unreached: 2, NotTried: 1, MovedOut: 1, CallsToday: 1, VisitsToday: 1},
	}
	for _, gp := range got.ByGrid {
		if gp.Progress != wantGrid[gp.Grid] {
			t.Errorf("grid %s\n got %+v\nwant %+v", gp.Grid, gp.Progress, wantGrid[gp.Grid])
		}
	}
	wantWorkers := []screening.WorkerProgress{{Worker: "工作人员", CallsToday: 1, VisitsToday: 1, ReachedToday: 1},
		{Worker: "网格员", CallsToday: 2, VisitsToday: 1, ReachedToday: 1}}
	if !slices.Equal(got.ByWorker, wantWorkers) {
		t.Errorf("workers\n got %+v\nwant %+v", got.ByWorker, wantWorkers)
	}
	// The grid worker sees its grid's part only.
	mine, _ := w.Screening.GetScreening(worker, sc.ID)
	if mine.Progress.Households != 4 || len(mine.ByGrid) != 1 {
		t.Errorf("grid worker's progress = %+v", mine.Progress)
	}

	// The report's figures, for today and yesterday.
	f, err := w.Screening.Figures(staff, "2020-02-03")
	if err != nil {
		t.Fatal(err)
	}
	wantF := screening.Figures{HouseholdsTotal: 7, HouseholdsScreenedTotal: 3, ScreenedByPhoneTotal: 2, ScreenedByVisitTotal: 1,
		HouseholdsUnreached: 4, ScreenedToday: 2, VisitsToday: 2, CallsToday: 3}
	if f != wantF {
		t.Errorf("figures today\n got %+v\nwant %+v", f, wantF)
	}
	f, _ = w.Screening.Figures(staff, "2020-02-02")
	wantF = screening.Figures{HouseholdsTotal: 7, HouseholdsScreenedTotal: 1, ScreenedByPhoneTotal: 1, HouseholdsUnreached: 6,
		ScreenedToday: 1, CallsToday: 2}
	if f != wantF {
		t.Errorf("figures yesterday\n got %+v\nwant %+v", f, wantF)
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	hh := w.households(t, "c1", "c1-g1", 1)
	staff := w.As(t, "c1.staff", "c1")
	sc := w.campaign(t, "c1", screening.ScreeningInput{StartDate: "2020-02-01", EndDate: "2020-02-05"})
	task := w.taskOf(t, "c1", sc.ID, hh[0])

	for _, c := range []struct {
		name string
		in   screening.ScreeningInput
		want string
	}{
		{"dates out of order", screening.ScreeningInput{Name: "x", Method: "any", StartDate: "2020-02-05", EndDate: "2020-02-01"}, "end_date=end_before_start"},
		{"unknown method", screening.ScreeningInput{Name: "x", Method: "email"}, "method=one_of"},
		{"no name, bad date", screening.ScreeningInput{Method: "phone", StartDate: "2020-2-1"}, "name=required,start_date=invalid_date"},
		{"unknown grid", screening.ScreeningInput{Name: "x", Method: "phone", Grids: []string{"c2-g1"}}, "grids=unknown_grid"},
	} {
		if _, err := w.Screening.CreateScreening(staff, c.in); fields(err) != c.want {
			t.Errorf("%s: %v, want %s", c.name, err, c.want)
		}
	}
	for _, c := range []struct {
		name string
		in   screening.AttemptInput
		want string
	}{
		{"unknown outcome", screening.AttemptInput{Method: "phone", Outcome: "busy"}, "outcome=one_of"},
		{"unknown method", screening.AttemptInput{Method: "wechat", Outcome: "reached"}, "method=one_of"},
		{"missing both", screening.AttemptInput{}, "method=required,outcome=required"},
		{"return in the future", screening.AttemptInput{Method: "phone", Outcome: "reached", ReturnedOn: "2020-02-04"}, "returned_on=date_in_future"},
	} {
		if _, err := w.Screening.RecordAttempt(staff, sc.ID, task, c.in); fields(err) != c.want {
			t.Errorf("%s: %v, want %s", c.name, err, c.want)
		}
	}
	// Past its end date, a campaign is closed: 409.
	w.Clock.At(t, "2020-02-06 09:00")
	if _, err := w.Screening.RecordAttempt(staff, sc.ID, task, screening.AttemptInput{Method: "phone", Outcome: "reached"}); kind(err) != errs.KindConflict {
		t.Errorf("attempt after the end date: %v, want 409", err)
	}
	if got, _ := w.Screening.GetScreening(staff, sc.ID); got.Status != "closed" {
		t.Errorf("status after the end date = %s", got.Status)
	}
	// A task id of no campaign, a campaign id of another kind.
	if _, err := w.Screening.RecordAttempt(staff, sc.ID, hh[0], screening.AttemptInput{Method: "phone", Outcome: "reached"}); kind(err) != errs.KindNotFound {
		t.Errorf("a household id as task: %v, want 404", err)
	}
}

func TestFindingsRaiseFollowUps(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.Exec(t, `UPDATE orgs SET settings = ? WHERE slug = 'c1'`, `{"isolation_days":14,"report_cutoff":"18:00","quiet_hours":{"start":"21:00","end":"08:00"},"watch_list":["武汉","湖北"]}`)
	hh := w.households(t, "c1", "c1-g1", 5)
	sc := w.campaign(t, "c1", screening.ScreeningInput{})
	staff := w.As(t, "c1.staff", "c1")
	rec := func(h string, in screening.AttemptInput) *screening.AttemptView {
		in.Method, in.Outcome = "phone", "reached"
		a, err := w.Screening.RecordAttempt(staff, sc.ID, w.taskOf(t, "c1", sc.ID, h), in)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	cases := []struct {
		in   screening.AttemptInput
		want bool
	}{
		{screening.AttemptInput{Symptoms: true}, true},
		{screening.AttemptInput{TravelFrom: "湖北省武汉市", ReturnedOn: "2020-01-25"}, true},
		{screening.AttemptInput{TravelFrom: "武汉", ReturnedOn: "2020-01-10"}, false}, // more than 14 days ago
		{screening.AttemptInput{TravelFrom: "桂林"}, false},
		{screening.AttemptInput{CloseContact: true}, true},
	}
	var open []string
	for i, c := range cases {
		a := rec(hh[i], c.in)
		if (a.FollowUpID != "") != c.want {
			t.Errorf("case %d: follow-up %q, want %v", i, a.FollowUpID, c.want)
		}
		if a.FollowUpID != "" {
			open = append(open, a.FollowUpID)
		}
	}
	items, _, err := w.Screening.ListFollowUps(staff, screening.Filter{Status: "open", Limit: 50})
	if err != nil || len(items) != 3 {
		t.Fatalf("open follow-ups = %d, %v", len(items), err)
	}
	if !slices.Equal(items[1].Reasons, []string{"travel"}) || items[1].TravelFrom != "湖北省武汉市" {
		t.Errorf("travel follow-up = %+v", items[1])
	}
	done := "done"
	if f, err := w.Screening.UpdateFollowUp(staff, open[0], screening.FollowUpPatch{Status: &done}); err != nil || f.Status != "done" || f.ClosedAt == nil {
		t.Errorf("close follow-up = %+v, %v", f, err)
	}
	w.Exec(t, `UPDATE follow_ups SET status = 'case' WHERE id = ?`, open[1])
	if _, err := w.Screening.UpdateFollowUp(staff, open[1], screening.FollowUpPatch{Status: &done}); kind(err) != errs.KindConflict {
		t.Errorf("follow-up that became a case: %v, want 409", err)
	}
	if _, err := w.Screening.UpdateFollowUp(w.As(t, "c2.staff", "c2"), open[2], screening.FollowUpPatch{Status: &done}); kind(err) != errs.KindNotFound {
		t.Errorf("another community's follow-up: %v, want 404", err)
	}
}

func TestIdempotentAttempt(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	hh := w.households(t, "c1", "c1-g1", 1)
	sc := w.campaign(t, "c1", screening.ScreeningInput{})
	task := w.taskOf(t, "c1", sc.ID, hh[0])
	base := w.As(t, "c1.grid1", "c1")
	in := screening.AttemptInput{Method: "phone", Outcome: "no_answer"}
	req := idempotency.Request{Key: "retry-1", Fingerprint: idempotency.Fingerprint("a")}

	var wg sync.WaitGroup
	got := make([]*screening.AttemptView, 4)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := w.Screening.RecordAttempt(idempotency.With(base, req), sc.ID, task, in)
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = a
		}()
	}
	wg.Wait()
	for _, a := range got[1:] {
		if a == nil || got[0] == nil || a.ID != got[0].ID {
			t.Fatalf("retries answered differently: %+v", got)
		}
	}
	tv, err := w.Screening.GetTask(base, sc.ID, task)
	if err != nil || tv.Attempts != 1 || len(tv.History) != 1 {
		t.Errorf("attempts stored = %d (history %d), want 1: %v", tv.Attempts, len(tv.History), err)
	}
	other := idempotency.Request{Key: "retry-1", Fingerprint: idempotency.Fingerprint("b")}
	if _, err := w.Screening.RecordAttempt(idempotency.With(base, other), sc.ID, task, in); fields(err) != "Idempotency-Key=idempotency_key_reused" {
		t.Errorf("same key, another body: %v", err)
	}
}

// TestNextHouseholdIsHeld: two workers on one call list are given two
// households; asking again gives the same one back; the hold ends with the
// attempt, or by itself after a while.
func TestNextHouseholdIsHeld(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	hh := w.households(t, "c1", "c1-g1", 3)
	sc := w.campaign(t, "c1", screening.ScreeningInput{Method: screening.MethodPhone})
	staff, admin := w.As(t, "c1.staff", "c1"), w.As(t, "c1.admin", "c1")
	next := func(ctx context.Context) string {
		t.Helper()
		n, err := w.Screening.NextTask(ctx, sc.ID, screening.Filter{})
		if err != nil || n.Task == nil {
			t.Fatalf("next: %+v, %v", n, err)
		}
		return n.Task.HouseholdID
	}
	a, b := next(staff), next(admin)
	if a != hh[0] || b != hh[1] {
		t.Fatalf("two workers were given %s and %s, want %s and %s", a, b, hh[0], hh[1])
	}
	if again := next(staff); again != a {
		t.Errorf("asking again gave %s, want the held %s", again, a)
	}
	w.attempt(t, staff, sc.ID, w.taskOf(t, "c1", sc.ID, a), "phone", "reached")
	if got := next(staff); got != hh[2] {
		t.Errorf("after the attempt: %s, want %s", got, hh[2])
	}
	// The admin walked away: after the hold, the staff may have theirs.
	w.Clock.Add(11 * time.Minute)
	w.attempt(t, staff, sc.ID, w.taskOf(t, "c1", sc.ID, hh[2]), "phone", "reached")
	if got := next(staff); got != b {
		t.Errorf("after the hold ran out: %s, want %s", got, b)
	}
}

// TestPeekHoldsNothing: a reader who may not record (Filter.Peek, set by
// the API and the console for those without attempts/write) is shown the
// head of the list and holds nothing, so the workers' lists stay as they
// were.
func TestPeekHoldsNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	hh := w.households(t, "c1", "c1-g1", 3)
	sc := w.campaign(t, "c1", screening.ScreeningInput{Method: screening.MethodPhone})
	peek, err := w.Screening.NextTask(w.Official(t, "c1"), sc.ID, screening.Filter{Peek: true})
	if err != nil || peek.Task == nil || peek.Task.HouseholdID != hh[0] || peek.Remaining != 3 || peek.Task.Tel != "" {
		t.Fatalf("the official's look: %+v, %v", peek, err)
	}
	n, err := w.Screening.NextTask(w.Staff(t, "c1"), sc.ID, screening.Filter{})
	if err != nil || n.Task == nil || n.Task.HouseholdID != hh[0] || n.Remaining != 3 {
		t.Fatalf("staff after the official looked: %+v, %v; want %s with 3 left", n.Task, err, hh[0])
	}
}

// TestHistoryOf: a household's history is its attempts and follow-ups,
// newest first, for its grid's worker and the staff; another grid's
// worker and another community see none of it; the official sees the
// follow-up's phone masked.
func TestHistoryOf(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	hh := w.households(t, "c1", "c1-g1", 2)
	other := w.households(t, "c1", "c1-g2", 1)[0]
	sc := w.campaign(t, "c1", screening.ScreeningInput{Method: screening.MethodPhone})
	staff := w.Staff(t, "c1")
	w.attempt(t, staff, sc.ID, w.taskOf(t, "c1", sc.ID, other), "phone", "no_answer")
	task := w.taskOf(t, "c1", sc.ID, hh[0])
	w.attempt(t, staff, sc.ID, task, "phone", "no_answer")
	if _, err := w.Screening.RecordAttempt(staff, sc.ID, task, screening.AttemptInput{Method: "phone", Outcome: "reached", Symptoms: true, Notes: "发烧"}); err != nil {
		t.Fatal(err)
	}
	h, err := w.Screening.HistoryOf(w.GridWorker(t, "c1"), hh[0], 10)
	if err != nil || len(h.Attempts) != 2 || h.Attempts[0].Notes != "发烧" || len(h.FollowUps) != 1 || h.FollowUps[0].Phone == "" || strings.Contains(h.FollowUps[0].Phone, "*") {
		t.Fatalf("the grid's worker: %+v, %v", h, err)
	}
	if h, err := w.Screening.HistoryOf(w.Official(t, "c1"), hh[0], 10); err != nil || len(h.FollowUps) != 1 || !strings.Contains(h.FollowUps[0].Phone, "*") {
		t.Fatalf("the official: %+v, %v; want the phone masked", h, err)
	}
	if h, err := w.Screening.HistoryOf(w.Staff(t, "c1"), other, 10); err != nil || len(h.Attempts) != 1 {
		t.Fatalf("staff on c1-g2's household: %+v, %v", h, err)
	}
	if h, err := w.Screening.HistoryOf(w.GridWorker(t, "c1"), other, 10); err != nil || len(h.Attempts)+len(h.FollowUps) != 0 {
		t.Fatalf("another grid's worker: %+v, %v; want nothing", h, err)
	}
	if h, err := w.Screening.HistoryOf(w.Staff(t, "c2"), hh[0], 10); err != nil || len(h.Attempts)+len(h.FollowUps) != 0 {
		t.Fatalf("another community: %+v, %v; want nothing", h, err)
	}
}

// TestNotTriedApart: a new campaign's unreached are all not tried yet
// (未联系); a failed call moves its household to tried, not reached
// (未联系上), and a reached one out of both.
func TestNotTriedApart(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	hh := w.households(t, "c1", "c1-g1", 3)
	sc := w.campaign(t, "c1", screening.ScreeningInput{Method: screening.MethodPhone})
	if p := sc.Progress; p.NotTried != 3 || p.Unreached != 3 || p.TriedNotReached() != 0 {
		t.Fatalf("a new campaign: %+v, want 3 not tried and none tried", p)
	}
	staff := w.Staff(t, "c1")
	w.attempt(t, staff, sc.ID, w.taskOf(t, "c1", sc.ID, hh[0]), "phone", "no_answer")
	w.attempt(t, staff, sc.ID, w.taskOf(t, "c1", sc.ID, hh[1]), "phone", "reached")
	v, err := w.Screening.GetScreening(staff, sc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p := v.Progress; p.NotTried != 1 || p.Unreached != 2 || p.TriedNotReached() != 1 || p.Reached != 1 {
		t.Fatalf("after a failed and a reached call: %+v", p)
	}
	if g := v.ByGrid[0].Progress; g.NotTried != 1 || g.TriedNotReached() != 1 {
		t.Fatalf("the grid's figures: %+v", g)
	}
}

// TestNumberCorrected: only an open door-list task whose number was found
// wrong goes back to the call list, at its head with the never-tried; any
// other is 409, another community's is 404, and a closed campaign's 409.
func TestNumberCorrected(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	hh := w.households(t, "c1", "c1-g1", 3)
	sc := w.campaign(t, "c1", screening.ScreeningInput{Method: screening.MethodPhone})
	staff := w.As(t, "c1.staff", "c1")
	a, b, c := w.taskOf(t, "c1", sc.ID, hh[0]), w.taskOf(t, "c1", sc.ID, hh[1]), w.taskOf(t, "c1", sc.ID, hh[2])
	for range 3 { // to the door by failed calls, not a wrong number
		w.attempt(t, staff, sc.ID, a, "phone", "no_answer")
	}
	w.attempt(t, staff, sc.ID, b, "phone", "wrong_number")
	for _, id := range []string{a, c} {
		if _, err := w.Screening.NumberCorrected(staff, sc.ID, id); kind(err) != errs.KindConflict {
			t.Errorf("a task whose number was not found wrong: %v, want 409", err)
		}
	}
	other := w.As(t, "c2.staff", "c2")
	if _, err := w.Screening.NumberCorrected(other, sc.ID, b); kind(err) != errs.KindNotFound {
		t.Errorf("another community's: %v, want 404", err)
	}
	v, err := w.Screening.NumberCorrected(staff, sc.ID, b)
	if err != nil || v.Door || v.LastOutcome != "wrong_number" || v.Attempts != 1 {
		t.Fatalf("corrected: %+v %v, want off the door list, its attempt kept", v, err)
	}
	call, _, _ := w.Screening.ListTasks(staff, sc.ID, screening.Filter{List: "call", Limit: 50})
	if len(call) != 2 || call[0].ID != b && call[1].ID != b {
		t.Errorf("the call list after: %+v, want the corrected one back", call)
	}
	if _, err := w.Screening.NumberCorrected(staff, sc.ID, b); kind(err) != errs.KindConflict {
		t.Errorf("corrected twice: %v, want 409", err)
	}
}
