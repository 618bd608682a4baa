package console_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/orgs"
)

var (
	householdLink = regexp.MustCompile(`href="/console/orgs/yucai/households/([0-9a-f-]{36})"`)
	careLink      = regexp.MustCompile(`href="/console/orgs/yucai/care/([0-9a-f-]{36})"`)
)

// rawKey is a catalogue key shown as it is: what T gives for a key it
// does not know.
var rawKey = regexp.MustCompile(`[>"]console\.[a-z0-9_.]+[<"]`)

// TestPagesAnswerPerRole asks for every page as each demo role, in both
// languages, over HTTP: the status says the console decides as the API
// does (403 for a permission the role lacks, 404 for community records on
// a sub-district or a record out of reach, 422 for a search the role may
// not make), and no page shows a key missing from the catalogue.
func TestPagesAnswerPerRole(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	staff := client(t)
	httpSignIn(t, staff, a.Base, "yucai.staff")
	_, body := get(t, staff, a.Base+"/console/orgs/yucai/households")
	m := householdLink.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no household on the list")
	}
	yucai, qixing, household := "/console/orgs/yucai", "/console/orgs/qixing", "/households/"+m[1]
	const missing = "/households/01a22230-0000-7000-8000-000000000000"
	resident := "/residents/" + firstResident(t, staff, a.Base)

	// Screening: a campaign of the whole community and one of grid 2 only;
	// a task of each, the first as the grid worker of grid 1 finds it.
	grid1 := client(t)
	httpSignIn(t, grid1, a.Base, "yucai.grid1")
	whole, south := startScreening(t, a.Base, "全社区排查"), startScreening(t, a.Base, "南院排查", "yucai-g2")
	campaign, southCampaign := "/screenings/"+whole, "/screenings/"+south
	task := campaign + "/tasks/" + nextOutcomeForm(t, grid1, a.Base, whole, "calls").Task
	southTask := southCampaign + "/tasks/" + nextOutcomeForm(t, staff, a.Base, south, "calls").Task
	const noCampaign = "/screenings/01a22230-0000-7000-8000-000000000000"
	// The care list: a resident of grid 1 and one of grid 2.
	careOf := func(c *http.Client, query string) string {
		_, body := get(t, c, a.Base+yucai+"/care"+query)
		m := careLink.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("nobody on the care list%s", query)
		}
		return "/care/" + m[1]
	}
	careG1, careG2 := careOf(grid1, ""), careOf(staff, "?grid=yucai-g2")
	// Outreach: a draft to grid 2.
	campaignPage := "/outreach/campaigns/" + createCampaign(t, staff, a.Base, url.Values{"name": {"角色测试"}, "channel": {"sms"},
		"body": {"{{.Name}}您好"}, "scope": {"grids"}, "grids": {"yucai-g2"}})
	const noOutreach = "/outreach/campaigns/01a22230-0000-7000-8000-000000000000"

	for user, pages := range map[string]map[string]int{
		"yucai.staff": {
			"/console/": http.StatusSeeOther, yucai: 200, yucai + "/households": 200, yucai + "/households?q=1758": 200,
			yucai + household: 200, yucai + missing: 404, yucai + "/residents?tag=lives_alone": 200, yucai + "/residents/new": 200,
			yucai + "/residents/new?household=" + m[1]: 200, yucai + "/imports": 200, yucai + "/exports": 200,
			yucai + "/exports/households.csv": 200, yucai + "/exports/residents.xlsx?id_numbers=full": 403,
			yucai + "/members": 403, yucai + "/audit": 403, qixing: 403, "/console/orgs/wangcheng": 403, "/console/orgs/nowhere": 404,
			yucai + "/households?grid=nowhere": 422, "/console/nowhere": 404,
			yucai + "/buildings": 200, yucai + "/buildings?grid=yucai-g1&q=1": 200, yucai + "/buildings?grid=nowhere": 422,
			yucai + "/households/new": 200, yucai + household + "/edit": 200, yucai + missing + "/edit": 404,
			yucai + resident + "/edit": 200, yucai + "/residents/01a22230-0000-7000-8000-000000000000/edit": 404,
			yucai + "/screenings": 200, yucai + campaign: 200, yucai + noCampaign: 404, yucai + campaign + "/calls": 200,
			yucai + campaign + "/visits": 200, yucai + task: 200, yucai + southTask: 200, yucai + task + "?method=visit": 200,
			yucai + campaign + "/tasks/01a22230-0000-7000-8000-000000000000": 404, yucai + noCampaign + "/calls": 404,
			yucai + "/follow-ups": 200, yucai + "/follow-ups?status=all": 200, yucai + "/follow-ups?status=bogus": 422,
			yucai + "/follow-ups?grid=nowhere": 422, yucai + "/publicity": 200, yucai + "/publicity?kind=poster&from=2020-01-01": 200,
			yucai + "/publicity?from=yesterday": 422, yucai + "/publicity/exports/publicity.xlsx": 200,
			yucai + "/publicity/exports/publicity.csv?kind=poster": 200, yucai + "/publicity/exports/residents.csv": 404,
			yucai + "/disinfections": 200, yucai + "/disinfections/exports/disinfections.csv": 200, yucai + "/care": 200,
			yucai + "/care?overdue=1&grid=yucai-g2": 200, yucai + careG1: 200, yucai + careG2: 200,
			yucai + "/care/01a22230-0000-7000-8000-000000000000": 404,
			yucai + "/outreach": 200, yucai + "/outreach/new": 200, yucai + "/outreach/new?template=nothing": 200,
			yucai + campaignPage: 200, yucai + campaignPage + "/status": 200, yucai + noOutreach: 404, yucai + noOutreach + "/status": 404,
			yucai + "/outreach/templates": 200, yucai + "/outreach/replies": 200, yucai + "/outreach/replies?kind=opt_out": 200,
			yucai + "/outreach/replies?kind=bogus": 422, yucai + "/outreach/opt-outs": 200,
		},
		"yucai.admin": {
			yucai + "/members": 200, yucai + "/audit": 200, yucai + "/audit?action=create&from=2020-01-01&to=2099-12-31": 200,
			yucai + "/audit?from=yesterday": 422, yucai + "/exports/residents.csv?id_numbers=full": 200,
			yucai + "/screenings": 200, yucai + campaign: 200, yucai + campaign + "/calls": 200, yucai + task: 200,
			yucai + "/follow-ups": 200, yucai + "/publicity": 200, yucai + "/disinfections": 200, yucai + "/care": 200,
			yucai + careG2:      200,
			yucai + "/outreach": 200, yucai + "/outreach/new": 200, yucai + campaignPage: 200, yucai + "/outreach/templates": 200,
			yucai + "/outreach/replies": 200, yucai + "/outreach/opt-outs": 200,
		},
		"yucai.grid1": {
			yucai: 200, yucai + "/households": 200, yucai + "/imports": 403, yucai + "/exports": 403, yucai + "/members": 403,
			yucai + "/buildings": 200, yucai + "/buildings?grid=yucai-g2": 422, yucai + "/households/new": 200,
			yucai + "/screenings": 200, yucai + campaign: 200, yucai + southCampaign: 200, yucai + campaign + "/calls": 200,
			yucai + campaign + "/visits": 200, yucai + southCampaign + "/calls": 200, yucai + task: 200, yucai + southTask: 404,
			yucai + "/follow-ups": 200, yucai + "/follow-ups?grid=yucai-g2": 422, yucai + "/publicity": 200,
			yucai + "/publicity?grid=yucai-g2": 422, yucai + "/publicity/exports/publicity.xlsx": 403, yucai + "/disinfections": 200,
			yucai + "/disinfections/exports/disinfections.csv": 403, yucai + "/care": 200, yucai + "/care?grid=yucai-g2": 422,
			yucai + careG1: 200, yucai + careG2: 404,
			yucai + "/outreach": 403, yucai + "/outreach/new": 403, yucai + campaignPage: 403, yucai + campaignPage + "/status": 403,
			yucai + "/outreach/templates": 403, yucai + "/outreach/replies": 403, yucai + "/outreach/opt-outs": 403,
		},
		"qixing.official": {
			"/console/": http.StatusSeeOther, qixing: 200, qixing + "/households": 404, qixing + "/members": 200, qixing + "/audit": 200,
			yucai: 200, yucai + "/households": 200, yucai + household: 200, yucai + "/households?q=1758": 422,
			yucai + "/residents/new": 403, yucai + "/imports": 403, yucai + "/exports": 200, yucai + "/members": 200,
			yucai + "/buildings": 200, qixing + "/buildings": 404, yucai + "/households/new": 403, yucai + household + "/edit": 403,
			yucai + resident + "/edit": 403,
			yucai + "/screenings":      200, yucai + campaign: 200, yucai + campaign + "/calls": 200, yucai + campaign + "/visits": 200,
			yucai + task: 200, yucai + "/follow-ups": 200, yucai + "/publicity": 200, yucai + "/publicity/exports/publicity.csv": 200,
			yucai + "/disinfections": 200, yucai + "/care": 403, yucai + careG1: 403,
			qixing + "/screenings": 404, qixing + "/follow-ups": 404, qixing + "/publicity": 404, qixing + "/disinfections": 404,
			qixing + "/care":    404,
			yucai + "/outreach": 403, yucai + campaignPage: 403, yucai + "/outreach/templates": 403, yucai + "/outreach/opt-outs": 403,
			qixing + "/outreach": 404, qixing + "/outreach/templates": 404, qixing + "/outreach/opt-outs": 404,
		},
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

	// Signed out, a page sends to the sign-in page and back.
	resp, err := client(t).Get(a.Base + yucai + "/households?q=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/console/login?next=%2Fconsole%2Forgs%2Fyucai%2Fhouseholds%3Fq%3D1" {
		t.Fatalf("signed out: %d to %q", resp.StatusCode, loc)
	}
	// The API is untouched: its unknown routes answer in its own shape.
	if status, body := get(t, client(t), a.Base+"/api/v1/nowhere"); status != 404 || !strings.Contains(body, `"error"`) {
		t.Fatalf("the API's 404: %d %s", status, body)
	}
}

// TestMemberOfSeveralOrgsSwitches: someone who works in two communities
// picks one on arrival and switches from any page's header.
func TestMemberOfSeveralOrgsSwitches(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	ctx := context.Background()
	err := a.DB.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, _, err := a.Orgs.ApplyMember(ctx, tx, "wangcheng", orgs.MemberInput{Username: "yucai.staff", Role: "community_staff"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Authz.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	c := client(t)
	httpSignIn(t, c, a.Base, "yucai.staff")
	status, body := get(t, c, a.Base+"/console/")
	if status != http.StatusOK || !strings.Contains(body, `href="/console/orgs/yucai"`) || !strings.Contains(body, `href="/console/orgs/wangcheng"`) {
		t.Fatalf("the start page of a member of two orgs: %d, want both to choose from", status)
	}
	status, body = get(t, c, a.Base+"/console/orgs/wangcheng/households")
	if status != http.StatusOK || !strings.Contains(body, `<details class="switch">`) ||
		!strings.Contains(body, `href="/console/orgs/wangcheng" aria-current="page"`) || !strings.Contains(body, `href="/console/orgs/yucai">`) {
		t.Fatalf("wangcheng's households: %d, want the switch with yucai", status)
	}
	if !strings.Contains(body, "王城路") || strings.Contains(body, "育才路") {
		t.Fatal("wangcheng's list shows another community's households")
	}
}

// TestAdminAddsPeopleAndGrids: a community admin adds a grid and a grid
// worker from the people page; what orgs refuses shows beside its field.
func TestAdminAddsPeopleAndGrids(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	admin := client(t)
	httpSignIn(t, admin, a.Base, "yucai.admin")
	page := a.Base + "/console/orgs/yucai/members"
	_, body := get(t, admin, page)
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no form on the people page")
	}
	token := m[1]

	status, body := post(t, admin, a.Base+"/console/orgs/yucai/grids", url.Values{"csrf": {token}, "name": {"新区"}, "slug": {"Bad Slug"}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, i18n.T(i18n.ZH, "invalid_slug", nil)) {
		t.Fatalf("a bad slug: %d, want 422 with orgs' message", status)
	}
	if status, _ = post(t, admin, a.Base+"/console/orgs/yucai/grids", url.Values{"csrf": {token}, "name": {"新区"}, "slug": {"yucai-g6"}}); status != http.StatusSeeOther {
		t.Fatalf("a good grid: %d, want 303", status)
	}

	worker := url.Values{"csrf": {token}, "username": {"yucai.grid6"}, "display_name": {"新区网格员"}, "phone": {"123"},
		"password": {"short"}, "role": {"grid_worker"}, "grids": {"yucai-g6"}}
	status, body = post(t, admin, page, worker)
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, i18n.T(i18n.ZH, "invalid_mobile", nil)) ||
		!strings.Contains(body, `value="yucai.grid6"`) || strings.Contains(body, `value="short"`) {
		t.Fatalf("a bad member: %d, want 422 with the phone's message, the username kept and the password not", status)
	}
	worker.Set("phone", "13912345678")
	worker.Set("password", "a-long-pass-phrase-6")
	if status, _ = post(t, admin, page, worker); status != http.StatusSeeOther {
		t.Fatalf("a good member: %d, want 303", status)
	}
	if _, body = get(t, admin, page); !strings.Contains(body, "yucai.grid6") || !strings.Contains(body, "yucai-g6") {
		t.Fatal("the new member or grid is not listed")
	}

	// Staff may read nothing here and add nothing, token or not.
	staff := client(t)
	httpSignIn(t, staff, a.Base, "yucai.staff")
	_, body = get(t, staff, a.Base+"/console/orgs/yucai")
	if status, _ := post(t, staff, page, url.Values{"csrf": {csrfField.FindStringSubmatch(body)[1]}, "username": {"x.y.z"}}); status != http.StatusForbidden {
		t.Fatalf("staff adding a member: %d, want 403", status)
	}
}

var residentEditLink = regexp.MustCompile(`href="/console/orgs/yucai/residents/([0-9a-f-]{36})/edit"`)

// firstResident is the id of a resident of yucai, found as staff finds
// one: from the list, through the household's page.
func firstResident(t *testing.T, staff *http.Client, base string) string {
	t.Helper()
	_, body := get(t, staff, base+"/console/orgs/yucai/residents")
	m := householdLink.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no resident on the list")
	}
	_, body = get(t, staff, base+"/console/orgs/yucai/households/"+m[1])
	r := residentEditLink.FindStringSubmatch(body)
	if r == nil {
		t.Fatal("no resident to edit on the household page")
	}
	return r[1]
}

// TestRosterForms: staff add a building and a household and edit a
// household and a resident; what roster refuses shows beside its field,
// an ID number left empty stays as it was, and an official's POSTs are
// refused, token or not.
func TestRosterForms(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	staff := client(t)
	httpSignIn(t, staff, a.Base, "yucai.staff")
	org := a.Base + "/console/orgs/yucai"
	_, body := get(t, staff, org+"/buildings")
	token := csrfField.FindStringSubmatch(body)[1]
	zh := func(key string) string { return i18n.T(i18n.ZH, key, nil) }

	// A building.
	status, body := post(t, staff, org+"/buildings", url.Values{"csrf": {token}, "name": {"新楼"}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, zh("required")) || !strings.Contains(body, `value="新楼"`) {
		t.Fatalf("a building without a grid: %d, want 422 with roster's message and the name kept", status)
	}
	if status, _ = post(t, staff, org+"/buildings", url.Values{"csrf": {token}, "grid": {"yucai-g1"}, "name": {"新楼"}, "address": {"育才路99号"}}); status != http.StatusSeeOther {
		t.Fatalf("a good building: %d, want 303", status)
	}
	if _, body = get(t, staff, org+"/buildings?q="+url.QueryEscape("新楼")); !strings.Contains(body, "育才路99号") {
		t.Fatal("the new building is not listed")
	}

	// A household: new, then edited.
	status, body = post(t, staff, org+"/households", url.Values{"csrf": {token}, "grid": {"yucai-g1"}, "phone": {"12345"}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, zh("address_or_building")) || !strings.Contains(body, `name="phone" type="tel" inputmode="tel" value="12345"`) {
		t.Fatalf("a household without an address: %d, want 422 with roster's message", status)
	}
	resp, err := staff.PostForm(org+"/households", url.Values{"csrf": {token}, "grid": {"yucai-g1"}, "address": {"育才路99号 表单测试"}, "phone": {"13900001111"}, "tags": {"elderly"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/orgs/yucai/households/") {
		t.Fatalf("a good household: %d to %q", resp.StatusCode, loc)
	}
	page, _, _ := strings.Cut(loc, "?")
	if _, body = get(t, staff, a.Base+page+"/edit"); !strings.Contains(body, `name="was_phone" value="13900001111"`) {
		t.Fatal("the edit form does not hold the household's phone")
	}
	was := url.Values{"csrf": {token}, "was_grid": {"yucai-g1"}, "was_address": {"育才路99号 表单测试"}, "was_phone": {"13900001111"}, "was_tags": {"elderly"},
		"grid": {"yucai-g1"}, "address": {"育才路99号 表单测试"}, "tags": {"elderly"}}
	was.Set("phone", "139")
	if status, body = post(t, staff, a.Base+page, was); status != http.StatusUnprocessableEntity || !strings.Contains(body, `aria-invalid`) {
		t.Fatalf("a wrong phone: %d, want 422", status)
	}
	was.Set("phone", "13900002222")
	was.Set("notes", "表单备注")
	if status, _ = post(t, staff, a.Base+page, was); status != http.StatusSeeOther {
		t.Fatalf("a good edit: %d, want 303", status)
	}
	if _, body = get(t, staff, a.Base+page); !strings.Contains(body, "13900002222") || !strings.Contains(body, "表单备注") || !strings.Contains(body, zh("console.tag.elderly")) {
		t.Fatal("the household page does not show the edit")
	}

	// A resident: the ID number left empty stays.
	id := firstResident(t, staff, a.Base)
	_, body = get(t, staff, org+"/residents/"+id+"/edit")
	field := func(name string) string {
		m := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no %s on the resident's form", name)
		}
		return html.UnescapeString(m[1])
	}
	hint := regexp.MustCompile(`<p class="hint" id="id-on-record">([^<]*)</p>`).FindStringSubmatch(body)
	if hint == nil {
		t.Fatal("the resident's form does not say what is on record")
	}
	form := url.Values{"csrf": {token}, "household_id": {field("household_id")}, "was_name": {field("was_name")}, "name": {field("was_name") + "乙"},
		"was_phone": {field("was_phone")}, "phone": {field("was_phone")}, "id_number": {""}}
	if status, body = post(t, staff, org+"/residents/"+id, url.Values{"csrf": {token}, "was_name": form["was_name"], "name": {""}}); status != http.StatusUnprocessableEntity || !strings.Contains(body, zh("required")) {
		t.Fatalf("a resident without a name: %d, want 422 with roster's message", status)
	}
	if status, _ = post(t, staff, org+"/residents/"+id, form); status != http.StatusSeeOther {
		t.Fatalf("a good resident edit: %d, want 303", status)
	}
	_, body = get(t, staff, org+"/residents/"+id+"/edit")
	if field("was_name") != form.Get("name") || !strings.Contains(body, hint[0]) {
		t.Fatal("the resident's edit did not take, or the ID number on record changed")
	}

	// The official may read, never write.
	official := client(t)
	httpSignIn(t, official, a.Base, "qixing.official")
	_, body = get(t, official, org+"/households")
	otoken := csrfField.FindStringSubmatch(body)[1]
	for _, p := range []string{"/buildings", "/households", strings.TrimPrefix(page, "/console/orgs/yucai"), "/residents/" + id} {
		if status, _ := post(t, official, org+p, url.Values{"csrf": {otoken}, "name": {"伪造"}, "grid": {"yucai-g1"}}); status != http.StatusForbidden {
			t.Errorf("the official's POST %s: %d, want 403", p, status)
		}
	}
	if strings.Contains(body, "/households/new") {
		t.Error("the official's list offers to add a household")
	}
}
