package app_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"
	"time"
)

var consoleCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// TestCopiedSessionsEndAtSignOut: an access token, or a console session
// cookie, copied before sign-out no longer works after it, although the
// token itself has not expired.
func TestCopiedSessionsEndAtSignOut(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t, nil)
	t.Run("api", func(t *testing.T) {
		rec := do(t, a.Engine, http.MethodPost, "/api/v1/auth/login", "", map[string]string{"username": "yucai.staff", "password": demoPassword})
		tok := decode[struct {
			Access  string `json:"access_token"`
			Refresh string `json:"refresh_token"`
		}](t, rec.Body.Bytes())
		if rec := do(t, a.Engine, http.MethodGet, "/api/v1/me", tok.Access, nil); rec.Code != http.StatusOK {
			t.Fatalf("before sign-out: %d", rec.Code)
		}
		if rec := do(t, a.Engine, http.MethodPost, "/api/v1/auth/logout", "", map[string]string{"refresh_token": tok.Refresh}); rec.Code != http.StatusNoContent {
			t.Fatalf("sign-out: %d %s", rec.Code, rec.Body)
		}
		if rec := do(t, a.Engine, http.MethodGet, "/api/v1/orgs/yucai/households", tok.Access, nil); rec.Code != http.StatusUnauthorized {
			t.Fatalf("the copied access token after sign-out: %d", rec.Code)
		}
	})
	t.Run("console", func(t *testing.T) {
		srv := httptest.NewServer(a.Handler)
		defer srv.Close()
		client := func() *http.Client {
			jar, _ := cookiejar.New(nil)
			return &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		}
		page := func(c *http.Client, u string) (int, string) {
			resp, err := c.Get(srv.URL + u)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		post := func(c *http.Client, u string, v url.Values) int {
			resp, err := c.PostForm(srv.URL+u, v)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		staff := client()
		_, body := page(staff, "/console/login")
		m := consoleCSRF.FindStringSubmatch(body)
		if m == nil || post(staff, "/console/login", url.Values{"username": {"yucai.staff"}, "password": {demoPassword}, "csrf": {m[1]}}) != http.StatusSeeOther {
			t.Fatal("console sign-in failed")
		}
		code, body := page(staff, "/console/orgs/yucai")
		if code != http.StatusOK {
			t.Fatalf("signed in: %d", code)
		}
		// The cookie is copied, then its owner signs out.
		base, _ := url.Parse(srv.URL + "/console/")
		thief := client()
		thief.Jar.SetCookies(base, staff.Jar.Cookies(base))
		if code, _ := page(thief, "/console/orgs/yucai"); code != http.StatusOK {
			t.Fatalf("the copied cookie before sign-out: %d", code)
		}
		m = consoleCSRF.FindStringSubmatch(body)
		if m == nil || post(staff, "/console/logout", url.Values{"csrf": {m[1]}}) != http.StatusSeeOther {
			t.Fatal("console sign-out failed")
		}
		if code, _ := page(thief, "/console/orgs/yucai"); code == http.StatusOK {
			t.Fatalf("the copied cookie after sign-out: %d", code)
		}
	})
}
