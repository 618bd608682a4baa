package authn_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/authn"
	"github.com/wanjia/wanjia/pkg/web"
)

// newServer mounts the auth routes on the platform engine, plus /api/v1/me
// behind the middleware.
func newServer(e *env) http.Handler {
	eng := web.NewEngine(web.Options{Logger: slog.New(slog.DiscardHandler)})
	api := eng.Group("/api/v1")
	e.svc.Routes(api)
	api.GET("/me", e.svc.Middleware(), func(c *gin.Context) {
		u, ok := authn.UserFrom(c.Request.Context())
		if !ok {
			c.JSON(http.StatusInternalServerError, gin.H{"error": "no user in context"})
			return
		}
		c.JSON(http.StatusOK, gin.H{"id": u.ID, "username": u.Username})
	})
	return eng
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func do(t *testing.T, h http.Handler, method, path, body string, header map[string]string) response {
	t.Helper()
	var req *http.Request
	if body == "" {
		req = httptest.NewRequest(method, path, nil)
	} else {
		req = httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	r := response{status: rec.Code, header: rec.Header(), raw: rec.Body.String()}
	if rec.Body.Len() > 0 {
		if err := json.Unmarshal(rec.Body.Bytes(), &r.body); err != nil {
			t.Fatalf("%s %s: body is not a JSON object: %v\n%s", method, path, err, rec.Body.String())
		}
	}
	return r
}

// errorCode checks the API's error shape and returns its code.
func errorCode(t *testing.T, r response) string {
	t.Helper()
	e, ok := r.body["error"].(map[string]any)
	if !ok {
		t.Fatalf("status %d body %s is not in the error shape", r.status, r.raw)
	}
	code, _ := e["code"].(string)
	msg, _ := e["message"].(string)
	if code == "" || msg == "" {
		t.Fatalf("error without code or message: %s", r.raw)
	}
	return code
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

func TestHTTPLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := newServer(e)

	r := do(t, h, "POST", "/api/v1/auth/login", `{"username":"alice","password":"`+alicePassword+`"}`, nil)
	if r.status != http.StatusOK {
		t.Fatalf("login: %d %s", r.status, r.raw)
	}
	for _, f := range []string{"access_token", "refresh_token"} {
		if s, _ := r.body[f].(string); s == "" {
			t.Fatalf("login answer lacks %s: %s", f, r.raw)
		}
	}
	if r.body["expires_in"] != float64(900) {
		t.Fatalf("expires_in = %v", r.body["expires_in"])
	}
	user, _ := r.body["user"].(map[string]any)
	if user["id"] != e.alice.ID || user["username"] != "alice" || user["display_name"] != "Alice 爱丽丝" {
		t.Fatalf("user = %v", r.body["user"])
	}
	if _, leaked := user["password_hash"]; leaked || strings.Contains(r.raw, "argon2") {
		t.Fatalf("login answer leaks the password hash: %s", r.raw)
	}
	access := r.body["access_token"].(string)
	me := do(t, h, "GET", "/api/v1/me", "", bearer(access))
	if me.status != http.StatusOK || me.body["id"] != e.alice.ID {
		t.Fatalf("/me with the token: %d %s", me.status, me.raw)
	}
}

func TestHTTPErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := newServer(e)
	tests := []struct {
		name, method, path, body string
		header                   map[string]string
		status                   int
		code                     string
	}{
		{"wrong password", "POST", "/api/v1/auth/login", `{"username":"alice","password":"nope"}`, nil, 401, "unauthenticated"},
		{"unknown user", "POST", "/api/v1/auth/login", `{"username":"zed","password":"nope"}`, nil, 401, "unauthenticated"},
		{"login without body", "POST", "/api/v1/auth/login", "", nil, 400, "bad_request"},
		{"login invalid JSON", "POST", "/api/v1/auth/login", `{"username":`, nil, 400, "bad_request"},
		{"login not an object", "POST", "/api/v1/auth/login", `["alice"]`, nil, 400, "bad_request"},
		{"login wrong type", "POST", "/api/v1/auth/login", `{"username":1,"password":"x"}`, nil, 400, "bad_request"},
		{"login missing fields", "POST", "/api/v1/auth/login", `{}`, nil, 422, "validation_failed"},
		// A NUL reached the database and came back as a 500 (PostgreSQL
		// refuses it in text); pkg/web now refuses it at bind.
		{"login NUL in username", "POST", "/api/v1/auth/login", `{"username":"ali\u0000ce","password":"nope"}`, nil, 422, "validation_failed"},
		{"login password of 500 KB", "POST", "/api/v1/auth/login", `{"username":"alice","password":"` + strings.Repeat("x", 500<<10) + `"}`, nil, 422, "validation_failed"},
		{"refresh without body", "POST", "/api/v1/auth/refresh", "", nil, 400, "bad_request"},
		{"refresh invalid JSON", "POST", "/api/v1/auth/refresh", `{`, nil, 400, "bad_request"},
		{"refresh missing token", "POST", "/api/v1/auth/refresh", `{}`, nil, 422, "validation_failed"},
		{"refresh unknown token", "POST", "/api/v1/auth/refresh", `{"refresh_token":"nope"}`, nil, 401, "unauthenticated"},
		{"logout without body", "POST", "/api/v1/auth/logout", "", nil, 400, "bad_request"},
		{"me without bearer", "GET", "/api/v1/me", "", nil, 401, "unauthenticated"},
		{"me with empty bearer", "GET", "/api/v1/me", "", map[string]string{"Authorization": "Bearer "}, 401, "unauthenticated"},
		{"me with basic auth", "GET", "/api/v1/me", "", map[string]string{"Authorization": "Basic YWxpY2U6eA=="}, 401, "unauthenticated"},
		{"me with a bad token", "GET", "/api/v1/me", "", bearer("not.a.token"), 401, "unauthenticated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, h, tt.method, tt.path, tt.body, tt.header)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.raw)
			}
			if code := errorCode(t, r); code != tt.code {
				t.Fatalf("code %q, want %q: %s", code, tt.code, r.raw)
			}
			if r.status == 401 && r.header.Get("WWW-Authenticate") != "Bearer" {
				t.Errorf("401 without WWW-Authenticate: Bearer")
			}
		})
	}
	// Messages follow Accept-Language, zh-CN by default.
	r := do(t, h, "POST", "/api/v1/auth/login", `{"username":"alice","password":"nope"}`, nil)
	if msg := r.body["error"].(map[string]any)["message"]; msg != "用户名或密码错误" {
		t.Errorf("default message = %v", msg)
	}
	r = do(t, h, "POST", "/api/v1/auth/login", `{"username":"alice","password":"nope"}`, map[string]string{"Accept-Language": "en"})
	if msg := r.body["error"].(map[string]any)["message"]; msg != "Wrong username or password" {
		t.Errorf("English message = %v", msg)
	}
}

func TestHTTPRateLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := newServer(e)
	for i := 0; i < e.svc.Throttle.FreeAttempts; i++ {
		if r := do(t, h, "POST", "/api/v1/auth/login", `{"username":"alice","password":"nope"}`, nil); r.status != 401 {
			t.Fatalf("failure %d: %d %s", i+1, r.status, r.raw)
		}
	}
	r := do(t, h, "POST", "/api/v1/auth/login", `{"username":"alice","password":"`+alicePassword+`"}`, nil)
	if r.status != http.StatusTooManyRequests || errorCode(t, r) != "rate_limited" {
		t.Fatalf("attempt after the free ones: %d %s", r.status, r.raw)
	}
	ra, _ := r.body["error"].(map[string]any)["retry_after"].(float64)
	if ra < 1 || r.header.Get("Retry-After") == "" {
		t.Fatalf("429 without retry_after / Retry-After: %v %s", r.header, r.raw)
	}
}

func TestHTTPRefreshAndLogout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := newServer(e)
	r := do(t, h, "POST", "/api/v1/auth/login", `{"username":"bob","password":"`+bobPassword+`"}`, nil)
	if r.status != 200 {
		t.Fatalf("login: %d %s", r.status, r.raw)
	}
	rt1 := r.body["refresh_token"].(string)

	r = do(t, h, "POST", "/api/v1/auth/refresh", `{"refresh_token":"`+rt1+`"}`, nil)
	if r.status != 200 {
		t.Fatalf("refresh: %d %s", r.status, r.raw)
	}
	rt2, _ := r.body["refresh_token"].(string)
	access, _ := r.body["access_token"].(string)
	if rt2 == "" || rt2 == rt1 || access == "" || r.body["expires_in"] != float64(900) {
		t.Fatalf("refresh answer: %s", r.raw)
	}
	if me := do(t, h, "GET", "/api/v1/me", "", bearer(access)); me.status != 200 || me.body["username"] != "bob" {
		t.Fatalf("/me with the refreshed token: %d %s", me.status, me.raw)
	}
	// The old refresh token stops working.
	if r := do(t, h, "POST", "/api/v1/auth/refresh", `{"refresh_token":"`+rt1+`"}`, nil); r.status != 401 {
		t.Fatalf("old refresh token: %d %s", r.status, r.raw)
	}

	// A new session, then logout.
	r = do(t, h, "POST", "/api/v1/auth/login", `{"username":"bob","password":"`+bobPassword+`"}`, nil)
	rt3 := r.body["refresh_token"].(string)
	r = do(t, h, "POST", "/api/v1/auth/logout", `{"refresh_token":"`+rt3+`"}`, nil)
	if r.status != http.StatusNoContent {
		t.Fatalf("logout: %d %s", r.status, r.raw)
	}
	if r := do(t, h, "POST", "/api/v1/auth/refresh", `{"refresh_token":"`+rt3+`"}`, nil); r.status != 401 {
		t.Fatalf("refresh after logout: %d %s", r.status, r.raw)
	}
	// Logging out again is harmless.
	if r := do(t, h, "POST", "/api/v1/auth/logout", `{"refresh_token":"`+rt3+`"}`, nil); r.status != http.StatusNoContent {
		t.Fatalf("second logout: %d %s", r.status, r.raw)
	}
}
