package console

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wanjia/wanjia/pkg/authn"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/queue/queuetest"
	"github.com/wanjia/wanjia/pkg/store/storetest"
	"github.com/wanjia/wanjia/pkg/web"
)

var testSecret = []byte("wanjia-test-secret-key-0123456789abcdef")

// newAuthn is an authn service over a fresh database with one user.
func newAuthn(t *testing.T) *authn.Service {
	t.Helper()
	ctx := context.Background()
	db := storetest.New(t)
	keys, err := authn.LoadKeys(ctx, db, authn.KeyOptions{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	fast := authn.Argon2Params{Memory: 1024, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}
	if err := authn.CreateUser(ctx, db, &authn.User{Username: "clerk", DisplayName: "Clerk"}, "a-long-pass-phrase", fast); err != nil {
		t.Fatal(err)
	}
	return authn.NewService(db, keys, authn.NewThrottle(queuetest.New(t).Client), slog.New(slog.DiscardHandler))
}

func TestSessionCookieIsSealed(t *testing.T) {
	m := newSessions(nil, testSecret, false)
	s := session{Access: "access", Refresh: "refresh", Expires: 42, CSRF: "token"}
	v := m.seal(s)
	if strings.Contains(v, "refresh") || strings.Contains(v, "token") {
		t.Fatalf("the cookie shows what it holds: %s", v)
	}
	if got, ok := m.open(v); !ok || got != s {
		t.Fatalf("open(seal(s)) = %+v, %v", got, ok)
	}
	raw := []byte(v)
	raw[len(raw)/2] ^= 1
	if _, ok := m.open(string(raw)); ok {
		t.Fatal("a tampered cookie opens")
	}
	if _, ok := newSessions(nil, []byte("another-secret-key-0123456789abcdef"), false).open(v); ok {
		t.Fatal("a cookie opens under another secret key")
	}
	if m.seal(s) == v {
		t.Fatal("two seals of one session are equal: the nonce is not fresh")
	}
}

// TestRefreshOncePerToken: a page and its htmx requests arrive together
// with one expired cookie. Each must come out signed in with the same new
// tokens; presenting the used refresh token to authn twice would revoke
// the whole session (authn takes it for a stolen token).
func TestRefreshOncePerToken(t *testing.T) {
	a := newAuthn(t)
	m := newSessions(a, testSecret, false)
	ctx := context.Background()
	tokens, _, err := a.Login(ctx, "clerk", "a-long-pass-phrase", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	s := m.start(tokens)
	u, same, err := m.user(ctx, s)
	if err != nil || u.Username != "clerk" || same != s {
		t.Fatalf("a fresh session: %v %v changed=%v", u, err, same != s)
	}

	s.Expires = time.Now().Add(-time.Minute).Unix() // as the cookie says, 15 minutes on
	var wg sync.WaitGroup
	results := make([]session, 8)
	for i := range results {
		wg.Go(func() {
			u, next, err := m.user(ctx, s)
			if err != nil || u.Username != "clerk" {
				t.Errorf("request %d: %v", i, err)
			}
			results[i] = next
		})
	}
	wg.Wait()
	for _, r := range results[1:] {
		if r.Refresh != results[0].Refresh || r.Refresh == s.Refresh || r.CSRF != s.CSRF {
			t.Fatalf("the requests came out with different refresh tokens: %q and %q (before: %q)", results[0].Refresh, r.Refresh, s.Refresh)
		}
	}
	// The session goes on: the new refresh token still refreshes.
	next := results[0]
	next.Expires = 0
	if _, _, err := m.user(ctx, next); err != nil {
		t.Fatalf("the refreshed session: %v", err)
	}

	// After the grace, the used token is authn's again, and a replay of it
	// ends the session, as it would through the API.
	m.mu.Lock()
	for k, r := range m.rotated {
		r.at = r.at.Add(-2 * rotationGrace)
		m.rotated[k] = r
	}
	m.mu.Unlock()
	if _, _, err := m.user(ctx, s); errs.KindOf(err) != errs.KindUnauthenticated {
		t.Fatalf("replaying a used refresh token: %v, want unauthenticated", err)
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"":                               "/console/",
		"/console/orgs/yucai?q=1":        "/console/orgs/yucai?q=1",
		"https://evil.example/console/":  "/console/",
		"//evil.example/console/":        "/console/",
		"/console/../api/v1/orgs":        "/console/",
		"/\\evil.example":                "/console/",
		"/api/v1/orgs":                   "/console/",
		"/console/orgs/yucai\r\nX-A: b":  "/console/",
		"javascript:alert(1)//console/x": "/console/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestVendoredHTMX: the htmx served is the file make vendor-htmx fetched,
// as its record says.
func TestVendoredHTMX(t *testing.T) {
	record, err := os.ReadFile("static/htmx.min.js.version")
	if err != nil {
		t.Fatal(err)
	}
	js, err := staticFS.ReadFile("static/htmx.min.js")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(js)
	if !strings.Contains(string(record), "sha256 "+hex.EncodeToString(sum[:])) || !strings.HasPrefix(string(record), "htmx.org ") {
		t.Fatalf("static/htmx.min.js does not match its record (run make vendor-htmx):\n%s", record)
	}
}

// TestStaticURLsAreVersioned: every asset a page links carries its hash,
// and an unknown one is a 404, not a directory listing.
func TestStaticURLsAreVersioned(t *testing.T) {
	for _, name := range []string{"console.css", "htmx.min.js", "favicon.svg"} {
		if u := staticURL(name); !strings.Contains(u, "?v=") || strings.HasSuffix(u, "?v=") {
			t.Errorf("staticURL(%q) = %q", name, u)
		}
	}
	for path, want := range map[string]int{"/console/static/console.css": 200, "/console/static/": 404, "/console/static/nope.js": 404} {
		rec := httptest.NewRecorder()
		c := New(Deps{Secret: testSecret})
		c.engine(web.Options{Logger: slog.New(slog.DiscardHandler)}).ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != want {
			t.Errorf("GET %s: %d, want %d", path, rec.Code, want)
		}
	}
}
