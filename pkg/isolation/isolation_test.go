package isolation_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/idempotency"
	"github.com/wanjia/wanjia/pkg/isolation"
	"github.com/wanjia/wanjia/pkg/screening"
)

func temp(s string) json.RawMessage { return json.RawMessage(s) }

// TestBadInputStoresNothing: every refusal of the "Bad input" is
// the right answer, names the field, and leaves no row behind.
func TestBadInputStoresNothing(t *testing.T) {
	w := newWorld(t)
	res := w.resident(t, "c1", "c1-g1")
	other := w.resident(t, "c2", "c2-g1")
	g2 := w.resident(t, "c1", "c1-g2")
	open := w.open(t, "c1", res, "")
	staff := w.as(t, "c1.staff", "c1")
	grid1 := w.as(t, "c1.grid1", "c1")
	fourteen := 14
	zero := 0
	cases, checkins := w.count(t, "isolation_cases"), w.count(t, "isolation_checkins")

	for _, c := range []struct {
		name   string
		do     func() error
		kind   errs.Kind
		fields string
	}{
		{"temperature 45", func() error {
			_, err := w.Isolation.RecordCheckin(staff, open.ID, isolation.CheckinInput{Temperature: temp("45")})
			return err
		}, errs.KindValidation, "temperature=out_of_range"},
		{"temperature abc", func() error {
			_, err := w.Isolation.RecordCheckin(staff, open.ID, isolation.CheckinInput{Temperature: temp(`"abc"`)})
			return err
		}, errs.KindValidation, "temperature=not_a_number"},
		{"temperature 33.9", func() error {
			_, err := w.Isolation.RecordCheckin(staff, open.ID, isolation.CheckinInput{Temperature: temp("33.9")})
			return err
		}, errs.KindValidation, "temperature=out_of_range"},
		{"no temperature", func() error {
			_, err := w.Isolation.RecordCheckin(staff, open.ID, isolation.CheckinInput{})
			return err
		}, errs.KindValidation, "temperature=required"},
		{"unknown symptom and source", func() error {
			_, err := w.Isolation.RecordCheckin(staff, open.ID, isolation.CheckinInput{Temperature: temp("36.5"), Symptoms: []string{"cough", "headache"}, Source: "fax"})
			return err
		}, errs.KindValidation, "source=one_of,symptoms[1]=one_of"},
		{"check-in on another community's case", func() error {
			_, err := w.Isolation.RecordCheckin(w.as(t, "c2.staff", "c2"), open.ID, isolation.CheckinInput{Temperature: temp("36.5")})
			return err
		}, errs.KindNotFound, ""},
		{"unknown kind", func() error {
			_, err := w.Isolation.CreateCase(staff, isolation.CaseInput{ResidentID: g2, Kind: "quarantine"})
			return err
		}, errs.KindValidation, "kind=one_of"},
		{"future start, days 0", func() error {
			_, err := w.Isolation.CreateCase(staff, isolation.CaseInput{ResidentID: g2, Kind: isolation.KindCloseContact, StartDate: "2020-02-04", Days: &zero})
			return err
		}, errs.KindValidation, "days=out_of_range,start_date=date_in_future"},
		{"bad date", func() error {
			_, err := w.Isolation.CreateCase(staff, isolation.CaseInput{ResidentID: g2, Kind: isolation.KindCloseContact, StartDate: "3 Feb", Days: &fourteen})
			return err
		}, errs.KindValidation, "start_date=invalid_date"},
		{"another community's resident", func() error {
			_, err := w.Isolation.CreateCase(staff, isolation.CaseInput{ResidentID: other, Kind: isolation.KindHomeIsolation})
			return err
		}, errs.KindValidation, "resident_id=unknown_resident"},
		{"a second live case", func() error {
			_, err := w.Isolation.CreateCase(staff, isolation.CaseInput{ResidentID: res, Kind: isolation.KindCloseContact})
			return err
		}, errs.KindConflict, ""},
		{"support of unknown kind for another grid's resident, as grid1", func() error {
			_, err := w.Isolation.CreateSupport(grid1, isolation.SupportInput{ResidentID: g2, Kind: "taxi"})
			return err
		}, errs.KindValidation, "kind=one_of,resident_id=unknown_resident"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.do()
			if kind(err) != c.kind || fields(err) != c.fields {
				t.Fatalf("err = %v (kind %v, fields %q); want kind %v fields %q", err, kind(err), fields(err), c.kind, c.fields)
			}
		})
	}
	if n := w.count(t, "isolation_cases"); n != cases {
		t.Errorf("cases: %d, want %d", n, cases)
	}
	if n := w.count(t, "isolation_checkins"); n != checkins {
		t.Errorf("check-ins: %d, want %d", n, checkins)
	}
	if n := w.count(t, "support_requests"); n != 0 {
		t.Errorf("support requests: %d, want 0", n)
	}
}

// TestOneLiveCasePerResident: a resident has one live case at a time; a
// released one makes room for the next. Mutation: dropping the service's
// check and the unique index isolation_cases_live_idx together opens a
// second case (this test fails); either alone still answers 409.
func TestOneLiveCasePerResident(t *testing.T) {
	w := newWorld(t)
	res := w.resident(t, "c1", "c1-g1")
	first := w.open(t, "c1", res, "2020-01-20")
	staff := w.as(t, "c1.staff", "c1")
	_, err := w.Isolation.CreateCase(staff, isolation.CaseInput{ResidentID: res, Kind: isolation.KindCloseContact})
	var e *errs.Error
	if kind(err) != errs.KindConflict || !errorsAs(err, &e) || e.Key != "case_already_open" || e.Data["case_id"] != first.ID {
		t.Fatalf("second case: %v, want 409 case_already_open naming %s", err, first.ID)
	}
	if _, err := w.Isolation.Release(staff, first.ID, isolation.ReleaseInput{}); err != nil {
		t.Fatalf("release at the end date: %v", err)
	}
	if _, err := w.Isolation.CreateCase(staff, isolation.CaseInput{ResidentID: res, Kind: isolation.KindCloseContact}); err != nil {
		t.Fatalf("a case after the release: %v", err)
	}
}

// TestGridScoping: a grid worker sees, checks in and lists its grids'
// cases only; another grid's case is the same 404 as one that never was.
// Mutation: g.Limit in selectCases removed → grid1 lists and checks in the
// c1-g2 case, and this test fails.
func TestGridScoping(t *testing.T) {
	w := newWorld(t)
	mine := w.open(t, "c1", w.resident(t, "c1", "c1-g1"), "")
	theirs := w.open(t, "c1", w.resident(t, "c1", "c1-g2"), "")
	grid1 := w.as(t, "c1.grid1", "c1")
	if _, err := w.Isolation.RecordCheckin(grid1, mine.ID, isolation.CheckinInput{Temperature: temp("36.6")}); err != nil {
		t.Fatalf("own grid's check-in: %v", err)
	}
	for name, err := range map[string]error{
		"checkin": second(w.Isolation.RecordCheckin(grid1, theirs.ID, isolation.CheckinInput{Temperature: temp("36.6")})),
		"get":     second(w.Isolation.GetCase(grid1, theirs.ID)),
		"c2 get":  second(w.Isolation.GetCase(w.as(t, "c2.staff", "c2"), mine.ID)),
		"never":   second(w.Isolation.GetCase(grid1, "0190a000-0000-7000-8000-000000000000")),
	} {
		if kind(err) != errs.KindNotFound {
			t.Errorf("%s: %v, want 404", name, err)
		}
	}
	items, _, err := w.Isolation.ListCases(grid1, isolation.Filter{Limit: 50})
	if err != nil || len(items) != 1 || items[0].ID != mine.ID {
		t.Fatalf("grid1's list: %v %+v, want only its own case", err, items)
	}
	if items, _, _ := w.Isolation.ListCases(w.as(t, "c2.staff", "c2"), isolation.Filter{Limit: 50}); len(items) != 0 {
		t.Fatalf("c2 lists c1's cases: %+v", items)
	}
}

// TestMasking: staff and grid workers see phones whole; an official above
// the community sees them masked, in lists and on one case. Mutation:
// caseView with r.Phone instead of v.Phone(r.Phone) fails it.
func TestMasking(t *testing.T) {
	w := newWorld(t)
	c := w.open(t, "c1", w.resident(t, "c1", "c1-g1"), "")
	if strings.Contains(c.Phone, "*") || c.Phone == "" {
		t.Fatalf("staff sees %q", c.Phone)
	}
	official := w.as(t, "sub.official", "c1")
	got, err := w.Isolation.GetCase(official, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	items, _, err := w.Isolation.ListCases(official, isolation.Filter{Limit: 10})
	if err != nil || len(items) != 1 {
		t.Fatal(err, items)
	}
	for _, p := range []string{got.Phone, items[0].Phone} {
		if !strings.Contains(p, "****") || p == c.Phone {
			t.Errorf("the official sees %q, want it masked", p)
		}
	}
}

// TestIdempotentCreate: a create retried with its key opens one case and
// answers the same link; the same key with another body is a 422.
// Mutation: scope.Run instead of scope.Once in CreateCase fails it.
func TestIdempotentCreate(t *testing.T) {
	w := newWorld(t)
	res := w.resident(t, "c1", "c1-g1")
	ctx := w.as(t, "c1.staff", "c1")
	req := func(body string) context.Context {
		return idempotency.With(ctx, idempotency.Request{Key: "k-1", Fingerprint: idempotency.Fingerprint("u", "POST", "/isolations", "c1", body)})
	}
	in := isolation.CaseInput{ResidentID: res, Kind: isolation.KindHomeIsolation}
	a, err := w.Isolation.CreateCase(req("a"), in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := w.Isolation.CreateCase(req("a"), in)
	if err != nil || b.ID != a.ID || b.CheckinURL != a.CheckinURL {
		t.Fatalf("retry: %v %+v, want the first answer %+v", err, b, a)
	}
	if _, err := w.Isolation.CreateCase(req("b"), in); fields(err) != "Idempotency-Key=idempotency_key_reused" {
		t.Fatalf("same key, another body: %v", err)
	}
	if n := w.count(t, "isolation_cases"); n != 1 {
		t.Fatalf("%d cases, want 1", n)
	}
	if !strings.HasPrefix(a.CheckinURL, "https://wanjia.example/r/") || len(a.CheckinURL) != len("https://wanjia.example/r/")+43 {
		t.Fatalf("checkin_url %q", a.CheckinURL)
	}
	link := w.outbox.with("link:")
	if len(link) != 1 || !strings.Contains(link["link:"+a.ID].Text, a.CheckinURL) {
		t.Fatalf("link notices: %+v", link)
	}
	// The idempotency row keeps the link sealed, never the token.
	token := a.CheckinURL[strings.LastIndex(a.CheckinURL, "/")+1:]
	var stored string
	w.scan(t, `SELECT response FROM idempotency_keys`, &stored)
	if strings.Contains(stored, token) {
		t.Fatal("the idempotency row stores the link's token in clear")
	}
}

// TestCheckinsAndAlerts walks a case's days in a community on the other
// side of the world: the first check-in of a local day counts, a fever
// raises that day's one alert, sent urgently once to the grid's worker
// and the staff (c2.staff, c2.grid1; not the admin, nobody of c1), and alerts move through
// acknowledged to closed.
func TestCheckinsAndAlerts(t *testing.T) {
	w := newWorld(t)
	w.at(t, newYork, "2020-02-02 20:00") // Shanghai: 2020-02-03 09:00
	c := w.open(t, "c2", w.resident(t, "c2", "c2-g1"), "")
	if c.StartDate != "2020-02-02" || c.EndDate != "2020-02-16" {
		t.Fatalf("dates %s → %s, want New York's 2020-02-02 → 2020-02-16", c.StartDate, c.EndDate)
	}
	staff := w.as(t, "c2.staff", "c2")
	for i, step := range []struct {
		local  string
		temp   string
		counts bool
		alert  bool
	}{
		{"2020-02-02 20:30", "36.5", true, false},
		{"2020-02-02 23:59", "37.3", false, true},  // a later one of the same day: kept, raises the alert
		{"2020-02-03 00:01", "37.8", true, true},   // the next local day: counts, a new alert
		{"2020-02-03 08:00", "38.1", false, false}, // one alert a day
	} {
		w.at(t, newYork, step.local)
		k, err := w.Isolation.RecordCheckin(staff, c.ID, isolation.CheckinInput{Temperature: temp(step.temp)})
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if k.Counts != step.counts || (k.AlertID != "") != step.alert {
			t.Errorf("step %d (%s): counts %v alert %q; want counts %v alert %v", i, step.local, k.Counts, k.AlertID, step.counts, step.alert)
		}
	}
	alerts, _, err := w.Isolation.ListAlerts(staff, isolation.Filter{Kind: isolation.AlertFever, Limit: 50})
	if err != nil || len(alerts) != 2 || alerts[0].Date != "2020-02-03" || alerts[1].Date != "2020-02-02" {
		t.Fatalf("alerts: %v %+v", err, alerts)
	}
	sent := w.outbox.with("alert:")
	if len(sent) != 4 { // two alerts, each to c2.staff and c2.grid1
		t.Fatalf("alert notices: %+v", sent)
	}
	phones := map[string]bool{}
	for _, n := range sent {
		phones[n.Phone] = true
	}
	if len(phones) != 2 || !phones["13900000003"] || !phones["13900000004"] {
		t.Errorf("alerts went to %v, want c2.staff's and c2.grid1's phones", phones)
	}
	for k, n := range sent {
		if !n.Urgent || !strings.Contains(n.Text, "37.") || !strings.HasPrefix(k, "alert:") {
			t.Errorf("notice %s: %+v", k, n)
		}
	}
	// A fever takes an eligible case back to active.
	w.exec(t, `UPDATE isolation_cases SET status = 'eligible' WHERE id = ?`, c.ID)
	w.at(t, newYork, "2020-02-04 09:00")
	if _, err := w.Isolation.RecordCheckin(staff, c.ID, isolation.CheckinInput{Temperature: temp("36.4"), Symptoms: []string{"cough"}}); err != nil {
		t.Fatal(err)
	}
	got, _ := w.Isolation.GetCase(staff, c.ID)
	if len(got.Messages) != 7 { // the link, and three alerts to two phones
		t.Errorf("messages about the case: %d, want 7", len(got.Messages))
	}
	if w.outbox.queued != 7 {
		t.Errorf("%d notices queued after their commits, want 7", w.outbox.queued)
	}
	if got.Status != isolation.StatusActive || len(got.Checkins) != 5 || len(got.Alerts) != 3 {
		t.Fatalf("case after a cough: status %s, %d check-ins, %d alerts", got.Status, len(got.Checkins), len(got.Alerts))
	}
	a := alerts[0].ID
	if v, err := w.Isolation.AckAlert(staff, a); err != nil || v.Status != isolation.AlertAcknowledged || v.AcknowledgedBy == "" {
		t.Fatalf("ack: %v %+v", err, v)
	}
	if v, err := w.Isolation.CloseAlert(staff, a); err != nil || v.Status != isolation.AlertClosed {
		t.Fatalf("close: %v %+v", err, v)
	}
	if _, err := w.Isolation.AckAlert(staff, a); kind(err) != errs.KindConflict {
		t.Fatalf("ack of a closed alert: %v", err)
	}
	if _, err := w.Isolation.AckAlert(w.as(t, "c1.staff", "c1"), a); kind(err) != errs.KindNotFound {
		t.Fatalf("another community acknowledges: %v", err)
	}
}

// TestRelease: before the end date a release is a 409, forcing is the
// admin's (403 for staff) with a reason (422 without); from the end date
// staff release, the link dies and the resident is told once.
func TestRelease(t *testing.T) {
	w := newWorld(t)
	staff, admin := w.as(t, "c1.staff", "c1"), w.as(t, "c1.admin", "c1")
	early := w.open(t, "c1", w.resident(t, "c1", "c1-g1"), "2020-01-25")  // ends 2020-02-08
	onTime := w.open(t, "c1", w.resident(t, "c1", "c1-g1"), "2020-01-20") // ends 2020-02-03, today
	for name, c := range map[string]struct {
		ctx  context.Context
		in   isolation.ReleaseInput
		want errs.Kind
	}{
		"early":                    {staff, isolation.ReleaseInput{}, errs.KindConflict},
		"early, staff forcing":     {staff, isolation.ReleaseInput{Force: true, Reason: "转院"}, errs.KindForbidden},
		"early, forced, no reason": {admin, isolation.ReleaseInput{Force: true}, errs.KindValidation},
	} {
		if _, err := w.Isolation.Release(c.ctx, early.ID, c.in); kind(err) != c.want {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	if v, err := w.Isolation.Release(admin, early.ID, isolation.ReleaseInput{Force: true, Reason: "核酸阴性，专家评估"}); err != nil || v.Status != isolation.StatusReleased || v.EndReason == "" {
		t.Fatalf("forced release: %v %+v", err, v)
	}
	v, err := w.Isolation.Release(staff, onTime.ID, isolation.ReleaseInput{})
	if err != nil || v.Status != isolation.StatusReleased || v.ClosedOn != "2020-02-03" {
		t.Fatalf("release on the end date: %v %+v", err, v)
	}
	if _, err := w.Isolation.Release(staff, onTime.ID, isolation.ReleaseInput{}); kind(err) != errs.KindConflict {
		t.Fatalf("second release: %v", err)
	}
	if _, err := w.Isolation.RecordCheckin(staff, onTime.ID, isolation.CheckinInput{Temperature: temp("36.5")}); kind(err) != errs.KindConflict {
		t.Fatalf("check-in on a released case: %v", err)
	}
	if n := len(w.outbox.with("release:")); n != 2 {
		t.Fatalf("%d release notices, want 2", n)
	}
	var links int
	w.scan(t, `SELECT count(*) FROM isolation_cases WHERE link_hash IS NOT NULL OR link_sealed IS NOT NULL`, &links)
	if links != 0 {
		t.Fatalf("%d closed cases keep their link", links)
	}
	// Ending early needs a reason; a diagnosis is dated.
	c := w.open(t, "c1", w.resident(t, "c1", "c1-g2"), "")
	ended := isolation.StatusEnded
	if _, err := w.Isolation.UpdateCase(staff, c.ID, isolation.CasePatch{Status: &ended}); fields(err) != "reason=required" {
		t.Fatalf("ended without a reason: %v", err)
	}
	conf := isolation.DiagnosisConfirmed
	reason := "送医院"
	got, err := w.Isolation.UpdateCase(staff, c.ID, isolation.CasePatch{Diagnosis: &conf, Status: &ended, Reason: &reason})
	if err != nil || got.Status != ended || got.Diagnosis != conf || got.DiagnosedOn != "2020-02-03" || got.EndReason != reason {
		t.Fatalf("diagnosed and ended: %v %+v", err, got)
	}
}

// TestCasesFromFollowUp: a follow-up's household becomes cases (its live
// residents by default) and the follow-up a case, once; the second time is
// a 409.
func TestCasesFromFollowUp(t *testing.T) {
	w := newWorld(t)
	staff := w.as(t, "c1.staff", "c1")
	h, residents := w.household(t, "c1", "c1-g1", 3)
	sc, err := w.Screening.CreateScreening(staff, screening.ScreeningInput{Name: "排查", Method: screening.MethodAny})
	if err != nil {
		t.Fatal(err)
	}
	tasks, _, _ := w.Screening.ListTasks(staff, sc.ID, screening.Filter{Limit: 50})
	var task string
	for _, tk := range tasks {
		if tk.HouseholdID == h {
			task = tk.ID
		}
	}
	a, err := w.Screening.RecordAttempt(staff, sc.ID, task, screening.AttemptInput{Method: "phone", Outcome: "reached", CloseContact: true})
	if err != nil || a.FollowUpID == "" {
		t.Fatalf("attempt: %v %+v", err, a)
	}
	cases, err := w.Isolation.CasesFromFollowUp(staff, a.FollowUpID, isolation.FollowUpCasesInput{Kind: isolation.KindCloseContact})
	if err != nil || len(cases) != 3 {
		t.Fatalf("cases from follow-up: %v %d", err, len(cases))
	}
	for i, c := range cases {
		if c.ResidentID != residents[i] || c.FollowUpID != a.FollowUpID || c.CheckinURL == "" {
			t.Errorf("case %d: %+v", i, c)
		}
	}
	fs, _, _ := w.Screening.ListFollowUps(staff, screening.Filter{Status: screening.FollowUpCase, Limit: 10})
	if len(fs) != 1 || fs[0].CaseID != cases[0].ID {
		t.Fatalf("follow-up after: %+v", fs)
	}
	if _, err := w.Isolation.CasesFromFollowUp(staff, a.FollowUpID, isolation.FollowUpCasesInput{Kind: isolation.KindCloseContact}); kind(err) != errs.KindConflict {
		t.Fatalf("again: %v, want 409", err)
	}
	if _, err := w.Isolation.CasesFromFollowUp(w.as(t, "c2.staff", "c2"), a.FollowUpID, isolation.FollowUpCasesInput{Kind: isolation.KindCloseContact}); kind(err) != errs.KindNotFound {
		t.Fatalf("from another community: %v, want 404", err)
	}
}

// TestSupportRequests: open → assigned → done, cancelled, final states
// 409, overdue after support_overdue_hours.
func TestSupportRequests(t *testing.T) {
	w := newWorld(t)
	staff := w.as(t, "c1.staff", "c1")
	grid1 := w.as(t, "c1.grid1", "c1")
	res := w.resident(t, "c1", "c1-g1")
	c := w.open(t, "c1", res, "")
	r, err := w.Isolation.CreateSupport(grid1, isolation.SupportInput{ResidentID: res, Kind: isolation.SupportGroceries, Details: "米和蔬菜"})
	if err != nil || r.Status != isolation.SupportOpen || r.CaseID != c.ID || r.Overdue {
		t.Fatalf("create: %v %+v", err, r)
	}
	who := "c1.grid1"
	if r, err = w.Isolation.UpdateSupport(staff, r.ID, isolation.SupportPatch{Assignee: &who}); err != nil || r.Status != isolation.SupportAssigned || r.Assignee != "网格员" {
		t.Fatalf("assign: %v %+v", err, r)
	}
	nobody := "c2.staff"
	if _, err := w.Isolation.UpdateSupport(staff, r.ID, isolation.SupportPatch{Assignee: &nobody}); fields(err) != "assignee=unknown_member" {
		t.Fatalf("assign to another community's member: %v", err)
	}
	w.at(t, shanghai, "2020-02-04 09:01")
	over, _, _ := w.Isolation.ListSupport(staff, isolation.Filter{Overdue: true, Limit: 10})
	if len(over) != 1 || !over[0].Overdue {
		t.Fatalf("overdue after 24 hours: %+v", over)
	}
	done := isolation.SupportDone
	if r, err = w.Isolation.UpdateSupport(grid1, r.ID, isolation.SupportPatch{Status: &done}); err != nil || r.ClosedOn != "2020-02-04" {
		t.Fatalf("done: %v %+v", err, r)
	}
	cancelled := isolation.SupportCancelled
	if _, err := w.Isolation.UpdateSupport(staff, r.ID, isolation.SupportPatch{Status: &cancelled}); kind(err) != errs.KindConflict {
		t.Fatalf("cancel a done request: %v", err)
	}
}

// TestFigures computes a report's isolation figures for two communities
// in their own days, in one community (FiguresIn) and across both
// (FiguresAcross), and for a past day after later changes.
func TestFigures(t *testing.T) {
	w := newWorld(t)
	staff, admin := w.as(t, "c1.staff", "c1"), w.as(t, "c1.admin", "c1")
	// c1, on 2020-02-03 (Shanghai): household A with two residents (one
	// released today, one still active), household B released
	// yesterday, a close contact started today, a suspected case.
	_, a := w.household(t, "c1", "c1-g1", 2)
	w.at(t, shanghai, "2020-02-02 10:00")
	b := w.open(t, "c1", w.resident(t, "c1", "c1-g2"), "2020-01-19")
	if _, err := w.Isolation.Release(staff, b.ID, isolation.ReleaseInput{}); err != nil {
		t.Fatal(err)
	}
	w.at(t, shanghai, "2020-02-03 10:00")
	a0 := w.open(t, "c1", a[0], "2020-01-20")
	a1 := w.open(t, "c1", a[1], "2020-01-25")
	if _, err := w.Isolation.Release(staff, a0.ID, isolation.ReleaseInput{}); err != nil {
		t.Fatal(err)
	}
	cc, err := w.Isolation.CreateCase(staff, isolation.CaseInput{ResidentID: w.resident(t, "c1", "c1-g1"), Kind: isolation.KindCloseContact})
	if err != nil {
		t.Fatal(err)
	}
	sus := isolation.DiagnosisSuspected
	if _, err := w.Isolation.UpdateCase(admin, a1.ID, isolation.CasePatch{Diagnosis: &sus}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Isolation.RecordCheckin(staff, a1.ID, isolation.CheckinInput{Temperature: temp("37.5")}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Isolation.CreateSupport(staff, isolation.SupportInput{ResidentID: a[1], Kind: isolation.SupportMedicine}); err != nil {
		t.Fatal(err)
	}
	// c2, at the same instant (New York: 2020-02-02 21:00): one case
	// started that local day, checked in.
	c2 := w.open(t, "c2", w.resident(t, "c2", "c2-g1"), "")
	if _, err := w.Isolation.RecordCheckin(w.as(t, "c2.staff", "c2"), c2.ID, isolation.CheckinInput{Temperature: temp("36.6")}); err != nil {
		t.Fatal(err)
	}

	want := isolation.Figures{IsolationActive: 2, IsolationStartedToday: 1, IsolationReleasedToday: 1, IsolationReleasedTotal: 2,
		FeverAlertsToday: 1, Suspected: 1, CloseContacts: 1, SupportOpen: 1, HouseholdsIsolatedTotal: 3, HouseholdsReleasedTotal: 1,
		CheckinsDoneToday: 1, CheckinsMissedToday: 2}
	got, err := w.Isolation.Figures(staff, "2020-02-03")
	if err != nil || got != want {
		t.Fatalf("c1 on 2020-02-03:\n got %+v %v\nwant %+v", got, err, want)
	}
	yesterday := isolation.Figures{IsolationReleasedToday: 1, IsolationReleasedTotal: 1, HouseholdsIsolatedTotal: 2, HouseholdsReleasedTotal: 1,
		IsolationActive: 2, CheckinsMissedToday: 3}
	if got, _ := w.Isolation.Figures(staff, "2020-02-02"); got != yesterday {
		t.Fatalf("c1 on 2020-02-02:\n got %+v\nwant %+v", got, yesterday)
	}
	_ = cc
	var across map[string]isolation.Figures
	err = w.DB.AcrossTenants(context.Background(), "test: rollup", []string{w.District.Org(t, "c1").ID, w.District.Org(t, "c2").ID},
		func(ctx context.Context, tx bunTx) error {
			var err error
			across, err = isolation.FiguresAcross(ctx, tx, []string{w.District.Org(t, "c1").ID, w.District.Org(t, "c2").ID}, "2020-02-02")
			return err
		})
	if err != nil {
		t.Fatal(err)
	}
	c2want := isolation.Figures{IsolationActive: 1, IsolationStartedToday: 1, HouseholdsIsolatedTotal: 1, CheckinsDoneToday: 1}
	if across[w.District.Org(t, "c2").ID] != c2want || across[w.District.Org(t, "c1").ID] != yesterday {
		t.Fatalf("across on 2020-02-02: %+v", across)
	}
}
