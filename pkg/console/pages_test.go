package console_test

import (
	"context"
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

var householdLink = regexp.MustCompile(`href="/console/orgs/yucai/households/([0-9a-f-]{36})"`)

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

	for user, pages := range map[string]map[string]int{
		"yucai.staff": {
			"/console/": http.StatusSeeOther, yucai: 200, yucai + "/households": 200, yucai + "/households?q=1758": 200,
			yucai + household: 200, yucai + missing: 404, yucai + "/residents?tag=lives_alone": 200, yucai + "/residents/new": 200,
			yucai + "/residents/new?household=" + m[1]: 200, yucai + "/imports": 200, yucai + "/exports": 200,
			yucai + "/exports/households.csv": 200, yucai + "/exports/residents.xlsx?id_numbers=full": 403,
			yucai + "/members": 403, yucai + "/audit": 403, qixing: 403, "/console/orgs/wangcheng": 403, "/console/orgs/nowhere": 404,
			yucai + "/households?grid=nowhere": 422, "/console/nowhere": 404,
		},
		"yucai.admin": {
			yucai + "/members": 200, yucai + "/audit": 200, yucai + "/audit?action=create&from=2020-01-01&to=2099-12-31": 200,
			yucai + "/audit?from=yesterday": 422, yucai + "/exports/residents.csv?id_numbers=full": 200,
		},
		"yucai.grid1": {
			yucai: 200, yucai + "/households": 200, yucai + "/imports": 403, yucai + "/exports": 403, yucai + "/members": 403,
		},
		"qixing.official": {
			"/console/": http.StatusSeeOther, qixing: 200, qixing + "/households": 404, qixing + "/members": 200, qixing + "/audit": 200,
			yucai: 200, yucai + "/households": 200, yucai + household: 200, yucai + "/households?q=1758": 422,
			yucai + "/residents/new": 403, yucai + "/imports": 403, yucai + "/exports": 200, yucai + "/members": 200,
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
