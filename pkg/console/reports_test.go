package console_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/reports"
)

// reportToday is the demo communities' calendar date now.
func reportToday() string { return time.Now().In(shanghai).Format(time.DateOnly) }

// platformToken signs in the platform admin through the API.
func platformToken(t testing.TB, base string) string {
	t.Helper()
	code, b := api(t, base, "", http.MethodPost, "/api/v1/auth/login", map[string]string{"username": "admin", "password": "admin-pass-123"})
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if code != http.StatusOK || json.Unmarshal(b, &out) != nil {
		t.Fatalf("platform admin login: %d %s", code, b)
	}
	return out.AccessToken
}

// addOrgs creates orgs through the platform admin's API, each
// {slug, name, kind, parent}.
func addOrgs(t testing.TB, base string, orgs ...[4]string) {
	t.Helper()
	token := platformToken(t, base)
	for _, o := range orgs {
		if code, b := api(t, base, token, http.MethodPost, "/api/v1/orgs",
			map[string]any{"slug": o[0], "name": o[1], "kind": o[2], "parent": o[3]}); code != http.StatusCreated {
			t.Fatalf("create %s: %d %s", o[0], code, b)
		}
	}
}

// reportRow is a community's row of the day's table.
func reportRow(body, slug string) (status string, row string) {
	m := regexp.MustCompile(`(?s)<tr id="report-` + slug + `" class="report-([a-z]+)">.*?</tr>`).FindStringSubmatch(body)
	if m == nil {
		return "", ""
	}
	return m[1], m[0]
}

// TestReportPagesPerRole: who reaches which report page, as the API
// decides: a community's staff and admin its own day (any day, a date not
// a date is a 422), its admin alone the confirm step and the export; a
// grid worker nothing; an official the day's table above and each
// community's day below, read-only, never another community's or another
// sub-district's, nor the district above.
func TestReportPagesPerRole(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	// A second sub-district beside Qixing, with its community.
	addOrgs(t, a.Base, [4]string{"lingui-town", "临桂镇", "subdistrict", "qixing-district"},
		[4]string{"shijia", "世纪社区", "community", "lingui-town"})
	today := reportToday()
	y, q := "/console/orgs/yucai/reports/daily", "/console/orgs/qixing/reports/daily"
	for user, pages := range map[string]map[string]int{
		"yucai.staff": {y: 200, y + "?date=2020-02-10": 200, y + "/2020-02-10": 200, y + "/2020-2-10": 422, y + "?date=yesterday": 422,
			y + "/" + today + "/submit": 403, y + "/2020-02-10/export?format=xlsx": 403, q: 403,
			"/console/orgs/wangcheng/reports/daily": 403, y + "/2020-02-10/trend": 404},
		"yucai.admin": {y: 200, y + "/" + today + "/submit": 200, y + "/2020-02-10/submit": http.StatusSeeOther,
			y + "/2020-02-10/export?format=xlsx": 200, y + "/2020-02-10/export?format=csv": 200, y + "/2020-02-10/export?format=pdf": 422,
			"/console/orgs/wangcheng/reports/daily/2020-02-10": 403},
		"yucai.grid1": {y: 403, y + "/2020-02-10": 403},
		"qixing.official": {q: 200, q + "?date=2020-02-10": 200, q + "/2020-02-10": 200, q + "/2020-02-30": 422,
			q + "/2020-02-10/export?format=csv": 200, q + "/2020-02-10/trend": 200, q + "/2020-02-10/trend?x=1": 200, q + "/20200210/trend": 422, y + "/2020-02-10": 200, y: 200, y + "/" + today + "/submit": 403,
			"/console/orgs/qixing-district/reports/daily": 403, "/console/orgs/lingui-town/reports/daily": 403,
			"/console/orgs/shijia/reports/daily": 403, "/console/orgs/shijia/reports/daily/2020-02-10/export": 403},
		"wangcheng.admin": {y + "/2020-02-10": 403, q: 403, "/console/orgs/wangcheng/reports/daily": 200},
	} {
		c := client(t)
		httpSignIn(t, c, a.Base, user)
		for path, want := range pages {
			for _, lang := range []string{"zh-CN", "en"} {
				req, _ := http.NewRequest(http.MethodGet, a.Base+path, nil)
				req.Header.Set("Accept-Language", lang)
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != want {
					t.Errorf("%s %s (%s): %d, want %d", user, path, lang, resp.StatusCode, want)
				}
				if k := rawKey.Find(b); k != nil {
					t.Errorf("%s %s (%s): a key missing from the catalogue shows: %s", user, path, lang, k)
				}
			}
		}
	}
	// The drill-down is read-only: no typed-in form, no submit.
	official := client(t)
	httpSignIn(t, official, a.Base, "qixing.official")
	if _, body := get(t, official, a.Base+y+"/"+today); strings.Contains(body, "report-form") || strings.Contains(body, "/submit") ||
		!strings.Contains(body, `id="fig-households_screened_total"`) {
		t.Error("the official's drill-down offers the community's forms, or shows no figures")
	}
	// The district's official would see both sub-districts; Qixing's sees its own two.
	_, body := get(t, official, a.Base+q+"/2020-02-10")
	if s, _ := reportRow(body, "shijia"); s != "" {
		t.Error("Qixing's table lists another sub-district's community")
	}
}

// TestReportPages walks a day through the pages: staff type in (text and
// a negative refused on their fields, what was typed kept) but cannot
// submit; the admin saves and submits through the confirm step (the same
// key twice is one submission, a second submission a 409 on the page);
// the frozen day shows its version and history, and a correction without
// a reason is refused on the reason; the official's home is the day's
// table, Yucai submitted and Wangcheng not, with totals, the trend and
// the export; the demo's 10 February reads as the seed has it.
func TestReportPages(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	today := reportToday()
	day := a.Base + "/console/orgs/yucai/reports/daily/" + today
	staff, admin, official := client(t), client(t), client(t)
	httpSignIn(t, staff, a.Base, "yucai.staff")
	httpSignIn(t, admin, a.Base, "yucai.admin")
	httpSignIn(t, official, a.Base, "qixing.official")

	_, body := get(t, staff, a.Base+"/console/orgs/yucai/reports/daily")
	token := csrfField.FindStringSubmatch(body)
	staffToken := token
	if token == nil || !strings.Contains(body, `name="staff_on_duty"`) || strings.Contains(body, `name="and_submit"`) ||
		!strings.Contains(body, i18n.T(i18n.ZH, "console.reports.shows_live", nil)) && !strings.Contains(body, i18n.T(i18n.ZH, "console.reports.shows_live_late", nil)) {
		t.Fatalf("staff's today page: no form, a submit button, or no word on live figures: %.300s", body)
	}
	for _, id := range []string{"work-fever", "work-missed", "work-overdue", "work-alerts", "fig-households_screened_total", "fig-messages_sent_today"} {
		if !strings.Contains(body, `id="`+id+`"`) {
			t.Errorf("the today page lacks %s", id)
		}
	}
	status, _, body := postFor(t, staff, day, url.Values{"csrf": {token[1]}, "staff_on_duty": {"五"}, "volunteers_on_duty": {"-1"},
		"notices_posted": {"2.5"}, "disinfection_rounds": {"3"}})
	errs := strings.Join(errorsOn(body), "|")
	if status != http.StatusUnprocessableEntity || strings.Count(body, "aria-invalid") != 3 || !strings.Contains(body, `value="五"`) ||
		!strings.Contains(errs, i18n.T(i18n.ZH, "reports_whole_number", nil)) {
		t.Fatalf("a bad draft: %d %s", status, errs)
	}
	if status, loc, _ := postFor(t, staff, day, url.Values{"csrf": {token[1]}, "staff_on_duty": {"7"}, "volunteers_on_duty": {"15"}}); status != http.StatusSeeOther || !strings.HasSuffix(loc, "?done=saved") {
		t.Fatalf("save the draft: %d to %q", status, loc)
	}
	if status, _, _ := postFor(t, staff, day+"/submit", url.Values{"csrf": {token[1]}}); status != http.StatusForbidden {
		t.Fatalf("staff submitted: %d", status)
	}

	// The admin saves and goes on to the confirm step, then submits.
	_, body = get(t, admin, day)
	token = csrfField.FindStringSubmatch(body)
	if !strings.Contains(body, `name="staff_on_duty" inputmode="numeric" autocomplete="off" maxlength="9" value="7"`) {
		t.Fatal("the admin's form does not show the draft's staff on duty")
	}
	status, loc, _ := postFor(t, admin, day, url.Values{"csrf": {token[1]}, "staff_on_duty": {"8"}, "and_submit": {"1"}})
	if status != http.StatusSeeOther || !strings.HasSuffix(loc, "/reports/daily/"+today+"/submit") {
		t.Fatalf("save and submit: %d to %q", status, loc)
	}
	_, body = get(t, admin, a.Base+loc)
	key := regexp.MustCompile(`name="idempotency_key" value="([^"]+)"`).FindStringSubmatch(body)
	if key == nil {
		t.Fatal("no idempotency key on the confirm step")
	}
	form := url.Values{"csrf": {token[1]}, "idempotency_key": {key[1]}}
	for i := range 2 { // a double tap: one submission
		if status, loc, body := postFor(t, admin, day+"/submit", form); status != http.StatusSeeOther || !strings.HasSuffix(loc, "?done=submitted") {
			t.Fatalf("submit %d: %d to %q %s", i, status, loc, errorsOn(body))
		}
	}
	form.Set("idempotency_key", "another-key-0123456789abcdef")
	if status, _, body := postFor(t, admin, day+"/submit", form); status != http.StatusConflict ||
		!strings.Contains(body, i18n.T(i18n.ZH, "report_submitted", nil)) {
		t.Fatalf("a second submission: %d", status)
	}
	_, body = get(t, admin, day+"?done=submitted")
	if !strings.Contains(body, `id="version-1"`) || strings.Contains(body, `id="version-2"`) || !strings.Contains(body, `id="manual-staff_on_duty">8<`) ||
		!strings.Contains(body, i18n.T(i18n.ZH, "console.reports.submitted", nil)) || !strings.Contains(body, "correct-form") {
		t.Fatalf("the submitted day: no version 1 (alone), no frozen 8 staff, or no correction form")
	}
	if status, _, body := postFor(t, staff, day, url.Values{"csrf": {staffToken[1]}, "staff_on_duty": {"9"}}); status != http.StatusConflict ||
		!strings.Contains(body, i18n.T(i18n.ZH, "report_submitted", nil)) {
		t.Fatalf("a draft after the submission: %d", status)
	}
	status, _, body = postFor(t, admin, day+"/corrections", url.Values{"csrf": {token[1]}, "staff_on_duty": {"9"}, "reason": {" "}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, `name="reason" rows="3" maxlength="500" aria-invalid="true"`) {
		t.Fatalf("a correction without a reason: %d", status)
	}
	if status, loc, _ := postFor(t, admin, day+"/corrections", url.Values{"csrf": {token[1]}, "staff_on_duty": {"9"}, "reason": {"漏报一名值班人员"}}); status != http.StatusSeeOther || !strings.HasSuffix(loc, "?done=corrected") {
		t.Fatalf("a correction: %d to %q", status, loc)
	}
	if _, body = get(t, admin, day); !strings.Contains(body, `id="version-2"`) || !strings.Contains(body, "漏报一名值班人员") || !strings.Contains(body, `id="manual-staff_on_duty">9<`) {
		t.Fatal("the corrected day shows no version 2, its reason, or the corrected figure")
	}

	// The official's home: today's table.
	_, body = get(t, official, a.Base+"/console/orgs/qixing")
	ys, yrow := reportRow(body, "yucai")
	ws, _ := reportRow(body, "wangcheng")
	if ys != reports.StatusSubmitted || !strings.Contains(yrow, i18n.T(i18n.ZH, "reports_status_submitted", nil)) ||
		(ws != reports.StatusLate && ws != reports.StatusMissing) {
		t.Fatalf("the official's home: yucai %q, wangcheng %q", ys, ws)
	}
	if !strings.Contains(body, "<tfoot>") || !strings.Contains(body, `hx-get="/console/orgs/qixing/reports/daily/`+today+`/trend"`) ||
		!strings.Contains(body, "/console/orgs/qixing/reports/daily/"+today+"/export?format=xlsx") ||
		!strings.Contains(body, `href="/console/orgs/yucai/reports/daily/`+today+`"`) {
		t.Fatal("the official's home lacks the totals, the trend, the export or the drill-down")
	}
	// The trend: a fragment for htmx, a page without it, a line per main figure.
	req, _ := http.NewRequest(http.MethodGet, a.Base+"/console/orgs/qixing/reports/daily/"+today+"/trend", nil)
	req.Header.Set("HX-Request", "true")
	resp, err := official.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	frag, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if _, page := get(t, official, a.Base+"/console/orgs/qixing/reports/daily/"+today+"/trend"); resp.StatusCode != 200 ||
		strings.Count(string(frag), "<polyline") != len(reports.MainKeys) || strings.Contains(string(frag), "<nav") ||
		strings.Count(page, "<polyline") != len(reports.MainKeys) || !strings.Contains(page, "<nav") {
		t.Fatalf("the trend: %d, a fragment of %d lines, a page of %d", resp.StatusCode, strings.Count(string(frag), "<polyline"), strings.Count(page, "<polyline"))
	}

	// The seed's day: both submitted, Yucai's 1,859 households screened,
	// the totals their sums.
	_, body = get(t, official, a.Base+"/console/orgs/qixing/reports/daily/2020-02-10")
	ys, yrow = reportRow(body, "yucai")
	ws, wrow := reportRow(body, "wangcheng")
	if ys != reports.StatusSubmitted || ws != reports.StatusSubmitted || !strings.Contains(yrow, ">1859<") || !strings.Contains(wrow, ">105<") ||
		!strings.Contains(regexp.MustCompile(`(?s)<tfoot>.*?</tfoot>`).FindString(body), ">1964<") {
		t.Fatalf("2020-02-10: yucai %q, wangcheng %q", yrow, wrow)
	}
	resp, err = official.Get(a.Base + "/console/orgs/qixing/reports/daily/2020-02-10/export?format=xlsx")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	checkReportXLSX(t, b, "2020-02-10")
}

// checkReportXLSX opens a downloaded day's table: its title names the
// day, and Yucai has a row whose screened households is a number.
func checkReportXLSX(t testing.TB, b []byte, date string) {
	t.Helper()
	x, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the export is no workbook: %v (%d bytes)", err, len(b))
	}
	defer x.Close()
	rows, err := x.GetRows(i18n.T(i18n.ZH, "reports_sheet", nil))
	if err != nil || len(rows) < 4 {
		t.Fatalf("the export's rows: %v %q", err, rows)
	}
	if !strings.Contains(rows[0][0], date) || !strings.Contains(rows[0][0], "七星") {
		t.Errorf("the export's title: %q", rows[0][0])
	}
	found := false
	for _, r := range rows {
		if len(r) > 3 && r[0] == "师大育才社区" {
			found = true
		}
	}
	if !found {
		t.Errorf("no Yucai row in %q", rows)
	}
}
