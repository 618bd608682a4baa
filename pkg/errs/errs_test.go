package errs

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/redis/go-redis/v9"
)

func TestKindOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want Kind
	}{
		{"nil", nil, KindInternal},
		{"plain", errors.New("boom"), KindInternal},
		{"not found", NotFound(), KindNotFound},
		{"wrapped app error", fmt.Errorf("load: %w", Forbidden()), KindForbidden},
		{"app error wins over its cause", New(KindConflict, "x", nil).WithCause(syscall.ECONNREFUSED), KindConflict},
		{"outage", fmt.Errorf("query: %w", driver.ErrBadConn), KindUnavailable},
		{"canceled", context.Canceled, KindInternal},
		{"validation", Validation(Field("name", "required", nil)), KindValidation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := KindOf(tt.err); got != tt.want {
				t.Errorf("KindOf = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCodes(t *testing.T) {
	tests := []struct {
		err      *Error
		code     string
		key      string
		contains string
	}{
		{NotFound(), "not_found", "not_found", "not_found"},
		{Unauthenticated(), "unauthenticated", "unauthenticated", "unauthenticated"},
		{New(KindConflict, "duplicate_phone", nil).WithCode("duplicate"), "duplicate", "duplicate_phone", "duplicate: duplicate_phone"},
		{New(KindRateLimited, "", nil), "rate_limited", "rate_limited", "rate_limited"},
		{Internal(errors.New("disk full")), "internal", "internal", "internal: disk full"},
		{Validation(Field("phone", "invalid_format", nil)), "validation_failed", "validation_failed", "[phone=invalid_format]"},
		{&Error{Kind: Kind(99)}, "internal", "internal", "internal"},
	}
	for _, tt := range tests {
		t.Run(tt.code+"/"+tt.key, func(t *testing.T) {
			if got := tt.err.MachineCode(); got != tt.code {
				t.Errorf("MachineCode = %q, want %q", got, tt.code)
			}
			if got := CodeOf(fmt.Errorf("wrapped: %w", tt.err)); got != tt.code {
				t.Errorf("CodeOf = %q, want %q", got, tt.code)
			}
			if got := tt.err.MessageKey(); got != tt.key {
				t.Errorf("MessageKey = %q, want %q", got, tt.key)
			}
			if got := tt.err.Error(); !strings.Contains(got, tt.contains) {
				t.Errorf("Error() = %q, want it to contain %q", got, tt.contains)
			}
		})
	}
}

func TestKindsAreDistinctAndNamed(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Kinds() {
		c := k.String()
		if c == "" || seen[c] {
			t.Errorf("kind %d: code %q empty or duplicate", k, c)
		}
		seen[c] = true
	}
	if len(seen) != int(KindUnavailable)+1 {
		t.Errorf("Kinds() has %d entries, want %d", len(seen), KindUnavailable+1)
	}
}

func TestValidationDropsZeroFields(t *testing.T) {
	e := Validation(Field("a", "required", nil), FieldError{}, Field("b", "too_long", map[string]any{"max": 3}))
	if len(e.Fields) != 2 || e.Fields[0].Field != "a" || e.Fields[1].Field != "b" {
		t.Fatalf("Fields = %+v", e.Fields)
	}
	if e.Kind != KindValidation || e.Key != "validation_failed" {
		t.Fatalf("got kind %v key %q", e.Kind, e.Key)
	}
}

func TestUnwrapAndData(t *testing.T) {
	cause := errors.New("unique violation")
	e := Conflict("duplicate_household", nil).WithCause(cause).WithData("existing_id", "abc")
	if !errors.Is(e, cause) {
		t.Error("errors.Is does not reach the cause")
	}
	if e.Data["existing_id"] != "abc" {
		t.Errorf("Data = %v", e.Data)
	}
}

// closedAddr returns a localhost address nobody listens on, so dials are
// refused quickly and deterministically.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// sqliteErrors returns real errors of SQLite: a write refused after the
// busy timeout because another connection holds the write lock, a unique
// violation, and a query on a closed pool.
func sqliteErrors(t *testing.T) (busy, unique, closed error) {
	t.Helper()
	dsn := "file:" + filepath.Join(t.TempDir(), "x.db") + "?_pragma=busy_timeout(50)&_txlock=immediate"
	holder, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = holder.Close() }()
	if _, err := holder.Exec("CREATE TABLE t (x INTEGER PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	_, unique = holder.Exec("INSERT INTO t VALUES (1), (1)")
	lock, err := holder.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lock.Rollback() }()
	if _, err := lock.Exec("INSERT INTO t VALUES (2)"); err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	_, busy = other.Exec("INSERT INTO t VALUES (3)")
	_ = other.Close()
	_, closed = other.Exec("INSERT INTO t VALUES (4)")
	if busy == nil || unique == nil || closed == nil {
		t.Fatalf("sqlite errors: busy %v, unique %v, closed %v", busy, unique, closed)
	}
	return busy, unique, closed
}

func TestIsUnavailable(t *testing.T) {
	addr := closedAddr(t)
	liteBusy, liteUnique, poolClosed := sqliteErrors(t)
	_, dialErr := net.DialTimeout("tcp", addr, 2*time.Second)
	if dialErr == nil {
		t.Fatal("dial to a closed port succeeded")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, pgErr := pgconn.Connect(ctx, "postgres://u@"+addr+"/db?sslmode=disable&connect_timeout=2")
	if pgErr == nil {
		t.Fatal("pgconn connected to a closed port")
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 2 * time.Second})
	defer func() { _ = rdb.Close() }()
	redisErr := rdb.Ping(ctx).Err()
	if redisErr == nil {
		t.Fatal("redis ping to a closed port succeeded")
	}

	canceledDial := func() error {
		c, cancel := context.WithCancel(context.Background())
		cancel()
		var d net.Dialer
		_, err := d.DialContext(c, "tcp", addr)
		return err
	}()
	if canceledDial == nil {
		t.Fatal("dial with a cancelled context succeeded")
	}

	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain", errors.New("boom"), false},
		{"real dial to closed port", dialErr, true},
		{"wrapped dial", fmt.Errorf("connect db: %w", dialErr), true},
		{"pgconn connect error", pgErr, true},
		{"redis refused", redisErr, true},
		{"redis pool timeout", fmt.Errorf("get: %w", redis.ErrPoolTimeout), true},
		{"redis refused flattened to text", fmt.Errorf("asynq: dial tcp %s: connect: connection refused", addr), true},
		{"econnrefused", syscall.ECONNREFUSED, true},
		{"econnreset in os error", &os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET}, true},
		{"epipe", fmt.Errorf("write: %w", syscall.EPIPE), true},
		{"driver bad conn", driver.ErrBadConn, true},
		{"sql conn done", sql.ErrConnDone, true},
		{"unexpected eof", io.ErrUnexpectedEOF, true},
		{"context canceled", context.Canceled, false},
		{"wrapped context canceled", fmt.Errorf("query: %w", context.Canceled), false},
		{"dial canceled by context", canceledDial, false},
		{"no rows is not an outage", sql.ErrNoRows, false},
		{"plain EOF is not an outage", io.EOF, false},
		{"backend terminated (restart)", fmt.Errorf("list: %w", &pgconn.PgError{Severity: "FATAL", Code: "57P01"}), true},
		{"crash shutdown", &pgconn.PgError{Severity: "FATAL", Code: "57P02"}, true},
		{"server starting up", &pgconn.PgError{Severity: "FATAL", Code: "57P03"}, true},
		{"connection failure", &pgconn.PgError{Severity: "FATAL", Code: "08006"}, true},
		{"unique violation is not an outage", &pgconn.PgError{Code: "23505"}, false},
		{"syntax error is not an outage", &pgconn.PgError{Code: "42601"}, false},
		{"too many connections", &pgconn.PgError{Severity: "FATAL", Code: "53300"}, true},
		{"insufficient resources", &pgconn.PgError{Severity: "FATAL", Code: "53000"}, true},
		{"disk full is not an outage to wait out", &pgconn.PgError{Code: "53100"}, false},
		{"sqlite busy past the timeout", fmt.Errorf("import batch: %w", liteBusy), true},
		{"sqlite unique violation is not an outage", liteUnique, false},
		{"pool closed under the caller", poolClosed, true},
		{"pgconn's closed connection", errors.New("failed to deallocate cached statement(s): conn closed"), true},
		{"reset flattened to text", errors.New("read tcp 10.0.0.1:5432: connection reset by peer"), true},
		{"statement cancelled (statement_timeout)", fmt.Errorf("list: %w", &pgconn.PgError{Severity: "ERROR", Code: "57014"}), true},
		{"lock not available is not an outage", &pgconn.PgError{Code: "55P03"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsUnavailable(tt.err); got != tt.want {
				t.Errorf("IsUnavailable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
