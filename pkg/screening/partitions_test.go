package screening_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/screening"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// pgCode is err's PostgreSQL error code, "" for none.
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// TestMonthMoveKeepsFollowUps: attempts with follow-ups that wait in
// attempts_default for their month (written while it was missing) move
// into it when MaintainPartitions makes it, though follow_ups' foreign key
// refers to them (a plain delete from the default partition was refused,
// 23503, and every later migrate up with it); their follow-ups stay, and
// the key is there afterwards and still refuses an attempt's deletion and
// a follow-up of no attempt.
func TestMonthMoveKeepsFollowUps(t *testing.T) {
	w := newWorld(t)
	if w.DB.Flavor() != store.Postgres {
		t.Skip("partitions are PostgreSQL's")
	}
	ctx := storetest.Unguarded(context.Background())
	hh := w.households(t, "c1", "c1-g1", 3)
	sc := w.campaign(t, "c1", screening.ScreeningInput{})
	staff := w.As(t, "c1.staff", "c1")
	var attempts, followUps []string
	for i, h := range hh {
		a, err := w.Screening.RecordAttempt(staff, sc.ID, w.taskOf(t, "c1", sc.ID, h),
			screening.AttemptInput{Method: "phone", Outcome: "reached", Symptoms: i != 2})
		if err != nil {
			t.Fatal(err)
		}
		attempts = append(attempts, a.ID)
		if a.FollowUpID != "" {
			followUps = append(followUps, a.FollowUpID)
		}
	}
	// Copies of the attempts made on their day in 2020, whose month has no
	// partition yet, each with a copy of its follow-up.
	moved := map[string]string{}
	for i, id := range attempts {
		at := time.Date(2020, 2, 3, 1, 0, i, 0, time.UTC)
		moved[id] = store.NewIDAt(at)
		w.Exec(t, `INSERT INTO attempts SELECT (jsonb_populate_record(a, jsonb_build_object('id', ?::text))).* FROM attempts a WHERE a.id = ?`, moved[id], id)
		w.Exec(t, `INSERT INTO follow_ups SELECT (jsonb_populate_record(f, jsonb_build_object('id', ?::text, 'attempt_id', ?::text))).*
			FROM follow_ups f WHERE f.attempt_id = ?`, store.NewIDAt(at), moved[id], id)
	}
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := w.DB.AcrossTenants(ctx, "test", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
			return tx.NewRaw(q, args...).Scan(ctx, &n)
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// The originals are there too: their ids are made at their instant,
	// 2020-02-03 too.
	waiting := count("SELECT count(*) FROM attempts_default")
	if waiting < len(attempts) {
		t.Fatalf("attempts_default holds %d attempts, want at least the %d copies", waiting, len(attempts))
	}
	rep, err := w.DB.MaintainPartitions(ctx, store.PartitionPolicy{})
	if err != nil {
		t.Fatalf("making the months: %v", err)
	}
	if n := count("SELECT count(*) FROM attempts_default"); n != 0 {
		t.Errorf("attempts_default holds %d attempts after making their month (made %v)", n, rep.Created)
	}
	if n := count("SELECT count(*) FROM attempts_p202002"); n != waiting {
		t.Errorf("attempts_p202002 holds %d attempts, want %d", n, waiting)
	}
	if n := count(`SELECT count(*) FROM follow_ups f JOIN attempts a ON a.tenant_id = f.tenant_id AND a.id = f.attempt_id
		WHERE a.local_date = '2020-02-03'`); n != 2*len(followUps) {
		t.Errorf("%d follow-ups with their attempts, want %d", n, 2*len(followUps))
	}
	// The key is the parent's, as the partitions migration made it.
	if n := count(`SELECT count(*) FROM pg_constraint WHERE conname = 'follow_ups_tenant_id_attempt_id_fkey'
		AND conrelid = 'follow_ups'::regclass AND confrelid = 'attempts'::regclass AND conparentid = 0 AND convalidated`); n != 1 {
		t.Fatalf("follow_ups' foreign key to attempts: %d, want 1", n)
	}
	for _, c := range []struct{ what, q, arg string }{
		{"deleting a moved attempt with a follow-up", "DELETE FROM attempts WHERE id = ?", moved[attempts[0]]},
		{"deleting an attempt of this month with a follow-up", "DELETE FROM attempts WHERE id = ?", attempts[0]},
		{"a follow-up of no attempt", `INSERT INTO follow_ups SELECT (jsonb_populate_record(f, jsonb_build_object('id', 'x', 'attempt_id', 'none'))).*
			FROM follow_ups f WHERE f.id = ?`, followUps[0]},
	} {
		err := w.DB.AcrossTenants(ctx, "test", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
			_, err := tx.NewRaw(c.q, c.arg).Exec(ctx)
			return err
		})
		if pgCode(err) != "23503" {
			t.Errorf("%s: %v, want a foreign key violation", c.what, err)
		}
	}
	// An attempt without a follow-up goes, moved or not.
	w.Exec(t, "DELETE FROM attempts WHERE id = ?", moved[attempts[2]])
}

// TestAttemptDayLookupsPrune: the lookups of a campaign's or a
// community's attempts of a day (the campaign's progress today, the
// figures' calls and visits) find the day's attempts whichever month
// partition their id put them in (an attempt just after midnight in
// Beijing is of the previous UTC month), and on PostgreSQL scan only the
// partitions of the day's id range (store.DayIDs): 02-01's January's and
// February's, 02-03's February's alone, never the default nor another month.
func TestAttemptDayLookupsPrune(t *testing.T) {
	w := newWorld(t)
	pg := w.DB.Flavor() == store.Postgres
	if pg {
		// 2019-12 to 2020-04: the days' months and others.
		if _, err := w.DB.MaintainPartitions(storetest.Unguarded(context.Background()),
			store.PartitionPolicy{Now: time.Date(2019, 12, 15, 0, 0, 0, 0, time.UTC), Ahead: 4}); err != nil {
			t.Fatal(err)
		}
	}
	hh := w.households(t, "c1", "c1-g1", 3)
	w.Clock.At(t, "2020-02-01 00:30") // 2020-01-31 16:30 UTC
	sc := w.campaign(t, "c1", screening.ScreeningInput{})
	staff := w.As(t, "c1.staff", "c1")
	w.attempt(t, staff, sc.ID, w.taskOf(t, "c1", sc.ID, hh[0]), "phone", "no_answer")
	w.Clock.At(t, "2020-02-10 10:00")
	w.attempt(t, staff, sc.ID, w.taskOf(t, "c1", sc.ID, hh[2]), "phone", "no_answer")
	w.Clock.At(t, "2020-02-03 10:00")
	w.attempt(t, staff, sc.ID, w.taskOf(t, "c1", sc.ID, hh[1]), "visit", "reached")

	lookups := storetest.CaptureStatements(w.DB, func(q string) bool {
		return strings.HasPrefix(q, "SELECT") && strings.Contains(q, "attempts") && strings.Contains(q, "a.id >= ")
	})
	for _, c := range []struct {
		day           string
		calls, visits int
	}{
		{"2020-02-01", 1, 0},
		{"2020-02-03", 0, 1},
	} {
		w.Clock.At(t, c.day+" 20:00")
		v, err := w.Screening.GetScreening(staff, sc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if v.Progress.CallsToday != c.calls || v.Progress.VisitsToday != c.visits {
			t.Errorf("progress of %s: %d calls, %d visits; want %d, %d", c.day, v.Progress.CallsToday, v.Progress.VisitsToday, c.calls, c.visits)
		}
		f, err := w.Screening.Figures(staff, c.day)
		if err != nil {
			t.Fatal(err)
		}
		if f.CallsToday != c.calls || f.VisitsToday != c.visits {
			t.Errorf("figures of %s: %d calls, %d visits; want %d, %d", c.day, f.CallsToday, f.VisitsToday, c.calls, c.visits)
		}
	}
	if !pg {
		return
	}
	qs := lookups.All()
	if len(qs) < 4 {
		t.Fatalf("%d day lookups captured, want at least 4", len(qs))
	}
	for _, q := range qs {
		seen, plan := storetest.PartitionsScanned(t, w.DB, "attempts", q)
		want := []string{"p202002"}
		if strings.Contains(q, "2020-02-01") {
			want = []string{"p202001", "p202002"}
		}
		if !slices.Equal(seen, want) {
			t.Errorf("scans partitions %v, want %v:\n%s\n%s", seen, want, q, plan)
		}
	}
}
