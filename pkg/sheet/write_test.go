package sheet

import (
	"bytes"
	"encoding/csv"
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
