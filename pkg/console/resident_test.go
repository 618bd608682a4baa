package console_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// api calls the JSON API with a bearer token ("" signs in as user first
// when user is given through apiLogin).
func api(t testing.TB, base, token, method, path string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func apiLogin(t testing.TB, base, username string) string {
	t.Helper()
	code, b := api(t, base, "", http.MethodPost, "/api/v1/auth/login", map[string]string{"username": username, "password": demoPassword})
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if code != http.StatusOK || json.Unmarshal(b, &out) != nil {
		t.Fatalf("api login %s: %d %s", username, code, b)
	}
	return out.AccessToken
}

type residentCase struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Phone      string `json:"phone"`
	EndDate    string `json:"end_date"`
	CheckinURL string `json:"checkin_url"`
	Checkins   []struct {
		Temperature float64 `json:"temperature"`
		Source      string  `json:"source"`
	} `json:"checkins"`
	Alerts []struct {
		ID   string `json:"id"`
		Kind string `json:"kind"`
	} `json:"alerts"`
	Support []struct {
		Kind    string `json:"kind"`
		Details string `json:"details"`
	} `json:"support_requests"`
}

// openLinkedCase opens a home isolation case, as yucai.staff, for the n-th
// resident with a phone of grid; it answers the case and its link's path.
func openLinkedCase(t testing.TB, base, staff, grid string, n int) (residentCase, string) {
	t.Helper()
	code, b := api(t, base, staff, http.MethodGet, "/api/v1/orgs/yucai/residents?limit=50&grid="+grid, nil)
	var rs struct {
		Items []struct {
			ID    string `json:"id"`
			Phone string `json:"phone"`
		} `json:"items"`
	}
	if code != http.StatusOK || json.Unmarshal(b, &rs) != nil {
		t.Fatalf("residents: %d %s", code, b)
	}
	for _, r := range rs.Items {
		if r.Phone == "" {
			continue
		}
		if n--; n >= 0 {
			continue
		}
		code, b := api(t, base, staff, http.MethodPost, "/api/v1/orgs/yucai/isolations", map[string]any{"resident_id": r.ID, "kind": "home_isolation"})
		var c residentCase
		if code != http.StatusCreated || json.Unmarshal(b, &c) != nil {
			t.Fatalf("open case: %d %s", code, b)
		}
		u, err := url.Parse(c.CheckinURL)
		if err != nil || !strings.HasPrefix(u.Path, "/r/") {
			t.Fatalf("checkin_url %q", c.CheckinURL)
		}
		return c, u.Path
	}
	t.Fatalf("not enough residents with a phone in %s", grid)
	return residentCase{}, ""
}

func getCase(t testing.TB, base, staff, id string) residentCase {
	t.Helper()
	code, b := api(t, base, staff, http.MethodGet, "/api/v1/orgs/yucai/isolations/"+id, nil)
	var c residentCase
	if code != http.StatusOK || json.Unmarshal(b, &c) != nil {
		t.Fatalf("case: %d %s", code, b)
	}
	return c
}

// residentForm reads the page's CSRF token and idempotency key.
func residentForm(t testing.TB, c *http.Client, u string) (csrf, key, body string) {
	t.Helper()
	code, body := get(t, c, u)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, code, body)
	}
	m, k := csrfField.FindStringSubmatch(body), keyField.FindStringSubmatch(body)
	if m == nil || k == nil {
		t.Fatalf("no csrf or idempotency field on the resident's page")
	}
	return m[1], k[1], body
}

// TestResidentLinkCheckin: a resident, with no account, opens their link:
// the page shows their name half hidden and the dates, never the phone.
// A form without the CSRF token is refused; 45 and "abc" show the error on
// the form and store nothing; 37.8 is a self check-in that raises the fever
// alert staff see, recorded once when the form is sent twice; a request for
// help is filed on the case.
func TestResidentLinkCheckin(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	staff := apiLogin(t, a.Base, "yucai.staff")
	cs, path := openLinkedCase(t, a.Base, staff, "yucai-g1", 0)
	page := a.Base + path
	c := client(t)
	csrf, key, body := residentForm(t, c, page)
	name := []rune(cs.Name)
	if !strings.Contains(body, cs.EndDate) || !strings.Contains(body, string(name[0])+"*") || strings.Contains(body, cs.Name) ||
		strings.Contains(body, cs.Phone) || !strings.Contains(body, "居家健康监测") {
		t.Fatalf("the page should show the masked name and the end date, never the name or phone: %s", body)
	}
	if code, _ := get(t, c, page+"?lang=en"); code != http.StatusOK {
		t.Fatal("English page")
	}
	if _, b := get(t, c, page); !strings.Contains(b, "Health monitoring at home") {
		t.Fatal("the English switch did not stay")
	}
	if _, b := get(t, c, page+"?lang=zh-CN"); !strings.Contains(b, "提交今日体温") {
		t.Fatal("back to Chinese")
	}

	for _, tc := range []struct {
		name string
		form url.Values
		code int
		want string
	}{
		{"no csrf", url.Values{"temperature": {"37.8"}}, http.StatusForbidden, ""},
		{"wrong csrf", url.Values{"temperature": {"37.8"}, "csrf": {strings.Repeat("x", 43)}}, http.StatusForbidden, ""},
		{"45", url.Values{"temperature": {"45"}, "csrf": {csrf}}, http.StatusUnprocessableEntity, "43.0"},
		{"abc", url.Values{"temperature": {"abc"}, "csrf": {csrf}}, http.StatusUnprocessableEntity, "应为数字"},
		{"unknown symptom", url.Values{"temperature": {"36.6"}, "symptoms": {"hiccups"}, "csrf": {csrf}}, http.StatusUnprocessableEntity, "fever"},
	} {
		code, b := post(t, c, page+"/checkin", tc.form)
		if code != tc.code || !strings.Contains(b, tc.want) {
			t.Errorf("%s: %d, want %d showing %q: %.400s", tc.name, code, tc.code, tc.want, b)
		}
		if tc.code == http.StatusUnprocessableEntity && !strings.Contains(b, `aria-invalid="true"`) && tc.name != "unknown symptom" {
			t.Errorf("%s: the field is not marked", tc.name)
		}
	}
	if got := getCase(t, a.Base, staff, cs.ID); len(got.Checkins) != 0 || len(got.Alerts) != 0 {
		t.Fatalf("refused forms stored something: %+v", got)
	}

	form := url.Values{"temperature": {"37.8"}, "csrf": {csrf}, "idempotency_key": {key}}
	for range 2 { // a double tap
		resp, err := c.PostForm(page+"/checkin", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != path+"?done=fever" {
			t.Fatalf("check-in: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if _, b := get(t, c, page+"?done=fever"); !strings.Contains(b, "社区工作人员会尽快联系您") || !strings.Contains(b, "37.8") {
		t.Fatalf("after a fever: %s", b)
	}
	got := getCase(t, a.Base, staff, cs.ID)
	if len(got.Checkins) != 1 || got.Checkins[0].Source != "self" || got.Checkins[0].Temperature != 37.8 ||
		len(got.Alerts) != 1 || got.Alerts[0].Kind != "fever" {
		t.Fatalf("after the check-in sent twice: %+v", got)
	}
	code, b := api(t, a.Base, staff, http.MethodGet, "/api/v1/orgs/yucai/alerts?status=open", nil)
	if code != http.StatusOK || !strings.Contains(string(b), got.Alerts[0].ID) {
		t.Fatalf("the fever alert is not in staff's list: %d %s", code, b)
	}

	csrf, key, _ = residentForm(t, c, page)
	resp, err := c.PostForm(page+"/help", url.Values{"kind": {"groceries"}, "details": {"米和菜"}, "csrf": {csrf}, "idempotency_key": {key}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("help: %d", resp.StatusCode)
	}
	if code, b := post(t, c, page+"/help", url.Values{"kind": {"spa"}, "csrf": {csrf}}); code != http.StatusUnprocessableEntity {
		t.Fatalf("unknown kind of help: %d %.300s", code, b)
	}
	got = getCase(t, a.Base, staff, cs.ID)
	if len(got.Support) != 1 || got.Support[0].Kind != "groceries" || got.Support[0].Details != "米和菜" {
		t.Fatalf("help on the case: %+v", got.Support)
	}
}

// TestResidentLinkNotFound: an unknown token, a forged one (not a token's
// shape, or one character changed) and an expired one (its case released)
// answer the same 404 page, byte for byte, for the page and its forms, and
// nothing is stored.
func TestResidentLinkNotFound(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	staff := apiLogin(t, a.Base, "yucai.staff")
	admin := apiLogin(t, a.Base, "yucai.admin")
	cs, path := openLinkedCase(t, a.Base, staff, "yucai-g2", 0)
	live, livePath := openLinkedCase(t, a.Base, staff, "yucai-g2", 1)
	c := client(t)
	csrf, key, _ := residentForm(t, c, a.Base+path)
	if code, b := api(t, a.Base, admin, http.MethodPost, "/api/v1/orgs/yucai/isolations/"+cs.ID+"/release",
		map[string]any{"force": true, "reason": "转集中隔离"}); code != http.StatusOK {
		t.Fatalf("release: %d %s", code, b)
	}
	token := strings.TrimPrefix(livePath, "/r/")
	flip := []byte(token)
	if flip[10] == 'A' {
		flip[10] = 'B'
	} else {
		flip[10] = 'A'
	}
	paths := map[string]string{
		"expired":     path,
		"unknown":     "/r/" + strings.Repeat("Q", len(token)),
		"one changed": "/r/" + string(flip),
		"too short":   "/r/abc",
		"not base64":  "/r/" + strings.Repeat("!", len(token)),
	}
	var first string
	for name, p := range paths {
		for _, req := range []struct {
			method, sub string
			form        url.Values
		}{
			{http.MethodGet, "", nil},
			{http.MethodPost, "/checkin", url.Values{"temperature": {"36.6"}, "csrf": {csrf}, "idempotency_key": {key}}},
			{http.MethodPost, "/help", url.Values{"kind": {"groceries"}, "csrf": {csrf}}},
		} {
			var code int
			var body string
			if req.method == http.MethodGet {
				code, body = get(t, c, a.Base+p)
			} else {
				code, body = post(t, c, a.Base+p+req.sub, req.form)
			}
			if code != http.StatusNotFound {
				t.Errorf("%s %s%s: %d, want 404", name, req.method, req.sub, code)
			}
			if first == "" {
				first = body
			} else if body != first {
				t.Errorf("%s %s%s: a 404 of its own:\n%s\nvs\n%s", name, req.method, req.sub, body, first)
			}
		}
	}
	if got := getCase(t, a.Base, staff, cs.ID); len(got.Checkins) != 0 || len(got.Support) != 0 {
		t.Fatalf("a dead link stored something: %+v", got)
	}
	if code, _ := get(t, c, a.Base+livePath); code != http.StatusOK {
		t.Fatalf("the other case's link: %d", code)
	}
	_ = live
}

// TestResidentLinkRateLimit: a link is served 30 times a minute, then
// 429 with Retry-After; an address 300 times, whichever links it asks for
// (each request counts against both).
func TestResidentLinkRateLimit(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	staff := apiLogin(t, a.Base, "yucai.staff")
	_, path := openLinkedCase(t, a.Base, staff, "yucai-g3", 0)
	c := client(t)
	start := time.Now()
	n := 0
	for ; n < 40; n++ {
		resp, err := c.Get(a.Base + path)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			if resp.Header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
			break
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: %d", n+1, resp.StatusCode)
		}
	}
	// 30 at once, and one more every 2 s while the test runs.
	if n < 30 || n > 30+int(time.Since(start).Seconds()/2+1) {
		t.Fatalf("the link was limited after %d requests in %s, want 30", n, time.Since(start))
	}
	// Other links from the same address: the address's 300 run out.
	m := n + 1
	for ; m < 400; m++ {
		code, _ := get(t, c, a.Base+"/r/unknown-"+strconv.Itoa(m))
		if code == http.StatusTooManyRequests {
			break
		}
	}
	// 300 at once, and 5 more a second while the test runs.
	if m < 300 || m > 300+5*int(time.Since(start).Seconds()+1) {
		t.Fatalf("the address was limited after %d requests in %s, want 300", m, time.Since(start))
	}
}
