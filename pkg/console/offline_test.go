package console_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestOfflineForRecordersOnly: the offline lists (the script on the call
// list, the downloads, the shell) are a recorder's; an official reading
// the same community gets neither the script nor the data, and signing
// out clears the site's storage.
func TestOfflineForRecordersOnly(t *testing.T) {
	a := startApp(t)
	id := startScreening(t, a.Base, "离线名单", "yucai-g1")
	org := a.Base + "/console/orgs/yucai"
	cases := []struct {
		who      string
		script   bool
		download int
	}{
		{"yucai.grid1", true, http.StatusOK},
		{"qixing.official", false, http.StatusForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.who, func(t *testing.T) {
			c := client(t)
			httpSignIn(t, c, a.Base, tc.who)
			_, page := get(t, c, org+"/screenings/"+id+"/calls")
			if got := strings.Contains(page, "offline.js") && strings.Contains(page, `rel="manifest"`); got != tc.script {
				t.Errorf("the call list offers the offline lists: %v, want %v", got, tc.script)
			}
			for _, u := range []string{"/screenings/" + id + "/offline", "/isolation/offline", "/offline", "/offline/session"} {
				if status, _ := get(t, c, org+u); status != tc.download {
					t.Errorf("%s: %d, want %d", u, status, tc.download)
				}
			}
			if tc.download != http.StatusOK {
				return
			}
			_, body := get(t, c, org+"/screenings/"+id+"/offline")
			var list struct {
				Tasks []struct{ Grid, Phone, Tel string }
			}
			if err := json.Unmarshal([]byte(body), &list); err != nil || len(list.Tasks) == 0 {
				t.Fatalf("the download: %v %.200s", err, body)
			}
			for _, task := range list.Tasks {
				if task.Grid != "yucai-g1" || task.Tel == "" {
					t.Fatalf("a task of the download: %+v, want the worker's grid with its phone", task)
				}
			}
		})
	}

	c := client(t)
	httpSignIn(t, c, a.Base, "yucai.grid1")
	_, page := get(t, c, org)
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no sign-out form")
	}
	req, _ := http.NewRequest(http.MethodPost, a.Base+"/console/logout", strings.NewReader("csrf="+m[1]))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultTransport.RoundTrip(addCookies(c, req))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Clear-Site-Data"); !strings.Contains(got, `"storage"`) || !strings.Contains(got, `"cache"`) {
		t.Errorf("sign-out's Clear-Site-Data: %q", got)
	}
	if _, body := get(t, c, a.Base+resp.Header.Get("Location")); !strings.Contains(body, "signout.js") {
		t.Error("the sign-in page after signing out does not run signout.js")
	}
}

// addCookies puts c's cookies for req's URL on req.
func addCookies(c *http.Client, req *http.Request) *http.Request {
	for _, ck := range c.Jar.Cookies(req.URL) {
		req.AddCookie(ck)
	}
	return req
}
