package console_test

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/wanjia/wanjia/pkg/i18n"
)

var (
	screeningLink = regexp.MustCompile(`^/console/orgs/yucai/screenings/([0-9a-f-]{36})\?started=1$`)
	attemptAction = regexp.MustCompile(`action="(/console/orgs/yucai/screenings/[0-9a-f-]{36}/tasks/([0-9a-f-]{36})/attempts)"`)
	keyField      = regexp.MustCompile(`name="idempotency_key" value="([^"]+)"`)
)

// startScreening starts a campaign through the staff's form (no grids:
// the whole community) and returns its id.
func startScreening(t testing.TB, base, name string, grids ...string) string {
	t.Helper()
	staff := client(t)
	httpSignIn(t, staff, base, "yucai.staff")
	_, body := get(t, staff, base+"/console/orgs/yucai/screenings")
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no form on the screenings page")
	}
	resp, err := staff.PostForm(base+"/console/orgs/yucai/screenings", url.Values{"csrf": {m[1]}, "name": {name}, "method": {"phone"}, "grids": grids})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := screeningLink.FindStringSubmatch(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || id == nil {
		t.Fatalf("start a screening: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return id[1]
}

// outcomeForm is the outcome form of the household a list page shows
// next: where it posts, its task, and its hidden fields.
type outcomeForm struct {
	Action, Task string
	Values       url.Values
}

func nextOutcomeForm(t testing.TB, c *http.Client, base, screening, list string) outcomeForm {
	t.Helper()
	status, body := get(t, c, base+"/console/orgs/yucai/screenings/"+screening+"/"+list)
	a := attemptAction.FindStringSubmatch(body)
	k := keyField.FindStringSubmatch(body)
	if status != http.StatusOK || a == nil || k == nil {
		t.Fatalf("%s list: %d, no outcome form", list, status)
	}
	method := "phone"
	if list == "visits" {
		method = "visit"
	}
	return outcomeForm{Action: html.UnescapeString(a[1]), Task: a[2], Values: url.Values{
		"csrf": {csrfField.FindStringSubmatch(body)[1]}, "idempotency_key": {k[1]}, "method": {method}, "from": {"list"}}}
}

// recordNext records outcome (and extra findings) on the next household
// of a list through its form, as a tap on the outcome's button would, and
// returns that household's task id.
func recordNext(t testing.TB, c *http.Client, base, screening, list, outcome string, extra url.Values) string {
	t.Helper()
	f := nextOutcomeForm(t, c, base, screening, list)
	f.Values.Set("outcome", outcome)
	for k, v := range extra {
		f.Values[k] = v
	}
	resp, err := c.PostForm(base+f.Action, f.Values)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "done="+f.Task) {
		t.Fatalf("record %s: %d to %q", outcome, resp.StatusCode, resp.Header.Get("Location"))
	}
	return f.Task
}

// historyRows counts the attempts a task page lists.
func historyRows(t testing.TB, c *http.Client, base, taskPath string) int {
	t.Helper()
	status, body := get(t, c, base+taskPath)
	if status != http.StatusOK {
		t.Fatalf("%s: %d", taskPath, status)
	}
	_, table, ok := strings.Cut(body, `<table class="cards history">`)
	if !ok {
		return 0
	}
	_, rows, _ := strings.Cut(table, "<tbody>")
	rows, _, _ = strings.Cut(rows, "</tbody>")
	return strings.Count(rows, "<tr")
}

// postFor posts form with c and returns the status, the redirect (if any)
// and the page.
func postFor(t testing.TB, c *http.Client, u string, form url.Values) (int, string, string) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b := new(strings.Builder)
	_, _ = io.Copy(b, resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), b.String()
}

func clone(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// TestScreeningForms: what screening refuses shows on the form it came
// from, in the reader's language, with everything typed; the same form
// posted twice records once; the roles that may only read are refused,
// token or not.
func TestScreeningForms(t *testing.T) {
	t.Parallel()
	f := newFormWorld(t)
	a, org := f.a, f.org
	staff, grid1, official := f.staff, f.grid1, f.official
	staffToken, gridToken, officialToken := f.staffToken, f.gridToken, f.officialToken

	t.Run("a campaign the service refuses", func(t *testing.T) {
		status, _, body := postFor(t, staff, org+"/screenings", url.Values{"csrf": {staffToken}, "name": {" "}, "method": {"visit"},
			"grids": {"yucai-g2"}, "start_date": {"2020-02-10"}, "end_date": {"2020-02-01"}})
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, zh("required")) || !strings.Contains(body, zh("end_before_start")) ||
			!strings.Contains(body, `value="2020-02-01"`) || !strings.Contains(body, `value="yucai-g2" checked`) || !strings.Contains(body, `value="visit" checked`) {
			t.Fatalf("%d: want 422 with the messages beside their fields and the values kept", status)
		}
		// The same form sent twice (a double click) starts one campaign.
		_, body = get(t, staff, org+"/screenings")
		key := keyField.FindStringSubmatch(body)
		if key == nil {
			t.Fatal("the campaign form has no idempotency key")
		}
		twice := url.Values{"csrf": {staffToken}, "idempotency_key": {key[1]}, "name": {"双击排查"}, "method": {"phone"}}
		_, first, _ := postFor(t, staff, org+"/screenings", twice)
		_, second, _ := postFor(t, staff, org+"/screenings", twice)
		if first == "" || first != second {
			t.Fatalf("a double-clicked campaign form led to %q and %q, want one campaign", first, second)
		}
		if status, _, _ := postFor(t, official, org+"/screenings", url.Values{"csrf": {officialToken}, "name": {"伪造"}, "method": {"phone"}}); status != http.StatusForbidden {
			t.Fatalf("the official starting a campaign: %d, want 403", status)
		}
		if status, _, _ := postFor(t, grid1, org+"/screenings", url.Values{"csrf": {gridToken}, "name": {"伪造"}, "method": {"phone"}}); status != http.StatusForbidden {
			t.Fatalf("a grid worker starting a campaign: %d, want 403", status)
		}
	})

	id := startScreening(t, a.Base, "表单排查", "yucai-g1")

	t.Run("findings the service refuses", func(t *testing.T) {
		f := nextOutcomeForm(t, grid1, a.Base, id, "calls")
		bad := clone(f.Values)
		for k, v := range map[string]string{"outcome": "reached", "travel_from": "武汉", "returned_on": "2999-01-01", "occupants": "两", "symptoms": "1", "notes": "咳嗽两天"} {
			bad.Set(k, v)
		}
		status, _, body := postFor(t, grid1, a.Base+f.Action, bad)
		for _, want := range []string{zh("expect_integer"), zh("console.form.check"), `value="武汉"`, "咳嗽两天", `value="两"`, `value="2999-01-01"`,
			`name="symptoms" value="1" checked`, `<details class="findings" open>`, `action="` + f.Action + `"`, `value="` + f.Values.Get("idempotency_key") + `"`} {
			if !strings.Contains(body, want) {
				t.Errorf("the refused form lacks %q", want)
			}
		}
		if status != http.StatusUnprocessableEntity {
			t.Fatalf("%d, want 422", status)
		}
		bad.Set("occupants", "3")
		if status, _, body := postFor(t, grid1, a.Base+f.Action, bad); status != http.StatusUnprocessableEntity || !strings.Contains(body, zh("date_in_future")) {
			t.Fatalf("a return in the future: %d, want 422 with screening's message", status)
		}
		// Enter in a field chooses no outcome: the form asks for one.
		none := clone(f.Values)
		none.Set("outcome", "")
		if status, _, body := postFor(t, grid1, a.Base+f.Action, none); status != http.StatusUnprocessableEntity || !strings.Contains(body, zh("required")) {
			t.Fatalf("no outcome: %d, want 422 asking for one", status)
		}
		if n := historyRows(t, grid1, a.Base, strings.TrimSuffix(f.Action, "/attempts")); n != 0 {
			t.Fatalf("%d attempts after refusals, want none", n)
		}
	})

	t.Run("the same form twice records once", func(t *testing.T) {
		f := nextOutcomeForm(t, grid1, a.Base, id, "calls")
		form := clone(f.Values)
		form.Set("outcome", "no_answer")
		first, firstTo, _ := postFor(t, grid1, a.Base+f.Action, form)
		again, againTo, _ := postFor(t, grid1, a.Base+f.Action, form)
		if first != http.StatusSeeOther || again != http.StatusSeeOther || firstTo != againTo || !strings.Contains(firstTo, "/calls?done="+f.Task) {
			t.Fatalf("first %d to %q, again %d to %q: want the same answer twice", first, firstTo, again, againTo)
		}
		// A second, different tap with the same form: not saved either.
		form.Set("outcome", "reached")
		status, to, _ := postFor(t, grid1, a.Base+f.Action, form)
		if status != http.StatusSeeOther || !strings.Contains(to, "repeat=1") {
			t.Fatalf("another outcome with the same key: %d to %q, want the list saying it was a repeat", status, to)
		}
		if _, body := get(t, grid1, a.Base+to); !strings.Contains(body, zh("console.calls.repeat")) {
			t.Fatal("the list does not say the repeat was not saved")
		}
		if n := historyRows(t, grid1, a.Base, strings.TrimSuffix(f.Action, "/attempts")); n != 1 {
			t.Fatalf("%d attempts after three posts of one form, want 1", n)
		}
	})

	t.Run("another grid's household and the readers", func(t *testing.T) {
		south := startScreening(t, a.Base, "南院表单排查", "yucai-g2")
		sf := nextOutcomeForm(t, staff, a.Base, south, "calls")
		form := url.Values{"csrf": {gridToken}, "method": {"phone"}, "outcome": {"reached"}, "idempotency_key": {"k-south"}}
		if status, _, _ := postFor(t, grid1, a.Base+sf.Action, form); status != http.StatusNotFound {
			t.Fatalf("a grid worker recording in another grid: %d, want 404", status)
		}
		form.Set("csrf", officialToken)
		if status, _, _ := postFor(t, official, a.Base+sf.Action, form); status != http.StatusForbidden {
			t.Fatalf("the official recording: %d, want 403", status)
		}
		if status, _, _ := postFor(t, official, org+"/screenings/"+south+"/close", url.Values{"csrf": {officialToken}}); status != http.StatusForbidden {
			t.Fatalf("the official closing: %d, want 403", status)
		}
		if _, body := get(t, official, org+"/screenings/"+south+"/calls"); strings.Contains(body, "outcome-form") || strings.Contains(body, `href="tel:`) {
			t.Fatal("the official's call list offers a form or a number to call")
		}
	})

	t.Run("a campaign closed meanwhile", func(t *testing.T) {
		f := nextOutcomeForm(t, grid1, a.Base, id, "calls")
		_, body := get(t, staff, org+"/screenings/"+id)
		if !strings.Contains(body, `action="/console/orgs/yucai/screenings/`+id+`/close"`) {
			t.Fatal("no close button for staff")
		}
		if status, to, _ := postFor(t, staff, org+"/screenings/"+id+"/close", url.Values{"csrf": {staffToken}}); status != http.StatusSeeOther || !strings.Contains(to, "closed=1") {
			t.Fatalf("close: %d to %q", status, to)
		}
		form := clone(f.Values)
		form.Set("outcome", "reached")
		form.Set("notes", "关闭后才提交")
		status, _, body := postFor(t, grid1, a.Base+f.Action, form)
		if status != http.StatusConflict || !strings.Contains(body, zh("screening_closed")) || !strings.Contains(body, "关闭后才提交") {
			t.Fatalf("recording on a closed campaign: %d, want 409 with the message and the notes kept", status)
		}
		if status, _, body := postFor(t, staff, org+"/screenings/"+id+"/close", url.Values{"csrf": {staffToken}}); status != http.StatusConflict || !strings.Contains(body, zh("screening_closed")) {
			t.Fatalf("closing twice: %d, want 409 on the page", status)
		}
		if _, body := get(t, grid1, org+"/screenings/"+id+"/calls"); strings.Contains(body, "outcome-form") || !strings.Contains(body, zh("screening_closed")) {
			t.Fatal("the closed campaign's list still offers the form, or does not say why not")
		}
	})

	t.Run("follow-ups", func(t *testing.T) {
		// Symptoms found on a call go to staff, and the worker is told so.
		fever := startScreening(t, a.Base, "跟进排查", "yucai-g1")
		f := nextOutcomeForm(t, grid1, a.Base, fever, "calls")
		f.Values.Set("outcome", "reached")
		f.Values.Set("symptoms", "1")
		status, to, _ := postFor(t, grid1, a.Base+f.Action, f.Values)
		if status != http.StatusSeeOther || !strings.Contains(to, "follow_up=1") {
			t.Fatalf("symptoms found: %d to %q, want the list saying a follow-up was raised", status, to)
		}
		if _, body := get(t, grid1, a.Base+to); !strings.Contains(body, zh("console.calls.follow_up")) {
			t.Fatal("the list does not say the findings went to staff")
		}
		_, body := get(t, staff, org+"/follow-ups")
		m := regexp.MustCompile(`action="(/console/orgs/yucai/follow-ups/[0-9a-f-]{36})"`).FindStringSubmatch(body)
		if m == nil {
			t.Fatal("no follow-up form for staff")
		}
		action := m[1]
		long := strings.Repeat("长", 501)
		status, _, body = postFor(t, staff, a.Base+action, url.Values{"csrf": {staffToken}, "status": {"done"}, "notes": {long}})
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, zh("too_long", "max", 500)) || !strings.Contains(body, long) {
			t.Fatalf("a note too long: %d, want 422 with the message and the note kept", status)
		}
		status, to, _ = postFor(t, staff, a.Base+action, url.Values{"csrf": {staffToken}, "status": {"done"}, "notes": {"已电话核实，体温正常"}, "filter_status": {"open"}})
		if status != http.StatusSeeOther || !strings.Contains(to, "status=open") {
			t.Fatalf("mark done: %d to %q", status, to)
		}
		if _, body := get(t, staff, org+"/follow-ups?status=done"); !strings.Contains(body, "已电话核实，体温正常") {
			t.Fatal("the follow-up marked done is not among the done ones")
		}
		for who, c := range map[string]*http.Client{"grid worker": grid1, "official": official} {
			tok := gridToken
			if c == official {
				tok = officialToken
			}
			if status, _, _ := postFor(t, c, a.Base+action, url.Values{"csrf": {tok}, "status": {"open"}}); status != http.StatusForbidden {
				t.Errorf("the %s updating a follow-up: %d, want 403", who, status)
			}
		}
	})
}

// formWorld is a started app with a member of each role signed in (the
// community's staff, its grid worker of yucai-g1, the official above) and
// each one's CSRF token: where the forms' tests start.
type formWorld struct {
	a                                    *testApp
	org                                  string
	staff, grid1, official               *http.Client
	staffToken, gridToken, officialToken string
}

func newFormWorld(t *testing.T) *formWorld {
	t.Helper()
	a := startApp(t)
	f := &formWorld{a: a, org: a.Base + "/console/orgs/yucai", staff: client(t), grid1: client(t), official: client(t)}
	httpSignIn(t, f.staff, a.Base, "yucai.staff")
	httpSignIn(t, f.grid1, a.Base, "yucai.grid1")
	httpSignIn(t, f.official, a.Base, "qixing.official")
	token := func(c *http.Client) string {
		_, body := get(t, c, f.org+"/screenings")
		return csrfField.FindStringSubmatch(body)[1]
	}
	f.staffToken, f.gridToken, f.officialToken = token(f.staff), token(f.grid1), token(f.official)
	return f
}

// zh is key's Chinese text with args, as a page escapes it.
func zh(key string, args ...any) string {
	m := map[string]any{}
	for i := 0; i+1 < len(args); i += 2 {
		m[args[i].(string)] = args[i+1]
	}
	return html.EscapeString(i18n.T(i18n.ZH, key, m))
}
