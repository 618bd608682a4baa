package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/tenancy"
)

type grid struct {
	bun.BaseModel `bun:"table:grids"`
	ID            string `bun:"id,pk"`
}

// recorder stands in for the test the guard reports to.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.errs
	r.errs = nil
	return out
}

// TestGuardCatchesUnscopedQueries proves the data lock's test works: it
// knows every table with tenant_id and flags a query that forgets it.
func TestGuardCatchesUnscopedQueries(t *testing.T) {
	rec := &recorder{TB: t}
	db := NewEmpty(t)
	ctx := context.Background()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	guard(rec, db)

	tables := TenantTables(t, db)
	if len(tables) == 0 {
		t.Fatal("no tenant tables found")
	}
	for _, table := range tables {
		if _, err := db.NewRaw("SELECT count(*) FROM " + table).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if got := rec.take(); len(got) != 1 || !strings.Contains(got[0], table) {
			t.Errorf("unscoped select on %s: guard reported %v", table, got)
		}
	}

	// The store's scoped helpers pass.
	scoped := tenancy.With(ctx, tenancy.Scope{TenantID: "t1"})
	err := db.InTenantTx(scoped, func(ctx context.Context, tx *store.TenantTx) error {
		var n int
		return tx.Select((*grid)(nil)).ColumnExpr("count(*)").Scan(ctx, &n)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); len(got) != 0 {
		t.Errorf("TenantTx.Select flagged: %v", got)
	}
	if _, err := db.NewRaw("SELECT count(*) FROM grids WHERE tenant_id = ?", "t1").Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); len(got) != 0 {
		t.Errorf("scoped select flagged: %v", got)
	}
	if _, err := db.NewRaw("SELECT count(*) FROM grids").Exec(Unguarded(ctx)); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); len(got) != 0 {
		t.Errorf("unguarded context flagged: %v", got)
	}
}
