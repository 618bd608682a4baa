package authz

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/authn"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/web"
)

// orgEngine mounts a few org routes behind a stand-in for authn that signs
// the caller in as the user named in X-User.
func orgEngine(t *testing.T, a *Authorizer) http.Handler {
	t.Helper()
	e := web.NewEngine(web.Options{Logger: slog.New(slog.DiscardHandler)})
	signed := e.Group("/api/v1", func(c *gin.Context) {
		u := &authn.User{ID: c.GetHeader("X-User"), Username: c.GetHeader("X-User")}
		c.Request = c.Request.WithContext(authn.WithUser(c.Request.Context(), u))
	})
	r := a.OrgRoutes(signed)
	answer := func(c *gin.Context) {
		s, ok := store.TenantOf(c.Request.Context())
		c.JSON(http.StatusOK, gin.H{"tenant": s.TenantID, "scoped": ok})
	}
	r.Handle(http.MethodGet, "", Perm{Resource: "orgs", Action: "read"}, answer)
	r.Handle(http.MethodGet, "/residents", Perm{Resource: "roster", Action: "read"}, answer)
	r.Handle(http.MethodPost, "/residents", Perm{Resource: "roster", Action: "write"}, answer)
	r.Handle(http.MethodGet, "/grids", Perm{Resource: "grids", Action: "read"}, answer)
	r.Handle(http.MethodGet, "/members", Perm{Resource: "members", Action: "read"}, answer)
	r.Handle(http.MethodGet, "/reports", Perm{Resource: "reports", Action: "read"}, answer)
	r.Handle(http.MethodGet, "/screenings", Perm{Resource: "screenings", Action: "read"}, answer)
	return e
}

func get(h http.Handler, method, path, user string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	req.Header.Set("X-User", user)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// errorCode returns the code of a body in the API's error shape, or fails.
func errorCode(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var body struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error == nil || body.Error.Message == "" {
		t.Fatalf("not the error shape: %s", rec.Body)
	}
	return body.Error.Code
}

// TestCommunityRoutesOnOtherOrgs: a community's own records do not exist on
// a sub-district or a district. Calling such a route there is a 404 in the
// error shape, decided by the middleware for every route of that kind (the
// handler never runs without a tenant), while the org's own routes and a
// sub-district official's reads of a community keep working.
func TestCommunityRoutesOnOtherOrgs(t *testing.T) {
	a, err := New(context.Background(), snapSource{demo()})
	if err != nil {
		t.Fatal(err)
	}
	h := orgEngine(t, a)
	tests := []struct {
		method, path, user string
		code               int
		tenant             string // the tenant in the handler's context
	}{
		{"GET", "/api/v1/orgs/qixing/residents", "official", 404, ""},
		{"POST", "/api/v1/orgs/qixing/residents", "official", 404, ""},
		{"GET", "/api/v1/orgs/qixing/grids", "official", 404, ""},
		{"GET", "/api/v1/orgs/qixing/grids", "admin", 404, ""},
		{"GET", "/api/v1/orgs/qixing-district/residents", "admin", 404, ""},
		{"GET", "/api/v1/orgs/qixing/screenings", "official", 404, ""}, // a resource no list names: community-only
		{"GET", "/api/v1/orgs/qixing/residents", "ycadmin", 404, ""},
		{"GET", "/api/v1/orgs/qixing", "official", 200, ""},
		{"GET", "/api/v1/orgs/qixing/members", "official", 200, ""},
		{"GET", "/api/v1/orgs/qixing/reports", "official", 200, ""},
		{"GET", "/api/v1/orgs/yucai/residents", "official", 200, "y"},
		{"GET", "/api/v1/orgs/wangcheng/grids", "official", 200, "w"},
		{"GET", "/api/v1/orgs/yucai/residents", "ycstaff", 200, "y"},
		{"GET", "/api/v1/orgs/wangcheng/residents", "ycstaff", 403, ""},
		{"GET", "/api/v1/orgs/no-such-org/residents", "ycstaff", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path+" as "+tt.user, func(t *testing.T) {
			rec := get(h, tt.method, tt.path, tt.user)
			if rec.Code != tt.code {
				t.Fatalf("%d, want %d: %s", rec.Code, tt.code, rec.Body)
			}
			if tt.code != 200 {
				if code := errorCode(t, rec); (tt.code == 404) != (code == "not_found") {
					t.Fatalf("code %q for a %d", code, tt.code)
				}
				return
			}
			var body struct {
				Tenant string `json:"tenant"`
				Scoped bool   `json:"scoped"`
			}
			_ = json.Unmarshal(rec.Body.Bytes(), &body)
			if body.Tenant != tt.tenant || body.Scoped != (tt.tenant != "") {
				t.Fatalf("handler saw tenant %q (scoped %v), want %q", body.Tenant, body.Scoped, tt.tenant)
			}
		})
	}
}

// TestUnknownSlugsAreNotCached: a signed-in caller sending many made-up org
// slugs, short or huge, leaves the decision cache as it was, and each is a
// plain 404.
func TestUnknownSlugsAreNotCached(t *testing.T) {
	a, err := New(context.Background(), snapSource{demo()})
	if err != nil {
		t.Fatal(err)
	}
	h := orgEngine(t, a)
	if rec := get(h, "GET", "/api/v1/orgs/yucai/residents", "ycstaff"); rec.Code != 200 {
		t.Fatalf("a known org: %d %s", rec.Code, rec.Body)
	}
	before := a.cacheLen()
	if before == 0 {
		t.Fatal("a decision about a known org was not cached")
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	heapBefore := ms.HeapAlloc
	long := strings.Repeat("x", 64<<10)
	for i := 0; i < 2000; i++ {
		slug := fmt.Sprintf("no-such-org-%d", i)
		if i%4 == 0 {
			slug = fmt.Sprintf("%s-%d", long, i) // 64 KiB, over MaxSlugLen
		}
		rec := get(h, "GET", "/api/v1/orgs/"+slug+"/residents", "ycstaff")
		if rec.Code != 404 || errorCode(t, rec) != "not_found" {
			t.Fatalf("unknown slug %.20s…: %d %s", slug, rec.Code, rec.Body)
		}
		// Straight to Check too, as any future caller might.
		if a.Check("ycstaff", slug, "roster", "read").Allowed {
			t.Fatal("allowed in an unknown org")
		}
	}
	if got := a.cacheLen(); got != before {
		t.Fatalf("the decision cache grew from %d to %d entries on unknown slugs", before, got)
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	// 500 slugs of 64 KiB each were sent: 32 MiB if anything kept them.
	if grown := int64(ms.HeapAlloc) - int64(heapBefore); grown > 8<<20 {
		t.Fatalf("the heap grew by %d bytes after unknown slugs", grown)
	}
}
