package isolation_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wanjia/wanjia/pkg/isolation"
	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/store"
)

// counting is the world's outbox that also counts the notices it was
// asked to write, written or not: a step run twice shows there even when
// the keys keep the outbox right.
type counting struct {
	*outbox
	asked atomic.Int64
}

func (c *counting) Notify(ctx context.Context, tx *store.TenantTx, ns ...outreach.Notice) (int, error) {
	c.asked.Add(int64(len(ns)))
	return c.outbox.Notify(ctx, tx, ns...)
}

func (w *world) counting() *counting {
	c := &counting{outbox: w.outbox}
	w.Isolation.Notify = c
	return c
}

// sweep moves the clock to local in zone and sweeps.
func (w *world) sweep(t testing.TB, zone, local string) isolation.Swept {
	t.Helper()
	w.at(t, zone, local)
	r, err := w.Isolation.Sweep(context.Background())
	if err != nil {
		t.Fatalf("sweep at %s %s: %v", zone, local, err)
	}
	return r
}

func (w *world) status(t testing.TB, caseID string) string {
	t.Helper()
	var s string
	w.scan(t, fmt.Sprintf(`SELECT status FROM isolation_cases WHERE id = '%s'`, caseID), &s)
	return s
}

func (w *world) alerts(t testing.TB, caseID, kind string) []string {
	t.Helper()
	var days []string
	w.scan(t, fmt.Sprintf(`SELECT local_date FROM isolation_alerts WHERE case_id = '%s' AND kind = '%s' ORDER BY local_date`, caseID, kind), &days)
	return days
}

// TestSweepWholeCase drives the clock through a whole 14-day case in
// Shanghai and in New York (whose local day is Shanghai's for only half of
// each day): the check-in reminder at 09:00 local on each day the resident
// has not checked in by then, a fever alert, a missed check-in at 20:00
// local, the release reminder to the resident and the grid's worker the
// day before the end, eligibility on the end date (and not for a case with
// a fever in its last three days), release and its notice, and retention
// thirty days on, with the figures unchanged.
func TestSweepWholeCase(t *testing.T) {
	for _, c := range []struct {
		org, grid, zone string
		staff, worker   string // their phones
	}{
		{"c1", "c1-g1", shanghai, "13900000001", "13900000002"},
		{"c2", "c2-g1", newYork, "13900000003", "13900000004"},
	} {
		t.Run(c.org, func(t *testing.T) {
			w := newWorld(t)
			staff := w.as(t, c.org+".staff", c.org)
			w.at(t, c.zone, "2020-02-03 08:00")
			main := w.open(t, c.org, w.resident(t, c.org, c.grid), "") // 2020-02-03 to 2020-02-17
			late := w.open(t, c.org, w.resident(t, c.org, c.grid), "")
			if main.EndDate != "2020-02-17" {
				t.Fatalf("end date %s", main.EndDate)
			}
			checkin := func(id, local, temperature string, symptoms ...string) {
				t.Helper()
				w.at(t, c.zone, local)
				if _, err := w.Isolation.RecordCheckin(staff, id, isolation.CheckinInput{Temperature: temp(temperature), Symptoms: symptoms}); err != nil {
					t.Fatalf("check-in at %s: %v", local, err)
				}
			}
			start, _ := time.Parse(time.DateOnly, "2020-02-03")
			for d := range 15 { // 2020-02-03 … 2020-02-17
				day := start.AddDate(0, 0, d).Format(time.DateOnly)
				w.sweep(t, c.zone, day+" 00:05")
				key := "checkin:" + main.ID + ":" + day
				if day == "2020-02-05" {
					checkin(main.ID, day+" 08:30", "36.6") // before the reminder: none that day
				}
				w.sweep(t, c.zone, day+" 08:59")
				if _, ok := w.outbox.with(key)[key]; ok {
					t.Fatalf("%s: reminded before 09:00 local", day)
				}
				w.sweep(t, c.zone, day+" 09:00")
				if _, ok := w.outbox.with(key)[key]; ok == (day == "2020-02-05") {
					t.Fatalf("%s: reminded %v at 09:00 local", day, ok)
				}
				switch day {
				case "2020-02-07":
					checkin(main.ID, day+" 12:00", "37.8") // a fever
				case "2020-02-09": // no check-in at all
				default:
					if day != "2020-02-05" {
						checkin(main.ID, day+" 12:00", "36.5")
					}
				}
				if day == "2020-02-15" {
					checkin(late.ID, day+" 12:00", "36.9", "cough") // within the last three days
				} else {
					checkin(late.ID, day+" 12:00", "36.4")
				}
				w.sweep(t, c.zone, day+" 19:59")
				w.sweep(t, c.zone, day+" 20:00")
				w.sweep(t, c.zone, day+" 23:59")
				switch day {
				case "2020-02-16":
					want := []string{"release-reminder:" + main.ID, "release-reminder:" + main.ID + ":" + c.worker}
					got := w.outbox.with("release-reminder:" + main.ID)
					if len(got) != 2 || got[want[0]].Phone == "" || got[want[1]].Phone != c.worker {
						t.Fatalf("release reminders on %s: %v", day, got)
					}
				case "2020-02-15":
					if n := len(w.outbox.with("release-reminder:")); n != 0 {
						t.Fatalf("%d release reminders two days before the end", n)
					}
				}
				wantStatus := isolation.StatusActive
				if day == "2020-02-17" {
					wantStatus = isolation.StatusEligible
				}
				if s := w.status(t, main.ID); s != wantStatus {
					t.Fatalf("%s: case %s, want %s", day, s, wantStatus)
				}
			}
			if got := w.alerts(t, main.ID, isolation.AlertFever); !slices.Equal(got, []string{"2020-02-07"}) {
				t.Errorf("fever alerts on %v", got)
			}
			if got := w.alerts(t, main.ID, isolation.AlertMissedCheckin); !slices.Equal(got, []string{"2020-02-09"}) {
				t.Errorf("missed check-in alerts on %v, want 2020-02-09 only", got)
			}
			missed := w.outbox.with("alert:")
			var urgent []string
			for _, n := range missed {
				if n.Urgent && n.Subject == "isolation:"+main.ID {
					urgent = append(urgent, n.Phone)
				}
			}
			slices.Sort(urgent)
			// The fever's and the missed check-in's, each to the staff and
			// the grid's worker.
			if want := []string{c.staff, c.staff, c.worker, c.worker}; !slices.Equal(urgent, want) {
				t.Errorf("urgent notices to %v, want %v", urgent, want)
			}
			if n := len(w.outbox.with("checkin:" + main.ID)); n != 14 {
				t.Errorf("%d check-in reminders, want 14 (15 days, one checked in before 09:00)", n)
			}
			// The cough of the 15th holds the late case back until the 19th.
			if s := w.status(t, late.ID); s != isolation.StatusActive {
				t.Fatalf("case with a cough two days before its end: %s", s)
			}
			w.sweep(t, c.zone, "2020-02-18 00:05")
			if s := w.status(t, late.ID); s != isolation.StatusActive {
				t.Fatalf("18th: %s", s)
			}
			w.sweep(t, c.zone, "2020-02-19 00:05")
			if s := w.status(t, late.ID); s != isolation.StatusEligible {
				t.Fatalf("19th: %s, want eligible", s)
			}

			// Release on the end date; its notice.
			w.at(t, c.zone, "2020-02-17 10:00")
			v, err := w.Isolation.Release(staff, main.ID, isolation.ReleaseInput{})
			if err != nil || v.ClosedOn != "2020-02-17" {
				t.Fatalf("release: %v %+v", err, v)
			}
			if n := w.outbox.with("release:" + main.ID); len(n) != 1 {
				t.Fatalf("release notices %v", n)
			}
			var by string
			w.scan(t, `SELECT closed_by FROM isolation_cases WHERE id = '`+main.ID+`'`, &by)
			if by == "" || by == "system" {
				t.Fatalf("released by %q", by)
			}

			// Retention: closed 2020-02-17, cleared once more than 30 days
			// have passed (on 2020-03-19), figures unchanged.
			w.exec(t, `UPDATE isolation_cases SET reason = '返乡', end_reason = '提前' WHERE id = ?`, main.ID)
			before, err := w.Isolation.Figures(staff, "2020-02-17")
			if err != nil {
				t.Fatal(err)
			}
			w.sweep(t, c.zone, "2020-03-18 23:00")
			var reason string
			w.scan(t, `SELECT reason FROM isolation_cases WHERE id = '`+main.ID+`'`, &reason)
			if reason == "" {
				t.Fatal("cleared 30 days after the close")
			}
			if r := w.sweep(t, c.zone, "2020-03-19 00:00"); r.Purged != 1 {
				t.Fatalf("retention purged %d, want 1", r.Purged)
			}
			var left int
			w.scan(t, `SELECT count(*) FROM isolation_cases WHERE id = '`+main.ID+`' AND (reason <> '' OR end_reason <> '' OR link_hash IS NOT NULL OR link_sealed IS NOT NULL OR purged_on IS NULL)`, &left)
			if left != 0 {
				t.Fatal("retention left the case's personal data")
			}
			after, err := w.Isolation.Figures(staff, "2020-02-17")
			if err != nil || after != before {
				t.Fatalf("figures of 2020-02-17 after retention: %v %+v, want %+v", err, after, before)
			}
			var audited int
			w.scan(t, `SELECT count(*) FROM audit_log WHERE resource = 'isolation_case' AND resource_id = 'retention'`, &audited)
			if audited != 1 {
				t.Fatalf("%d retention audit entries", audited)
			}
		})
	}
}

// TestSweepOnce: two schedulers sweeping at once, and a sweep of the same
// slot again (a Redis flush forgets the slots' task ids), ask the outbox
// for each reminder once; a community's next day reminds again.
func TestSweepOnce(t *testing.T) {
	w := newWorld(t)
	cnt := w.counting()
	var ids []string
	for range 6 {
		ids = append(ids, w.open(t, "c1", w.resident(t, "c1", "c1-g1"), "").ID)
	}
	cnt.asked.Store(0) // the links sent on opening
	w.at(t, shanghai, "2020-02-04 09:00")
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := w.Isolation.Sweep(context.Background()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := cnt.asked.Load(); n != 6 {
		t.Fatalf("two schedulers asked for %d reminders, want 6", n)
	}
	w.sweep(t, shanghai, "2020-02-04 09:01") // the next minute, or the same slot after a flush
	if n := cnt.asked.Load(); n != 6 {
		t.Fatalf("a second sweep asked for %d reminders in all, want 6", n)
	}
	// A scheduler that read the marks before the first committed.
	if r, err := w.Isolation.SweepBlind(context.Background()); err != nil || r.Steps != 0 || cnt.asked.Load() != 6 {
		t.Fatalf("a blind sweep: %v %+v, %d reminders asked in all, want 6", err, r, cnt.asked.Load())
	}
	if r := w.sweep(t, shanghai, "2020-02-05 09:00"); r.Reminders != 6 || len(w.outbox.with("checkin:")) != 12 {
		t.Fatalf("next day: %+v, %d reminders in all", r, len(w.outbox.with("checkin:")))
	}
	// The step's mark lost (a restore), the keys still send each once.
	w.exec(t, `DELETE FROM isolation_sweeps`)
	w.sweep(t, shanghai, "2020-02-05 09:30")
	if n := len(w.outbox.with("checkin:")); n != 12 {
		t.Fatalf("%d reminders after the marks were lost, want 12", n)
	}
	for _, id := range ids {
		if n := len(w.outbox.with("checkin:" + id)); n != 2 {
			t.Fatalf("case %s reminded %d times in two days", id, n)
		}
	}
}
