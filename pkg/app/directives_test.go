package app_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestDirectivesEndToEnd: the API's answers, through the whole stack:
// 201 for the office's directive, 422 per field, 404 on a community's
// URL for sending; 200 for a community's acknowledgement, again 200 with
// the first one kept; the office's view with each community; 403 for a
// grid worker, an official acknowledging and a community on the office's
// URL.
func TestDirectivesEndToEnd(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t, nil)
	h := a.Engine
	official := login(t, h, "qixing.official", demoPassword)
	admin := login(t, h, "yucai.admin", demoPassword)
	staff := login(t, h, "yucai.staff", demoPassword)
	worker := login(t, h, "yucai.grid1", demoPassword)
	due := time.Now().AddDate(0, 0, 3).Format(time.DateOnly)

	type view struct {
		ID             string `json:"id"`
		Acknowledged   *bool  `json:"acknowledged"`
		AcknowledgedBy string `json:"acknowledged_by"`
		AcknowledgedAt string `json:"acknowledged_at"`
		Total          *int   `json:"total"`
		Acked          *int   `json:"acknowledged_count"`
		Communities    []struct {
			Community    string `json:"community"`
			Acknowledged bool   `json:"acknowledged"`
		} `json:"communities"`
	}
	rec := do(t, h, http.MethodPost, "/api/v1/orgs/qixing/directives", official,
		map[string]any{"title": "排查通知", "body": "请落实。", "communities": []string{"yucai"}, "due_date": due})
	if rec.Code != http.StatusCreated {
		t.Fatalf("post: %d %s", rec.Code, rec.Body)
	}
	d := decode[view](t, rec.Body.Bytes())

	rec = do(t, h, http.MethodPost, "/api/v1/orgs/qixing/directives", official,
		map[string]any{"title": "", "body": "x", "communities": []string{"yucai", "qixing"}, "due_date": "2020-02-30"})
	if body := rec.Body.String(); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(body, `"title"`) ||
		!strings.Contains(body, `"communities[1]"`) || !strings.Contains(body, `"due_date"`) {
		t.Fatalf("bad post: %d %s", rec.Code, body)
	}
	for _, c := range []struct {
		name, method, path, token string
		want                      int
	}{
		{"an official sends on a community's URL", http.MethodPost, "/api/v1/orgs/yucai/directives", official, http.StatusNotFound},
		{"a community's admin sends", http.MethodPost, "/api/v1/orgs/yucai/directives", admin, http.StatusForbidden},
		{"a community's admin on the office's URL", http.MethodGet, "/api/v1/orgs/qixing/directives", admin, http.StatusForbidden},
		{"a grid worker lists", http.MethodGet, "/api/v1/orgs/yucai/directives", worker, http.StatusForbidden},
		{"the official acknowledges", http.MethodPost, "/api/v1/orgs/yucai/directives/" + d.ID + "/ack", official, http.StatusForbidden},
		{"an unknown directive", http.MethodGet, "/api/v1/orgs/yucai/directives/00000000-0000-0000-0000-000000000000", staff, http.StatusNotFound},
	} {
		if rec := do(t, h, c.method, c.path, c.token, map[string]any{"title": "x", "body": "x", "due_date": due}); rec.Code != c.want {
			t.Errorf("%s: %d, want %d: %s", c.name, rec.Code, c.want, rec.Body)
		}
	}

	rec = do(t, h, http.MethodPost, "/api/v1/orgs/yucai/directives/"+d.ID+"/ack", admin, nil)
	first := decode[view](t, rec.Body.Bytes())
	if rec.Code != http.StatusOK || first.Acknowledged == nil || !*first.Acknowledged || first.AcknowledgedBy != "育才社区主任" {
		t.Fatalf("ack: %d %s", rec.Code, rec.Body)
	}
	rec = do(t, h, http.MethodPost, "/api/v1/orgs/yucai/directives/"+d.ID+"/ack", staff, nil)
	if again := decode[view](t, rec.Body.Bytes()); rec.Code != http.StatusOK || again.AcknowledgedBy != first.AcknowledgedBy || again.AcknowledgedAt != first.AcknowledgedAt {
		t.Fatalf("ack again: %d %s", rec.Code, rec.Body)
	}
	rec = do(t, h, http.MethodGet, "/api/v1/orgs/qixing/directives/"+d.ID, official, nil)
	got := decode[view](t, rec.Body.Bytes())
	if rec.Code != http.StatusOK || *got.Total != 1 || *got.Acked != 1 || len(got.Communities) != 1 || got.Communities[0].Community != "yucai" || !got.Communities[0].Acknowledged {
		t.Fatalf("the office's view: %d %s", rec.Code, rec.Body)
	}
	if rec := do(t, h, http.MethodGet, "/api/v1/orgs/yucai/directives?status=soon", staff, nil); rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("a bad status filter: %d", rec.Code)
	}
}
