package app_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestIsolationEndToEnd walks isolation through HTTP: staff open a case
// (retried with its key: one case, the same link), bad check-ins get the
// API's error shape and store nothing, a grid worker checks in its own
// grid's resident and gets 404 for another grid's, a fever raises an alert
// staff acknowledge and close, releases obey the end date and the admin's
// force, support requests move through their states, and a follow-up that
// is not open is a 409.
func TestIsolationEndToEnd(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t, nil)
	h := a.Engine
	staff := login(t, h, "yucai.staff", demoPassword)
	admin := login(t, h, "yucai.admin", demoPassword)
	worker := login(t, h, "yucai.grid1", demoPassword)
	const base = "/api/v1/orgs/yucai"
	type item struct {
		ID         string `json:"id"`
		Grid       string `json:"grid"`
		Status     string `json:"status"`
		EndDate    string `json:"end_date"`
		CheckinURL string `json:"checkin_url"`
		AlertID    string `json:"alert_id"`
		Overdue    bool   `json:"overdue"`
	}
	residentIn := func(grid string) string {
		p := decode[struct{ Items []item }](t, do(t, h, http.MethodGet, base+"/residents?limit=1&grid="+grid, staff, nil).Body.Bytes())
		if len(p.Items) != 1 || p.Items[0].Grid != grid {
			t.Fatalf("no resident in %s: %+v", grid, p.Items)
		}
		return p.Items[0].ID
	}
	g1, g2 := residentIn("yucai-g1"), residentIn("yucai-g2")

	body := `{"resident_id":"` + g1 + `","kind":"home_isolation"}`
	first := post(t, h, base+"/isolations", staff, "iso-1", body)
	again := post(t, h, base+"/isolations", staff, "iso-1", body)
	if first.Code != http.StatusCreated || again.Code != http.StatusCreated || first.Body.String() != again.Body.String() {
		t.Fatalf("create and retry: %d %s / %d %s", first.Code, first.Body, again.Code, again.Body)
	}
	mine := decode[item](t, first.Body.Bytes())
	if mine.Status != "active" || !strings.Contains(mine.CheckinURL, "/r/") || mine.EndDate == "" {
		t.Fatalf("created: %+v", mine)
	}
	if rec := do(t, h, http.MethodPost, base+"/isolations", staff, map[string]any{"resident_id": g1, "kind": "close_contact"}); rec.Code != http.StatusConflict {
		t.Fatalf("second live case: %d %s", rec.Code, rec.Body)
	}
	theirs := decode[item](t, do(t, h, http.MethodPost, base+"/isolations", staff, map[string]any{"resident_id": g2, "kind": "close_contact", "days": 7}).Body.Bytes())

	checkins := base + "/isolations/" + mine.ID + "/checkins"
	for _, c := range []struct {
		name  string
		who   string
		path  string
		body  any
		code  int
		field string
	}{
		{"temperature 45", staff, checkins, map[string]any{"temperature": 45}, 422, "temperature"},
		{"temperature abc", staff, checkins, map[string]any{"temperature": "abc"}, 422, "temperature"},
		{"unknown symptom", staff, checkins, map[string]any{"temperature": 36.5, "symptoms": []string{"hiccups"}}, 422, "symptoms[0]"},
		{"another grid's case", worker, base + "/isolations/" + theirs.ID + "/checkins", map[string]any{"temperature": 36.5}, 404, ""},
		{"another grid's case, read", worker, base + "/isolations/" + theirs.ID, nil, 404, ""},
		{"unknown kind", staff, base + "/isolations", map[string]any{"resident_id": g2, "kind": "quarantine"}, 422, "kind"},
		{"grid worker opens a case", worker, base + "/isolations", map[string]any{"resident_id": g1, "kind": "home_isolation"}, 403, ""},
	} {
		method := http.MethodPost
		if c.body == nil {
			method = http.MethodGet
		}
		rec := do(t, h, method, c.path, c.who, c.body)
		if rec.Code != c.code || (c.field != "" && !strings.Contains(rec.Body.String(), `"field":"`+c.field+`"`)) {
			t.Errorf("%s: %d %s, want %d naming %q", c.name, rec.Code, rec.Body, c.code, c.field)
		}
	}
	got := decode[struct {
		Checkins []item `json:"checkins"`
		Messages []struct {
			Key string `json:"key"`
		} `json:"messages"`
	}](t, do(t, h, http.MethodGet, base+"/isolations/"+mine.ID, staff, nil).Body.Bytes())
	if len(got.Checkins) != 0 {
		t.Fatalf("a refused check-in was stored: %+v", got.Checkins)
	}
	// The link went to the resident once, through outreach's outbox.
	if len(got.Messages) != 1 || got.Messages[0].Key != "link:"+mine.ID {
		t.Fatalf("messages about the case: %+v, want its link once", got.Messages)
	}

	// The grid worker at the door, retried on a weak network: one check-in,
	// one fever alert.
	k1 := post(t, h, checkins, worker, "ck-1", `{"temperature":"38.0","symptoms":["cough"]}`)
	k2 := post(t, h, checkins, worker, "ck-1", `{"temperature":"38.0","symptoms":["cough"]}`)
	if k1.Code != http.StatusCreated || k1.Body.String() != k2.Body.String() {
		t.Fatalf("check-in and retry: %d %s / %s", k1.Code, k1.Body, k2.Body)
	}
	alert := decode[item](t, k1.Body.Bytes()).AlertID
	alerts := decode[struct{ Items []item }](t, do(t, h, http.MethodGet, base+"/alerts?status=open&kind=fever", staff, nil).Body.Bytes())
	if len(alerts.Items) != 1 || alerts.Items[0].ID != alert {
		t.Fatalf("open fever alerts: %+v, want %s", alerts.Items, alert)
	}
	if rec := do(t, h, http.MethodPost, base+"/alerts/"+alert+"/ack", worker, nil); rec.Code != http.StatusForbidden {
		t.Errorf("a grid worker acknowledges: %d", rec.Code)
	}
	for _, step := range []string{"ack", "close"} {
		if rec := do(t, h, http.MethodPost, base+"/alerts/"+alert+"/"+step, staff, nil); rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", step, rec.Code, rec.Body)
		}
	}

	release := base + "/isolations/" + theirs.ID + "/release"
	for _, c := range []struct {
		who  string
		body any
		code int
	}{
		{staff, nil, 409},
		{staff, map[string]any{"force": true, "reason": "转院"}, 403},
		{admin, map[string]any{"force": true}, 422},
		{admin, map[string]any{"force": true, "reason": "专家评估解除"}, 200},
		{admin, nil, 409},
	} {
		if rec := do(t, h, http.MethodPost, release, c.who, c.body); rec.Code != c.code {
			t.Errorf("release %v: %d %s, want %d", c.body, rec.Code, rec.Body, c.code)
		}
	}

	sr := decode[item](t, post(t, h, base+"/support-requests", worker, "sr-1", `{"resident_id":"`+g1+`","kind":"medicine","details":"降压药"}`).Body.Bytes())
	if sr.Status != "open" {
		t.Fatalf("support request: %+v", sr)
	}
	for _, c := range []struct {
		body map[string]any
		code int
		want string
	}{
		{map[string]any{"assignee": "yucai.grid1"}, 200, "assigned"},
		{map[string]any{"status": "done"}, 200, "done"},
		{map[string]any{"status": "cancelled"}, 409, ""},
	} {
		rec := do(t, h, http.MethodPatch, base+"/support-requests/"+sr.ID, worker, c.body)
		if rec.Code != c.code || (c.want != "" && decode[item](t, rec.Body.Bytes()).Status != c.want) {
			t.Errorf("support %v: %d %s", c.body, rec.Code, rec.Body)
		}
	}
	if rec := do(t, h, http.MethodPost, base+"/support-requests", staff, map[string]any{"resident_id": g1, "kind": "taxi"}); rec.Code != 422 ||
		!strings.Contains(rec.Body.String(), `"field":"kind"`) {
		t.Errorf("unknown support kind: %d %s", rec.Code, rec.Body)
	}

	// A follow-up becomes cases once; then it is not open (409).
	fus := decode[struct{ Items []item }](t, do(t, h, http.MethodGet, base+"/follow-ups?status=open&limit=1", staff, nil).Body.Bytes())
	if len(fus.Items) != 1 {
		t.Fatal("the demo has no open follow-up")
	}
	from := base + "/follow-ups/" + fus.Items[0].ID + "/isolations"
	rec := do(t, h, http.MethodPost, from, staff, map[string]any{"kind": "close_contact"})
	cases := decode[struct{ Items []item }](t, rec.Body.Bytes())
	if rec.Code != http.StatusCreated || len(cases.Items) == 0 || cases.Items[0].CheckinURL == "" {
		t.Fatalf("cases from a follow-up: %d %s", rec.Code, rec.Body)
	}
	if rec := do(t, h, http.MethodPost, from, staff, map[string]any{"kind": "close_contact"}); rec.Code != http.StatusConflict {
		t.Errorf("the same follow-up again: %d %s", rec.Code, rec.Body)
	}
	if rec := do(t, h, http.MethodPatch, base+"/follow-ups/"+fus.Items[0].ID, staff, map[string]any{"status": "done"}); rec.Code != http.StatusConflict {
		t.Errorf("PATCH of a follow-up that became a case: %d", rec.Code)
	}
}
