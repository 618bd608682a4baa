package store_test

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// uuid7At is a UUIDv7 made at t, as uuid.NewV7 would have made it then.
func uuid7At(t time.Time) string {
	var u uuid.UUID
	_, _ = rand.Read(u[:])
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(t.UnixMilli()))
	copy(u[:6], ms[2:])
	u[6] = u[6]&0x0f | 0x70
	u[8] = u[8]&0x3f | 0x80
	return u.String()
}

// partitionsOf lists the partitions of parent with their row counts.
func partitionsOf(t *testing.T, db *store.DB, parent string) map[string]int {
	t.Helper()
	ctx := storetest.Unguarded(context.Background())
	var names []string
	if err := db.NewRaw(`SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = ?::regclass AND c.relkind = 'r'`, parent).Scan(ctx, &names); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	err := db.AcrossTenants(ctx, "test", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		for _, n := range names {
			var c int
			if err := tx.NewRaw("SELECT count(*) FROM ?", bun.Ident(n)).Scan(ctx, &c); err != nil {
				return err
			}
			out[n] = c
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMigrateLeavesPartitionedTables: on PostgreSQL the big tables are
// partitioned, each with a default partition and the current month and the
// three ahead, and every partition of a tenant table is under row security
// of its own (naming a partition must not step around the policy).
func TestMigrateLeavesPartitionedTables(t *testing.T) {
	requirePostgres(t)
	db := storetest.New(t)
	ctx := storetest.Unguarded(context.Background())
	var parents []string
	if err := db.NewRaw(`SELECT c.relname FROM pg_partitioned_table pt JOIN pg_class c ON c.oid = pt.partrelid
		WHERE c.relnamespace = current_schema()::regnamespace ORDER BY 1`).Scan(ctx, &parents); err != nil {
		t.Fatal(err)
	}
	want := []string{"attempts", "audit_log", "isolation_checkins", "outreach_messages"}
	if strings.Join(parents, ",") != strings.Join(want, ",") {
		t.Fatalf("partitioned tables %v, want %v", parents, want)
	}
	now := time.Now().UTC()
	for _, p := range parents {
		parts := partitionsOf(t, db, p)
		names := []string{p + "_default"}
		for i := range store.DefaultMonthsAhead + 1 {
			names = append(names, p+"_p"+time.Date(now.Year(), now.Month()+time.Month(i), 1, 0, 0, 0, 0, time.UTC).Format("200601"))
		}
		for _, n := range names {
			if _, ok := parts[n]; !ok {
				t.Errorf("%s: no partition %s (has %v)", p, n, parts)
			}
		}
	}
	var rows []struct {
		Name     string `bun:"name"`
		Parent   string `bun:"parent"`
		Enabled  bool   `bun:"enabled"`
		Forced   bool   `bun:"forced"`
		Policies int    `bun:"policies"`
	}
	if err := db.NewRaw(`SELECT c.relname AS name, p.relname AS parent, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
			(SELECT count(*) FROM pg_policy x WHERE x.polrelid = c.oid) AS policies
		FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
		WHERE p.relnamespace = current_schema()::regnamespace AND p.relkind = 'p' AND p.relname <> 'audit_log' ORDER BY 1`).Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) < 3*(store.DefaultMonthsAhead+2) {
		t.Fatalf("%d partitions of tenant tables, want at least %d", len(rows), 3*(store.DefaultMonthsAhead+2))
	}
	for _, r := range rows {
		if !r.Enabled || !r.Forced || r.Policies == 0 {
			t.Errorf("partition %s of %s: row security enabled=%v forced=%v policies=%d", r.Name, r.Parent, r.Enabled, r.Forced, r.Policies)
		}
	}
}

// seedOutbox writes a campaign of tenant and returns its id.
func seedCampaign(t *testing.T, db *store.DB, tenant string) string {
	t.Helper()
	ctx := storetest.Unguarded(context.Background())
	if _, err := db.ExecContext(ctx, `INSERT INTO orgs (id, slug, name, kind, path, settings, created_at, updated_at)
		VALUES (?, ?, ?, 'community', ?, '{}', now(), now()) ON CONFLICT DO NOTHING`, tenant, tenant, tenant, "/"+tenant+"/"); err != nil {
		t.Fatal(err)
	}
	id := "camp-" + tenant
	err := db.InTenantTx(inTenant(tenant), func(ctx context.Context, tx *store.TenantTx) error {
		_, err := tx.Unscoped().ExecContext(ctx, `INSERT INTO outreach_campaigns (tenant_id, id, name, channel, body, audience, status, created_by, created_at, updated_at)
			VALUES (?, ?, 'c', 'sms', 'b', '{}', 'running', 'test', now(), now())`, tenant, id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// writeMessage writes one message through the parent; noticeKey "" is a
// campaign's message (keyed by phone).
func writeMessage(ctx context.Context, tx *store.TenantTx, id, campaign, phone, noticeKey string) (int64, error) {
	var key any
	if noticeKey != "" {
		key = noticeKey
	}
	res, err := tx.Unscoped().ExecContext(ctx, `INSERT INTO outreach_messages (tenant_id, id, campaign_id, phone, body, params, status, due_at, updated_at, notice_key)
		VALUES (?, ?, ?, ?, 'b', '{}', 'queued', now(), now(), ?) ON CONFLICT DO NOTHING`, tx.Tenant(), id, campaign, phone, key)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// TestOutboxKeysAcrossPartitions: the campaign-and-phone key and the
// notice key hold across months (rows in different partitions), in the
// key tables under row security; a deleted message releases its key.
func TestOutboxKeysAcrossPartitions(t *testing.T) {
	requirePostgres(t)
	db := storetest.New(t)
	camp := seedCampaign(t, db, "ta")
	seedCampaign(t, db, "tb")
	now := time.Now().UTC()
	thisMonth, nextMonth := uuid7At(now), uuid7At(now.AddDate(0, 1, 0))
	in := func(tenant string, fn func(ctx context.Context, tx *store.TenantTx) error) error {
		return db.InTenantTx(inTenant(tenant), fn)
	}
	if err := in("ta", func(ctx context.Context, tx *store.TenantTx) error {
		_, err := writeMessage(ctx, tx, thisMonth, camp, "13800000001", "")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	err := in("ta", func(ctx context.Context, tx *store.TenantTx) error {
		_, err := writeMessage(ctx, tx, nextMonth, camp, "13800000001", "")
		return err
	})
	if !store.IsUniqueViolation(err) {
		t.Errorf("a second message to one phone in a campaign, a month later: err = %v, want a unique violation", err)
	}
	// A notice row written by hand takes its key in its statement; a key
	// another row holds, in any month, is refused as the plain outbox's
	// unique index refuses it (Notify claims its keys first and skips
	// those: outreach's TestNotifyKeyOnce).
	claimed := uuid7At(now.AddDate(0, 1, 0))
	for i, c := range []struct {
		tenant, id, key string
		claim           bool // claimed first, as Notify does
		refused         bool
	}{
		{tenant: "ta", id: uuid7At(now), key: "checkin:x:1"},
		{tenant: "ta", id: uuid7At(now.AddDate(0, 2, 0)), key: "checkin:x:1", refused: true}, // another month, the same key
		{tenant: "ta", id: uuid7At(now), key: "checkin:x:1", refused: true},                  // the same month
		{tenant: "tb", id: uuid7At(now), key: "checkin:x:1"},                                 // another community's key
		{tenant: "tb", id: claimed, key: "checkin:x:2", claim: true},                         // the row its claim names
		{tenant: "tb", id: uuid7At(now), key: "checkin:x:2", refused: true},                  // a row the claim does not name
	} {
		var n int64
		err := in(c.tenant, func(ctx context.Context, tx *store.TenantTx) error {
			if c.claim {
				var got []string
				if err := tx.Unscoped().NewRaw("SELECT outreach_claim_notice_keys(?, ARRAY[?], ARRAY[?])", c.tenant, c.key, c.id).Scan(ctx, &got); err != nil {
					return err
				}
				if len(got) != 1 || got[0] != c.id {
					return fmt.Errorf("claim of %s: %v, want [%s]", c.key, got, c.id)
				}
			}
			var err error
			n, err = writeMessage(ctx, tx, c.id, "camp-"+c.tenant, "13800000002", c.key)
			return err
		})
		switch {
		case c.refused && !store.IsUniqueViolation(err):
			t.Errorf("notice %d (%s %s): %d written, err = %v, want a unique violation", i, c.tenant, c.key, n, err)
		case !c.refused && (err != nil || n != 1):
			t.Errorf("notice %d (%s %s): %d written, err = %v, want 1", i, c.tenant, c.key, n, err)
		}
	}
	// A key held is not claimed again.
	if err := in("tb", func(ctx context.Context, tx *store.TenantTx) error {
		var got []string
		if err := tx.Unscoped().NewRaw("SELECT outreach_claim_notice_keys('tb', ARRAY['checkin:x:2', 'checkin:x:3'], ARRAY[?, ?])",
			uuid7At(now), claimed).Scan(ctx, &got); err != nil {
			return err
		}
		if len(got) != 1 || got[0] != claimed {
			t.Errorf("claims of a key held and a new one: %v, want [%s]", got, claimed)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// The keys are each community's: ta sees its two, not tb's.
	if err := in("ta", func(ctx context.Context, tx *store.TenantTx) error {
		var n int
		if err := tx.Unscoped().NewRaw("SELECT (SELECT count(*) FROM outreach_phone_keys) + (SELECT count(*) FROM outreach_notice_keys)").Scan(ctx, &n); err != nil {
			return err
		}
		if n != 2 {
			t.Errorf("ta sees %d keys, want its 2", n)
		}
		// Deleting the message frees its phone.
		if _, err := tx.Unscoped().ExecContext(ctx, "DELETE FROM outreach_messages WHERE tenant_id = ? AND id = ?", "ta", thisMonth); err != nil {
			return err
		}
		_, err := writeMessage(ctx, tx, nextMonth, camp, "13800000001", "")
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// TestPartitionDirectAccessUnderRowSecurity: a query that names a
// partition instead of the parent still sees only its tenant's rows.
func TestPartitionDirectAccessUnderRowSecurity(t *testing.T) {
	requirePostgres(t)
	db := storetest.New(t)
	seedCampaign(t, db, "ta")
	seedCampaign(t, db, "tb")
	now := time.Now().UTC()
	for _, tenant := range []string{"ta", "tb"} {
		if err := db.InTenantTx(inTenant(tenant), func(ctx context.Context, tx *store.TenantTx) error {
			_, err := writeMessage(ctx, tx, uuid7At(now), "camp-"+tenant, "13800000003", "")
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	part := "outreach_messages_p" + now.Format("200601")
	err := db.InTenantTx(inTenant("ta"), func(ctx context.Context, tx *store.TenantTx) error {
		var n int
		if err := tx.Unscoped().NewRaw("SELECT count(*) FROM ?", bun.Ident(part)).Scan(ctx, &n); err != nil {
			return err
		}
		if n != 1 {
			t.Errorf("tenant ta reading %s directly sees %d rows, want its 1", part, n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestMaintainPartitions: rows written for a month nobody made land in the
// default partition and move into their month when it is made; months past
// the platform's maximum are dropped whole, with their keys; running again
// changes nothing.
func TestMaintainPartitions(t *testing.T) {
	requirePostgres(t)
	db := storetest.New(t)
	ctx := storetest.Unguarded(context.Background())
	camp := seedCampaign(t, db, "ta")
	now := time.Now().UTC()
	old := time.Date(now.Year()-12, 3, 15, 8, 0, 0, 0, time.UTC)
	recent := time.Date(now.Year()-2, 5, 15, 8, 0, 0, 0, time.UTC)
	ids := []string{uuid7At(old), uuid7At(recent)}
	if err := db.InTenantTx(inTenant("ta"), func(ctx context.Context, tx *store.TenantTx) error {
		for i, id := range ids {
			if _, err := writeMessage(ctx, tx, id, camp, fmt.Sprintf("1380000010%d", i), ""); err != nil {
				return err
			}
		}
		_, err := tx.Unscoped().ExecContext(ctx, `INSERT INTO audit_log (id, org_path, at, actor_id, actor, role, org, action, resource, resource_id, ip, request_id)
			VALUES (?, '/ta/', ?, 'u', 'u', 'r', 'ta', 'create', 'x', 'x', '', '')`, ids[0], old)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got := partitionsOf(t, db, "outreach_messages")["outreach_messages_default"]; got != 2 {
		t.Fatalf("default partition holds %d rows, want the 2 of months not made", got)
	}

	rep, err := db.MaintainPartitions(ctx, store.PartitionPolicy{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	oldPart, recentPart := "outreach_messages_p"+old.Format("200601"), "outreach_messages_p"+recent.Format("200601")
	parts := partitionsOf(t, db, "outreach_messages")
	if parts["outreach_messages_default"] != 0 || parts[oldPart] != 1 || parts[recentPart] != 1 {
		t.Errorf("after making the months: %v (made %v)", parts, rep.Created)
	}
	if p := partitionsOf(t, db, "audit_log"); p["audit_log_p"+old.Format("200601")] != 1 {
		t.Errorf("audit_log: %v", p)
	}
	// The keys followed their rows: the same phone again is refused.
	err = db.InTenantTx(inTenant("ta"), func(ctx context.Context, tx *store.TenantTx) error {
		_, err := writeMessage(ctx, tx, uuid7At(now), camp, "13800000100", "")
		return err
	})
	if !store.IsUniqueViolation(err) {
		t.Errorf("a moved message's phone written again: %v, want a unique violation", err)
	}

	rep, err = db.MaintainPartitions(ctx, store.PartitionPolicy{Now: now, Drop: true, KeepYears: 10})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"audit_log_p" + old.Format("200601"), oldPart}
	if strings.Join(rep.Dropped, ",") != strings.Join(want, ",") || len(rep.Created) != 0 {
		t.Errorf("dropped %v, made %v; want dropped %v and nothing made", rep.Dropped, rep.Created, want)
	}
	parts = partitionsOf(t, db, "outreach_messages")
	if _, ok := parts[oldPart]; ok || parts[recentPart] != 1 {
		t.Errorf("after the drop: %v", parts)
	}
	// The dropped month's key went with it: its phone is free again.
	if err := db.InTenantTx(inTenant("ta"), func(ctx context.Context, tx *store.TenantTx) error {
		_, err := writeMessage(ctx, tx, uuid7At(now), camp, "13800000100", "")
		return err
	}); err != nil {
		t.Errorf("the dropped month's phone: %v", err)
	}
	rep, err = db.MaintainPartitions(ctx, store.PartitionPolicy{Now: now, Drop: true})
	if err != nil || len(rep.Created)+len(rep.Dropped) != 0 {
		t.Errorf("again: %+v, %v; want nothing done", rep, err)
	}
}

// TestPartitionsMigrationMovesRows: rows written before the migration are
// there after it, in their months, with their keys; the down migration
// brings them back into plain tables with unique indexes. Migrations run
// as the tables' owner, which FORCE row security binds too.
func TestPartitionsMigrationMovesRows(t *testing.T) {
	requirePostgres(t)
	db := storetest.NewEmpty(t)
	ctx := storetest.Unguarded(context.Background())
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	camp := seedCampaign(t, db, "ta")
	now := time.Now().UTC()
	recent := time.Date(now.Year()-1, 5, 15, 8, 0, 0, 0, time.UTC)
	if err := db.InTenantTx(inTenant("ta"), func(ctx context.Context, tx *store.TenantTx) error {
		for i, id := range []string{uuid7At(now), uuid7At(recent)} {
			if _, err := writeMessage(ctx, tx, id, camp, fmt.Sprintf("1380000020%d", i), ""); err != nil {
				return err
			}
		}
		_, err := writeMessage(ctx, tx, uuid7At(recent), camp, "13800000209", "k1")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// The partitions migration alone, as its own group, down.
	if _, err := db.ExecContext(ctx, `UPDATE bun_migrations SET group_id = (SELECT max(group_id) + 1 FROM bun_migrations)
		WHERE name = ?`, storetest.PartitionsMigration); err != nil {
		t.Fatal(err)
	}
	rolled, err := db.Rollback(ctx)
	if err != nil || len(rolled) != 1 {
		t.Fatalf("rollback: %v %v", rolled, err)
	}
	var kind string
	if err := db.NewRaw("SELECT relkind::text FROM pg_class WHERE oid = 'outreach_messages'::regclass").Scan(ctx, &kind); err != nil || kind != "r" {
		t.Fatalf("after down, outreach_messages is of kind %q (%v), want a plain table", kind, err)
	}
	count := func(q string) int {
		var n int
		if err := db.AcrossTenants(ctx, "test", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
			return tx.NewRaw(q).Scan(ctx, &n)
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count("SELECT count(*) FROM outreach_messages"); n != 3 {
		t.Fatalf("after down: %d messages, want 3", n)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	parts := partitionsOf(t, db, "outreach_messages")
	if parts["outreach_messages_p"+recent.Format("200601")] != 2 || parts["outreach_messages_p"+now.Format("200601")] != 1 || parts["outreach_messages_default"] != 0 {
		t.Errorf("after up again: %v", parts)
	}
	if n := count("SELECT (SELECT count(*) FROM outreach_phone_keys) * 10 + (SELECT count(*) FROM outreach_notice_keys)"); n != 21 {
		t.Errorf("keys after up again: %d phone keys and %d notice keys, want 2 and 1", n/10, n%10)
	}
}

// TestMonthMoveKeepsOutboxKeys: messages that wait in the default
// partition for their month keep their keys when MaintainPartitions moves
// them into it: the campaign's phone and the notice key written again (in
// this month's partition) are refused, as before the move.
func TestMonthMoveKeepsOutboxKeys(t *testing.T) {
	requirePostgres(t)
	db := storetest.New(t)
	ctx := storetest.Unguarded(context.Background())
	camp := seedCampaign(t, db, "ta")
	now := time.Now().UTC()
	old := time.Date(now.Year()-2, 5, 15, 8, 0, 0, 0, time.UTC)
	cases := []struct {
		what, phone, key string
	}{
		{"the campaign's phone", "13800000300", ""},
		{"the notice key", "13800000301", "checkin:c:2020-05-15"},
	}
	for _, c := range cases {
		if err := db.InTenantTx(inTenant("ta"), func(ctx context.Context, tx *store.TenantTx) error {
			_, err := writeMessage(ctx, tx, uuid7At(old), camp, c.phone, c.key)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	if got := partitionsOf(t, db, "outreach_messages")["outreach_messages_default"]; got != len(cases) {
		t.Fatalf("default partition holds %d messages, want %d", got, len(cases))
	}
	if _, err := db.MaintainPartitions(ctx, store.PartitionPolicy{Now: now}); err != nil {
		t.Fatal(err)
	}
	if parts := partitionsOf(t, db, "outreach_messages"); parts["outreach_messages_default"] != 0 || parts["outreach_messages_p"+old.Format("200601")] != len(cases) {
		t.Fatalf("after making the month: %v", parts)
	}
	for _, c := range cases {
		var written int64
		err := db.InTenantTx(inTenant("ta"), func(ctx context.Context, tx *store.TenantTx) error {
			var err error
			written, err = writeMessage(ctx, tx, uuid7At(now), camp, c.phone, c.key)
			return err
		})
		// Written by hand, both are refused as the plain outbox's unique
		// indexes refuse them (20261216000003: Notify claims its keys
		// first and skips a key held; TestNotifyKeyOnce covers that).
		if !store.IsUniqueViolation(err) {
			t.Errorf("%s written again after the move: %d written, %v; want a unique violation", c.what, written, err)
		}
	}
}
