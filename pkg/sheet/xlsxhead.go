package sheet

import (
	"archive/zip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"golang.org/x/text/encoding/htmlindex"
)

// The head of a workbook is read without excelize, which unpacks every
// part of a workbook to open it: checking an upload's header must cost the
// same for a 300 MB sheet as for a 3 KB one. These bound how far it reads.
const (
	// headRowLimit is the most <row> elements read looking for the header
	// and the first data row.
	headRowLimit = 1000
	// headBytesLimit is the most worksheet XML read for the same.
	headBytesLimit = 8 << 20
	// maxColumns is Excel's last column, XFD.
	maxColumns = 16384
)

// errHeadDone ends a head read at headRowLimit or headBytesLimit.
var errHeadDone = errors.New("sheet: head of the sheet read")

// headSource yields the first rows of an XLSX's first worksheet, streamed
// from the zip through an xmlGuard. Values are as written, not formatted:
// enough to find the header and tell a data row from a blank one, which
// is all Check needs; Open reads rows with excelize.
//
// Rows are parsed one at a time, as they are asked for, so that nothing
// past the first data row is read: the XML parser's read-ahead is a few
// KB, too little for any limit to trip on what lies beyond.
type headSource struct {
	rc      io.ReadCloser
	dec     *xml.Decoder
	shared  sharedCursor
	rows    int // <row> elements read
	line    int
	done    bool
	stopped bool // the read ended at a limit, not at the end of the sheet
}

type headRow struct {
	line  int
	cells []string
	refs  map[int]int // column → shared-string index, looked up before the row is returned
}

// openXLSXHead checks the zip as openXLSX does, finds the first worksheet
// in workbook order and the shared strings, and positions the reader at
// the first row.
func openXLSXHead(data []byte, maxBytes int64) (*headSource, error) {
	zr, err := checkZip(data, xlsxLimits(maxBytes))
	if err != nil {
		return nil, err
	}
	files := map[string]*zip.File{}
	for _, zf := range zr.File {
		files[strings.ToLower(strings.ReplaceAll(zf.Name, `\`, "/"))] = zf
	}
	sheetPath, err := firstSheetPath(files)
	if err != nil {
		return nil, err
	}
	zf := files[strings.ToLower(sheetPath)]
	if zf == nil {
		return nil, newError(keyCorrupt, map[string]any{"detected": "XLSX", "part": sheetPath})
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, newError(keyCorrupt, map[string]any{"detected": "XLSX", "part": zf.Name})
	}
	h := &headSource{rc: rc, shared: sharedCursor{zf: files["xl/sharedstrings.xml"]}}
	guarded := newXMLGuard(rc, partSheet.limits(), false)
	h.dec = newXMLDecoder(&limitedReader{r: guarded, n: headBytesLimit})
	if err := h.seek("sheetData"); err != nil {
		_ = rc.Close()
		return nil, err
	}
	return h, nil
}

// firstSheetPath follows the package relationships to the workbook and the
// workbook's relationships to its first sheet, as excelize does: the first
// sheet in workbook order is the one Open reads.
func firstSheetPath(files map[string]*zip.File) (string, error) {
	workbook := "xl/workbook.xml"
	if rels, err := readRels(files, "_rels/.rels"); err == nil {
		for _, r := range rels {
			if strings.HasSuffix(r.typ, "/officeDocument") {
				workbook = strings.TrimPrefix(r.target, "/")
				break
			}
		}
	}
	id, err := firstSheetID(files, workbook)
	if err != nil {
		return "", err
	}
	if id == "" {
		return "", newError(keyEmpty, nil) // a workbook without sheets
	}
	dir := path.Dir(workbook)
	relsPath := strings.TrimPrefix(path.Join(dir, "_rels", path.Base(workbook)+".rels"), "/")
	rels, err := readRels(files, relsPath)
	if err != nil {
		return "", err
	}
	for _, r := range rels {
		if r.id != id {
			continue
		}
		target := strings.ReplaceAll(r.target, `\`, "/")
		if strings.HasPrefix(target, "/") {
			return strings.TrimPrefix(path.Clean(target), "/"), nil
		}
		return strings.TrimPrefix(path.Join(dir, target), "/"), nil
	}
	return "", newError(keyCorrupt, map[string]any{"detected": "XLSX", "part": relsPath})
}

type relationship struct{ id, typ, target string }

// readRels reads a relationships part.
func readRels(files map[string]*zip.File, name string) ([]relationship, error) {
	var out []relationship
	err := walkPart(files, name, func(dec *xml.Decoder, se xml.StartElement) error {
		if se.Name.Local == "Relationship" {
			out = append(out, relationship{id: attr(se, "Id"), typ: attr(se, "Type"), target: attr(se, "Target")})
		}
		return nil
	})
	return out, err
}

// firstSheetID is the relationship id of the workbook's first <sheet>.
func firstSheetID(files map[string]*zip.File, workbook string) (string, error) {
	id := ""
	err := walkPart(files, workbook, func(dec *xml.Decoder, se xml.StartElement) error {
		if se.Name.Local == "sheet" {
			id = attr(se, "id") // r:id
			return errHeadDone
		}
		return nil
	})
	if errors.Is(err, errHeadDone) {
		err = nil
	}
	return id, err
}

// walkPart calls fn with each start element of a small part, read through
// an xmlGuard.
func walkPart(files map[string]*zip.File, name string, fn func(*xml.Decoder, xml.StartElement) error) error {
	zf := files[strings.ToLower(name)]
	if zf == nil {
		return newError(keyCorrupt, map[string]any{"detected": "XLSX", "part": name})
	}
	rc, err := zf.Open()
	if err != nil {
		return newError(keyCorrupt, map[string]any{"detected": "XLSX", "part": name})
	}
	defer rc.Close()
	dec := newXMLDecoder(newXMLGuard(rc, otherXMLLimits, false))
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return xmlError(err, name)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if err := fn(dec, se); err != nil {
				return err
			}
		}
	}
}

// newXMLDecoder reads parts as excelize does: a declared encoding other
// than UTF-8 is decoded (x/text knows the labels excelize's charset
// package does).
func newXMLDecoder(r io.Reader) *xml.Decoder {
	dec := xml.NewDecoder(r)
	dec.CharsetReader = func(label string, input io.Reader) (io.Reader, error) {
		enc, err := htmlindex.Get(label)
		if err != nil {
			return nil, err
		}
		return enc.NewDecoder().Reader(input), nil
	}
	return dec
}

// xmlError keeps a guard's *Error and errHeadDone, and calls anything else
// the XML parser met damage.
func xmlError(err error, part string) error {
	var se *Error
	switch {
	case errors.As(err, &se):
		se.Args = withArg(se.Args, "part", part)
		return se
	case errors.Is(err, errHeadDone):
		return err
	}
	return newError(keyCorrupt, map[string]any{"detected": "XLSX", "part": part})
}

func attr(se xml.StartElement, local string) string {
	for _, a := range se.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// limitedReader returns errHeadDone after n bytes.
type limitedReader struct {
	r io.Reader
	n int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errHeadDone
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// seek reads up to the start of the element named local; io.EOF leaves
// the source done.
func (h *headSource) seek(local string) error {
	for {
		tok, err := h.dec.RawToken()
		if err != nil {
			return h.end(err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == local {
			return nil
		}
	}
}

// end turns the error that ended the XML into the source's state: the end
// of the sheet or of the head read is no error, and neither is XML that
// stops making sense, which excelize's row iterator takes as the end of
// the sheet too (Check must not refuse what Open reads). A limit the
// guard enforced is an error.
func (h *headSource) end(err error) error {
	var se *Error
	switch {
	case errors.As(err, &se):
		return xmlError(err, "worksheet")
	case errors.Is(err, errHeadDone):
		h.done, h.stopped = true, true
		return nil
	case err == io.EOF:
		h.done = true
		return nil
	}
	var syntax *xml.SyntaxError
	if errors.As(err, &syntax) {
		h.done = true
		return nil
	}
	return newError(keyCorrupt, map[string]any{"detected": "XLSX", "part": "worksheet"})
}

func (h *headSource) next() ([]string, int, error) {
	for !h.done {
		if h.rows >= headRowLimit {
			h.done, h.stopped = true, true
			break
		}
		tok, err := h.dec.RawToken()
		if err != nil {
			if err := h.end(err); err != nil {
				return nil, h.line, err
			}
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == "row" {
				h.rows++
				row, err := h.row(t)
				if err == nil {
					err = h.shared.resolve(row)
				}
				return row.cells, row.line, err
			}
		case xml.EndElement:
			if t.Name.Local == "sheetData" {
				h.done = true
			}
		}
	}
	return nil, h.line, io.EOF
}

// row reads one <row> element.
func (h *headSource) row(start xml.StartElement) (headRow, error) {
	h.line++
	if n, err := strconv.Atoi(attr(start, "r")); err == nil && n > 0 {
		h.line = n
	}
	row := headRow{line: h.line}
	col := 0
	for {
		tok, err := h.dec.RawToken()
		if err != nil {
			if err := h.end(err); err != nil {
				return row, err
			}
			return row, nil // a row cut short by the head limit: keep what was read
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local != "c" {
				continue
			}
			col++
			if ref := attr(t, "r"); ref != "" {
				if col = columnOf(ref); col == 0 {
					return row, newError(keyCorrupt, map[string]any{"detected": "XLSX", "line": h.line})
				}
			}
			v, shared, err := h.cell(t)
			if err != nil {
				return row, err
			}
			if shared < 0 && v == "" {
				continue
			}
			for len(row.cells) < col {
				row.cells = append(row.cells, "")
			}
			if shared >= 0 {
				if row.refs == nil {
					row.refs = map[int]int{}
				}
				row.refs[col-1] = shared
			}
			row.cells[col-1] = v
		case xml.EndElement:
			if t.Name.Local == "row" {
				return row, nil
			}
		}
	}
}

// cell reads one <c> element: its value as written, or the index of its
// shared string (else -1).
func (h *headSource) cell(start xml.StartElement) (string, int, error) {
	typ := attr(start, "t")
	var v, inline strings.Builder
	in := ""      // the child being read: v or is
	phonetic := 0 // depth inside <rPh>, whose text is a reading aid
	inT := false
	for {
		tok, err := h.dec.RawToken()
		if err != nil {
			if err := h.end(err); err != nil {
				return "", -1, err
			}
			return "", -1, nil
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "v", "is":
				in = t.Name.Local
			case "rPh":
				phonetic++
			case "t":
				inT = true
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "c":
				return cellValue(typ, v.String(), inline.String())
			case "v", "is":
				in = ""
			case "rPh":
				phonetic--
			case "t":
				inT = false
			}
		case xml.CharData:
			switch {
			case in == "v":
				v.Write(t)
			case in == "is" && inT && phonetic == 0:
				inline.Write(t)
			}
		}
	}
}

func cellValue(typ, v, inline string) (string, int, error) {
	switch typ {
	case "s":
		i, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || i < 0 {
			return "", -1, newError(keyCorrupt, map[string]any{"detected": "XLSX"})
		}
		return "", i, nil
	case "inlineStr":
		if inline != "" {
			return inline, -1, nil
		}
	case "b":
		switch v {
		case "1":
			return "TRUE", -1, nil
		case "0":
			return "FALSE", -1, nil
		}
	}
	return v, -1, nil
}

// columnOf is the column number of a cell reference ("B7" → 2), 0 if it
// is not one.
func columnOf(ref string) int {
	col, i := 0, 0
	for ; i < len(ref); i++ {
		c := ref[i] | 0x20 // lower case
		if c < 'a' || c > 'z' {
			break
		}
		if col = col*26 + int(c-'a') + 1; col > maxColumns {
			return 0
		}
	}
	if i == 0 || i == len(ref) {
		return 0
	}
	for _, c := range ref[i:] {
		if c < '0' || c > '9' {
			return 0
		}
	}
	return col
}

// sharedCursor reads the shared-string table forward, as far as the rows
// read so far need: the strings of a header and a first row are near its
// start in a workbook Excel saved (it numbers strings as it meets them).
// An index behind the cursor starts the table over.
type sharedCursor struct {
	zf   *zip.File // nil: the workbook has no shared strings
	rc   io.ReadCloser
	dec  *xml.Decoder
	next int // the index of the next <si>
}

// resolve fills the shared strings of row.
func (c *sharedCursor) resolve(row headRow) error {
	for col, i := range row.refs {
		s, err := c.lookup(i)
		if err != nil {
			return err
		}
		row.cells[col] = s
	}
	return nil
}

func (c *sharedCursor) lookup(index int) (string, error) {
	if c.zf == nil {
		return "", newError(keyCorrupt, map[string]any{"detected": "XLSX", "reason": "no shared strings"})
	}
	if c.dec == nil || index < c.next {
		if err := c.rewind(); err != nil {
			return "", err
		}
	}
	phonetic, inT := 0, false
	var text strings.Builder
	for {
		tok, err := c.dec.RawToken()
		if err == io.EOF {
			return "", newError(keyCorrupt, map[string]any{"detected": "XLSX", "reason": fmt.Sprintf("shared string %d of %d", index, c.next)})
		}
		if err != nil {
			return "", xmlError(err, c.zf.Name)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "si":
				text.Reset()
			case "rPh":
				phonetic++
			case "t":
				inT = true
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "si":
				if c.next++; c.next-1 == index {
					return text.String(), nil
				}
			case "rPh":
				phonetic--
			case "t":
				inT = false
			}
		case xml.CharData:
			if c.next == index && inT && phonetic == 0 {
				text.Write(t)
			}
		}
	}
}

func (c *sharedCursor) rewind() error {
	c.close()
	rc, err := c.zf.Open()
	if err != nil {
		return newError(keyCorrupt, map[string]any{"detected": "XLSX", "part": c.zf.Name})
	}
	c.rc, c.dec, c.next = rc, newXMLDecoder(newXMLGuard(rc, partShared.limits(), true)), 0
	return nil
}

func (c *sharedCursor) close() {
	if c.rc != nil {
		_ = c.rc.Close()
		c.rc, c.dec = nil, nil
	}
}

func (h *headSource) close() error {
	h.shared.close()
	if h.rc == nil {
		return nil
	}
	err := h.rc.Close()
	h.rc = nil
	return err
}
