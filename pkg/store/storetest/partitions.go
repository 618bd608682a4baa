package storetest

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/store"
)

// PartitionsMigration is the migration that partitions the big tables.
const PartitionsMigration = "20261215000001"

// Unpartition rolls back the partitions migration alone on db (PostgreSQL),
// bringing every row back into plain tables: the same data, unpartitioned,
// for a benchmark that compares both in one run. db.Migrate partitions
// them again.
func Unpartition(t testing.TB, db *store.DB) {
	t.Helper()
	ctx := Unguarded(context.Background())
	if _, err := db.ExecContext(ctx, `UPDATE bun_migrations SET group_id = (SELECT max(group_id) + 1 FROM bun_migrations)
		WHERE name = ?`, PartitionsMigration); err != nil {
		t.Fatalf("storetest: unpartition: %v", err)
	}
	rolled, err := db.Rollback(ctx)
	if err != nil || len(rolled) != 1 {
		t.Fatalf("storetest: unpartition: rolled back %v: %v", rolled, err)
	}
	if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil {
		t.Fatalf("storetest: unpartition: %v", err)
	}
}

// Statements keeps the statements db runs from now on that match, for a
// test that then looks at their plans (PartitionsScanned).
type Statements struct {
	match func(query string) bool
	mu    sync.Mutex
	qs    []string
}

// CaptureStatements hooks a Statements onto db.
func CaptureStatements(db *store.DB, match func(query string) bool) *Statements {
	s := &Statements{match: match}
	db.DB = db.WithQueryHook(s)
	return s
}

// BeforeQuery implements bun.QueryHook.
func (s *Statements) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

// AfterQuery implements bun.QueryHook.
func (s *Statements) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	if s.match(e.Query) {
		s.mu.Lock()
		s.qs = append(s.qs, e.Query)
		s.mu.Unlock()
	}
}

// All returns the statements kept so far.
func (s *Statements) All() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.qs)
}

// PartitionsScanned EXPLAINs query on db, across every tenant, and returns
// the partitions of table its plan reads, by suffix ("p202002",
// "default"), sorted and each once, with the plan for a failure's message.
func PartitionsScanned(t testing.TB, db *store.DB, table, query string) (parts []string, plan string) {
	t.Helper()
	var lines []string
	err := db.AcrossTenants(Unguarded(context.Background()), "test", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewRaw("EXPLAIN "+query).Scan(ctx, &lines)
	})
	if err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	plan = strings.Join(lines, "\n")
	re := regexp.MustCompile(regexp.QuoteMeta(table) + `_(p\d{6}|default)\b`)
	for _, m := range re.FindAllStringSubmatch(plan, -1) {
		if !slices.Contains(parts, m[1]) {
			parts = append(parts, m[1])
		}
	}
	slices.Sort(parts)
	return parts, plan
}
