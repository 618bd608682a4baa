package isolation

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/seal"
	"github.com/wanjia/wanjia/pkg/store"
)

// Service is isolation's plain-Go door; HTTP handlers, the console and the
// daily report call it.
type Service struct {
	DB    *store.DB
	Frame *scope.Frame
	Reads scope.ReadRecorder // nil: reads are written to the audit log at once (scope.RecordRead)
	// Notify sends the resident's link, release notices and alerts, in the
	// transaction that decides them; nil sends nothing.
	Notify Notifier
	// Links seals the residents' link tokens, so reminders can render a
	// link again while only its hash is searchable.
	Links *seal.Box
	// BaseURL is WANJIA_BASE_URL: links are {BaseURL}/r/{token}.
	BaseURL string
	Logger  *slog.Logger
	Now     func() time.Time
}

// Notifier is outreach's door for one-off messages: Notify writes them to
// the outbox in the caller's transaction (a notice goes if and only if
// what it tells of commits; a key the community already has sends
// nothing), NotifyTasks queues them once that transaction has committed
// (what it cannot queue, the reconciler does), MessagesAbout lists a
// case's messages. Keys: "link:<case>", "release:<case>",
// "alert:<alert>:<phone>".
type Notifier interface {
	Notify(ctx context.Context, tx *store.TenantTx, n ...outreach.Notice) (int, error)
	NotifyTasks(ctx context.Context, n ...outreach.Notice) error
	MessagesAbout(ctx context.Context, subject string) ([]outreach.NoticeView, error)
}

// pending collects the notices an operation's transaction wrote, to be
// queued after its commit.
type pending struct{ notices []outreach.Notice }

type pendingKey struct{}

// collect returns ctx carrying a fresh collector.
func collect(ctx context.Context) (context.Context, *pending) {
	p := &pending{}
	return context.WithValue(ctx, pendingKey{}, p), p
}

// notify writes notices in tx (s.Notify, nil-safe) and remembers them for
// flush.
func (s *Service) notify(ctx context.Context, tx *store.TenantTx, n ...outreach.Notice) error {
	if s.Notify == nil || len(n) == 0 {
		return nil
	}
	if _, err := s.Notify.Notify(ctx, tx, n...); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	if p, ok := ctx.Value(pendingKey{}).(*pending); ok {
		p.notices = append(p.notices, n...)
	}
	return nil
}

// flush queues what p collected, after the commit; a failure leaves the
// rows to outreach's reconciler, so it is logged, not returned.
func (s *Service) flush(ctx context.Context, p *pending) {
	if s.Notify == nil || len(p.notices) == 0 {
		return
	}
	if err := s.Notify.NotifyTasks(ctx, p.notices...); err != nil && s.Logger != nil {
		s.Logger.Warn("isolation: notices written but not queued; the reconciler will queue them", "err", err)
	}
}

// subject names a case's messages in the outbox.
func subject(caseID string) string { return "isolation:" + caseID }

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// checkinsOn is the condition "k, a check-in, is of local day day",
// bounded by id too: a check-in's id is made at its instant (store.NewIDAt),
// so its day's check-ins lie in store.DayIDs(day), and PostgreSQL scans
// only the month partitions of that range instead of every month's (the
// day's own rows are the same either way). It returns the SQL, with ? for
// its arguments, and the arguments. A day that is not a date gets no bound
// (it matches nothing anyway).
func checkinsOn(day string) (string, []any) {
	lo, hi, err := store.DayIDs(day)
	if err != nil {
		return "k.local_date = ?", []any{day}
	}
	return "k.local_date = ? AND k.id >= ? AND k.id < ?", []any{day, lo, hi}
}

// notFound is the answer for another community's record, another grid's
// record and a record that never was: the caller cannot tell them apart.
func notFound() error { return errs.NotFound() }

// actor is who acts: the caller's user id and the name shown beside what
// they recorded.
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
func oneOf(fe *[]errs.FieldError, field, v string, allowed ...string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	if v == "" {
		*fe = append(*fe, errs.Field(field, "required", nil))
		return false
	}
	*fe = append(*fe, errs.Field(field, "one_of", map[string]any{"allowed": strings.Join(allowed, ", ")}))
	return false
}

// text trims a free-text field and checks its length.
func text(fe *[]errs.FieldError, field string, v *string, max int) {
	*v = strings.TrimSpace(*v)
	if n := len([]rune(*v)); n > max {
		*fe = append(*fe, errs.Field(field, "too_long", map[string]any{"max": max}))
	}
}

// Filter narrows a list.
type Filter struct {
	Status  string
	Kind    string
	Grid    string
	Overdue bool
	Limit   int
	Cursor  string
}

// residentRow is the resident a case or a request is about, with what the
// views show of them.
type residentRow struct {
	ID          string `bun:"id"`
	HouseholdID string `bun:"household_id"`
	GridID      string `bun:"grid_id"`
	Name        string `bun:"name"`
	Phone       string `bun:"phone"`
	Address     string `bun:"address"`
}

// resident loads a live resident the caller may work on; anything else
// (another community's, another grid's, removed, never was) is the same
// 422 on field.
func resident(ctx context.Context, tx *store.TenantTx, g *scope.Grids, field, id string) (*residentRow, error) {
	var r residentRow
	if id == "" {
		return nil, errs.Validation(errs.Field(field, "required", nil))
	}
	err := tx.SelectAs("residents", "r").ColumnExpr("r.id, r.household_id, r.grid_id, r.name, r.phone, h.address").
		Join("JOIN households AS h ON h.tenant_id = r.tenant_id AND h.id = r.household_id").
		Where("r.id = ? AND r.deleted_at IS NULL AND h.deleted_at IS NULL", id).Scan(ctx, &r)
	if err != nil || !g.May(r.GridID) {
		if err != nil && !isNoRows(err) {
			return nil, fmt.Errorf("load resident: %w", err)
		}
		return nil, errs.Validation(errs.Field(field, "unknown_resident", nil))
	}
	return &r, nil
}

// tenths formats a temperature kept in tenths of a degree.
func tenths(t int) float64 { return float64(t) / 10 }
