package care_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/authn"
	"github.com/wanjia/wanjia/pkg/care"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/idempotency"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/web"
)

// TestContactIsIdempotent: a care contact posted twice with one
// Idempotency-Key is recorded once, and the retry gets the first answer
// back.
func TestContactIsIdempotent(t *testing.T) {
	w := newWorld(t)
	staff := w.Staff(t, "c1")
	resident := w.Resident(t, "c1", w.households(t, "c1", "c1-g1", 1)[0], "李奶奶", "elderly", "lives_alone")
	once := func(key string) context.Context {
		return idempotency.With(staff, idempotency.Request{Key: key, Fingerprint: idempotency.Fingerprint(key)})
	}
	write := func(ctx context.Context) (string, error) {
		v, err := w.Care.RecordContact(ctx, resident, care.ContactInput{Method: "phone", Outcome: "reached", Reason: "例行问候"})
		if err != nil {
			return "", err
		}
		return v.ID, nil
	}
	// The care list shows the last contact only: count the rows.
	count := func() int {
		n := 0
		err := w.DB.AcrossTenants(context.Background(), "test fixture", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
			return tx.NewSelect().TableExpr("care_contacts").ColumnExpr("count(*)").Where("resident_id = ?", resident).Scan(ctx, &n)
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	t.Run("care contact", func(t *testing.T) {
		first, err := write(once("care contact"))
		if err != nil {
			t.Fatal(err)
		}
		again, err := write(once("care contact"))
		if err != nil || again != first {
			t.Fatalf("retry: %q %v, want %q", again, err, first)
		}
		if n := count(); n != 1 {
			t.Errorf("%d recorded, want 1", n)
		}
	})
}

// TestRoutes drives the care list's routes through HTTP once Routes
// mounts them: a bad filter is a 422, and officials have no care
// permission in policy.csv.
func TestRoutes(t *testing.T) {
	w := newWorld(t)
	gin.SetMode(gin.TestMode)
	e := web.NewEngine(web.Options{Logger: slog.New(slog.DiscardHandler)})
	signed := e.Group("/api/v1", func(c *gin.Context) {
		u, err := authn.UserByUsername(c.Request.Context(), w.DB, c.GetHeader("X-User"))
		if err != nil {
			web.Fail(c, errs.Unauthenticated())
			return
		}
		c.Request = c.Request.WithContext(authn.WithUser(c.Request.Context(), u))
	})
	w.Care.Routes(w.District.Authz.OrgRoutes(signed))
	for _, c := range []struct {
		method, path, user, body string
		status                   int
		has                      string
	}{
		{"GET", "/api/v1/orgs/c1/care?overdue=maybe", "c1.staff", "", 422, `"overdue"`},
		{"GET", "/api/v1/orgs/c1/care", "sub.official", "", 403, ""},
	} {
		req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
		req.Header.Set("X-User", c.user)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != c.status || !strings.Contains(rec.Body.String(), c.has) {
			t.Errorf("%s %s as %s: %d %.300s, want %d with %s", c.method, c.path, c.user, rec.Code, rec.Body.String(), c.status, c.has)
		}
	}
}
