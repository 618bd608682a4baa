package roster_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"hash/crc32"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// queued accepts tasks and does nothing with them: the test runs the
// import itself.
type queued struct{}

func (queued) EnqueueContext(context.Context, *asynq.Task, ...asynq.Option) (*asynq.TaskInfo, error) {
	return &asynq.TaskInfo{}, nil
}

// spacesXLSX is a residents workbook of a few hundred KB: a header row
// (inside which the spaces go when inHeader), a data row, then mib MiB of
// spaces. The spaces are 1 MiB deflated once and repeated, each copy a
// self-contained run of deflate blocks, so building it takes milliseconds.
func spacesXLSX(t *testing.T, mib int, inHeader bool) []byte {
	t.Helper()
	const (
		ns   = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"`
		rels = `xmlns="http://schemas.openxmlformats.org/package/2006/relationships"`
		rel  = `http://schemas.openxmlformats.org/officeDocument/2006/relationships`
	)
	head := `<worksheet ` + ns + `><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c><c r="B1" t="inlineStr"><is><t>网格</t></is></c>` +
		`<c r="C1" t="inlineStr"><is><t>地址</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>张三</t></is></c>` +
		`<c r="B2" t="inlineStr"><is><t>g1</t></is></c><c r="C2" t="inlineStr"><is><t>七星路1号</t></is></c></row>`
	tail := `</sheetData></worksheet>`
	if inHeader {
		head = `<worksheet ` + ns + `><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>姓名`
		tail = `</t></is></c></row>` + tail
	}
	deflate := func(b []byte) []byte {
		var buf bytes.Buffer
		fw, _ := flate.NewWriter(&buf, flate.BestCompression)
		_, _ = fw.Write(b)
		_ = fw.Flush() // byte-aligned, not final: copies can follow one another
		return buf.Bytes()
	}
	spaces := bytes.Repeat([]byte(" "), 1<<20)
	chunk := deflate(spaces)
	crc := crc32.ChecksumIEEE([]byte(head))
	for range mib {
		crc = crc32.Update(crc, crc32.IEEETable, spaces)
	}
	crc = crc32.Update(crc, crc32.IEEETable, []byte(tail))
	packedHead, packedTail := deflate([]byte(head)), append(deflate([]byte(tail)), 0x03, 0x00) // a final empty block

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range [][2]string{
		{"[Content_Types].xml", `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>`},
		{"_rels/.rels", `<Relationships ` + rels + `><Relationship Id="rId1" Type="` + rel + `/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<workbook ` + ns + ` xmlns:r="` + rel + `"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<Relationships ` + rels + `><Relationship Id="rId1" Type="` + rel + `/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`},
	} {
		w, _ := zw.Create(p[0])
		_, _ = io.WriteString(w, p[1])
	}
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "xl/worksheets/sheet1.xml", Method: zip.Deflate, CRC32: crc,
		CompressedSize64:   uint64(len(packedHead) + mib*len(chunk) + len(packedTail)),
		UncompressedSize64: uint64(len(head) + mib<<20 + len(tail))})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write(packedHead)
	for range mib {
		_, _ = w.Write(chunk)
	}
	_, _ = w.Write(packedTail)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// heapDuring runs fn and returns the most the heap grew while it ran
// (sampled every few milliseconds), the bytes it allocated in all (which
// bounds that growth whatever the sampling missed), and how long it took.
func heapDuring(fn func()) (peak, total uint64, took time.Duration) {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base, allocated := ms.HeapAlloc, ms.TotalAlloc
	var top atomic.Uint64
	stop, done := make(chan struct{}), make(chan struct{})
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
	return top.Load(), ms.TotalAlloc - allocated, took
}

// TestImportXLSXBomb: a 300 KB workbook holding 300 MB of spaces (the
// review's bomb) is refused at upload; one holding 200 MB, under the size
// limit, after a good header is accepted at upload, which reads only the
// head, and the import then fails with a message that says why; spaces in
// the header are refused at upload. Each step stays under 64 MiB of heap
// and a few seconds, under -race too. Before the limits, the upload alone
// took 3-4 s and 0.8-1.7 GiB.
func TestImportXLSXBomb(t *testing.T) {
	db := storetest.New(t)
	ctx := community(t, db)
	s := &roster.Service{DB: db, Queue: queued{}}
	const heapLimit, timeLimit = 64 << 20, 5 * time.Second
	check := func(step string, fn func()) {
		t.Helper()
		peak, total, took := heapDuring(fn)
		t.Logf("%s: peak heap +%.1f MiB, allocated %.1f MiB, %v", step, float64(peak)/(1<<20), float64(total)/(1<<20), took)
		if peak > heapLimit || total > heapLimit || took > timeLimit {
			t.Errorf("%s: peak heap +%.1f MiB, allocated %.1f MiB, %v", step, float64(peak)/(1<<20), float64(total)/(1<<20), took)
		}
	}
	refused := func(err error, key string) {
		t.Helper()
		var e *errs.Error
		if !errors.As(err, &e) || e.Kind != errs.KindValidation || len(e.Fields) != 1 || e.Fields[0].Field != "file" || e.Fields[0].Key != key {
			t.Fatalf("upload: %v, want a 422 on file with %s", err, key)
		}
		for _, lang := range []i18n.Lang{i18n.ZH, i18n.EN} {
			if m := i18n.T(lang, key, e.Fields[0].Args); m == key || strings.Contains(m, "{") {
				t.Errorf("%s message %q", lang, m)
			}
		}
	}

	declared := spacesXLSX(t, 300, false)
	t.Logf("the review's bomb: %d KB", len(declared)>>10)
	var err error
	check("upload, 300 MB of spaces", func() { _, err = s.CreateImport(ctx, roster.KindResidents, "bomb.xlsx", declared) })
	refused(err, "sheet_unpacked_too_large")

	check("upload, 200 MB of spaces in the header", func() {
		_, err = s.CreateImport(ctx, roster.KindResidents, "bomb.xlsx", spacesXLSX(t, 200, true))
	})
	refused(err, "sheet_cell_too_large")

	late := spacesXLSX(t, 200, false)
	var imp *roster.Import
	check("upload, 200 MB of spaces after the first data row", func() {
		imp, err = s.CreateImport(ctx, roster.KindResidents, "bomb.xlsx", late)
	})
	if err != nil {
		t.Fatalf("upload with a good head: %v", err)
	}
	check("the import task", func() { err = s.RunImport(ctx, imp.ID) })
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.GetImport(ctx, imp.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "failed" || got.Message != "sheet_cell_too_large" || got.Created != 0 {
		t.Fatalf("import: status %s, message %s, created %d", got.Status, got.Message, got.Created)
	}
	// The status renders the stored key without its arguments: the
	// message must still say what the limit is.
	for _, lang := range []i18n.Lang{i18n.ZH, i18n.EN} {
		if m := i18n.T(lang, got.Message, nil); !strings.Contains(m, "32 KB") || strings.Contains(m, "{") {
			t.Errorf("%s message %q", lang, m)
		}
	}
}
