package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wanjia/wanjia/pkg/i18n"
)

var directiveLink = regexp.MustCompile(`/console/orgs/qixing/directives/([0-9a-f-]{36})\?sent=1$`)

// sendDirective sends a directive through the office's form as c (an
// official of qixing) and returns its id.
func sendDirective(t testing.TB, c *http.Client, base, title string, communities ...string) string {
	t.Helper()
	_, body := get(t, c, base+"/console/orgs/qixing/directives")
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no form on the directives page")
	}
	form := url.Values{"csrf": {m[1]}, "title": {title}, "body": {"请各社区于截止日期前落实并确认。"},
		"due_date": {time.Now().In(shanghai).AddDate(0, 0, 2).Format(time.DateOnly)}, "communities": communities}
	status, loc, body := postFor(t, c, base+"/console/orgs/qixing/directives", form)
	id := directiveLink.FindStringSubmatch(loc)
	if status != http.StatusSeeOther || id == nil {
		t.Fatalf("send a directive: %d to %q: %s", status, loc, errorsOn(body))
	}
	return id[1]
}

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

// TestDirectivePages: the office's form refuses what the service refuses,
// on the form with what was typed; a community's staff see the directive
// waiting (on the list and the home page) and acknowledge it; the office's
// page shows who acknowledged and who has not; a grid worker has no
// directives, and a community cannot send one.
func TestDirectivePages(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	official := client(t)
	httpSignIn(t, official, a.Base, "qixing.official")

	_, body := get(t, official, a.Base+"/console/orgs/qixing/directives")
	m := csrfField.FindStringSubmatch(body)
	if m == nil || !strings.Contains(body, `value="yucai"`) || !strings.Contains(body, `value="wangcheng"`) {
		t.Fatalf("the office's form offers no communities: %.500s", body)
	}
	status, _, body := postFor(t, official, a.Base+"/console/orgs/qixing/directives", url.Values{"csrf": {m[1]}, "title": {"排查通知"},
		"body": {""}, "due_date": {"2020-01-01"}, "communities": {"yucai", "nope"}})
	errs := strings.Join(errorsOn(body), "|")
	if status != http.StatusUnprocessableEntity || !strings.Contains(errs, i18n.T(i18n.ZH, "required", nil)) ||
		!strings.Contains(errs, i18n.T(i18n.ZH, "community_not_below", nil)) || !strings.Contains(body, `value="排查通知"`) {
		t.Fatalf("a bad form: %d %v", status, errs)
	}

	id := sendDirective(t, official, a.Base, "关于开展春节返乡人员排查的通知", "yucai", "wangcheng")
	staff := client(t)
	httpSignIn(t, staff, a.Base, "yucai.staff")
	for _, p := range []string{"/console/orgs/yucai", "/console/orgs/yucai/directives"} {
		if code, body := get(t, staff, a.Base+p); code != 200 || !strings.Contains(body, "关于开展春节返乡人员排查的通知") ||
			!strings.Contains(body, i18n.T(i18n.ZH, "console.directives.unacknowledged", nil)) {
			t.Fatalf("%s does not show the directive waiting: %d", p, code)
		}
	}
	_, body = get(t, staff, a.Base+"/console/orgs/yucai/directives/"+id)
	m = csrfField.FindStringSubmatch(body)
	status, loc, _ := postFor(t, staff, a.Base+"/console/orgs/yucai/directives/"+id+"/ack", url.Values{"csrf": {m[1]}})
	if status != http.StatusSeeOther || !strings.HasSuffix(loc, "/directives/"+id+"?acked=1") {
		t.Fatalf("ack: %d to %q", status, loc)
	}
	if _, body := get(t, staff, a.Base+"/console/orgs/yucai"); strings.Contains(body, "关于开展春节返乡人员排查的通知") {
		t.Fatal("the home page still shows the acknowledged directive")
	}
	_, body = get(t, official, a.Base+"/console/orgs/qixing/directives/"+id)
	yucai := regexp.MustCompile(`(?s)<tr id="ack-yucai" class="acknowledged">.*?</tr>`).FindString(body)
	wangcheng := regexp.MustCompile(`(?s)<tr id="ack-wangcheng" class="unacknowledged">.*?</tr>`).FindString(body)
	if !strings.Contains(yucai, "育才社区工作人员") || wangcheng == "" {
		t.Fatalf("the office's page: yucai %q, wangcheng %q", yucai, wangcheng)
	}
	if _, body := get(t, official, a.Base+"/console/orgs/qixing/directives"); !strings.Contains(body, "1 / 2") {
		t.Fatal("the office's list does not count 1 of 2 acknowledged")
	}

	grid := client(t)
	httpSignIn(t, grid, a.Base, "yucai.grid1")
	if code, _ := get(t, grid, a.Base+"/console/orgs/yucai/directives"); code != http.StatusForbidden {
		t.Fatalf("a grid worker's directives: %d", code)
	}
	if _, body := get(t, grid, a.Base+"/console/orgs/yucai"); strings.Contains(body, "/directives") {
		t.Fatal("a grid worker's home or menu links to the directives")
	}
	_, body = get(t, staff, a.Base+"/console/orgs/yucai/directives")
	m = csrfField.FindStringSubmatch(body)
	if status, _, _ := postFor(t, staff, a.Base+"/console/orgs/yucai/directives", url.Values{"csrf": {m[1]}, "title": {"x"}}); status != http.StatusForbidden {
		t.Fatalf("a community's staff sent a directive: %d", status)
	}
}
