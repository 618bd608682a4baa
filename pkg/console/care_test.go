package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestCareForms: a care contact the service refuses shows on its form
// with the notes kept; a good one returns to the list; the official may
// not record one.
func TestCareForms(t *testing.T) {
	t.Parallel()
	f := newFormWorld(t)
	org, grid1, official := f.org, f.grid1, f.official
	gridToken, officialToken := f.gridToken, f.officialToken
	_, body := get(t, grid1, org+"/care")
	m := careLink.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("nobody on the grid worker's care list")
	}
	page := org + "/care/" + m[1]
	_, body = get(t, grid1, page)
	key := keyField.FindStringSubmatch(body)[1]
	form := url.Values{"csrf": {gridToken}, "idempotency_key": {key}, "method": {"phone"}, "outcome": {"reached"}, "reason": {""}, "notes": {"身体还好"}}
	if status, _, body := postFor(t, grid1, page+"/contacts", form); status != http.StatusUnprocessableEntity || !strings.Contains(body, zh("required")) || !strings.Contains(body, "身体还好") {
		t.Fatalf("a contact without a reason: %d, want 422 with the notes kept", status)
	}
	form.Set("reason", "例行问候")
	if status, to, _ := postFor(t, grid1, page+"/contacts", form); status != http.StatusSeeOther || !strings.Contains(to, "recorded="+m[1]) {
		t.Fatalf("a good contact: %d to %q", status, to)
	}
	if status, _, _ := postFor(t, official, page+"/contacts", url.Values{"csrf": {officialToken}, "method": {"phone"}, "outcome": {"reached"}, "reason": {"x"}}); status != http.StatusForbidden {
		t.Fatalf("the official recording care: %d, want 403", status)
	}
}
