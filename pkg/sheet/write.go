package sheet

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// Writer writes a table to a CSV or an XLSX stream; the first row written
// is the header. Every export of every domain goes through it, so that
// formula escaping, types and layout are decided once.
type Writer interface {
	// Row writes a row of text cells.
	Row(cells []string) error
	// Typed writes a row of typed cells: string (text), int, int64 or
	// float64 (a number cell in XLSX), Date (a day), time.Time (a day and
	// time of day, as the wall clock of its location), or nil (empty).
	Typed(cells []any) error
	// Close finishes the file; an XLSX is only written out here.
	Close() error
}

// Layout is how an XLSX table looks: its sheet's name ("" keeps Sheet1)
// and its columns' least widths in characters (a column is widened to fit
// its title). A CSV has no layout but the title.
type Layout struct {
	Sheet  string
	Widths []float64
	// Title, when set, is a row of its own above the header (an org and a
	// day: the sheet an office hands upwards says what it is). In XLSX it
	// is bold and large, merged across the header's columns, and frozen
	// with the header; in CSV it is a first row of one cell.
	Title string
}

// Date is a local calendar day, YYYY-MM-DD, as domains store them: a date
// cell in XLSX (one that is not a day is written as text), the text
// itself in CSV.
type Date string

// How dates and times look: in CSV as text, in XLSX as the cells' number
// formats (a spreadsheet still sorts and filters them as dates).
const (
	csvDateTime  = "2006-01-02 15:04"
	xlsxDate     = "yyyy-mm-dd"
	xlsxDateTime = "yyyy-mm-dd hh:mm"
)

// NewWriter returns a writer of format (CSV or XLSX) to w.
func NewWriter(w io.Writer, format Format, lay Layout) (Writer, error) {
	switch format {
	case CSV:
		// A BOM makes Excel in China open UTF-8 Chinese text correctly.
		if _, err := w.Write([]byte("\xEF\xBB\xBF")); err != nil {
			return nil, err
		}
		t := &csvWriter{w: csv.NewWriter(w)}
		if lay.Title != "" {
			if err := t.Row([]string{lay.Title}); err != nil {
				return nil, err
			}
		}
		return t, nil
	case XLSX:
		return newXLSXWriter(w, lay)
	}
	return nil, fmt.Errorf("sheet: cannot write format %q", format)
}

type csvWriter struct {
	w   *csv.Writer
	buf []string
}

// Row writes cells with formula-like values neutralised (a leading
// apostrophe, see EscapeFormula): a name such as "=HYPERLINK(...)" must
// reach the office's spreadsheet program as text, not as code. The
// importer drops the apostrophe again, so the file still imports as it is.
func (t *csvWriter) Row(cells []string) error {
	t.buf = t.buf[:0]
	for _, c := range cells {
		t.buf = append(t.buf, EscapeFormula(c))
	}
	return t.w.Write(t.buf)
}

func (t *csvWriter) Typed(cells []any) error {
	t.buf = t.buf[:0]
	for _, c := range cells {
		var s string
		switch c := c.(type) {
		case string:
			s = c
		case int:
			s = strconv.Itoa(c)
		case int64:
			s = strconv.FormatInt(c, 10)
		case float64:
			s = strconv.FormatFloat(c, 'f', -1, 64)
		case Date:
			s = string(c)
		case time.Time:
			if !c.IsZero() {
				s = c.Format(csvDateTime)
			}
		case nil:
		default:
			return fmt.Errorf("sheet: cell of type %T", c)
		}
		// Numbers too: a negative one would otherwise start with "-".
		t.buf = append(t.buf, EscapeFormula(s))
	}
	return t.w.Write(t.buf)
}

func (t *csvWriter) Close() error { t.w.Flush(); return t.w.Error() }

// xlsxWriter streams one sheet (excelize's StreamWriter keeps a bounded
// buffer in memory and the rest in a temp file). Text is written as
// inline string cells: phones and ID numbers keep every digit and leading
// zero, and a value that looks like a formula ("=1+2") is shown, never
// run, so no escaping is needed here. Numbers are number cells, dates
// date cells.
type xlsxWriter struct {
	f      *excelize.File
	sw     *excelize.StreamWriter
	lay    Layout
	n      int
	cols   int // the widest row, for the sheet's dimension
	vals   []any
	header int // style of the header row
	title  int // style of the title row, if any
	// Date styles, made on first use so that a sheet without dates has
	// none.
	date, dateTime int
	out            io.Writer
}

func newXLSXWriter(w io.Writer, lay Layout) (*xlsxWriter, error) {
	f := excelize.NewFile()
	name := "Sheet1"
	if lay.Sheet != "" {
		if err := f.SetSheetName(name, lay.Sheet); err != nil {
			_ = f.Close()
			return nil, err
		}
		name = lay.Sheet
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	t := &xlsxWriter{f: f, sw: sw, lay: lay, header: bold, out: w}
	if lay.Title != "" {
		if t.title, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}}); err != nil {
			_ = f.Close()
			return nil, err
		}
	}
	// The stream writer writes the sheet's <dimension ref="A1"> before any
	// row, and never again: streaming readers (openpyxl's read-only mode,
	// pandas) trust it and would see the header row alone. The zip writer
	// puts the real range there as the sheet is packed.
	f.SetZipWriter(func(w io.Writer) excelize.ZipWriter { return &dimensionZip{Writer: zip.NewWriter(w), t: t} })
	return t, nil
}

// dimensionZip packs the workbook as zip.Writer does, rewriting the used
// range of the worksheet on its way into the archive.
type dimensionZip struct {
	*zip.Writer
	t    *xlsxWriter
	open *dimensionWriter // the worksheet being packed
}

func (z *dimensionZip) Create(name string) (io.Writer, error) {
	if err := z.finish(); err != nil {
		return nil, err
	}
	w, err := z.Writer.Create(name)
	if err != nil || !strings.HasPrefix(name, "xl/worksheets/") || !strings.HasSuffix(name, ".xml") {
		return w, err
	}
	z.open = &dimensionWriter{w: w, ref: z.t.dimension()}
	return z.open, nil
}

func (z *dimensionZip) Close() error {
	return errors.Join(z.finish(), z.Writer.Close())
}

// finish writes out whatever the worksheet's writer still holds back.
func (z *dimensionZip) finish() error {
	d := z.open
	z.open = nil
	if d == nil || d.done {
		return nil
	}
	d.done = true
	_, err := d.w.Write(d.head)
	return err
}

// dimension is the range the rows written cover: "A1" for an empty sheet.
func (t *xlsxWriter) dimension() string {
	if t.n == 0 || t.cols == 0 {
		return "A1"
	}
	last, _ := excelize.CoordinatesToCellName(t.cols, t.n)
	return "A1:" + last
}

// dimensionWriter holds back the head of a worksheet's XML until the
// start of its rows, puts ref into its <dimension> element, and passes
// the rest through as it comes.
type dimensionWriter struct {
	w    io.Writer
	ref  string
	head []byte
	done bool
}

// maxSheetHead bounds what is held back: the elements before the rows
// (namespaces, views, columns) are a few kilobytes.
const maxSheetHead = 1 << 20

func (d *dimensionWriter) Write(p []byte) (int, error) {
	if d.done {
		return d.w.Write(p)
	}
	d.head = append(d.head, p...)
	end := bytes.Index(d.head, []byte("<sheetData"))
	if end < 0 && len(d.head) < maxSheetHead {
		return len(p), nil
	}
	if end < 0 {
		end = len(d.head)
	}
	d.done = true
	head := d.head
	if i := bytes.Index(head[:end], []byte(`<dimension ref="`)); i >= 0 {
		i += len(`<dimension ref="`)
		if j := bytes.IndexByte(head[i:end], '"'); j >= 0 {
			head = append(append(append([]byte(nil), head[:i]...), d.ref...), head[i+j:]...)
		}
	}
	d.head = nil
	if _, err := d.w.Write(head); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (t *xlsxWriter) Row(cells []string) error {
	t.vals = t.vals[:0]
	for _, c := range cells {
		t.vals = append(t.vals, xlsxText(c))
	}
	return t.write(t.vals)
}

func (t *xlsxWriter) Typed(cells []any) error {
	t.vals = t.vals[:0]
	for _, c := range cells {
		switch c := c.(type) {
		case string:
			t.vals = append(t.vals, xlsxText(c))
		case int, int64, float64, nil:
			t.vals = append(t.vals, c)
		case Date:
			v, err := t.dateCell(c)
			if err != nil {
				return err
			}
			t.vals = append(t.vals, v)
		case time.Time:
			if c.IsZero() {
				t.vals = append(t.vals, nil)
				continue
			}
			style, err := t.style(&t.dateTime, xlsxDateTime)
			if err != nil {
				return err
			}
			t.vals = append(t.vals, excelize.Cell{StyleID: style, Value: c})
		default:
			return fmt.Errorf("sheet: cell of type %T", c)
		}
	}
	return t.write(t.vals)
}

// dateCell is a day as a date cell; a value that is no day stays text
// rather than failing the whole export.
func (t *xlsxWriter) dateCell(d Date) (any, error) {
	day, err := time.Parse(time.DateOnly, string(d))
	if err != nil {
		return xlsxText(string(d)), nil
	}
	style, err := t.style(&t.date, xlsxDate)
	if err != nil {
		return nil, err
	}
	return excelize.Cell{StyleID: style, Value: day}, nil
}

func (t *xlsxWriter) style(id *int, format string) (int, error) {
	if *id == 0 {
		s, err := t.f.NewStyle(&excelize.Style{CustomNumFmt: &format})
		if err != nil {
			return 0, err
		}
		*id = s
	}
	return *id, nil
}

// xlsxText is a text cell's value: an empty one is left out (a blank
// cell, as a reader expects, rather than a string of nothing).
func xlsxText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (t *xlsxWriter) write(vals []any) error {
	if t.n == 0 && t.lay.Title != "" {
		return t.writeTitled(vals)
	}
	t.n++
	t.cols = max(t.cols, len(vals))
	cell, _ := excelize.CoordinatesToCellName(1, t.n)
	if t.n > 1 {
		return t.sw.SetRow(cell, vals)
	}
	if err := t.widths(vals); err != nil {
		return err
	}
	if err := t.sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}}}); err != nil {
		return err
	}
	return t.sw.SetRow(cell, vals, excelize.RowOpts{StyleID: t.header})
}

// writeTitled writes the title row, merged across the header's columns,
// and the header below it; both stay in view (frozen).
func (t *xlsxWriter) writeTitled(header []any) error {
	if err := t.widths(header); err != nil {
		return err
	}
	if err := t.sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 2, TopLeftCell: "A3", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A3", ActiveCell: "A3", Pane: "bottomLeft"}}}); err != nil {
		return err
	}
	if err := t.sw.SetRow("A1", []any{t.lay.Title}, excelize.RowOpts{StyleID: t.title, Height: 24}); err != nil {
		return err
	}
	if len(header) > 1 {
		last, _ := excelize.CoordinatesToCellName(len(header), 1)
		if err := t.sw.MergeCell("A1", last); err != nil {
			return err
		}
	}
	t.n = 2
	t.cols = max(t.cols, len(header), 1)
	return t.sw.SetRow("A2", header, excelize.RowOpts{StyleID: t.header})
}

// widths sets the columns' widths from the header's titles and the
// layout; they must be set before any row is written.
func (t *xlsxWriter) widths(vals []any) error {
	// Widths are set from the last column to the first: excelize puts
	// each before those set already, and readers want them in order.
	for i := len(vals) - 1; i >= 0; i-- {
		v, w := vals[i], 0.0
		if i < len(t.lay.Widths) {
			w = t.lay.Widths[i]
		}
		if s, ok := v.(string); ok {
			w = max(w, textWidth(s)+2)
		}
		if w > 0 {
			if err := t.sw.SetColWidth(i+1, i+1, min(w, 80)); err != nil {
				return err
			}
		}
	}
	return nil
}

// textWidth is how many character widths s takes in a spreadsheet: two
// for a Chinese character or a full-width sign, one for the rest.
func textWidth(s string) float64 {
	w := 0.0
	for _, r := range s {
		if r >= 0x2E80 {
			w += 2
		} else {
			w++
		}
	}
	return w
}

func (t *xlsxWriter) Close() error {
	if err := t.sw.Flush(); err != nil {
		return errors.Join(err, t.f.Close())
	}
	_, err := t.f.WriteTo(t.out)
	return errors.Join(err, t.f.Close())
}
