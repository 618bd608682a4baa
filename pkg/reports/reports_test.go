package reports_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/logs"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/reports"
	"github.com/wanjia/wanjia/pkg/testworld"
)

func raw(m map[string]any) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for k, v := range m {
		if s, ok := v.(string); ok && len(s) > 0 && s[0] == '!' {
			out[k] = json.RawMessage(s[1:]) // raw JSON as written
			continue
		}
		b, _ := json.Marshal(v)
		out[k] = b
	}
	return out
}

// TestDayBoundaries: attempts at 23:59 and 00:01 local fall on their own
// days, in the live draft of each.
func TestDayBoundaries(t *testing.T) {
	w := newWorld(t)
	hs := w.Households(t, "c1", "c1-g1", "170", 2)
	sc, tasks := w.campaign(t, "c1")
	w.Clock.At(t, "2020-02-03 23:59")
	w.attempt(t, "c1", sc, tasks[hs[0].ID], "phone")
	w.Clock.At(t, "2020-02-04 00:01")
	w.attempt(t, "c1", sc, tasks[hs[1].ID], "visit")
	admin := w.Admin(t, "c1")
	for _, c := range []struct {
		day                     string
		calls, visits, screened int
	}{{"2020-02-03", 1, 0, 1}, {"2020-02-04", 0, 1, 1}, {"2020-02-02", 0, 0, 0}} {
		r, err := w.Reports.Day(admin, c.day)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != reports.StatusDraft || r.Figures["calls_today"] != c.calls || r.Figures["visits_today"] != c.visits ||
			r.Figures["screened_today"] != c.screened || r.Figures["households_total"] != 2 {
			t.Errorf("%s: %s %v", c.day, r.Status, r.Figures)
		}
		if len(r.Figures) != len(reports.Keys) || len(r.Manual) != len(reports.ManualKeys) {
			t.Errorf("%s: %d figures and %d typed in, want every key", c.day, len(r.Figures), len(r.Manual))
		}
	}
}

// TestCutoffSnapshot: attempts at 17:59 and 18:01 are both in the live
// draft, and only the first in the snapshot the sweep takes at the 18:00
// cut-off, once; the reminder goes report_reminder_after minutes later to
// the admins of a community that has not submitted, once.
func TestCutoffSnapshot(t *testing.T) {
	w := newWorld(t)
	w.Exec(t, "UPDATE users SET phone = ? WHERE username = ?", "13800000001", "c1.admin")
	w.Exec(t, "UPDATE users SET phone = ? WHERE username = ?", "13800000002", "c2.admin")
	hs := w.Households(t, "c1", "c1-g1", "170", 2)
	sc, tasks := w.campaign(t, "c1")
	admin := w.Admin(t, "c1")
	if _, err := w.Reports.SaveDraft(admin, "2020-02-03", reports.ManualInput{Manual: raw(map[string]any{"staff_on_duty": 7})}); err != nil {
		t.Fatal(err)
	}
	w.Clock.At(t, "2020-02-03 17:59")
	w.attempt(t, "c1", sc, tasks[hs[0].ID], "phone")
	if r, err := w.Reports.Sweep(t.Context()); err != nil || r.Snapshots != 0 {
		t.Fatalf("before the cut-off: %+v %v", r, err)
	}
	w.Clock.At(t, "2020-02-03 18:00")
	if r, err := w.Reports.Sweep(t.Context()); err != nil || r.Snapshots != 2 || r.Reminders != 0 {
		t.Fatalf("at the cut-off: %+v %v, want a snapshot of each community", r, err)
	}
	w.Clock.At(t, "2020-02-03 18:01")
	w.attempt(t, "c1", sc, tasks[hs[1].ID], "phone")
	if r, err := w.Reports.Sweep(t.Context()); err != nil || r.Snapshots != 0 {
		t.Fatalf("a second sweep: %+v %v", r, err)
	}
	r, err := w.Reports.Day(admin, "2020-02-03")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != reports.StatusDraft || !r.Late || r.Figures["calls_today"] != 2 || r.Figures["screened_today"] != 2 {
		t.Errorf("live draft: %s late=%v %v", r.Status, r.Late, r.Figures)
	}
	if r.Cutoff == nil || r.Cutoff.Kind != reports.KindCutoff || r.Cutoff.Figures["calls_today"] != 1 ||
		r.Cutoff.Manual["staff_on_duty"] != 7 || !r.Cutoff.At.Equal(time.Date(2020, 2, 3, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("cut-off snapshot: %+v", r.Cutoff)
	}
	// c2 submits before its reminder is due; c1 does not.
	w.Clock.At(t, "2020-02-03 18:10")
	if _, err := w.Reports.Submit(w.Admin(t, "c2"), "2020-02-03"); err != nil {
		t.Fatal(err)
	}
	w.Clock.At(t, "2020-02-03 18:29")
	if r, err := w.Reports.Sweep(t.Context()); err != nil || r.Reminders != 0 {
		t.Fatalf("before the reminder: %+v %v", r, err)
	}
	w.Clock.At(t, "2020-02-03 18:30")
	for i := range 2 {
		r, err := w.Reports.Sweep(t.Context())
		if err != nil || r.Reminders != 1-i {
			t.Fatalf("sweep %d at 18:30: %+v %v", i+1, r, err)
		}
	}
	if !slices.Equal(w.outbox.keys, []string{"report-reminder:2020-02-03:13800000001"}) {
		t.Errorf("reminders %q, want one to c1's admin", w.outbox.keys)
	}
}

// TestSubmitFreezeCorrect: the typed-in part is pre-filled and saved
// field by field; a submission freezes figures and typed-in part (later
// records do not change it, a PUT or a second submit is a 409); a
// correction adds a version with fresh figures and a reason; the history
// keeps every version.
func TestSubmitFreezeCorrect(t *testing.T) {
	w := newWorld(t)
	hs := w.Households(t, "c1", "c1-g1", "170", 3)
	sc, tasks := w.campaign(t, "c1")
	admin := w.Admin(t, "c1")
	w.attempt(t, "c1", sc, tasks[hs[0].ID], "phone")
	if _, err := w.Logs.CreatePublicity(w.Staff(t, "c1"), logsNotice(12)); err != nil {
		t.Fatal(err)
	}
	for _, at := range []string{"2020-02-03T08:00:00+08:00", "2020-02-03T08:30:00+08:00"} {
		if _, err := w.Logs.CreateDisinfection(w.Staff(t, "c1"), logs.DisinfectionInput{Place: "垃圾站", At: at}); err != nil {
			t.Fatal(err)
		}
	}
	day := "2020-02-03"
	r, err := w.Reports.Day(admin, day)
	if err != nil || r.Manual["notices_posted"] != 12 || r.Figures["notices_posted_today"] != 12 || r.Manual["disinfection_rounds"] != 2 {
		t.Fatalf("pre-filled: %v %v", err, r.Manual)
	}
	if _, ok := r.Figures["disinfection_rounds_today"]; ok {
		t.Error("a domain's extra figure is among the report's keys")
	}
	staff := w.Staff(t, "c1")
	if _, err := w.Reports.SaveDraft(staff, day, reports.ManualInput{Manual: raw(map[string]any{"staff_on_duty": 5})}); err != nil {
		t.Fatal(err)
	}
	r, err = w.Reports.SaveDraft(staff, day, reports.ManualInput{Manual: raw(map[string]any{"volunteers_on_duty": 9, "notices_posted": 15})})
	if err != nil || r.Manual["staff_on_duty"] != 5 || r.Manual["volunteers_on_duty"] != 9 || r.Manual["notices_posted"] != 15 {
		t.Fatalf("saved: %v %v", err, r.Manual)
	}
	sub, err := w.Reports.Submit(admin, day)
	if err != nil || sub.Status != reports.StatusSubmitted || sub.Version != 1 || sub.Kind != reports.KindSubmission ||
		sub.SubmittedAt == nil || sub.AfterCutoff || sub.Figures["screened_today"] != 1 || sub.Manual["staff_on_duty"] != 5 {
		t.Fatalf("submit: %v %+v", err, sub)
	}
	w.Clock.At(t, "2020-02-03 19:00")
	w.attempt(t, "c1", sc, tasks[hs[1].ID], "visit")
	r, err = w.Reports.Day(admin, day)
	if err != nil || r.Figures["screened_today"] != 1 || r.Figures["visits_today"] != 0 || r.Version != 1 {
		t.Errorf("after a later record the submission moved: %v %v", err, r.Figures)
	}
	for what, err := range map[string]error{
		"put":    second(w.Reports.SaveDraft(staff, day, reports.ManualInput{Manual: raw(map[string]any{"staff_on_duty": 1})})),
		"submit": second(w.Reports.Submit(admin, day)),
	} {
		if errs.KindOf(err) != errs.KindConflict {
			t.Errorf("%s after the submission: %v, want 409", what, err)
		}
	}
	if _, err := w.Reports.Correct(admin, "2020-02-02", reports.CorrectionInput{Reason: "x"}); errs.KindOf(err) != errs.KindConflict {
		t.Errorf("correction of a day not submitted: %v, want 409", err)
	}
	if _, err := w.Reports.Correct(admin, day, reports.CorrectionInput{Reason: "  "}); testworld.Fields(err) != "reason=required" {
		t.Errorf("correction without a reason: %v", err)
	}
	c, err := w.Reports.Correct(admin, day, reports.CorrectionInput{Reason: "补录入户排查", Manual: raw(map[string]any{"volunteers_on_duty": 11})})
	if err != nil || c.Version != 2 || c.Kind != reports.KindCorrection || c.Figures["visits_today"] != 1 ||
		c.Manual["volunteers_on_duty"] != 11 || c.Manual["staff_on_duty"] != 5 {
		t.Fatalf("correction: %v %+v", err, c)
	}
	if c.SubmittedAt == nil || !c.SubmittedAt.Equal(*sub.SubmittedAt) || len(c.History) != 2 ||
		c.History[0].Version != 2 || c.History[0].Reason != "补录入户排查" || c.History[0].By != "c1.admin" ||
		c.History[1].Version != 1 || c.History[1].Figures["visits_today"] != 0 {
		t.Errorf("history: %+v", c.History)
	}
	if !c.History[0].AfterCutoff || c.History[1].AfterCutoff {
		t.Errorf("after the cut-off: correction %v, submission %v", c.History[0].AfterCutoff, c.History[1].AfterCutoff)
	}
}

func second[T any](_ T, err error) error { return err }

// TestBadInput: figures that are negative, fractional, text or unknown are
// a 422 on their field; a date that is no date, from after to, a range
// over 92 days and a day after today are 422s.
func TestBadInput(t *testing.T) {
	w := newWorld(t)
	staff := w.Staff(t, "c1")
	for _, c := range []struct {
		manual map[string]any
		want   string
	}{
		{map[string]any{"staff_on_duty": -1}, "manual.staff_on_duty=out_of_range"},
		{map[string]any{"staff_on_duty": 1.5}, "manual.staff_on_duty=reports_whole_number"},
		{map[string]any{"staff_on_duty": "3"}, "manual.staff_on_duty=reports_whole_number"},
		{map[string]any{"staff_on_duty": "!1e3"}, "manual.staff_on_duty=reports_whole_number"},
		{map[string]any{"staff_on_duty": true}, "manual.staff_on_duty=reports_whole_number"},
		{map[string]any{"staff_on_duty": 2_000_000}, "manual.staff_on_duty=out_of_range"},
		{map[string]any{"suspected": 1, "notices_posted": -2}, "manual.notices_posted=out_of_range,manual.suspected=reports_unknown_figure"},
		{map[string]any{"staff_on_duty": 0, "volunteers_on_duty": 1_000_000}, ""},
	} {
		_, err := w.Reports.SaveDraft(staff, "2020-02-03", reports.ManualInput{Manual: raw(c.manual)})
		if got := testworld.Fields(err); got != c.want {
			t.Errorf("%v: %q, want %q", c.manual, got, c.want)
		}
	}
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"day not a date", second(w.Reports.Day(staff, "2020-2-3")), "date=invalid_date"},
		{"day of 30 February", second(w.Reports.Day(staff, "2020-02-30")), "date=invalid_date"},
		{"put tomorrow", second(w.Reports.SaveDraft(staff, "2020-02-04", reports.ManualInput{})), "date=date_in_future"},
		{"submit tomorrow", second(w.Reports.Submit(w.Admin(t, "c1"), "2020-02-04")), "date=date_in_future"},
		{"from after to", second(w.Reports.Series(staff, "2020-02-03", "2020-02-01")), "from=reports_from_after_to"},
		{"93 days", second(w.Reports.Series(staff, "2019-11-03", "2020-02-03")), "to=reports_range_too_long"},
		{"from not a date", second(w.Reports.Series(staff, "x", "2020-02-03")), "from=invalid_date"},
		{"92 days", second(w.Reports.Series(staff, "2019-11-04", "2020-02-03")), ""},
		{"export format", w.Reports.Export(staff, "2020-02-03", "pdf", nil), "format=one_of"},
	} {
		if got := testworld.Fields(c.err); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	// A rollup asked of a community is not there.
	if _, err := w.Reports.Rollup(staff, "2020-02-03"); errs.KindOf(err) != errs.KindNotFound {
		t.Errorf("rollup of a community: %v, want 404", err)
	}
	// The setting.
	for v, want := range map[int]string{0: "", 30: "", 720: "", -1: "s.report_reminder_after=out_of_range", 721: "s.report_reminder_after=out_of_range"} {
		st := orgs.DefaultSettings()
		st.ReportReminderAfter = v
		if got := testworld.Fields(validation(st.Validate("s."))); got != want {
			t.Errorf("report_reminder_after %d: %q, want %q", v, got, want)
		}
	}
	if orgs.DefaultSettings().ReminderAfter() != 30 {
		t.Error("report_reminder_after's default is not 30")
	}
}

func validation(fe []errs.FieldError) error {
	if len(fe) == 0 {
		return nil
	}
	return errs.Validation(fe...)
}

// TestSeries: a community's series is its own submission or live draft
// per day (another community's submission of a day leaves it a draft);
// the sub-district's the totals over its communities.
func TestSeries(t *testing.T) {
	w := newWorld(t)
	hs := w.Households(t, "c1", "c1-g1", "170", 2)
	w.Households(t, "c2", "c2-g1", "171", 3)
	sc, tasks := w.campaign(t, "c1")
	w.Clock.At(t, "2020-02-01 10:00")
	w.attempt(t, "c1", sc, tasks[hs[0].ID], "phone")
	if _, err := w.Reports.Submit(w.Admin(t, "c1"), "2020-02-01"); err != nil {
		t.Fatal(err)
	}
	w.Clock.At(t, "2020-02-02 10:00")
	w.attempt(t, "c1", sc, tasks[hs[1].ID], "phone")
	// Another community's submission of a day is not this one's.
	if _, err := w.Reports.Submit(w.Admin(t, "c2"), "2020-02-02"); err != nil {
		t.Fatal(err)
	}
	w.Clock.At(t, "2020-02-03 10:00")
	s, err := w.Reports.Series(w.Staff(t, "c1"), "2020-02-01", "2020-02-03")
	if err != nil || len(s.Items) != 3 {
		t.Fatalf("%v %+v", err, s)
	}
	got := ""
	for _, it := range s.Items {
		got += fmt.Sprintf("%s:%s:%v:%d;", it.Date, it.Status, it.Draft, it.Figures["households_screened_total"])
	}
	if want := "2020-02-01:submitted:false:1;2020-02-02:draft:true:2;2020-02-03:draft:true:2;"; got != want {
		t.Errorf("series %s, want %s", got, want)
	}
	above, err := w.Reports.Series(w.Official(t, "sub"), "2020-02-01", "2020-02-03")
	if err != nil || len(above.Items) != 3 {
		t.Fatalf("%v %+v", err, above)
	}
	got = ""
	for _, it := range above.Items {
		got += fmt.Sprintf("%s:%d/%d:%d:%d;", it.Date, it.Submitted, it.Drafts, it.Figures["households_total"], it.Figures["households_screened_total"])
	}
	if want := "2020-02-01:1/1:5:1;2020-02-02:1/1:5:2;2020-02-03:0/2:5:2;"; got != want {
		t.Errorf("sub-district series %s, want %s", got, want)
	}
	if d, err := w.Reports.Series(w.Staff(t, "c1"), "", ""); err != nil || len(d.Items) != 30 || d.To != "2020-02-03" {
		t.Errorf("default range: %v %s..%s %d", err, d.From, d.To, len(d.Items))
	}
}
