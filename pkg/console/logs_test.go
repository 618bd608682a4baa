package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestLogForms: what the logs refuse shows on the add form, in the
// reader's language, with everything typed; an entry posted twice is
// logged once; a grid worker names its grid; the official may not log.
func TestLogForms(t *testing.T) {
	t.Parallel()
	f := newFormWorld(t)
	org, staff, grid1, official := f.org, f.staff, f.grid1, f.official
	staffToken, gridToken, officialToken := f.staffToken, f.gridToken, f.officialToken
	_, body := get(t, staff, org+"/publicity")
	key := keyField.FindStringSubmatch(body)[1]
	status, _, body := postFor(t, staff, org+"/publicity", url.Values{"csrf": {staffToken}, "idempotency_key": {key}, "count": {"二十"}, "notes": {"表单宣传"}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, zh("expect_integer")) || !strings.Contains(body, "表单宣传") || !strings.Contains(body, `<details class="add" open>`) {
		t.Fatalf("a publicity entry without a kind or a number: %d, want 422, the form open with the notes kept", status)
	}
	good := url.Values{"csrf": {staffToken}, "idempotency_key": {key}, "kind": {"poster"}, "count": {"20"}, "notes": {"幂等宣传"}}
	for range 2 {
		if status, to, _ := postFor(t, staff, org+"/publicity", good); status != http.StatusSeeOther || !strings.Contains(to, "added=1") {
			t.Fatalf("a good entry: %d to %q", status, to)
		}
	}
	if _, body := get(t, staff, org+"/publicity?kind=poster"); strings.Count(body, "幂等宣传") != 1 {
		t.Fatalf("the entry posted twice is listed %d times, want once", strings.Count(body, "幂等宣传"))
	}
	if status, _, body := postFor(t, grid1, org+"/publicity", url.Values{"csrf": {gridToken}, "kind": {"letter"}, "count": {"5"}}); status != http.StatusUnprocessableEntity || !strings.Contains(body, zh("grid_worker_grid")) {
		t.Fatalf("a grid worker's entry without a grid: %d, want 422", status)
	}
	if status, _, _ := postFor(t, official, org+"/publicity", url.Values{"csrf": {officialToken}, "kind": {"letter"}, "count": {"5"}}); status != http.StatusForbidden {
		t.Fatalf("the official logging: %d, want 403", status)
	}
	status, _, body = postFor(t, staff, org+"/disinfections", url.Values{"csrf": {staffToken}, "place": {"3栋楼道"}, "at": {"昨天下午"}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, zh("console.form.bad_time")) || !strings.Contains(body, "3栋楼道") {
		t.Fatalf("a round at no time: %d, want 422 with the place kept", status)
	}
	if status, _, _ := postFor(t, staff, org+"/disinfections", url.Values{"csrf": {staffToken}, "place": {"3栋楼道"}, "at": {"2020-02-03T09:30"}, "grid": {"yucai-g3"}}); status != http.StatusSeeOther {
		t.Fatalf("a good round: %d, want 303", status)
	}
	// The time typed is the community's wall clock, shown back as typed.
	if _, body := get(t, staff, org+"/disinfections?grid=yucai-g3"); !strings.Contains(body, "2020-02-03 09:30") {
		t.Fatal("the round is not listed at the time typed")
	}
}
