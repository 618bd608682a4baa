package sheet

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// benchFields are the eight columns of the generated roster.
var benchFields = []Field{
	{Name: "name", Aliases: []string{"姓名", "name"}, Required: true},
	{Name: "phone", Aliases: []string{"手机号", "phone"}},
	{Name: "id_number", Aliases: []string{"身份证号", "id_number"}},
	{Name: "sex", Aliases: []string{"性别", "sex"}},
	{Name: "birth_year", Aliases: []string{"出生年份", "birth_year"}},
	{Name: "building", Aliases: []string{"楼栋", "building"}},
	{Name: "room", Aliases: []string{"房号", "room"}},
	{Name: "address", Aliases: []string{"地址", "address"}},
}

var benchHeader = []string{"姓名", "手机号", "身份证号", "性别", "出生年份", "楼栋", "房号", "地址"}

func benchName(i int) string { return "居民" + strconv.Itoa(i) }

// benchRow is row i (0-based) of the generated roster; the phone is an int
// so the XLSX generator can store it as a number, as Excel does.
func benchRow(i int) []any {
	sex := "男"
	if i%2 == 1 {
		sex = "女"
	}
	return []any{
		benchName(i),
		13800000000 + i,
		fmt.Sprintf("1101011990%08d", i),
		sex,
		strconv.Itoa(1940 + i%80),
		strconv.Itoa(1+i%30) + "栋",
		strconv.Itoa(101+i%2000) + "室",
		"幸福社区幸福路" + strconv.Itoa(i%500) + "号",
	}
}

// csvGen produces the roster as UTF-8 CSV on the fly, so a test can read
// 100,000 rows without the input itself sitting in memory.
type csvGen struct {
	n, i int
	buf  []byte
}

func (g *csvGen) Read(p []byte) (int, error) {
	for len(g.buf) == 0 {
		switch {
		case g.i > g.n:
			return 0, io.EOF
		case g.i == 0:
			g.buf = append(g.buf, strings.Join(benchHeader, ",")+"\r\n"...)
		default:
			for j, v := range benchRow(g.i - 1) {
				if j > 0 {
					g.buf = append(g.buf, ',')
				}
				g.buf = fmt.Append(g.buf, v)
			}
			g.buf = append(g.buf, "\r\n"...)
		}
		g.i++
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	return n, nil
}

func benchCSV(tb testing.TB, n int, gbkEncoded bool) []byte {
	tb.Helper()
	var r io.Reader = &csvGen{n: n}
	if gbkEncoded {
		r = transform.NewReader(r, simplifiedchinese.GBK.NewEncoder())
	}
	b, err := io.ReadAll(r)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// bigXLSX builds an n-row roster workbook. sharedStrings writes it the way
// Excel does (text in xl/sharedStrings.xml, phones as numbers); otherwise
// it uses excelize's StreamWriter, which writes inline strings.
func bigXLSX(tb testing.TB, n int, sharedStrings bool) []byte {
	tb.Helper()
	if sharedStrings {
		return excelLikeXLSX(tb, n, zip.Deflate)
	}
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		tb.Fatal(err)
	}
	hdr := make([]any, len(benchHeader))
	for i, h := range benchHeader {
		hdr[i] = h
	}
	if err := sw.SetRow("A1", hdr); err != nil {
		tb.Fatal(err)
	}
	for i := 0; i < n; i++ {
		ref, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(ref, benchRow(i)); err != nil {
			tb.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// excelLikeXLSX writes the minimal package Excel itself would: a workbook,
// one worksheet whose text cells index a shared-string table, numbers as
// numbers. method zip.Store gives fuzzing direct access to the XML.
func excelLikeXLSX(tb testing.TB, n int, method uint16) []byte {
	tb.Helper()
	const ns = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"`
	var sst, sheet strings.Builder
	index := map[string]int{}
	var strs []string
	str := func(s string) int {
		if i, ok := index[s]; ok {
			return i
		}
		index[s] = len(strs)
		strs = append(strs, s)
		return len(strs) - 1
	}
	sheet.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n<worksheet " + ns + "><sheetData>")
	writeRow := func(r int, vals []any) {
		fmt.Fprintf(&sheet, `<row r="%d">`, r)
		for c, v := range vals {
			ref, _ := excelize.CoordinatesToCellName(c+1, r)
			switch v := v.(type) {
			case int:
				fmt.Fprintf(&sheet, `<c r="%s"><v>%d</v></c>`, ref, v)
			default:
				fmt.Fprintf(&sheet, `<c r="%s" t="s"><v>%d</v></c>`, ref, str(fmt.Sprint(v)))
			}
		}
		sheet.WriteString("</row>")
	}
	hdr := make([]any, len(benchHeader))
	for i, h := range benchHeader {
		hdr[i] = h
	}
	writeRow(1, hdr)
	for i := 0; i < n; i++ {
		writeRow(i+2, benchRow(i))
	}
	sheet.WriteString("</sheetData></worksheet>")
	fmt.Fprintf(&sst, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+"\n<sst %s count=\"%d\" uniqueCount=\"%d\">", ns, len(strs), len(strs))
	for _, s := range strs {
		sst.WriteString("<si><t>")
		_ = xmlEscape(&sst, s)
		sst.WriteString("</t></si>")
	}
	sst.WriteString("</sst>")

	parts := []struct{ name, body string }{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook ` + ns + ` xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`},
		{"xl/worksheets/sheet1.xml", sheet.String()},
		{"xl/sharedStrings.xml", sst.String()},
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range parts {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: p.name, Method: method})
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := io.WriteString(w, p.body); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func xmlEscape(b *strings.Builder, s string) error {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	_, err := r.WriteString(b, s)
	return err
}

// readAllRows reads an upload to the end and returns the row count.
func readAllRows(tb testing.TB, r io.Reader, limits Limits) int {
	rd, err := Open(r, "bench", benchFields, limits)
	if err != nil {
		tb.Fatal(err)
	}
	defer rd.Close()
	n := 0
	for {
		_, err := rd.Next()
		if err == io.EOF {
			return n
		}
		if err != nil {
			tb.Fatal(err)
		}
		n++
	}
}

const benchRows = 100_000

var benchLimits = Limits{MaxBytes: 64 << 20, MaxRows: benchRows}

// runReadBench reports rows/s and allocations per row besides the usual
// per-file figures (one op reads the whole 100,000-row file).
func runReadBench(b *testing.B, data []byte) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	rows := 0
	for b.Loop() {
		rows += readAllRows(b, bytes.NewReader(data), benchLimits)
	}
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if rows == 0 {
		b.Fatal("no rows")
	}
	b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(rows), "allocs/row")
}

func BenchmarkCSV100k(b *testing.B) {
	for _, enc := range []string{"utf8", "gbk"} {
		data := benchCSV(b, benchRows, enc == "gbk")
		b.Run(enc, func(b *testing.B) { runReadBench(b, data) })
	}
}

func BenchmarkXLSX100k(b *testing.B) {
	for _, kind := range []string{"sharedstrings", "inline"} {
		data := bigXLSX(b, benchRows, kind == "sharedstrings")
		b.Run(kind, func(b *testing.B) { runReadBench(b, data) })
	}
}

// peakHeap reads all rows of an upload and samples HeapAlloc every 1,000
// rows, returning the high-water mark above the heap before Open.
func peakHeap(t *testing.T, open func() io.Reader) (rows int, peak uint64) {
	t.Helper()
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	sample := func() {
		runtime.ReadMemStats(&ms)
		if ms.HeapAlloc > base && ms.HeapAlloc-base > peak {
			peak = ms.HeapAlloc - base
		}
	}
	rd, err := Open(open(), "peak", benchFields, benchLimits)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	sample()
	for {
		_, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if rows++; rows%1000 == 0 {
			sample()
		}
	}
	sample()
	return rows, peak
}

// TestPeakHeap100k shows that reading streams: 100,000 CSV rows (about
// 10 MB of text, generated on the fly) are read in a few MiB of heap, most
// of it garbage the collector has not yet reclaimed. The XLSX figure
// includes the upload itself, which a zip reader needs whole.
func TestPeakHeap100k(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 100,000 rows")
	}
	skipUnderRace(t)
	rows, peak := peakHeap(t, func() io.Reader { return &csvGen{n: benchRows} })
	t.Logf("CSV: %d rows, peak heap above baseline %.1f MiB", rows, float64(peak)/(1<<20))
	if rows != benchRows {
		t.Errorf("read %d rows, want %d", rows, benchRows)
	}
	if peak > 32<<20 {
		t.Errorf("CSV peak heap %.1f MiB: not streaming", float64(peak)/(1<<20))
	}
	n := benchRows
	data := bigXLSX(t, n, true)
	rows, peak = peakHeap(t, func() io.Reader { return bytes.NewReader(data) })
	t.Logf("XLSX (%.1f MiB file): %d rows, peak heap above baseline %.1f MiB", float64(len(data))/(1<<20), rows, float64(peak)/(1<<20))
	if rows != n {
		t.Errorf("read %d rows, want %d", rows, n)
	}
	if peak > 100<<20 {
		t.Errorf("XLSX peak heap %.1f MiB", float64(peak)/(1<<20))
	}
}
