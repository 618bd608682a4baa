// Package audit is the append-only log of every change and every read of
// personal data: who (user, role), where (org), what (action, resource, id),
// from where (IP, request id) and when. Entries are written in the same
// transaction as the change they describe, so a change is never without
// its entry and an entry never without its change.
package audit

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/store"
)

// Entry is one audit record.
type Entry struct {
	bun.BaseModel `bun:"table:audit_log"`
	ID            string         `bun:"id,pk" json:"id"`
	OrgPath       string         `bun:"org_path" json:"-"`
	At            time.Time      `bun:"at" json:"at"`
	ActorID       string         `bun:"actor_id" json:"actor_id"`
	Actor         string         `bun:"actor" json:"actor"`
	Role          string         `bun:"role" json:"role"`
	Org           string         `bun:"org" json:"org"`
	Action        string         `bun:"action" json:"action"`
	Resource      string         `bun:"resource" json:"resource"`
	ResourceID    string         `bun:"resource_id" json:"resource_id"`
	IP            string         `bun:"ip" json:"ip"`
	RequestID     string         `bun:"request_id" json:"request_id"`
	Details       map[string]any `bun:"details" json:"details,omitempty"`
	// IDs are the ids of the records a read returned, packed (packIDs);
	// List gives them back in Details["ids"].
	IDs []byte `bun:"ids" json:"-"`
}

// Actions.
const (
	ActionCreate = "create"
	ActionUpdate = "update"
	ActionDelete = "delete"
	ActionView   = "view"   // an unmasked read of personal data
	ActionExport = "export" // personal data leaving the system as a file
	ActionLogin  = "login"
	// ActionLoginFailed is a refused sign-in: a wrong password, an unknown
	// or disabled user, or a throttled attempt, told apart by nothing but
	// the attempted name, so the log cannot be used to find accounts.
	ActionLoginFailed = "login_failed"
)

// Actor is who acts, and in which org; the HTTP layer or a task puts it in
// the context.
type Actor struct {
	UserID   string
	Username string
	Role     string
	Org      string // slug; "" for the platform
	OrgPath  string
	IP       string
	Request  string
}

type actorKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// InOrg returns ctx whose actor acts in the org with slug and path. Code
// that changes an org other than the request's (the platform admin creating
// a community, a tenants apply run by the system) files its entries there,
// so the org's own log shows them.
func InOrg(ctx context.Context, slug, path string) context.Context {
	a := ActorFrom(ctx)
	a.Org, a.OrgPath = slug, path
	return WithActor(ctx, a)
}

// ActorFrom returns the actor in ctx; a task with no user is "system".
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return Actor{UserID: "system", Username: "system", Role: "system", OrgPath: "/"}
}

// Writer is where entries are written: the transaction of the change being
// recorded (a bun.Tx, or a store.TenantTx), or the database for an event
// that changes nothing else (a sign-in).
type Writer interface {
	NewInsert() *bun.InsertQuery
}

// Record writes one entry through db, which should be the transaction of
// the change being recorded. details (which fields changed, never their
// personal values) is stored as JSON, with any number in it masked
// (MaskText).
func Record(ctx context.Context, db Writer, action, resource, resourceID string, details map[string]any) error {
	e := newEntry(ctx, action, resource, resourceID, details)
	if _, err := db.NewInsert().Model(&e).Exec(ctx); err != nil {
		return fmt.Errorf("audit %s %s: %w", action, resource, err)
	}
	return nil
}

// Filter narrows a listing.
type Filter struct {
	OrgPath string // the org and everything below it
	// Paths are the paths of the orgs at and below OrgPath, when the
	// caller knows them (authz does): each is then read through its own
	// index scan, newest first, and the scans merged, so a page costs a
	// page's worth of index entries per org rather than a sort of the
	// whole subtree's log.
	Paths    []string
	Actor    string
	Action   string
	From, To time.Time
	Limit    int
	Cursor   string // id of the last entry of the previous page
}

// idSlack is how far an entry's id time may be from its at: both are
// taken in newEntry, microseconds apart, and a UUIDv7 generator may run a
// little ahead to stay monotonic.
const idSlack = time.Second

// narrow applies the filter's conditions but the org's.
func (f Filter) narrow(q *bun.SelectQuery) *bun.SelectQuery {
	if f.Actor != "" {
		q = q.Where("actor = ?", f.Actor)
	}
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	// ids are UUIDv7: ordered by time, so they page like timestamps, and a
	// date range is also an id range, which the (org_path, …, id) indexes
	// serve; the at conditions stay exact.
	if !f.From.IsZero() {
		q = q.Where("at >= ?", f.From.UTC()).Where("id >= ?", store.UUID7Floor(f.From.Add(-idSlack)))
	}
	if !f.To.IsZero() {
		q = q.Where("at < ?", f.To.UTC()).Where("id < ?", store.UUID7Floor(f.To.Add(idSlack)))
	}
	if f.Cursor != "" {
		q = q.Where("id < ?", f.Cursor)
	}
	return q.Order("id DESC").Limit(int64(f.Limit) + 1)
}

// List returns entries newest first, and the cursor of the next page.
// Details are masked as they are on the way in (MaskText), so a row
// written before that rule shows no more than a new one.
func List(ctx context.Context, db bun.IDB, f Filter) ([]Entry, string, error) {
	var paths []string
	for _, p := range f.Paths {
		if strings.HasPrefix(p, f.OrgPath) {
			paths = append(paths, p)
		}
	}
	var out []Entry
	var err error
	switch {
	case len(f.Paths) > 0 && len(paths) == 0:
		return []Entry{}, "", nil
	case len(f.Paths) == 0:
		err = f.narrow(db.NewSelect().Model((*Entry)(nil)).Where("org_path LIKE ?", likePrefix(f.OrgPath))).Scan(ctx, &out)
	case len(paths) == 1:
		err = f.narrow(db.NewSelect().Model((*Entry)(nil)).Where("org_path = ?", paths[0])).Scan(ctx, &out)
	default:
		// A UNION's members may not have their own ORDER BY and LIMIT in
		// SQLite unless each is a sub-query of its own.
		var b strings.Builder
		args := make([]any, 0, len(paths)+1)
		b.WriteString("SELECT * FROM (")
		for i, p := range paths {
			if i > 0 {
				b.WriteString(" UNION ALL ")
			}
			b.WriteString("SELECT * FROM (?) AS p")
			args = append(args, f.narrow(db.NewSelect().Model((*Entry)(nil)).Where("org_path = ?", p)))
		}
		b.WriteString(") AS u ORDER BY id DESC LIMIT ?")
		args = append(args, f.Limit+1)
		err = db.NewRaw(b.String(), args...).Scan(ctx, &out)
	}
	if err != nil {
		return nil, "", fmt.Errorf("list audit: %w", err)
	}
	for i := range out {
		out[i].Details = maskDetails(out[i].Details)
		out[i].expand()
	}
	next := ""
	if len(out) > f.Limit {
		out = out[:f.Limit]
		next = out[len(out)-1].ID
	}
	return out, next, nil
}

// likePrefix escapes a path for a LIKE prefix match. Slugs are [a-z0-9-],
// so only the wildcard characters need care.
func likePrefix(p string) string {
	r := make([]rune, 0, len(p)+1)
	for _, c := range p {
		if c == '%' || c == '_' {
			continue
		}
		r = append(r, c)
	}
	return string(r) + "%"
}

// ParseFilter reads the query parameters of the audit listing; from and to
// are RFC 3339 timestamps or YYYY-MM-DD dates (UTC).
func ParseFilter(actor, action, from, to string) (Filter, error) {
	f := Filter{Actor: actor, Action: action}
	var fe []errs.FieldError
	for _, x := range []struct {
		name, v string
		dst     *time.Time
	}{{"from", from, &f.From}, {"to", to, &f.To}} {
		if x.v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, x.v)
		if err != nil {
			t, err = time.Parse(time.DateOnly, x.v)
		}
		if err != nil {
			fe = append(fe, errs.Field(x.name, "invalid_time", nil))
			continue
		}
		*x.dst = t
	}
	if len(fe) > 0 {
		return f, errs.Validation(fe...)
	}
	return f, nil
}
