package app_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/wanjia/wanjia/pkg/app"
	"github.com/wanjia/wanjia/pkg/config"
)

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// TestOrganisationsEndToEnd drives the tree from the platform admin down
// to a grid worker, through the HTTP API only.
func TestOrganisationsEndToEnd(t *testing.T) {
	a := newApp(t, nil)
	h := a.Engine
	admin := login(t, h, "admin", "admin-pass-123")

	create := []struct {
		name string
		body map[string]any
		code int
	}{
		{"district", map[string]any{"slug": "lingui", "name": "临桂区", "kind": "district"}, 201},
		{"subdistrict", map[string]any{"slug": "lingui-town", "name": "临桂镇", "kind": "subdistrict", "parent": "lingui"}, 201},
		{"community", map[string]any{"slug": "shijia", "name": "世纪社区", "kind": "community", "parent": "lingui-town"}, 201},
		{"same slug again", map[string]any{"slug": "shijia", "name": "又一个", "kind": "community", "parent": "lingui-town"}, 409},
		{"community under a district", map[string]any{"slug": "wrong", "name": "错", "kind": "community", "parent": "lingui"}, 422},
		{"unknown parent", map[string]any{"slug": "orphan", "name": "孤", "kind": "community", "parent": "nowhere"}, 422},
		{"bad slug and kind", map[string]any{"slug": "Bad Slug", "name": "", "kind": "city"}, 422},
		{"bad time zone", map[string]any{"slug": "tz", "name": "时区", "kind": "district", "timezone": "Mars/Olympus"}, 422},
		{"bad settings", map[string]any{"slug": "st", "name": "设置", "kind": "district", "settings": map[string]any{"isolation_days": 0, "report_cutoff": "25:00"}}, 422},
	}
	for _, c := range create {
		rec := do(t, h, http.MethodPost, "/api/v1/orgs", admin, c.body)
		if rec.Code != c.code {
			t.Fatalf("%s: %d %s", c.name, rec.Code, rec.Body)
		}
	}
	org := decode[map[string]any](t, do(t, h, http.MethodGet, "/api/v1/orgs/shijia", admin, nil).Body.Bytes())
	if org["parent"] != "lingui-town" || org["timezone"] != "Asia/Shanghai" || org["kind"] != "community" {
		t.Fatalf("org: %v", org)
	}

	// The platform admin appoints the first community admin; it may not
	// appoint staff, and it reads no resident data.
	rec := do(t, h, http.MethodPost, "/api/v1/orgs/shijia/members", admin, map[string]any{
		"username": "shijia.admin", "display_name": "世纪社区主任", "phone": "13800001234", "password": "first-admin-pw", "role": "community_admin"})
	if rec.Code != 201 {
		t.Fatalf("first admin: %d %s", rec.Code, rec.Body)
	}
	if rec := do(t, h, http.MethodPost, "/api/v1/orgs/shijia/members", admin, map[string]any{
		"username": "sneaky", "display_name": "x", "password": "sneaky-pass", "role": "community_staff"}); rec.Code != 403 {
		t.Fatalf("platform admin granting staff: %d %s", rec.Code, rec.Body)
	}
	cadmin := login(t, h, "shijia.admin", "first-admin-pw")
	for _, g := range []string{"shijia-g1", "shijia-g2"} {
		if rec := do(t, h, http.MethodPost, "/api/v1/orgs/shijia/grids", cadmin, map[string]any{"slug": g, "name": "网格 " + g}); rec.Code != 201 {
			t.Fatalf("grid %s: %d %s", g, rec.Code, rec.Body)
		}
	}
	if rec := do(t, h, http.MethodPost, "/api/v1/orgs/shijia/grids", cadmin, map[string]any{"slug": "shijia-g1", "name": "dup"}); rec.Code != 409 {
		t.Fatalf("duplicate grid: %d %s", rec.Code, rec.Body)
	}
	members := []struct {
		body map[string]any
		code int
	}{
		{map[string]any{"username": "shijia.grid1", "display_name": "网格员", "password": "grid-worker-pw", "role": "grid_worker", "grids": []string{"shijia-g1"}}, 201},
		{map[string]any{"username": "shijia.grid9", "display_name": "网格员", "password": "grid-worker-pw", "role": "grid_worker", "grids": []string{"no-such-grid"}}, 422},
		{map[string]any{"username": "shijia.grid8", "display_name": "网格员", "password": "grid-worker-pw", "role": "grid_worker"}, 422},
		{map[string]any{"username": "shijia.staff", "display_name": "工作人员", "password": "short", "role": "community_staff"}, 422},
		{map[string]any{"username": "shijia.official", "display_name": "x", "password": "long-enough", "role": "subdistrict_official"}, 422},
		{map[string]any{"username": "shijia.grid1", "role": "grid_worker", "grids": []string{"shijia-g2"}}, 409},
	}
	for _, m := range members {
		if rec := do(t, h, http.MethodPost, "/api/v1/orgs/shijia/members", cadmin, m.body); rec.Code != m.code {
			t.Fatalf("member %v: %d %s", m.body["username"], rec.Code, rec.Body)
		}
	}
	grid := login(t, h, "shijia.grid1", "grid-worker-pw")
	me := decode[map[string]any](t, do(t, h, http.MethodGet, "/api/v1/me", grid, nil).Body.Bytes())
	ms := me["memberships"].([]any)
	if len(ms) != 1 || ms[0].(map[string]any)["role"] != "grid_worker" || ms[0].(map[string]any)["org"] != "shijia" {
		t.Fatalf("me: %v", me)
	}
	if rec := do(t, h, http.MethodGet, "/api/v1/orgs/shijia/members", grid, nil); rec.Code != 403 {
		t.Fatalf("grid worker listing members: %d", rec.Code)
	}

	// A sub-district official sees the communities below, phones masked.
	if rec := do(t, h, http.MethodPost, "/api/v1/orgs/lingui-town/members", admin, map[string]any{
		"username": "lingui.official", "display_name": "街道干部", "password": "official-pw", "role": "subdistrict_official"}); rec.Code != 201 {
		t.Fatalf("official: %d %s", rec.Code, rec.Body)
	}
	official := login(t, h, "lingui.official", "official-pw")
	list := decode[struct {
		Items []struct{ Slug string } `json:"items"`
	}](t, do(t, h, http.MethodGet, "/api/v1/orgs", official, nil).Body.Bytes())
	if len(list.Items) != 2 || list.Items[0].Slug != "lingui-town" || list.Items[1].Slug != "shijia" {
		t.Fatalf("official's orgs: %+v", list.Items)
	}
	body := do(t, h, http.MethodGet, "/api/v1/orgs/shijia/members", official, nil).Body.String()
	if !strings.Contains(body, "138****1234") || strings.Contains(body, "13800001234") {
		t.Fatalf("official should see masked phones: %s", body)
	}
	if body := do(t, h, http.MethodGet, "/api/v1/orgs/shijia/members", cadmin, nil).Body.String(); !strings.Contains(body, "13800001234") {
		t.Fatalf("community admin should see phones: %s", body)
	}

	// Settings: the community admin changes them; bad values are refused.
	if rec := do(t, h, http.MethodPatch, "/api/v1/orgs/shijia", cadmin, map[string]any{"settings": map[string]any{"isolation_days": 21, "report_cutoff": "17:30", "quiet_hours": map[string]any{"start": "22:00", "end": "07:00"}}}); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"isolation_days":21`) {
		t.Fatalf("patch settings: %d %s", rec.Code, rec.Body)
	}
	if rec := do(t, h, http.MethodPatch, "/api/v1/orgs/shijia", cadmin, map[string]any{"timezone": "Nowhere/Land"}); rec.Code != 422 {
		t.Fatalf("bad timezone: %d %s", rec.Code, rec.Body)
	}
	if rec := do(t, h, http.MethodPatch, "/api/v1/orgs/shijia", official, map[string]any{"name": "x"}); rec.Code != 403 {
		t.Fatalf("official patching: %d", rec.Code)
	}

	// The audit log shows who did what, for the admin and the official.
	audit := decode[struct {
		Items []struct{ Actor, Action, Resource string } `json:"items"`
	}](t, do(t, h, http.MethodGet, "/api/v1/orgs/shijia/audit?limit=100", cadmin, nil).Body.Bytes())
	seen := map[string]bool{}
	for _, e := range audit.Items {
		seen[e.Actor+" "+e.Action+" "+e.Resource] = true
	}
	for _, want := range []string{"admin create org", "admin create membership", "shijia.admin create grid", "shijia.admin create membership", "shijia.admin update org"} {
		if !seen[want] {
			t.Errorf("audit lacks %q: %v", want, seen)
		}
	}
	if rec := do(t, h, http.MethodGet, "/api/v1/orgs/shijia/audit?actor=admin&action=create", official, nil); rec.Code != 200 {
		t.Fatalf("official reading audit: %d", rec.Code)
	}
	if rec := do(t, h, http.MethodGet, "/api/v1/orgs/shijia/audit?from=yesterday", cadmin, nil); rec.Code != 422 {
		t.Fatalf("bad from: %d", rec.Code)
	}
	page := decode[struct {
		Items      []any  `json:"items"`
		NextCursor string `json:"next_cursor"`
	}](t, do(t, h, http.MethodGet, "/api/v1/orgs/shijia/audit?limit=2", cadmin, nil).Body.Bytes())
	if len(page.Items) != 2 || page.NextCursor == "" {
		t.Fatalf("audit page: %+v", page)
	}
}

// TestFailedChangeLeavesNoAuditEntry: the entry is in the change's
// transaction, so a refused change leaves neither.
func TestFailedChangeLeavesNoAuditEntry(t *testing.T) {
	a := newApp(t, nil)
	if err := a.ApplyDemo(t.Context()); err != nil {
		t.Fatal(err)
	}
	h := a.Engine
	tok := login(t, h, "yucai.admin", demoPassword)
	count := func() int {
		return len(decode[struct {
			Items []any `json:"items"`
		}](t, do(t, h, http.MethodGet, "/api/v1/orgs/yucai/audit?limit=500", tok, nil).Body.Bytes()).Items)
	}
	before := count()
	if rec := do(t, h, http.MethodPost, "/api/v1/orgs/yucai/grids", tok, map[string]any{"slug": "yucai-g1", "name": "dup"}); rec.Code != 409 {
		t.Fatalf("dup grid: %d", rec.Code)
	}
	if got := count(); got != before {
		t.Fatalf("audit grew on a refused change: %d → %d", before, got)
	}
	if rec := do(t, h, http.MethodPost, "/api/v1/orgs/yucai/grids", tok, map[string]any{"slug": "yucai-g6", "name": "新网格"}); rec.Code != 201 {
		t.Fatalf("grid: %d", rec.Code)
	}
	if got := count(); got != before+1 {
		t.Fatalf("audit after a change: %d → %d", before, got)
	}
}

// TestMembershipChangeReachesOtherInstances: two API instances over one
// database and Redis; a member added on one can act on the other within a
// second, without a restart.
func TestMembershipChangeReachesOtherInstances(t *testing.T) {
	m := miniredis.RunT(t)
	a := newApp(t, func(c *config.Config) { c.RedisURL = "redis://" + m.Addr() })
	if err := a.ApplyDemo(t.Context()); err != nil {
		t.Fatal(err)
	}
	cfg2 := *a.Config
	b, err := app.Open(context.Background(), &cfg2, app.All, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go b.Watcher.Run(ctx)
	time.Sleep(100 * time.Millisecond) // let b subscribe

	tok := login(t, a.Engine, "yucai.admin", demoPassword)
	if rec := do(t, a.Engine, http.MethodPost, "/api/v1/orgs/yucai/members", tok, map[string]any{
		"username": "yucai.newstaff", "display_name": "新人", "password": "newstaff-pw", "role": "community_staff"}); rec.Code != 201 {
		t.Fatalf("add member on a: %d %s", rec.Code, rec.Body)
	}
	newTok := login(t, b.Engine, "yucai.newstaff", "newstaff-pw")
	deadline := time.Now().Add(time.Second)
	for {
		rec := do(t, b.Engine, http.MethodGet, "/api/v1/orgs/yucai/grids", newTok, nil)
		if rec.Code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance b still refuses the new member after 1 s: %d", rec.Code)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
