package app_test

import (
	"net/http"
	"sort"
	"strings"
	"testing"
)

// recordKinds names, for each route segment followed by an {id}, how the
// walker finds a real record of that kind in Yucai. A new route with an id
// fails TestRouteWalkerWithRealRecords until its kind is added here, so
// every later domain is walked with real ids too.
var recordKinds = map[string]bool{"households": true, "residents": true, "imports": true, "invitations": true,
	"screenings": true, "follow-ups": true, "care": true, "campaigns": true,
	"isolations": true, "alerts": true, "support-requests": true, "directives": true}

// dateParams fills the {date} of routes keyed by a day, by resource: a
// day with a real record of Yucai's (the demo's submitted report).
var dateParams = map[string]string{"reports": "2020-02-10"}

// secondParams fills the second id of routes that name two records.
var secondParams = map[string]string{":task": "tasks"}

// fileParams fills the {file} of routes that name a file.
var fileParams = map[string]string{"/imports/:id/:file": "rejected.csv", "/exports/:file": "residents.csv"}

// TestRouteWalkerWithRealRecords asks for each of Yucai's real records by
// id, on every route with an {id}, as a Wangcheng user: through Wangcheng's
// own URLs (the route lock lets them in; only the data lock stands between
// them and Yucai's rows) and through Yucai's URLs (the route lock). Every
// answer is 403 or 404 with nothing but an error. It also reads /me, /orgs
// and the lists filtered by Yucai's ids as strangers, and looks for any of
// Yucai's ids or names in what comes back.
//
// The app runs on a database with the tenant guard, and on PostgreSQL as a
// role that row security binds, so a lookup that loses its tenant scope
// fails here twice over.
func TestRouteWalkerWithRealRecords(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t, nil)
	h := a.Engine
	staff := login(t, h, "yucai.staff", demoPassword)

	// Real records of Yucai, one of each kind.
	real := map[string]string{}
	var names []string
	for _, kind := range []string{"households", "residents"} {
		p := decode[page](t, do(t, h, http.MethodGet, "/api/v1/orgs/yucai/"+kind+"?limit=1", staff, nil).Body.Bytes())
		if len(p.Items) != 1 {
			t.Fatalf("no %s in yucai", kind)
		}
		real[kind] = p.Items[0].ID
	}
	res := decode[map[string]any](t, do(t, h, http.MethodGet, "/api/v1/orgs/yucai/residents/"+real["residents"], staff, nil).Body.Bytes())
	if n, _ := res["name"].(string); n != "" {
		names = append(names, n)
	}
	rec := upload(t, h, staff, "households", "walk.csv", []byte("网格,地址\nyucai-g1,育才路999号\n,\n"))
	if rec.Code != http.StatusAccepted {
		t.Fatalf("upload: %d %s", rec.Code, rec.Body)
	}
	real["imports"] = decode[importView](t, rec.Body.Bytes()).ID
	// An invitation of Yucai's: its id is the invited user's to answer.
	yadmin := login(t, h, "yucai.admin", demoPassword)
	if rec := do(t, h, http.MethodPost, "/api/v1/orgs/yucai/invitations", yadmin, map[string]any{"username": "wangcheng.staff", "role": "community_staff"}); rec.Code/100 != 2 {
		t.Fatalf("invite: %d %s", rec.Code, rec.Body)
	}
	invited := login(t, h, "wangcheng.staff", demoPassword)
	inv := decode[struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}](t, do(t, h, http.MethodGet, "/api/v1/me/invitations", invited, nil).Body.Bytes())
	if len(inv.Items) != 1 {
		t.Fatalf("the invited user sees %d invitations", len(inv.Items))
	}
	real["invitations"] = inv.Items[0].ID

	// A campaign of Yucai's, one of its tasks, a follow-up its findings
	// raised, and a resident (the care list's id).
	sc := decode[struct {
		ID string `json:"id"`
	}](t, do(t, h, http.MethodPost, "/api/v1/orgs/yucai/screenings", staff, map[string]any{"name": "走访", "method": "any"}).Body.Bytes())
	real["screenings"] = sc.ID
	tasks := decode[page](t, do(t, h, http.MethodGet, "/api/v1/orgs/yucai/screenings/"+sc.ID+"/tasks?limit=1", staff, nil).Body.Bytes())
	if len(tasks.Items) != 1 {
		t.Fatal("the walker's campaign has no task")
	}
	real["tasks"] = tasks.Items[0].ID
	rec = do(t, h, http.MethodPost, "/api/v1/orgs/yucai/screenings/"+sc.ID+"/tasks/"+real["tasks"]+"/attempts", staff,
		map[string]any{"method": "phone", "outcome": "reached", "symptoms": true})
	real["follow-ups"] = decode[struct {
		FollowUpID string `json:"follow_up_id"`
	}](t, rec.Body.Bytes()).FollowUpID
	if real["follow-ups"] == "" {
		t.Fatalf("no follow-up from a finding of symptoms: %d %s", rec.Code, rec.Body)
	}
	real["care"] = real["residents"]

	// An isolation case of Yucai's with a fever alert, and a support
	// request of its resident.
	rec = do(t, h, http.MethodPost, "/api/v1/orgs/yucai/isolations", staff, map[string]any{"resident_id": real["residents"], "kind": "home_isolation"})
	real["isolations"] = decode[struct {
		ID string `json:"id"`
	}](t, rec.Body.Bytes()).ID
	rec = do(t, h, http.MethodPost, "/api/v1/orgs/yucai/isolations/"+real["isolations"]+"/checkins", staff, map[string]any{"temperature": 38.2})
	real["alerts"] = decode[struct {
		AlertID string `json:"alert_id"`
	}](t, rec.Body.Bytes()).AlertID
	rec = do(t, h, http.MethodPost, "/api/v1/orgs/yucai/support-requests", staff, map[string]any{"resident_id": real["residents"], "kind": "groceries"})
	real["support-requests"] = decode[struct {
		ID string `json:"id"`
	}](t, rec.Body.Bytes()).ID
	if real["isolations"] == "" || real["alerts"] == "" || real["support-requests"] == "" {
		t.Fatalf("no isolation records for the walker: %v", real)
	}

	// An outreach campaign of Yucai's, made from a template of its own, and
	// an opt-out: templates and opt-outs have no {id} route, but their ids
	// must not show in a stranger's lists either.
	tpl := decode[struct {
		ID string `json:"id"`
	}](t, do(t, h, http.MethodPost, "/api/v1/orgs/yucai/templates", staff,
		map[string]any{"name": "防疫通知", "channel": "sms", "body": "{{.Name}}您好，请做好防护。"}).Body.Bytes())
	if tpl.ID == "" {
		t.Fatal("no template for the walker")
	}
	real["templates"] = tpl.ID
	rec = do(t, h, http.MethodPost, "/api/v1/orgs/yucai/campaigns", staff,
		map[string]any{"name": "防疫通知", "channel": "sms", "template_id": tpl.ID, "audience": map[string]any{"grids": []string{"yucai-g1"}}})
	real["campaigns"] = decode[struct {
		ID string `json:"id"`
	}](t, rec.Body.Bytes()).ID
	if real["campaigns"] == "" {
		t.Fatalf("no campaign for the walker: %d %s", rec.Code, rec.Body)
	}
	rec = do(t, h, http.MethodPost, "/api/v1/orgs/yucai/opt-outs", staff, map[string]any{"phone": "13900139000"})
	real["opt-outs"] = decode[struct {
		ID string `json:"id"`
	}](t, rec.Body.Bytes()).ID
	if real["opt-outs"] == "" {
		t.Fatalf("no opt-out for the walker: %d %s", rec.Code, rec.Body)
	}

	// A directive the sub-district sent to Yucai alone (Wangcheng has none
	// of its own to answer with), and the office it came from, whose URLs
	// the strangers try too.
	official := login(t, h, "qixing.official", demoPassword)
	rec = do(t, h, http.MethodPost, "/api/v1/orgs/qixing/directives", official,
		map[string]any{"title": "关于加强返乡人员排查的通知", "body": "请各社区落实。", "communities": []string{"yucai"}, "due_date": "2099-12-31"})
	real["directives"] = decode[struct {
		ID string `json:"id"`
	}](t, rec.Body.Bytes()).ID
	if real["directives"] == "" {
		t.Fatalf("no directive for the walker: %d %s", rec.Code, rec.Body)
	}

	// Strangers to Yucai's records; and to the invitation, which is
	// wangcheng.staff's alone, a Yucai user too.
	strangers := map[string]string{
		"wangcheng.admin": login(t, h, "wangcheng.admin", demoPassword),
		"wangcheng.staff": invited,
	}
	toInvitation := map[string]string{
		"wangcheng.admin": strangers["wangcheng.admin"],
		"yucai.grid1":     login(t, h, "yucai.grid1", demoPassword),
	}
	onlyError := func(t *testing.T, what string, code int, body string) {
		t.Helper()
		if code != http.StatusForbidden && code != http.StatusNotFound {
			t.Errorf("%s: %d, want 403 or 404: %.300s", what, code, body)
			return
		}
		if b := decode[map[string]any](t, []byte(body)); len(b) != 1 || b["error"] == nil {
			t.Errorf("%s: the body must be only an error, got %.300s", what, body)
		}
		for _, id := range real {
			if strings.Contains(body, id) {
				t.Errorf("%s: the answer names a Yucai record: %.300s", what, body)
			}
		}
	}

	routes := a.Engine.Routes()
	sort.Slice(routes, func(i, j int) bool { return routes[i].Path+routes[i].Method < routes[j].Path+routes[j].Method })
	walked := 0
	for _, r := range routes {
		if !strings.Contains(r.Path, "/:id") {
			continue
		}
		kind := r.Path[:strings.Index(r.Path, "/:id")]
		kind = kind[strings.LastIndex(kind, "/")+1:]
		if !recordKinds[kind] {
			t.Errorf("%s %s: no real record of kind %q to walk it with; add one to recordKinds", r.Method, r.Path, kind)
			continue
		}
		id := real[kind]
		path := strings.Replace(r.Path, ":id", id, 1)
		for param, kind := range secondParams {
			path = strings.Replace(path, param, real[kind], 1)
		}
		for suffix, file := range fileParams {
			if strings.HasSuffix(r.Path, suffix) {
				path = strings.Replace(path, ":file", file, 1)
			}
		}
		body := map[string]any{"name": "闯入者", "notes": "x", "address": "x", "status": "done",
			"method": "phone", "outcome": "reached", "reason": "x"}
		walked++
		if !strings.Contains(r.Path, ":org") {
			for who, token := range toInvitation {
				rec := do(t, h, r.Method, path, token, body)
				onlyError(t, r.Method+" "+path+" as "+who, rec.Code, rec.Body.String())
			}
			continue
		}
		for who, token := range strangers {
			for _, org := range []string{"wangcheng", "yucai", "qixing"} {
				p := strings.Replace(path, ":org", org, 1)
				rec := do(t, h, r.Method, p, token, body)
				onlyError(t, r.Method+" "+p+" as "+who, rec.Code, rec.Body.String())
			}
		}
	}
	if walked < 8 {
		t.Fatalf("walked %d id routes, expected every households, residents, imports and invitations route", walked)
	}
	// Routes keyed by a day (the daily reports: a day is no record, each
	// community has its own) with a day Yucai reported, through Yucai's
	// URLs: the route lock alone.
	days := 0
	for _, r := range routes {
		if !strings.Contains(r.Path, ":date") {
			continue
		}
		days++
		path := strings.Replace(r.Path, ":date", dateParams["reports"], 1)
		for who, token := range strangers {
			p := strings.Replace(path, ":org", "yucai", 1)
			rec := do(t, h, r.Method, p, token, map[string]any{"manual": map[string]any{"staff_on_duty": 1}, "reason": "x"})
			onlyError(t, r.Method+" "+p+" as "+who, rec.Code, rec.Body.String())
		}
	}
	if days < 5 {
		t.Errorf("walked %d day routes, want every daily report route", days)
	}

	// Lists of their own community, filtered by Yucai's ids, and the
	// strangers' own views of themselves and the tree.
	w := strangers["wangcheng.admin"]
	for _, p := range []string{
		"/api/v1/orgs/wangcheng/residents?household_id=" + real["households"],
		"/api/v1/orgs/wangcheng/households?q=" + "育才",
		"/api/v1/me",
		"/api/v1/orgs",
		"/api/v1/orgs/wangcheng/audit",
		"/api/v1/orgs/wangcheng/screenings",
		"/api/v1/orgs/wangcheng/follow-ups",
		"/api/v1/orgs/wangcheng/templates",
		"/api/v1/orgs/wangcheng/campaigns",
		"/api/v1/orgs/wangcheng/opt-outs",
		"/api/v1/orgs/wangcheng/replies",
		"/api/v1/orgs/wangcheng/isolations",
		"/api/v1/orgs/wangcheng/alerts",
		"/api/v1/orgs/wangcheng/support-requests",
		"/api/v1/orgs/wangcheng/directives",
	} {
		rec := do(t, h, http.MethodGet, p, w, nil)
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s as wangcheng.admin: %d %s", p, rec.Code, rec.Body)
		}
		for _, leak := range append(names, real["households"], real["residents"], real["imports"], real["screenings"], real["tasks"], real["follow-ups"],
			real["templates"], real["campaigns"], real["opt-outs"], real["isolations"], real["alerts"], real["support-requests"], real["directives"], "yucai") {
			if strings.Contains(rec.Body.String(), leak) {
				t.Errorf("GET %s as wangcheng.admin shows %q: %.300s", p, leak, rec.Body)
			}
		}
	}

	// Nothing the strangers tried changed Yucai's records.
	task := decode[map[string]any](t, do(t, h, http.MethodGet, "/api/v1/orgs/yucai/screenings/"+real["screenings"]+"/tasks/"+real["tasks"], staff, nil).Body.Bytes())
	if task["attempts"] != float64(1) {
		t.Fatalf("a stranger recorded an attempt on a Yucai task: %v", task["attempts"])
	}
	for _, status := range []string{"done", "dismissed"} {
		rec := do(t, h, http.MethodGet, "/api/v1/orgs/yucai/follow-ups?limit=500&status="+status, staff, nil)
		if strings.Contains(rec.Body.String(), real["follow-ups"]) {
			t.Fatalf("a stranger made a Yucai follow-up %s", status)
		}
	}
	got := decode[map[string]any](t, do(t, h, http.MethodGet, "/api/v1/orgs/yucai/residents/"+real["residents"], staff, nil).Body.Bytes())
	if got["name"] == "闯入者" {
		t.Fatal("a stranger renamed a Yucai resident")
	}
	if rec := do(t, h, http.MethodGet, "/api/v1/orgs/yucai/households/"+real["households"], staff, nil); rec.Code != http.StatusOK {
		t.Fatalf("a stranger deleted a Yucai household: %d", rec.Code)
	}
	campaign := decode[map[string]any](t, do(t, h, http.MethodGet, "/api/v1/orgs/yucai/campaigns/"+real["campaigns"], staff, nil).Body.Bytes())
	if campaign["status"] != "draft" {
		t.Fatalf("a stranger moved a Yucai campaign: %v", campaign["status"])
	}
	iso := decode[map[string]any](t, do(t, h, http.MethodGet, "/api/v1/orgs/yucai/isolations/"+real["isolations"], staff, nil).Body.Bytes())
	if iso["status"] != "active" || len(iso["checkins"].([]any)) != 1 || len(iso["alerts"].([]any)) != 1 || iso["alerts"].([]any)[0].(map[string]any)["status"] != "open" {
		t.Fatalf("a stranger changed a Yucai case: %v", iso)
	}
	if rec := do(t, h, http.MethodGet, "/api/v1/orgs/yucai/support-requests?status=open", staff, nil); !strings.Contains(rec.Body.String(), real["support-requests"]) {
		t.Fatalf("a stranger moved a Yucai support request: %s", rec.Body)
	}
	if rec := do(t, h, http.MethodGet, "/api/v1/orgs/yucai/follow-ups?status=open&limit=500", staff, nil); !strings.Contains(rec.Body.String(), real["follow-ups"]) {
		t.Fatalf("a stranger turned a Yucai follow-up into cases: %s", rec.Body)
	}
	if rec := do(t, h, http.MethodGet, "/api/v1/me/invitations", invited, nil); !strings.Contains(rec.Body.String(), real["invitations"]) {
		t.Fatalf("a stranger answered someone else's invitation: %s", rec.Body)
	}
}
