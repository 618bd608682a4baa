package isolation_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/isolation"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// TestCheckinDayLookupsPrune: the lookups of a case's check-ins of a day
// (the first of the day, the keypad call's, the morning sweep's, the
// missed sweep's, the day's figures) find the day's check-ins whichever
// month partition their id put them in (a check-in just after midnight in
// Shanghai is of the previous UTC month; one late in the evening in New
// York, of the next UTC day), on both databases; on PostgreSQL each scans
// only the partitions of the day's id range (store.DayIDs), never the
// other months' nor the default.
func TestCheckinDayLookupsPrune(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	pg := w.DB.Flavor() == store.Postgres
	if pg {
		// 2019-12 to 2020-04: the day's months and others, holding rows.
		if _, err := w.DB.MaintainPartitions(ctx, store.PartitionPolicy{Now: time.Date(2019, 12, 15, 0, 0, 0, 0, time.UTC), Ahead: 4}); err != nil {
			t.Fatal(err)
		}
	}
	temp := func(s string) isolation.CheckinInput { return isolation.CheckinInput{Temperature: []byte(s)} }
	record := func(org, caseID string) *isolation.CheckinView {
		t.Helper()
		v, err := w.Isolation.RecordCheckin(w.as(t, org+".staff", org), caseID, temp("36.5"))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// Other months' check-ins of the same cases, so that every partition
	// but the day's holds rows.
	w.at(t, shanghai, "2020-01-10 09:00")
	c1 := w.open(t, "c1", w.resident(t, "c1", "c1-g1"), "2020-01-10")
	w.at(t, newYork, "2020-01-10 09:00")
	c2 := w.open(t, "c2", w.resident(t, "c2", "c2-g1"), "2020-01-10")
	for _, day := range []string{"2019-12-20", "2020-01-10", "2020-03-05"} {
		w.at(t, shanghai, day+" 09:00")
		record("c1", c1.ID)
		w.at(t, newYork, day+" 09:00")
		record("c2", c2.ID)
	}
	w.exec(t, `UPDATE isolation_cases SET start_date = '2020-01-10', end_date = '2020-03-31'`)

	lookups := storetest.CaptureStatements(w.DB, func(q string) bool {
		return strings.HasPrefix(q, "SELECT") && strings.Contains(q, "isolation_checkins") && strings.Contains(q, "k.local_date =")
	})

	// c1, Shanghai: 00:30 on 02-01 is 16:30 UTC on 01-31 (January's
	// partition); the second check-in of the day, at 08:00 (February's),
	// must find the first and not count.
	w.at(t, shanghai, "2020-02-01 00:30")
	if v := record("c1", c1.ID); !v.Counts || v.Date != "2020-02-01" {
		t.Errorf("c1's first check-in of 02-01: counts %v, day %s", v.Counts, v.Date)
	}
	w.at(t, shanghai, "2020-02-01 08:00")
	if v := record("c1", c1.ID); v.Counts {
		t.Error("c1's second check-in of 02-01 counts: the lookup missed the first (January's partition)")
	}
	// c2, New York: 23:30 on 02-01 is 04:30 UTC on 02-02.
	w.at(t, newYork, "2020-02-01 23:30")
	if v := record("c2", c2.ID); !v.Counts || v.Date != "2020-02-01" {
		t.Errorf("c2's first check-in of 02-01: counts %v, day %s", v.Counts, v.Date)
	}
	w.at(t, newYork, "2020-02-01 23:45")
	if v := record("c2", c2.ID); v.Counts {
		t.Error("c2's second check-in of 02-01 counts")
	}
	// The morning sweep of 02-02 in Shanghai reminds c1 (not checked in
	// that day), and New York's of 02-01 (still that day there) not c2.
	if r := w.sweep(t, shanghai, "2020-02-02 09:00"); r.Reminders != 1 {
		t.Errorf("sweep at 02-02 09:00 Shanghai: %d reminders, want 1 (c1's)", r.Reminders)
	}
	if got := len(w.outbox.with("checkin:" + c2.ID + ":2020-02-01")); got != 0 {
		t.Errorf("c2 reminded for 02-01 though checked in: %d", got)
	}
	// The missed sweep after the deadline: neither missed 02-01.
	w.sweep(t, newYork, "2020-02-01 23:59")
	w.sweep(t, shanghai, "2020-02-01 23:59")
	for _, c := range []*isolation.CaseView{c1, c2} {
		if days := w.alerts(t, c.ID, isolation.AlertMissedCheckin); slices.Contains(days, "2020-02-01") {
			t.Errorf("case %s: a missed check-in alert for 02-01", c.ID)
		}
	}
	for _, org := range []string{"c1", "c2"} {
		f, err := w.Isolation.Figures(w.as(t, org+".staff", org), "2020-02-01")
		if err != nil {
			t.Fatal(err)
		}
		if f.CheckinsDoneToday != 1 || f.CheckinsMissedToday != 0 {
			t.Errorf("%s's figures of 02-01: done %d, missed %d; want 1, 0", org, f.CheckinsDoneToday, f.CheckinsMissedToday)
		}
	}
	if !pg {
		return
	}
	// Every lookup of 02-01 (and 02-02) scans February's partition, and
	// January's when the range reaches into it, never another.
	qs := lookups.All()
	if len(qs) < 5 {
		t.Fatalf("%d day lookups captured, want at least 5", len(qs))
	}
	for _, q := range qs {
		seen, plan := storetest.PartitionsScanned(t, w.DB, "isolation_checkins", q)
		if len(seen) == 0 || slices.ContainsFunc(seen, func(p string) bool {
			return slices.Contains([]string{"default", "p201912", "p202003", "p202004"}, p)
		}) {
			t.Errorf("scans partitions %v:\n%s\n%s", seen, q, plan)
		}
	}
}

// TestMonthMoveKeepsCheckinKeys: check-ins that wait in
// isolation_checkins_default for their month (written while it was
// missing) keep their keys when MaintainPartitions moves them into it: a
// second counting check-in of the case that day, a second check-in of the
// same provider reply and of the same keypad call are still refused. When
// the month is dropped, ten years on, its keys go with it.
func TestMonthMoveKeepsCheckinKeys(t *testing.T) {
	w := newWorld(t)
	if w.DB.Flavor() != store.Postgres {
		t.Skip("partitions are PostgreSQL's")
	}
	ctx := storetest.Unguarded(context.Background())
	c1 := w.open(t, "c1", w.resident(t, "c1", "c1-g1"), "2020-02-01")
	w.at(t, shanghai, "2020-02-03 09:00")
	v, err := w.Isolation.RecordCheckin(w.as(t, "c1.staff", "c1"), c1.ID, isolation.CheckinInput{Temperature: []byte("36.5")})
	if err != nil || !v.Counts {
		t.Fatalf("check-in: %+v, %v", v, err)
	}
	// Its month has no partition: it waits in the default one, with a
	// provider reply and a keypad call of its own.
	w.exec(t, `UPDATE isolation_checkins SET reply_id = 'reply-1', call_id = 'call-1' WHERE id = ?`, v.ID)
	var waiting int
	w.scan(t, "SELECT count(*) FROM isolation_checkins_default", &waiting)
	if waiting != 1 {
		t.Fatalf("isolation_checkins_default holds %d check-ins, want 1", waiting)
	}
	if _, err := w.DB.MaintainPartitions(ctx, store.PartitionPolicy{}); err != nil {
		t.Fatal(err)
	}
	var where []string
	w.scan(t, `SELECT tableoid::regclass::text FROM isolation_checkins`, &where)
	if !slices.Equal(where, []string{"isolation_checkins_p202002"}) {
		t.Errorf("the check-in is in %v after making its month, want isolation_checkins_p202002", where)
	}
	for _, table := range []string{"isolation_checkin_day_keys", "isolation_checkin_reply_keys", "isolation_checkin_call_keys"} {
		var n int
		w.scan(t, "SELECT count(*) FROM "+table+" WHERE checkin_id = '"+v.ID+"'", &n)
		if n != 1 {
			t.Errorf("%s: %d keys of the moved check-in, want 1", table, n)
		}
	}
	// Copies of it, an hour later, each holding one of its keys.
	for _, c := range []struct{ what, set string }{
		{"a second counting check-in of the day", `'counts', true, 'reply_id', NULL, 'call_id', NULL`},
		{"a second check-in of the reply", `'counts', false, 'reply_id', 'reply-1', 'call_id', NULL`},
		{"a second check-in of the call", `'counts', false, 'reply_id', NULL, 'call_id', 'call-1'`},
	} {
		id := store.NewIDAt(v.At.Add(time.Hour))
		err := w.DB.AcrossTenants(ctx, "test", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
			_, err := tx.NewRaw(`INSERT INTO isolation_checkins SELECT (jsonb_populate_record(c, jsonb_build_object('id', ?::text, `+c.set+`))).*
				FROM isolation_checkins c WHERE c.id = ?`, id, v.ID).Exec(ctx)
			return err
		})
		if !store.IsUniqueViolation(err) {
			t.Errorf("%s after the move: %v, want a unique violation", c.what, err)
		}
	}
	// Ten years on, the month is dropped whole, and its keys with it.
	if _, err := w.DB.MaintainPartitions(ctx, store.PartitionPolicy{Now: time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC), Drop: true}); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"isolation_checkin_day_keys", "isolation_checkin_reply_keys", "isolation_checkin_call_keys"} {
		var n int
		w.scan(t, "SELECT count(*) FROM "+table+" WHERE checkin_id = '"+v.ID+"'", &n)
		if n != 0 {
			t.Errorf("%s: %d keys of the check-in after its month was dropped, want 0", table, n)
		}
	}
}
