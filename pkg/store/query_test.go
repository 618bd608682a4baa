package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

type row struct {
	ID   string `bun:"id"`
	Name string `bun:"name"`
}

// TestQueryHelpers: tag, prefix and contains filters mean the same on both
// databases, wildcards in the input included; keyset pages cover every row
// once.
func TestQueryHelpers(t *testing.T) {
	db := storetest.New(t)
	ctx := storetest.Unguarded(context.Background())
	jsonType := "TEXT"
	if db.Flavor() == store.Postgres {
		jsonType = "JSONB"
	}
	if _, err := db.ExecContext(ctx, "CREATE TABLE qh (id TEXT PRIMARY KEY, name TEXT NOT NULL, tags "+jsonType+" NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	for i, r := range [][2]string{
		{"张三", `["elderly","lives_alone"]`}, {"张三丰", `["elderly"]`}, {"50%_off", `["A&B"]`},
		{"a*b", `[]`}, {"李四", `["elderly_care"]`},
	} {
		if _, err := db.ExecContext(ctx, "INSERT INTO qh VALUES (?, ?, ?)", fmt.Sprintf("%02d", i), r[0], r[1]); err != nil {
			t.Fatal(err)
		}
	}
	q := func() *bun.SelectQuery { return db.NewSelect().TableExpr("qh AS q").Column("id", "name").Order("id") }
	cases := []struct {
		name string
		q    *bun.SelectQuery
		want string
	}{
		{"tag", db.HasTag(q(), "q", "elderly"), "张三,张三丰"},
		{"tag escaped by JSON", db.HasTag(q(), "q", "A&B"), "50%_off"},
		{"prefix", db.HasPrefix(q(), "name", "张三"), "张三,张三丰"},
		{"prefix with LIKE wildcards", db.HasPrefix(q(), "name", "50%"), "50%_off"},
		{"prefix with GLOB wildcards", db.HasPrefix(q(), "name", "a*"), "a*b"},
		{"contains", store.Contains(q(), "name", "%_"), "50%_off"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var rs []row
			if err := c.q.Scan(ctx, &rs); err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, r := range rs {
				names = append(names, r.Name)
			}
			if got := strings.Join(names, ","); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}

	var seen []string
	cursor := ""
	for range 5 {
		var rs []row
		if err := store.Keyset(db.NewSelect().TableExpr("qh").Column("id", "name"), "id", cursor, 2).Scan(ctx, &rs); err != nil {
			t.Fatal(err)
		}
		p := store.NextPage(rs, 2, func(r *row) string { return r.ID })
		cursor = p.Next
		for _, r := range p.Items {
			seen = append(seen, r.ID)
		}
		if cursor == "" {
			break
		}
	}
	if strings.Join(seen, ",") != "00,01,02,03,04" {
		t.Fatalf("pages: %v", seen)
	}
}
