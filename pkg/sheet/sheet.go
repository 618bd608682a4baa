// Package sheet reads a spreadsheet upload (CSV in UTF-8 or GBK/GB18030,
// or XLSX) row by row, and maps its header to canonical field names, so an
// office's own column titles in Chinese or English are understood.
package sheet

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
	"golang.org/x/text/width"
)

// Format is the kind of file.
type Format string

const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
)

// Field is one canonical column and the header titles that mean it.
type Field struct {
	Name     string
	Aliases  []string
	Required bool
}

// Row is one data row. Values has one entry per Field, "" where the column
// is absent; it is reused by the next call to Next.
type Row struct {
	Line   int // the row number as Excel shows it: the header is row 1
	Values []string
}

// Limits bound what one upload may cost.
type Limits struct {
	MaxBytes     int64
	MaxRows      int
	MaxCellRunes int
}

// Error is a problem with the whole file; Key names an i18n message.
type Error struct {
	Key  string
	Args map[string]any
}

func (e *Error) Error() string { return fmt.Sprintf("sheet: %s %v", e.Key, e.Args) }

// RowError is a problem with one row; reading can go on after it.
type RowError struct {
	Line int
	Key  string
	Args map[string]any
}

func (e *RowError) Error() string { return fmt.Sprintf("sheet: row %d: %s", e.Line, e.Key) }

// The whole-file errors.
var (
	ErrEmpty          = &Error{Key: "sheet_empty"}
	ErrNotSpreadsheet = &Error{Key: "sheet_not_spreadsheet"}
	ErrLegacyXLS      = &Error{Key: "sheet_legacy_xls"}
	ErrTooLarge       = &Error{Key: "sheet_too_large"}
	ErrTooManyRows    = &Error{Key: "sheet_too_many_rows"}
	ErrBadEncoding    = &Error{Key: "sheet_bad_encoding"}
)

// source yields raw records and the line each starts on.
type source interface {
	next() ([]string, int, error)
	close() error
}

// Reader reads rows mapped to fields.
type Reader struct {
	src     source
	format  Format
	fields  []Field
	columns []string
	index   []int // field → column, -1 when absent
	unknown []string
	limits  Limits
	rows    int
	values  []string
}

// Open reads the header and prepares to read rows. The format is taken
// from the content, not the file name.
func Open(r io.Reader, filename string, fields []Field, limits Limits) (*Reader, error) {
	if limits.MaxCellRunes == 0 {
		limits.MaxCellRunes = 1000
	}
	br := bufio.NewReaderSize(io.LimitReader(r, limits.MaxBytes+1), 64<<10)
	head, _ := br.Peek(4096)
	if len(head) == 0 {
		return nil, ErrEmpty
	}
	var src source
	var format Format
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		data, err := io.ReadAll(br)
		if err != nil {
			return nil, err
		}
		if limits.MaxBytes > 0 && int64(len(data)) > limits.MaxBytes {
			return nil, ErrTooLarge
		}
		x, err := openXLSX(data, limits)
		if err != nil {
			return nil, err
		}
		src, format = x, XLSX
	case bytes.HasPrefix(head, []byte{0xD0, 0xCF, 0x11, 0xE0}):
		return nil, ErrLegacyXLS
	case bytes.IndexByte(head, 0) >= 0 || looksBinary(head):
		return nil, ErrNotSpreadsheet
	default:
		c, err := openCSV(br, head, limits)
		if err != nil {
			return nil, err
		}
		src, format = c, CSV
	}
	rd := &Reader{src: src, format: format, fields: fields, limits: limits, values: make([]string, len(fields))}
	if err := rd.header(); err != nil {
		_ = src.close()
		return nil, err
	}
	return rd, nil
}

// looksBinary spots files that are not text (images, PDFs) by their share
// of control characters.
func looksBinary(b []byte) bool {
	if bytes.HasPrefix(b, []byte("%PDF")) || bytes.HasPrefix(b, []byte("\x89PNG")) || bytes.HasPrefix(b, []byte("\xFF\xD8\xFF")) {
		return true
	}
	ctl := 0
	for _, c := range b {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' {
			ctl++
		}
	}
	return ctl > len(b)/20
}

// normalize folds a header title for matching: width, case, spaces and
// decoration such as "身份证号（选填）*" → "身份证号".
func normalize(s string) string {
	s = width.Fold.String(s)
	if i := strings.IndexAny(s, "(（"); i > 0 {
		s = s[:i]
	}
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsSpace(r) || strings.ContainsRune("*:：_-", r) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (r *Reader) header() error {
	for {
		rec, _, err := r.src.next()
		if errors.Is(err, io.EOF) {
			return ErrEmpty
		}
		if err != nil {
			return err
		}
		if blank(rec) {
			continue
		}
		r.columns = append([]string(nil), rec...)
		break
	}
	alias := map[string]int{}
	for i, f := range r.fields {
		for _, a := range append([]string{f.Name}, f.Aliases...) {
			alias[normalize(a)] = i
		}
	}
	r.index = make([]int, len(r.fields))
	for i := range r.index {
		r.index[i] = -1
	}
	for col, title := range r.columns {
		f, ok := alias[normalize(title)]
		if !ok {
			if strings.TrimSpace(title) != "" {
				r.unknown = append(r.unknown, strings.TrimSpace(title))
			}
			continue
		}
		if r.index[f] >= 0 {
			return &Error{Key: "sheet_duplicate_column", Args: map[string]any{"column": strings.TrimSpace(title)}}
		}
		r.index[f] = col
	}
	var missing []string
	for i, f := range r.fields {
		if f.Required && r.index[i] < 0 {
			missing = append(missing, title(f))
		}
	}
	if len(missing) > 0 {
		return &Error{Key: "sheet_missing_columns", Args: map[string]any{"columns": strings.Join(missing, ", ")}}
	}
	return nil
}

func title(f Field) string {
	if len(f.Aliases) >= 2 {
		return f.Aliases[0] + "/" + f.Aliases[1]
	}
	return f.Name
}

func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// Format is the file's format.
func (r *Reader) Format() Format { return r.format }

// Columns is the header as written.
func (r *Reader) Columns() []string { return r.columns }

// Unknown lists header columns that matched no field.
func (r *Reader) Unknown() []string { return r.unknown }

// Next returns the next non-blank row, io.EOF at the end, a *RowError for
// a row that cannot be read (reading may go on), or an *Error that ends it.
func (r *Reader) Next() (Row, error) {
	for {
		rec, line, err := r.src.next()
		if err != nil {
			return Row{}, err
		}
		if blank(rec) {
			continue
		}
		r.rows++
		if r.limits.MaxRows > 0 && r.rows > r.limits.MaxRows {
			return Row{}, &Error{Key: ErrTooManyRows.Key, Args: map[string]any{"max": r.limits.MaxRows}}
		}
		for i, col := range r.index {
			v := ""
			if col >= 0 && col < len(rec) {
				v = strings.TrimFunc(rec[col], unicode.IsSpace)
			}
			if utf8.RuneCountInString(v) > r.limits.MaxCellRunes {
				return Row{}, &RowError{Line: line, Key: "sheet_cell_too_long", Args: map[string]any{"max": r.limits.MaxCellRunes}}
			}
			r.values[i] = v
		}
		return Row{Line: line, Values: r.values}, nil
	}
}

// Close releases the reader.
func (r *Reader) Close() error { return r.src.close() }

// csvSource reads CSV records.
type csvSource struct {
	r     *csv.Reader
	count *countingReader
	limit int64
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func openCSV(br *bufio.Reader, head []byte, limits Limits) (*csvSource, error) {
	cr := &countingReader{r: br}
	var in io.Reader = cr
	sample := head
	if bytes.HasPrefix(sample, []byte("\xEF\xBB\xBF")) {
		if _, err := br.Discard(3); err != nil {
			return nil, err
		}
		sample = sample[3:]
	} else if !validUTF8Prefix(sample) {
		// Excel in China saves CSV as GBK; GB18030 is its superset.
		in = transform.NewReader(cr, simplifiedchinese.GB18030.NewDecoder())
		s, err := simplifiedchinese.GB18030.NewDecoder().Bytes(sample)
		if err != nil {
			return nil, ErrBadEncoding
		}
		sample = s
	}
	first, _, _ := bytes.Cut(sample, []byte("\n"))
	delim := ','
	best := bytes.Count(first, []byte(","))
	for _, d := range []rune{'\t', ';'} {
		if n := bytes.Count(first, []byte(string(d))); n > best {
			delim, best = d, n
		}
	}
	r := csv.NewReader(in)
	r.Comma = delim
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	return &csvSource{r: r, count: cr, limit: limits.MaxBytes}, nil
}

// validUTF8Prefix is utf8.Valid, forgiving a rune cut at the end.
func validUTF8Prefix(b []byte) bool {
	for i := 0; i < 3 && len(b) > 0 && !utf8.Valid(b); i++ {
		b = b[:len(b)-1]
	}
	return utf8.Valid(b)
}

func (c *csvSource) next() ([]string, int, error) {
	rec, err := c.r.Read()
	line, _ := c.r.FieldPos(0)
	if c.limit > 0 && c.count.n > c.limit {
		return nil, line, ErrTooLarge
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, pe.StartLine, &RowError{Line: pe.StartLine, Key: "sheet_bad_line"}
		}
		return nil, line, err
	}
	return rec, line, nil
}

func (c *csvSource) close() error { return nil }

// xlsxSource reads the first sheet's rows with excelize's streaming reader.
type xlsxSource struct {
	f    *excelize.File
	rows *excelize.Rows
	line int
}

func openXLSX(data []byte, limits Limits) (*xlsxSource, error) {
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		UnzipSizeLimit:    limits.MaxBytes * 20,
		UnzipXMLSizeLimit: 16 << 20,
	})
	if err != nil {
		return nil, ErrNotSpreadsheet
	}
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		_ = f.Close()
		return nil, ErrEmpty
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		_ = f.Close()
		return nil, ErrNotSpreadsheet
	}
	return &xlsxSource{f: f, rows: rows}, nil
}

func (x *xlsxSource) next() ([]string, int, error) {
	if !x.rows.Next() {
		if err := x.rows.Error(); err != nil {
			return nil, x.line, ErrNotSpreadsheet
		}
		return nil, x.line, io.EOF
	}
	x.line++
	cols, err := x.rows.Columns()
	if err != nil {
		return nil, x.line, &RowError{Line: x.line, Key: "sheet_bad_line"}
	}
	return cols, x.line, nil
}

func (x *xlsxSource) close() error {
	_ = x.rows.Close()
	return x.f.Close()
}
