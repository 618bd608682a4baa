package care

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/orgs"
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

// community is what the care list needs of the tenant's org: its zone
// (for "today") and its rules (the care tags, the overdue days).
type community struct {
	loc      *time.Location
	settings orgs.Settings
}

// day is the community's local date of t.
func (c community) day(t time.Time) string { return t.In(c.loc).Format(time.DateOnly) }

// community loads the tenant's zone and settings in tx. orgs is a platform
// table (no tenant_id), so the read is unscoped and names the tenant's own
// row by id.
func (s *Service) community(ctx context.Context, tx *store.TenantTx) (community, error) {
	var row struct {
		Timezone string          `bun:"timezone"`
		Settings json.RawMessage `bun:"settings"`
	}
	if err := tx.Unscoped().NewSelect().Table("orgs").Column("timezone", "settings").
		Where("id = ?", tx.Tenant()).Scan(ctx, &row); err != nil {
		return community{}, fmt.Errorf("load community settings: %w", err)
	}
	c := community{loc: time.UTC, settings: orgs.DefaultSettings()}
	if loc, err := time.LoadLocation(row.Timezone); err == nil {
		c.loc = loc
	}
	if len(row.Settings) > 0 {
		if err := json.Unmarshal(row.Settings, &c.settings); err != nil {
			return community{}, fmt.Errorf("read community settings: %w", err)
		}
	}
	return c, nil
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
