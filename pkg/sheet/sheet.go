// Package sheet reads a roster upload — CSV as Excel in China saves it
// (UTF-8 with or without BOM, GBK/GB18030, UTF-16 "Unicode Text"; comma,
// tab or semicolon delimited) or XLSX — row by row, and maps its header row
// to canonical field names, so each office's own column titles, in Chinese
// or English, are understood.
//
// Reading streams: a CSV is decoded and parsed as it is read, and an XLSX
// sheet is walked with excelize's row iterator (large sheets from a temp
// file), so memory does not grow with the number of rows. An XLSX must be
// held whole (a zip is read from its end), so its size is checked before it
// is unpacked, and its XML is measured against fixed limits before excelize
// parses any of it (xmlguard.go): a small zip can hold a bomb.
//
// Errors carry i18n keys (see messages.go). An *Error ends reading; a
// *RowError concerns one row and reading may go on.
package sheet

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Format is the kind of file, detected from its content.
type Format string

// The formats Open understands.
const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
)

// Field is one canonical column and the header titles that mean it.
// Titles are compared after normalisation: trimmed, full-width folded to
// half-width, case-insensitive, with spaces and the characters ()（）*：:
// ignored, so "身份证号（选填）*" matches the alias "身份证号（选填）". When
// that finds nothing, parenthesised remarks are dropped as well, so it
// also matches the alias "身份证号". Name itself also matches, so a file
// exported with canonical names reads back.
type Field struct {
	Name     string
	Aliases  []string
	Required bool
}

// Row is one non-empty data row.
type Row struct {
	// Line is the row number a person sees in Excel: the header of a file
	// that starts with it is row 1, blank rows count. For CSV it is the
	// record number as Excel numbers records when it opens the file: a
	// record whose quoted cell spans several lines is one row, so rows
	// after it have a Line smaller than their line number in a text
	// editor.
	Line int
	// Values has one entry per Field, in the order the fields were given,
	// trimmed; "" when the column is absent or the cell empty. The slice is
	// reused by the next call to Next (the strings are not): copy it to
	// keep it.
	Values []string
}

// Limits bound what one upload may cost. A zero field takes the value in
// DefaultLimits; a negative one means no limit.
type Limits struct {
	// MaxBytes rejects a larger upload with ErrTooLarge. CSV is counted
	// while streaming; an XLSX is read whole and checked first.
	MaxBytes int64
	// MaxRows is the most data rows (not counting the header and blank
	// rows); the next one makes Next return ErrTooManyRows.
	MaxRows int
	// MaxCellRunes is the longest a mapped cell may be, in characters;
	// a longer one makes its row a RowError (ErrCellTooLong). Columns that
	// map to no field are not checked: they are never used.
	MaxCellRunes int
}

// DefaultLimits fill zero Limits fields: generous for a community roster
// (a few thousand households), tight enough that a stray upload cannot
// exhaust a worker.
var DefaultLimits = Limits{MaxBytes: 32 << 20, MaxRows: 200_000, MaxCellRunes: 1000}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes == 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	if l.MaxRows == 0 {
		l.MaxRows = DefaultLimits.MaxRows
	}
	if l.MaxCellRunes == 0 {
		l.MaxCellRunes = DefaultLimits.MaxCellRunes
	}
	return l
}

// maxTitleRows is how many non-empty rows may precede the header. Offices
// put a title ("XX社区居民花名册") and a date line above the column titles;
// the header is the first row in which some title matches a field.
const maxTitleRows = 10

// errClosed is returned by Next after Close.
var errClosed = errors.New("sheet: reader is closed")

// source yields the cells of each record, trimmed by the caller, with the
// record's Line. Errors: io.EOF; a *RowError for a record that was skipped;
// anything else ends reading.
type source interface {
	next() (cells []string, line int, err error)
	close() error
}

// Reader reads the rows of an upload, mapped to fields. It is not safe for
// concurrent use.
type Reader struct {
	src      source
	format   Format
	headOnly bool // opened by Check: an XLSX is read by headSource
	limits   Limits
	m        *matcher
	hdr      *header
	values   []string
	rows     int // data rows so far, row errors included, for MaxRows
	ahead    *pending
	err      error // sticky: reading has ended
}

// pending is the first data row, read by Open to tell a header-only file
// from one with data.
type pending struct {
	row Row
	err error
}

// Open detects the format from the content (the filename is not trusted:
// web systems export HTML or CSV named .xls), reads up to the header row,
// maps it to fields and reads ahead to the first data row. It fails with
// an *Error: ErrEmpty, ErrNotSpreadsheet (ErrLegacyXLS), ErrCorrupt,
// ErrTooLarge, ErrBadEncoding, ErrDuplicateColumn or ErrMissingColumns
// (also when none of the first rows names any field), or, when no header
// is found and a row before it could not be parsed (bad quoting), an
// *Error with that row error's key. filename is only put in the error's
// Args as "file", for logs. A field list in which two fields share an
// alias is a programming error, returned as a plain error.
//
// Open does not close r.
func Open(r io.Reader, filename string, fields []Field, limits Limits) (*Reader, error) {
	return open(r, filename, fields, limits, false)
}

// Check refuses what Open would refuse, reading no further than that
// takes: the format, the rows up to the header and the first data row. It
// is for the upload request, where a bad file deserves an answer at once
// but the file is not yet read: an XLSX is not unpacked (only its first
// worksheet is streamed, through the same XML limits as Open's, for at
// most headRowLimit rows), so checking a workbook costs the same whatever
// it holds further down. What lies beyond the first data row (a cell over
// MaxCellBytes, a bomb of spaces) is Open's to find, in the background.
func Check(r io.Reader, filename string, fields []Field, limits Limits) error {
	rd, err := open(r, filename, fields, limits, true)
	if err != nil {
		return err
	}
	return rd.Close()
}

func open(r io.Reader, filename string, fields []Field, limits Limits, headOnly bool) (*Reader, error) {
	m, err := newMatcher(fields)
	if err != nil {
		return nil, err
	}
	rd := &Reader{limits: limits.withDefaults(), m: m, values: make([]string, len(fields)), headOnly: headOnly}
	if err := rd.open(r); err != nil {
		if rd.src != nil {
			_ = rd.src.close()
			rd.src = nil
		}
		var se *Error
		if errors.As(err, &se) {
			se.Args = withArg(se.Args, "file", filename)
		}
		return nil, err
	}
	return rd, nil
}

func (rd *Reader) open(r io.Reader) error {
	count := &countingReader{r: r, max: rd.limits.MaxBytes}
	raw := bufio.NewReaderSize(count, sampleSize)
	head, err := raw.Peek(sampleSize)
	if count.over() {
		return rd.tooLarge()
	}
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return fmt.Errorf("sheet: reading upload: %w", err)
	}
	if len(head) == 0 {
		return newError(keyEmpty, nil)
	}
	k, detected := kindText, ""
	if !hasUTF16BOM(head) {
		k, detected = sniff(head)
	}
	switch k {
	case kindOLE2:
		return newError(keyLegacyXLS, map[string]any{"detected": detected})
	case kindOther:
		return newError(keyNotSpreadsheet, map[string]any{"detected": detected})
	case kindZip:
		data, err := readAll(raw, count, r)
		if count.over() || errors.Is(err, errLimit) {
			return rd.tooLarge()
		}
		if err != nil {
			return fmt.Errorf("sheet: reading upload: %w", err)
		}
		if rd.headOnly {
			h, err := openXLSXHead(data, rd.limits.MaxBytes)
			if err != nil {
				return err
			}
			rd.src, rd.format = h, XLSX
			break
		}
		x, err := openXLSX(data, rd.limits.MaxBytes)
		if err != nil {
			return err
		}
		rd.src, rd.format = x, XLSX
	default:
		c, err := openCSV(raw, count, head)
		if err != nil {
			return rd.convert(err)
		}
		rd.src, rd.format = c, CSV
	}
	return rd.readHeader()
}

// readAll reads the rest of an XLSX upload, sized up front when the reader
// knows its length (bytes.Reader, strings.Reader), to avoid the doubling
// copies of a growing buffer.
func readAll(raw *bufio.Reader, count *countingReader, r io.Reader) ([]byte, error) {
	hint := int64(raw.Buffered())
	if l, ok := r.(interface{ Len() int }); ok {
		hint += int64(l.Len())
	}
	if count.max >= 0 && hint > count.max {
		hint = count.max
	}
	buf := bytes.NewBuffer(make([]byte, 0, hint+bytes.MinRead))
	_, err := buf.ReadFrom(raw)
	return buf.Bytes(), err
}

// readHeader finds the header row (skipping blank rows and up to
// maxTitleRows title rows), maps it, and reads the first data row ahead.
func (rd *Reader) readHeader() error {
	var titles []string
	var unreadable *RowError
	nonEmpty := 0
	for {
		cells, _, err := rd.src.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if !errors.As(err, &unreadable) {
				return rd.convert(err)
			}
			// A title row with a stray quote need not sink the upload:
			// skip it like any title. If no header follows, this was
			// probably the header, and its error explains more.
			if nonEmpty++; nonEmpty >= maxTitleRows {
				break
			}
			continue
		}
		trimCells(cells)
		if blank(cells) {
			continue
		}
		if len(rd.m.fields) == 0 || rd.m.matchesAny(cells) {
			titles = cells
			break
		}
		if nonEmpty++; nonEmpty >= maxTitleRows {
			break
		}
	}
	if titles == nil {
		if nonEmpty == 0 {
			return newError(keyEmpty, nil)
		}
		if unreadable != nil {
			return newError(unreadable.Key, unreadable.Args)
		}
		// No row names any field: report what was looked for.
		return rd.m.noColumns()
	}
	var err error
	if rd.hdr, err = rd.m.mapHeader(titles); err != nil {
		return err
	}
	row, err := rd.read()
	if err == io.EOF {
		if h, ok := rd.src.(*headSource); ok && h.stopped {
			return nil // Check read as far as it may: the rest is Open's
		}
		return newError(keyEmpty, nil)
	}
	if err != nil && !isRowError(err) {
		return err
	}
	rd.ahead = &pending{row: row, err: err}
	return nil
}

// Format is the format detected from the content.
func (rd *Reader) Format() Format { return rd.format }

// Columns returns the header as written (trimmed; empty titles at the end,
// which Excel leaves when a row was once wider, dropped). Do not modify it.
func (rd *Reader) Columns() []string {
	if rd.hdr == nil {
		return nil
	}
	return rd.hdr.columns
}

// Unknown returns the header titles that matched no field, in order: they
// are ignored, and the caller may tell the user so.
func (rd *Reader) Unknown() []string {
	if rd.hdr == nil {
		return nil
	}
	return rd.hdr.unknown
}

// Next returns the next non-empty data row, skipping completely empty
// rows. At the end it returns io.EOF. A *RowError (errors.As) means that
// row was skipped — a CSV record whose quotes do not pair up, a cell over
// MaxCellRunes, undecodable bytes — and Row.Line says which; the caller may
// record it and call Next again, or stop. Any other error (an *Error such
// as ErrTooManyRows or ErrTooLarge, or a read failure) ends reading and is
// returned again by every later call.
//
// Row.Values is reused by the next call: see Row.
func (rd *Reader) Next() (Row, error) {
	if rd.err != nil {
		return Row{}, rd.err
	}
	if p := rd.ahead; p != nil {
		rd.ahead = nil
		return p.row, p.err
	}
	return rd.read()
}

func (rd *Reader) read() (Row, error) {
	for {
		cells, line, err := rd.src.next()
		if err != nil {
			var re *RowError
			if !errors.As(err, &re) {
				return Row{}, rd.convert(err)
			}
			if err := rd.countRow(); err != nil {
				return Row{}, err
			}
			return Row{Line: line}, re
		}
		trimCells(cells)
		if blank(cells) {
			continue
		}
		if err := rd.countRow(); err != nil {
			return Row{}, err
		}
		clear(rd.values)
		for col, f := range rd.hdr.colField {
			if f < 0 || col >= len(cells) {
				continue
			}
			v := unescapeFormula(cells[col])
			// A string has at least as many bytes as runes: count runes
			// only when the bytes alone exceed the limit.
			if limit := rd.limits.MaxCellRunes; limit > 0 && len(v) > limit && utf8.RuneCountInString(v) > limit {
				return Row{Line: line}, newRowError(line, keyRowCellTooLong,
					map[string]any{"column": rd.hdr.columns[col], "max": limit})
			}
			rd.values[f] = v
		}
		return Row{Line: line, Values: rd.values}, nil
	}
}

func (rd *Reader) countRow() error {
	rd.rows++
	if limit := rd.limits.MaxRows; limit > 0 && rd.rows > limit {
		return rd.convert(newError(keyTooManyRows, map[string]any{"max": limit}))
	}
	return nil
}

// convert turns an error that ends reading into what callers see and makes
// it sticky.
func (rd *Reader) convert(err error) error {
	var se *Error
	switch {
	case err == io.EOF || errors.As(err, &se):
	case errors.Is(err, errLimit):
		err = rd.tooLarge()
	case errors.Is(err, errUndecodable):
		err = newError(keyBadEncoding, nil)
	default:
		err = fmt.Errorf("sheet: reading upload: %w", err)
	}
	rd.err = err
	return err
}

func (rd *Reader) tooLarge() *Error {
	return newError(keyTooLarge, map[string]any{"max": sizeText(rd.limits.MaxBytes)})
}

// Close releases the reader's resources (an XLSX's temp files). It does not
// close the io.Reader given to Open. Calling it again is harmless.
func (rd *Reader) Close() error {
	if rd.err == nil || rd.err == io.EOF {
		rd.err = errClosed
	}
	if rd.src == nil {
		return nil
	}
	err := rd.src.close()
	rd.src = nil
	return err
}

// trimCells trims each cell in place. strings.TrimSpace also removes the
// full-width space U+3000 and the no-break space U+00A0 that Chinese text
// and web copy-paste leave around values.
func trimCells(cells []string) {
	for i, c := range cells {
		cells[i] = strings.TrimSpace(c)
	}
}

func blank(cells []string) bool {
	for _, c := range cells {
		if c != "" {
			return false
		}
	}
	return true
}

func withArg(args map[string]any, k string, v any) map[string]any {
	if args == nil {
		args = map[string]any{}
	}
	args[k] = v
	return args
}
