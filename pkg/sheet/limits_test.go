package sheet

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// Every bomb must be refused within these, under -race too: the guard
// holds a few small buffers whatever the XML says, and stops at the first
// token over a limit.
const (
	bombHeapLimit = 64 << 20
	bombTimeLimit = 5 * time.Second
)

// bombCases are the bombs, each with the size of its filler and what Open
// must say. Sizes stay under the per-part limits where the case is about
// the guard (a filler over them is refused from the zip's directory
// before anything is inflated, which bombDeclared covers).
var bombCases = []struct {
	where string
	size  int64
	want  string
}{
	{bombDeclared, 300 << 20, keyUnpackedTooLarge},
	{bombBetweenRows, 200 << 20, keyCellTooLarge},
	{bombInCell, 200 << 20, keyCellTooLarge},
	{bombInHeader, 200 << 20, keyCellTooLarge},
	{bombShared, 60 << 20, keyCellTooLarge},
	{bombShared, 200 << 20, keyUnpackedTooLarge},
	{bombRichRuns, 200 << 20, keyCellTooLarge},
	{bombManyCells, 200 << 20, keyRowTooLarge},
	{bombManyStrings, 60 << 20, keyTooManyStrings},
	{bombDeepNesting, 100 << 20, keyCorrupt},
	{bombHugeTag, 200 << 20, keyCorrupt},
	{bombComment, 100 << 20, keyCellTooLarge},
	{bombOtherPart, 6 << 20, keyCorrupt},
	{bombOtherPart, 20 << 20, keyUnpackedTooLarge},
	{bombOtherSheet, 200 << 20, keyCellTooLarge},
}

// TestXLSXBombs: each bomb, a few hundred KB that unpack to hundreds of
// MB, is refused by Open with its own error, quickly and in little memory.
// Before the guard, the spaces bombs took 3-4 s and 0.8-1.7 GiB of heap.
func TestXLSXBombs(t *testing.T) {
	for _, c := range bombCases {
		t.Run(c.where+"/"+sizeText(c.size), func(t *testing.T) {
			data := bombXLSX(t, c.where, c.size)
			var err error
			peak, total, took := measure(func() { _, err = readUpload(t, data, testFields, Limits{}) })
			t.Logf("%d KB unpacking to %s: %v; peak heap +%.1f MiB, allocated %.1f MiB, %v",
				len(data)>>10, sizeText(c.size), err, mib(peak), mib(total), took)
			if errKey(err) != c.want {
				t.Errorf("error %v, want key %s", err, c.want)
			}
			if total > bombHeapLimit || peak > bombHeapLimit {
				t.Errorf("peak heap +%.1f MiB, allocated %.1f MiB: over %d MiB", mib(peak), mib(total), bombHeapLimit>>20)
			}
			if took > bombTimeLimit {
				t.Errorf("took %v", took)
			}
		})
	}
}

// TestCheckReadsOnlyTheHead: at upload, Check reads a workbook's head (the
// rows up to the first data row, and the shared strings they use) and
// leaves the rest for Open. A bomb anywhere else costs it nothing; one in
// the header it refuses as Open does, and one the zip's directory gives
// away (a part declared larger than its limit) too.
func TestCheckReadsOnlyTheHead(t *testing.T) {
	refused := map[string]string{bombInHeader: keyCellTooLarge, bombDeclared: keyUnpackedTooLarge}
	cases := append([]struct {
		where string
		size  int64
		want  string
	}{{bombLate, 200 << 20, keyCellTooLarge}}, bombCases...)
	for _, c := range cases {
		t.Run(c.where+"/"+sizeText(c.size), func(t *testing.T) {
			data := bombXLSX(t, c.where, c.size)
			want := refused[c.where]
			if c.want == keyUnpackedTooLarge {
				want = c.want // declared in the zip's directory
			}
			var err error
			peak, total, took := measure(func() { err = Check(bytes.NewReader(data), "bomb.xlsx", testFields, Limits{}) })
			t.Logf("Check: %v; peak heap +%.1f MiB, allocated %.1f MiB, %v", err, mib(peak), mib(total), took)
			if errKey(err) != want || (want == "" && err != nil) {
				t.Errorf("Check = %v, want key %q", err, want)
			}
			if total > bombHeapLimit || took > bombTimeLimit {
				t.Errorf("Check allocated %.1f MiB in %v", mib(total), took)
			}
		})
	}
}

// TestCheckAgreesWithOpen: Check refuses a file for the same reason Open
// does, and accepts what Open reads.
func TestCheckAgreesWithOpen(t *testing.T) {
	header := []any{"姓名", "手机号", "身份证号", "地址"}
	cases := map[string][]byte{
		"plain":       buildXLSX(t, []string{"Sheet1"}, map[string][][]any{"Sheet1": {header, {"张三", "13812345678"}}}, nil),
		"title rows":  buildXLSX(t, []string{"Sheet1"}, map[string][][]any{"Sheet1": {{"花名册"}, nil, {"2024年"}, header, nil, nil, {"张三"}}}, nil),
		"missing":     buildXLSX(t, []string{"Sheet1"}, map[string][][]any{"Sheet1": {{"手机号"}, {"1"}}}, nil),
		"duplicate":   buildXLSX(t, []string{"Sheet1"}, map[string][][]any{"Sheet1": {{"姓名", "Name"}, {"a", "b"}}}, nil),
		"empty":       buildXLSX(t, []string{"Sheet1"}, nil, nil),
		"header only": buildXLSX(t, []string{"Sheet1"}, map[string][][]any{"Sheet1": {header}}, nil),
		"no header":   buildXLSX(t, []string{"Sheet1"}, map[string][][]any{"Sheet1": {{"a"}, {"b"}, {"c"}, {"d"}, {"e"}, {"f"}, {"g"}, {"h"}, {"i"}, {"j"}, {"k"}, header, {"张三"}}}, nil),
		"second sheet": buildXLSX(t, []string{"说明", "名单"}, map[string][][]any{
			"说明": {{"请填写第二页"}}, "名单": {header, {"张三"}}}, nil),
		"tiny":         tinyXLSX(t),
		"excel-like":   excelLikeXLSX(t, 30, 0),
		"roster.xlsx":  xlsxSeeds(t)["excelize"],
		"zip of files": zipOf(t, map[string][]byte{"readme.txt": []byte("hello")}),
		"no parts":     zipOf(t, map[string][]byte{"[Content_Types].xml": []byte("spreadsheetml")}),
		"csv":          []byte("姓名,手机号\n张三,1\n"),
		"csv header":   []byte("姓名,手机号\n"),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			_, openErr := readUpload(t, data, testFields, Limits{})
			checkErr := Check(bytes.NewReader(data), name, testFields, Limits{})
			if errKey(openErr) != errKey(checkErr) || (openErr == nil) != (checkErr == nil) {
				t.Errorf("Open: %v; Check: %v", openErr, checkErr)
			}
		})
	}
}

// TestCheckStopsAtTheHead: a header followed by more blank rows than Check
// reads is accepted at upload (Open decides); Check reads no further.
func TestCheckStopsAtTheHead(t *testing.T) {
	const ns = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"`
	var sheet strings.Builder
	sheet.WriteString(`<worksheet ` + ns + `><sheetData><row r="1"><c t="inlineStr"><is><t>姓名</t></is></c></row>`)
	for i := 0; i < headRowLimit+10; i++ {
		sheet.WriteString(`<row/>`)
	}
	sheet.WriteString(`<row><c t="inlineStr"><is><t>张三</t></is></c></row></sheetData></worksheet>`)
	data := withPart(t, tinyXLSX(t), "xl/worksheets/sheet1.xml", sheet.String())
	if err := Check(bytes.NewReader(data), "blank.xlsx", testFields, Limits{}); err != nil {
		t.Fatalf("Check: %v", err)
	}
	g, err := readUpload(t, data, testFields, Limits{})
	if err != nil || len(g.Rows) != 1 || g.Rows[0].Line != headRowLimit+12 {
		t.Fatalf("Open: %v %s", err, show(g))
	}
}

// withPart returns the zip data with the part name replaced by body.
func withPart(t testing.TB, data []byte, name, body string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		_ = rc.Close()
		files[f.Name] = b
	}
	files[name] = []byte(body)
	return zipOf(t, files)
}

// TestXMLGuard checks the lexer on the constructs that can hide a '>' or a
// '<' (quoted attributes, comments, CDATA, PIs, declarations) with small
// limits: the tokens it measures are the ones encoding/xml would buffer.
func TestXMLGuard(t *testing.T) {
	small := xmlLimits{part: 4096, text: 16, tag: 64, depth: 4, cell: 48, row: 96}
	long := strings.Repeat("x", 17)
	for _, c := range []struct {
		name, xml string
		want      string // key, "" for none
	}{
		{"plain", `<a><b x="1">text</b><c/></a>`, ""},
		{"prefixed cell", `<x:row r="7"><x:c r="A7"><x:v>1</x:v></x:c></x:row>`, ""},
		{"long text", `<a>` + long + `</a>`, keyCellTooLarge},
		{"long text between tags", `<a></a>` + long + `<b/>`, keyCellTooLarge},
		{"'>' in an attribute does not end the tag", `<a x="` + strings.Repeat(">", 70) + `"/>`, keyCorrupt},
		{"'>' in single quotes", `<a x='` + strings.Repeat(">", 70) + `'/>`, keyCorrupt},
		{"short attribute", `<a x=">>>"/>`, ""},
		{"comment with '>'", `<a><!--` + strings.Repeat("> ", 10) + `--></a>`, keyCellTooLarge},
		{"short comment", `<a><!-- > --></a>`, ""},
		{"'<!-->' does not end a comment", `<a><!-->` + strings.Repeat("a", 20) + `--></a>`, keyCellTooLarge},
		{"CDATA with '>'", `<a><![CDATA[` + strings.Repeat(">", 20) + `]]></a>`, keyCellTooLarge},
		{"short CDATA", `<a><![CDATA[<>]]></a>`, ""},
		{"PI", `<?xml version="1.0" encoding="UTF-8" standalone="yes" long="x"?><a/>`, keyCellTooLarge},
		{"declaration with brackets", `<!DOCTYPE a [<!ENTITY b "c">]><a/>`, ""},
		{"depth", `<a><b><c1><d><e></e></d></c1></b></a>`, keyCorrupt},
		{"self-closing does not nest", `<a><b/><b/><b/><b/><b/><b/></a>`, ""},
		{"cell", `<row r="3"><c r="A3"><is><t>123456789012</t></is><is><t>123456789012</t></is></c></row>`, keyCellTooLarge},
		{"row", `<row r="9">` + strings.Repeat(`<c r="A9"><v>1</v></c>`, 5) + `</row>`, keyRowTooLarge},
		{"rows close", `<row r="9"><c r="A9"><v>1</v></c></row><row r="10"><c r="A10"><v>1</v></c></row><row r="11"><c r="A11"><v>1</v></c></row>`, ""},
		{"a name longer than row", `<rowBreaks>` + strings.Repeat(`<c/>`, 30) + `</rowBreaks>`, ""},
		{"part", strings.Repeat(`<a/>`, 1100), keyUnpackedTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			// One byte at a time, so that every token straddles reads.
			for _, r := range []io.Reader{strings.NewReader(c.xml), iotest.OneByteReader(strings.NewReader(c.xml))} {
				_, err := io.Copy(io.Discard, newXMLGuard(r, small, false))
				if errKey(err) != c.want || (c.want == "" && err != nil) {
					t.Fatalf("err = %v, want key %q", err, c.want)
				}
			}
		})
	}
	// The error names the row as Excel numbers it.
	_, err := io.Copy(io.Discard, newXMLGuard(strings.NewReader(`<row r="41" spans="1:2"><c><v>`+long+`</v></c></row>`), small, false))
	var se *Error
	if !errors.As(err, &se) || se.Args["line"] != 41 {
		t.Errorf("err = %v, want line 41", err)
	}
	// Shared strings: <si> is the cell, and counted.
	sst := xmlLimits{cell: 32, items: 2}
	for in, want := range map[string]string{
		`<sst><si><t>a</t></si><si/></sst>`:                "",
		`<sst><si><t>a</t></si><si/><si/></sst>`:           keyTooManyStrings,
		`<sst><si><t>aaaaaaaaaaaaaaaaaaaaa</t></si></sst>`: keyCellTooLarge,
	} {
		_, err := io.Copy(io.Discard, newXMLGuard(strings.NewReader(in), sst, true))
		if errKey(err) != want || (want == "" && err != nil) {
			t.Errorf("%s: err = %v, want key %q", in, err, want)
		}
	}
}

// TestXLSXGuardCost: the guard's pass over a large, ordinary workbook adds
// little to reading it and refuses nothing in it.
func TestXLSXGuardCost(t *testing.T) {
	n := 20_000
	if raceEnabled {
		n = 5_000
	}
	data := bigXLSX(t, n, true)
	zr, err := checkZip(data, xlsxLimits(32<<20))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := guardParts(zr); err != nil {
		t.Fatal(err)
	}
	guard := time.Since(start)
	start = time.Now()
	if rows := readAllRows(t, bytes.NewReader(data), Limits{}); rows != n {
		t.Fatalf("read %d rows", rows)
	}
	t.Logf("%d rows: guard %v, whole read (guard included) %v", n, guard, time.Since(start))
}
