package app_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

type reportJSON struct {
	Org         string         `json:"org"`
	Status      string         `json:"status"`
	Version     int            `json:"version"`
	SubmittedAt *time.Time     `json:"submitted_at"`
	AfterCutoff bool           `json:"after_cutoff"`
	Figures     map[string]int `json:"figures"`
	Manual      map[string]int `json:"manual"`
	History     []struct {
		Version int    `json:"version"`
		Kind    string `json:"kind"`
	} `json:"history"`
	Totals      map[string]int `json:"totals"`
	Communities []struct {
		Org         string         `json:"org"`
		Status      string         `json:"status"`
		Draft       bool           `json:"draft"`
		SubmittedAt *time.Time     `json:"submitted_at"`
		Figures     map[string]int `json:"figures"`
	} `json:"communities"`
	Missing []string `json:"missing"`
}

// TestDemoReports: the demo's reports of 27 January to 10 February 2020
// are submitted at 18:00; the day of 10 February has the figures both
// communities reported, and the Qixing rollup their sums.
func TestDemoReports(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t, nil)
	h := a.Engine
	want := map[string]map[string]int{
		"yucai": {"households_total": 2100, "households_screened_total": 1859, "screened_by_phone_total": 1528,
			"screened_by_visit_total": 331, "households_unreached": 241, "notices_posted_total": 1300,
			"households_isolated_total": 89, "households_released_total": 80, "suspected": 0, "confirmed": 0, "close_contacts": 0},
		"wangcheng": {"households_total": 857, "households_screened_total": 105, "screened_by_phone_total": 65,
			"screened_by_visit_total": 40, "notices_posted_total": 110},
	}
	at := time.Date(2020, 2, 10, 10, 0, 0, 0, time.UTC) // 18:00 in Guilin
	for org, figures := range want {
		token := login(t, h, org+".admin", demoPassword)
		rec := do(t, h, http.MethodGet, "/api/v1/orgs/"+org+"/reports/daily/2020-02-10", token, nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", org, rec.Code, rec.Body)
		}
		r := decode[reportJSON](t, rec.Body.Bytes())
		if r.Status != "submitted" || r.Version != 1 || r.SubmittedAt == nil || !r.SubmittedAt.Equal(at) || r.AfterCutoff {
			t.Errorf("%s: %s v%d at %v after_cutoff=%v", org, r.Status, r.Version, r.SubmittedAt, r.AfterCutoff)
		}
		for k, v := range figures {
			if r.Figures[k] != v {
				t.Errorf("%s: %s = %d, want %d", org, k, r.Figures[k], v)
			}
		}
		s := decode[struct {
			Items []struct {
				Status string `json:"status"`
			} `json:"items"`
		}](t, do(t, h, http.MethodGet, "/api/v1/orgs/"+org+"/reports/daily?from=2020-01-26&to=2020-02-11", token, nil).Body.Bytes())
		var statuses []string
		for _, it := range s.Items {
			statuses = append(statuses, it.Status)
		}
		if got := strings.Join(statuses, ","); got != "draft"+strings.Repeat(",submitted", 15)+",draft" {
			t.Errorf("%s: series %s", org, got)
		}
	}
	official := login(t, h, "qixing.official", demoPassword)
	rec := do(t, h, http.MethodGet, "/api/v1/orgs/qixing/reports/daily/2020-02-10", official, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("rollup: %d %s", rec.Code, rec.Body)
	}
	r := decode[reportJSON](t, rec.Body.Bytes())
	if len(r.Communities) != 2 || len(r.Missing) != 0 {
		t.Fatalf("rollup: %+v", r)
	}
	for _, k := range []string{"households_total", "households_screened_total", "screened_by_phone_total", "screened_by_visit_total",
		"notices_posted_total", "households_isolated_total"} {
		if r.Totals[k] != want["yucai"][k]+want["wangcheng"][k] {
			t.Errorf("qixing's %s = %d, want %d", k, r.Totals[k], want["yucai"][k]+want["wangcheng"][k])
		}
	}
}

// TestReportsEndToEnd: a day through HTTP as the offices would: staff type
// in (a text figure is a 422 on its field) but may not submit; the admin
// submits once (409 after, for a PUT too) and corrects; the official above
// sees Yucai submitted and Wangcheng late, may not write, and exports;
// another community's users get nothing; a range over 92 days is a 422.
func TestReportsEndToEnd(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t, nil)
	h := a.Engine
	staff := login(t, h, "yucai.staff", demoPassword)
	admin := login(t, h, "yucai.admin", demoPassword)
	official := login(t, h, "qixing.official", demoPassword)
	stranger := login(t, h, "wangcheng.admin", demoPassword)
	const day = "/api/v1/orgs/yucai/reports/daily/2020-02-11"
	type call struct {
		method, path, token string
		body                any
		code                int
		has                 string
	}
	run := func(calls []call) {
		t.Helper()
		for _, c := range calls {
			rec := do(t, h, c.method, c.path, c.token, c.body)
			if rec.Code != c.code || !strings.Contains(rec.Body.String(), c.has) {
				t.Errorf("%s %s: %d, want %d with %s: %.400s", c.method, c.path, rec.Code, c.code, c.has, rec.Body)
			}
		}
	}
	run([]call{
		{http.MethodPut, day, staff, map[string]any{"manual": map[string]any{"staff_on_duty": "五"}}, 422, `"manual.staff_on_duty"`},
		{http.MethodPut, day, staff, map[string]any{"manual": map[string]any{"staff_on_duty": 8}}, 200, `"staff_on_duty":8`},
		{http.MethodPost, day + "/submit", staff, nil, 403, ""},
		{http.MethodGet, day, stranger, nil, 403, ""},
		{http.MethodPost, day + "/submit", stranger, nil, 403, ""},
	})
	// A retried submit (same Idempotency-Key) is answered as the first; a
	// submit without it, after, is a 409.
	const key = "5d1c9a2e-0b7f-4c3d-9e8a-1f2b3c4d5e6f"
	first, again := post(t, h, day+"/submit", admin, key, ""), post(t, h, day+"/submit", admin, key, "")
	if first.Code != http.StatusOK || again.Code != http.StatusOK || first.Body.String() != again.Body.String() ||
		!strings.Contains(first.Body.String(), `"status":"submitted"`) {
		t.Errorf("keyed submits: %d %.200s / %d %.200s", first.Code, first.Body, again.Code, again.Body)
	}
	run([]call{
		{http.MethodPost, day + "/submit", admin, nil, 409, ""},
		{http.MethodPut, day, staff, map[string]any{"manual": map[string]any{"staff_on_duty": 9}}, 409, ""},
		{http.MethodPost, day + "/corrections", admin, map[string]any{"reason": "补报", "manual": map[string]any{"staff_on_duty": 9}}, 201, `"version":2`},
		{http.MethodPut, day, official, map[string]any{"manual": map[string]any{}}, 403, ""},
		{http.MethodGet, "/api/v1/orgs/qixing/reports/daily/2020-02-11", official, nil, 200, `"missing":["wangcheng"]`},
		{http.MethodGet, "/api/v1/orgs/qixing/reports/daily/2020-02-11", stranger, nil, 403, ""},
		{http.MethodGet, "/api/v1/orgs/qixing/reports/daily/2020-2-11", official, nil, 422, `"date"`},
		{http.MethodGet, "/api/v1/orgs/qixing/reports/daily?from=2020-01-01&to=2020-04-02", official, nil, 422, `"to"`},
		{http.MethodGet, "/api/v1/orgs/qixing/reports/daily?from=2020-01-01&to=2020-04-01", official, nil, 200, `"submitted":2`},
	})
	r := decode[reportJSON](t, do(t, h, http.MethodGet, "/api/v1/orgs/qixing/reports/daily/2020-02-11", official, nil).Body.Bytes())
	got := map[string]string{}
	for _, c := range r.Communities {
		got[c.Org] = c.Status
	}
	if got["yucai"] != "submitted" || got["wangcheng"] != "late" {
		t.Errorf("statuses %v", got)
	}
	rec := do(t, h, http.MethodGet, "/api/v1/orgs/qixing/reports/daily/2020-02-11/export?format=xlsx", official, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("export: %d %s", rec.Code, rec.Body)
	}
	x, err := excelize.OpenReader(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	rows, _ := x.GetRows("日报")
	if len(rows) != 5 || !strings.Contains(rows[0][0], "2020-02-11") || rows[4][0] != "合计" {
		t.Errorf("export rows %q", rows)
	}
}
