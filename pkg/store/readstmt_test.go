package store_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// readTypes are a value of every type a read may return, with the
// PostgreSQL type names (format_type) they stand for.
var readTypes = []struct{ expr, typ string }{
	{"true", "boolean"},
	{`'\x00ff'::bytea`, "bytea"},
	{"2::int2", "smallint"},
	{"3::int4", "integer"},
	{"4::int8", "bigint"},
	{"1.5::float4", "real"},
	{"2.25::float8", "double precision"},
	{"1.125::numeric", "numeric"},
	{"'x'::text", "text"},
	{"'y'::varchar", "character varying"},
	{"'z'::char(1)", "character"},
	{"'01a25111-2ed5-7102-a863-e8d67a111a78'::uuid", "uuid"},
	{`'{"a": [1, "二"]}'::json`, "json"},
	{`'{"b": {"c": null}}'::jsonb`, "jsonb"},
	{"'2026-12-07'::date", "date"},
	{"'2026-12-07 10:11:12.345678'::timestamp", "timestamp without time zone"},
	{"'2026-12-07 10:11:12.345678+08'::timestamptz", "timestamp with time zone"},
	{"'infinity'::timestamptz", "timestamp with time zone"},
	{"'12:30'::time", "time without time zone"},
	{"'1 day 2 hours'::interval", "interval"},
	{"'10.0.0.1'::inet", "inet"},
	{"7::oid", "oid"},
	{"ARRAY['a', 'b']::text[]", "text[]"},
	{"ARRAY[1, 2]::int[]", "integer[]"},
	{"NULL::text", "text"},
	{"'<a/>'::xml", "xml"},
}

// TestReadValuesAsStdlib: a read's statements come back through the
// store's own rows (one message with the read's opening), which must give
// database/sql the same value for every type as pgx's stdlib does for any
// other statement; and every type a column of the schema has is among
// those checked.
func TestReadValuesAsStdlib(t *testing.T) {
	requirePostgres(t)
	db := storetest.New(t)
	ctx := storetest.Unguarded(context.Background())

	exprs := make([]string, len(readTypes))
	for i, rt := range readTypes {
		exprs[i] = rt.expr
	}
	q := "SELECT " + strings.Join(exprs, ", ") + " FROM generate_series(1, 2)"
	scan := func(db bun.IDB) [][]any {
		t.Helper()
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out [][]any
		for rows.Next() {
			vals := make([]any, len(exprs))
			ptrs := make([]any, len(exprs))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			out = append(out, vals)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	want := scan(db)
	var got [][]any
	if err := db.InTenantReadTx(inTenant("ta"), func(ctx context.Context, tx *store.TenantTx) error {
		got = scan(tx.Unscoped())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(want) != 2 {
		t.Fatalf("%d rows read, %d by stdlib; want 2", len(got), len(want))
	}
	for r := range want {
		for i, rt := range readTypes {
			if !reflect.DeepEqual(got[r][i], want[r][i]) {
				t.Errorf("%s: a read gives %#v (%T), stdlib %#v (%T)", rt.expr, got[r][i], got[r][i], want[r][i], want[r][i])
			}
		}
	}

	var used []string
	if err := db.NewRaw(`SELECT DISTINCT format_type(a.atttypid, NULL) FROM pg_attribute a
		JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v') AND a.attnum > 0 AND NOT a.attisdropped`).Scan(ctx, &used); err != nil {
		t.Fatal(err)
	}
	for _, typ := range used {
		if !slices.ContainsFunc(readTypes, func(rt struct{ expr, typ string }) bool { return rt.typ == typ }) {
			t.Errorf("a column of the schema is of type %s, which readTypes does not check", typ)
		}
	}
}

// TestReadStatementsStandAlone: each statement of a read is a message of
// its own: it sees its tenant's rows only, a failed one leaves nothing
// behind for the statements after it, and the connection goes back to
// the pool with neither the tenant nor read-only set.
func TestReadStatementsStandAlone(t *testing.T) {
	requirePostgres(t)
	db := storetest.New(t)
	db.SetMaxOpenConns(1) // every statement below shares one connection
	seedHouseholds(t, db, "ta", 2)
	seedHouseholds(t, db, "tb", 1)
	err := db.InTenantReadTx(inTenant("ta"), func(ctx context.Context, tx *store.TenantTx) error {
		if _, err := tx.Unscoped().ExecContext(ctx, "SELECT 1/0"); err == nil {
			t.Error("a division by zero succeeded")
		}
		n, err := countAll(ctx, tx.Unscoped())
		if err != nil {
			return err
		}
		if n != 2 {
			t.Errorf("the statement after a failed one sees %d households, want ta's 2", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := storetest.Unguarded(context.Background())
	var tenant, readOnly string
	if err := db.NewRaw("SELECT coalesce(current_setting('app.tenant_id', true), ''), current_setting('transaction_read_only')").Scan(ctx, &tenant, &readOnly); err != nil {
		t.Fatal(err)
	}
	if tenant != "" || readOnly != "off" {
		t.Errorf("after a read the pooled connection has app.tenant_id %q and transaction_read_only %s, want none and off", tenant, readOnly)
	}
	if err := addRun(ctx, db, "after-read"); err != nil {
		t.Errorf("a write after a read on its connection: %v", err)
	}
}

// TestReadRefusesNestedTx: a transaction begun inside a read is refused
// on both databases (on PostgreSQL it would be neither the read's nor
// bound to its tenant; on SQLite a savepoint), and nothing of it runs.
func TestReadRefusesNestedTx(t *testing.T) {
	db := storetest.New(t)
	ran := false
	err := db.InTenantReadTx(inTenant("ta"), func(ctx context.Context, tx *store.TenantTx) error {
		err := tx.Unscoped().RunInTx(ctx, nil, func(ctx context.Context, in bun.Tx) error {
			ran = true
			return nil
		})
		if err == nil {
			t.Error("RunInTx inside a read succeeded")
		}
		if _, err := tx.Unscoped().BeginTx(ctx, nil); err == nil {
			t.Error("BeginTx inside a read succeeded")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if ran {
		t.Error("a transaction inside a read ran")
	}
}

// TestReadRefusesWritesThatReturnRows: a write sent as a query (RETURNING,
// which bun scans through QueryContext) is refused in a read like one sent
// through ExecContext, and changes nothing.
func TestReadRefusesWritesThatReturnRows(t *testing.T) {
	requirePostgres(t)
	db := storetest.New(t)
	seedHouseholds(t, db, "ta", 2)
	err := db.InTenantReadTx(inTenant("ta"), func(ctx context.Context, tx *store.TenantTx) error {
		var ids []string
		return tx.Unscoped().NewRaw("UPDATE households SET notes = 'x' WHERE tenant_id = 'ta' RETURNING id").Scan(ctx, &ids)
	})
	if err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("an UPDATE … RETURNING in a read: %v, want refused as read-only", err)
	}
	var n int
	if err := db.NewRaw("SELECT count(*) FROM households WHERE notes = 'x'").Scan(storetest.Unguarded(context.Background()), &n); err != nil || n != 0 {
		t.Errorf("%d households changed by a read (%v)", n, err)
	}
}
