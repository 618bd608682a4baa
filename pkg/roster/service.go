package roster

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/queue"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// Service is the roster's plain-Go door; HTTP handlers and tasks call it.
type Service struct {
	DB     *store.DB
	Frame  *scope.Frame // nil: one of its own over DB
	Queue  queue.Enqueuer
	Reads  scope.ReadRecorder // nil: reads are written to the audit log at once (scope.RecordRead)
	Logger *slog.Logger       // nil: nothing is logged
	Now    func() time.Time
	// Households hears of households added or moved, in the transaction
	// that saved them (screening adds them to its open campaigns).
	Households HouseholdHook

	frameOnce sync.Once
}

// frame is the scope every operation runs in: the shared one the app
// wires, or (tests, tools) one over the service's database.
func (s *Service) frame() *scope.Frame {
	s.frameOnce.Do(func() {
		if s.Frame == nil {
			s.Frame = scope.New(s.DB)
		}
	})
	return s.Frame
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// notFound is the answer for another tenant's record, another grid's
// record and a record that never was: the caller cannot tell them apart.
func notFound() error { return errs.New(errs.KindNotFound, "not_found", nil) }

// conflict is the 409 for a record that already exists. It names the
// existing record (so a form can link to it) only when the caller may see
// that record's grid; to a grid worker, a record of another grid is just a
// conflict, as a record of another community is nothing at all.
func conflict(key string, args map[string]any, g *scope.Grids, gridID, id string) error {
	e := errs.New(errs.KindConflict, key, args)
	if g.May(gridID) {
		e = e.WithData("existing_id", id)
	}
	return e
}

// HouseholdHook is told, inside the roster's transaction, which households
// were added or changed; an error rolls the change back.
type HouseholdHook interface {
	HouseholdsChanged(ctx context.Context, tx *store.TenantTx, ids []string) error
}

// householdsChanged tells the hook, if any.
func (s *Service) householdsChanged(ctx context.Context, tx *store.TenantTx, ids ...string) error {
	if s.Households == nil || len(ids) == 0 {
		return nil
	}
	return s.Households.HouseholdsChanged(ctx, tx, ids)
}

// auditRead records that the caller saw one record with personal data
// (scope.RecordRead: masked or not; without a recorder, written at once).
func (s *Service) auditRead(ctx context.Context, resource, id string) error {
	return scope.RecordRead(ctx, s.Reads, s.DB, scope.Seen{Resource: resource, ID: id})
}

// auditList records a page of a listing: which records were returned (by
// id, never their personal values), the search that found them (masked)
// and the filters.
func (s *Service) auditList(ctx context.Context, resource string, ids []string, f Filter) error {
	return scope.RecordRead(ctx, s.Reads, s.DB, scope.Seen{Resource: resource, IDs: ids, Search: f.Q,
		Filters: map[string]any{"grid": f.Grid, "tag": f.Tag, "household_id": f.HouseholdID, "building_id": f.BuildingID}})
}

// looksLikeNumber tells a search for a phone or ID number (digits, with an
// ID number's final X) from a search for a name.
func looksLikeNumber(q string) bool {
	digits := 0
	for _, r := range q {
		switch {
		case r >= '0' && r <= '9', r >= '０' && r <= '９':
			digits++
		case r == 'x' || r == 'X' || r == ' ' || r == '-' || r == '+':
		default:
			return false
		}
	}
	return digits >= 3
}

// Filter narrows a listing.
type Filter struct {
	Grid        string
	Q           string
	Tag         string
	HouseholdID string
	BuildingID  string
	Limit       int
	Cursor      string
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
