package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
)

// pgConnector hands database/sql connections that can carry a tenant
// transaction's opening statements in the message of its first statement
// (see pgConn.defer).
type pgConnector struct{ driver.Connector }

func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok := dc.(*stdlib.Conn)
	if !ok {
		_ = dc.Close()
		return nil, fmt.Errorf("store: pgx's connector made a %T", dc)
	}
	return &pgConn{Conn: sc}, nil
}

// pgConn is pgx's database/sql connection with one addition: statements
// deferred to the next one. A tenant transaction begins with "BEGIN;
// SELECT set_config(...)"; sent alone that is a round trip of its own on
// every request, before the statement that does the work. Deferred, it
// travels in the same simple-protocol message as the first statement, and
// PostgreSQL runs them in order, so the first statement already runs
// inside the transaction and under the tenant's row security. A
// transaction that issues no statement (a request refused on its input)
// never begins at all.
//
// Everything else is pgx's stdlib connection, unchanged.
type pgConn struct {
	*stdlib.Conn
	deferred   string
	statements int // in deferred
}

// deferStatements sends sql, n statements, ahead of the next statement,
// in its message.
func (c *pgConn) deferStatements(sql string, n int) { c.deferred, c.statements = sql, n }

// pending takes the deferred statements, if any.
func (c *pgConn) pending() (string, int) {
	s, n := c.deferred, c.statements
	c.deferred, c.statements = "", 0
	return s, n
}

// flush sends the deferred statements on their own, for work that does
// not go through QueryContext or ExecContext (COPY).
func (c *pgConn) flush(ctx context.Context) error {
	if s, _ := c.pending(); s != "" {
		if _, err := c.Conn.Conn().Exec(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// ResetSession drops what a connection going back to the pool still had
// deferred: it belonged to a transaction that issued nothing.
func (c *pgConn) ResetSession(ctx context.Context) error {
	c.pending()
	return c.Conn.ResetSession(ctx)
}

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if s, _ := c.pending(); s != "" {
		// pgx runs a multi-statement text in one message in the simple
		// protocol and answers the last statement's command tag.
		query = s + "; " + query
	}
	return c.Conn.ExecContext(ctx, query, args)
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s, n := c.pending()
	if s == "" {
		return c.Conn.QueryContext(ctx, query, args)
	}
	conn := c.Conn.Conn()
	if len(args) > 0 {
		// bun writes its arguments into the text; this is some other
		// caller's placeholder query, for pgx to bind, so the deferred
		// statements go first, on their own.
		if _, err := conn.Exec(ctx, s); err != nil {
			return nil, err
		}
		return c.Conn.QueryContext(ctx, query, args)
	}
	// The deferred statements' results come first, then the query's. An
	// error in any statement ends the message there; a transaction that
	// began is left failed, for its owner to roll back.
	mrr := conn.PgConn().Exec(ctx, s+"; "+query)
	for range n {
		if !mrr.NextResult() {
			return nil, closedEarly(mrr)
		}
		if _, err := mrr.ResultReader().Close(); err != nil {
			_ = mrr.Close()
			return nil, err
		}
	}
	if !mrr.NextResult() {
		return nil, closedEarly(mrr)
	}
	return newResultRows(conn.TypeMap(), mrr, mrr.ResultReader()), nil
}

// closedEarly is the error of a message whose results ended before the
// query's: the server's error, or a broken connection's.
func closedEarly(mrr *pgconn.MultiResultReader) error {
	if err := mrr.Close(); err != nil {
		return err
	}
	return errors.New("store: the server answered fewer results than statements sent")
}

// resultRows is driver.Rows over one result of a multi-statement message.
// Its values are those pgx's stdlib.Rows gives for the same columns (the
// conversions below are the same, by type OID), so bun scans them alike.
type resultRows struct {
	rr      *pgconn.ResultReader
	mrr     *pgconn.MultiResultReader
	columns []string
	convert []func([]byte) (driver.Value, error)
	closed  bool
}

func newResultRows(m *pgtype.Map, mrr *pgconn.MultiResultReader, rr *pgconn.ResultReader) *resultRows {
	fds := rr.FieldDescriptions()
	r := &resultRows{rr: rr, mrr: mrr, columns: make([]string, len(fds)), convert: make([]func([]byte) (driver.Value, error), len(fds))}
	for i, fd := range fds {
		r.columns[i] = fd.Name
		r.convert[i] = valueFunc(m, fd)
	}
	return r
}

func (r *resultRows) Columns() []string { return r.columns }

func (r *resultRows) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	_, err := r.rr.Close()
	if cerr := r.mrr.Close(); err == nil {
		err = cerr
	}
	return err
}

func (r *resultRows) Next(dest []driver.Value) error {
	if !r.rr.NextRow() {
		if err := r.Close(); err != nil {
			return err
		}
		return io.EOF
	}
	for i, raw := range r.rr.Values() {
		if raw == nil {
			dest[i] = nil
			continue
		}
		v, err := r.convert[i](raw)
		if err != nil {
			return fmt.Errorf("convert field %d failed: %w", i, err)
		}
		dest[i] = v
	}
	return nil
}

// valueFunc converts a column's wire value to the driver.Value pgx's
// stdlib.Rows gives for its type.
func valueFunc(m *pgtype.Map, fd pgconn.FieldDescription) func([]byte) (driver.Value, error) {
	oid, format := fd.DataTypeOID, fd.Format
	plan := func(target any) pgtype.ScanPlan { return m.PlanScan(oid, format, target) }
	switch oid {
	case pgtype.BoolOID:
		var d bool
		p := plan(&d)
		return func(src []byte) (driver.Value, error) { err := p.Scan(src, &d); return d, err }
	case pgtype.ByteaOID, pgtype.JSONOID, pgtype.JSONBOID, pgtype.XMLOID:
		var d []byte
		p := plan(&d)
		return func(src []byte) (driver.Value, error) {
			if err := p.Scan(src, &d); err != nil {
				return nil, err
			}
			return d, nil
		}
	case pgtype.CIDOID, pgtype.OIDOID, pgtype.XIDOID:
		var d pgtype.Uint32
		p := plan(&d)
		return func(src []byte) (driver.Value, error) {
			if err := p.Scan(src, &d); err != nil {
				return nil, err
			}
			return d.Value()
		}
	case pgtype.DateOID:
		var d pgtype.Date
		p := plan(&d)
		return func(src []byte) (driver.Value, error) {
			if err := p.Scan(src, &d); err != nil {
				return nil, err
			}
			return d.Value()
		}
	case pgtype.Float4OID:
		var d float32
		p := plan(&d)
		return func(src []byte) (driver.Value, error) { err := p.Scan(src, &d); return float64(d), err }
	case pgtype.Float8OID:
		var d float64
		p := plan(&d)
		return func(src []byte) (driver.Value, error) { err := p.Scan(src, &d); return d, err }
	case pgtype.Int2OID:
		var d int16
		p := plan(&d)
		return func(src []byte) (driver.Value, error) { err := p.Scan(src, &d); return int64(d), err }
	case pgtype.Int4OID:
		var d int32
		p := plan(&d)
		return func(src []byte) (driver.Value, error) { err := p.Scan(src, &d); return int64(d), err }
	case pgtype.Int8OID:
		var d int64
		p := plan(&d)
		return func(src []byte) (driver.Value, error) { err := p.Scan(src, &d); return d, err }
	case pgtype.TimestampOID:
		var d pgtype.Timestamp
		p := plan(&d)
		return func(src []byte) (driver.Value, error) {
			if err := p.Scan(src, &d); err != nil {
				return nil, err
			}
			return d.Value()
		}
	case pgtype.TimestamptzOID:
		var d pgtype.Timestamptz
		p := plan(&d)
		return func(src []byte) (driver.Value, error) {
			if err := p.Scan(src, &d); err != nil {
				return nil, err
			}
			return d.Value()
		}
	default:
		var d string
		p := plan(&d)
		return func(src []byte) (driver.Value, error) { err := p.Scan(src, &d); return d, err }
	}
}
