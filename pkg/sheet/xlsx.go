package sheet

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/xuri/excelize/v2"
)

// zipLimits bound what unpacking an XLSX may cost.
type zipLimits struct {
	unzip int64 // all entries together, unpacked
	xml   int64 // a worksheet or the shared strings above this go to a temp file
	mem   int64 // entries excelize keeps in memory, together
}

// xlsxLimits derives the unpacking limits from MaxBytes. Sheet XML
// compresses about 5-15x; 32x leaves room for very repetitive sheets while
// a zip bomb (1000x and more) is refused before anything is inflated.
// Worksheets and the shared strings larger than 1 MiB are streamed from a
// temp file instead of being parsed into memory: excelize holds a parsed
// shared-string table at several times its XML size.
func xlsxLimits(maxBytes int64) zipLimits {
	const ceiling = 1 << 30
	unzip := int64(ceiling)
	if maxBytes >= 0 && maxBytes < ceiling/32 {
		unzip = max(32*maxBytes, 16<<20)
	}
	return zipLimits{unzip: unzip, xml: min(1<<20, unzip), mem: min(64<<20, unzip)}
}

// checkZip inspects the central directory before excelize inflates
// anything: it rejects archives whose declared sizes break the limits (Go's
// zip reader fails an entry that inflates past its declared size, so the
// declaration binds), and zips that are not workbooks.
func checkZip(data []byte, lim zipLimits) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return newError(keyCorrupt, map[string]any{"detected": "ZIP"})
	}
	var total, inMem uint64
	var types *zip.File
	tooLarge := newError(keyTooLarge, map[string]any{"max": sizeText(lim.unzip)})
	for _, zf := range zr.File {
		name := strings.ToLower(strings.ReplaceAll(zf.Name, `\`, "/"))
		size := zf.UncompressedSize64
		total += size
		if size > uint64(lim.unzip) || total > uint64(lim.unzip) {
			return tooLarge
		}
		// Mirrors excelize's ReadZipReader: only big worksheets and shared
		// strings go to disk; every other part is read into memory.
		toDisk := (strings.HasPrefix(name, "xl/worksheets/sheet") || name == "xl/sharedstrings.xml") && size > uint64(lim.xml)
		if !toDisk {
			if inMem += size; inMem > uint64(lim.mem) {
				return tooLarge
			}
		}
		if name == "[content_types].xml" {
			types = zf
		}
	}
	if types == nil {
		return newError(keyNotSpreadsheet, map[string]any{"detected": zipKind(zr, "")})
	}
	rc, err := types.Open()
	if err != nil {
		return newError(keyCorrupt, map[string]any{"detected": "XLSX"})
	}
	defer rc.Close()
	ct, err := io.ReadAll(io.LimitReader(rc, 1<<20))
	if err != nil {
		return newError(keyCorrupt, map[string]any{"detected": "XLSX"})
	}
	if !bytes.Contains(ct, []byte("spreadsheetml")) {
		return newError(keyNotSpreadsheet, map[string]any{"detected": zipKind(zr, string(ct))})
	}
	return nil
}

// zipKind names a zip that is not an XLSX, for the error's Args.
func zipKind(zr *zip.Reader, contentTypes string) string {
	switch {
	case strings.Contains(contentTypes, "wordprocessingml"):
		return "DOCX"
	case strings.Contains(contentTypes, "presentationml"):
		return "PPTX"
	case strings.Contains(contentTypes, "sheet.binary"):
		return "XLSB"
	}
	for _, zf := range zr.File {
		if zf.Name == "mimetype" && zf.UncompressedSize64 < 256 {
			if rc, err := zf.Open(); err == nil {
				b, _ := io.ReadAll(io.LimitReader(rc, 256))
				_ = rc.Close()
				if bytes.Contains(b, []byte("opendocument.spreadsheet")) {
					return "ODS"
				}
			}
		}
	}
	return "ZIP"
}

// xlsxSource streams the first sheet with excelize's row iterator.
type xlsxSource struct {
	f      *excelize.File
	rows   *excelize.Rows
	tmpDir string
	line   int
}

// openXLSX opens data, which has already passed the MaxBytes check.
//
// Cells are read formatted (RawCellValue false): with General format,
// excelize renders a number stored as a number in full ("13812345678", and
// "1.3812345678E10" in the XML also becomes "13812345678"), and dates come
// out as dates instead of serial numbers. A raw read would pass the XML's
// exponent notation and date serials through. The cost: a number of more
// than 15 significant digits (an ID number written as an exact integer by a
// program other than Excel, which cannot store one) comes out as Excel
// shows it, "1.10101199003075E+17", and the validator rejects it just as it
// rejects Excel's own truncated IDs. Short dates (built-in format
// 14, which Excel in China shows as 2006/1/2) are rendered ISO, so the
// validator sees one unambiguous form instead of en-US "01-02-06".
func openXLSX(data []byte, maxBytes int64) (src *xlsxSource, err error) {
	lim := xlsxLimits(maxBytes)
	if err := checkZip(data, lim); err != nil {
		return nil, err
	}
	// excelize spills large parts to temp files and, on some error paths,
	// leaves them behind; a directory of our own is removed whatever happens.
	tmpDir, err := os.MkdirTemp("", "sheet-xlsx-")
	if err != nil {
		return nil, fmt.Errorf("sheet: temp dir: %w", err)
	}
	x := &xlsxSource{tmpDir: tmpDir}
	defer func() {
		if p := recover(); p != nil {
			err = corrupt(p)
		}
		if err != nil {
			_ = x.close()
			src = nil
		}
	}()
	x.f, err = excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		UnzipSizeLimit:    lim.unzip,
		UnzipXMLSizeLimit: lim.xml,
		TmpDir:            tmpDir,
		ShortDatePattern:  "yyyy-mm-dd",
		CultureInfo:       excelize.CultureNameZhCN,
	})
	if err != nil {
		return nil, newError(keyCorrupt, map[string]any{"detected": "XLSX"})
	}
	sheets := x.f.GetSheetList()
	if len(sheets) == 0 {
		return nil, newError(keyEmpty, nil)
	}
	// The first sheet in workbook order is the one Excel opens on and the
	// one people mean; other sheets (instructions, lookups) are ignored.
	if x.rows, err = x.f.Rows(sheets[0]); err != nil {
		return nil, newError(keyCorrupt, map[string]any{"detected": "XLSX"})
	}
	return x, nil
}

// corrupt turns a panic inside excelize into ErrCorrupt: it parses hostile
// input, and one malformed upload must not take the worker down.
func corrupt(p any) *Error {
	return newError(keyCorrupt, map[string]any{"detected": "XLSX", "panic": fmt.Sprint(p)})
}

// next returns the cells of the next row. excelize's Next is called once
// per row number, gaps included (it reports missing rows as empty), so
// counting calls gives the row number Excel shows.
func (x *xlsxSource) next() (cells []string, line int, err error) {
	defer func() {
		if p := recover(); p != nil {
			cells, err = nil, corrupt(p)
		}
	}()
	if !x.rows.Next() {
		if x.rows.Error() != nil {
			return nil, x.line, newError(keyCorrupt, map[string]any{"detected": "XLSX"})
		}
		return nil, x.line, io.EOF
	}
	x.line++
	cells, err = x.rows.Columns()
	if err != nil {
		// A bad cell reference or shared-string index: the file is
		// damaged, and later rows cannot be trusted either.
		return nil, x.line, newError(keyCorrupt, map[string]any{"detected": "XLSX", "line": x.line})
	}
	return cells, x.line, nil
}

func (x *xlsxSource) close() error {
	var errs []error
	if x.rows != nil {
		// Rows.Close reports the iterator's last parse error, which next
		// has already turned into ErrCorrupt; only its file handle matters.
		_ = x.rows.Close()
		x.rows = nil
	}
	if x.f != nil {
		errs = append(errs, x.f.Close())
		x.f = nil
	}
	if x.tmpDir != "" {
		errs = append(errs, os.RemoveAll(x.tmpDir))
		x.tmpDir = ""
	}
	return errors.Join(errs...)
}
