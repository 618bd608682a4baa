package reports_test

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/xuri/excelize/v2"

	"github.com/wanjia/wanjia/pkg/reports"
	"github.com/wanjia/wanjia/pkg/store"
)

// TestRollup: over two sub-districts, each official's rollup has its own
// communities only (the other's figures reach neither the lines nor the
// totals); each community is submitted (with its time and whether after
// the cut-off), missing before its cut-off and late after it; live lines
// are marked draft; the totals are the sums.
func TestRollup(t *testing.T) {
	w := newWorld(t)
	w.secondSubdistrict(t)
	hs := w.Households(t, "c1", "c1-g1", "170", 2)
	w.Households(t, "c2", "c2-g1", "171", 3)
	w.Households(t, "c3", "c3-g1", "172", 7)
	sc, tasks := w.campaign(t, "c1")
	w.attempt(t, "c1", sc, tasks[hs[0].ID], "phone")
	if _, err := w.Reports.Submit(w.Admin(t, "c1"), "2020-02-03"); err != nil {
		t.Fatal(err)
	}
	w.attempt(t, "c1", sc, tasks[hs[1].ID], "visit") // after the submission: not in the rollup

	type line struct {
		status     string
		draft      bool
		households int
	}
	check := func(when, official, org string, want map[string]line, missing []string) {
		t.Helper()
		r, err := w.Reports.Rollup(w.As(t, official, org), "2020-02-03")
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		got := map[string]line{}
		total := 0
		for _, c := range r.Communities {
			got[c.Org] = line{c.Status, c.Draft, c.Figures["households_total"]}
			total += c.Figures["households_total"]
			if c.Status == reports.StatusSubmitted && (c.SubmittedAt == nil || c.Version != 1) {
				t.Errorf("%s: %s submitted without its time: %+v", when, c.Org, c)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: %s sees %v, want %v", when, official, got, want)
		}
		for org, l := range want {
			if got[org] != l {
				t.Errorf("%s: %s's %s is %+v, want %+v", when, official, org, got[org], l)
			}
		}
		if r.Totals["households_total"] != total || !slices.Equal(r.Missing, missing) {
			t.Errorf("%s: totals %d (lines %d), missing %v want %v", when, r.Totals["households_total"], total, r.Missing, missing)
		}
		if len(r.Totals) != len(reports.Keys) || len(r.ManualTotals) != len(reports.ManualKeys) {
			t.Errorf("%s: totals of %d keys", when, len(r.Totals))
		}
	}
	check("morning", "sub.official", "sub", map[string]line{"c1": {reports.StatusSubmitted, false, 2}, "c2": {reports.StatusMissing, true, 3}}, []string{"c2"})
	check("morning", "sub2.official", "sub2", map[string]line{"c3": {reports.StatusMissing, true, 7}}, []string{"c3"})
	r, err := w.Reports.Rollup(w.As(t, "sub.official", "sub"), "2020-02-03")
	if err != nil {
		t.Fatal(err)
	}
	if c := r.Communities[0]; c.Figures["screened_today"] != 1 || c.Figures["visits_today"] != 0 || c.AfterCutoff {
		t.Errorf("c1's line is not its submission: %+v", c)
	}
	if r.Name != "七星街道" {
		t.Errorf("name %q", r.Name)
	}

	w.Clock.At(t, "2020-02-03 19:00")
	if _, err := w.Reports.Submit(w.Admin(t, "c3"), "2020-02-03"); err != nil {
		t.Fatal(err)
	}
	check("evening", "sub.official", "sub", map[string]line{"c1": {reports.StatusSubmitted, false, 2}, "c2": {reports.StatusLate, true, 3}}, []string{"c2"})
	check("evening", "sub2.official", "sub2", map[string]line{"c3": {reports.StatusSubmitted, false, 7}}, []string{})
	r, _ = w.Reports.Rollup(w.As(t, "sub2.official", "sub2"), "2020-02-03")
	if c := r.Communities[0]; !c.AfterCutoff || !c.SubmittedAt.Equal(time.Date(2020, 2, 3, 11, 0, 0, 0, time.UTC)) {
		t.Errorf("c3 submitted after its cut-off: %+v", c)
	}
	// Neither official reaches the other's sub-district.
	if w.District.Authz.Check(userID(t, w, "sub.official"), "sub2", "reports", "read").Allowed ||
		w.District.Authz.Check(userID(t, w, "sub2.official"), "c1", "reports", "read").Allowed {
		t.Error("an official may read the other sub-district's reports")
	}
}

func userID(t *testing.T, w *world, username string) string {
	t.Helper()
	var id string
	err := w.DB.InTx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		return tx.NewSelect().Table("users").Column("id").Where("username = ?", username).Scan(ctx, &id)
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestExport: the sub-district's XLSX read back: a title naming the org
// and the day, the header frozen below it, a row per community (names,
// statuses, figures as number cells) and a totals row of the sums; a
// community's is a row per figure; CSV has the same rows; each export is
// audited.
func TestExport(t *testing.T) {
	w := newWorld(t)
	w.Households(t, "c1", "c1-g1", "170", 2)
	w.Households(t, "c2", "c2-g1", "171", 3)
	if _, err := w.Reports.Submit(w.Admin(t, "c1"), "2020-02-03"); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := w.Reports.Export(w.Official(t, "sub"), "2020-02-03", "xlsx", &buf); err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	rows, err := x.GetRows("日报")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 || rows[0][0] != "七星街道 日报 2020-02-03" || rows[1][0] != "社区" || rows[1][2] != "总户数" {
		t.Fatalf("rows %q", rows)
	}
	if rows[2][0] != "c1社区" || rows[2][1] != "已上报" || rows[3][0] != "c2社区" || rows[3][1] != "未上报" ||
		rows[4][0] != "合计" || rows[2][2] != "2" || rows[3][2] != "3" || rows[4][2] != "5" {
		t.Errorf("lines %q", rows[2:])
	}
	width := 2 + len(reports.Keys) + len(reports.ManualKeys)
	if len(rows[1]) != width {
		t.Errorf("header of %d columns, want %d", len(rows[1]), width)
	}
	last, _ := excelize.CoordinatesToCellName(width, 5)
	for _, cell := range []string{"C3", "C4", "C5", last} {
		if typ, err := x.GetCellType("日报", cell); err != nil || typ != excelize.CellTypeUnset {
			t.Errorf("%s is of type %v, want a number (%v)", cell, typ, err)
		}
	}
	if panes, err := x.GetPanes("日报"); err != nil || !panes.Freeze || panes.YSplit != 2 {
		t.Errorf("panes %+v %v", panes, err)
	}

	buf.Reset()
	if err := w.Reports.Export(w.Admin(t, "c1"), "2020-02-03", "csv", &buf); err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(bytes.TrimPrefix(buf.Bytes(), []byte("\xEF\xBB\xBF"))), []byte("\n"))
	if len(lines) != 2+len(reports.Keys)+len(reports.ManualKeys) || !bytes.HasPrefix(lines[0], []byte("c1社区 日报 2020-02-03 已上报")) ||
		string(bytes.TrimSpace(lines[2])) != "总户数,2" {
		t.Errorf("community csv: %d lines, %q", len(lines), lines[:3])
	}

	var n int
	err = w.DB.AcrossTenants(context.Background(), "test", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewRaw("SELECT count(*) FROM audit_log WHERE action = 'export' AND resource = 'daily_report'").Scan(ctx, &n)
	})
	if err != nil || n != 2 {
		t.Errorf("%d exports audited (%v), want 2", n, err)
	}
}
