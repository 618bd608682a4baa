package roster_test

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/pii"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// rawCell is a cell as the worksheet XML holds it: its type attribute
// (empty means a number) and its value or inline text.
type rawCell struct {
	T, V string
}

// rawSheet reads the cells of an XLSX's one worksheet by reference, as
// any reader (openpyxl, LibreOffice) sees them, without excelize's
// formatting.
func rawSheet(t *testing.T, data []byte) map[string]rawCell {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var ws struct {
		Rows []struct {
			Cells []struct {
				R  string `xml:"r,attr"`
				T  string `xml:"t,attr"`
				V  string `xml:"v"`
				IS struct {
					T string `xml:"t"`
				} `xml:"is"`
			} `xml:"c"`
		} `xml:"sheetData>row"`
	}
	n := 0
	for _, f := range zr.File {
		if !strings.HasPrefix(f.Name, "xl/worksheets/") || !strings.HasSuffix(f.Name, ".xml") {
			continue
		}
		n++
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		_ = rc.Close()
		if err := xml.Unmarshal(b, &ws); err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
	}
	if n != 1 {
		t.Fatalf("%d worksheets, want 1", n)
	}
	out := map[string]rawCell{}
	for _, r := range ws.Rows {
		for _, c := range r.Cells {
			v := c.V
			if c.T == "inlineStr" {
				v = c.IS.T
			}
			out[c.R] = rawCell{T: c.T, V: v}
		}
	}
	return out
}

// checkLayout checks an XLSX export's sheet name, frozen header row and
// column widths (every title fits its column), and returns the workbook's
// header row.
func checkLayout(t *testing.T, data []byte, sheet string) []string {
	t.Helper()
	x, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if got := x.GetSheetList(); len(got) != 1 || got[0] != sheet {
		t.Fatalf("sheets %q, want [%s]", got, sheet)
	}
	panes, err := x.GetPanes(sheet)
	if err != nil {
		t.Fatal(err)
	}
	if !panes.Freeze || panes.YSplit != 1 || panes.XSplit != 0 || panes.TopLeftCell != "A2" {
		t.Errorf("panes %+v: the header row is not frozen", panes)
	}
	rows, err := x.GetRows(sheet)
	if err != nil || len(rows) == 0 {
		t.Fatalf("rows: %d %v", len(rows), err)
	}
	for i, title := range rows[0] {
		col, _ := excelize.ColumnNumberToName(i + 1)
		w, err := x.GetColWidth(sheet, col)
		if err != nil {
			t.Fatal(err)
		}
		if need := float64(len([]rune(title))); w < need {
			t.Errorf("column %s (%q) is %.1f wide, less than its title", col, title, w)
		}
	}
	return rows[0]
}

// TestXLSXExportTypes: an XLSX export writes birth years as numbers, and
// names, phones and ID numbers as strings (every digit, leading zeros and
// all 18 digits kept); its sheet is named, its header row frozen and
// bilingual as the importer reads it, its columns sized; it imports back
// without a change.
func TestXLSXExportTypes(t *testing.T) {
	db := storetest.New(t)
	staff := community(t, db)
	admin := as(staff, "admin", authz.RoleCommunityAdmin)
	s := &roster.Service{DB: db}

	h, err := s.CreateHousehold(staff, roster.HouseholdInput{Grid: "g1", Address: "七星路1号", Phone: "0773-2851234", Notes: "=1+2"})
	if err != nil {
		t.Fatal(err)
	}
	digits := idNumber("45030519450601002") // 18 digits: a float loses the last ones
	if strings.ContainsRune(digits, 'X') {
		t.Fatalf("%s: want an ID number of digits only", digits)
	}
	var withX string
	for seq := 100; withX == ""; seq++ {
		if id := idNumber("450305198003151" + itoa(seq)[1:]); strings.HasSuffix(id, "X") {
			withX = id
		}
	}
	born := 1990
	people := []struct {
		in   roster.ResidentInput
		year string // as the number cell holds it; "" for none
	}{
		{roster.ResidentInput{Name: "王秀英", Phone: "13900002222", IDNumber: digits}, "1945"},
		{roster.ResidentInput{Name: "=1+2", Phone: "0773-2851234", IDNumber: withX}, "1980"},
		{roster.ResidentInput{Name: "李明", Phone: "13900003333", BirthYear: &born, Sex: "男"}, "1990"},
		{roster.ResidentInput{Name: "0042"}, ""},
	}
	for _, p := range people {
		p.in.HouseholdID = h.ID
		if _, err := s.CreateResident(staff, p.in); err != nil {
			t.Fatalf("%s: %v", p.in.Name, err)
		}
	}

	var file bytes.Buffer
	if err := s.ExportWith(admin, roster.KindResidents, "xlsx", roster.ExportOptions{FullIDNumbers: true}, &file); err != nil {
		t.Fatal(err)
	}
	header := checkLayout(t, file.Bytes(), "居民")
	if strings.Join(header, "|") != "姓名 name|电话 phone|身份证号 id_number|出生年份 birth_year|性别 sex|标签 tags|网格 grid|楼栋 building|单元 unit|房号 room|地址 address" {
		t.Errorf("header %q", header)
	}
	cells := rawSheet(t, file.Bytes())
	for col := 'A'; col <= 'K'; col++ {
		if c := cells[string(col)+"1"]; c.T != "inlineStr" && c.T != "s" {
			t.Errorf("header %c1 = %+v, not a string", col, c)
		}
	}
	for i, p := range people {
		row := itoa(i + 2)
		text := func(col, want string) {
			t.Helper()
			if c := cells[col+row]; c.V != want || (c.T != "inlineStr" && c.T != "s") {
				t.Errorf("%s%s = %+v, want the string %q", col, row, c, want)
			}
		}
		text("A", p.in.Name)
		phone, _ := pii.NormalizePhone(p.in.Phone)
		if phone != "" {
			text("B", phone)
		}
		if p.in.IDNumber != "" {
			text("C", p.in.IDNumber)
		}
		year := cells["D"+row]
		switch {
		case p.year == "" && year.V != "":
			t.Errorf("D%s = %+v, want no birth year", row, year)
		case p.year != "" && (year.V != p.year || (year.T != "" && year.T != "n")):
			t.Errorf("D%s = %+v, want the number %s", row, year, p.year)
		}
		text("G", "g1")
		text("K", "七星路1号")
	}

	// excelize agrees: string cells are strings, the birth year is no string.
	x, err := excelize.OpenReader(bytes.NewReader(file.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		cell   string
		string bool
	}{{"A2", true}, {"B2", true}, {"C2", true}, {"C3", true}, {"A3", true}, {"A5", true}, {"D2", false}, {"D3", false}} {
		typ, err := x.GetCellType("居民", c.cell)
		if err != nil {
			t.Fatal(err)
		}
		isString := typ == excelize.CellTypeInlineString || typ == excelize.CellTypeSharedString
		isNumber := typ == excelize.CellTypeNumber || typ == excelize.CellTypeUnset
		if (c.string && !isString) || (!c.string && !isNumber) {
			t.Errorf("%s is of type %v", c.cell, typ)
		}
	}
	_ = x.Close()
	checkStringCells(t, file.Bytes(), "=1+2")

	imp, err := s.ImportNow(admin, roster.KindResidents, "export.xlsx", file.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if imp.Status != "done" || imp.Unchanged != len(people) || imp.Created+imp.Updated+imp.ErrorCount != 0 {
		t.Fatalf("re-import: %+v", imp)
	}

	file.Reset()
	if err := s.Export(staff, roster.KindHouseholds, "xlsx", &file); err != nil {
		t.Fatal(err)
	}
	header = checkLayout(t, file.Bytes(), "住户")
	if strings.Join(header, "|") != "网格 grid|楼栋 building|单元 unit|房号 room|地址 address|电话 phone|标签 tags|备注 notes" {
		t.Errorf("households header %q", header)
	}
	cells = rawSheet(t, file.Bytes())
	for col, want := range map[string]string{"A": "g1", "E": "七星路1号", "F": "0773-2851234", "H": "=1+2"} {
		if c := cells[col+"2"]; c.V != want || (c.T != "inlineStr" && c.T != "s") {
			t.Errorf("%s2 = %+v, want the string %q", col, c, want)
		}
	}
	imp, err = s.ImportNow(staff, roster.KindHouseholds, "export.xlsx", file.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if imp.Status != "done" || imp.Unchanged != 1 || imp.Created+imp.Updated+imp.ErrorCount != 0 {
		t.Fatalf("households re-import: %+v", imp)
	}

	// The CSV export is as it was: text, the birth year as digits.
	file.Reset()
	if err := s.ExportWith(admin, roster.KindResidents, "csv", roster.ExportOptions{FullIDNumbers: true}, &file); err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, file.Bytes())
	if len(rows) != len(people)+1 || rows[1][2] != digits || rows[1][3] != "1945" || rows[2][0] != "'=1+2" || rows[4][3] != "" {
		t.Errorf("csv export: %q", rows)
	}
}

// TestRejectedRowsTyped: the rejected-rows XLSX types its cells as the
// export does: the line is a number, and so is a birth year that is a
// plain number; a birth year typed wrong stays the text the office typed.
// The file still imports as it is.
func TestRejectedRowsTyped(t *testing.T) {
	db := storetest.New(t)
	ctx := community(t, db)
	s := &roster.Service{DB: db}
	text := "姓名,电话,身份证号,出生年份,网格,地址\n" +
		"甲,12345,,1950,g1,七星路1号\n" + // a bad phone
		"乙,,,六十年代,g1,七星路2号\n" // a bad birth year
	imp, err := s.ImportNow(ctx, roster.KindResidents, "r.csv", []byte(text))
	if err != nil || imp.ErrorCount != 2 {
		t.Fatalf("import: %+v %v", imp, err)
	}
	var file bytes.Buffer
	if err := s.RejectedRows(ctx, imp.ID, "xlsx", i18n.ZH, &file); err != nil {
		t.Fatal(err)
	}
	cells := rawSheet(t, file.Bytes())
	// Line, problems, then the residents' columns: name, phone, id_number,
	// birth_year (F).
	for ref, want := range map[string]rawCell{
		"A2": {"", "2"}, "A3": {"", "3"},
		"F2": {"", "1950"}, "F3": {"inlineStr", "六十年代"},
		"D2": {"inlineStr", "12345"}, "C2": {"inlineStr", "甲"},
	} {
		if got := cells[ref]; got != want {
			t.Errorf("%s = %+v, want %+v", ref, got, want)
		}
	}
	again, err := s.ImportNow(ctx, roster.KindResidents, "rejected.xlsx", file.Bytes())
	if err != nil || again.Rows != 2 || again.ErrorCount != 2 {
		t.Fatalf("the rejected file imported again: %+v %v", again, err)
	}
}
