package directives_test

import (
	"context"
	"strings"
	"testing"

	"github.com/wanjia/wanjia/pkg/directives"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/testworld"
)

func post(t *testing.T, w *world, ctx context.Context, in directives.Input) *directives.View {
	t.Helper()
	v, err := w.Directives.Create(ctx, in)
	if err != nil {
		t.Fatalf("post %q: %v", in.Title, err)
	}
	return v
}

func list(t *testing.T, w *world, ctx context.Context, status string) []directives.View {
	t.Helper()
	items, _, err := w.Directives.List(ctx, directives.Filter{Status: status, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	return items
}

func isNotFound(err error) bool { return errs.KindOf(err) == errs.KindNotFound }

func acks(v *directives.View) string {
	var out []string
	for _, c := range v.Communities {
		s := c.Community + ":"
		if c.Acknowledged {
			s += c.AcknowledgedBy + "@" + c.AcknowledgedAt.In(testworld.Beijing).Format("15:04")
		} else {
			s += "-"
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

// TestPostReadAcknowledge: the official posts to c1; c1's staff and admin
// see it (c2 nothing), the admin acknowledges, a second acknowledgement by
// the staff changes nothing, and the office sees c1's acknowledgement, who
// and when. A directive to all below reaches c1 and c2, and the office
// sees c2 still waiting, listed first.
func TestPostReadAcknowledge(t *testing.T) {
	w := newWorld(t)
	official := w.office(t, "sub.official", "sub")
	d := post(t, w, official, directives.Input{Title: " 关于加强返乡人员排查的通知 ", Body: "请于2月5日前完成。", Communities: []string{"c1"}, DueDate: "2020-02-05"})
	if d.Title != "关于加强返乡人员排查的通知" || *d.Total != 1 || *d.AcknowledgedCount != 0 || *d.AllBelow || acks(d) != "c1:-" {
		t.Fatalf("posted: %+v (%s)", d, acks(d))
	}

	for _, ctx := range []context.Context{w.Staff(t, "c1"), w.Admin(t, "c1")} {
		got := list(t, w, ctx, "")
		if len(got) != 1 || got[0].ID != d.ID || *got[0].Acknowledged || got[0].FromName != "七星街道" || got[0].Body != "请于2月5日前完成。" {
			t.Fatalf("c1 lists %+v", got)
		}
	}
	if got := list(t, w, w.Admin(t, "c2"), ""); len(got) != 0 {
		t.Fatalf("c2 lists %+v, sent to c1 only", got)
	}
	if _, err := w.Directives.Get(w.Admin(t, "c2"), d.ID); !isNotFound(err) {
		t.Fatalf("c2 reads c1's directive: %v", err)
	}
	if _, err := w.Directives.Ack(w.Admin(t, "c2"), d.ID); !isNotFound(err) {
		t.Fatalf("c2 acknowledges c1's directive: %v", err)
	}

	w.Clock.At(t, "2020-02-03 10:15")
	a, err := w.Directives.Ack(w.Admin(t, "c1"), d.ID)
	if err != nil || !*a.Acknowledged || a.AcknowledgedBy != "主任" || !a.AcknowledgedAt.Equal(w.Now()) {
		t.Fatalf("ack: %+v %v", a, err)
	}
	first := *a.AcknowledgedAt
	w.Clock.At(t, "2020-02-03 11:00")
	again, err := w.Directives.Ack(w.Staff(t, "c1"), d.ID)
	if err != nil || !*again.Acknowledged || again.AcknowledgedBy != "主任" || !again.AcknowledgedAt.Equal(first) {
		t.Fatalf("a second ack changed the first: %+v %v", again, err)
	}
	if got := list(t, w, w.Staff(t, "c1"), directives.StatusUnacknowledged); len(got) != 0 {
		t.Fatalf("still unacknowledged: %+v", got)
	}
	if got := list(t, w, w.Staff(t, "c1"), directives.StatusAcknowledged); len(got) != 1 {
		t.Fatalf("acknowledged: %+v", got)
	}

	all := post(t, w, official, directives.Input{Title: "全体社区：每日18时前报送", Body: "每日报送。", DueDate: "2020-02-03"})
	if !*all.AllBelow || *all.Total != 2 || acks(all) != "c1:- c2:-" {
		t.Fatalf("to all below: %+v (%s)", all, acks(all))
	}
	if _, err := w.Directives.Ack(w.Staff(t, "c1"), all.ID); err != nil {
		t.Fatal(err)
	}
	got, err := w.Directives.Get(official, all.ID)
	if err != nil || acks(got) != "c2:- c1:工作人员@11:00" || *got.AcknowledgedCount != 1 || *got.Total != 2 {
		t.Fatalf("the office sees %+v (%s) %v", got, acks(got), err)
	}
	one, err := w.Directives.Get(official, d.ID)
	if err != nil || acks(one) != "c1:主任@10:15" {
		t.Fatalf("the office sees %s %v", acks(one), err)
	}
	issued := list(t, w, official, "")
	if len(issued) != 2 || issued[0].ID != all.ID || *issued[0].AcknowledgedCount != 1 || *issued[0].Total != 2 ||
		issued[1].ID != d.ID || *issued[1].AcknowledgedCount != 1 || *issued[1].Total != 1 {
		t.Fatalf("the office lists %+v", issued)
	}
	// The official reading a community below sees its copies.
	if got := list(t, w, w.Official(t, "c2"), ""); len(got) != 1 || got[0].ID != all.ID || *got[0].Acknowledged {
		t.Fatalf("the official in c2 lists %+v", got)
	}
	// Newest first, a page at a time.
	page, next, err := w.Directives.List(w.Staff(t, "c1"), directives.Filter{Limit: 1})
	if err != nil || len(page) != 1 || page[0].ID != all.ID || next == "" {
		t.Fatalf("first page %+v %q %v", page, next, err)
	}
	page, next, err = w.Directives.List(w.Staff(t, "c1"), directives.Filter{Limit: 1, Cursor: next})
	if err != nil || len(page) != 1 || page[0].ID != d.ID || next != "" {
		t.Fatalf("second page %+v %q %v", page, next, err)
	}
}

// TestPostRefused: what an office may not post, each a 422 on its field;
// and a community posts nothing.
func TestPostRefused(t *testing.T) {
	w := newWorld(t)
	official := w.office(t, "sub.official", "sub")
	ok := directives.Input{Title: "通知", Body: "内容", DueDate: "2020-02-03"}
	for _, tc := range []struct {
		name   string
		change func(*directives.Input)
		want   string
	}{
		{"fine", func(*directives.Input) {}, ""},
		{"no title", func(in *directives.Input) { in.Title = "  " }, "title=required"},
		{"long title", func(in *directives.Input) { in.Title = strings.Repeat("通", directives.MaxTitle+1) }, "title=too_long"},
		{"no body", func(in *directives.Input) { in.Body = "" }, "body=required"},
		{"long body", func(in *directives.Input) { in.Body = strings.Repeat("知", directives.MaxBody+1) }, "body=too_long"},
		{"no due date", func(in *directives.Input) { in.DueDate = "" }, "due_date=required"},
		{"due date not a date", func(in *directives.Input) { in.DueDate = "2/5" }, "due_date=invalid_date"},
		{"due date not in the calendar", func(in *directives.Input) { in.DueDate = "2020-02-30" }, "due_date=invalid_date"},
		{"due date in the past", func(in *directives.Input) { in.DueDate = "2020-02-02" }, "due_date=date_in_past"},
		{"another sub-district's community", func(in *directives.Input) { in.Communities = []string{"c1", "c3"} }, "communities[1]=community_not_below"},
		{"the sub-district itself", func(in *directives.Input) { in.Communities = []string{"sub"} }, "communities[0]=community_not_below"},
		{"no such community", func(in *directives.Input) { in.Communities = []string{"nope", "c2", "sub2"} },
			"communities[0]=community_not_below,communities[2]=community_not_below"},
		{"everything", func(in *directives.Input) { *in = directives.Input{Communities: []string{"c3"}} },
			"body=required,communities[0]=community_not_below,due_date=required,title=required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := ok
			tc.change(&in)
			_, err := w.Directives.Create(official, in)
			if got := testworld.Fields(err); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
	// 23:30 on 2 February in Beijing is still the 2nd there (15:30 UTC).
	w.Clock.At(t, "2020-02-02 23:30")
	in := ok
	in.DueDate = "2020-02-02"
	if _, err := w.Directives.Create(official, in); err != nil {
		t.Fatalf("due today by the office's calendar: %v", err)
	}
	if _, err := w.Directives.Create(w.Admin(t, "c1"), ok); !isNotFound(err) {
		t.Fatalf("a community posted a directive: %v", err)
	}
	if _, _, err := w.Directives.List(official, directives.Filter{Status: "later", Limit: 10}); testworld.Fields(err) != "status=one_of" {
		t.Fatalf("status filter: %v", err)
	}
}

// TestOtherSubdistrict: a neighbouring sub-district's official and
// community see nothing of sub's directive, and may not send to sub's
// communities; the district's official sends to communities of both, and
// each sub-district's official sees none of the district's directives as
// theirs.
func TestOtherSubdistrict(t *testing.T) {
	w := newWorld(t)
	d := post(t, w, w.office(t, "sub.official", "sub"), directives.Input{Title: "通知", Body: "内容", DueDate: "2020-02-04"})
	other := w.office(t, "sub2.official", "sub2")
	if _, err := w.Directives.Get(other, d.ID); !isNotFound(err) {
		t.Fatalf("sub2's official reads sub's directive: %v", err)
	}
	if got := list(t, w, other, ""); len(got) != 0 {
		t.Fatalf("sub2's official lists %+v", got)
	}
	c3 := w.As(t, "c3.admin", "c3")
	if got := list(t, w, c3, ""); len(got) != 0 {
		t.Fatalf("c3 lists %+v", got)
	}
	if _, err := w.Directives.Get(c3, d.ID); !isNotFound(err) {
		t.Fatalf("c3 reads sub's directive: %v", err)
	}
	if _, err := w.Directives.Ack(c3, d.ID); !isNotFound(err) {
		t.Fatalf("c3 acknowledges sub's directive: %v", err)
	}
	if _, err := w.Directives.Create(other, directives.Input{Title: "通知", Body: "内容", DueDate: "2020-02-04", Communities: []string{"c1"}}); testworld.Fields(err) != "communities[0]=community_not_below" {
		t.Fatalf("sub2 posts to c1: %v", err)
	}

	district := w.office(t, "district.official", "district")
	dd := post(t, w, district, directives.Input{Title: "全区通知", Body: "内容", DueDate: "2020-02-04", Communities: []string{"c1", "c3"}})
	if *dd.Total != 2 {
		t.Fatalf("the district's directive: %+v", dd)
	}
	if _, err := w.Directives.Get(w.office(t, "sub.official", "sub"), dd.ID); !isNotFound(err) {
		t.Fatalf("sub's official reads the district's directive as sub's: %v", err)
	}
	if got := list(t, w, c3, ""); len(got) != 1 || got[0].ID != dd.ID || got[0].From != "district" {
		t.Fatalf("c3 lists %+v", got)
	}
	if _, err := w.Directives.Ack(c3, dd.ID); err != nil {
		t.Fatal(err)
	}
	got, err := w.Directives.Get(district, dd.ID)
	if err != nil || acks(got) != "c1:- c3:主任@09:00" {
		t.Fatalf("the district sees %s %v", acks(got), err)
	}
}

// TestRemind: the admins of a community that has not acknowledged a
// directive get one SMS on the day before it is due, from 09:00 local;
// never twice, and never once the community has acknowledged.
func TestRemind(t *testing.T) {
	w := newWorld(t)
	official := w.office(t, "sub.official", "sub")
	d := post(t, w, official, directives.Input{Title: "物资统计", Body: "内容", DueDate: "2020-02-05"})
	later := post(t, w, official, directives.Input{Title: "下周", Body: "内容", DueDate: "2020-02-10", Communities: []string{"c1"}})
	remind := func(at string) directives.Reminded {
		t.Helper()
		w.Clock.At(t, at)
		r, err := w.Directives.Remind(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := remind("2020-02-03 10:00"); r.Notices != 0 {
		t.Fatalf("two days before: %+v", r)
	}
	if _, err := w.Directives.Ack(w.Staff(t, "c2"), d.ID); err != nil {
		t.Fatal(err)
	}
	if r := remind("2020-02-04 08:59"); r.Notices != 0 {
		t.Fatalf("before 09:00: %+v", r)
	}
	if r := remind("2020-02-04 09:00"); r.Directives != 1 || r.Notices != 1 {
		t.Fatalf("the day before at 09:00: %+v", r)
	}
	if r := remind("2020-02-04 09:05"); r.Notices != 0 {
		t.Fatalf("a second sweep: %+v", r)
	}
	if r := remind("2020-02-04 20:00"); r.Notices != 0 {
		t.Fatalf("a later sweep: %+v", r)
	}
	sent := w.outbox.all()
	c1 := w.District.Org(t, "c1").ID
	if len(sent) != 1 || sent[0].Tenant != c1 || sent[0].Phone != "13800000001" || sent[0].Urgent ||
		sent[0].Key != "directive-reminder:"+d.ID+":2020-02-04:13800000001" || !strings.Contains(sent[0].Text, "物资统计") ||
		!strings.Contains(sent[0].Text, "2020-02-05") {
		t.Fatalf("sent %+v", sent)
	}
	if w.outbox.queued != 1 {
		t.Fatalf("%d queued", w.outbox.queued)
	}
	// Acknowledged before its eve: no reminder.
	if _, err := w.Directives.Ack(w.Admin(t, "c1"), later.ID); err != nil {
		t.Fatal(err)
	}
	if r := remind("2020-02-09 09:30"); r.Notices != 0 {
		t.Fatalf("an acknowledged directive reminded: %+v", r)
	}
}

// TestAudited: posting and the first acknowledgement are in the audit
// log, in the office's and the community's org; a second acknowledgement
// changes nothing and writes nothing.
func TestAudited(t *testing.T) {
	w := newWorld(t)
	d := post(t, w, w.office(t, "sub.official", "sub"), directives.Input{Title: "通知", Body: "内容", DueDate: "2020-02-04", Communities: []string{"c1", "c2"}})
	for _, who := range []context.Context{w.Admin(t, "c1"), w.Staff(t, "c1")} {
		if _, err := w.Directives.Ack(who, d.ID); err != nil {
			t.Fatal(err)
		}
	}
	var rows []struct {
		Actor  string `bun:"actor"`
		Org    string `bun:"org"`
		Action string `bun:"action"`
	}
	if err := w.DB.NewSelect().TableExpr("audit_log").Column("actor", "org", "action").
		Where("resource = 'directive' AND resource_id = ?", d.ID).OrderExpr("at, id").Scan(context.Background(), &rows); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.Actor+"/"+r.Org+"/"+r.Action)
	}
	if want := "sub.official/sub/create c1.admin/c1/update"; strings.Join(got, " ") != want {
		t.Fatalf("audit: %v, want %s", got, want)
	}
}
