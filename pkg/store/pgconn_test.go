package store_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// TestStatementsAheadConvertAsPgxDoes: a statement that carries its
// tenant transaction's opening is read by store's own rows, not pgx's
// stdlib.Rows; every type must come out as pgx's would, for reads (each
// statement) and for a write's first statement alike.
func TestStatementsAheadConvertAsPgxDoes(t *testing.T) {
	requirePostgres(t)
	db := storetest.New(t)
	const query = `SELECT true AS b, '\x00ff'::bytea AS by, 2::int2 AS i2, 4::int4 AS i4, 8::int8 AS i8,
		1.5::float4 AS f4, 2.25::float8 AS f8, 12.50::numeric AS n, 'é 字'::text AS t, 'x'::varchar AS v,
		'0190b4e2-7d3c-7c2a-8f00-000000000001'::uuid AS u, '2026-11-29'::date AS d,
		'2026-11-29 08:00:01.5'::timestamp AS ts, '2026-11-29 08:00:01.5+08'::timestamptz AS tz,
		'{"a": [1, "二"]}'::jsonb AS jb, '{"a":1}'::json AS j, '1 day 02:00'::interval AS iv,
		ARRAY['a', 'b']::text[] AS arr, 42::oid AS o, NULL::text AS null_text, NULL::int8 AS null_int`
	read := func(t *testing.T, run func(func(ctx context.Context, q bun.IDB) error) error) []any {
		t.Helper()
		var got []any
		err := run(func(ctx context.Context, q bun.IDB) error {
			rows, err := q.QueryContext(ctx, query)
			if err != nil {
				return err
			}
			defer rows.Close()
			cols, err := rows.Columns()
			if err != nil {
				return err
			}
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					return err
				}
				got = vals
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	ctx := storetest.Unguarded(context.Background())
	want := read(t, func(fn func(context.Context, bun.IDB) error) error { return fn(ctx, db) })
	if len(want) != 21 {
		t.Fatalf("pgx's row: %v", want)
	}
	for name, run := range map[string]func(func(context.Context, bun.IDB) error) error{
		"read": func(fn func(context.Context, bun.IDB) error) error {
			return db.InTenantReadTx(inTenant("ta"), func(ctx context.Context, tx *store.TenantTx) error { return fn(ctx, tx.Unscoped()) })
		},
		"write": func(fn func(context.Context, bun.IDB) error) error {
			return db.InTenantTx(inTenant("ta"), func(ctx context.Context, tx *store.TenantTx) error { return fn(ctx, tx.Unscoped()) })
		},
	} {
		t.Run(name, func(t *testing.T) {
			got := read(t, run)
			for i := range want {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Errorf("column %d: %#v (%T), pgx gives %#v (%T)", i, got[i], got[i], want[i], want[i])
				}
			}
		})
	}
}
