package errs

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/redis/go-redis/v9"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// IsUnavailable reports whether err means a dependency (database, Redis, a
// provider) could not be worked with for now, as opposed to a bug or a
// fault of the data. It is the one notion of "down" in the house: the API
// answers such errors with 503, so that clients and load balancers retry,
// and work that must not fail for it (an import) waits with queue.Later.
//
// Down are: the server unreachable (refused, reset, a broken pipe, a dial
// that failed, a connection that went bad or ended mid-message), the
// database's pool closed under the caller, PostgreSQL ending the session
// or refusing it (57P01–57P03, class 08, too many connections or
// resources: 53300, 53000), SQLite's write lock held by another
// connection past the busy timeout, and Redis's pool exhausted.
//
// A cancelled context is never an outage: it is the caller going away, and
// counting it would page someone for every closed browser tab.
func IsUnavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	for _, target := range []error{
		syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.EPIPE,
		driver.ErrBadConn, sql.ErrConnDone, io.ErrUnexpectedEOF,
		redis.ErrPoolTimeout,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return true
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return true
	}
	// On a connection already open, PostgreSQL going away is an error of
	// its own: its backend ended by a shutdown or restart (57P01, 57P02),
	// a server still starting or recovering (57P03), no connection slot or
	// resources left for it (53300, 53000), or a connection exception
	// (class 08). A statement cancelled (57014) is the database not
	// answering in time: statement_timeout (store.Options), or an operator
	// cancelling it. It is not the caller going away: pgx answers a
	// cancelled context by closing the connection, an error that wraps the
	// context's (above), never with 57014.
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "57P01", "57P02", "57P03", "57014", "53300", "53000":
			return true
		}
		return strings.HasPrefix(pgErr.Code, "08")
	}
	// SQLite waits for another connection's write lock up to the busy
	// timeout (store sets ten seconds) and answers SQLITE_BUSY after it:
	// a backup, a long migration or another process holds the file. Not
	// SQLITE_LOCKED: without a shared cache it is a conflict within one
	// connection, a bug that waiting does not cure.
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		return liteErr.Code()&0xff == sqlite3.SQLITE_BUSY
	}
	// The rest is known by its text only: database/sql's closed pool
	// ("sql: database is closed", an unexported error), pgconn's closed
	// connection ("conn closed"), and the dial errors that some layers
	// (go-redis retries, asynq) flatten into a string, losing the
	// *net.OpError.
	msg := err.Error()
	for _, s := range []string{"sql: database is closed", "conn closed", "connection refused", "connection reset by peer"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
