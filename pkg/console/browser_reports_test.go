package console_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/reports"
)

// TestBrowserDailyReport: yucai.admin opens the day's report from the
// menu, types in the four figures, saves and submits through the confirm
// step; qixing.official's home shows Yucai submitted and Wangcheng not
// (late or not yet), and the XLSX export of the day downloads as a
// workbook with its title and a Yucai row.
func TestBrowserDailyReport(t *testing.T) {
	chromiumPath(t)
	a := startApp(t)
	today := reportToday()

	adm := browser(t, 1280, 900, 60*time.Second)
	do(t, adm, "sign in", signIn(a.Base, "yucai.admin"))
	do(t, adm, "from the menu to today's report",
		chromedp.Navigate(a.Base+"/console/orgs/yucai"),
		chromedp.Click(css(`nav.menu a[href$="/reports/daily"]`)),
		chromedp.WaitVisible(css(`form.report-form input[name=staff_on_duty]`)),
	)
	noProblems(t, adm)
	for name, v := range map[string]string{"notices_posted": "12", "disinfection_rounds": "3", "staff_on_duty": "9", "volunteers_on_duty": "24"} {
		sel := `form.report-form input[name=` + name + `]`
		do(t, adm, "type "+name, chromedp.Clear(css(sel)), chromedp.SendKeys(css(sel), v))
	}
	do(t, adm, "save and submit, then confirm",
		chromedp.Click(css(`form.report-form button[name=and_submit]`)),
		chromedp.WaitVisible(css(`form.submit-form button[type=submit]`)),
	)
	if h := val(t, adm, "the confirm step", chromedp.Text(css(`table.report-figures`))); !strings.Contains(h, "24") {
		t.Fatalf("the confirm step shows %q", h)
	}
	do(t, adm, "confirm", chromedp.Click(css(`form.submit-form button[type=submit]`)), chromedp.WaitVisible(css(`p.notice`)))
	if b := val(t, adm, "the badge", chromedp.Text(css(`h1 .badge`))); b != i18n.T(i18n.ZH, "reports_status_submitted", nil) {
		t.Fatalf("after submitting, the badge reads %q", b)
	}
	if v := val(t, adm, "the frozen volunteers", chromedp.Text(css(`#manual-volunteers_on_duty`))); v != "24" {
		t.Fatalf("the frozen volunteers on duty read %q", v)
	}
	noProblems(t, adm)

	off := browser(t, 1280, 900, 60*time.Second)
	dir := t.TempDir()
	if _, err := chromedp.CallBrowser(off, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir}); err != nil {
		t.Fatalf("allow downloads: %v", err)
	}
	do(t, off, "sign in", signIn(a.Base, "qixing.official"), chromedp.WaitVisible(css(`table.report-table`)))
	yucai := val(t, off, "Yucai's row", chromedp.Text(css(`#report-yucai`)))
	wangcheng := val(t, off, "Wangcheng's row", chromedp.Text(css(`#report-wangcheng`)))
	if !strings.Contains(yucai, i18n.T(i18n.ZH, "reports_status_submitted", nil)) {
		t.Fatalf("Yucai's row reads %q", yucai)
	}
	if !strings.Contains(wangcheng, i18n.T(i18n.ZH, "reports_status_late", nil)) && !strings.Contains(wangcheng, i18n.T(i18n.ZH, "reports_status_missing", nil)) {
		t.Fatalf("Wangcheng's row reads %q", wangcheng)
	}
	do(t, off, "the trend loads", chromedp.WaitVisible(css(`.report-trend svg polyline`)))
	if n := val(t, off, "the trend's lines", chromedp.Evaluate[int](`document.querySelectorAll(".report-trend svg polyline").length`)); n != len(reports.MainKeys) {
		t.Fatal("the home page draws no trend")
	}
	noProblems(t, off)
	do(t, off, "download the XLSX", chromedp.Click(css(`.report-export a[href$="format=xlsx"]`)))
	file := filepath.Join(dir, "daily-report-qixing-"+today+".xlsx")
	var b []byte
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if data, err := os.ReadFile(file); err == nil && len(data) > 0 {
			if _, err := os.Stat(file + ".crdownload"); os.IsNotExist(err) {
				b = data
				break
			}
		}
		if time.Now().After(deadline) {
			entries, _ := os.ReadDir(dir)
			t.Fatalf("no %s downloaded (the directory holds %v)", file, entries)
		}
	}
	checkReportXLSX(t, b, today)
}
