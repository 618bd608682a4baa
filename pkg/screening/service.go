package screening

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// Service is screening's plain-Go door; HTTP handlers, the console and the
// daily report call it.
type Service struct {
	DB     *store.DB
	Frame  *scope.Frame
	Reads  scope.ReadRecorder // nil: reads are written to the audit log at once (scope.RecordRead)
	Logger *slog.Logger
	Now    func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// attemptsFrom is the condition "a, an attempt, is of a local day from
// from to to", bounded by id too: an attempt's id is made at its instant
// (store.NewIDAt), so those days' attempts lie between store.DayIDs(from)'s
// start and store.DayIDs(to)'s end, and PostgreSQL scans only the month
// partitions of that range instead of every month's (the rows are the
// same either way). It returns the SQL, with ? for its arguments, and the
// arguments. Days that are not dates get no bound.
func attemptsFrom(from, to string) (string, []any) {
	lo, _, err1 := store.DayIDs(from)
	_, hi, err2 := store.DayIDs(to)
	if from == to {
		if err1 != nil {
			return "a.local_date = ?", []any{from}
		}
		return "a.local_date = ? AND a.id >= ? AND a.id < ?", []any{from, lo, hi}
	}
	if err1 != nil || err2 != nil {
		return "a.local_date >= ? AND a.local_date <= ?", []any{from, to}
	}
	return "a.local_date >= ? AND a.local_date <= ? AND a.id >= ? AND a.id < ?", []any{from, to, lo, hi}
}

// notFound is the answer for another community's record, another grid's
// record and a record that never was: the caller cannot tell them apart.
func notFound() error { return errs.New(errs.KindNotFound, "not_found", nil) }

// zone is the community's time zone as the caller's org knows it, without
// a query; reads that only need "today" use it.
func zone(ctx context.Context) *time.Location {
	if c, ok := authz.CallerFrom(ctx); ok && c.Org != nil {
		if loc, err := time.LoadLocation(c.Org.Timezone); err == nil {
			return loc
		}
	}
	if loc, err := time.LoadLocation(orgs.DefaultTimezone); err == nil {
		return loc
	}
	return time.UTC
}

// actor is who records: the caller's user id and the name shown beside
// what they recorded (the display name their colleagues know, else the
// username).
func actor(ctx context.Context) (id, name string) {
	c, _ := authz.CallerFrom(ctx)
	if c.UserID == "" {
		return "system", "system"
	}
	if c.Name != "" {
		return c.UserID, c.Name
	}
	return c.UserID, c.Username
}

// parseDate reads a local date; "" stays "".
func parseDate(fe *[]errs.FieldError, field, v string) (string, bool) {
	if v == "" {
		return "", true
	}
	if _, err := time.Parse(time.DateOnly, v); err != nil {
		*fe = append(*fe, errs.Field(field, "invalid_date", nil))
		return "", false
	}
	return v, true
}

// oneOf checks an enumerated field.
func oneOf(fe *[]errs.FieldError, field, v string, allowed ...string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	if v == "" {
		*fe = append(*fe, errs.Field(field, "required", nil))
		return
	}
	*fe = append(*fe, errs.Field(field, "one_of", map[string]any{"allowed": joinList(allowed)}))
}

func joinList(xs []string) string {
	out := ""
	for i, x := range xs {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}

// text checks a free-text field's length.
func text(fe *[]errs.FieldError, field, v string, max int) {
	if n := len([]rune(v)); n > max {
		*fe = append(*fe, errs.Field(field, "too_long", map[string]any{"max": max}))
	}
}

// Filter narrows a list.
type Filter struct {
	Screening string // tasks: the campaign
	Status    string
	Grid      string
	List      string // tasks: "" (all), "call" or "door"
	Kind      string // publicity
	From      string
	To        string
	Limit     int
	Cursor    string
	// Peek (NextTask): show the head of the list without holding it, for
	// a reader who may not record attempts (an official looking on), so
	// the workers' lists and counts do not move under them.
	Peek bool
}
