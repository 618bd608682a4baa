package console_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

var (
	memberItem  = regexp.MustCompile(`<li><span class="member-name">([^<]+)</span>`)
	lastAttempt = regexp.MustCompile(`(?s)<ol class="last-attempts"[^>]*>(.*?)</ol>`)
)

// TestCallCardShowsHousehold: the call card names who lives in the
// household (with age and tags) and, once it was tried, its last attempts.
func TestCallCardShowsHousehold(t *testing.T) {
	t.Parallel()
	f := newFormWorld(t)
	id := startScreening(t, f.a.Base, "成员卡片", "yucai-g1")
	status, body := get(t, f.grid1, f.org+"/screenings/"+id+"/calls")
	if status != http.StatusOK || len(memberItem.FindAllStringSubmatch(body, -1)) == 0 {
		t.Fatalf("the call card: %d, no members listed", status)
	}
	if lastAttempt.MatchString(body) {
		t.Fatal("a household never tried shows attempts")
	}
	// Tried once, then a refused form on it: the card that shows it again
	// lists the attempt.
	task := recordNext(t, f.grid1, f.a.Base, id, "calls", "no_answer", nil)
	form := nextOutcomeForm(t, f.grid1, f.a.Base, id, "calls")
	action := strings.Replace(form.Action, form.Task, task, 1)
	bad := clone(form.Values)
	bad.Set("outcome", "reached")
	bad.Set("occupants", "两")
	status, _, body = postFor(t, f.grid1, f.a.Base+action, bad)
	m := lastAttempt.FindStringSubmatch(body)
	if status != http.StatusUnprocessableEntity || m == nil || !strings.Contains(m[1], zh("console.outcome.phone.no_answer")) {
		t.Fatalf("the card of a household tried once: %d, last attempts %q", status, m)
	}
	// The official reads the same card, masked as the roster masks it.
	if _, body := get(t, f.official, f.org+"/screenings/"+id+"/calls"); len(memberItem.FindAllStringSubmatch(body, -1)) == 0 {
		t.Fatal("the official's card lists no members")
	}
}
