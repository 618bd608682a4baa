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

// pgConnector hands out pgx's database/sql connections as pgConns, which
// can send a tenant transaction's opening in the message of a statement.
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
// sent ahead of the next one, in the same simple-protocol message, which
// PostgreSQL runs in order. A tenant transaction's opening ("BEGIN;
// SELECT set_config(...)") sent alone would be a round trip of its own on
// every request, before the statement that does the work; sent ahead of
// that statement it costs none, and the statement already runs inside the
// transaction and under the tenant's row security. Two ways:
//
//   - once (a write): the opening goes ahead of the first statement only,
//     and the transaction runs on to its COMMIT. A transaction that issues
//     no statement (a request refused on its input) never begins.
//   - each (a read): no transaction is begun at all. Every statement goes
//     with "SET TRANSACTION READ ONLY; SELECT set_config(..., true)" in
//     the implicit transaction of its own message, so it runs read-only
//     under the tenant's row security, and the connection is out of any
//     transaction as soon as it answers: there is nothing to end. Under
//     READ COMMITTED each statement of a read transaction had its own
//     snapshot already, so a read sees what it saw before.
//
// Everything else is pgx's stdlib connection, unchanged.
type pgConn struct {
	*stdlib.Conn
	ahead ahead // sent before the next statement
	each  ahead // sent before every statement
}

// ahead is SQL of n statements sent ahead of another statement.
type ahead struct {
	sql string
	n   int
}

// pending takes what goes ahead of the next statement, if anything.
func (c *pgConn) pending() ahead {
	if a := c.ahead; a.sql != "" {
		c.ahead = ahead{}
		return a
	}
	return c.each
}

// clear drops whatever was to go ahead: the work it belonged to is over.
func (c *pgConn) clear() { c.ahead, c.each = ahead{}, ahead{} }

// flush sends the statements due ahead on their own, for work that does
// not go through QueryContext or ExecContext (COPY, which a read never
// does).
func (c *pgConn) flush(ctx context.Context) error {
	if c.each.sql != "" {
		return errors.New("store: COPY in a read")
	}
	if a := c.pending(); a.sql != "" {
		if _, err := c.Conn.Conn().Exec(ctx, a.sql); err != nil {
			return err
		}
	}
	return nil
}

// ResetSession drops what a connection going back to the pool still had
// to send ahead: it belonged to work that is over.
func (c *pgConn) ResetSession(ctx context.Context) error {
	c.clear()
	return c.Conn.ResetSession(ctx)
}

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if a := c.pending(); a.sql != "" {
		// pgx runs a multi-statement text in one message in the simple
		// protocol (binding any arguments into the text itself) and
		// answers the last statement's command tag.
		query = a.sql + "; " + query
	}
	return c.Conn.ExecContext(ctx, query, args)
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	a := c.pending()
	if a.sql == "" {
		return c.Conn.QueryContext(ctx, query, args)
	}
	if len(args) > 0 {
		// bun writes its arguments into the text itself, and a tenant
		// transaction hands out only bun: a query with placeholders here
		// would need pgx to answer a later result than the first, which it
		// does not. Refuse rather than run it outside the tenant's scope.
		return nil, errors.New("store: a query with placeholders in a tenant transaction")
	}
	// The results of the statements ahead come first, then the query's. An
	// error in any statement ends the message there; a transaction that
	// began is left failed, for its owner to roll back.
	conn := c.Conn.Conn()
	mrr := conn.PgConn().Exec(ctx, a.sql+"; "+query)
	for range a.n {
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
	switch fd.DataTypeOID {
	case pgtype.BoolOID:
		return conv(m, fd, same[bool])
	case pgtype.ByteaOID, pgtype.JSONOID, pgtype.JSONBOID, pgtype.XMLOID:
		return conv(m, fd, same[[]byte])
	case pgtype.CIDOID, pgtype.OIDOID, pgtype.XIDOID:
		return conv(m, fd, func(d *pgtype.Uint32) (driver.Value, error) { return d.Value() })
	case pgtype.DateOID:
		return conv(m, fd, func(d *pgtype.Date) (driver.Value, error) { return d.Value() })
	case pgtype.Float4OID:
		return conv(m, fd, func(d *float32) (driver.Value, error) { return float64(*d), nil })
	case pgtype.Float8OID:
		return conv(m, fd, same[float64])
	case pgtype.Int2OID:
		return conv(m, fd, func(d *int16) (driver.Value, error) { return int64(*d), nil })
	case pgtype.Int4OID:
		return conv(m, fd, func(d *int32) (driver.Value, error) { return int64(*d), nil })
	case pgtype.Int8OID:
		return conv(m, fd, same[int64])
	case pgtype.TimestampOID:
		return conv(m, fd, func(d *pgtype.Timestamp) (driver.Value, error) { return d.Value() })
	case pgtype.TimestamptzOID:
		return conv(m, fd, func(d *pgtype.Timestamptz) (driver.Value, error) { return d.Value() })
	default:
		return conv(m, fd, same[string])
	}
}

// conv scans a column's values into a T, planned once, and gives out's
// driver.Value of it.
func conv[T any](m *pgtype.Map, fd pgconn.FieldDescription, out func(*T) (driver.Value, error)) func([]byte) (driver.Value, error) {
	var d T
	p := m.PlanScan(fd.DataTypeOID, fd.Format, &d)
	return func(src []byte) (driver.Value, error) {
		if err := p.Scan(src, &d); err != nil {
			return nil, err
		}
		return out(&d)
	}
}

func same[T any](d *T) (driver.Value, error) { return *d, nil }
