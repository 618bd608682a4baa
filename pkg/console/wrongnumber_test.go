package console_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var phoneAction = regexp.MustCompile(`action="(/console/orgs/yucai/screenings/[0-9a-f-]{36}/tasks/([0-9a-f-]{36})/phone)"`)

// TestWrongNumberAtTheDoor: a number the grid worker marks wrong puts the
// household on the door list, flagged so, with a form for the right
// number; a bad number is refused on that form, a good one goes on the
// roster (audited as a change of the household's phone), the list offers
// it to dial, and the household is back on the call list with it. An
// official has no form and may not post one; another community's task is
// 404.
func TestWrongNumberAtTheDoor(t *testing.T) {
	t.Parallel()
	f := newFormWorld(t)
	base, org := f.a.Base, f.org
	id := startScreening(t, base, "空号上门", "yucai-g1")
	task := recordNext(t, f.grid1, base, id, "calls", "wrong_number", nil)

	visits := org + "/screenings/" + id + "/visits"
	_, body := get(t, f.grid1, visits)
	m := phoneAction.FindStringSubmatch(body)
	if m == nil || m[2] != task || !strings.Contains(body, zh("console.visits.wrong_number")) {
		t.Fatal("the door list does not offer the household just marked wrong, flagged, with a number form")
	}
	action := base + m[1]
	token := csrfField.FindStringSubmatch(body)[1]

	// The official reads the list, without the form, and may not post it.
	if _, body := get(t, f.official, visits); phoneAction.MatchString(body) {
		t.Error("the official is offered the number form")
	}
	if status, _ := post(t, f.official, action, url.Values{"csrf": {f.officialToken}, "phone": {"13912345678"}}); status != http.StatusForbidden {
		t.Errorf("the official posting a number: %d, want 403", status)
	}
	// Another community's task, under this community's campaign.
	theirCampaign, theirs := wangchengTask(t, base)
	for _, p := range []string{id + "/tasks/" + theirs, theirCampaign + "/tasks/" + theirs} {
		if status, _ := post(t, f.grid1, org+"/screenings/"+p+"/phone", url.Values{"csrf": {token}, "phone": {"13912345678"}}); status != http.StatusNotFound {
			t.Errorf("Wangcheng's task through Yucai (%s): %d, want 404", p, status)
		}
	}

	// A bad number is refused on the form, kept as typed.
	status, body := post(t, f.grid1, action, url.Values{"csrf": {token}, "phone": {"12ab"}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, `value="12ab"`) || !phoneAction.MatchString(body) {
		t.Fatalf("a bad number: %d, want 422 with the form and the number kept", status)
	}
	if status, body := post(t, f.grid1, action, url.Values{"csrf": {token}, "phone": {""}}); status != http.StatusUnprocessableEntity || !strings.Contains(body, zh("required")) {
		t.Fatalf("no number: %d, want 422 required", status)
	}

	resp, err := f.grid1.PostForm(action, url.Values{"csrf": {token}, "phone": {"139 1234 5678"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	to := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(to, "corrected="+task) {
		t.Fatalf("the right number: %d to %q", resp.StatusCode, to)
	}
	_, body = get(t, f.grid1, base+to)
	if !strings.Contains(body, `href="tel:13912345678"`) || !strings.Contains(body, `/tasks/`+task+`?method=phone`) {
		i := strings.Index(body, "<main")
		t.Fatalf("the door list does not offer the new number to dial and the call to record:\n%s", body[i:min(len(body), i+2500)])
	}
	if phoneAction.MatchString(body) {
		t.Error("the household is still on the door list with a number form")
	}
	// A second tap of the same form changes nothing more.
	if resp, err := f.grid1.PostForm(action, url.Values{"csrf": {token}, "phone": {"13800000000"}}); err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a second tap: %v %v", resp, err)
	}

	// The call list gives it back, with the new number.
	api := apiLogin(t, base, "yucai.grid1")
	code, b := apiGet(t, base, api, "/api/v1/orgs/yucai/screenings/"+id+"/tasks/"+task)
	var tv struct {
		Door        bool   `json:"door"`
		Phone       string `json:"phone"`
		LastOutcome string `json:"last_outcome"`
		HouseholdID string `json:"household_id"`
	}
	if code != http.StatusOK || json.Unmarshal(b, &tv) != nil || tv.Door || tv.Phone != "13912345678" {
		t.Fatalf("the task after: %d %s, want on the call list with 13912345678", code, b)
	}
	code, b = apiGet(t, base, api, "/api/v1/orgs/yucai/screenings/"+id+"/tasks?list=call&limit=200")
	if code != http.StatusOK || !strings.Contains(string(b), `"id":"`+task+`"`) {
		t.Fatalf("the call list does not give the household back: %d", code)
	}
	// The change of phone is in the audit log, once, with who made it.
	code, b = apiGet(t, base, apiLogin(t, base, "yucai.admin"), "/api/v1/orgs/yucai/audit?action=update&limit=100")
	var log struct {
		Items []struct {
			Actor, Resource string
			ResourceID      string         `json:"resource_id"`
			Details         map[string]any `json:"details"`
		} `json:"items"`
	}
	if code != http.StatusOK || json.Unmarshal(b, &log) != nil {
		t.Fatalf("the audit log: %d %s", code, b)
	}
	phones, back := 0, 0
	for _, e := range log.Items {
		if e.Resource == "household" && e.ResourceID == tv.HouseholdID && strings.Contains(string(mustJSON(e.Details)), "phone") {
			phones++
		}
		if e.Resource == "task" && e.ResourceID == task {
			back++
		}
	}
	if phones != 1 || back != 1 {
		t.Fatalf("the audit log has %d phone changes of the household and %d returns of the task, want 1 and 1", phones, back)
	}
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

func apiGet(t testing.TB, base, token, path string) (int, []byte) {
	t.Helper()
	return api(t, base, token, http.MethodGet, path, nil)
}

// wangchengTask starts a campaign in Wangcheng and returns it and one of
// its tasks.
func wangchengTask(t testing.TB, base string) (string, string) {
	t.Helper()
	token := apiLogin(t, base, "wangcheng.admin")
	code, b := api(t, base, token, http.MethodPost, "/api/v1/orgs/wangcheng/screenings",
		map[string]any{"name": "望城排查", "method": "phone", "grids": []string{"wangcheng-g1"}})
	var s struct{ ID string }
	if code != http.StatusCreated || json.Unmarshal(b, &s) != nil {
		t.Fatalf("start Wangcheng's campaign: %d %s", code, b)
	}
	code, b = apiGet(t, base, token, "/api/v1/orgs/wangcheng/screenings/"+s.ID+"/tasks?limit=1")
	var page struct{ Items []struct{ ID string } }
	if code != http.StatusOK || json.Unmarshal(b, &page) != nil || len(page.Items) == 0 {
		t.Fatalf("Wangcheng's tasks: %d %s", code, b)
	}
	return s.ID, page.Items[0].ID
}
