// Package directives is the tree's instructions downwards (通知): an office
// above the communities (a sub-district or a district) sends a directive
// to some or all of the communities below it; each community's admins and
// staff read it and acknowledge it; the office sees who has and who has
// not; and the admins of a community that has not are reminded by SMS the
// day before it is due.
//
// The office's row (directives) is a platform table, as the office is not
// a tenant; each target community's copy (directive_targets) is its own,
// under row security, read and acknowledged in its transaction. The
// office reads its communities' copies through store.AcrossTenants over
// the communities below it, never through a community's scope.
package directives

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// Service is the directives' plain-Go door; HTTP handlers, the console and
// the reminder sweep call it.
type Service struct {
	DB    *store.DB
	Frame *scope.Frame
	// Notify sends the reminders, in the transaction that marks them; nil
	// sends nothing.
	Notify Notifier
	Logger *slog.Logger
	Now    func() time.Time
}

// Notifier is outreach's door for one-off messages (outreach.Service):
// Notify writes them in the caller's transaction, NotifyTasks queues them
// after its commit.
type Notifier interface {
	Notify(ctx context.Context, tx *store.TenantTx, n ...outreach.Notice) (int, error)
	NotifyTasks(ctx context.Context, n ...outreach.Notice) error
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// caller is who acts and in which org.
func caller(ctx context.Context) (authz.Caller, *authz.Org) {
	c, _ := authz.CallerFrom(ctx)
	return c, c.Org
}

// actor is the caller's user id and the name shown beside what they did.
func actor(c authz.Caller) (id, name string) {
	if c.UserID == "" {
		return "system", "system"
	}
	if c.Name != "" {
		return c.UserID, c.Name
	}
	return c.UserID, c.Username
}

// location is an org's zone (orgs' default when it names none known).
func location(name string) *time.Location {
	if loc, err := time.LoadLocation(name); err == nil && name != "" {
		return loc
	}
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.UTC
	}
	return loc
}

// below reads the communities below the office at path. Orgs are a
// platform table: the read names the office's own path.
func below(ctx context.Context, db bun.IDB, path string) ([]Community, error) {
	var out []Community
	err := db.NewSelect().TableExpr("orgs").Column("id", "slug", "name").
		Where("kind = ? AND substr(path, 1, ?) = ? AND path <> ?", orgs.KindCommunity, len(path), path, path).
		OrderExpr("slug").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("communities below: %w", err)
	}
	return out, nil
}

// CommunitiesBelow lists the communities below the caller's office, for
// the form that chooses among them. In a community it is empty.
func (s *Service) CommunitiesBelow(ctx context.Context) ([]Community, error) {
	_, org := caller(ctx)
	if org == nil || org.IsCommunity() {
		return nil, nil
	}
	return below(ctx, s.DB, org.Path)
}

// orgName is an org's name (a platform table, read by its id).
func orgName(ctx context.Context, db bun.IDB, id string) (string, error) {
	var name string
	if err := db.NewSelect().TableExpr("orgs").Column("name").Where("id = ?", id).Scan(ctx, &name); err != nil {
		return "", fmt.Errorf("org name: %w", err)
	}
	return name, nil
}

func ids(cs []Community) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

// Today is org's calendar date now: the earliest due date it may set.
func (s *Service) Today(org *authz.Org) string {
	if org == nil {
		return s.now().Format(time.DateOnly)
	}
	return s.now().In(location(org.Timezone)).Format(time.DateOnly)
}
