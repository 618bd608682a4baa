package sheet

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// testFields look like the roster's resident columns.
var testFields = []Field{
	{Name: "name", Aliases: []string{"姓名", "name", "名字"}, Required: true},
	{Name: "phone", Aliases: []string{"手机号", "phone", "联系电话", "电话"}},
	{Name: "id_number", Aliases: []string{"身份证号", "id_number", "身份证号码"}},
	{Name: "address", Aliases: []string{"地址", "address", "住址"}},
}

// got is what reading a whole upload produced, in a form tests compare.
type got struct {
	Format  Format
	Columns []string
	Unknown []string
	Rows    []gotRow
	// End is the error that ended reading: nil for io.EOF.
	End error
}

// gotRow is a data row (Key == "") or a row error (Values nil).
type gotRow struct {
	Line   int
	Values []string
	Key    string
}

// readUpload opens data and reads it to the end, keeping row errors in
// Rows so their Lines can be checked among the good rows.
func readUpload(t testing.TB, data []byte, fields []Field, limits Limits) (got, error) {
	t.Helper()
	r, err := Open(bytes.NewReader(data), "upload", fields, limits)
	if err != nil {
		return got{}, err
	}
	defer func() {
		if err := r.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	g := got{Format: r.Format(), Columns: r.Columns(), Unknown: r.Unknown()}
	for i := 0; ; i++ {
		if i > 1_000_000 {
			t.Fatal("Next does not end")
		}
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		var re *RowError
		if errors.As(err, &re) {
			if re.Line != row.Line {
				t.Errorf("RowError.Line %d, Row.Line %d", re.Line, row.Line)
			}
			g.Rows = append(g.Rows, gotRow{Line: re.Line, Key: re.Key})
			continue
		}
		if err != nil {
			g.End = err
			if _, again := r.Next(); again != err {
				t.Errorf("error not sticky: %v then %v", err, again)
			}
			break
		}
		if len(row.Values) != len(fields) {
			t.Fatalf("row %d has %d values for %d fields", row.Line, len(row.Values), len(fields))
		}
		g.Rows = append(g.Rows, gotRow{Line: row.Line, Values: append([]string(nil), row.Values...)})
	}
	return g, nil
}

// vals builds the expected Values for testFields from "name|phone|id|address".
func vals(s string) []string { return strings.Split(s, "|") }

func gbk(t testing.TB, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatalf("GBK encode: %v", err)
	}
	return b
}

// errKey returns the i18n key of err, or "" when it carries none.
func errKey(err error) string {
	var se *Error
	if errors.As(err, &se) {
		return se.Key
	}
	var re *RowError
	if errors.As(err, &re) {
		return re.Key
	}
	return ""
}

// cell is one value to put in a generated workbook.
type cell struct {
	ref   string
	value any
	style *excelize.Style
}

// buildXLSX writes a workbook with excelize: sheets in the given order,
// each filled with rows (row i is Excel row i+1; nil is a blank row), plus
// individually placed cells.
func buildXLSX(t testing.TB, sheets []string, rows map[string][][]any, cells map[string][]cell) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, name := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.NewSheet(name); err != nil {
			t.Fatal(err)
		}
		for r, row := range rows[name] {
			if row == nil {
				continue
			}
			ref, _ := excelize.CoordinatesToCellName(1, r+1)
			if err := f.SetSheetRow(name, ref, &row); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range cells[name] {
			if err := f.SetCellValue(name, c.ref, c.value); err != nil {
				t.Fatal(err)
			}
			if c.style != nil {
				id, err := f.NewStyle(c.style)
				if err != nil {
					t.Fatal(err)
				}
				if err := f.SetCellStyle(name, c.ref, c.ref, id); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
