package reports

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// Service is the daily report's plain-Go door: the API's handlers, the
// console's pages and the scheduler call it.
//
// A community's own report (the caller's tenant in ctx):
//   - Day(ctx, date): the latest submitted version or the live draft, with
//     the cut-off snapshot and the history;
//   - Today(ctx): today's, with yesterday's beside it;
//   - SaveDraft, Submit, Correct: the typed-in part, the submission, a
//     correction.
//
// Above the communities (the caller on a sub-district or district):
//   - Rollup(ctx, date): every community below that the caller may read,
//     with its status, figures and the totals.
//
// Either: Series(ctx, from, to) and Export(ctx, date, format, w).
type Service struct {
	DB    *store.DB
	Frame *scope.Frame
	// Authz decides which communities below a caller's org it may read
	// (a rollup's communities).
	Authz *authz.Authorizer
	// Notify sends the reminder to the community admins; nil sends
	// nothing.
	Notify Notifier
	Logger *slog.Logger
	Now    func() time.Time
}

// Notifier is outreach's door for one-off messages (outreach.Service):
// Notify writes them in the caller's transaction (a key the community
// already has sends nothing), NotifyTasks queues them after its commit.
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

// parseDay checks a date of the path or the query (field names it).
func parseDay(field, v string) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, v)
	if err != nil || d.Format(time.DateOnly) != v {
		return time.Time{}, errs.Validation(errs.Field(field, "invalid_date", nil))
	}
	return d, nil
}

// cutoffOf is the community's report_cutoff ("HH:MM"), defaulted.
func cutoffOf(st orgs.Settings) string {
	if st.ReportCutoff == "" {
		return orgs.DefaultSettings().ReportCutoff
	}
	return st.ReportCutoff
}

// cutoffAt is when day's report is due in the community: its cut-off, in
// its zone.
func cutoffAt(day string, loc *time.Location, st orgs.Settings) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", day+" "+cutoffOf(st), loc)
	if err != nil {
		t, _ = time.ParseInLocation("2006-01-02 15:04", day+" 18:00", loc)
	}
	return t.UTC()
}

// orgSlug is the slug of the org of the request in ctx.
func orgSlug(ctx context.Context) string {
	if c, ok := authz.CallerFrom(ctx); ok && c.Org != nil {
		return c.Org.Slug
	}
	return audit.ActorFrom(ctx).Org
}

// parseManual reads the typed-in fields sent: each a JSON integer from 0
// to MaxManual, one of ManualKeys; anything else is a 422 on its field.
func parseManual(in map[string]json.RawMessage) (Figures, error) {
	out := Figures{}
	var fe []errs.FieldError
	for k, raw := range in {
		field := "manual." + k
		if !isManualKey(k) {
			fe = append(fe, errs.Field(field, "reports_unknown_figure", nil))
			continue
		}
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
			continue // not given
		}
		n, err := strconv.ParseInt(string(raw), 10, 64)
		switch {
		case err != nil && !json.Valid(raw):
			fe = append(fe, errs.Field(field, "reports_whole_number", nil))
		case err != nil:
			// Valid JSON that is no integer: text, a fraction, 1e3.
			fe = append(fe, errs.Field(field, "reports_whole_number", nil))
		case n < 0 || n > MaxManual:
			fe = append(fe, errs.Field(field, "out_of_range", map[string]any{"min": 0, "max": MaxManual}))
		default:
			out[k] = int(n)
		}
	}
	if len(fe) > 0 {
		return nil, errs.Validation(fe...)
	}
	return out, nil
}

func isManualKey(k string) bool {
	for _, m := range ManualKeys {
		if m == k {
			return true
		}
	}
	return false
}

// by is who writes a version: the actor's user id and username.
func by(ctx context.Context) (string, string) {
	a := audit.ActorFrom(ctx)
	return a.UserID, a.Username
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("reports: %s: %w", what, err)
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

func trimmed(s string) string { return strings.TrimSpace(s) }
