package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// pgConnector hands out pgx's database/sql connections as pgConns.
type pgConnector struct {
	driver.Connector
	end time.Duration // deadline of a COMMIT or ROLLBACK
}

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
	return &pgConn{Conn: sc, end: c.end}, nil
}

// pgConn is pgx's database/sql connection with its transactions' ends
// and beginnings made here, everything else unchanged:
//
//   - a transaction begins with one message, "BEGIN [READ ONLY]" and the
//     settings its context carries (a tenant transaction's tenant), sent
//     through pgx's own simple-protocol path, which binds the values and
//     refuses to when the session's quoting is not the one it escapes for.
//     Its statements then go through database/sql and pgx unchanged, so a
//     statement that fails leaves PostgreSQL's transaction failed, and
//     nothing after it runs until the rollback. A connection that turns out
//     dead when the opening is sent (its backend ended by a restart) is
//     reported as driver.ErrBadConn, so database/sql retries the opening
//     on another connection: nothing of it ran.
//   - COMMIT and ROLLBACK are sent with a deadline of their own (pgx's
//     database/sql transaction has none), whatever became of the request's
//     context: a cancellation landing in flight would cut the connection
//     after the server committed.
type pgConn struct {
	*stdlib.Conn
	end time.Duration
}

// sessionSettings are the runtime parameters every connection is opened
// with, and checkSession what each must report back.
//
// standard_conforming_strings: bun renders every value into the SQL text
// and quotes it for "on" (a backslash is an ordinary character). With it
// off, which an operator can set per database or role, a value holding a
// backslash and a quote ends its literal early, and what follows runs as
// SQL. The startup parameter overrides such defaults; the check catches a
// server or pooler that does not pass it on, and a session that turns it
// off.
var sessionSettings = [...]struct{ name, value string }{
	{"standard_conforming_strings", "on"},
	{"client_encoding", "UTF8"},
}

// checkSession runs before every transaction and every statement of a
// read, so it walks a fixed array rather than a map built per call.
func checkSession(pc *pgconn.PgConn) error {
	for _, s := range sessionSettings {
		if got := pc.ParameterStatus(s.name); got != s.value {
			return &SessionError{Name: s.name, Got: got, Want: s.value}
		}
	}
	return nil
}

// SessionError is a connection whose session runs with a setting wanjia
// cannot work under. Open refuses to start on it.
type SessionError struct{ Name, Got, Want string }

func (e *SessionError) Error() string {
	return fmt.Sprintf("the PostgreSQL session runs with %s=%q, and wanjia quotes SQL values for %s=%s only "+
		"(set it back with ALTER DATABASE or ALTER ROLE … SET %s = %s, or have the connection pooler pass it on)",
		e.Name, e.Got, e.Name, e.Want, e.Name, e.Want)
}

// ResetSession refuses to hand out again a connection whose session has
// turned its quoting off (SET standard_conforming_strings): the pool
// replaces it.
func (c *pgConn) ResetSession(ctx context.Context) error {
	if err := checkSession(c.Conn.Conn().PgConn()); err != nil {
		return driver.ErrBadConn
	}
	return c.Conn.ResetSession(ctx)
}

// txSettings are the settings, local to the transaction, that a context
// asks its next transaction to begin with, and what that transaction ran
// on (for COPY, a protocol of its own).
type txSettings struct {
	pairs []string // name, value, name, value …
	conn  *pgConn
}

type txSettingsKey struct{}

// withTxSettings returns ctx asking the transaction begun with it to set
// pairs (name, value, …) locally in its opening message.
func withTxSettings(ctx context.Context, pairs ...string) (context.Context, *txSettings) {
	s := &txSettings{pairs: pairs}
	return context.WithValue(ctx, txSettingsKey{}, s), s
}

func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	conn := c.Conn.Conn()
	if conn.IsClosed() {
		return nil, driver.ErrBadConn
	}
	if err := checkSession(conn.PgConn()); err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString("BEGIN")
	switch sql.IsolationLevel(opts.Isolation) {
	case sql.LevelDefault:
	case sql.LevelReadUncommitted:
		b.WriteString(" ISOLATION LEVEL READ UNCOMMITTED")
	case sql.LevelReadCommitted:
		b.WriteString(" ISOLATION LEVEL READ COMMITTED")
	case sql.LevelRepeatableRead, sql.LevelSnapshot:
		b.WriteString(" ISOLATION LEVEL REPEATABLE READ")
	case sql.LevelSerializable:
		b.WriteString(" ISOLATION LEVEL SERIALIZABLE")
	default:
		return nil, fmt.Errorf("store: unsupported isolation level %v", opts.Isolation)
	}
	if opts.ReadOnly {
		b.WriteString(" READ ONLY")
	}
	var args []any
	if s, ok := ctx.Value(txSettingsKey{}).(*txSettings); ok && len(s.pairs) > 0 {
		b.WriteString("; SELECT ")
		for i := 0; i+1 < len(s.pairs); i += 2 {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "set_config($%d, $%d, true)", i+1, i+2)
			args = append(args, s.pairs[i], s.pairs[i+1])
		}
		s.conn = c
	}
	if _, err := conn.Exec(ctx, b.String(), args...); err != nil {
		if conn.IsClosed() || pgconn.SafeToRetry(err) {
			// Nothing of the opening took effect: another connection may
			// run it (database/sql retries on ErrBadConn), and the error
			// says why this one could not.
			return nil, errors.Join(driver.ErrBadConn, err)
		}
		if conn.PgConn().TxStatus() != txIdle {
			_ = c.finish("ROLLBACK")
		}
		return nil, err
	}
	return pgTx{c}, nil
}

// txIdle is the transaction status of a connection outside any
// transaction, as the server last reported it.
const txIdle = 'I'

// pgTx ends its transaction with a deadline of its own.
type pgTx struct{ c *pgConn }

func (t pgTx) Commit() error {
	// COMMIT of a transaction a statement aborted answers ROLLBACK, not an
	// error: read the command tag, so a swallowed failure is not success.
	tag, err := t.c.endTx("COMMIT")
	if err == nil && tag != "COMMIT" {
		err = errors.New("the transaction was aborted and rolled back")
	}
	return err
}

func (t pgTx) Rollback() error { return t.c.finish("ROLLBACK") }

func (c *pgConn) finish(sql string) error {
	_, err := c.endTx(sql)
	return err
}

// endTx sends a transaction's end under its deadline. When the deadline
// passes, pgx cancels the statement and closes the connection, which the
// pool then discards.
func (c *pgConn) endTx(sql string) (string, error) {
	conn := c.Conn.Conn()
	if conn.IsClosed() {
		return "", driver.ErrBadConn
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.end)
	defer cancel()
	tag, err := conn.Exec(ctx, sql)
	if err != nil {
		return "", fmt.Errorf("%s: %w", strings.ToLower(sql), err)
	}
	return tag.String(), nil
}

// shouldPing decides whether database/sql's pool checks a connection
// before handing it out again. A transaction's opening needs no ping (on a
// dead connection it is retried elsewhere, above), so a busy pool pays
// none; a connection that sat idle for long is checked, as a restart of
// the server or a firewall may have ended it meanwhile.
func shouldPing(_ context.Context, p stdlib.ShouldPingParams) bool {
	return p.IdleDuration > 30*time.Second
}
