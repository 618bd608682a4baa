package app_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/apidoc"
	"github.com/wanjia/wanjia/pkg/authz"
)

var ginParam = regexp.MustCompile(`:([A-Za-z_]+)`)

// TestOpenAPICoversEveryRoute fails when a registered route is missing
// from the OpenAPI document, or a documented one is not registered.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil)
	registered := map[string]bool{}
	for _, r := range a.Engine.Routes() {
		registered[r.Method+" "+ginParam.ReplaceAllString(r.Path, "{$1}")] = true
	}
	documented := map[string]bool{}
	ops, err := apidoc.Operations()
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range ops {
		documented[op] = true
		if !registered[op] {
			t.Errorf("documented but not registered: %s", op)
		}
	}
	for op := range registered {
		if !documented[op] {
			t.Errorf("registered but not documented in pkg/apidoc/openapi.yaml: %s", op)
		}
	}
	rec := do(t, a.Engine, http.MethodGet, "/api/v1/openapi.json", "", nil)
	var doc map[string]any
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &doc) != nil || doc["openapi"] == nil {
		t.Fatalf("openapi.json: %d %.200s", rec.Code, rec.Body)
	}
}

// public routes answer without a token.
var public = map[string]bool{
	"GET /healthz": true, "GET /readyz": true, "GET /api/v1/openapi.json": true,
	"POST /api/v1/auth/login": true, "POST /api/v1/auth/refresh": true, "POST /api/v1/auth/logout": true,
}

// fill turns a route template into a path: {org} is org, any other
// parameter an id that could exist.
func fill(path, org string) string {
	return ginParam.ReplaceAllStringFunc(path, func(p string) string {
		if p == ":org" {
			return org
		}
		return "01a22230-0000-7000-8000-000000000000"
	})
}

// TestRouteWalker walks every registered route as a stranger: without a
// token (401), and with the token of another community's admin and staff
// (403 or 404, never a body with data).
func TestRouteWalker(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t, nil)
	strangers := map[string]string{
		"wangcheng.admin": login(t, a.Engine, "wangcheng.admin", demoPassword),
		"wangcheng.staff": login(t, a.Engine, "wangcheng.staff", demoPassword),
	}
	routes := a.Engine.Routes()
	sort.Slice(routes, func(i, j int) bool { return routes[i].Path+routes[i].Method < routes[j].Path+routes[j].Method })
	orgRoutes := 0
	for _, r := range routes {
		key := r.Method + " " + r.Path
		path := fill(r.Path, "yucai")
		body := map[string]any{"name": "x", "slug": "x-x", "username": "intruder", "password": "intruder-pass", "role": "community_staff"}
		if !public[key] {
			rec := do(t, a.Engine, r.Method, path, "", body)
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("%s without a token: %d, want 401: %s", key, rec.Code, rec.Body)
			}
		}
		if !strings.Contains(r.Path, ":org") {
			continue
		}
		orgRoutes++
		for who, token := range strangers {
			rec := do(t, a.Engine, r.Method, path, token, body)
			if rec.Code != http.StatusForbidden && rec.Code != http.StatusNotFound {
				t.Errorf("%s as %s: %d, want 403 or 404: %s", key, who, rec.Code, rec.Body)
				continue
			}
			var got map[string]json.RawMessage
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || len(got) != 1 || got["error"] == nil {
				t.Errorf("%s as %s: the body must be only an error, got %s", key, who, rec.Body)
			}
		}
	}
	if orgRoutes == 0 {
		t.Fatal("no org routes walked")
	}

	// A grid worker reaching for a record outside its grids finds nothing.
	staff := login(t, a.Engine, "yucai.staff", demoPassword)
	grid := login(t, a.Engine, "yucai.grid1", demoPassword)
	outside := map[string]string{}
	for _, kind := range []string{"households", "residents"} {
		p := decode[page](t, do(t, a.Engine, http.MethodGet, "/api/v1/orgs/yucai/"+kind+"?grid=yucai-g2&limit=1", staff, nil).Body.Bytes())
		if len(p.Items) != 1 {
			t.Fatalf("no %s in yucai-g2 to try", kind)
		}
		outside[kind] = p.Items[0].ID
	}
	tried := 0
	for _, r := range routes {
		for kind, id := range outside {
			if !strings.HasSuffix(r.Path, "/"+kind+"/:id") {
				continue
			}
			tried++
			path := strings.Replace(strings.Replace(r.Path, ":org", "yucai", 1), ":id", id, 1)
			rec := do(t, a.Engine, r.Method, path, grid, map[string]any{"notes": "x", "name": "x"})
			if rec.Code != http.StatusNotFound {
				t.Errorf("%s %s as a grid worker outside its grids: %d, want 404: %s", r.Method, r.Path, rec.Code, rec.Body)
			}
		}
	}
	if tried == 0 {
		t.Fatal("no record routes tried as a grid worker")
	}
	// Nothing the strangers tried was saved.
	admin := login(t, a.Engine, "yucai.admin", demoPassword)
	rec := do(t, a.Engine, http.MethodGet, "/api/v1/orgs/yucai/members", admin, nil)
	if strings.Contains(rec.Body.String(), "intruder") {
		t.Fatalf("a stranger's request changed yucai: %s", rec.Body)
	}
}

// TestUnguardedRouteIsDenied: a route added to the org group without a
// permission cannot be reached, even by the community's own admin.
func TestUnguardedRouteIsDenied(t *testing.T) {
	t.Parallel()
	a := newDemoApp(t, nil)
	a.OrgRoutes.Group().GET("/forgotten", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"secret": "data"}) })
	a.OrgRoutes.Handle(http.MethodGet, "/guarded", authz.Perm{Resource: "orgs", Action: "read"}, func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"ok": true}) })
	token := login(t, a.Engine, "yucai.admin", demoPassword)
	if rec := do(t, a.Engine, http.MethodGet, "/api/v1/orgs/yucai/forgotten", token, nil); rec.Code != http.StatusForbidden {
		t.Fatalf("unguarded route: %d %s", rec.Code, rec.Body)
	}
	if rec := do(t, a.Engine, http.MethodGet, "/api/v1/orgs/yucai/guarded", token, nil); rec.Code != http.StatusOK {
		t.Fatalf("guarded route: %d %s", rec.Code, rec.Body)
	}
}
