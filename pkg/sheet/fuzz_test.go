package sheet

import (
	"archive/zip"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzLimits keep each fuzz input cheap while still reaching every limit.
var fuzzLimits = Limits{MaxBytes: 1 << 20, MaxRows: 5000, MaxCellRunes: 40}

// checkUpload reads data to the end and checks the invariants every upload
// must keep, whatever its bytes: no panic, errors carry keys, every row has
// one value per field in valid UTF-8 without surrounding space, and Lines
// strictly increase. Check, the upload's quick look, must not refuse what
// Open opens.
func checkUpload(t *testing.T, data []byte) {
	checkErr := Check(bytes.NewReader(data), "fuzz", testFields, fuzzLimits)
	if checkErr != nil {
		var se *Error
		if !errors.As(checkErr, &se) || se.Key == "" {
			t.Fatalf("Check error without a key: %T %v", checkErr, checkErr)
		}
	}
	r, err := Open(bytes.NewReader(data), "fuzz", testFields, fuzzLimits)
	if err != nil {
		var se *Error
		if !errors.As(err, &se) || se.Key == "" {
			t.Fatalf("Open error without a key: %T %v", err, err)
		}
		return
	}
	if checkErr != nil {
		t.Fatalf("Check refused what Open opens: %v", checkErr)
	}
	defer func() {
		if err := r.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	if r.Format() != CSV && r.Format() != XLSX {
		t.Fatalf("Format() = %q", r.Format())
	}
	prev := 1
	for i := 0; ; i++ {
		if i > fuzzLimits.MaxRows+1 {
			t.Fatal("more rows than MaxRows")
		}
		row, err := r.Next()
		if err == io.EOF {
			return
		}
		var re *RowError
		if errors.As(err, &re) {
			if re.Key == "" || re.Line <= prev || row.Line != re.Line {
				t.Fatalf("row error %v after line %d (row.Line %d)", re, prev, row.Line)
			}
			prev = re.Line
			continue
		}
		if err != nil {
			var se *Error
			if !errors.As(err, &se) || se.Key == "" {
				t.Fatalf("Next error without a key: %T %v", err, err)
			}
			if _, again := r.Next(); again != err {
				t.Fatalf("error not sticky: %v then %v", err, again)
			}
			return
		}
		if len(row.Values) != len(testFields) {
			t.Fatalf("line %d: %d values for %d fields", row.Line, len(row.Values), len(testFields))
		}
		if row.Line <= prev {
			t.Fatalf("line %d after line %d", row.Line, prev)
		}
		prev = row.Line
		for _, v := range row.Values {
			if !utf8.ValidString(v) || strings.TrimSpace(v) != v || utf8.RuneCountInString(v) > fuzzLimits.MaxCellRunes {
				t.Fatalf("line %d: bad value %q", row.Line, v)
			}
		}
	}
}

// csvSeeds are added in code as well as checked in, so that the corpus
// survives a cleaned testdata directory.
func csvSeeds(t testing.TB) map[string][]byte {
	return map[string][]byte{
		"utf8-bom":     []byte("\xEF\xBB\xBF姓名,手机号\r\n张三,13812345678\r\n"),
		"gbk":          gbk(t, "姓名,手机号,地址\r\n张三,13812345678,幸福路1号\r\n"),
		"tab":          []byte("姓名\t手机号\n张三\t1\n"),
		"semicolon":    []byte("name;phone\n\"Zhang; San\";1\n"),
		"utf16":        append([]byte{0xFF, 0xFE}, []byte("K\x59\rT\t\x00K\x62:g\n\x00")...),
		"quotes":       []byte("姓名,地址\n\"张,三\",\"a\nb\"\n\"李\"\"四\",c\n"),
		"bad-quote":    []byte("姓名,地址\n张\"三,x\n\"李四,y\n"),
		"blank-rows":   []byte("\n姓名\n\n,\n张三\n\n"),
		"title":        []byte("花名册,,\n姓名,手机号,身份证号（选填）\n张三,1,2\n"),
		"header-only":  []byte("姓名,手机号\n"),
		"duplicate":    []byte("姓名,名字\na,b\n"),
		"long-cell":    []byte("姓名\n" + strings.Repeat("长", 60) + "\n"),
		"latin1":       []byte("name\nRen\xe9\n"),
		"html":         []byte("<html><table><tr><td>姓名</td></tr></table></html>"),
		"ole2":         []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00\x00"),
		"fullwidth":    []byte("ＮＡＭＥ，ＰＨＯＮＥ\n张三,1\n"),
		"crlf-in-cell": []byte("姓名,地址\r\n张三,\"a\r\nb\"\r\n"),
	}
}

func FuzzOpenCSV(f *testing.F) {
	for _, s := range csvSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(checkUpload)
}

// xlsxSeeds are small workbooks: one written by excelize (deflated, shared
// strings), and Excel-like ones stored uncompressed, so that mutations land
// in the XML rather than only breaking the deflate stream.
func xlsxSeeds(t testing.TB) map[string][]byte {
	return map[string][]byte{
		"excelize": buildXLSX(t, []string{"名单", "说明"}, map[string][][]any{
			"名单": {{"花名册"}, {"姓名", "手机号", "身份证号（选填）", "民族"}, {"张三", 13812345678, 4.50305e17, "汉"}, nil, {"李四", nil, "", "x"}},
			"说明": {{"姓名"}, {"不读"}},
		}, nil),
		"tiny-stored": tinyXLSX(t),
	}
}

// tinyXLSX is about the smallest package excelize reads: a workbook, its
// relationships and one sheet that uses a shared string, an inline string,
// a number and a gap row, stored uncompressed.
func tinyXLSX(t testing.TB) []byte {
	const (
		main = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"`
		rels = `xmlns="http://schemas.openxmlformats.org/package/2006/relationships"`
		rel  = `http://schemas.openxmlformats.org/officeDocument/2006/relationships`
	)
	parts := [][2]string{
		{"[Content_Types].xml", `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>`},
		{"_rels/.rels", `<Relationships ` + rels + `><Relationship Id="rId1" Type="` + rel + `/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<workbook ` + main + ` xmlns:r="` + rel + `"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<Relationships ` + rels + `><Relationship Id="rId1" Type="` + rel + `/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="` + rel + `/sharedStrings" Target="sharedStrings.xml"/></Relationships>`},
		{"xl/worksheets/sheet1.xml", `<worksheet ` + main + `><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>手机号</t></is></c></row><row r="3"><c r="A3" t="s"><v>1</v></c><c r="B3"><v>13812345678</v></c></row></sheetData></worksheet>`},
		{"xl/sharedStrings.xml", `<sst ` + main + `><si><t>姓名</t></si><si><t>张三</t></si></sst>`},
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range parts {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: p[0], Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, p[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestTinyXLSX makes sure the fuzz seed is a readable workbook, so that
// fuzzing starts from inputs that reach the row reader.
func TestTinyXLSX(t *testing.T) {
	g, err := readUpload(t, tinyXLSX(t), testFields, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := got{Format: XLSX, Columns: []string{"姓名", "手机号"}, Rows: []gotRow{{Line: 3, Values: vals("张三|13812345678||")}}}
	if !reflect.DeepEqual(g, want) {
		t.Errorf("got %s", show(g))
	}
}

func FuzzOpenXLSX(f *testing.F) {
	for _, s := range xlsxSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(checkUpload)
}

var update = flag.Bool("update", false, "rewrite the generated files under testdata")

// TestSeedCorpus keeps the checked-in seed corpora and fixtures in step
// with the generators above; run with -update to rewrite them. Crashers
// found by fuzzing are saved by Go into the same directories and kept.
func TestSeedCorpus(t *testing.T) {
	corpora := map[string]map[string][]byte{
		"FuzzOpenCSV":  csvSeeds(t),
		"FuzzOpenXLSX": xlsxSeeds(t),
	}
	for fuzzer, seeds := range corpora {
		for name, data := range seeds {
			path := filepath.Join("testdata", "fuzz", fuzzer, "seed-"+name)
			want := []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data))
			checkGenerated(t, path, want)
		}
	}
	checkGenerated(t, filepath.Join("testdata", "roster.xlsx"), xlsxSeeds(t)["excelize"])
}

// checkGenerated writes path under -update; otherwise it only checks that
// the file exists. Files written by excelize embed no timestamps that
// matter here, but their bytes may change with the library version, so a
// difference is not a failure.
func checkGenerated(t *testing.T, path string, want []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("%s missing; run go test -run TestSeedCorpus -update ./pkg/sheet", path)
	}
}
