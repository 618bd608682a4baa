package audit_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// TestListByPaths: reading each org's path through its own scan and
// merging them gives the prefix match's entries in its order, page after
// page, with every filter; a path outside the org is never read, even
// when the caller lists it.
func TestListByPaths(t *testing.T) {
	db := storetest.New(t)
	paths := []string{"/d/s/", "/d/s/a/", "/d/s/b/", "/d/t/c/", "/d/s-x/"}
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	// A month's log: ids are UUIDv7 of the entry's time, as newEntry's.
	var log []audit.Entry
	for i := range 200 {
		at := base.Add(time.Duration(i) * 3 * time.Hour)
		id := uuid.Must(uuid.NewV7())
		ms := at.UnixMilli()
		for k := range 6 {
			id[k] = byte(ms >> (40 - 8*k))
		}
		e := audit.Entry{ID: id.String(), OrgPath: paths[(i*7)%len(paths)], At: at, ActorID: "u", Actor: fmt.Sprint("user", i%3),
			Role: "community_staff", Org: "o", Action: []string{audit.ActionView, audit.ActionCreate}[i%2], Resource: "household", ResourceID: fmt.Sprint(i)}
		if _, err := db.NewInsert().Model(&e).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		log = append(log, e)
	}
	slices.Reverse(log) // newest first
	ids := func(f audit.Filter) []string {
		var out []string
		for {
			page, next, err := audit.List(context.Background(), db, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page {
				out = append(out, e.ResourceID)
			}
			if next == "" {
				return out
			}
			f.Cursor = next
		}
	}
	for _, tc := range []audit.Filter{
		{OrgPath: "/d/s/"},
		{OrgPath: "/d/s/", Actor: "user1"},
		{OrgPath: "/d/s/", Action: audit.ActionCreate},
		{OrgPath: "/d/s/", From: base.Add(24 * time.Hour), To: base.Add(5 * 24 * time.Hour)},
		{OrgPath: "/d/s/a/", Actor: "user2", Action: audit.ActionView},
		{OrgPath: "/d/"},
	} {
		t.Run(fmt.Sprintf("%+v", tc), func(t *testing.T) {
			var want []string
			for _, e := range log {
				if strings.HasPrefix(e.OrgPath, tc.OrgPath) && (tc.Actor == "" || e.Actor == tc.Actor) && (tc.Action == "" || e.Action == tc.Action) &&
					(tc.From.IsZero() || !e.At.Before(tc.From)) && (tc.To.IsZero() || e.At.Before(tc.To)) {
					want = append(want, e.ResourceID)
				}
			}
			if len(want) == 0 {
				t.Fatal("the filter finds nothing: a vacuous case")
			}
			tc.Limit = 7
			if got := ids(tc); !slices.Equal(got, want) {
				t.Fatalf("by prefix:\n%v\nwant:\n%v", got, want)
			}
			tc.Paths = paths
			got := ids(tc)
			if !slices.Equal(got, want) {
				t.Fatalf("by paths:\n%v\nwant:\n%v", got, want)
			}
			for _, id := range got {
				var n int
				fmt.Sscan(id, &n)
				if p := paths[(n*7)%len(paths)]; len(p) < len(tc.OrgPath) || p[:len(tc.OrgPath)] != tc.OrgPath {
					t.Fatalf("entry %s of %s listed for %s", id, p, tc.OrgPath)
				}
			}
		})
	}
}
