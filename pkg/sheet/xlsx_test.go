package sheet

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

func TestXLSX(t *testing.T) {
	header := []any{"姓名", "手机号", "身份证号", "地址"}
	dateStyle := &excelize.Style{NumFmt: 14}
	textStyle := &excelize.Style{NumFmt: 49}

	tests := []struct {
		name    string
		data    []byte
		limits  Limits
		wantErr string
		want    got
		wantEnd string
	}{
		{
			name: "plain",
			data: buildXLSX(t, []string{"Sheet1"}, map[string][][]any{"Sheet1": {header, {"张三", "13812345678", "110101199003074514", "幸福路1号"}}}, nil),
			want: got{Format: XLSX, Columns: []string{"姓名", "手机号", "身份证号", "地址"},
				Rows: []gotRow{{Line: 2, Values: vals("张三|13812345678|110101199003074514|幸福路1号")}}},
		},
		{
			name: "Chinese and English headers mixed, decorations, unknown column",
			data: buildXLSX(t, []string{"Sheet1"}, map[string][][]any{"Sheet1": {
				{" Name ", "联系电话（必填）", "ＩＤ_NUMBER", "民族", "住址："},
				{"Zhang San", "13812345678", "", "汉", "Road 1"},
			}}, nil),
			want: got{Format: XLSX, Columns: []string{"Name", "联系电话（必填）", "ＩＤ_NUMBER", "民族", "住址："}, Unknown: []string{"民族"},
				Rows: []gotRow{{Line: 2, Values: vals("Zhang San|13812345678||Road 1")}}},
		},
		{
			name: "numbers stored as numbers",
			data: buildXLSX(t, []string{"Sheet1"}, map[string][][]any{"Sheet1": {header,
				{"张三", 13812345678, 4.50305e17, nil},
				{"李四", 13812345678.0, int64(450305199001011000), nil},
			}}, nil),
			// The ID numbers lost their last digits when Excel stored them as
			// numbers; they pass through for the validator to reject.
			want: got{Format: XLSX, Columns: []string{"姓名", "手机号", "身份证号", "地址"}, Rows: []gotRow{
				{Line: 2, Values: vals("张三|13812345678|450305000000000000|")},
				{Line: 3, Values: vals("李四|13812345678|450305199001011000|")},
			}},
		},
		{
			name: "formatted cells: text-format phone, date",
			data: buildXLSX(t, []string{"Sheet1"}, map[string][][]any{"Sheet1": {{"姓名", "手机号", "出生日期"}}},
				map[string][]cell{"Sheet1": {
					{ref: "A2", value: "张三"},
					{ref: "B2", value: 13812345678, style: textStyle},
					{ref: "C2", value: 32874, style: dateStyle},
				}}),
			want: got{Format: XLSX, Columns: []string{"姓名", "手机号", "出生日期"}, Unknown: []string{"出生日期"},
				Rows: []gotRow{{Line: 2, Values: vals("张三|13812345678||")}}},
		},
		{
			name: "empty cells in the middle, blank rows, title row",
			data: buildXLSX(t, []string{"Sheet1"}, map[string][][]any{"Sheet1": {
				{"幸福社区居民花名册"},
				nil,
				header,
				nil,
				{"张三", nil, nil, "幸福路1号"},
				{nil, nil, nil, nil},
				{"李四", "", "110101199003074514"},
			}}, nil),
			want: got{Format: XLSX, Columns: []string{"姓名", "手机号", "身份证号", "地址"}, Rows: []gotRow{
				{Line: 5, Values: vals("张三|||幸福路1号")},
				{Line: 7, Values: vals("李四||110101199003074514|")},
			}},
		},
		{
			name: "first sheet in workbook order, even when another is active",
			data: func() []byte {
				f := excelize.NewFile()
				defer f.Close()
				_ = f.SetSheetName("Sheet1", "名单")
				_ = f.SetSheetRow("名单", "A1", &[]any{"姓名", "手机号"})
				_ = f.SetSheetRow("名单", "A2", &[]any{"张三", "1"})
				idx, _ := f.NewSheet("说明")
				_ = f.SetSheetRow("说明", "A1", &[]any{"姓名", "说明"})
				_ = f.SetSheetRow("说明", "A2", &[]any{"不要读这里", "x"})
				f.SetActiveSheet(idx)
				var buf bytes.Buffer
				if err := f.Write(&buf); err != nil {
					t.Fatal(err)
				}
				return buf.Bytes()
			}(),
			want: got{Format: XLSX, Columns: []string{"姓名", "手机号"}, Rows: []gotRow{{Line: 2, Values: vals("张三|1||")}}},
		},
		{
			name:    "missing required column",
			data:    buildXLSX(t, []string{"Sheet1"}, map[string][][]any{"Sheet1": {{"手机号"}, {"1"}}}, nil),
			wantErr: "sheet_missing_columns",
		},
		{
			name:    "duplicate column",
			data:    buildXLSX(t, []string{"Sheet1"}, map[string][][]any{"Sheet1": {{"姓名", "Name"}, {"a", "b"}}}, nil),
			wantErr: "sheet_duplicate_column",
		},
		{
			name:    "empty workbook",
			data:    buildXLSX(t, []string{"Sheet1"}, nil, nil),
			wantErr: "sheet_empty",
		},
		{
			name:    "header only",
			data:    buildXLSX(t, []string{"Sheet1"}, map[string][][]any{"Sheet1": {header}}, nil),
			wantErr: "sheet_empty",
		},
		{
			name:   "cell too long",
			data:   buildXLSX(t, []string{"Sheet1"}, map[string][][]any{"Sheet1": {header, {"张三丰丰"}, {"李四"}}}, nil),
			limits: Limits{MaxCellRunes: 3},
			want: got{Format: XLSX, Columns: []string{"姓名", "手机号", "身份证号", "地址"}, Rows: []gotRow{
				{Line: 2, Key: "sheet_row_cell_too_long"}, {Line: 3, Values: vals("李四|||")}}},
		},
		{
			name:   "too many rows",
			data:   buildXLSX(t, []string{"Sheet1"}, map[string][][]any{"Sheet1": {header, {"a"}, {"b"}, {"c"}}}, nil),
			limits: Limits{MaxRows: 2},
			want: got{Format: XLSX, Columns: []string{"姓名", "手机号", "身份证号", "地址"}, Rows: []gotRow{
				{Line: 2, Values: vals("a|||")}, {Line: 3, Values: vals("b|||")}}},
			wantEnd: "sheet_too_many_rows",
		},
		{
			name:    "too large",
			data:    buildXLSX(t, []string{"Sheet1"}, map[string][][]any{"Sheet1": {header, {"a"}}}, nil),
			limits:  Limits{MaxBytes: 1000},
			wantErr: "sheet_too_large",
		},
		{
			name: "truncated",
			data: func() []byte {
				b := buildXLSX(t, []string{"Sheet1"}, map[string][][]any{"Sheet1": {header, {"a"}}}, nil)
				return b[:len(b)/2]
			}(),
			wantErr: "sheet_corrupt",
		},
		{
			name:    "zip bomb",
			data:    zipOf(t, map[string][]byte{"[Content_Types].xml": []byte("spreadsheetml"), "xl/worksheets/sheet1.xml": make([]byte, 40<<20)}),
			limits:  Limits{MaxBytes: 512 << 10}, // unpacked limit 16 MiB
			wantErr: "sheet_too_large",
		},
		{
			name:    "zip of other files",
			data:    zipOf(t, map[string][]byte{"readme.txt": []byte("hello")}),
			wantErr: "sheet_not_spreadsheet",
		},
		{
			name:    "Word document",
			data:    zipOf(t, map[string][]byte{"[Content_Types].xml": []byte(`<Types><Override ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`)}),
			wantErr: "sheet_not_spreadsheet",
		},
		{
			name:    "claims to be a workbook but has no parts",
			data:    zipOf(t, map[string][]byte{"[Content_Types].xml": []byte("spreadsheetml")}),
			wantErr: "sheet_corrupt",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := readUpload(t, tt.data, testFields, tt.limits)
			if tt.wantErr != "" {
				if errKey(err) != tt.wantErr {
					t.Fatalf("Open error = %v, want key %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if errKey(g.End) != tt.wantEnd {
				t.Errorf("reading ended with %v, want key %q", g.End, tt.wantEnd)
			}
			g.End = nil
			if !reflect.DeepEqual(g, tt.want) {
				t.Errorf("got  %s\nwant %s", show(g), show(tt.want))
			}
		})
	}
}

// TestXLSXDates checks that dates come out as dates, short dates in ISO.
func TestXLSXDates(t *testing.T) {
	custom := "yyyy\"年\"m\"月\"d\"日\""
	data := buildXLSX(t, []string{"Sheet1"}, map[string][][]any{"Sheet1": {{"姓名", "出生日期"}}}, map[string][]cell{"Sheet1": {
		{ref: "A2", value: "张三"}, {ref: "B2", value: 32874, style: &excelize.Style{NumFmt: 14}},
		{ref: "A3", value: "李四"}, {ref: "B3", value: 32874, style: &excelize.Style{CustomNumFmt: &custom}},
	}})
	fields := []Field{{Name: "name", Aliases: []string{"姓名"}}, {Name: "birth", Aliases: []string{"出生日期"}}}
	g, err := readUpload(t, data, fields, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := []gotRow{{Line: 2, Values: []string{"张三", "1990-01-01"}}, {Line: 3, Values: []string{"李四", "1990年1月1日"}}}
	if !reflect.DeepEqual(g.Rows, want) {
		t.Errorf("got %v, want %v", g.Rows, want)
	}
}

// TestXLSXLargeSheetStreamsFromDisk exercises excelize's temp-file path (a
// worksheet and shared strings over 1 MiB) and checks the temp directory is
// removed on Close.
func TestXLSXLargeSheetStreamsFromDisk(t *testing.T) {
	skipUnderRace(t)
	const n = 20_000
	data := bigXLSX(t, n, true)
	r, err := Open(bytes.NewReader(data), "big.xlsx", benchFields, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	dir := r.src.(*xlsxSource).tmpDir
	rows := 0
	for {
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		rows++
		if row.Line != rows+1 || row.Values[0] != benchName(rows-1) {
			t.Fatalf("row %d: line %d values %q", rows, row.Line, row.Values)
		}
	}
	if rows != n {
		t.Errorf("read %d rows, want %d", rows, n)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) == 0 {
		t.Errorf("expected excelize to spill to %s", dir)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("temp dir %s still there after Close: %v", dir, err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := r.Next(); err == nil || err == io.EOF {
		t.Errorf("Next after Close = %v", err)
	}
}

// zipOf writes a zip with the given entries (deflated).
func zipOf(t testing.TB, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, b := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestXLSXLimits(t *testing.T) {
	for _, maxBytes := range []int64{-1, 0, 1, 64 << 10, 32 << 20, 1 << 30} {
		l := xlsxLimits(maxBytes)
		if l.xml > l.unzip || l.mem > l.unzip || l.unzip > 1<<30 || l.unzip < 1<<20 {
			t.Errorf("xlsxLimits(%d) = %+v", maxBytes, l)
		}
	}
}

func TestErrorsIs(t *testing.T) {
	legacy := newError(keyLegacyXLS, map[string]any{"detected": "XLS"})
	if !errors.Is(legacy, ErrNotSpreadsheet) || !errors.Is(legacy, ErrLegacyXLS) || errors.Is(legacy, ErrEmpty) {
		t.Error("legacy .xls should be a not-spreadsheet error and nothing else")
	}
	row := newRowError(7, keyRowBadEncoding, nil)
	if !errors.Is(row, ErrRowBadEncoding) || !errors.Is(row, ErrBadEncoding) || errors.Is(row, ErrBadQuote) {
		t.Error("row encoding error should match its sentinels only")
	}
	if row.Args["line"] != 7 || !strings.Contains(row.Error(), "row 7") {
		t.Errorf("row error = %v", row)
	}
	if got := newError(keyMissingColumns, map[string]any{"columns": "姓名/name"}).Error(); got != "sheet: sheet_missing_columns (columns=姓名/name)" {
		t.Errorf("Error() = %q", got)
	}
}
