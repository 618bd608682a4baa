package screening_test

import (
	"context"
	"errors"
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
	if n := count("SELECT count(*) FROM attempts_default"); n != len(attempts) {
		t.Fatalf("attempts_default holds %d attempts, want the %d copies", n, len(attempts))
	}
	rep, err := w.DB.MaintainPartitions(ctx, store.PartitionPolicy{})
	if err != nil {
		t.Fatalf("making the months: %v", err)
	}
	if n := count("SELECT count(*) FROM attempts_default"); n != 0 {
		t.Errorf("attempts_default holds %d attempts after making their month (made %v)", n, rep.Created)
	}
	if n := count("SELECT count(*) FROM attempts_p202002"); n != len(attempts) {
		t.Errorf("attempts_p202002 holds %d attempts, want %d", n, len(attempts))
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
