package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestMemberPages: the admin edits a person from the members page (a bad
// phone answers 422 on the form with what was typed), makes them a grid
// worker (grids shown by name), gives them a new password shown once,
// disables them (they can no longer sign in) and renames a grid; staff may
// open none of it.
func TestMemberPages(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	org := a.Base + "/console/orgs/yucai"
	admin := client(t)
	httpSignIn(t, admin, a.Base, "yucai.admin")
	_, body := get(t, admin, org+"/members")
	m := regexp.MustCompile(`/members/([0-9a-f-]{36})">yucai\.staff<`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no link to edit yucai.staff on the members page")
	}
	page := org + "/members/" + m[1]
	status, body := get(t, admin, page)
	if status != http.StatusOK {
		t.Fatalf("the member's page: %d", status)
	}
	token := csrfField.FindStringSubmatch(body)[1]
	form := url.Values{"csrf": {token}, "account": {"1"}, "display_name": {"新名字"}, "phone": {"12345"}, "role": {"community_staff"}}
	if status, _, body := postFor(t, admin, page, form); status != http.StatusUnprocessableEntity || !strings.Contains(body, "新名字") || !strings.Contains(body, zh("invalid_mobile")) {
		t.Fatalf("a bad phone: %d, want 422 with the name kept", status)
	}
	form.Set("phone", "13800001111")
	form.Set("role", "grid_worker")
	form["grids"] = []string{"yucai-g2"}
	if status, to, _ := postFor(t, admin, page, form); status != http.StatusSeeOther || !strings.Contains(to, "saved=1") {
		t.Fatalf("the change: %d to %q", status, to)
	}
	_, body = get(t, admin, org+"/members")
	if !strings.Contains(body, "新名字") || strings.Contains(body, `<span class="tag">yucai-g2</span>`) {
		t.Fatal("the members page does not show the new name, or shows the grid by its slug")
	}
	status, _, body = postFor(t, admin, page+"/password", url.Values{"csrf": {token}})
	pw := regexp.MustCompile(`<code class="password">([^<]+)</code>`).FindStringSubmatch(body)
	if status != http.StatusOK || pw == nil {
		t.Fatalf("the new password: %d, shown: %v", status, pw != nil)
	}
	if _, body = get(t, admin, page); strings.Contains(body, pw[1]) {
		t.Fatal("the password is shown again")
	}
	if status, _, _ := postFor(t, admin, page+"/disabled", url.Values{"csrf": {token}, "disabled": {"1"}}); status != http.StatusSeeOther {
		t.Fatalf("disable: %d", status)
	}
	c := client(t)
	_, login := get(t, c, a.Base+"/console/login")
	if status, _, _ := postFor(t, c, a.Base+"/console/login", url.Values{"username": {"yucai.staff"}, "password": {pw[1]},
		"csrf": {csrfField.FindStringSubmatch(login)[1]}}); status == http.StatusSeeOther {
		t.Fatal("the disabled account signs in")
	}
	if status, to, _ := postFor(t, admin, org+"/grids/yucai-g1", url.Values{"csrf": {token}, "name": {"东区网格"}}); status != http.StatusSeeOther {
		t.Fatalf("rename a grid: %d to %q", status, to)
	}
	if _, body = get(t, admin, org+"/members"); !strings.Contains(body, `value="东区网格"`) {
		t.Fatal("the grid keeps its old name")
	}
	staff := client(t)
	httpSignIn(t, staff, a.Base, "yucai.grid1")
	if status, _ := get(t, staff, page); status != http.StatusForbidden {
		t.Fatalf("a grid worker opens the member's page: %d", status)
	}
}
