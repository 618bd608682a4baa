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
// a zip bomb (1000x and more) is refused before anything is inflated. The
// ceiling is two worksheets at MaxSheetXMLBytes: whatever the upload's
// size, unpacking it costs no more than that in time and temp space.
// Worksheets and the shared strings larger than 1 MiB are streamed from a
// temp file instead of being parsed into memory: excelize holds a parsed
// shared-string table at several times its XML size. Everything else
// excelize reads into memory, together at most 32 MiB.
func xlsxLimits(maxBytes int64) zipLimits {
	const ceiling = 2 * MaxSheetXMLBytes
	unzip := int64(ceiling)
	if maxBytes >= 0 && maxBytes < ceiling/32 {
		unzip = max(32*maxBytes, 16<<20)
	}
	return zipLimits{unzip: unzip, xml: min(1<<20, unzip), mem: min(32<<20, unzip)}
}

// partKind is how an XML part of an XLSX is guarded, by its name.
type partKind int

const (
	partData   partKind = iota // not XML (images, printer settings): not parsed
	partSheet                  // a worksheet
	partShared                 // the shared-string table
	partOther                  // any other XML part
)

// kindOfPart mirrors the names excelize gives special treatment: it finds
// the shared strings at this one path whatever the relationships say.
func kindOfPart(lowerName string) partKind {
	switch {
	case lowerName == "xl/sharedstrings.xml":
		return partShared
	case strings.HasPrefix(lowerName, "xl/worksheets/") && strings.HasSuffix(lowerName, ".xml"):
		return partSheet
	case strings.HasSuffix(lowerName, ".xml") || strings.HasSuffix(lowerName, ".rels"):
		return partOther
	}
	return partData
}

// limits are the XML limits of a part of kind k.
func (k partKind) limits() xmlLimits {
	switch k {
	case partSheet:
		return sheetXMLLimits
	case partShared:
		return sharedStringsLimits
	}
	return otherXMLLimits
}

// checkZip inspects the central directory before excelize inflates
// anything: it rejects archives whose declared sizes break the limits (Go's
// zip reader fails an entry that inflates past its declared size, so the
// declaration binds), and zips that are not workbooks.
func checkZip(data []byte, lim zipLimits) (*zip.Reader, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, newError(keyCorrupt, map[string]any{"detected": "ZIP"})
	}
	var total, inMem uint64
	var types *zip.File
	tooLarge := newError(keyTooLarge, map[string]any{"max": sizeText(lim.unzip)})
	for _, zf := range zr.File {
		name := strings.ToLower(strings.ReplaceAll(zf.Name, `\`, "/"))
		size := zf.UncompressedSize64
		total += size
		if size > uint64(lim.unzip) || total > uint64(lim.unzip) {
			return nil, tooLarge
		}
		if k := kindOfPart(name); k != partData && size > uint64(k.limits().part) {
			return nil, newError(keyUnpackedTooLarge, map[string]any{"max": sizeText(k.limits().part), "part": zf.Name})
		}
		// Mirrors excelize's ReadZipReader: only big worksheets and shared
		// strings go to disk; every other part is read into memory.
		toDisk := (strings.HasPrefix(name, "xl/worksheets/sheet") || name == "xl/sharedstrings.xml") && size > uint64(lim.xml)
		if !toDisk {
			if inMem += size; inMem > uint64(lim.mem) {
				return nil, tooLarge
			}
		}
		if name == "[content_types].xml" {
			types = zf
		}
	}
	if types == nil {
		return nil, newError(keyNotSpreadsheet, map[string]any{"detected": zipKind(zr, "")})
	}
	rc, err := types.Open()
	if err != nil {
		return nil, newError(keyCorrupt, map[string]any{"detected": "XLSX"})
	}
	defer rc.Close()
	ct, err := io.ReadAll(io.LimitReader(rc, 1<<20))
	if err != nil {
		return nil, newError(keyCorrupt, map[string]any{"detected": "XLSX"})
	}
	if !bytes.Contains(ct, []byte("spreadsheetml")) {
		return nil, newError(keyNotSpreadsheet, map[string]any{"detected": zipKind(zr, string(ct))})
	}
	return zr, nil
}

// guardParts reads every XML part excelize may parse through an xmlGuard,
// before excelize unpacks anything: excelize cannot be handed a guarded
// stream, so the parts are inflated once to be measured, in constant
// memory, and once more by excelize. The first pass costs a fraction of
// excelize's parsing, and refuses a bomb at its first oversized token.
func guardParts(zr *zip.Reader) error {
	for _, zf := range zr.File {
		k := kindOfPart(strings.ToLower(strings.ReplaceAll(zf.Name, `\`, "/")))
		if k == partData {
			continue
		}
		if err := guardPart(zf, k); err != nil {
			return err
		}
	}
	return nil
}

func guardPart(zf *zip.File, k partKind) error {
	rc, err := zf.Open()
	if err != nil {
		return newError(keyCorrupt, map[string]any{"detected": "XLSX", "part": zf.Name})
	}
	defer rc.Close()
	g := newXMLGuard(rc, k.limits(), k == partShared)
	if _, err := io.Copy(io.Discard, g); err != nil {
		var se *Error
		if errors.As(err, &se) {
			se.Args = withArg(se.Args, "part", zf.Name)
			return se
		}
		return newError(keyCorrupt, map[string]any{"detected": "XLSX", "part": zf.Name})
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
	zr, err := checkZip(data, lim)
	if err != nil {
		return nil, err
	}
	if err := guardParts(zr); err != nil {
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
