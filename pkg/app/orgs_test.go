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
	"github.com/wanjia/wanjia/pkg/authz"
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
	t.Parallel()
	a := newApp(t, nil)
	h := a.Engine
	admin := login(t, h, "admin", "admin-pass-123")

	var cadmin, official string
	if !t.Run("the platform admin creates the tree", func(t *testing.T) {
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
	}) {
		return
	}
	if !t.Run("the first community admin, grids and members", func(t *testing.T) {
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
		cadmin = login(t, h, "shijia.admin", "first-admin-pw")
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
	}) {
		return
	}
	if !t.Run("a sub-district official sees the communities below, masked", func(t *testing.T) {
		// A sub-district official sees the communities below, phones masked.
		if rec := do(t, h, http.MethodPost, "/api/v1/orgs/lingui-town/members", admin, map[string]any{
			"username": "lingui.official", "display_name": "街道干部", "password": "official-pw", "role": "subdistrict_official"}); rec.Code != 201 {
			t.Fatalf("official: %d %s", rec.Code, rec.Body)
		}
		official = login(t, h, "lingui.official", "official-pw")
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
	}) {
		return
	}
	if !t.Run("settings", func(t *testing.T) {
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
	}) {
		return
	}
	t.Run("the audit log", func(t *testing.T) {
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
	})
}

// TestFailedChangeLeavesNoAuditEntry: the entry is in the change's
// transaction, so a refused change leaves neither.
func TestFailedChangeLeavesNoAuditEntry(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t, nil)
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
	t.Parallel()
	m := miniredis.RunT(t)
	a := newDemoApp(t, func(c *config.Config) { c.RedisURL = "redis://" + m.Addr() })
	cfg2 := *a.Config
	b, err := app.Open(context.Background(), &cfg2, app.All, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go b.Watcher.Run(ctx)
	// Wait until b listens: a change published before would reach no one.
	for deadline := time.Now().Add(5 * time.Second); m.PubSubNumSub(authz.Channel)[authz.Channel] == 0; {
		if time.Now().After(deadline) {
			t.Fatal("instance b did not subscribe")
		}
		time.Sleep(5 * time.Millisecond)
	}

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

// errorBody is the API's error shape.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details []struct {
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"details"`
	} `json:"error"`
}

// TestNobodyGrantsThemselves: the platform admin may appoint first admins
// but never make itself (or any platform admin) a member, so it can never
// reach resident data through a membership; and no one grants a role to
// themselves.
func TestNobodyGrantsThemselves(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t, nil)
	h := a.Engine
	admin := login(t, h, "admin", "admin-pass-123")
	yadmin := login(t, h, "yucai.admin", demoPassword)
	tries := []struct {
		who, token, org string
		body            map[string]any
	}{
		{"admin", admin, "yucai", map[string]any{"username": "admin", "role": "community_admin"}},
		{"admin", admin, "yucai", map[string]any{"username": "admin", "role": "community_admin", "display_name": "x", "password": "admin-second-pw"}},
		{"admin", admin, "qixing", map[string]any{"username": "admin", "role": "subdistrict_official"}},
		{"admin", admin, "wangcheng", map[string]any{"username": "ADMIN ", "role": "community_admin"}},
		{"yucai.admin", yadmin, "yucai", map[string]any{"username": "yucai.admin", "role": "community_staff"}},
	}
	for _, tr := range tries {
		rec := do(t, h, http.MethodPost, "/api/v1/orgs/"+tr.org+"/members", tr.token, tr.body)
		if rec.Code != http.StatusForbidden {
			t.Fatalf("%s granting itself %v in %s: %d, want 403: %s", tr.who, tr.body["role"], tr.org, rec.Code, rec.Body)
		}
		if e := decode[errorBody](t, rec.Body.Bytes()); e.Error.Code != "forbidden" || e.Error.Message == "" {
			t.Fatalf("error shape: %s", rec.Body)
		}
	}
	for _, path := range []string{"/api/v1/orgs/yucai/residents", "/api/v1/orgs/yucai/exports/residents.csv"} {
		if rec := do(t, h, http.MethodGet, path, admin, nil); rec.Code != http.StatusForbidden {
			t.Fatalf("platform admin reading %s: %d %s", path, rec.Code, rec.Body)
		}
	}
	me := decode[map[string]any](t, do(t, h, http.MethodGet, "/api/v1/me", admin, nil).Body.Bytes())
	if ms := me["memberships"].([]any); len(ms) != 1 || ms[0].(map[string]any)["role"] != "platform_admin" {
		t.Fatalf("admin's memberships changed: %v", me)
	}
	// Nor by invitation: the platform admin is never invited.
	if rec := do(t, h, http.MethodPost, "/api/v1/orgs/yucai/invitations", yadmin, map[string]any{"username": "admin", "role": "community_staff"}); rec.Code != http.StatusAccepted {
		t.Fatalf("inviting admin: %d %s", rec.Code, rec.Body)
	}
	if items := myInvitations(t, h, admin); len(items) != 0 {
		t.Fatalf("the platform admin got an invitation: %v", items)
	}
}

type invitationItem struct {
	ID        string   `json:"id"`
	Org       string   `json:"org"`
	Role      string   `json:"role"`
	Grids     []string `json:"grids"`
	InvitedBy string   `json:"invited_by"`
	Status    string   `json:"status"`
}

func myInvitations(t *testing.T, h http.Handler, token string) []invitationItem {
	t.Helper()
	rec := do(t, h, http.MethodGet, "/api/v1/me/invitations", token, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("my invitations: %d %s", rec.Code, rec.Body)
	}
	return decode[struct {
		Items []invitationItem `json:"items"`
	}](t, rec.Body.Bytes()).Items
}

// TestMembershipAcrossCommunitiesNeedsConsent: a community admin cannot
// attach another community's user, cannot see their phone, and cannot tell
// an existing username from an unknown one; it invites, and the user joins
// only by accepting.
func TestMembershipAcrossCommunitiesNeedsConsent(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t, nil)
	h := a.Engine
	yadmin := login(t, h, "yucai.admin", demoPassword)
	wadmin := login(t, h, "wangcheng.admin", demoPassword)
	if rec := do(t, h, http.MethodPost, "/api/v1/orgs/wangcheng/members", wadmin, map[string]any{
		"username": "wangcheng.nurse", "display_name": "王城护士", "phone": "13912345678", "password": "nurse-pass-2022", "role": "community_staff"}); rec.Code != 201 {
		t.Fatalf("wangcheng member: %d %s", rec.Code, rec.Body)
	}

	// Without a new account's fields: the same answer, byte for byte, for
	// a user of Wangcheng and for a username nobody has.
	for _, extra := range []map[string]any{{}, {"display_name": "某人"}, {"password": "x"}, {"phone": "13900000000"}} {
		answer := func(username string) (int, string) {
			body := map[string]any{"username": username, "role": "community_staff"}
			for k, v := range extra {
				body[k] = v
			}
			rec := do(t, h, http.MethodPost, "/api/v1/orgs/yucai/members", yadmin, body)
			return rec.Code, rec.Body.String()
		}
		fc, fb := answer("wangcheng.nurse")
		uc, ub := answer("nobody.at.all")
		if fc != uc || fb != ub {
			t.Fatalf("with %v: a foreign user answers %d %s, an unknown one %d %s", extra, fc, fb, uc, ub)
		}
		if fc != http.StatusUnprocessableEntity || strings.Contains(fb, "1391234") || strings.Contains(fb, "王城护士") {
			t.Fatalf("with %v: %d %s", extra, fc, fb)
		}
	}
	// With them too: a community admin names new accounts inside its own
	// namespace ("yucai."), so a name of Wangcheng's is refused alike,
	// taken or free, with nothing of the account.
	full := func(username string) (int, string) {
		rec := do(t, h, http.MethodPost, "/api/v1/orgs/yucai/members", yadmin, map[string]any{
			"username": username, "display_name": "冒名", "password": "another-pass-2022", "role": "community_staff"})
		return rec.Code, strings.ReplaceAll(rec.Body.String(), username, "NAME")
	}
	tc, tb := full("wangcheng.nurse")
	nc, nb := full("wangcheng.nobody")
	if tc != http.StatusUnprocessableEntity || tc != nc || tb != nb || strings.Contains(tb, "1391234") || strings.Contains(tb, "王城护士") {
		t.Fatalf("a taken name answers %d %s; a free one %d %s", tc, tb, nc, nb)
	}
	// The platform admin may not add a second admin to a community that
	// has one: that account would read its residents' phones.
	admin := login(t, h, "admin", "admin-pass-123")
	if rec := do(t, h, http.MethodPost, "/api/v1/orgs/yucai/members", admin, map[string]any{
		"username": "yucai.admin2", "display_name": "第二主任", "password": "second-admin-2022", "role": "community_admin"}); rec.Code != http.StatusForbidden ||
		decode[errorBody](t, rec.Body.Bytes()).Error.Code != "community_has_admin" {
		t.Fatalf("a second admin by the platform admin: %d %s", rec.Code, rec.Body)
	}
	if rec := do(t, h, http.MethodPost, "/api/v1/orgs/yucai/invitations", admin, map[string]any{"username": "wangcheng.nurse", "role": "community_admin"}); rec.Code != http.StatusForbidden {
		t.Fatalf("the platform admin inviting a second admin: %d %s", rec.Code, rec.Body)
	}
	if body := do(t, h, http.MethodGet, "/api/v1/orgs/yucai/members", yadmin, nil).Body.String(); strings.Contains(body, "wangcheng.nurse") {
		t.Fatalf("the foreign user was attached: %s", body)
	}

	// Invitations: one answer for everyone, a row only for a real account.
	inviteAnswer := func(username string) (int, string) {
		rec := do(t, h, http.MethodPost, "/api/v1/orgs/yucai/invitations", yadmin, map[string]any{"username": username, "role": "community_staff"})
		return rec.Code, rec.Body.String()
	}
	fc, fb := inviteAnswer("wangcheng.nurse")
	uc, ub := inviteAnswer("nobody.at.all")
	if fc != http.StatusAccepted || fb != `{"status":"invited"}` || uc != fc || ub != fb {
		t.Fatalf("invite: existing %d %s, unknown %d %s", fc, fb, uc, ub)
	}
	// The org's audit log reads the same for both.
	entries := decode[struct {
		Items []struct {
			Resource, ResourceID, Action string
			Details                      map[string]any
		} `json:"items"`
	}](t, do(t, h, http.MethodGet, "/api/v1/orgs/yucai/audit?action=create&limit=5", yadmin, nil).Body.Bytes()).Items
	if len(entries) < 2 || entries[0].Resource != "invitation" || entries[1].Resource != "invitation" ||
		len(entries[0].Details) != len(entries[1].Details) || entries[0].Details["username"] != "nobody.at.all" {
		t.Fatalf("audit of invitations: %+v", entries)
	}
	if rec := do(t, h, http.MethodPost, "/api/v1/orgs/yucai/invitations", yadmin, map[string]any{"username": "Not A Name!", "role": "community_staff"}); rec.Code != 422 {
		t.Fatalf("malformed username: %d %s", rec.Code, rec.Body)
	}
	if rec := do(t, h, http.MethodPost, "/api/v1/orgs/yucai/invitations", yadmin, map[string]any{"username": "wangcheng.nurse", "role": "grid_worker", "grids": []string{"wangcheng-g1"}}); rec.Code != 422 {
		t.Fatalf("another community's grid: %d %s", rec.Code, rec.Body)
	}
	if rec := do(t, h, http.MethodPost, "/api/v1/orgs/yucai/invitations", login(t, h, "yucai.staff", demoPassword), map[string]any{"username": "wangcheng.nurse", "role": "community_staff"}); rec.Code != 403 {
		t.Fatalf("staff inviting: %d %s", rec.Code, rec.Body)
	}

	nurse := login(t, h, "wangcheng.nurse", "nurse-pass-2022")
	items := myInvitations(t, h, nurse)
	if len(items) != 1 || items[0].Org != "yucai" || items[0].Role != "community_staff" || items[0].InvitedBy != "yucai.admin" || items[0].Status != "pending" {
		t.Fatalf("the nurse's invitations: %+v", items)
	}
	id := items[0].ID
	// Nobody else sees or answers it.
	if other := myInvitations(t, h, wadmin); len(other) != 0 {
		t.Fatalf("wangcheng.admin sees %+v", other)
	}
	for _, verb := range []string{"accept", "decline"} {
		if rec := do(t, h, http.MethodPost, "/api/v1/me/invitations/"+id+"/"+verb, wadmin, nil); rec.Code != 404 {
			t.Fatalf("someone else's %s: %d %s", verb, rec.Code, rec.Body)
		}
	}
	rec := do(t, h, http.MethodPost, "/api/v1/me/invitations/"+id+"/accept", nurse, nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"status":"accepted"`) {
		t.Fatalf("accept: %d %s", rec.Code, rec.Body)
	}
	if rec := do(t, h, http.MethodPost, "/api/v1/me/invitations/"+id+"/accept", nurse, nil); rec.Code != 409 {
		t.Fatalf("accepting twice: %d %s", rec.Code, rec.Body)
	}
	me := decode[map[string]any](t, do(t, h, http.MethodGet, "/api/v1/me", nurse, nil).Body.Bytes())
	if ms := me["memberships"].([]any); len(ms) != 2 {
		t.Fatalf("memberships after accepting: %v", me)
	}
	if rec := do(t, h, http.MethodGet, "/api/v1/orgs/yucai/grids", nurse, nil); rec.Code != 200 {
		t.Fatalf("the new member in yucai: %d %s", rec.Code, rec.Body)
	}
	seen := false
	for _, e := range decode[struct {
		Items []struct{ Actor, Action, Resource string } `json:"items"`
	}](t, do(t, h, http.MethodGet, "/api/v1/orgs/yucai/audit?actor=wangcheng.nurse", yadmin, nil).Body.Bytes()).Items {
		seen = seen || (e.Action == "create" && e.Resource == "membership")
	}
	if !seen {
		t.Fatal("accepting left no membership entry in yucai's audit log")
	}
	// Now a member of Yucai, the phone shows to Yucai's admin in the list
	// (as for any member), and stays masked for the sub-district.
	if body := do(t, h, http.MethodGet, "/api/v1/orgs/yucai/members", yadmin, nil).Body.String(); !strings.Contains(body, "13912345678") {
		t.Fatalf("admin's list: %s", body)
	}
	if body := do(t, h, http.MethodGet, "/api/v1/orgs/yucai/members", login(t, h, "qixing.official", demoPassword), nil).Body.String(); strings.Contains(body, "13912345678") || !strings.Contains(body, "139****5678") {
		t.Fatalf("official's list: %s", body)
	}

	// Declining closes an invitation without a membership.
	if rec := do(t, h, http.MethodPost, "/api/v1/orgs/yucai/invitations", yadmin, map[string]any{"username": "wangcheng.staff", "role": "grid_worker", "grids": []string{"yucai-g2"}}); rec.Code != 202 {
		t.Fatalf("invite: %d %s", rec.Code, rec.Body)
	}
	wstaff := login(t, h, "wangcheng.staff", demoPassword)
	items = myInvitations(t, h, wstaff)
	if len(items) != 1 || len(items[0].Grids) != 1 || items[0].Grids[0] != "yucai-g2" {
		t.Fatalf("wangcheng.staff's invitations: %+v", items)
	}
	if rec := do(t, h, http.MethodPost, "/api/v1/me/invitations/"+items[0].ID+"/decline", wstaff, nil); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"status":"declined"`) {
		t.Fatalf("decline: %d %s", rec.Code, rec.Body)
	}
	if rec := do(t, h, http.MethodPost, "/api/v1/me/invitations/"+items[0].ID+"/accept", wstaff, nil); rec.Code != 409 {
		t.Fatalf("accepting a declined invitation: %d %s", rec.Code, rec.Body)
	}
	if rec := do(t, h, http.MethodGet, "/api/v1/orgs/yucai/grids", wstaff, nil); rec.Code != 403 {
		t.Fatalf("wangcheng.staff in yucai after declining: %d", rec.Code)
	}
	if len(myInvitations(t, h, wstaff)) != 0 {
		t.Fatal("a declined invitation is still listed")
	}

	// The platform admin may still attach an existing user directly; the
	// answer masks the phone the account brought with it.
	admin = login(t, h, "admin", "admin-pass-123")
	rec = do(t, h, http.MethodPost, "/api/v1/orgs/qixing/members", admin, map[string]any{"username": "wangcheng.nurse", "role": "subdistrict_official"})
	if rec.Code != 201 || strings.Contains(rec.Body.String(), "13912345678") {
		t.Fatalf("platform admin attaching: %d %s", rec.Code, rec.Body)
	}
}

// TestCommunityRoutesOnSubdistrict: every route for a community's own
// records answers 404 in the error shape on a sub-district or district,
// for whoever calls (never a 500), and keeps working on a community.
func TestCommunityRoutesOnSubdistrict(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t, nil)
	h := a.Engine
	callers := map[string]string{
		"qixing.official": login(t, h, "qixing.official", demoPassword),
		"admin":           login(t, h, "admin", "admin-pass-123"),
		"yucai.admin":     login(t, h, "yucai.admin", demoPassword),
	}
	checked := 0
	for _, r := range a.Engine.Routes() {
		p, ok := a.OrgRoutes.PermOf(r.Method, r.Path)
		if !ok || !authz.CommunityOnly(p.Resource) {
			continue
		}
		checked++
		for _, org := range []string{"qixing", "qixing-district"} {
			for who, token := range callers {
				rec := do(t, h, r.Method, fill(r.Path, org), token, map[string]any{"name": "x"})
				if rec.Code != http.StatusNotFound || decode[errorBody](t, rec.Body.Bytes()).Error.Code != "not_found" {
					t.Errorf("%s %s on %s as %s: %d %s", r.Method, r.Path, org, who, rec.Code, rec.Body)
				}
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d community routes found", checked)
	}
	official := callers["qixing.official"]
	for _, path := range []string{"/api/v1/orgs/yucai/residents", "/api/v1/orgs/wangcheng/households", "/api/v1/orgs/yucai/grids", "/api/v1/orgs/qixing", "/api/v1/orgs/qixing/members"} {
		if rec := do(t, h, http.MethodGet, path, official, nil); rec.Code != http.StatusOK {
			t.Errorf("official reading %s: %d %s", path, rec.Code, rec.Body)
		}
	}
}

// TestOversizedOrgSlug: a slug past authz.MaxSlugLen is a plain 404.
func TestOversizedOrgSlug(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil)
	token := login(t, a.Engine, "admin", "admin-pass-123")
	for _, slug := range []string{strings.Repeat("a", authz.MaxSlugLen+1), strings.Repeat("q", 500<<10)} {
		rec := do(t, a.Engine, http.MethodGet, "/api/v1/orgs/"+slug+"/members", token, nil)
		if rec.Code != http.StatusNotFound || decode[errorBody](t, rec.Body.Bytes()).Error.Code != "not_found" {
			t.Fatalf("slug of %d bytes: %d %.200s", len(slug), rec.Code, rec.Body)
		}
	}
}
