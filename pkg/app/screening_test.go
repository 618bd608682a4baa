package app_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestScreeningEndToEnd walks a campaign through HTTP as its users would:
// staff start it, a grid worker works its own grid's call list (and
// nothing else), a retried attempt is stored once, bad input gets the
// API's error shape, the official above reads masked, and a closed
// campaign refuses more.
func TestScreeningEndToEnd(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t, nil)
	h := a.Engine
	staff := login(t, h, "yucai.staff", demoPassword)
	worker := login(t, h, "yucai.grid1", demoPassword)
	official := login(t, h, "qixing.official", demoPassword)
	const base = "/api/v1/orgs/yucai/screenings"

	var id string
	t.Run("staff start a campaign over two grids", func(t *testing.T) {
		rec := do(t, h, http.MethodPost, base, staff, map[string]any{"name": "返乡人员排查", "method": "phone", "grids": []string{"yucai-g1", "yucai-g2"}})
		if rec.Code != http.StatusCreated {
			t.Fatalf("create: %d %s", rec.Code, rec.Body)
		}
		sc := decode[struct {
			ID       string         `json:"id"`
			Progress map[string]int `json:"progress"`
		}](t, rec.Body.Bytes())
		id = sc.ID
		if sc.Progress["households"] < 100 || sc.Progress["unreached"] != sc.Progress["households"] {
			t.Fatalf("progress at start = %v", sc.Progress)
		}
		if rec := do(t, h, http.MethodPost, base, worker, map[string]any{"name": "x", "method": "phone"}); rec.Code != http.StatusForbidden {
			t.Errorf("a grid worker starting a campaign: %d", rec.Code)
		}
	})

	type task struct {
		ID     string `json:"id"`
		Grid   string `json:"grid"`
		Phone  string `json:"phone"`
		Tel    string `json:"tel"`
		Status string `json:"status"`
	}
	var mine, theirs task
	t.Run("the grid worker's call list is its grid's", func(t *testing.T) {
		next := decode[struct {
			Task      *task `json:"task"`
			Remaining int   `json:"remaining"`
		}](t, do(t, h, http.MethodGet, base+"/"+id+"/next", worker, nil).Body.Bytes())
		if next.Task == nil || next.Task.Grid != "yucai-g1" || !strings.HasPrefix(next.Task.Tel, "tel:") {
			t.Fatalf("next = %+v", next)
		}
		mine = *next.Task
		all := decode[struct {
			Items []task `json:"items"`
		}](t, do(t, h, http.MethodGet, base+"/"+id+"/tasks?grid=yucai-g2&limit=1", staff, nil).Body.Bytes())
		if len(all.Items) != 1 {
			t.Fatal("no task in yucai-g2")
		}
		theirs = all.Items[0]
		rec := do(t, h, http.MethodPost, base+"/"+id+"/tasks/"+theirs.ID+"/attempts", worker, map[string]any{"method": "phone", "outcome": "reached"})
		if rec.Code != http.StatusNotFound {
			t.Errorf("attempt on another grid's task: %d %s", rec.Code, rec.Body)
		}
	})

	t.Run("a retried attempt is stored once", func(t *testing.T) {
		path := base + "/" + id + "/tasks/" + mine.ID + "/attempts"
		body := `{"method":"phone","outcome":"no_answer","notes":"信号差"}`
		first := post(t, h, path, worker, "k-attempt-1", body)
		again := post(t, h, path, worker, "k-attempt-1", body)
		if first.Code != http.StatusCreated || again.Code != http.StatusCreated || first.Body.String() != again.Body.String() {
			t.Fatalf("retry: %d %s / %d %s", first.Code, first.Body, again.Code, again.Body)
		}
		other := post(t, h, path, worker, "k-attempt-1", `{"method":"phone","outcome":"reached"}`)
		e := decode[errorBody](t, other.Body.Bytes())
		if other.Code != http.StatusUnprocessableEntity || len(e.Error.Details) != 1 || e.Error.Details[0].Field != "Idempotency-Key" {
			t.Errorf("same key, another body: %d %s", other.Code, other.Body)
		}
		got := decode[struct {
			Attempts int `json:"attempts"`
		}](t, do(t, h, http.MethodGet, base+"/"+id+"/tasks/"+mine.ID, worker, nil).Body.Bytes())
		if got.Attempts != 1 {
			t.Errorf("attempts stored = %d, want 1", got.Attempts)
		}
	})

	t.Run("bad input", func(t *testing.T) {
		path := base + "/" + id + "/tasks/" + mine.ID + "/attempts"
		for _, c := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"method": "phone", "outcome": "busy"}, "outcome"},
			{map[string]any{"method": "fax", "outcome": "reached"}, "method"},
			{map[string]any{"method": "phone", "outcome": "reached", "returned_on": "2099-01-01"}, "returned_on"},
		} {
			rec := do(t, h, http.MethodPost, path, worker, c.body)
			e := decode[errorBody](t, rec.Body.Bytes())
			if rec.Code != http.StatusUnprocessableEntity || len(e.Error.Details) != 1 || e.Error.Details[0].Field != c.field || e.Error.Details[0].Message == "" {
				t.Errorf("%v: %d %s", c.body, rec.Code, rec.Body)
			}
		}
		rec := do(t, h, http.MethodPost, base, staff, map[string]any{"name": "x", "method": "any", "start_date": "2020-02-10", "end_date": "2020-02-01"})
		if e := decode[errorBody](t, rec.Body.Bytes()); rec.Code != http.StatusUnprocessableEntity || e.Error.Details[0].Field != "end_date" {
			t.Errorf("dates out of order: %d %s", rec.Code, rec.Body)
		}
		if rec := do(t, h, http.MethodPost, path, worker, "not an object"); rec.Code != http.StatusBadRequest && rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("malformed body: %d", rec.Code)
		}
	})

	t.Run("the official reads masked and may not record", func(t *testing.T) {
		rec := do(t, h, http.MethodGet, base+"/"+id+"/tasks?limit=5", official, nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("official reads tasks: %d %s", rec.Code, rec.Body)
		}
		for _, it := range decode[struct {
			Items []task `json:"items"`
		}](t, rec.Body.Bytes()).Items {
			if !strings.Contains(it.Phone, "*") || it.Tel != "" {
				t.Errorf("official sees %q / %q", it.Phone, it.Tel)
			}
		}
		rec = do(t, h, http.MethodPost, base+"/"+id+"/tasks/"+mine.ID+"/attempts", official, map[string]any{"method": "phone", "outcome": "reached"})
		if rec.Code != http.StatusForbidden {
			t.Errorf("official records an attempt: %d", rec.Code)
		}
	})

	t.Run("the official looking at the call list holds nothing", func(t *testing.T) {
		type next struct {
			Task      *task `json:"task"`
			Remaining int   `json:"remaining"`
		}
		look := func(who string) next {
			t.Helper()
			rec := do(t, h, http.MethodGet, base+"/"+id+"/next?grid=yucai-g1", who, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("next: %d %s", rec.Code, rec.Body)
			}
			n := decode[next](t, rec.Body.Bytes())
			if n.Task == nil {
				t.Fatal("no household next")
			}
			return n
		}
		seen, again := look(official), look(official)
		if seen.Task.ID != again.Task.ID || !strings.Contains(seen.Task.Phone, "*") {
			t.Fatalf("the official saw %+v then %+v", seen.Task, again.Task)
		}
		// Staff, who may record, are given the household the official saw,
		// with the same count: nothing was held from them.
		if n := look(staff); n.Task.ID != seen.Task.ID || n.Remaining != seen.Remaining {
			t.Fatalf("after the official looked, staff got %s (%d left), want %s (%d left)", n.Task.ID, n.Remaining, seen.Task.ID, seen.Remaining)
		}
	})

	t.Run("a closed campaign refuses attempts", func(t *testing.T) {
		if rec := do(t, h, http.MethodPost, base+"/"+id+"/close", staff, nil); rec.Code != http.StatusOK {
			t.Fatalf("close: %d %s", rec.Code, rec.Body)
		}
		rec := do(t, h, http.MethodPost, base+"/"+id+"/tasks/"+mine.ID+"/attempts", worker, map[string]any{"method": "phone", "outcome": "reached"})
		if rec.Code != http.StatusConflict {
			t.Errorf("attempt on a closed campaign: %d %s", rec.Code, rec.Body)
		}
		if rec := do(t, h, http.MethodPost, base+"/"+id+"/close", staff, nil); rec.Code != http.StatusConflict {
			t.Errorf("closing twice: %d", rec.Code)
		}
	})
}
