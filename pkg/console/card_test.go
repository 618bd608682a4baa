package console_test

import (
	"html"
	"net/http"
	"net/url"
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

var historyHousehold = regexp.MustCompile(`href="(/console/orgs/yucai/households/[0-9a-f-]{36})"`)

// TestHouseholdPageShowsHistory: a household's page lists its calls and
// visits and the follow-ups they raised; the official reads it too, with
// the roster's masks.
func TestHouseholdPageShowsHistory(t *testing.T) {
	t.Parallel()
	f := newFormWorld(t)
	id := startScreening(t, f.a.Base, "户史", "yucai-g1")
	task := recordNext(t, f.grid1, f.a.Base, id, "calls", "reached", url.Values{"symptoms": {"1"}, "notes": {"发烧两天"}})
	_, body := get(t, f.staff, f.org+"/screenings/"+id+"/tasks/"+task)
	address := regexp.MustCompile(`<h1>([^<]+)</h1>`).FindStringSubmatch(body)
	if address == nil {
		t.Fatal("the task page names no address")
	}
	_, body = get(t, f.staff, f.org+"/households?q="+url.QueryEscape(html.UnescapeString(address[1])))
	link := historyHousehold.FindStringSubmatch(body)
	if link == nil {
		t.Fatalf("no household found at %s", address[1])
	}
	for who, c := range map[string]*http.Client{"staff": f.staff, "official": f.official} {
		status, page := get(t, c, f.a.Base+link[1])
		if status != http.StatusOK || !strings.Contains(page, `class="cards history household-history"`) || !strings.Contains(page, "发烧两天") ||
			!strings.Contains(page, zh("console.outcome.phone.reached")) {
			t.Fatalf("%s: the household's page (%d) does not list its call", who, status)
		}
		if !strings.Contains(page, `class="cards household-follow-ups"`) || !strings.Contains(page, zh("console.household.reason.symptoms")) ||
			!strings.Contains(page, zh("console.household.fu.open")) {
			t.Fatalf("%s: the household's page does not list its follow-up", who)
		}
	}
}

// TestCampaignPageNotTried: a new campaign's page counts its households
// as not tried (未联系), none as tried and not reached (未联系上).
func TestCampaignPageNotTried(t *testing.T) {
	t.Parallel()
	f := newFormWorld(t)
	id := startScreening(t, f.a.Base, "未联系", "yucai-g1")
	_, body := get(t, f.staff, f.org+"/screenings/"+id)
	fig := func(name string) string {
		m := regexp.MustCompile(`data-figure="` + name + `"><dt>[^<]*</dt><dd>(\d+)</dd>`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no %s figure", name)
		}
		return m[1]
	}
	if fig("not_tried") == "0" || fig("unreached") != "0" {
		t.Fatalf("a new campaign: %s not tried, %s tried and not reached", fig("not_tried"), fig("unreached"))
	}
	recordNext(t, f.grid1, f.a.Base, id, "calls", "no_answer", nil)
	_, body = get(t, f.staff, f.org+"/screenings/"+id)
	if fig("unreached") != "1" {
		t.Fatalf("after a failed call: %s tried and not reached, want 1", fig("unreached"))
	}
}
