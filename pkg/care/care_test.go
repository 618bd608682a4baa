package care_test

import (
	"context"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wanjia/wanjia/pkg/care"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/testworld"
)

// careReads keeps what the service records as reads of personal data.
type careReads struct {
	mu      sync.Mutex
	entries []map[string]any
}

func (r *careReads) Record(_ context.Context, resource, id string, details map[string]any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	details["resource"] = resource + "/" + id
	r.entries = append(r.entries, details)
}

func (r *careReads) last() map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.entries) == 0 {
		return nil
	}
	return r.entries[len(r.entries)-1]
}

// careWorld is c1's care list at 2020-02-03 (overdue after 7 days):
//
//	A, E  never contacted (E in c1-g2; A born 1940)
//	C     reached 20 days ago
//	G     reached 15 days ago, no answer yesterday
//	B     reached 10 days ago
//	J     reached 8 days ago
//	I     reached 7 days ago (not yet overdue)
//	D     reached 2 days ago
//
// and off the list: F (elderly only), H (removed from the roster), and X
// in c2.
type careWorld struct {
	*world
	ids   map[string]string
	staff context.Context
}

func newCareWorld(t *testing.T) *careWorld {
	t.Helper()
	w := newWorld(t)
	cw := &careWorld{world: w, ids: map[string]string{}, staff: w.As(t, "c1.staff", "c1")}
	g1 := w.households(t, "c1", "c1-g1", 3)
	g2 := w.households(t, "c1", "c1-g2", 1)
	cx := w.households(t, "c2", "c2-g1", 1)
	tags := []string{roster.TagElderly, roster.TagLivesAlone}
	born := 1940
	a, err := w.Roster.CreateResident(cw.staff, roster.ResidentInput{HouseholdID: g1[0], Name: "A", Phone: "13900000001", BirthYear: &born, Tags: tags})
	if err != nil {
		t.Fatal(err)
	}
	cw.ids["A"] = a.ID
	for _, r := range []struct {
		name, household string
		tags            []string
	}{
		{"B", g1[0], tags}, {"C", g1[1], tags}, {"D", g1[1], tags}, {"G", g1[2], tags}, {"I", g1[2], tags}, {"J", g1[2], tags},
		{"E", g2[0], tags}, {"F", g1[0], tags[:1]}, {"H", g1[0], tags},
	} {
		cw.ids[r.name] = w.Resident(t, "c1", r.household, r.name, r.tags...)
	}
	cw.ids["X"] = w.Resident(t, "c2", cx[0], "X", tags...)
	if err := w.Roster.DeleteResident(cw.staff, cw.ids["H"]); err != nil {
		t.Fatal(err)
	}
	now := w.Clock.Now()
	for _, c := range []struct {
		name    string
		daysAgo int
		outcome string
	}{
		{"C", 20, care.OutcomeReached}, {"G", 15, care.OutcomeReached}, {"B", 10, care.OutcomeReached},
		{"J", 8, care.OutcomeReached}, {"I", 7, care.OutcomeReached}, {"D", 2, care.OutcomeReached},
		{"G", 1, care.OutcomeNoAnswer},
	} {
		w.Clock.Set(now.AddDate(0, 0, -c.daysAgo))
		cw.contact(t, cw.staff, c.name, c.outcome)
	}
	w.Clock.Set(now)
	return cw
}

func (cw *careWorld) contact(t *testing.T, ctx context.Context, name, outcome string) *care.ContactView {
	t.Helper()
	v, err := cw.Care.RecordContact(ctx, cw.ids[name], care.ContactInput{Method: care.MethodPhone,
		Outcome: outcome, Reason: "例行问候 " + name})
	if err != nil {
		t.Fatalf("contact %s: %v", name, err)
	}
	return v
}

// order is names as the ids the list should show, the leading ones (the
// never contacted, ordered by id) sorted as the list sorts them.
func (cw *careWorld) order(never []string, rest ...string) string {
	ids := make([]string, 0, len(never)+len(rest))
	for _, n := range never {
		ids = append(ids, cw.ids[n])
	}
	sort.Strings(ids)
	for _, n := range rest {
		ids = append(ids, cw.ids[n])
	}
	return strings.Join(ids, " ")
}

func (cw *careWorld) names(ids string) string {
	by := map[string]string{}
	for n, id := range cw.ids {
		by[id] = n
	}
	var out []string
	for _, id := range strings.Fields(ids) {
		out = append(out, by[id])
	}
	return strings.Join(out, " ")
}

func careIDs(list []care.Entry) string {
	ids := make([]string, len(list))
	for i, c := range list {
		ids[i] = c.ResidentID
	}
	return strings.Join(ids, " ")
}

// TestCareList: the order of work (never contacted, then longest without
// contact, then the rest), the filters, a grid worker's grids, another
// community, paging across both kinds of cursor, and the fields.
func TestCareList(t *testing.T) {
	cw := newCareWorld(t)
	full := cw.order([]string{"A", "E"}, "C", "G", "B", "J", "I", "D")
	for _, c := range []struct {
		name string
		user string
		org  string
		f    care.Filter
		want string
		err  string
	}{
		{"staff", "c1.staff", "c1", care.Filter{}, full, ""},
		{"admin", "c1.admin", "c1", care.Filter{}, full, ""},
		{"overdue only", "c1.staff", "c1", care.Filter{Overdue: true}, cw.order([]string{"A", "E"}, "C", "G", "B", "J"), ""},
		{"one grid", "c1.staff", "c1", care.Filter{Grid: "c1-g2"}, cw.order([]string{"E"}), ""},
		{"grid worker: own grid only", "c1.grid1", "c1", care.Filter{}, cw.order([]string{"A"}, "C", "G", "B", "J", "I", "D"), ""},
		{"grid worker, another grid", "c1.grid1", "c1", care.Filter{Grid: "c1-g2"}, "", "grid=unknown_grid"},
		{"another community", "c2.staff", "c2", care.Filter{}, cw.order([]string{"X"}), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.f.Limit = 50
			got, next, err := cw.Care.List(cw.As(t, c.user, c.org), c.f)
			if f := testworld.Fields(err); f != c.err {
				t.Fatalf("error %q, want %q", f, c.err)
			}
			if ids := careIDs(got); ids != c.want || next != "" {
				t.Errorf("got %s (next %q), want %s", cw.names(ids), next, cw.names(c.want))
			}
		})
	}

	for _, limit := range []int{1, 2, 3} {
		var all []string
		cursor := ""
		for pages := 0; ; pages++ {
			page, next, err := cw.Care.List(cw.staff, care.Filter{Limit: limit, Cursor: cursor})
			if err != nil || pages > 8 {
				t.Fatalf("limit %d, page %d: %v", limit, pages, err)
			}
			all = append(all, careIDs(page))
			if next == "" {
				break
			}
			cursor = next
		}
		if got := strings.Join(strings.Fields(strings.Join(all, " ")), " "); got != full {
			t.Errorf("pages of %d: %s, want %s", limit, cw.names(got), cw.names(full))
		}
	}
	if _, _, err := cw.Care.List(cw.staff, care.Filter{Limit: 2, Cursor: "2.x"}); errs.KindOf(err) != errs.KindValidation {
		t.Errorf("a forged cursor: %v", err)
	}

	got, _, err := cw.Care.List(cw.staff, care.Filter{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]care.Entry{}
	for _, c := range got {
		by[c.Name] = c
	}
	now := cw.Clock.Now()
	days := func(c care.Entry) int {
		if c.DaysSinceContact == nil {
			return -1
		}
		return *c.DaysSinceContact
	}
	for name, want := range map[string]struct {
		days    int
		overdue bool
		outcome string
	}{
		"A": {-1, true, ""}, "E": {-1, true, ""}, "C": {20, true, "reached"}, "G": {15, true, "no_answer"},
		"B": {10, true, "reached"}, "J": {8, true, "reached"}, "I": {7, false, "reached"}, "D": {2, false, "reached"},
	} {
		c := by[name]
		if days(c) != want.days || c.Overdue != want.overdue || c.LastOutcome != want.outcome {
			t.Errorf("%s: %d days, overdue %v, last outcome %q; want %+v", name, days(c), c.Overdue, c.LastOutcome, want)
		}
		if len(c.Phone) != 11 || strings.Contains(c.Phone, "*") || c.Address == "" || c.HouseholdID == "" ||
			strings.Join(c.Tags, ",") != "elderly,lives_alone" {
			t.Errorf("%s: %+v", name, c)
		}
	}
	g := by["G"]
	if g.LastContactAt == nil || !g.LastContactAt.Equal(now.AddDate(0, 0, -15)) || g.LastAttemptAt == nil ||
		!g.LastAttemptAt.Equal(now.AddDate(0, 0, -1)) || g.LastReason != "例行问候 G" || g.LastMethod != "phone" || g.LastBy != "工作人员" {
		t.Errorf("G: %+v", g)
	}
	if a := by["A"]; a.LastContactAt != nil || a.LastAttemptAt != nil || a.BirthYear == nil || a.Age == nil || *a.Age != 80 {
		t.Errorf("A: %+v", a)
	}
	if e := by["E"]; e.Grid != "c1-g2" || e.Age != nil {
		t.Errorf("E: %+v", e)
	}

	// The route keeps officials off the care list (no care perm); the
	// service masks by role all the same, and says so in the read it
	// records.
	reads := &careReads{}
	cw.Care.Reads = reads
	masked, _, err := cw.Care.List(cw.As(t, "sub.official", "c1"), care.Filter{Limit: 50})
	if err != nil || careIDs(masked) != full {
		t.Fatalf("official: %v %v", masked, err)
	}
	for _, c := range masked {
		if !strings.Contains(c.Phone, "*") || !strings.Contains(c.HouseholdPhone, "*") || c.Phone == by[c.Name].Phone {
			t.Errorf("%s: phones %q, %q shown to an official", c.Name, c.Phone, c.HouseholdPhone)
		}
	}
	if r := reads.last(); r == nil || r["masked"] != true || r["count"] != len(masked) {
		t.Errorf("read recorded %v", r)
	}
}

// TestCareContacts: a contact that reaches someone moves them to the end;
// one that does not leaves them where they were; the community's own
// overdue days and care tags; what a contact checks, and whom it may
// reach; the reads recorded.
func TestCareContacts(t *testing.T) {
	cw := newCareWorld(t)
	reads := &careReads{}
	cw.Care.Reads = reads
	list := func(f care.Filter) string {
		t.Helper()
		f.Limit = 50
		got, _, err := cw.Care.List(cw.staff, f)
		if err != nil {
			t.Fatal(err)
		}
		return careIDs(got)
	}

	v := cw.contact(t, cw.staff, "C", care.OutcomeReached)
	cw.contact(t, cw.As(t, "c1.grid1", "c1"), "A", care.OutcomeNoAnswer)
	if v.ResidentID != cw.ids["C"] || v.Grid != "c1-g1" || v.Date != "2020-02-03" || v.By != "工作人员" || v.HouseholdID == "" {
		t.Errorf("contact %+v", v)
	}
	if got, want := list(care.Filter{}), cw.order([]string{"A", "E"}, "G", "B", "J", "I", "D", "C"); got != want {
		t.Errorf("after contacts: %s, want %s", cw.names(got), cw.names(want))
	}
	r := reads.last()
	if r == nil || r["resource"] != "care_list/list" || r["masked"] != false || r["count"] != 8 || len(r["ids"].([]string)) != 8 {
		t.Errorf("read recorded %v", r)
	}

	// The community's own rules: overdue after 3 days, every elderly
	// resident (F too).
	st := orgs.DefaultSettings()
	st.CareOverdueDays, st.CareTags = 3, []string{roster.TagElderly}
	if _, err := cw.District.Orgs.Update(cw.As(t, "c1.admin", "c1"), "c1", orgs.OrgPatch{Settings: &st}); err != nil {
		t.Fatal(err)
	}
	if got, want := list(care.Filter{Overdue: true}), cw.order([]string{"A", "E", "F"}, "G", "B", "J", "I"); got != want {
		t.Errorf("own rules: %s, want %s", cw.names(got), cw.names(want))
	}

	long := strings.Repeat("字", 201)
	for _, c := range []struct {
		name     string
		user     string
		org      string
		resident string
		in       care.ContactInput
		want     string // fields of a 422, "not found", or "" for recorded
	}{
		{"off the list is allowed", "c1.staff", "c1", "F", care.ContactInput{Method: "visit", Outcome: "reached", Reason: "出院回访"}, ""},
		{"visit, moved out", "c1.grid1", "c1", "B", care.ContactInput{Method: "visit", Outcome: "moved_out", Reason: "上门", Notes: "已随子女居住"}, ""},
		{"checks", "c1.staff", "c1", "B", care.ContactInput{Method: "sms", Reason: " "}, "method=one_of,outcome=required,reason=required"},
		{"reason too long", "c1.staff", "c1", "B", care.ContactInput{Method: "phone", Outcome: "reached", Reason: long}, "reason=too_long"},
		{"another grid's resident", "c1.grid1", "c1", "E", care.ContactInput{Method: "phone", Outcome: "reached", Reason: "x"}, "not found"},
		{"another community's resident", "c2.staff", "c2", "A", care.ContactInput{Method: "phone", Outcome: "reached", Reason: "x"}, "not found"},
		{"removed from the roster", "c1.staff", "c1", "H", care.ContactInput{Method: "phone", Outcome: "reached", Reason: "x"}, "not found"},
		{"no such resident", "c1.staff", "c1", "nobody", care.ContactInput{Method: "phone", Outcome: "reached", Reason: "x"}, "not found"},
	} {
		t.Run(c.name, func(t *testing.T) {
			id := cw.ids[c.resident]
			if id == "" {
				id = c.resident
			}
			v, err := cw.Care.RecordContact(cw.As(t, c.user, c.org), id, c.in)
			got := testworld.Fields(err)
			if errs.KindOf(err) == errs.KindNotFound {
				got = "not found"
			}
			if got != c.want {
				t.Fatalf("%q, want %q", got, c.want)
			}
			if c.want == "" && (v.ResidentID != id || v.Method != c.in.Method || v.Outcome != c.in.Outcome || v.Reason != c.in.Reason || v.Notes != c.in.Notes) {
				t.Errorf("recorded %+v", v)
			}
		})
	}

	// Four days on, those reached today are due again under the 3 days
	// (C and F, reached at the same moment, in the order of their ids);
	// B's visit found them moved out, which is no contact.
	cw.Clock.Set(cw.Clock.Now().Add(4 * 24 * time.Hour))
	want := cw.order([]string{"A", "E"}, "G", "B", "J", "I", "D", "C", "F")
	if got := list(care.Filter{Overdue: true}); got != want {
		t.Errorf("four days later: %s, want %s", cw.names(got), cw.names(want))
	}
	// One at a time, the cursor between C and F (the same last contact)
	// neither skips nor repeats.
	var paged []string
	for cursor, pages := "", 0; ; pages++ {
		page, next, err := cw.Care.List(cw.staff, care.Filter{Overdue: true, Limit: 1, Cursor: cursor})
		if err != nil || pages > 10 {
			t.Fatalf("page %d: %v", pages, err)
		}
		paged = append(paged, careIDs(page))
		if next == "" {
			break
		}
		cursor = next
	}
	if got := strings.Join(strings.Fields(strings.Join(paged, " ")), " "); got != want {
		t.Errorf("paged one at a time: %s, want %s", cw.names(got), cw.names(want))
	}
}
