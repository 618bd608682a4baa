package console_test

import (
	"bytes"
	"compress/gzip"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var assetRef = regexp.MustCompile(`(?:href|src)="(/console/static/[^"]+)"`)

// TestColdCallListWeight: a grid worker's call list, with an empty cache,
// is under 30 KB over the wire: the page and every asset it links,
// gzipped; the assets are cached for good under their hash, and a stale
// hash is not.
func TestColdCallListWeight(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	id := startScreening(t, a.Base, "分量", "yucai-g1")
	worker := client(t)
	httpSignIn(t, worker, a.Base, "yucai.grid1")
	// Go's transport would ask for gzip itself and hide what came over
	// the wire; this one counts the bytes as they come.
	worker.Transport = &http.Transport{DisableCompression: true}
	fetch := func(u string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("Accept-Encoding", "gzip, deflate, br")
		resp, err := worker.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", u, resp.StatusCode)
		}
		return resp, b
	}
	const budget = 30 << 10
	// Signing in showed pages that carried the stylesheet inline and left
	// the cookie saying the browser holds it; a cold browser has neither.
	base, _ := url.Parse(a.Base + "/console/")
	worker.Jar.SetCookies(base, []*http.Cookie{{Name: "wanjia_css", Path: "/console/", MaxAge: -1}})
	resp, page := fetch(a.Base + "/console/orgs/yucai/screenings/" + id + "/calls")
	if resp.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("the page came as %q (Vary %q), want gzip", resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"))
	}
	total := len(page)
	refs := assetRef.FindAllStringSubmatch(gunzip(t, page), -1)
	if len(refs) < 3 {
		t.Fatalf("the page links %d assets, want its style, script and icon", len(refs))
	}
	for _, r := range refs {
		u := html.UnescapeString(r[1])
		resp, b := fetch(a.Base + u)
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") || !strings.Contains(u, "?v=") {
			t.Errorf("%s: Cache-Control %q, want immutable under its hash", u, cc)
		}
		if !strings.HasSuffix(strings.Split(u, "?")[0], ".svg") && resp.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("%s came uncompressed", u)
		}
		total += len(b)
		t.Logf("%s: %d bytes", u, len(b))
	}
	t.Logf("cold call list: %d bytes (page %d)", total, len(page))
	if total > budget {
		t.Fatalf("a cold call list is %d bytes over the wire, over the %d-byte budget", total, budget)
	}
	stale, _ := fetch(a.Base + "/console/static/console.css?v=0123456789ab")
	if cc := stale.Header.Get("Cache-Control"); strings.Contains(cc, "immutable") {
		t.Fatalf("another build's hash is cached for good: %q", cc)
	}
}

func gunzip(t testing.TB, b []byte) string {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
