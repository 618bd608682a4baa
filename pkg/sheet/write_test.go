package sheet

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// writeTable writes a header and rows through a Writer of format.
func writeTable(t *testing.T, format Format, lay Layout, header []string, rows ...[]any) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, format, lay)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Row(header); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.Typed(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var beijing = time.FixedZone("CST", 8*3600)

// TestWriterCSV: a BOM, formula-like text and negative numbers escaped,
// numbers and dates as text, times as local wall-clock minutes, nil empty.
func TestWriterCSV(t *testing.T) {
	at := time.Date(2020, 2, 3, 1, 30, 0, 0, time.UTC).In(beijing)
	data := writeTable(t, CSV, Layout{Sheet: "ignored"}, []string{"日期 date", "=x"},
		[]any{Date("2020-02-03"), "=1+2", 42, int64(-5), 1.5, at, time.Time{}, nil})
	if !bytes.HasPrefix(data, []byte("\xEF\xBB\xBF")) {
		t.Fatal("no BOM")
	}
	r := csv.NewReader(bytes.NewReader(data[3:]))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"日期 date", "'=x"}, {"2020-02-03", "'=1+2", "42", "'-5", "1.5", "2020-02-03 09:30", "", ""}}
	if strings.Join(rows[0], "|") != strings.Join(want[0], "|") || strings.Join(rows[1], "|") != strings.Join(want[1], "|") {
		t.Errorf("rows %q, want %q", rows, want)
	}
}

// TestWriterXLSX: the named sheet, a frozen bold header, columns at least
// as wide as asked and as their titles, text as strings (formulas shown,
// never run), numbers as numbers, days and times as dates.
func TestWriterXLSX(t *testing.T) {
	at := time.Date(2020, 2, 3, 1, 30, 0, 0, time.UTC).In(beijing)
	data := writeTable(t, XLSX, Layout{Sheet: "宣传", Widths: []float64{12, 0, 30}},
		[]string{"日期 date", "备注 notes", "x", "数量 count", "时间 at", "空 empty"},
		[]any{Date("2020-02-03"), "=1+2", "0042", 42, at, nil},
		[]any{Date("not a day"), "", 1.5, int64(7), time.Time{}, ""})
	x, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if got := x.GetSheetList(); len(got) != 1 || got[0] != "宣传" {
		t.Fatalf("sheets %q", got)
	}
	panes, err := x.GetPanes("宣传")
	if err != nil || !panes.Freeze || panes.YSplit != 1 || panes.TopLeftCell != "A2" {
		t.Errorf("panes %+v %v: header not frozen", panes, err)
	}
	for col, least := range map[string]float64{"A": 12, "B": 11, "C": 30, "D": 11} {
		if w, err := x.GetColWidth("宣传", col); err != nil || w < least {
			t.Errorf("column %s is %.1f wide, want at least %.1f (%v)", col, w, least, err)
		}
	}
	types := map[string]excelize.CellType{
		"A1": excelize.CellTypeInlineString, "B2": excelize.CellTypeInlineString, "C2": excelize.CellTypeInlineString,
		"D2": excelize.CellTypeUnset, "A3": excelize.CellTypeInlineString, "C3": excelize.CellTypeUnset, "D3": excelize.CellTypeUnset,
	}
	for cell, want := range types {
		got, err := x.GetCellType("宣传", cell)
		if err != nil || got != want {
			t.Errorf("%s is of type %v, want %v (%v)", cell, got, want, err)
		}
	}
	for cell, want := range map[string]string{"A2": "2020-02-03", "B2": "=1+2", "C2": "0042", "D2": "42", "E2": "2020-02-03 09:30",
		"A3": "not a day", "B3": "", "C3": "1.5", "D3": "7", "E3": "", "F2": "", "F3": ""} {
		if got, err := x.GetCellValue("宣传", cell); err != nil || got != want {
			t.Errorf("%s = %q, want %q (%v)", cell, got, want, err)
		}
	}
	// The date is a number (a serial day) formatted as a date, so sorting
	// and filtering treat it as one.
	raw, err := x.GetCellValue("宣传", "A2", excelize.Options{RawCellValue: true})
	if err != nil || raw != "43864" {
		t.Errorf("A2 raw = %q (%v), want the serial day 43864", raw, err)
	}
	if f, _ := x.GetCellFormula("宣传", "B2"); f != "" {
		t.Errorf("B2 holds the formula %q", f)
	}
	style, err := x.GetCellStyle("宣传", "A1")
	if err != nil {
		t.Fatal(err)
	}
	if s, err := x.GetStyle(style); err != nil || s.Font == nil || !s.Font.Bold {
		t.Errorf("header style %+v %v, want bold", s, err)
	}
}

// TestWriterTitle: a layout's title is a row above the header, in XLSX
// bold, merged across the header's columns and frozen with it (the rows
// start on the third line, the range covers the title), and in CSV a
// first row of one cell; columns are not widened by the title.
func TestWriterTitle(t *testing.T) {
	const title = "七星街道 日报 2020-02-10"
	data := writeTable(t, XLSX, Layout{Sheet: "日报", Title: title}, []string{"社区", "已排查户数"},
		[]any{"育才", 1859}, []any{"合计", 1964})
	x, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	rows, err := x.GetRows("日报")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || rows[0][0] != title || rows[1][0] != "社区" || rows[2][0] != "育才" || rows[3][1] != "1964" {
		t.Fatalf("rows %q", rows)
	}
	panes, err := x.GetPanes("日报")
	if err != nil || !panes.Freeze || panes.YSplit != 2 || panes.TopLeftCell != "A3" {
		t.Errorf("panes %+v %v: title and header not frozen", panes, err)
	}
	merged, err := x.GetMergeCells("日报")
	if err != nil || len(merged) != 1 || merged[0].GetStartAxis() != "A1" || merged[0].GetEndAxis() != "B1" {
		t.Errorf("merged cells %v %v, want A1:B1", merged, err)
	}
	for cell, want := range map[string]excelize.CellType{"A1": excelize.CellTypeInlineString, "B3": excelize.CellTypeUnset, "B4": excelize.CellTypeUnset} {
		if got, err := x.GetCellType("日报", cell); err != nil || got != want {
			t.Errorf("%s is of type %v, want %v (%v)", cell, got, want, err)
		}
	}
	for cell, size := range map[string]float64{"A1": 14, "A2": 0} {
		style, _ := x.GetCellStyle("日报", cell)
		s, err := x.GetStyle(style)
		if err != nil || s.Font == nil || !s.Font.Bold || (size > 0 && s.Font.Size != size) {
			t.Errorf("%s style %+v %v, want bold (size %v)", cell, s.Font, err, size)
		}
	}
	if w, _ := x.GetColWidth("日报", "A"); w > 20 {
		t.Errorf("column A is %.1f wide: widened by the title", w)
	}
	if got := sheetDimension(t, data); got != "A1:B4" {
		t.Errorf("dimension %q, want A1:B4 (the title and the rows)", got)
	}

	csvData := writeTable(t, CSV, Layout{Title: title}, []string{"社区", "已排查户数"}, []any{"育才", 1859})
	r := csv.NewReader(bytes.NewReader(csvData[3:]))
	r.FieldsPerRecord = -1
	got, err := r.ReadAll()
	if err != nil || len(got) != 3 || len(got[0]) != 1 || got[0][0] != title || got[2][1] != "1859" {
		t.Errorf("csv rows %q %v", got, err)
	}
}

// TestWriterRefuses: an unknown format and a cell of an unknown type are
// errors, not a file of guesses.
func TestWriterRefuses(t *testing.T) {
	if _, err := NewWriter(&bytes.Buffer{}, Format("ods"), Layout{}); err == nil {
		t.Error("ods: no error")
	}
	for _, f := range []Format{CSV, XLSX} {
		w, err := NewWriter(&bytes.Buffer{}, f, Layout{})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Typed([]any{struct{}{}}); err == nil {
			t.Errorf("%s: a struct cell was written", f)
		}
		_ = w.Close()
	}
}

// TestWriterXLSXDimension: the worksheet's <dimension> names the range the
// rows cover, as streaming readers (openpyxl's read-only mode, pandas)
// trust it to: excelize's stream writer leaves "A1" there, and such a
// reader saw the header row alone. Checked in the sheet's XML and by
// reading the rows back, for a sheet small enough to be packed from
// memory and one large enough to go through the stream writer's temp file.
func TestWriterXLSXDimension(t *testing.T) {
	long := strings.Repeat("长", 70) // 210 bytes of XML a cell
	for _, c := range []struct {
		name       string
		rows, cols int
		cell       string
		want       string
	}{
		{"header only", 0, 3, "x", "A1:C1"},
		{"a few rows", 4, 6, "x", "A1:F5"},
		{"over the stream writer's memory", 10_000, 10, long, "A1:J10001"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.rows > 1000 {
				skipUnderRace(t)
			}
			header := make([]string, c.cols)
			row := make([]any, c.cols)
			for i := range header {
				header[i], row[i] = fmt.Sprintf("列%d", i), c.cell
			}
			rows := make([][]any, c.rows)
			for i := range rows {
				rows[i] = append([]any{i}, row[1:]...)
			}
			data := writeTable(t, XLSX, Layout{Sheet: "表"}, header, rows...)
			if c.cell == long && len(c.cell)*c.rows*c.cols < excelize.StreamChunkSize {
				t.Fatal("the large case no longer overflows the stream writer's buffer")
			}
			if got := sheetDimension(t, data); got != c.want {
				t.Errorf("dimension %q, want %q", got, c.want)
			}
			x, err := excelize.OpenReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			defer x.Close()
			it, err := x.Rows("表")
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for it.Next() {
				cells, err := it.Columns()
				if err != nil || len(cells) != c.cols {
					t.Fatalf("row %d: %d cells, want %d (%v)", n+1, len(cells), c.cols, err)
				}
				if n > 0 && cells[0] != strconv.Itoa(n-1) {
					t.Fatalf("row %d starts %q", n+1, cells[0])
				}
				n++
			}
			if err := it.Close(); err != nil || n != c.rows+1 {
				t.Fatalf("read %d rows, want %d (%v)", n, c.rows+1, err)
			}
		})
	}
}

// sheetDimension is the ref of the one worksheet's <dimension>, read from
// its XML as a streaming reader reads it: before the rows.
func sheetDimension(t *testing.T, data []byte) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if !strings.HasPrefix(f.Name, "xl/worksheets/sheet") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		dec := xml.NewDecoder(rc)
		for {
			tok, err := dec.Token()
			if err != nil {
				t.Fatalf("%s: no <dimension> before the rows (%v)", f.Name, err)
			}
			if se, ok := tok.(xml.StartElement); ok {
				switch se.Name.Local {
				case "dimension":
					for _, a := range se.Attr {
						if a.Name.Local == "ref" {
							return a.Value
						}
					}
				case "sheetData":
					t.Fatalf("%s: no <dimension> before the rows", f.Name)
				}
			}
		}
	}
	t.Fatal("no worksheet")
	return ""
}
