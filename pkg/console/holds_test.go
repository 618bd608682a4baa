package console_test

import (
	"net/http"
	"regexp"
	"testing"
)

var (
	taskAddress = regexp.MustCompile(`<h2 id="task-address" class="address">([^<]+)</h2>`)
	remaining   = regexp.MustCompile(`<span class="remaining">([^<]+)</span>`)
)

// TestReadersTakeNoHolds: an official opening a call list (twice, as a
// reload would) is shown its head without holding it: the grid worker
// who then opens it is given the same first household, with the same
// count left.
func TestReadersTakeNoHolds(t *testing.T) {
	t.Parallel()
	f := newFormWorld(t)
	id := startScreening(t, f.a.Base, "只看不占", "yucai-g1")
	head := func(c *http.Client) (string, string) {
		t.Helper()
		status, body := get(t, c, f.org+"/screenings/"+id+"/calls")
		a, n := taskAddress.FindStringSubmatch(body), remaining.FindStringSubmatch(body)
		if status != http.StatusOK || a == nil || n == nil {
			t.Fatalf("the call list: %d, no household or count", status)
		}
		return a[1], n[1]
	}
	seen, count := head(f.official)
	if again, _ := head(f.official); again != seen {
		t.Fatalf("the official's reload moved the head from %s to %s", seen, again)
	}
	if got, left := head(f.grid1); got != seen || left != count {
		t.Fatalf("after the official looked, the worker got %s (%s), want %s (%s)", got, left, seen, count)
	}
	// The worker holds it now: staff are given the next one.
	if got, _ := head(f.staff); got == seen {
		t.Fatalf("staff were given %s, which the worker holds", got)
	}
}
