package logs_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/xuri/excelize/v2"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/authn"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/idempotency"
	"github.com/wanjia/wanjia/pkg/logs"
	"github.com/wanjia/wanjia/pkg/store/storetest"
	"github.com/wanjia/wanjia/pkg/testworld"
	"github.com/wanjia/wanjia/pkg/web"
)

func pcount(n int) *int { return &n }

// TestCreatePublicity: who may log what, and each field's checks (422
// with the field), at 2020-02-03 09:00 Beijing time.
func TestCreatePublicity(t *testing.T) {
	w := newWorld(t)
	long := strings.Repeat("字", 501)
	for _, c := range []struct {
		name string
		user string
		in   logs.PublicityInput
		want string // fields of the 422; "" for created
		date string // the created entry's
		grid string
	}{
		{"today by default, whole community", "c1.staff", logs.PublicityInput{Kind: "notice", Count: pcount(3)}, "", "2020-02-03", ""},
		{"a past day in a grid", "c1.staff", logs.PublicityInput{Date: "2020-01-30", Kind: "poster", Count: pcount(40), Grid: "c1-g2"}, "", "2020-01-30", "c1-g2"},
		{"grid worker, own grid", "c1.grid1", logs.PublicityInput{Kind: "wechat", Count: pcount(1), Grid: "c1-g1"}, "", "2020-02-03", "c1-g1"},
		{"most allowed", "c1.admin", logs.PublicityInput{Kind: "letter", Count: pcount(100000)}, "", "2020-02-03", ""},
		{"grid worker, no grid", "c1.grid1", logs.PublicityInput{Kind: "letter", Count: pcount(5)}, "grid=grid_worker_grid", "", ""},
		{"grid worker, another grid", "c1.grid1", logs.PublicityInput{Kind: "letter", Count: pcount(5), Grid: "c1-g2"}, "grid=unknown_grid", "", ""},
		{"another community's grid", "c1.staff", logs.PublicityInput{Kind: "letter", Count: pcount(5), Grid: "c2-g1"}, "grid=unknown_grid", "", ""},
		{"unknown kind", "c1.staff", logs.PublicityInput{Kind: "flyer", Count: pcount(5)}, "kind=one_of", "", ""},
		{"no kind", "c1.staff", logs.PublicityInput{Count: pcount(5)}, "kind=required", "", ""},
		{"count 0", "c1.staff", logs.PublicityInput{Kind: "notice", Count: pcount(0)}, "count=out_of_range", "", ""},
		{"count too large", "c1.staff", logs.PublicityInput{Kind: "notice", Count: pcount(100001)}, "count=out_of_range", "", ""},
		{"no count", "c1.staff", logs.PublicityInput{Kind: "notice"}, "count=required", "", ""},
		{"tomorrow", "c1.staff", logs.PublicityInput{Date: "2020-02-04", Kind: "notice", Count: pcount(1)}, "date=date_in_future", "", ""},
		{"date format", "c1.staff", logs.PublicityInput{Date: "2020/02/01", Kind: "notice", Count: pcount(1)}, "date=invalid_date", "", ""},
		{"notes too long", "c1.staff", logs.PublicityInput{Kind: "notice", Count: pcount(1), Notes: long}, "notes=too_long", "", ""},
		{"all at once", "c1.grid1", logs.PublicityInput{Date: "x", Kind: "x", Count: pcount(-1)}, "count=out_of_range,date=invalid_date,grid=grid_worker_grid,kind=one_of", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := w.Logs.CreatePublicity(w.As(t, c.user, "c1"), c.in)
			if f := testworld.Fields(err); f != c.want {
				t.Fatalf("fields %q, want %q", f, c.want)
			}
			if c.want != "" {
				return
			}
			if got.Date != c.date || got.Grid != c.grid || got.Kind != c.in.Kind || got.Count != *c.in.Count || got.By != displayName[c.user] || got.ID == "" {
				t.Errorf("created %+v", got)
			}
		})
	}
}

// TestCreateDisinfection: the time (now by default, RFC 3339, not ahead
// of the clock), its day in the community's zone, who did it.
func TestCreateDisinfection(t *testing.T) {
	w := newWorld(t)
	now := w.Clock.Now()
	for _, c := range []struct {
		name string
		user string
		in   logs.DisinfectionInput
		want string
		at   time.Time
		date string
		by   string
	}{
		{"now by default", "c1.staff", logs.DisinfectionInput{Place: "3号楼电梯"}, "", now, "2020-02-03", "工作人员"},
		{"Beijing evening the day before", "c1.staff", logs.DisinfectionInput{Place: "垃圾站", At: "2020-02-02T23:30:00+08:00"}, "",
			time.Date(2020, 2, 2, 15, 30, 0, 0, time.UTC), "2020-02-02", "工作人员"},
		{"UTC evening is the Beijing morning after", "c1.staff", logs.DisinfectionInput{Place: "垃圾站", At: "2020-02-02T16:30:00Z"}, "",
			time.Date(2020, 2, 2, 16, 30, 0, 0, time.UTC), "2020-02-03", "工作人员"},
		{"a few minutes ahead", "c1.staff", logs.DisinfectionInput{Place: "门岗", At: now.Add(4 * time.Minute).Format(time.RFC3339)}, "",
			now.Add(4 * time.Minute), "2020-02-03", "工作人员"},
		{"done by someone else", "c1.grid1", logs.DisinfectionInput{Place: "门岗", Grid: "c1-g1", By: "物业 王师傅"}, "", now, "2020-02-03", "物业 王师傅"},
		{"too far ahead", "c1.staff", logs.DisinfectionInput{Place: "门岗", At: now.Add(6 * time.Minute).Format(time.RFC3339)}, "at=time_in_future", time.Time{}, "", ""},
		{"not RFC 3339", "c1.staff", logs.DisinfectionInput{Place: "门岗", At: "2020-02-03 09:00"}, "at=invalid_datetime", time.Time{}, "", ""},
		{"no place", "c1.staff", logs.DisinfectionInput{Place: "  "}, "place=required", time.Time{}, "", ""},
		{"place too long", "c1.staff", logs.DisinfectionInput{Place: strings.Repeat("楼", 101)}, "place=too_long", time.Time{}, "", ""},
		{"grid worker, no grid", "c1.grid1", logs.DisinfectionInput{Place: "门岗"}, "grid=grid_worker_grid", time.Time{}, "", ""},
		{"grid worker, another grid", "c1.grid1", logs.DisinfectionInput{Place: "门岗", Grid: "c1-g3"}, "grid=unknown_grid", time.Time{}, "", ""},
		{"by too long", "c1.staff", logs.DisinfectionInput{Place: "门岗", By: strings.Repeat("名", 51)}, "by=too_long", time.Time{}, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := w.Logs.CreateDisinfection(w.As(t, c.user, "c1"), c.in)
			if f := testworld.Fields(err); f != c.want {
				t.Fatalf("fields %q, want %q", f, c.want)
			}
			if c.want != "" {
				return
			}
			if !got.At.Equal(c.at) || got.Date != c.date || got.By != c.by || got.Place != strings.TrimSpace(c.in.Place) || got.Grid != c.in.Grid {
				t.Errorf("created %+v", got)
			}
		})
	}
}

// logWorld is c1 with publicity in two grids and the whole community, and
// disinfection rounds likewise, and one entry of each in c2.
func logWorld(t *testing.T) (*world, map[string]string) {
	t.Helper()
	w := newWorld(t)
	ids := map[string]string{}
	staff, grid1, c2 := w.As(t, "c1.staff", "c1"), w.As(t, "c1.grid1", "c1"), w.As(t, "c2.staff", "c2")
	for _, p := range []struct {
		name string
		ctx  context.Context
		in   logs.PublicityInput
	}{
		{"whole", staff, logs.PublicityInput{Date: "2020-01-31", Kind: "notice", Count: pcount(2)}},
		{"g1", grid1, logs.PublicityInput{Date: "2020-02-01", Kind: "poster", Count: pcount(30), Grid: "c1-g1"}},
		{"g2", staff, logs.PublicityInput{Date: "2020-02-02", Kind: "poster", Count: pcount(12), Grid: "c1-g2"}},
		{"g1-wechat", grid1, logs.PublicityInput{Date: "2020-02-03", Kind: "wechat", Count: pcount(1), Grid: "c1-g1", Notes: "=1+2"}},
		{"c2", c2, logs.PublicityInput{Date: "2020-02-03", Kind: "notice", Count: pcount(9)}},
	} {
		v, err := w.Logs.CreatePublicity(p.ctx, p.in)
		if err != nil {
			t.Fatalf("publicity %s: %v", p.name, err)
		}
		ids["p:"+p.name] = v.ID
	}
	for _, d := range []struct {
		name string
		ctx  context.Context
		in   logs.DisinfectionInput
	}{
		{"whole", staff, logs.DisinfectionInput{Place: "社区服务中心", At: "2020-02-01T08:00:00+08:00"}},
		{"g1", grid1, logs.DisinfectionInput{Place: "1号楼", At: "2020-02-02T08:00:00+08:00", Grid: "c1-g1"}},
		{"g2", staff, logs.DisinfectionInput{Place: "5号楼", At: "2020-02-03T08:00:00+08:00", Grid: "c1-g2"}},
		{"c2", c2, logs.DisinfectionInput{Place: "c2 门岗"}},
	} {
		v, err := w.Logs.CreateDisinfection(d.ctx, d.in)
		if err != nil {
			t.Fatalf("disinfection %s: %v", d.name, err)
		}
		ids["d:"+d.name] = v.ID
	}
	return w, ids
}

// TestListLogs: filters, paging, a grid worker's grids plus the whole
// community's entries, and nothing of another community.
func TestListLogs(t *testing.T) {
	w, ids := logWorld(t)
	named := func(prefix string, names ...string) string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = ids[prefix+n]
		}
		return strings.Join(out, " ")
	}
	for _, c := range []struct {
		name string
		user string
		org  string
		f    logs.Filter
		want string // publicity, newest recorded first
		err  string
	}{
		{"staff sees all", "c1.staff", "c1", logs.Filter{}, named("p:", "g1-wechat", "g2", "g1", "whole"), ""},
		{"official reads", "sub.official", "c1", logs.Filter{}, named("p:", "g1-wechat", "g2", "g1", "whole"), ""},
		{"grid worker: own grid and the community's", "c1.grid1", "c1", logs.Filter{}, named("p:", "g1-wechat", "g1", "whole"), ""},
		{"by kind", "c1.staff", "c1", logs.Filter{Kind: "poster"}, named("p:", "g2", "g1"), ""},
		{"by days", "c1.staff", "c1", logs.Filter{From: "2020-02-01", To: "2020-02-02"}, named("p:", "g2", "g1"), ""},
		{"by grid", "c1.staff", "c1", logs.Filter{Grid: "c1-g1"}, named("p:", "g1-wechat", "g1"), ""},
		{"grid worker, another grid", "c1.grid1", "c1", logs.Filter{Grid: "c1-g2"}, "", "grid=unknown_grid"},
		{"bad filters", "c1.staff", "c1", logs.Filter{Kind: "x", From: "yesterday"}, "", "from=invalid_date,kind=one_of"},
		{"another community", "c2.staff", "c2", logs.Filter{}, named("p:", "c2"), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.f.Limit = 50
			got, next, err := w.Logs.ListPublicity(w.As(t, c.user, c.org), c.f)
			if f := testworld.Fields(err); f != c.err {
				t.Fatalf("error %q, want %q", f, c.err)
			}
			seen := make([]string, len(got))
			for i, p := range got {
				seen[i] = p.ID
			}
			if strings.Join(seen, " ") != c.want || next != "" {
				t.Errorf("got %v (next %q), want %s", got, next, c.want)
			}
		})
	}

	// Pages of two follow one another without a gap or a repeat.
	ctx := w.As(t, "c1.staff", "c1")
	var all []string
	for cursor, pages := "", 0; ; pages++ {
		page, next, err := w.Logs.ListPublicity(ctx, logs.Filter{Limit: 2, Cursor: cursor})
		if err != nil || pages > 3 {
			t.Fatalf("page %d: %v", pages, err)
		}
		for _, p := range page {
			all = append(all, p.ID)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if strings.Join(all, " ") != named("p:", "g1-wechat", "g2", "g1", "whole") {
		t.Errorf("paged %v", all)
	}

	for _, c := range []struct {
		name string
		user string
		org  string
		f    logs.Filter
		want string
	}{
		{"staff", "c1.staff", "c1", logs.Filter{}, named("d:", "g2", "g1", "whole")},
		{"grid worker", "c1.grid1", "c1", logs.Filter{}, named("d:", "g1", "whole")},
		{"by local day", "c1.staff", "c1", logs.Filter{From: "2020-02-02", To: "2020-02-02"}, named("d:", "g1")},
		{"by grid", "c1.staff", "c1", logs.Filter{Grid: "c1-g2"}, named("d:", "g2")},
		{"another community", "c2.staff", "c2", logs.Filter{}, named("d:", "c2")},
	} {
		t.Run("disinfections "+c.name, func(t *testing.T) {
			c.f.Limit = 50
			got, _, err := w.Logs.ListDisinfections(w.As(t, c.user, c.org), c.f)
			if err != nil {
				t.Fatal(err)
			}
			seen := make([]string, len(got))
			for i, d := range got {
				seen[i] = d.ID
			}
			if strings.Join(seen, " ") != c.want {
				t.Errorf("got %v, want %s", got, c.want)
			}
		})
	}
}

// TestExportLogs: CSV and XLSX in the reader's language, ordered by day,
// numbers as numbers and days as dates, formula-like notes harmless,
// filtered as the list, audited; a bad format or filter is a 422 before a
// byte is written.
func TestExportLogs(t *testing.T) {
	w, _ := logWorld(t)
	staff := w.As(t, "c1.staff", "c1")

	var buf bytes.Buffer
	if err := w.Logs.ExportPublicity(staff, logs.Filter{}, "csv", i18n.ZH, &buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(buf.Bytes(), []byte("\xEF\xBB\xBF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"日期", "类型", "数量", "网格", "备注", "登记人", "登记时间"},
		{"2020-01-31", "通知公告", "2", "全社区", "", "工作人员", "2020-02-03 09:00"},
		{"2020-02-01", "宣传海报", "30", "c1-g1", "", "网格员", "2020-02-03 09:00"},
		{"2020-02-02", "宣传海报", "12", "c1-g2", "", "工作人员", "2020-02-03 09:00"},
		{"2020-02-03", "微信群发布", "1", "c1-g1", "'=1+2", "网格员", "2020-02-03 09:00"},
	}
	if len(rows) != len(want) {
		t.Fatalf("csv rows %q", rows)
	}
	for i := range want {
		if strings.Join(rows[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("csv row %d = %q, want %q", i, rows[i], want[i])
		}
	}

	buf.Reset()
	if err := w.Logs.ExportPublicity(staff, logs.Filter{Kind: "poster"}, "xlsx", i18n.EN, &buf); err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if got := x.GetSheetList(); len(got) != 1 || got[0] != "Publicity" {
		t.Fatalf("sheets %q", got)
	}
	got, err := x.GetRows("Publicity")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || strings.Join(got[0], "|") != "Date|Kind|Count|Grid|Notes|Recorded by|Recorded at" ||
		strings.Join(got[1], "|") != "2020-02-01|Poster|30|c1-g1||网格员|2020-02-03 09:00" {
		t.Errorf("xlsx rows %q", got)
	}
	for cell, typ := range map[string]excelize.CellType{"A2": excelize.CellTypeUnset, "C2": excelize.CellTypeUnset, "B2": excelize.CellTypeInlineString} {
		if got, err := x.GetCellType("Publicity", cell); err != nil || got != typ {
			t.Errorf("%s is of type %v, want %v", cell, got, typ)
		}
	}
	if raw, _ := x.GetCellValue("Publicity", "C2", excelize.Options{RawCellValue: true}); raw != "30" {
		t.Errorf("C2 raw %q, want the number 30", raw)
	}
	if raw, _ := x.GetCellValue("Publicity", "A2", excelize.Options{RawCellValue: true}); raw != "43862" {
		t.Errorf("A2 raw %q, want the serial day of 2020-02-01", raw)
	}

	buf.Reset()
	if err := w.Logs.ExportDisinfections(w.As(t, "sub.official", "c1"), logs.Filter{From: "2020-02-02"}, "xlsx", i18n.ZH, &buf); err != nil {
		t.Fatal(err)
	}
	x2, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer x2.Close()
	got, err = x2.GetRows("消毒记录")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || strings.Join(got[0], "|") != "日期|时间|地点|网格|执行人|备注" ||
		strings.Join(got[1], "|") != "2020-02-02|2020-02-02 08:00|1号楼|c1-g1|网格员" ||
		strings.Join(got[2], "|") != "2020-02-03|2020-02-03 08:00|5号楼|c1-g2|工作人员" {
		t.Errorf("disinfection rows %q", got)
	}

	for _, c := range []struct {
		name   string
		format string
		f      logs.Filter
		want   string
	}{
		{"format", "pdf", logs.Filter{}, "format=one_of"},
		{"filter", "csv", logs.Filter{To: "soon"}, "to=invalid_date"},
	} {
		buf.Reset()
		err := w.Logs.ExportPublicity(staff, c.f, c.format, i18n.ZH, &buf)
		if f := testworld.Fields(err); f != c.want || buf.Len() != 0 {
			t.Errorf("%s: %q and %d bytes, want %q and none", c.name, f, buf.Len(), c.want)
		}
	}

	entries, _, err := audit.List(storetest.Unguarded(context.Background()), w.DB, audit.Filter{OrgPath: "/", Action: audit.ActionExport, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	exports := map[string]int{}
	for _, e := range entries {
		exports[e.Actor+" "+e.Resource+" "+e.ResourceID]++
	}
	if exports["c1.staff publicity csv"] != 1 || exports["c1.staff publicity xlsx"] != 1 || exports["sub.official disinfections xlsx"] != 1 || len(entries) != 3 {
		t.Errorf("export audit entries %v", exports)
	}
}

// TestLogWritesAreIdempotent: a publicity entry and a disinfection round
// posted twice with one Idempotency-Key are recorded once, and the retry
// gets the first answer back (the care contact's is pkg/care's test).
func TestLogWritesAreIdempotent(t *testing.T) {
	w := newWorld(t)
	staff := w.As(t, "c1.staff", "c1")
	once := func(key string) context.Context {
		return idempotency.With(staff, idempotency.Request{Key: key, Fingerprint: idempotency.Fingerprint(key)})
	}
	for _, c := range []struct {
		name  string
		write func(ctx context.Context) (string, error)
		count func() int
	}{
		{"publicity", func(ctx context.Context) (string, error) {
			v, err := w.Logs.CreatePublicity(ctx, logs.PublicityInput{Kind: "poster", Count: pcount(5)})
			if err != nil {
				return "", err
			}
			return v.ID, nil
		}, func() int {
			l, _, err := w.Logs.ListPublicity(staff, logs.Filter{Limit: 50})
			if err != nil {
				t.Fatal(err)
			}
			return len(l)
		}},
		{"disinfection", func(ctx context.Context) (string, error) {
			v, err := w.Logs.CreateDisinfection(ctx, logs.DisinfectionInput{Place: "门岗"})
			if err != nil {
				return "", err
			}
			return v.ID, nil
		}, func() int {
			l, _, err := w.Logs.ListDisinfections(staff, logs.Filter{Limit: 50})
			if err != nil {
				t.Fatal(err)
			}
			return len(l)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			first, err := c.write(once(c.name))
			if err != nil {
				t.Fatal(err)
			}
			again, err := c.write(once(c.name))
			if err != nil || again != first {
				t.Fatalf("retry: %q %v, want %q", again, err, first)
			}
			if n := c.count(); n != 1 {
				t.Errorf("%d recorded, want 1", n)
			}
		})
	}
}

// TestLogRoutes drives the routes through HTTP once Routes mounts them:
// the JSON shapes, the permissions of policy.csv (grid workers may not
// export), the download's headers and a 422 before any byte of a file.
func TestLogRoutes(t *testing.T) {
	w, _ := logWorld(t)
	gin.SetMode(gin.TestMode)
	e := web.NewEngine(web.Options{Logger: slog.New(slog.DiscardHandler)})
	signed := e.Group("/api/v1", func(c *gin.Context) {
		u, err := authn.UserByUsername(c.Request.Context(), w.DB, c.GetHeader("X-User"))
		if err != nil {
			web.Fail(c, errs.Unauthenticated())
			return
		}
		c.Request = c.Request.WithContext(authn.WithUser(c.Request.Context(), u))
	})
	w.Logs.Routes(w.District.Authz.OrgRoutes(signed))
	call := func(method, path, user, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("X-User", user)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}
	for _, c := range []struct {
		method, path, user, body string
		status                   int
		has                      string // in the body, or the Content-Type of a file
	}{
		{"GET", "/api/v1/orgs/c1/publicity?kind=poster&limit=1", "c1.staff", "", 200, `"next_cursor":"`},
		{"POST", "/api/v1/orgs/c1/publicity", "c1.grid1", `{"date":"2020-02-03","kind":"notice","count":4,"grid":"c1-g1"}`, 201, `"grid":"c1-g1"`},
		{"POST", "/api/v1/orgs/c1/publicity", "c1.staff", `{"kind":"notice","count":0}`, 422, `"count"`},
		{"POST", "/api/v1/orgs/c1/publicity", "sub.official", `{"kind":"notice","count":1}`, 403, ""},
		{"GET", "/api/v1/orgs/c1/disinfections?from=2020-02-02", "c1.grid1", "", 200, `"place":"1号楼"`},
		{"POST", "/api/v1/orgs/c1/disinfections", "c1.staff", `{"place":"门岗","at":"2020-02-03T08:00:00+08:00","notes":"含氯消毒液"}`, 201, `"date":"2020-02-03"`},
		{"GET", "/api/v1/orgs/c1/publicity/export?format=csv", "c1.staff", "", 200, "text/csv"},
		{"GET", "/api/v1/orgs/c1/disinfections/export", "sub.official", "", 200, "spreadsheetml"},
		{"GET", "/api/v1/orgs/c1/publicity/export?format=pdf", "c1.staff", "", 422, `"format"`},
		{"GET", "/api/v1/orgs/c1/publicity/export", "c1.grid1", "", 403, ""},
		{"GET", "/api/v1/orgs/c2/publicity", "c1.staff", "", 403, ""},
	} {
		rec := call(c.method, c.path, c.user, c.body)
		got := rec.Body.String()
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			got = ct + " " + rec.Header().Get("Content-Disposition")
		}
		if rec.Code != c.status || !strings.Contains(got, c.has) {
			t.Errorf("%s %s as %s: %d %.300s, want %d with %s", c.method, c.path, c.user, rec.Code, got, c.status, c.has)
		}
	}
}

// displayName is orgstest's display name of each fixture user: what a
// record shows as who made it.
var displayName = map[string]string{"c1.admin": "主任", "c1.staff": "工作人员", "c1.grid1": "网格员"}
