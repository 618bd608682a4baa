package idempotency_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/idempotency"
	"github.com/wanjia/wanjia/pkg/web"
)

// seen is what the handler behind the middleware was given.
type seen struct {
	Has         bool   `json:"has"`
	Key         string `json:"key"`
	Fingerprint string `json:"fingerprint"`
	Body        string `json:"body"`
}

// engine serves POST /orgs/:org/things behind the middleware, as user (the
// caller the authorization middleware would have bound), with the body
// limit given; the handler echoes what it was given.
func engine(limit int64) *gin.Engine {
	e := web.NewEngine(web.Options{Logger: slog.New(slog.DiscardHandler), BodyLimit: limit})
	bind := func(c *gin.Context) {
		user := c.GetHeader("X-Test-User")
		c.Request = c.Request.WithContext(authz.WithCaller(c.Request.Context(), authz.Caller{UserID: user}))
	}
	e.POST("/orgs/:org/things", bind, idempotency.Middleware(), func(c *gin.Context) {
		body, err := io.ReadAll(c.Request.Body)
		if err != nil {
			web.Fail(c, err)
			return
		}
		r, ok := idempotency.From(c.Request.Context())
		c.JSON(http.StatusOK, seen{Has: ok, Key: r.Key, Fingerprint: r.Fingerprint, Body: string(body)})
	})
	return e
}

type sent struct {
	org, user, body string
	keys            []string // Idempotency-Key headers, in order
}

func send(e http.Handler, s sent) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/orgs/"+s.org+"/things", strings.NewReader(s.body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Test-User", s.user)
	for _, k := range s.keys {
		req.Header.Add(idempotency.Header, k)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	e := engine(0)
	const body = `{"grid":"g1","address":"七星路1号"}`
	fp := func(user, org, body string) string {
		return idempotency.Fingerprint(user, http.MethodPost, "/orgs/:org/things", org, body)
	}
	for _, c := range []struct {
		name string
		sent sent
		want seen // Body is always sent's
	}{
		{"no header: passes without a request", sent{"ta", "u1", body, nil}, seen{}},
		{"a key", sent{"ta", "u1", body, []string{"3f2c9a4e-0d1b-4c59-9a57-8d7a2b1e6f00"}},
			seen{Has: true, Key: "3f2c9a4e-0d1b-4c59-9a57-8d7a2b1e6f00", Fingerprint: fp("u1", "ta", body)}},
		{"a key with spaces around", sent{"ta", "u1", body, []string{"  k 1  "}}, seen{Has: true, Key: "k 1", Fingerprint: fp("u1", "ta", body)}},
		{"a key of 200 characters", sent{"ta", "u1", body, []string{strings.Repeat("k", 200)}},
			seen{Has: true, Key: strings.Repeat("k", 200), Fingerprint: fp("u1", "ta", body)}},
		{"another user", sent{"ta", "u2", body, []string{"k"}}, seen{Has: true, Key: "k", Fingerprint: fp("u2", "ta", body)}},
		{"another org", sent{"tb", "u1", body, []string{"k"}}, seen{Has: true, Key: "k", Fingerprint: fp("u1", "tb", body)}},
		{"another body", sent{"ta", "u1", body + " ", []string{"k"}}, seen{Has: true, Key: "k", Fingerprint: fp("u1", "ta", body+" ")}},
		{"no body", sent{"ta", "u1", "", []string{"k"}}, seen{Has: true, Key: "k", Fingerprint: fp("u1", "ta", "")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := send(e, c.sent)
			if rec.Code != http.StatusOK {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
			var got seen
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			c.want.Body = c.sent.body
			if got != c.want {
				t.Errorf("handler saw %+v, want %+v", got, c.want)
			}
		})
	}
	// The fingerprint tells apart every part of the request.
	distinct := map[string]bool{}
	for _, s := range []sent{{"ta", "u1", body, nil}, {"ta", "u2", body, nil}, {"tb", "u1", body, nil}, {"ta", "u1", body + " ", nil}} {
		distinct[fp(s.user, s.org, s.body)] = true
	}
	if len(distinct) != 4 || idempotency.Fingerprint("ab", "c") == idempotency.Fingerprint("a", "bc") {
		t.Error("fingerprints collide")
	}
}

func TestMiddlewareRefusesBadKeys(t *testing.T) {
	t.Parallel()
	e := engine(0)
	for _, c := range []struct {
		name string
		keys []string
	}{
		{"empty", []string{""}},
		{"only spaces", []string{"   "}},
		{"201 characters", []string{strings.Repeat("k", 201)}},
		{"not ASCII", []string{"键-1"}},
		{"a control character", []string{"k\x7f1"}},
		{"two keys", []string{"k1", "k2"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := send(e, sent{"ta", "u1", `{}`, c.keys})
			var got struct {
				Error struct {
					Details []struct {
						Field string `json:"field"`
					} `json:"details"`
				} `json:"error"`
			}
			_ = json.Unmarshal(rec.Body.Bytes(), &got)
			if d := got.Error.Details; rec.Code != http.StatusUnprocessableEntity || len(d) != 1 || d[0].Field != idempotency.Header {
				t.Fatalf("%d %s; want 422 on %s", rec.Code, rec.Body, idempotency.Header)
			}
		})
	}
}

// TestMiddlewareKeepsBodyLimit: reading the body to fingerprint it stops at
// the limit in force, as the handler's own read would.
func TestMiddlewareKeepsBodyLimit(t *testing.T) {
	t.Parallel()
	e := engine(64)
	if rec := send(e, sent{"ta", "u1", strings.Repeat("x", 65), []string{"k"}}); rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("%d %s; want 413", rec.Code, rec.Body)
	}
	if rec := send(e, sent{"ta", "u1", strings.Repeat("x", 64), []string{"k"}}); rec.Code != http.StatusOK {
		t.Fatalf("%d %s; want 200", rec.Code, rec.Body)
	}
}
