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
)

// IsUnavailable reports whether err means a dependency (database, Redis, a
// provider) could not be reached, as opposed to a bug. Such errors become 503
// so that clients and load balancers retry instead of reporting a defect.
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
	// a server still starting or recovering (57P03), or a connection
	// exception (class 08). A statement cancelled (57014) is the database
	// not answering in time: statement_timeout (store.Options), or an
	// operator cancelling it. It is not the caller going away: pgx answers
	// a cancelled context by closing the connection, an error that wraps
	// the context's (above), never with 57014.
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "57P01", "57P02", "57P03", "57014":
			return true
		}
		return strings.HasPrefix(pgErr.Code, "08")
	}
	// Some layers (go-redis retries, asynq) flatten the dial error into a
	// string, losing the *net.OpError; the text is all that is left.
	return strings.Contains(err.Error(), "connection refused")
}
