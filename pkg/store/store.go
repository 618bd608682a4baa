// Package store opens the database (PostgreSQL in real mode, an SQLite file
// in embedded mode) behind one bun.DB, runs transactions and owns the
// embedded schema migrations that work on both dialects.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	_ "modernc.org/sqlite" // pure-Go SQLite driver, registered as "sqlite"
)

// Dialect names the database flavour behind a DB.
type Dialect string

const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// DB is the application's database handle.
type DB struct {
	*bun.DB
	dialect Dialect
	where   string // host:port/db or file path, for messages; never a password
	// monthsAhead is Options.PartitionMonthsAhead.
	monthsAhead int
}

// Options configure Open. An empty URL means the embedded SQLite file in DataDir.
type Options struct {
	URL             string
	DataDir         string
	MaxOpenConns    int
	MaxIdleConns    int
	ConnMaxLifetime time.Duration
	// PingTimeout bounds the first contact; Open fails with a clear message
	// instead of hanging when the server is unreachable.
	PingTimeout time.Duration

	// PostgreSQL's limits, set on every connection (zero: the default in
	// parentheses; negative: none). StatementTimeout (30 s) bounds any one
	// statement (migrations run without it); LockTimeout (10 s) how long
	// a statement waits for a lock; IdleInTransactionTimeout (60 s) how long
	// a transaction may sit between statements before the server ends it.
	// EndTimeout (10 s) is the client's deadline on COMMIT and ROLLBACK.
	StatementTimeout         time.Duration
	LockTimeout              time.Duration
	IdleInTransactionTimeout time.Duration
	EndTimeout               time.Duration

	// PartitionMonthsAhead is how many months after the current one
	// Migrate makes partitions for (0: DefaultMonthsAhead).
	PartitionMonthsAhead int
}

// Defaults of Options' limits.
const (
	DefaultStatementTimeout         = 30 * time.Second
	DefaultLockTimeout              = 10 * time.Second
	DefaultIdleInTransactionTimeout = 60 * time.Second
	DefaultEndTimeout               = 10 * time.Second
)

// limit is d, def when d is zero, 0 (none) when negative.
func limit(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

// pgMillis spells d as a PostgreSQL duration setting.
func pgMillis(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	return strconv.FormatInt(max(d.Milliseconds(), 1), 10) + "ms"
}

// SQLiteFile is the database file name inside the data directory.
const SQLiteFile = "wanjia.db"

// Open connects and checks that the database answers.
func Open(ctx context.Context, o Options) (*DB, error) {
	if o.PingTimeout == 0 {
		o.PingTimeout = 5 * time.Second
	}
	var db *DB
	var err error
	if o.URL == "" {
		db, err = openSQLite(o)
	} else {
		db, err = openPostgres(o)
	}
	if err != nil {
		return nil, err
	}
	db.monthsAhead = o.PartitionMonthsAhead
	if h := openHook(o); h != nil {
		h(db)
	}
	pctx, cancel := context.WithTimeout(ctx, o.PingTimeout)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		_ = db.Close()
		if se := (*SessionError)(nil); errors.As(err, &se) {
			return nil, fmt.Errorf("database %s %s: %w", db.dialect, db.where, se)
		}
		return nil, fmt.Errorf("database %s %s does not answer: %w", db.dialect, db.where, rootCause(err))
	}
	return db, nil
}

func openSQLite(o Options) (*DB, error) {
	if err := os.MkdirAll(o.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data directory %s: %w", o.DataDir, err)
	}
	path := filepath.Join(o.DataDir, SQLiteFile)
	// WAL lets readers run beside the one writer; immediate transactions
	// take the write lock up front so that two writers queue on busy_timeout
	// instead of failing with SQLITE_BUSY halfway through.
	dsn := "file:" + path + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)" +
		"&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate&_time_format=sqlite"
	sqldb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	n := o.MaxOpenConns
	if n == 0 {
		n = 8
	}
	sqldb.SetMaxOpenConns(n)
	sqldb.SetMaxIdleConns(n)
	return &DB{DB: bun.NewDB(sqldb, sqlitedialect.New()), dialect: SQLite, where: path}, nil
}

func openPostgres(o Options) (*DB, error) {
	cfg, err := pgx.ParseConfig(o.URL)
	if err != nil {
		// pgx's message can quote the URL; say only what is wrong.
		return nil, errors.New("WANJIA_DATABASE_URL is not a valid PostgreSQL URL")
	}
	where := fmt.Sprintf("%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
	// bun renders every argument into the SQL text, so there is nothing to
	// bind: the simple protocol saves pgx from preparing (and caching, up
	// to 512 at a time) every distinct statement, which for bulk inserts
	// cost a round trip each and hundreds of MiB.
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	// Startup parameters override what the database or role sets, and are
	// checked once connected (see checkSession): a URL that asks for other
	// quoting gets it, and is refused.
	for _, s := range sessionSettings {
		if _, set := cfg.RuntimeParams[s.name]; !set {
			cfg.RuntimeParams[s.name] = s.value
		}
	}
	for k, v := range map[string]string{
		"statement_timeout":                   pgMillis(limit(o.StatementTimeout, DefaultStatementTimeout)),
		"lock_timeout":                        pgMillis(limit(o.LockTimeout, DefaultLockTimeout)),
		"idle_in_transaction_session_timeout": pgMillis(limit(o.IdleInTransactionTimeout, DefaultIdleInTransactionTimeout)),
	} {
		cfg.RuntimeParams[k] = v
	}
	cfg.AfterConnect = func(_ context.Context, pc *pgconn.PgConn) error { return checkSession(pc) }
	end := limit(o.EndTimeout, DefaultEndTimeout)
	if end == 0 {
		end = DefaultEndTimeout // a deadline is the point
	}
	sqldb := sql.OpenDB(pgConnector{Connector: stdlib.GetConnector(*cfg, stdlib.OptionShouldPing(shouldPing)), end: end})
	n := o.MaxOpenConns
	if n == 0 {
		n = 20
	}
	// As many idle as open: a busy API that drops back below the cap would
	// otherwise close connections only to open them again a moment later,
	// each a new PostgreSQL backend.
	idle := o.MaxIdleConns
	if idle == 0 {
		idle = n
	}
	life := o.ConnMaxLifetime
	if life == 0 {
		life = 30 * time.Minute
	}
	sqldb.SetMaxOpenConns(n)
	sqldb.SetMaxIdleConns(idle)
	sqldb.SetConnMaxLifetime(life)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	return &DB{DB: bun.NewDB(sqldb, pgdialect.New()), dialect: Postgres, where: where}, nil
}

// Flavor tells which database this is (bun's Dialect() is the SQL dialect object).
func (db *DB) Flavor() Dialect { return db.dialect }

// Where says where the database is (host:port/db or file), without secrets.
func (db *DB) Where() string { return db.where }

// Ping checks the database within the context's deadline.
func (db *DB) Ping(ctx context.Context) error { return db.PingContext(ctx) }

// InTx runs fn in a transaction, committing when it returns nil and rolling
// back otherwise (and on panic, which is re-raised).
func (db *DB) InTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return db.RunInTx(ctx, nil, fn)
}

// Tests hand each test a fresh database by URL (PostgreSQL) or data
// directory (SQLite), and the code under test opens it itself; storetest
// registers a hook under that key to install its query guard on whatever
// opens it. Production code never registers one.
var (
	openHooksMu sync.Mutex
	openHooks   = map[string]func(*DB){}
)

// RegisterOpenHook runs fn on every DB that Open opens at key (a database
// URL, or the data directory of an SQLite database) until unregister is
// called. It exists for storetest.
func RegisterOpenHook(key string, fn func(*DB)) (unregister func()) {
	openHooksMu.Lock()
	openHooks[key] = fn
	openHooksMu.Unlock()
	return func() {
		openHooksMu.Lock()
		delete(openHooks, key)
		openHooksMu.Unlock()
	}
}

func openHook(o Options) func(*DB) {
	key := o.URL
	if key == "" {
		key = o.DataDir
	}
	openHooksMu.Lock()
	defer openHooksMu.Unlock()
	return openHooks[key]
}

// rootCause strips wrapping that repeats the DSN.
func rootCause(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			return ue.Err
		}
		if !strings.Contains(err.Error(), "://") {
			return err
		}
		err = u
	}
}

// Optimize refreshes the planner's statistics after a bulk change (the demo
// seed, an import, a campaign's outbox): ANALYZE on PostgreSQL, a sampled
// ANALYZE on SQLite. Either database otherwise plans freshly written rows
// from statistics taken before them: a community of 5,000 as if it were
// empty, or 100,000 queued messages as if there were none. With no tables
// named, every table of the schema whose statistics are stale.
func (db *DB) Optimize(ctx context.Context, tables ...string) error {
	// SQLite: analysis_limit samples; PRAGMA optimize 0x10002 analyzes
	// every table whose statistics are missing or stale, not only the
	// ones this connection has queried.
	qs := []string{"PRAGMA analysis_limit = 1000", "PRAGMA optimize = 0x10002"}
	if len(tables) > 0 && db.dialect != Postgres {
		qs = []string{"PRAGMA analysis_limit = 1000", "ANALYZE " + strings.Join(tables, "; ANALYZE ")}
	}
	if db.dialect == Postgres {
		// The schema's own tables only: a bare ANALYZE walks every table of
		// the database, other schemas' included. Tables the connecting role
		// does not own are skipped with a warning, not an error; in
		// production the owner's autovacuum analyzes them soon after.
		if len(tables) == 0 {
			if err := db.NewRaw("SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema()").Scan(ctx, &tables); err != nil {
				return fmt.Errorf("optimize: %w", err)
			}
		}
		if len(tables) == 0 {
			return nil
		}
		qs = []string{"ANALYZE " + strings.Join(tables, ", ")}
	}
	conn, err := db.Conn(ctx) // the pragmas hold per connection
	if err != nil {
		return fmt.Errorf("optimize: %w", err)
	}
	defer conn.Close()
	for _, q := range qs {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("optimize: %w", err)
		}
	}
	return nil
}
