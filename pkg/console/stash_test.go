package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestExpiredSessionKeepsForm: a form of this site posted after its
// session ended goes to sign-in and back to its page with what was typed;
// a cross-site one is still a 403 that keeps nothing, and the input goes
// back to the person it was kept for only.
func TestExpiredSessionKeepsForm(t *testing.T) {
	a := startApp(t)
	households := a.Base + "/console/orgs/yucai/households"
	form := "/console/orgs/yucai/residents/new"
	send := func(c *http.Client, csrf, origin, referer string) *http.Response {
		t.Helper()
		body := url.Values{"csrf": {csrf}, "name": {"过期后保留"}, "phone": {"13912340000"}, "idempotency_key": {"k"}}
		req, _ := http.NewRequest(http.MethodPost, a.Base+"/console/orgs/yucai/residents", strings.NewReader(body.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		req.Header.Set("Referer", referer)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	stashed := func(resp *http.Response) bool {
		for _, ck := range resp.Cookies() {
			if ck.Name == "wanjia_stash" && ck.Value != "" {
				return true
			}
		}
		return false
	}

	// Signed out (no session cookie at all): a cross-site form is refused
	// and nothing kept; this site's goes to sign-in, back to its page.
	c := client(t)
	if resp := send(c, "old-token", "https://evil.example", a.Base+form); resp.StatusCode != http.StatusForbidden || stashed(resp) {
		t.Fatalf("a cross-site form without a session: %d, kept %v; want 403, nothing kept", resp.StatusCode, stashed(resp))
	}
	if resp := send(c, "old-token", "", a.Base+form); resp.StatusCode != http.StatusForbidden || stashed(resp) {
		t.Fatalf("a form of unknown origin: %d, kept %v; want 403, nothing kept", resp.StatusCode, stashed(resp))
	}
	resp := send(c, "old-token", a.Base, a.Base+form)
	if want := "/console/login?next=" + url.QueryEscape(form); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want || !stashed(resp) {
		t.Fatalf("this site's form without a session: %d to %q, kept %v; want 303 to %q", resp.StatusCode, resp.Header.Get("Location"), stashed(resp), want)
	}
	if _, body := get(t, c, a.Base+"/console/login?next="+url.QueryEscape(form)); !strings.Contains(body, `class="notice"`) {
		t.Fatal("the sign-in page does not say the input was kept")
	}
	httpSignIn(t, c, a.Base, "yucai.staff")
	status, body := get(t, c, a.Base+form)
	if status != http.StatusOK || !strings.Contains(body, `id="restored"`) || !strings.Contains(body, "过期后保留") || !strings.Contains(body, "restore.js") {
		t.Fatalf("the form after sign-in: %d, restored %v", status, strings.Contains(body, `id="restored"`))
	}
	if strings.Contains(body, `&#34;k&#34;`) || strings.Contains(body, "old-token") {
		t.Fatal("the restored fields carry the old token or idempotency key")
	}
	if _, body := get(t, c, a.Base+form); strings.Contains(body, `id="restored"`) {
		t.Fatal("the input is given back twice")
	}

	// Signed in again in another tab: the page's token is the old session's.
	// Back to the form at once, input kept; a form with no token at all
	// is still refused.
	c = client(t)
	httpSignIn(t, c, a.Base, "yucai.staff")
	resp = send(c, "an-earlier-sessions-token", a.Base, a.Base+form)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != form || !stashed(resp) {
		t.Fatalf("a stale token while signed in: %d to %q, kept %v", resp.StatusCode, resp.Header.Get("Location"), stashed(resp))
	}
	if resp := send(c, "", a.Base, a.Base+form); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("no token while signed in: %d, want 403", resp.StatusCode)
	}

	// Kept for yucai.staff, whoever signs in next on this browser does not
	// get it.
	c = client(t)
	httpSignIn(t, c, a.Base, "yucai.staff")
	send(c, "an-earlier-sessions-token", a.Base, households)
	u, _ := url.Parse(a.Base + "/console/")
	c.Jar.SetCookies(u, []*http.Cookie{{Name: "wanjia_session", Path: "/console/", MaxAge: -1}})
	httpSignIn(t, c, a.Base, "yucai.admin")
	if _, body := get(t, c, households); strings.Contains(body, `id="restored"`) || strings.Contains(body, "过期后保留") {
		t.Fatal("another person signing in on the browser got the input back")
	}
}
