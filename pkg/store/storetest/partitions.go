package storetest

import (
	"context"
	"testing"

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
