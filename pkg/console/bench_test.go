package console_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
)

// BenchmarkPages measures the server time of the console's busiest pages
// on the demo district (yucai: 2,100 households, 5,258 residents; qixing:
// yucai and wangcheng), through the whole handler (session cookie, authz,
// the services, the template) without the network, and checks the goals:
// the community home and a 50-row households page under 20 ms, the
// official's table of communities under 50 ms.
//
//	go test -run '^$' -bench Pages -benchtime 200x ./pkg/console/
func BenchmarkPages(b *testing.B) {
	a := startApp(b)
	for _, page := range []struct {
		name, user, path string
		goal             time.Duration
	}{
		{"community-home", "yucai.staff", "/console/orgs/yucai", 20 * time.Millisecond},
		{"households-50", "yucai.staff", "/console/orgs/yucai/households", 20 * time.Millisecond},
		{"households-50-grid-worker", "yucai.grid1", "/console/orgs/yucai/households", 20 * time.Millisecond},
		{"official-communities", "qixing.official", "/console/orgs/qixing", 50 * time.Millisecond},
	} {
		b.Run(page.name, func(b *testing.B) {
			c := client(b)
			httpSignIn(b, c, a.Base, page.user)
			u, _ := url.Parse(a.Base + "/console/")
			cookies := c.Jar.Cookies(u)
			get := func() {
				req := httptest.NewRequest(http.MethodGet, page.path, nil)
				for _, ck := range cookies {
					req.AddCookie(ck)
				}
				rec := httptest.NewRecorder()
				a.Handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d", page.path, rec.Code)
				}
			}
			get() // warm: the first request refreshes nothing, loads grids and caches
			b.ResetTimer()
			start := time.Now()
			for b.Loop() {
				get()
			}
			per := time.Since(start) / time.Duration(b.N)
			b.ReportMetric(float64(per.Microseconds())/1000, "ms/page")
			if per > page.goal {
				b.Errorf("%s takes %v a page, over the goal of %v", page.name, per, page.goal)
			}
		})
	}
}
