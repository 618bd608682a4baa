package console_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestScreenshots writes PNGs of the main pages, on a desktop (1280 px)
// and on a phone (360×740), into $WANJIA_SCREENSHOTS: `make screenshots`
// sets it to docs/screenshots. Without it the test has nothing to do.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("WANJIA_SCREENSHOTS")
	if dir == "" {
		t.Skip("set WANJIA_SCREENSHOTS to a directory (make screenshots) to take the console's screenshots")
	}
	chromiumPath(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	a := startApp(t)
	csv := filepath.Join(t.TempDir(), "residents.csv")
	if err := os.WriteFile(csv, []byte("姓名,电话,网格,楼栋,单元,房号\n"+
		"李秀英,13800000001,yucai-g1,1栋,1单元,101\n"+
		"王建国,12345,yucai-g1,1栋,1单元,102\n"+
		"赵桂兰,13800000003,yucai-g9,1栋,1单元,103\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	org := a.Base + "/console/orgs/"
	// A campaign under way: the grid worker and staff have phoned a few
	// households, so its bars and tables have something to show.
	campaign := startScreening(t, a.Base, "春节返乡人员排查")
	for _, who := range []struct {
		user     string
		outcomes []string
	}{
		{"yucai.grid1", []string{"reached", "reached", "no_answer", "reached", "wrong_number", "reached"}},
		{"yucai.staff", []string{"reached", "no_answer", "reached", "reached"}},
	} {
		c := client(t)
		httpSignIn(t, c, a.Base, who.user)
		for _, o := range who.outcomes {
			recordNext(t, c, a.Base, campaign, "calls", o, nil)
		}
	}
	screeningPage := org + "yucai/screenings/" + campaign
	// A message to grid 2, sent: one household there has only a landline,
	// which an SMS cannot reach, so the page lists a failure to retry.
	staff := client(t)
	httpSignIn(t, staff, a.Base, "yucai.staff")
	_, body := get(t, staff, org+"yucai/households/new")
	if status, _, _ := postFor(t, staff, org+"yucai/households", url.Values{"csrf": {csrfField.FindStringSubmatch(body)[1]}, "grid": {"yucai-g2"},
		"address": {"育才路88号 8栋 1单元 101"}, "phone": {"0731-88886666"}}); status != http.StatusSeeOther {
		t.Fatalf("a household with a landline: %d", status)
	}
	outreachPage := org + "yucai/outreach/campaigns/" + createCampaign(t, staff, a.Base, url.Values{"name": {"周末核酸检测通知"}, "channel": {"sms"},
		"body": {"{{.Name}}您好：本周六上午8点在社区广场开展核酸检测，请带好身份证，排队时保持一米距离。"}, "scope": {"grids"}, "grids": {"yucai-g2"},
		"urgent": {"1"}})
	if status, _, _ := postFor(t, staff, outreachPage+"/send", url.Values{"csrf": {csrfField.FindStringSubmatch(body)[1]}}); status != http.StatusSeeOther {
		t.Fatalf("send the campaign: %d", status)
	}
	waitFinished(t, staff, outreachPage)
	// The community's WeCom group robot, for the overview's panel and the
	// builder's group notice.
	admin := client(t)
	httpSignIn(t, admin, a.Base, "yucai.admin")
	if status, _, _ := setRobot(t, admin, a.Base, "育才社区居民群", robotURL(robotKey)); status != http.StatusSeeOther {
		t.Fatalf("set the robot: %d", status)
	}
	// A home isolation case with the day's check-ins, one of them a fever
	// (the board's alert, the case page's chart), and its resident's link.
	token := apiLogin(t, a.Base, "yucai.staff")
	isoCase, link := openLinkedCase(t, a.Base, token, "yucai-g1", 0)
	for _, c := range []map[string]any{
		{"temperature": 36.6, "source": "staff"}, {"temperature": 37.9, "symptoms": []string{"cough"}, "source": "staff"},
	} {
		if code, b := api(t, a.Base, token, http.MethodPost, "/api/v1/orgs/yucai/isolations/"+isoCase.ID+"/checkins", c); code != http.StatusCreated {
			t.Fatalf("check-in: %d %s", code, b)
		}
	}
	household := org + "yucai/households?q=" + url.QueryEscape("育才路12号 12栋 1单元 102")
	openHousehold := chromedp.Steps(chromedp.Navigate(household), chromedp.Click(css(`#results tbody tr:first-child a`)), chromedp.WaitVisible(css(`dl.facts`)))

	type shot struct {
		name  string
		steps chromedp.Action[chromedp.Void]
	}
	for _, who := range []struct {
		user  string
		shots []shot
	}{
		{"", []shot{{"sign-in", chromedp.Navigate(a.Base + "/console/login")},
			{"resident-link", chromedp.Steps(chromedp.Navigate(a.Base+link), chromedp.WaitVisible(css(`#temperature`)))}}},
		{"yucai.staff", []shot{
			{"community-home", chromedp.Navigate(org + "yucai")},
			{"screening-progress", chromedp.Navigate(screeningPage)},
			{"households", chromedp.Navigate(org + "yucai/households?grid=yucai-g2")},
			{"household", openHousehold},
			{"resident-form-error", chromedp.Steps(openHousehold,
				chromedp.Click(css(`p.actions a.button`)), chromedp.WaitVisible(css(`input[name=name]`)),
				chromedp.SendKeys(css(`input[name=name]`), "陈志强"), chromedp.SendKeys(css(`input[name=phone]`), "12345"),
				chromedp.SendKeys(css(`input[name=id_number]`), "11010519491231002X"), chromedp.SendKeys(css(`input[name=birth_year]`), "1950"),
				chromedp.Click(css(`form.form button[type=submit]`)), chromedp.WaitVisible(css(`input[aria-invalid]`)))},
			{"outreach-campaign", chromedp.Navigate(outreachPage)},
			{"isolation-board", chromedp.Steps(chromedp.Navigate(org+"yucai/isolation"), chromedp.WaitVisible(css(`#alerts`)))},
			{"isolation-case", chromedp.Navigate(org + "yucai/isolation/cases/" + isoCase.ID)},
			// The template form with its preview, as it shows while typing.
			{"template-preview", chromedp.Steps(chromedp.Navigate(org+"yucai/outreach/templates"),
				chromedp.Click(css(`details.add summary`)), chromedp.WaitVisible(css(`textarea[name=body]`)),
				chromedp.SendKeys(css(`input[name=name]`), "核酸检测通知"),
				chromedp.SendKeys(css(`textarea[name=body]`), "{{.Name}}您好：{{.Community}}本周六上午8点在社区广场开展核酸检测，请带好身份证，排队时保持一米距离。如有发热等症状请先联系社区，不要直接前往。"),
				chromedp.WaitVisible(chromedp.Search(`//div[@id="text-preview"]/p[@class="sms-text" and contains(., "不要直接前往。")]`)),
				chromedp.Evaluate[chromedp.Void](`document.querySelector("textarea[name=body]").scrollIntoView({block: "start"})`))},
			// The builder with a WeCom group notice chosen: a format instead of
			// the audience.
			{"wecom-notice", chromedp.Steps(chromedp.Navigate(org+"yucai/outreach/new"),
				chromedp.Click(css(`input[name=channel][value=wecom]`)), chromedp.Click(css(`input[name=format][value=markdown]`)),
				chromedp.SendKeys(css(`input[name=name]`), "周六核酸检测群通知"),
				chromedp.SendKeys(css(`textarea[name=body]`), "## {{.Community}}核酸检测\n**本周六上午8点**在社区广场，请带好身份证，排队时保持一米距离。"),
				chromedp.WaitVisible(chromedp.Search(`//div[@id="text-preview"]/p[@class="sms-text" and contains(., "保持一米距离。")]`)),
				chromedp.Evaluate[chromedp.Void](`document.querySelector("fieldset.notice-format").scrollIntoView({block: "start"})`))},
			{"import", chromedp.Steps(chromedp.Navigate(org+"yucai/imports"),
				chromedp.SetUploadFiles(css(`input[type=file]`), []string{csv}),
				chromedp.Click(css(`form.form button[type=submit]`)),
				chromedp.WaitVisible(css(`#import-status .status-done`)))},
			// English is longer: the same pages, to see that they still fit.
			{"buildings", chromedp.Navigate(org + "yucai/buildings")},
			{"household-edit", chromedp.Steps(openHousehold, chromedp.Click(css(`a.button[href$="/edit"]`)), chromedp.WaitVisible(css(`form.form`)))},
			{"resident-edit", chromedp.Steps(openHousehold, chromedp.Click(css(`table a[href$="/edit"]`)), chromedp.WaitVisible(css(`form.form`)))},
			{"community-home-en", chromedp.Navigate(a.Base + "/console/lang/en?next=" + url.QueryEscape("/console/orgs/yucai"))},
			{"residents-en", chromedp.Navigate(org + "yucai/residents?tag=lives_alone")},
		}},
		{"yucai.grid1", []shot{
			{"grid-worker-households", chromedp.Navigate(org + "yucai/households")},
			// The call list as a grid worker sees it after recording one.
			{"call-list", chromedp.Steps(chromedp.Navigate(screeningPage+"/calls"),
				chromedp.Click(css(`button.outcome-reached`)), chromedp.WaitVisible(css(`p.notice`)))},
		}},
		{"yucai.admin", []shot{
			{"members", chromedp.Navigate(org + "yucai/members")},
			{"audit", chromedp.Navigate(org + "yucai/audit?action=create")},
			{"wecom-robot", chromedp.Steps(chromedp.Navigate(org+"yucai/outreach"),
				chromedp.Evaluate[chromedp.Void](`document.querySelector("#wecom-robot").scrollIntoView({block: "start"})`))},
			// The day's report with the typed-in form, and a submitted day
			// of the demo with its versions.
			{"report-today", chromedp.Navigate(org + "yucai/reports/daily")},
			{"report-submitted", chromedp.Navigate(org + "yucai/reports/daily/2020-02-10")},
		}},
		{"qixing.official", []shot{
			{"official-communities", chromedp.Navigate(org + "qixing")},
			// The day's table of the demo's 10 February, and its trend.
			{"official-report-day", chromedp.Navigate(org + "qixing/reports/daily/2020-02-10")},
			{"official-report-trend", chromedp.Steps(chromedp.Navigate(org+"qixing/reports/daily/2020-02-10"),
				chromedp.WaitVisible(css(`.report-trend svg`)),
				chromedp.Evaluate[chromedp.Void](`document.querySelector(".report-trend").scrollIntoView({block: "start"})`))},
			{"official-households-masked", chromedp.Navigate(org + "yucai/households")},
		}},
	} {
		ctx := browser(t, 1280, 800, 2*time.Minute)
		if who.user != "" {
			do(t, ctx, "sign in "+who.user, signIn(a.Base, who.user))
		}
		for _, s := range who.shots {
			for _, screen := range []struct {
				name string
				size chromedp.Action[chromedp.Void]
			}{
				{"desktop", chromedp.EmulateViewport(1280, 800)},
				{"phone", phone()},
			} {
				do(t, ctx, s.name+" on a "+screen.name, screen.size, s.steps, chromedp.Sleep(150*time.Millisecond))
				// What the screen shows, as a person first sees the page;
				// WANJIA_SCREENSHOTS_FULL=1 takes whole pages, to check them.
				capture := chromedp.CaptureScreenshot()
				if os.Getenv("WANJIA_SCREENSHOTS_FULL") != "" {
					capture = chromedp.FullScreenshot(100)
				}
				png := val(t, ctx, "screenshot", capture)
				file := filepath.Join(dir, s.name+"-"+screen.name+".png")
				if err := os.WriteFile(file, png, 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("wrote %s", file)
			}
		}
	}
}
