package care

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// Service is the care list's plain-Go door; HTTP handlers and the console
// call it.
type Service struct {
	DB    *store.DB
	Frame *scope.Frame
	Reads scope.ReadRecorder // nil: reads are written to the audit log at once (scope.RecordRead)
	Now   func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// notFound is the answer for another community's resident, another grid's
// and one that never was: the caller cannot tell them apart.
func notFound() error { return errs.NotFound() }

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
