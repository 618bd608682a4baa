package health_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/health"
)

type pinger struct{ err error }

func (p pinger) Ping(context.Context) error { return p.err }

// TestReadyzNamesOnlyTheFailedDependency: /readyz is open to anyone who
// reaches the port, so a failed check says which dependency failed and
// nothing of what its error said (user, database, host, port); the details
// go to the log.
func TestReadyzNamesOnlyTheFailedDependency(t *testing.T) {
	secret := `failed to connect to user=wanjia_app database=wanjia host=10.1.2.3 port=5432: dial tcp 10.1.2.3:5432: connect: connection refused`
	tests := []struct {
		name   string
		deps   []health.Dep
		code   int
		failed []string
	}{
		{"database down", []health.Dep{{Name: "database", Pinger: pinger{errors.New(secret)}}, {Name: "redis", Pinger: pinger{}}}, 503, []string{"database"}},
		{"both down", []health.Dep{{Name: "database", Pinger: pinger{errors.New(secret)}}, {Name: "redis", Pinger: pinger{errors.New("dial tcp 10.9.9.9:6379: i/o timeout")}}}, 503, []string{"database", "redis"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logged bytes.Buffer
			c := health.New(nil, tt.deps...)
			c.Logger = slog.New(slog.NewTextHandler(&logged, nil))
			gin.SetMode(gin.TestMode)
			e := gin.New()
			health.Routes(e, c)
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			body := rec.Body.String()
			if rec.Code != tt.code {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.code, body)
			}
			for _, leak := range []string{"10.1.2.3", "5432", "wanjia_app", "database=", "10.9.9.9", "6379", "refused", "timeout"} {
				if strings.Contains(body, leak) {
					t.Errorf("the answer shows %q: %s", leak, body)
				}
			}
			for _, name := range tt.failed {
				if !strings.Contains(body, `"`+name+`":"unavailable"`) || !strings.Contains(body, `"field":"`+name+`"`) {
					t.Errorf("the answer does not name %s as failed: %s", name, body)
				}
			}
			// The operator still learns what happened, from the log.
			if !strings.Contains(logged.String(), "10.1.2.3:5432") || !strings.Contains(logged.String(), "dependency=database") {
				t.Errorf("the log lacks the error's details: %s", logged.String())
			}
		})
	}
}
