package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun/migrate"
)

// The schema is one set of SQL files for both dialects; the few types that
// differ are template fields (see templateData), so a reader sees one schema.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// templateData fills the dialect-specific parts of the migration SQL.
type templateData struct {
	Postgres bool
	JSON     string // JSONB on PostgreSQL; TEXT holding JSON on SQLite
	Time     string // TIMESTAMPTZ on PostgreSQL; TIMESTAMP on SQLite
	Blob     string // BYTEA on PostgreSQL; BLOB on SQLite
}

func (db *DB) migrator() (*migrate.Migrator, error) {
	ms := migrate.NewMigrations()
	if err := ms.Discover(migrationFS); err != nil {
		return nil, fmt.Errorf("read embedded migrations: %w", err)
	}
	td := templateData{JSON: "TEXT", Time: "TIMESTAMP", Blob: "BLOB"}
	if db.dialect == Postgres {
		td = templateData{Postgres: true, JSON: "JSONB", Time: "TIMESTAMPTZ", Blob: "BYTEA"}
	}
	return migrate.NewMigrator(db.DB, ms,
		migrate.WithTemplateData(td),
		// A migration that fails halfway must stay pending so that the next
		// run retries it; bun's default marks it applied before it runs.
		migrate.WithMarkAppliedOnSuccess(true),
	), nil
}

// MigrationStatus is one migration and whether it is applied.
type MigrationStatus struct {
	Name    string
	Comment string
	Applied bool
}

// Migrate applies every pending migration and returns their names. On
// PostgreSQL it then makes the partitions of the current month and the
// months ahead (Options.PartitionMonthsAhead; see MaintainPartitions): the
// role that migrates is the one that may create tables.
func (db *DB) Migrate(ctx context.Context) ([]string, error) {
	done, err := db.locked(ctx, "migrate", func(ctx context.Context, m *migrate.Migrator) (*migrate.MigrationGroup, error) { return m.Migrate(ctx) })
	if err != nil {
		return done, err
	}
	if _, err := db.MaintainPartitions(ctx, PartitionPolicy{Ahead: db.monthsAhead}); err != nil {
		return done, err
	}
	return done, nil
}

// Rollback undoes the last group of applied migrations.
func (db *DB) Rollback(ctx context.Context) ([]string, error) {
	return db.locked(ctx, "rollback", func(ctx context.Context, m *migrate.Migrator) (*migrate.MigrationGroup, error) {
		return m.Rollback(ctx)
	})
}

// locked runs one migrator operation under bun's migration lock, so two
// processes starting together do not both migrate.
func (db *DB) locked(ctx context.Context, what string, op func(context.Context, *migrate.Migrator) (*migrate.MigrationGroup, error)) ([]string, error) {
	m, err := db.migrator()
	if err != nil {
		return nil, err
	}
	// A migration reaches every tenant's rows by nature (a new column
	// filled from another table, a table rebuilt): it is work across
	// tenants, named as such.
	ctx = context.WithValue(ctx, acrossKey{}, "schema migrations")
	if db.dialect == Postgres {
		// Each migration's transaction runs without the statement timeout:
		// rebuilding a large table or index may take longer than any
		// request may. (Lock waits stay bounded: a migration that queues
		// for a lock holds every request queued behind it.)
		// app.tenant_ids '*': under FORCE row security the tables' owner
		// too sees no tenant's rows unless told, and a migration that
		// moves rows from one table to another must see them all.
		ctx, _ = withTxSettings(ctx, "statement_timeout", "0", "app.tenant_ids", "*")
	}
	if err := db.lockMigrations(ctx, m); err != nil {
		return nil, err
	}
	defer func() { _ = m.Unlock(context.WithoutCancel(ctx)) }()
	group, err := op(ctx, m)
	var done []string
	if group != nil {
		done = names(group.Migrations)
	}
	if err != nil {
		return done, fmt.Errorf("%s: %w", what, err)
	}
	return done, nil
}

// migrationLockWait is how long a process waits for another's migration
// (N processes of `wanjia all` starting together on a fresh database:
// the first migrates, the others wait and then find nothing to do). A
// lock left by a process that died is still an error after it.
const migrationLockWait = 2 * time.Minute

// lockMigrations makes bun's migration tables and takes its lock, waiting
// while another process holds it. Making the tables is retried too: two
// CREATE TABLE IF NOT EXISTS at once on PostgreSQL may fail on its catalog's
// unique index.
func (db *DB) lockMigrations(ctx context.Context, m *migrate.Migrator) error {
	deadline := time.Now().Add(migrationLockWait)
	for {
		err := m.Init(ctx)
		if err != nil {
			err = fmt.Errorf("init migration tables: %w", err)
		} else if err = m.Lock(ctx); err == nil {
			return nil
		} else {
			err = fmt.Errorf("another process is migrating (lock held): %w", err)
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Status lists every known migration, oldest first.
func (db *DB) Status(ctx context.Context) ([]MigrationStatus, error) {
	m, err := db.migrator()
	if err != nil {
		return nil, err
	}
	// Reading the state must not need the right to create tables: the
	// application's role in production has none (README, "Real mode").
	// Only a database never migrated needs bun's tables made first.
	exists, err := db.hasTable(ctx, "bun_migrations")
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	if !exists {
		if err := m.Init(ctx); err != nil {
			return nil, fmt.Errorf("init migration tables: %w", err)
		}
	}
	ms, err := m.MigrationsWithStatus(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	out := make([]MigrationStatus, 0, len(ms))
	for _, x := range ms {
		out = append(out, MigrationStatus{Name: x.Name, Comment: x.Comment, Applied: x.IsApplied()})
	}
	return out, nil
}

// PendingError lists migrations not yet applied; serve, worker and
// scheduler refuse to start on it.
type PendingError struct{ Names []string }

func (e *PendingError) Error() string {
	return fmt.Sprintf("%d migration(s) pending: %s; run `wanjia migrate up`", len(e.Names), strings.Join(e.Names, ", "))
}

// CheckMigrated returns a *PendingError when the schema is behind the binary.
func (db *DB) CheckMigrated(ctx context.Context) error {
	st, err := db.Status(ctx)
	if err != nil {
		return err
	}
	var pending []string
	for _, s := range st {
		if !s.Applied {
			pending = append(pending, s.Name+"_"+s.Comment)
		}
	}
	if len(pending) > 0 {
		return &PendingError{Names: pending}
	}
	return nil
}

func names(ms migrate.MigrationSlice) []string {
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.Name+"_"+m.Comment)
	}
	return out
}

// hasTable reports whether table exists in the schema the connection uses.
func (db *DB) hasTable(ctx context.Context, table string) (bool, error) {
	var n int
	var err error
	if db.dialect == Postgres {
		err = db.NewRaw("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = ?", table).Scan(ctx, &n)
	} else {
		err = db.NewRaw("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", table).Scan(ctx, &n)
	}
	return n > 0, err
}
