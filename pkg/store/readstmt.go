package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/uptrace/bun"
)

// A read on PostgreSQL runs no transaction of its own: each of its
// statements goes in one message with an opening that binds the tenant
// and makes the statement read-only, both local to the message, which
// PostgreSQL runs as one implicit transaction. A list is then one round
// trip instead of three (BEGIN and the tenant, the page, COMMIT).
//
// Nothing changes for the reader: a read runs at READ COMMITTED, where
// each statement of a transaction takes a snapshot of its own anyway, and
// nothing of a message outlives it (no setting, no transaction, no lock),
// so a statement that fails leaves nothing behind for the next one.

// readOpening is the first statement of a read's message.
const readOpening = "SELECT set_config('app.tenant_id', $1, true), set_config('transaction_read_only', 'on', true)"

// errNestedTx is a transaction begun inside a read.
var errNestedTx = errors.New("store: a read runs no transaction inside it")

// readKey marks the context of one statement of a read, with its tenant.
type readKey struct{}

// readDB is the bun.IDB of a read (TenantTx.Unscoped): bun's, with every
// query sent as a statement of the read.
type readDB struct {
	*bun.DB
	conn readConn
}

func newReadDB(db *bun.DB, tenantID string) readDB {
	return readDB{DB: db, conn: readConn{db: db.DB, tenant: tenantID}}
}

func (d readDB) NewValues(model any) *bun.ValuesQuery    { return d.DB.NewValues(model).Conn(d.conn) }
func (d readDB) NewSelect() *bun.SelectQuery             { return d.DB.NewSelect().Conn(d.conn) }
func (d readDB) NewInsert() *bun.InsertQuery             { return d.DB.NewInsert().Conn(d.conn) }
func (d readDB) NewUpdate() *bun.UpdateQuery             { return d.DB.NewUpdate().Conn(d.conn) }
func (d readDB) NewDelete() *bun.DeleteQuery             { return d.DB.NewDelete().Conn(d.conn) }
func (d readDB) NewMerge() *bun.MergeQuery               { return d.DB.NewMerge().Conn(d.conn) }
func (d readDB) NewRaw(q string, a ...any) *bun.RawQuery { return d.DB.NewRaw(q, a...).Conn(d.conn) }
func (d readDB) NewCreateTable() *bun.CreateTableQuery   { return d.DB.NewCreateTable().Conn(d.conn) }
func (d readDB) NewDropTable() *bun.DropTableQuery       { return d.DB.NewDropTable().Conn(d.conn) }
func (d readDB) NewCreateIndex() *bun.CreateIndexQuery   { return d.DB.NewCreateIndex().Conn(d.conn) }
func (d readDB) NewDropIndex() *bun.DropIndexQuery       { return d.DB.NewDropIndex().Conn(d.conn) }
func (d readDB) NewTruncateTable() *bun.TruncateTableQuery {
	return d.DB.NewTruncateTable().Conn(d.conn)
}
func (d readDB) NewAddColumn() *bun.AddColumnQuery   { return d.DB.NewAddColumn().Conn(d.conn) }
func (d readDB) NewDropColumn() *bun.DropColumnQuery { return d.DB.NewDropColumn().Conn(d.conn) }

// QueryContext, ExecContext and QueryRowContext go through bun's (for its
// query hooks) with the statement's mark.
func (d readDB) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return d.DB.QueryContext(d.conn.mark(ctx), q, args...)
}

func (d readDB) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return d.DB.ExecContext(d.conn.mark(ctx), q, args...)
}

func (d readDB) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return d.DB.QueryRowContext(d.conn.mark(ctx), q, args...)
}

// BeginTx and RunInTx are refused: a transaction begun here would be
// neither the read's nor bound to its tenant.
func (d readDB) BeginTx(context.Context, *sql.TxOptions) (bun.Tx, error) {
	return bun.Tx{}, errNestedTx
}

func (d readDB) RunInTx(context.Context, *sql.TxOptions, func(context.Context, bun.Tx) error) error {
	return errNestedTx
}

// readConn is the bun.IConn a read's queries run on: the pool, with each
// statement's context marked for pgConn.
type readConn struct {
	db     *sql.DB
	tenant string
}

func (c readConn) mark(ctx context.Context) context.Context {
	return context.WithValue(ctx, readKey{}, c.tenant)
}

func (c readConn) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return c.db.QueryContext(c.mark(ctx), q, args...)
}

func (c readConn) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return c.db.ExecContext(c.mark(ctx), q, args...)
}

func (c readConn) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return c.db.QueryRowContext(c.mark(ctx), q, args...)
}

// readOnlyTx is the bun.IDB of a read on SQLite: its read transaction,
// refusing a nested one as a read on PostgreSQL does (where it would be
// a savepoint), so that a read behaves alike on both.
type readOnlyTx struct{ bun.Tx }

func (readOnlyTx) BeginTx(context.Context, *sql.TxOptions) (bun.Tx, error) {
	return bun.Tx{}, errNestedTx
}

func (readOnlyTx) RunInTx(context.Context, *sql.TxOptions, func(context.Context, bun.Tx) error) error {
	return errNestedTx
}

// QueryContext runs a statement of a read (a context marked by readConn)
// in one message after readOpening, through pgx's batch, which on the
// simple protocol sends the two as one multi-statement query. Any other
// query is pgx's, unchanged. The connection comes from the pool, which
// hands out only connections outside any transaction (ResetSession), so
// the message's implicit transaction is all the statement runs in.
func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	tenant, ok := ctx.Value(readKey{}).(string)
	if !ok {
		return c.Conn.QueryContext(ctx, query, args)
	}
	br, err := c.sendRead(ctx, tenant, query, args)
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err == nil {
		// As pgx's stdlib does: the first row read now, so that an error
		// of the statement is the query's.
		more := rows.Next()
		if err = rows.Err(); err == nil {
			return &readRows{br: br, rows: rows, m: c.Conn.Conn().TypeMap(), first: true, more: more}, nil
		}
		rows.Close()
	}
	_ = br.Close()
	return nil, err
}

// ExecContext is QueryContext for a statement without rows.
func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	tenant, ok := ctx.Value(readKey{}).(string)
	if !ok {
		return c.Conn.ExecContext(ctx, query, args)
	}
	br, err := c.sendRead(ctx, tenant, query, args)
	if err != nil {
		return nil, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return driver.RowsAffected(tag.RowsAffected()), nil
}

// sendRead sends readOpening and query in one message and reads the
// opening's answer. A connection found dead is reported as
// driver.ErrBadConn, so database/sql sends the statement again on another:
// a read-only message is safe to run twice.
func (c *pgConn) sendRead(ctx context.Context, tenant, query string, args []driver.NamedValue) (pgx.BatchResults, error) {
	conn := c.Conn.Conn()
	if conn.IsClosed() {
		return nil, driver.ErrBadConn
	}
	if err := checkSession(conn.PgConn()); err != nil {
		return nil, err
	}
	qargs := make([]any, len(args))
	for i, a := range args {
		qargs[i] = a.Value
	}
	b := &pgx.Batch{}
	b.Queue(readOpening, tenant)
	b.Queue(query, qargs...)
	br := conn.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		if conn.IsClosed() {
			return nil, errors.Join(driver.ErrBadConn, err)
		}
		return nil, err
	}
	return br, nil
}

// readRows are a read's rows for database/sql, each value converted as
// pgx's stdlib converts it (see valueFunc).
type readRows struct {
	br    pgx.BatchResults
	rows  pgx.Rows
	m     *pgtype.Map
	conv  []func([]byte) (driver.Value, error)
	first bool // the first row was read by QueryContext
	more  bool // and there was one
}

func (r *readRows) Columns() []string {
	fds := r.rows.FieldDescriptions()
	out := make([]string, len(fds))
	for i, fd := range fds {
		out[i] = fd.Name
	}
	return out
}

func (r *readRows) Close() error {
	r.rows.Close()
	err := r.rows.Err()
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}

func (r *readRows) Next(dest []driver.Value) error {
	if r.conv == nil {
		fds := r.rows.FieldDescriptions()
		r.conv = make([]func([]byte) (driver.Value, error), len(fds))
		for i, fd := range fds {
			r.conv[i] = valueFunc(r.m, fd.DataTypeOID, fd.Format)
		}
	}
	more := r.more
	if r.first {
		r.first = false
	} else {
		more = r.rows.Next()
	}
	if !more {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return io.EOF
	}
	for i, raw := range r.rows.RawValues() {
		if raw == nil {
			dest[i] = nil
			continue
		}
		v, err := r.conv[i](raw)
		if err != nil {
			return fmt.Errorf("convert field %d failed: %w", i, err)
		}
		dest[i] = v
	}
	return nil
}

// valueFunc converts a column's raw value to the driver.Value that pgx's
// stdlib gives for it (stdlib.Rows.initValueFuncs, which is not exported),
// so that bun scans a read's rows as it scans any other;
// TestReadValuesAsStdlib holds the two to each other.
func valueFunc(m *pgtype.Map, oid uint32, format int16) func([]byte) (driver.Value, error) {
	switch oid {
	case pgtype.BoolOID:
		return scanAs[bool](m, oid, format)
	case pgtype.ByteaOID, pgtype.JSONOID, pgtype.JSONBOID, pgtype.XMLOID:
		return scanAs[[]byte](m, oid, format)
	case pgtype.Float4OID:
		return scanTo(m, oid, format, func(d float32) (driver.Value, error) { return float64(d), nil })
	case pgtype.Float8OID:
		return scanAs[float64](m, oid, format)
	case pgtype.Int2OID:
		return scanTo(m, oid, format, func(d int16) (driver.Value, error) { return int64(d), nil })
	case pgtype.Int4OID:
		return scanTo(m, oid, format, func(d int32) (driver.Value, error) { return int64(d), nil })
	case pgtype.Int8OID:
		return scanAs[int64](m, oid, format)
	case pgtype.CIDOID, pgtype.OIDOID, pgtype.XIDOID:
		return scanTo(m, oid, format, pgtype.Uint32.Value)
	case pgtype.DateOID:
		return scanTo(m, oid, format, pgtype.Date.Value)
	case pgtype.TimestampOID:
		return scanTo(m, oid, format, pgtype.Timestamp.Value)
	case pgtype.TimestamptzOID:
		return scanTo(m, oid, format, pgtype.Timestamptz.Value)
	default:
		return scanAs[string](m, oid, format)
	}
}

// scanAs scans into a T, which is the driver value.
func scanAs[T any](m *pgtype.Map, oid uint32, format int16) func([]byte) (driver.Value, error) {
	return scanTo(m, oid, format, func(d T) (driver.Value, error) { return d, nil })
}

// scanTo scans into a T and makes the driver value of it.
func scanTo[T any](m *pgtype.Map, oid uint32, format int16, value func(T) (driver.Value, error)) func([]byte) (driver.Value, error) {
	var d T
	p := m.PlanScan(oid, format, &d)
	return func(src []byte) (driver.Value, error) {
		if err := p.Scan(src, &d); err != nil {
			return nil, err
		}
		return value(d)
	}
}
