package sheet

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"hash/crc32"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Where a bomb puts its run of spaces.
const (
	bombBetweenRows = "between rows"    // sheet1.xml, after the header row
	bombInCell      = "in a cell"       // sheet1.xml, inside an inline string
	bombInHeader    = "in the header"   // sheet1.xml, inside a header cell
	bombShared      = "shared string"   // sharedStrings.xml, inside one <si>
	bombRichRuns    = "rich text runs"  // sheet1.xml, a cell of many small runs
	bombManyCells   = "one wide row"    // sheet1.xml, one row of many small cells
	bombManyStrings = "many strings"    // sharedStrings.xml, a great many empty items
	bombDeepNesting = "deep nesting"    // sheet1.xml, elements nested without end
	bombHugeTag     = "huge attribute"  // sheet1.xml, one tag with a long attribute
	bombComment     = "comment"         // sheet1.xml, a comment holding '>' often
	bombOtherPart   = "styles.xml"      // a structural part excelize parses at open
	bombOtherSheet  = "a second sheet"  // xl/worksheets/sheet2.xml, never read
	bombDeclared    = "declared 300 MB" // sheet1.xml, spaces beyond the per-part limit
	bombLate        = "after 40 rows"   // sheet1.xml, spaces after 40 ordinary rows
)

// spacesChunk is 1 MiB of spaces deflated on its own and flushed: a
// self-contained, byte-aligned run of non-final deflate blocks, so that n
// copies in a row inflate to n MiB of spaces. Building a 300 MB bomb this
// way takes milliseconds, even under -race, instead of deflating 300 MB.
var spacesChunk = sync.OnceValue(func() []byte {
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestCompression)
	_, _ = fw.Write(bytes.Repeat([]byte(" "), 1<<20))
	_ = fw.Flush()
	return buf.Bytes()
})

// repeatedPart is an XML part: head, then fill repeated to about size
// bytes, then tail, deflated by concatenating a few independently
// compressed pieces. fill's length must divide 1 MiB evenly when fill is
// not a space (the chunk is built per fill).
type repeatedPart struct {
	head, fill, tail string
	size             int64 // bytes of fill, rounded down to whole MiB
}

// writeBomb writes the part into zw as a raw (pre-deflated) entry with the
// right CRC and sizes, so the zip reader's checks pass.
func writeBomb(t testing.TB, zw *zip.Writer, name string, p repeatedPart) {
	t.Helper()
	chunk, plain := spacesChunk(), bytes.Repeat([]byte(" "), 1<<20)
	switch p.fill {
	case " ":
	case "":
		chunk, plain, p.size = nil, []byte{' '}, 0
	default:
		plain = bytes.Repeat([]byte(p.fill), (1<<20)/len(p.fill))
		var buf bytes.Buffer
		fw, _ := flate.NewWriter(&buf, flate.BestCompression)
		_, _ = fw.Write(plain)
		_ = fw.Flush()
		chunk = buf.Bytes()
	}
	piece := func(s string) []byte {
		var buf bytes.Buffer
		fw, _ := flate.NewWriter(&buf, flate.BestCompression)
		_, _ = io.WriteString(fw, s)
		_ = fw.Flush()
		return buf.Bytes()
	}
	n := int(p.size / int64(len(plain)))
	crc := crc32.Update(0, crc32.IEEETable, []byte(p.head))
	for range n {
		crc = crc32.Update(crc, crc32.IEEETable, plain)
	}
	crc = crc32.Update(crc, crc32.IEEETable, []byte(p.tail))
	size := uint64(len(p.head)) + uint64(n)*uint64(len(plain)) + uint64(len(p.tail))
	head, tail := piece(p.head), append(piece(p.tail), 0x03, 0x00) // a final, empty fixed-Huffman block
	packed := uint64(len(head)) + uint64(n)*uint64(len(chunk)) + uint64(len(tail))
	w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Deflate, CRC32: crc,
		CompressedSize64: packed, UncompressedSize64: size})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write(head)
	for range n {
		_, _ = w.Write(chunk)
	}
	_, _ = w.Write(tail)
}

// bombXLSX is a small workbook whose header row is fine and in which one
// part, chosen by where, unpacks to about size bytes of filler.
func bombXLSX(t testing.TB, where string, size int64) []byte {
	t.Helper()
	const (
		ns   = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"`
		rels = `xmlns="http://schemas.openxmlformats.org/package/2006/relationships"`
		rel  = `http://schemas.openxmlformats.org/officeDocument/2006/relationships`
	)
	header := `<row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c><c r="B1" t="s"><v>0</v></c></row>`
	row2 := `<row r="2"><c r="A2" t="inlineStr"><is><t>张三</t></is></c><c r="B2" t="s"><v>1</v></c></row>`
	sheet := repeatedPart{head: `<worksheet ` + ns + `><sheetData>` + header + row2, tail: `</sheetData></worksheet>`}
	sst := repeatedPart{head: `<sst ` + ns + `><si><t>手机号</t></si><si><t>13812345678</t></si>`, tail: `</sst>`}
	styles := repeatedPart{head: `<styleSheet ` + ns + `>`, tail: `</styleSheet>`}
	second := repeatedPart{head: `<worksheet ` + ns + `><sheetData>`, tail: `</sheetData></worksheet>`}
	var target *repeatedPart
	switch where {
	case bombBetweenRows, bombDeclared:
		target = &sheet
		sheet.fill = " "
	case bombLate:
		target = &sheet
		for i := 3; i < 43; i++ {
			sheet.head += fmt.Sprintf(`<row r="%d"><c r="A%d" t="inlineStr"><is><t>居民%d</t></is></c></row>`, i, i, i)
		}
		sheet.fill = " "
	case bombInCell:
		target = &sheet
		sheet.head += `<row r="3"><c r="A3" t="inlineStr"><is><t>`
		sheet.tail = `</t></is></c></row>` + sheet.tail
		sheet.fill = " "
	case bombInHeader:
		target = &sheet
		sheet.head = `<worksheet ` + ns + `><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>姓名`
		sheet.tail = `</t></is></c></row></sheetData></worksheet>`
		sheet.fill = " "
	case bombShared:
		target = &sst
		sst.head += `<si><t>`
		sst.tail = `</t></si>` + sst.tail
		sst.fill = " "
	case bombRichRuns:
		target = &sheet
		sheet.head += `<row r="3"><c r="A3" t="inlineStr"><is>`
		sheet.tail = `</is></c></row>` + sheet.tail
		sheet.fill = `<r><t>aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa</t></r>` // 64 bytes
	case bombManyCells:
		target = &sheet
		sheet.head += `<row r="3">`
		sheet.tail = `</row>` + sheet.tail
		sheet.fill = `<c t="inlineStr"><is><t>aaaaaaaaaaaaaaaaaaaaaaaaaaa</t></is></c>` // 64 bytes
	case bombManyStrings:
		target = &sst
		sst.fill = `<si/>` + `<si/>` + `<si/>` + `<si/>` // 20 bytes; 1 MiB is not a multiple: rounded down
	case bombDeepNesting:
		target = &sheet
		sheet.head += `<row r="3"><c r="A3" t="inlineStr"><is>`
		sheet.tail = `</is></c></row>` + sheet.tail
		sheet.fill = `<x>`
	case bombHugeTag:
		target = &sheet
		sheet.head += `<row r="3" x="`
		sheet.tail = `"></row>` + sheet.tail
		sheet.fill = " "
	case bombComment:
		target = &sheet
		sheet.head += `<!--`
		sheet.tail = `-->` + sheet.tail
		sheet.fill = `> > > > > > > > `
	case bombOtherPart:
		target = &styles
		styles.fill = `<x/>`
	case bombOtherSheet:
		target = &second
		second.fill = " "
	default:
		t.Fatalf("no bomb %q", where)
	}
	target.size = size

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	small := [][2]string{
		{"[Content_Types].xml", `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>`},
		{"_rels/.rels", `<Relationships ` + rels + `><Relationship Id="rId1" Type="` + rel + `/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<workbook ` + ns + ` xmlns:r="` + rel + `"><sheets><sheet name="S" sheetId="1" r:id="rId1"/><sheet name="T" sheetId="2" r:id="rId3"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<Relationships ` + rels + `><Relationship Id="rId1" Type="` + rel + `/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="` + rel + `/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rId3" Type="` + rel + `/worksheet" Target="worksheets/sheet2.xml"/></Relationships>`},
	}
	for _, p := range small {
		w, err := zw.Create(p[0])
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(w, p[1])
	}
	writeBomb(t, zw, "xl/worksheets/sheet1.xml", sheet)
	writeBomb(t, zw, "xl/worksheets/sheet2.xml", second)
	writeBomb(t, zw, "xl/sharedStrings.xml", sst)
	writeBomb(t, zw, "xl/styles.xml", styles)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestBombBuilder makes sure a bomb is the small, valid zip it claims to
// be: it inflates to what its header says, and a harmless size reads as a
// workbook.
func TestBombBuilder(t *testing.T) {
	data := bombXLSX(t, bombBetweenRows, 300<<20)
	if len(data) > 400<<10 {
		t.Fatalf("bomb is %d bytes", len(data))
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name != "xl/worksheets/sheet1.xml" {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, rc)
		if err != nil || uint64(n) != f.UncompressedSize64 || n < 300<<20 {
			t.Fatalf("sheet1.xml inflates to %d bytes (%v), header says %d", n, err, f.UncompressedSize64)
		}
	}
	g, err := readUpload(t, bombXLSX(t, bombBetweenRows, 0), testFields, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Rows) != 1 || g.Rows[0].Values[0] != "张三" || g.Rows[0].Values[1] != "13812345678" {
		t.Fatalf("a bomb without its filler reads as %s", show(g))
	}
}

// measure runs fn while sampling the heap, and reports the peak growth of
// HeapAlloc above what it was before, the bytes allocated in all (an upper
// bound of the peak that does not depend on sampling), and the time taken.
func measure(fn func()) (peak, total uint64, took time.Duration) {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base, allocBase := ms.HeapAlloc, ms.TotalAlloc
	var top atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var s runtime.MemStats
		for {
			runtime.ReadMemStats(&s)
			if s.HeapAlloc > base && s.HeapAlloc-base > top.Load() {
				top.Store(s.HeapAlloc - base)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	start := time.Now()
	fn()
	took = time.Since(start)
	close(stop)
	<-done
	runtime.ReadMemStats(&ms)
	if ms.HeapAlloc > base && ms.HeapAlloc-base > top.Load() {
		top.Store(ms.HeapAlloc - base)
	}
	return top.Load(), ms.TotalAlloc - allocBase, took
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }
