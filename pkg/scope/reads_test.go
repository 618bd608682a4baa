package scope_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// recorded keeps what a recorder was given.
type recorded struct {
	resource, id string
	details      map[string]any
	n            int
}

func (r *recorded) Record(_ context.Context, resource, id string, details map[string]any) {
	r.resource, r.id, r.details = resource, id, details
	r.n++
}

// TestRecordRead is the one rule for what a read records.
func TestRecordRead(t *testing.T) {
	staff := authz.WithCaller(context.Background(), authz.Caller{UserID: "u1", Role: authz.RoleCommunityStaff})
	official := authz.WithCaller(context.Background(), authz.Caller{UserID: "u2", Role: authz.RoleSubdistrictOfficial})
	ids := []string{"01890a5d-ac96-7745-8123-302099818057"}
	for _, c := range []struct {
		name         string
		ctx          context.Context
		seen         scope.Seen
		id           string         // "" = nothing recorded
		want         map[string]any // details
		notContained string         // must appear nowhere in the details
	}{
		{"one record", staff, scope.Seen{Resource: "resident", ID: "r1"}, "r1",
			map[string]any{"masked": false}, ""},
		{"an official's read says masked", official, scope.Seen{Resource: "resident", ID: "r1"}, "r1",
			map[string]any{"masked": true}, ""},
		{"a page: ids, count and the filters given", staff,
			scope.Seen{Resource: "residents", IDs: ids, Filters: map[string]any{"grid": "g1", "tag": "", "overdue": false, "follow_ups": true}},
			"list", map[string]any{"masked": false, "count": 1, "ids": ids, "grid": "g1", "follow_ups": true}, ""},
		{"a search by phone is masked", staff, scope.Seen{Resource: "residents", IDs: ids, Search: "138 0013 8000"},
			"list", map[string]any{"masked": false, "count": 1, "ids": ids, "q": "138****8000"}, "0013"},
		{"a search by ID number is masked", staff, scope.Seen{Resource: "residents", IDs: ids, Search: "45030219900101002X"},
			"list", map[string]any{"masked": false, "count": 1, "ids": ids, "q": "4503**********002X"}, "19900101"},
		{"a search that found no one is a read", staff, scope.Seen{Resource: "residents", IDs: []string{}, Search: "赵"},
			"list", map[string]any{"masked": false, "count": 0, "ids": []string{}, "q": "赵"}, ""},
		{"phones returned are masked", staff,
			scope.Seen{Resource: "outreach_opt_outs", IDs: []string{"o1", "o2"}, Phones: []string{"13800138000", "0773-2851234"}},
			"list", map[string]any{"masked": false, "count": 2, "ids": []string{"o1", "o2"}, "phones": []string{"138****8000", "0773-****234"}}, "0013"},
		{"phones the view masked stay as they are", official,
			scope.Seen{Resource: "outreach_replies", IDs: ids, Phones: []string{"138****8000"}},
			"list", map[string]any{"masked": true, "count": 1, "ids": ids, "phones": []string{"138****8000"}}, ""},
		{"an empty page without a search is not recorded", staff, scope.Seen{Resource: "residents", IDs: []string{}}, "", nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			var r recorded
			if err := scope.RecordRead(c.ctx, &r, nil, c.seen); err != nil {
				t.Fatal(err)
			}
			if c.id == "" {
				if r.n != 0 {
					t.Fatalf("recorded %s %s %v", r.resource, r.id, r.details)
				}
				return
			}
			if r.n != 1 || r.resource != c.seen.Resource || r.id != c.id || !reflect.DeepEqual(r.details, c.want) {
				t.Fatalf("recorded %d: %s %s %#v\nwant %s %s %#v", r.n, r.resource, r.id, r.details, c.seen.Resource, c.id, c.want)
			}
			if c.notContained != "" {
				b, _ := json.Marshal(r.details)
				if strings.Contains(string(b), c.notContained) {
					t.Fatalf("%s in the details: %s", c.notContained, b)
				}
			}
		})
	}
}

// TestRecordReadWithoutRecorder: a service built without a recorder still
// records its reads, at once, in the database it is given.
func TestRecordReadWithoutRecorder(t *testing.T) {
	db := storetest.New(t)
	ctx := audit.WithActor(authz.WithCaller(context.Background(), authz.Caller{UserID: "u1", Role: authz.RoleCommunityStaff}),
		audit.Actor{UserID: "u1", Username: "staff", Role: authz.RoleCommunityStaff, Org: "ta", OrgPath: "/ta/"})
	if err := scope.RecordRead(ctx, nil, db, scope.Seen{Resource: "residents", IDs: []string{}, Search: "13800138000"}); err != nil {
		t.Fatal(err)
	}
	entries, _, err := audit.List(storetest.Unguarded(context.Background()), db, audit.Filter{OrgPath: "/ta/", Action: audit.ActionView, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Resource != "residents" || entries[0].Details["q"] != "138****8000" {
		t.Fatalf("entries: %+v", entries)
	}
	if err := scope.RecordRead(ctx, nil, nil, scope.Seen{Resource: "resident", ID: "r1"}); err == nil {
		t.Fatal("a read with nowhere to record it went unrecorded without an error")
	}
}
