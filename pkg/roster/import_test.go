package roster_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/uptrace/bun"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/pii"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

func gbk(t *testing.T, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func xlsx(t *testing.T, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestImportHouseholds: the same roster as UTF-8 CSV, GBK CSV and XLSX
// lands once; a changed row updates in place; bad rows are explained.
func TestImportHouseholds(t *testing.T) {
	db := storetest.New(t)
	ctx := community(t, db)
	s := &roster.Service{DB: db}
	text := "网格,楼栋,单元,房号,电话,标签,备注\n" +
		"g1,1栋,1单元,101,0773-2851234,独居,\n" +
		"网格2,2栋,1单元,102,13800001111,,三楼\n" +
		"g9,3栋,1单元,103,,,\n" +
		"g1,1栋,1单元,101,,,\n"
	first, err := s.ImportNow(ctx, roster.KindHouseholds, "a.csv", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if first.Status != "done" || first.Rows != 4 || first.Created != 2 || first.ErrorCount != 2 {
		t.Fatalf("first import: %+v", first)
	}
	got := map[string]bool{}
	for _, e := range first.Errors {
		got[strings.Join([]string{itoa(e.Row), e.Field, e.Key}, "/")] = true
	}
	for _, want := range []string{"4/grid/unknown_grid", "5/address/repeated_in_file"} {
		if !got[want] {
			t.Errorf("errors %v lack %s", first.Errors, want)
		}
	}
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"b.csv", gbk(t, text)},
		{"c.xlsx", xlsx(t, [][]any{{"网格", "楼栋", "单元", "房号", "电话", "标签", "备注"},
			{"g1", "1栋", "1单元", "101", "0773-2851234", "独居", ""}, {"网格2", "2栋", "1单元", "102", 13800001111, "", "三楼"}})},
	} {
		again, err := s.ImportNow(ctx, roster.KindHouseholds, c.name, c.data)
		if err != nil {
			t.Fatal(err)
		}
		if again.Status != "done" || again.Created != 0 || again.Updated != 0 || again.Unchanged != 2 {
			t.Fatalf("%s: re-import changed the roster: %+v", c.name, again)
		}
	}
	changed, err := s.ImportNow(ctx, roster.KindHouseholds, "d.csv", []byte("网格,楼栋,单元,房号,电话\ng1,1栋,1单元,101,13900002222\n"))
	if err != nil {
		t.Fatal(err)
	}
	if changed.Updated != 1 || changed.Created != 0 {
		t.Fatalf("changed row: %+v", changed)
	}
	list, _, err := s.ListHouseholds(ctx, roster.Filter{Q: "2222", Limit: 10})
	if err != nil || len(list) != 1 || list[0].Phone != "13900002222" {
		t.Fatalf("after update: %+v %v", list, err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// errorSet lists an import's errors as "row/field/key".
func errorSet(imp *roster.Import) map[string]bool {
	got := map[string]bool{}
	for _, e := range imp.Errors {
		got[strings.Join([]string{itoa(e.Row), e.Field, e.Key}, "/")] = true
	}
	return got
}

// TestImportResidentsMatchesTheRoster: rows are matched against residents
// and households saved before the import, not only against the file.
func TestImportResidentsMatchesTheRoster(t *testing.T) {
	db := storetest.New(t)
	ctx := community(t, db)
	s := &roster.Service{DB: db}
	bl, err := s.CreateBuilding(ctx, roster.BuildingInput{Grid: "g1", Name: "1栋"})
	if err != nil {
		t.Fatal(err)
	}
	home, err := s.CreateHousehold(ctx, roster.HouseholdInput{BuildingID: bl.ID, Unit: "1单元", Room: "101"})
	if err != nil {
		t.Fatal(err)
	}
	id := "45030519500101001"
	id += string(pii.CheckDigit(id))
	for _, in := range []roster.ResidentInput{
		{HouseholdID: home.ID, Name: "张三", IDNumber: id},
		{HouseholdID: home.ID, Name: "李四", Phone: "13900001111"},
	} {
		if _, err := s.CreateResident(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	text := "姓名,电话,身份证号,网格,楼栋,单元,房号\n" +
		"张三丰,," + id + ",g1,1栋,1单元,101\n" + // same ID number: updated in place
		"李四,13900001111,,g1,1栋,1单元,101\n" + // same household and name: unchanged
		"李四,13900001111,,g1,1栋,1单元,102\n" + // same name and phone elsewhere: flagged
		"王五,,,g1,1栋,1单元,101\n" // new, in the saved household
	imp, err := s.ImportNow(ctx, roster.KindResidents, "r.csv", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if imp.Created != 1 || imp.Updated != 1 || imp.Unchanged != 1 || imp.ErrorCount != 1 || !errorSet(imp)["4/name/resident_same_name_phone"] {
		t.Fatalf("import: %+v", imp)
	}
	list, _, err := s.ListResidents(ctx, roster.Filter{HouseholdID: home.ID, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range list {
		names = append(names, r.Name)
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "张三丰,李四,王五" {
		t.Fatalf("household 101 holds %v", names)
	}
	// The refused row's household (room 102) is not left empty on the roster.
	if homes, _, err := s.ListHouseholds(ctx, roster.Filter{Limit: 10}); err != nil || len(homes) != 1 {
		t.Fatalf("households: %d %v", len(homes), err)
	}
}

// TestImportResidentsAcrossBatches: a file of several batches is matched
// against the batches saved before it, and imported again creates nothing.
func TestImportResidentsAcrossBatches(t *testing.T) {
	db := storetest.New(t)
	ctx := community(t, db)
	s := &roster.Service{DB: db}
	const n = 2500
	// The last row repeats the first row's name and phone at another address.
	data := append(residentsCSV(n), "居民0,17000000000,,,,,g1,99栋,1单元,1\n"...)
	for i, want := range []struct{ created, unchanged int }{{n, 0}, {0, n}} {
		imp, err := s.ImportNow(ctx, roster.KindResidents, "big.csv", data)
		if err != nil {
			t.Fatal(err)
		}
		if imp.Status != "done" || imp.Rows != n+1 || imp.Created != want.created || imp.Unchanged != want.unchanged || imp.Updated != 0 ||
			imp.ErrorCount != 1 || !errorSet(imp)[itoa(n+2)+"/name/resident_same_name_phone"] {
			t.Fatalf("import %d: rows %d created %d unchanged %d updated %d errors %v", i+1, imp.Rows, imp.Created, imp.Unchanged, imp.Updated, imp.Errors)
		}
	}
}

// TestRejectedRows: every rejected row is kept with its reasons and cells;
// the rejected-rows file, fixed, imports as it is.
func TestRejectedRows(t *testing.T) {
	db := storetest.New(t)
	ctx := community(t, db)
	s := &roster.Service{DB: db}
	var text strings.Builder
	text.WriteString("姓名,电话,网格,地址\n")
	const bad = 1005 // more than the status lists
	for i := 0; i < bad; i++ {
		fmt.Fprintf(&text, "居民%d,12345,g1,七星路%d号\n", i, i) // a bad phone
	}
	text.WriteString("无网格,13900001111,,\n") // two problems: no grid, no address
	text.WriteString("好人,13900002222,g2,七星路1号\n")
	imp, err := s.ImportNow(ctx, roster.KindResidents, "r.csv", []byte(text.String()))
	if err != nil {
		t.Fatal(err)
	}
	if imp.Created != 1 || imp.ErrorCount != bad+2 || !imp.ErrorsTruncated || len(imp.Errors) != 1000 {
		t.Fatalf("import: created %d, error_count %d, truncated %v, %d errors listed", imp.Created, imp.ErrorCount, imp.ErrorsTruncated, len(imp.Errors))
	}

	var file bytes.Buffer
	if err := s.RejectedRows(ctx, imp.ID, "csv", i18n.ZH, &file); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(file.Bytes(), []byte("\xEF\xBB\xBF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != bad+2 || rows[0][0] != "行号" || rows[0][2] != "姓名 name" {
		t.Fatalf("rejected file: %d rows, header %v", len(rows), rows[0])
	}
	first, last := rows[1], rows[len(rows)-1]
	if first[0] != "2" || !strings.HasPrefix(first[1], "电话: ") || first[2] != "居民0" || first[3] != "12345" {
		t.Fatalf("first rejected row: %q", first)
	}
	if last[0] != itoa(bad+2) || strings.Count(last[1], "; ") != 1 || last[2] != "无网格" {
		t.Fatalf("last rejected row: %q", last)
	}

	// The office fixes the phones and uploads the file again.
	var fixed bytes.Buffer
	w := csv.NewWriter(&fixed)
	for i, r := range rows[:bad+1] {
		if i > 0 {
			r[3] = fmt.Sprintf("1390000%04d", i+2)
		}
		_ = w.Write(r)
	}
	w.Flush()
	again, err := s.ImportNow(ctx, roster.KindResidents, "rejected.csv", fixed.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if again.Status != "done" || again.Created != bad || again.ErrorCount != 0 {
		t.Fatalf("fixed file: created %d, errors %v", again.Created, again.Errors)
	}
	// A retry of the import starts over without doubling its rejected rows.
	if err := s.RejectedRows(ctx, again.ID, "xlsx", i18n.EN, io.Discard); err != nil {
		t.Fatal(err)
	}
}

// TestExportReimports: an export, as CSV or XLSX, imports back onto the
// same roster without changing anything.
func TestExportReimports(t *testing.T) {
	db := storetest.New(t)
	ctx := community(t, db)
	s := &roster.Service{DB: db}
	homes, people, err := s.SeedDemo(ctx, roster.DemoSpec{Seed: 7, Grids: []string{"g1", "g2"}, Buildings: 4, Households: 60, ElderlyShare: 0.3, Street: "测试路"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		kind string
		n    int
	}{{roster.KindHouseholds, homes}, {roster.KindResidents, people}} {
		for _, format := range []string{"csv", "xlsx"} {
			var file bytes.Buffer
			if err := s.Export(ctx, c.kind, format, &file); err != nil {
				t.Fatal(err)
			}
			imp, err := s.ImportNow(ctx, c.kind, "export."+format, file.Bytes())
			if err != nil {
				t.Fatalf("%s.%s: %v", c.kind, format, err)
			}
			if imp.Status != "done" || imp.Rows != c.n || imp.Unchanged != c.n || imp.ErrorCount != 0 {
				t.Errorf("%s.%s re-imported: rows %d unchanged %d created %d updated %d errors %v", c.kind, format,
					imp.Rows, imp.Unchanged, imp.Created, imp.Updated, imp.Errors)
			}
		}
	}
}

// TestFailedImportMessageKeepsItsArguments: an import that fails in the
// background says why with its numbers, not a bare "{max}".
func TestFailedImportMessageKeepsItsArguments(t *testing.T) {
	defer roster.SetImportRowLimit(2)()
	db := storetest.New(t)
	ctx := community(t, db)
	s := &roster.Service{DB: db}
	imp, err := s.ImportNow(ctx, roster.KindHouseholds, "a.csv", []byte("网格,地址\ng1,育才路1号\ng1,育才路2号\ng1,育才路3号\n"))
	if err != nil {
		t.Fatal(err)
	}
	if imp.Status != "failed" || imp.Message != "sheet_too_many_rows" {
		t.Fatalf("import: status %s message %q", imp.Status, imp.Message)
	}
	if got := i18n.T(i18n.EN, imp.Message, imp.MessageArgs); !strings.Contains(got, "2") || strings.Contains(got, "{max}") {
		t.Fatalf("message: %q (args %v)", got, imp.MessageArgs)
	}
}

// TestResumedImportCountsTrue: an import interrupted between batches (its
// worker or its database died) resumes after the last committed batch, and
// its counts are those of one uninterrupted run: rows saved before the
// crash are not counted again as unchanged.
func TestResumedImportCountsTrue(t *testing.T) {
	defer roster.SetImportBatch(2)()
	db := storetest.New(t)
	ctx := community(t, db)
	s := &roster.Service{DB: db}
	data := []byte("网格,地址\ng1,育才路1号\nnope,育才路2号\ng1,育才路3号\ng1,育才路4号\ng1,育才路5号\ng1,育才路6号\ng1,育才路7号\n")
	restore := roster.CrashAfterBatches(2)
	_, err := s.ImportNow(ctx, roster.KindHouseholds, "a.csv", data)
	restore()
	if err == nil {
		t.Fatal("the simulated crash did not stop the import")
	}
	var id string
	err = db.AcrossTenants(ctx, "test", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewSelect().TableExpr("imports").Column("id").Scan(ctx, &id)
	})
	if err != nil {
		t.Fatal(err)
	}
	mid, err := s.GetImport(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if mid.Status != "running" || mid.Rows != 4 || mid.Created != 3 || mid.ErrorCount != 1 {
		t.Fatalf("after the crash: status %s rows %d created %d errors %d", mid.Status, mid.Rows, mid.Created, mid.ErrorCount)
	}
	if err := s.RunImport(ctx, mid.ID); err != nil {
		t.Fatal(err)
	}
	imp, err := s.GetImport(ctx, mid.ID)
	if err != nil {
		t.Fatal(err)
	}
	if imp.Status != "done" || imp.Rows != 7 || imp.Created != 6 || imp.Unchanged != 0 || imp.Updated != 0 || imp.ErrorCount != 1 {
		t.Fatalf("resumed: status %s rows %d created %d unchanged %d updated %d errors %d",
			imp.Status, imp.Rows, imp.Created, imp.Unchanged, imp.Updated, imp.ErrorCount)
	}
	hs, _, err := s.ListHouseholds(ctx, roster.Filter{Limit: 50})
	if err != nil || len(hs) != 6 {
		t.Fatalf("households after the resumed import: %d %v", len(hs), err)
	}
}
