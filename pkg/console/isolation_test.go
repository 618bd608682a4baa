package console_test

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	caseLink     = regexp.MustCompile(`^/console/orgs/yucai/isolation/cases/([0-9a-f-]{36})\?done=opened$`)
	alertAction  = regexp.MustCompile(`action="(/console/orgs/yucai/isolation/alerts/[0-9a-f-]{36}/(?:ack|close))"`)
	supportForm  = regexp.MustCompile(`action="(/console/orgs/yucai/isolation/support/[0-9a-f-]{36})"`)
	followUpCase = regexp.MustCompile(`href="(/console/orgs/yucai/follow-ups/[0-9a-f-]{36}/isolation\?household=[0-9a-f-]{36})"`)
	checkinRow   = regexp.MustCompile(`<td class="num" data-label=`)
)

// shanghaiDay is the demo communities' date days from today.
func shanghaiDay(days int) string {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	return time.Now().In(loc).AddDate(0, 0, days).Format(time.DateOnly)
}

// residentIn is a resident of grid, found as staff find one: the grid's
// households, then one household's residents.
func residentIn(t testing.TB, c *http.Client, base, grid string, skip int) string {
	t.Helper()
	_, body := get(t, c, base+"/console/orgs/yucai/households?grid="+grid)
	hs := householdLink.FindAllStringSubmatch(body, -1)
	if len(hs) <= skip {
		t.Fatalf("fewer than %d households in %s", skip+1, grid)
	}
	_, body = get(t, c, base+"/console/orgs/yucai/households/"+hs[skip][1])
	r := residentEditLink.FindStringSubmatch(body)
	if r == nil {
		t.Fatalf("no resident in a household of %s", grid)
	}
	return r[1]
}

// openCase opens a case through the staff's form (start "" is today,
// days "" the community's) and returns its id.
func openCase(t testing.TB, c *http.Client, base, resident, start, days string) string {
	t.Helper()
	status, body := get(t, c, base+"/console/orgs/yucai/isolation/new?resident="+resident)
	k, m := keyField.FindStringSubmatch(body), csrfField.FindStringSubmatch(body)
	if status != http.StatusOK || k == nil || m == nil {
		t.Fatalf("the new case form: %d, no form", status)
	}
	status, to, body := postFor(t, c, base+"/console/orgs/yucai/isolation/cases", url.Values{"csrf": {m[1]}, "idempotency_key": {k[1]},
		"resident_id": {resident}, "kind": {"home_isolation"}, "start_date": {start}, "days": {days}, "reason": {"密接"}})
	id := caseLink.FindStringSubmatch(to)
	if status != http.StatusSeeOther || id == nil {
		t.Fatalf("open a case: %d to %q: %s", status, to, errorsOn(body))
	}
	return id[1]
}

// expectPages asks for each page with c in both languages and checks its
// status and that no catalogue key shows raw.
func expectPages(t *testing.T, c *http.Client, base, who string, pages map[string]int) {
	t.Helper()
	for path, want := range pages {
		for _, lang := range []string{"zh-CN", "en"} {
			req, _ := http.NewRequest(http.MethodGet, base+path, nil)
			req.Header.Set("Accept-Language", lang)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("%s %s (%s): %d, want %d", who, path, lang, resp.StatusCode, want)
			}
			if k := rawKey.Find(b); k != nil {
				t.Errorf("%s %s (%s): a key missing from the catalogue shows: %s", who, path, lang, k)
			}
		}
	}
}

// TestIsolationPagesPerRole: the board, a case, the forms and the support
// list answer per role as the API does: staff and the admin everything,
// the grid worker its own grids' cases (another grid's is a 404, opening
// a case a 403), the official above nothing (isolation is the
// community's), and on a sub-district none exist.
func TestIsolationPagesPerRole(t *testing.T) {
	t.Parallel()
	f := newFormWorld(t)
	base := f.a.Base
	yucai, qixing := "/console/orgs/yucai", "/console/orgs/qixing"
	// The demo has cases of its own (Yucai's returnees of 2020): the
	// home panel's figures are checked against what it showed before.
	_, home := get(t, f.staff, base+yucai)
	dueBefore, liveBefore := panelFigure(t, home, "due"), panelFigure(t, home, "cases")
	_, home = get(t, f.grid1, base+yucai)
	gridBefore := panelFigure(t, home, "cases")
	g1 := openCase(t, f.staff, base, residentIn(t, f.staff, base, "yucai-g1", 0), "", "")
	g2 := openCase(t, f.staff, base, residentIn(t, f.staff, base, "yucai-g2", 0), shanghaiDay(-15), "14")
	const missing = "/isolation/cases/01a22230-0000-7000-8000-000000000000"
	admin := client(t)
	httpSignIn(t, admin, base, "yucai.admin")
	for who, c := range map[string]*http.Client{"yucai.staff": f.staff, "yucai.admin": admin} {
		expectPages(t, c, base, who, map[string]int{
			yucai: 200, yucai + "/isolation": 200, yucai + "/isolation?grid=yucai-g2": 200, yucai + "/isolation?grid=nowhere": 422,
			yucai + "/isolation/new": 200, yucai + "/isolation/new?q=1": 200, yucai + "/isolation/cases/" + g1: 200,
			yucai + "/isolation/cases/" + g2: 200, yucai + missing: 404, yucai + "/isolation/support": 200,
			yucai + "/isolation/support?status=open&overdue=1": 200, yucai + "/isolation/support?status=bogus": 422,
			yucai + "/isolation/support?grid=nowhere": 422, yucai + "/follow-ups": 200,
		})
	}
	expectPages(t, f.grid1, base, "yucai.grid1", map[string]int{
		yucai: 200, yucai + "/isolation": 200, yucai + "/isolation?grid=yucai-g2": 422, yucai + "/isolation/new": 403,
		yucai + "/isolation/cases/" + g1: 200, yucai + "/isolation/cases/" + g2: 404, yucai + missing: 404,
		yucai + "/isolation/support": 200, yucai + "/isolation/support?grid=yucai-g2": 422,
	})
	expectPages(t, f.official, base, "qixing.official", map[string]int{
		yucai: 200, yucai + "/isolation": 403, yucai + "/isolation/cases/" + g1: 403, yucai + "/isolation/support": 403,
		qixing + "/isolation": 404, qixing + "/isolation/support": 404,
	})

	// The grid worker's board shows its own grid's case only; staff see
	// both, the due one on the release list with its button.
	if _, body := get(t, f.grid1, base+yucai+"/isolation"); !strings.Contains(body, g1) || strings.Contains(body, g2) {
		t.Error("the grid worker's board does not show exactly its own grid's case")
	}
	_, body := get(t, f.staff, base+yucai+"/isolation")
	if !strings.Contains(body, g1) || !strings.Contains(body, `action="/console/orgs/yucai/isolation/cases/`+g2+`/release"`) {
		t.Error("the staff's board lacks a case or the due case's release button")
	}
	if strings.Contains(body, `action="/console/orgs/yucai/isolation/cases/`+g1+`/release"`) {
		t.Error("the board offers to release a case that is not due")
	}
	// The home page counts the live cases and the due one.
	if _, body := get(t, f.staff, base+yucai); panelFigure(t, body, "due") != dueBefore+1 || panelFigure(t, body, "cases") != liveBefore+2 {
		t.Error("the home panel does not count one more case due and two more live")
	}
	if _, body := get(t, f.grid1, base+yucai); panelFigure(t, body, "cases") != gridBefore+1 {
		t.Error("the grid worker's home panel counts another grid's case")
	}
}

// panelFigure is the number the home page's isolation panel shows for
// the board's section anchor (due, cases).
func panelFigure(t testing.TB, body, anchor string) int {
	t.Helper()
	m := regexp.MustCompile(`href="/console/orgs/yucai/isolation#` + anchor + `"><span class="n">(\d+)</span>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the home page has no isolation figure for #%s", anchor)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestIsolationForms: each isolation form hands its values to the service
// and shows a refusal on the form with what was typed; the forms that
// record carry an idempotency key, so the same form posted twice records
// once.
func TestIsolationForms(t *testing.T) {
	t.Parallel()
	f := newFormWorld(t)
	base, org := f.a.Base, f.org
	admin := client(t)
	httpSignIn(t, admin, base, "yucai.admin")
	_, body := get(t, admin, org+"/isolation")
	adminToken := csrfField.FindStringSubmatch(body)[1]
	r1, r2 := residentIn(t, f.staff, base, "yucai-g1", 0), residentIn(t, f.staff, base, "yucai-g2", 1)

	t.Run("open a case", func(t *testing.T) {
		_, body := get(t, f.staff, org+"/isolation/new?resident="+r2)
		if !strings.Contains(body, `name="checkin_channel" value="voice"`) || !strings.Contains(body, `value="sms" checked`) {
			t.Fatal("the new case form offers no voice check-in channel (sms by default)")
		}
		key := keyField.FindStringSubmatch(body)[1]
		form := url.Values{"csrf": {f.staffToken}, "idempotency_key": {key}, "resident_id": {r2}, "kind": {"close_contact"},
			"start_date": {shanghaiDay(1)}, "days": {"十四"}, "reason": {"密接者"}, "checkin_channel": {"voice"}}
		if status, _, body := postFor(t, f.staff, org+"/isolation/cases", form); status != http.StatusUnprocessableEntity ||
			!strings.Contains(body, zh("expect_integer")) || !strings.Contains(body, "密接者") {
			t.Fatalf("days in words: %d, want 422 with the reason kept", status)
		}
		form.Set("days", "14")
		if status, _, body := postFor(t, f.staff, org+"/isolation/cases", form); status != http.StatusUnprocessableEntity || !strings.Contains(body, zh("date_in_future")) {
			t.Fatalf("a start tomorrow: %d, want 422 on the date", status)
		}
		form.Set("start_date", shanghaiDay(0))
		status, to, _ := postFor(t, f.staff, org+"/isolation/cases", form)
		if status != http.StatusSeeOther || caseLink.FindStringSubmatch(to) == nil {
			t.Fatalf("a good case: %d to %q", status, to)
		}
		if _, body := get(t, f.staff, base+to); !strings.Contains(body, "语音电话按键") {
			t.Fatal("the case page does not say the resident checks in by voice call")
		}
		// A double tap: the same key answers as the first did.
		if again, to2, _ := postFor(t, f.staff, org+"/isolation/cases", form); again != http.StatusSeeOther || to2 != to {
			t.Fatalf("the same form again: %d to %q, want the first answer (%q)", again, to2, to)
		}
		// Another form for the same resident is refused, saying why.
		_, body = get(t, f.staff, org+"/isolation/new?resident="+r2)
		form.Set("idempotency_key", keyField.FindStringSubmatch(body)[1])
		if status, _, body := postFor(t, f.staff, org+"/isolation/cases", form); status != http.StatusConflict || !strings.Contains(body, zh("case_already_open")) {
			t.Fatalf("a second case for the resident: %d, want 409 on the form", status)
		}
		if status, _, _ := postFor(t, f.grid1, org+"/isolation/cases", url.Values{"csrf": {f.gridToken}, "resident_id": {r1}, "kind": {"home_isolation"}}); status != http.StatusForbidden {
			t.Fatalf("the grid worker opening a case: %d, want 403", status)
		}
	})

	c1 := openCase(t, f.staff, base, r1, "", "")
	page := org + "/isolation/cases/" + c1

	t.Run("check-in", func(t *testing.T) {
		_, body := get(t, f.grid1, page)
		key := keyField.FindStringSubmatch(body)
		if key == nil {
			t.Fatal("no check-in form for the grid worker")
		}
		form := url.Values{"csrf": {f.gridToken}, "idempotency_key": {key[1]}, "temperature": {"三十八"}, "symptoms": {"cough"}}
		if status, _, body := postFor(t, f.grid1, page+"/checkins", form); status != http.StatusUnprocessableEntity ||
			!strings.Contains(body, zh("not_a_number")) || !strings.Contains(body, `value="cough" checked`) {
			t.Fatalf("a temperature in words: %d, want 422 with the symptom kept", status)
		}
		form.Set("temperature", "38.2")
		for range 2 { // a double tap records one
			if status, to, _ := postFor(t, f.grid1, page+"/checkins", form); status != http.StatusSeeOther || !strings.Contains(to, "done=checkin") {
				t.Fatalf("a fever at the door: %d to %q", status, to)
			}
		}
		_, body = get(t, f.grid1, page)
		if n := len(checkinRow.FindAllString(body, -1)); n != 1 {
			t.Fatalf("the case lists %d check-ins after one form posted twice, want 1", n)
		}
		// The chart: the fever line, and the reading drawn as a fever.
		if !strings.Contains(body, `class="fever-line"`) || !strings.Contains(body, `class="dot fever"`) || !strings.Contains(body, zh("console.isolation.alert.fever")) {
			t.Fatal("the case page lacks the fever line, the fever dot or the fever alert")
		}
		// Another grid's case is out of reach, whatever the form says.
		g2 := openCase(t, f.staff, base, residentIn(t, f.staff, base, "yucai-g2", 2), "", "")
		if status, _, _ := postFor(t, f.grid1, org+"/isolation/cases/"+g2+"/checkins", url.Values{"csrf": {f.gridToken}, "temperature": {"36.5"}}); status != http.StatusNotFound {
			t.Fatalf("a check-in on another grid's case: %d, want 404", status)
		}
		if status, _, _ := postFor(t, f.official, page+"/checkins", url.Values{"csrf": {f.officialToken}, "temperature": {"36.5"}}); status != http.StatusForbidden {
			t.Fatalf("the official recording a check-in: %d, want 403", status)
		}
	})

	t.Run("alerts", func(t *testing.T) {
		_, body := get(t, f.staff, org+"/isolation")
		m := alertAction.FindStringSubmatch(body)
		if m == nil || !strings.HasSuffix(m[1], "/ack") {
			t.Fatal("no acknowledge button on the board")
		}
		status, to, _ := postFor(t, f.staff, base+m[1], url.Values{"csrf": {f.staffToken}, "case": {c1}, "from": {"board"}})
		if status != http.StatusSeeOther || !strings.Contains(to, "/isolation?done=ack") {
			t.Fatalf("acknowledge: %d to %q", status, to)
		}
		close := strings.TrimSuffix(m[1], "/ack") + "/close"
		if status, to, _ := postFor(t, f.staff, base+close, url.Values{"csrf": {f.staffToken}, "case": {c1}}); status != http.StatusSeeOther || !strings.Contains(to, c1+"?done=close") {
			t.Fatalf("close from the case page: %d to %q", status, to)
		}
		if status, _, body := postFor(t, f.staff, base+m[1], url.Values{"csrf": {f.staffToken}, "case": {c1}}); status != http.StatusConflict || !strings.Contains(body, zh("alert_closed")) {
			t.Fatalf("acknowledging a closed alert: %d, want 409 on the page", status)
		}
		if status, _, _ := postFor(t, f.official, base+close, url.Values{"csrf": {f.officialToken}}); status != http.StatusForbidden {
			t.Fatalf("the official closing an alert: %d, want 403", status)
		}
	})

	t.Run("support", func(t *testing.T) {
		_, body := get(t, f.grid1, page)
		keys := keyField.FindAllStringSubmatch(body, -1)
		key := keys[len(keys)-1][1] // the support form's, after the check-in's
		form := url.Values{"csrf": {f.gridToken}, "idempotency_key": {key}, "case": {c1}, "resident_id": {r1}, "kind": {"lunch"}, "details": {"要买降压药"}}
		if status, _, body := postFor(t, f.grid1, org+"/isolation/support", form); status != http.StatusUnprocessableEntity ||
			!strings.Contains(body, "要买降压药") || !strings.Contains(body, `<details class="add" open>`) {
			t.Fatalf("a request of no kind: %d, want 422, the form open with the details kept", status)
		}
		form.Set("kind", "medicine")
		for range 2 {
			if status, to, _ := postFor(t, f.grid1, org+"/isolation/support", form); status != http.StatusSeeOther || !strings.Contains(to, "done=support") {
				t.Fatalf("a request: %d to %q", status, to)
			}
		}
		_, body = get(t, f.staff, org+"/isolation/support")
		forms := supportForm.FindAllStringSubmatch(body, -1)
		if len(forms) != 1 || strings.Count(body, "要买降压药") != 1 {
			t.Fatalf("%d requests on the list after one form posted twice, want 1", len(forms))
		}
		action := base + forms[0][1]
		if status, _, body := postFor(t, f.staff, action, url.Values{"csrf": {f.staffToken}, "status": {"assigned"}, "assignee": {"nobody.here"}}); status != http.StatusUnprocessableEntity ||
			!strings.Contains(body, zh("unknown_member")) || !strings.Contains(body, "nobody.here") {
			t.Fatalf("assigning to a stranger: %d, want 422 with the name kept", status)
		}
		if status, to, _ := postFor(t, f.staff, action, url.Values{"csrf": {f.staffToken}, "status": {"assigned"}, "assignee": {"yucai.grid1"}, "filter_status": {"open"}}); status != http.StatusSeeOther || !strings.Contains(to, "status=open") {
			t.Fatalf("assign: %d to %q", status, to)
		}
		if status, _, _ := postFor(t, f.grid1, action, url.Values{"csrf": {f.gridToken}, "status": {"done"}}); status != http.StatusSeeOther {
			t.Fatalf("the grid worker finishing it: %d", status)
		}
		if status, _, body := postFor(t, f.staff, action, url.Values{"csrf": {f.staffToken}, "status": {"cancelled"}}); status != http.StatusConflict || !strings.Contains(body, zh("support_closed", "status", "done")) {
			t.Fatalf("cancelling a finished request: %d, want 409 on the list", status)
		}
	})

	t.Run("diagnosis, release, end", func(t *testing.T) {
		if status, _, _ := postFor(t, f.staff, page, url.Values{"csrf": {f.staffToken}, "diagnosis": {"confirmed"}}); status != http.StatusSeeOther {
			t.Fatalf("a diagnosis: %d", status)
		}
		if _, body := get(t, f.staff, page); !strings.Contains(body, zh("console.isolation.diagnosis.confirmed")) {
			t.Fatal("the case does not show its diagnosis")
		}
		// Not due: staff are told when; the admin may force it with a reason.
		if status, _, body := postFor(t, f.staff, page+"/release", url.Values{"csrf": {f.staffToken}}); status != http.StatusConflict || !strings.Contains(body, zh("release_before_end", "end_date", shanghaiDay(14))) {
			t.Fatalf("releasing before the end: %d, want 409 on the page", status)
		}
		if status, _, _ := postFor(t, f.staff, page+"/release", url.Values{"csrf": {f.staffToken}, "force": {"1"}, "reason": {"x"}}); status != http.StatusForbidden {
			t.Fatalf("staff forcing a release: %d, want 403", status)
		}
		if _, body := get(t, admin, page); !strings.Contains(body, `name="force"`) {
			t.Fatal("the admin is not offered an early release")
		}
		if status, _, body := postFor(t, admin, page+"/release", url.Values{"csrf": {adminToken}, "force": {"1"}, "reason": {""}}); status != http.StatusUnprocessableEntity || !strings.Contains(body, zh("required")) {
			t.Fatalf("an early release without a reason: %d, want 422", status)
		}
		other := openCase(t, f.staff, base, residentIn(t, f.staff, base, "yucai-g1", 1), "", "")
		if status, to, _ := postFor(t, admin, page+"/release", url.Values{"csrf": {adminToken}, "force": {"1"}, "reason": {"核酸阴性，专家评估"}}); status != http.StatusSeeOther || !strings.Contains(to, "done=released") {
			t.Fatalf("an early release: %d to %q", status, to)
		}
		// Ending a case needs a reason.
		endPage := org + "/isolation/cases/" + other
		if status, _, body := postFor(t, f.staff, endPage, url.Values{"csrf": {f.staffToken}, "status": {"ended"}, "reason": {" "}}); status != http.StatusUnprocessableEntity ||
			!strings.Contains(body, zh("required")) || !strings.Contains(body, `<details class="add" open>`) {
			t.Fatalf("ending without a reason: %d, want 422 with the form open", status)
		}
		if status, _, _ := postFor(t, f.staff, endPage, url.Values{"csrf": {f.staffToken}, "status": {"ended"}, "reason": {"转送医院"}}); status != http.StatusSeeOther {
			t.Fatalf("ending: %d", status)
		}
		if _, body := get(t, f.staff, endPage); !strings.Contains(body, zh("console.isolation.status.ended")) || strings.Contains(body, "/checkins\"") {
			t.Fatal("the ended case does not say so, or still offers a check-in")
		}
	})

	t.Run("follow-up to isolation", func(t *testing.T) {
		fever := startScreening(t, base, "隔离转化排查", "yucai-g1")
		fo := nextOutcomeForm(t, f.grid1, base, fever, "calls")
		fo.Values.Set("outcome", "reached")
		fo.Values.Set("symptoms", "1")
		if status, _, _ := postFor(t, f.grid1, base+fo.Action, fo.Values); status != http.StatusSeeOther {
			t.Fatalf("symptoms found: %d", status)
		}
		_, body := get(t, f.staff, org+"/follow-ups")
		m := followUpCase.FindStringSubmatch(body)
		if m == nil {
			t.Fatal("no 转为隔离 on the follow-ups list")
		}
		if _, body := get(t, f.grid1, org+"/follow-ups"); followUpCase.MatchString(body) {
			t.Fatal("the grid worker, who does not open cases, is offered 转为隔离")
		}
		formPage := base + html.UnescapeString(m[1])
		_, body = get(t, f.staff, formPage)
		key := keyField.FindStringSubmatch(body)
		if key == nil || !strings.Contains(body, `name="resident_ids"`) {
			t.Fatal("the form has no key or no residents to tick")
		}
		action, _, _ := strings.Cut(formPage, "?")
		form := url.Values{"csrf": {f.staffToken}, "idempotency_key": {key[1]}, "kind": {"nothing"}, "reason": {"有症状"}, "household": {"x"}}
		if status, _, body := postFor(t, f.staff, action, form); status != http.StatusUnprocessableEntity || !strings.Contains(body, "有症状") {
			t.Fatalf("a kind that is none: %d, want 422 with the reason kept", status)
		}
		form.Set("kind", "medical_observation")
		status, to, _ := postFor(t, f.staff, action, form)
		if status != http.StatusSeeOther || !strings.Contains(to, "done=opened") {
			t.Fatalf("转为隔离: %d to %q", status, to)
		}
		if again, to2, _ := postFor(t, f.staff, action, form); again != http.StatusSeeOther || to2 != to {
			t.Fatalf("the same form again: %d to %q, want the first answer", again, to2)
		}
		if _, body := get(t, f.staff, org+"/follow-ups?status=case"); !strings.Contains(body, zh("console.follow_ups.case")) {
			t.Fatal("the follow-up turned into a case does not link to it")
		}
	})
}
