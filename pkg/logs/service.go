package logs

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// Service is the logs' plain-Go door; HTTP handlers, the console, outreach
// (LogGroupPost) and the daily report call it.
type Service struct {
	DB    *store.DB
	Frame *scope.Frame
	Now   func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// zone is the community's time zone, for "today" and a round's day.
func zone(ctx context.Context, tx *store.TenantTx) (*time.Location, error) {
	c, err := orgs.CommunityOf(ctx, tx)
	return c.Loc, err
}

// day is t's local date in loc.
func day(loc *time.Location, t time.Time) string { return t.In(loc).Format(time.DateOnly) }

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
	*fe = append(*fe, errs.Field(field, "one_of", map[string]any{"allowed": strings.Join(allowed, ", ")}))
}

// text checks a free-text field's length.
func text(fe *[]errs.FieldError, field, v string, max int) {
	if n := len([]rune(v)); n > max {
		*fe = append(*fe, errs.Field(field, "too_long", map[string]any{"max": max}))
	}
}

// pageSize is a page's length: the API's default when a Go caller (the
// console) names none.
func pageSize(n int) int {
	if n <= 0 {
		return 50
	}
	return n
}

// Filter narrows a log: the days from and to (inclusive), one grid, and
// (publicity) one kind.
type Filter struct {
	Grid   string
	Kind   string // publicity
	From   string
	To     string
	Limit  int
	Cursor string
}
