package app_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestLogsEndToEnd logs publicity and a disinfection round through HTTP as
// the office would: the demo's log is there, a retried entry is stored
// once, a grid worker logs for its own grid only and may not export, and
// the official above reads and exports.
func TestLogsEndToEnd(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t, nil)
	h := a.Engine
	staff := login(t, h, "yucai.staff", demoPassword)
	worker := login(t, h, "yucai.grid1", demoPassword)
	official := login(t, h, "qixing.official", demoPassword)
	const base = "/api/v1/orgs/yucai"

	type entry struct {
		ID   string `json:"id"`
		Kind string `json:"kind"`
		Grid string `json:"grid"`
	}
	list := func(t *testing.T, path, token string) []entry {
		t.Helper()
		rec := do(t, h, http.MethodGet, base+path, token, nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
		return decode[struct {
			Items []entry `json:"items"`
		}](t, rec.Body.Bytes()).Items
	}
	if got := list(t, "/publicity?limit=5&to=2020-02-10", staff); len(got) != 5 {
		t.Fatalf("the demo's publicity: %+v", got)
	}

	const key = "5d0c1f4e-2b3a-4c6d-8e9f-0a1b2c3d4e5f"
	body := `{"kind":"poster","count":12,"grid":"yucai-g1"}`
	first, again := post(t, h, base+"/publicity", worker, key, body), post(t, h, base+"/publicity", worker, key, body)
	if first.Code != http.StatusCreated || again.Body.String() != first.Body.String() {
		t.Fatalf("publicity: %d %s, retried %d %s", first.Code, first.Body, again.Code, again.Body)
	}
	id := decode[entry](t, first.Body.Bytes()).ID
	n := 0
	for _, e := range list(t, "/publicity?kind=poster&grid=yucai-g1&limit=200", staff) {
		if e.ID == id {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the retried entry is listed %d times", n)
	}
	if rec := post(t, h, base+"/publicity", worker, "6d0c1f4e-2b3a-4c6d-8e9f-0a1b2c3d4e5f", `{"kind":"poster","count":1,"grid":"yucai-g2"}`); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), `"grid"`) {
		t.Errorf("a grid worker logging another grid's: %d %s", rec.Code, rec.Body)
	}
	if rec := post(t, h, base+"/disinfections", worker, "7d0c1f4e-2b3a-4c6d-8e9f-0a1b2c3d4e5f", `{"place":"1号楼楼道","grid":"yucai-g1"}`); rec.Code != http.StatusCreated {
		t.Errorf("a grid worker's round: %d %s", rec.Code, rec.Body)
	}
	for _, c := range []struct {
		path, token string
		status      int
	}{
		{"/publicity/export?format=csv", official, http.StatusOK},
		{"/disinfections/export", staff, http.StatusOK},
		{"/publicity/export", worker, http.StatusForbidden},
	} {
		if rec := do(t, h, http.MethodGet, base+c.path, c.token, nil); rec.Code != c.status {
			t.Errorf("GET %s: %d, want %d", c.path, rec.Code, c.status)
		}
	}
	if rec := post(t, h, base+"/publicity", official, "8d0c1f4e-2b3a-4c6d-8e9f-0a1b2c3d4e5f", `{"kind":"notice","count":1}`); rec.Code != http.StatusForbidden {
		t.Errorf("the official logging publicity: %d", rec.Code)
	}
}

// TestCareEndToEnd works the demo's care list through HTTP: a grid worker
// sees its grid's residents only, records a call that reaches the first
// (once, though retried), who then moves down the list; officials have no
// care list.
func TestCareEndToEnd(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t, nil)
	h := a.Engine
	worker := login(t, h, "yucai.grid1", demoPassword)
	official := login(t, h, "qixing.official", demoPassword)
	const base = "/api/v1/orgs/yucai/care"

	type entry struct {
		ResidentID string `json:"resident_id"`
		Grid       string `json:"grid"`
		Overdue    bool   `json:"overdue"`
	}
	list := func() []entry {
		rec := do(t, h, http.MethodGet, base+"?limit=200", worker, nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("care list: %d %s", rec.Code, rec.Body)
		}
		return decode[struct {
			Items []entry `json:"items"`
		}](t, rec.Body.Bytes()).Items
	}
	before := list()
	if len(before) < 2 {
		t.Fatalf("the grid worker's care list: %+v", before)
	}
	for _, e := range before {
		if e.Grid != "yucai-g1" {
			t.Fatalf("another grid's resident on the grid worker's list: %+v", e)
		}
	}
	first := before[0].ResidentID
	const key = "9d0c1f4e-2b3a-4c6d-8e9f-0a1b2c3d4e5f"
	body := `{"method":"phone","outcome":"reached","reason":"例行问候"}`
	rec, again := post(t, h, base+"/"+first+"/contacts", worker, key, body), post(t, h, base+"/"+first+"/contacts", worker, key, body)
	if rec.Code != http.StatusCreated || again.Body.String() != rec.Body.String() {
		t.Fatalf("care contact: %d %s, retried %d %s", rec.Code, rec.Body, again.Code, again.Body)
	}
	after := list()
	if after[0].ResidentID == first || after[len(after)-1].ResidentID != first || after[len(after)-1].Overdue {
		t.Errorf("after the contact the resident is not last and on time: %+v", after[len(after)-1])
	}
	if rec := do(t, h, http.MethodGet, base, official, nil); rec.Code != http.StatusForbidden {
		t.Errorf("the official's care list: %d", rec.Code)
	}
}
