package sheet

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Error is a problem with the whole upload: reading cannot go on. Key is an
// i18n message key (registered in messages.go) and Args its placeholders, so
// the API layer renders it in the user's language; Args values are strings
// and ints so they survive a JSON round trip when stored with an import.
type Error struct {
	Key  string
	Args map[string]any
}

func (e *Error) Error() string { return "sheet: " + e.Key + formatArgs(e.Args) }

// Is matches any *Error with the same Key, so errors.Is(err, ErrMissingColumns)
// works although each returned error carries its own Args. A few keys are
// refinements of another (a legacy .xls is a kind of "not a spreadsheet"), so
// a caller that only knows the broad sentinel still recognises them.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && (t.Key == e.Key || parentKey[e.Key] == t.Key)
}

// RowError is a problem with one row (a CSV record with bad quoting, a cell
// over the length limit, undecodable bytes). The row is skipped and the
// Reader stays usable: the caller decides whether to record the error and
// call Next again, or to stop. Line is the row as Excel numbers it. Key and
// Args are as for Error; Args also holds "line".
type RowError struct {
	Line int
	Key  string
	Args map[string]any
}

func (e *RowError) Error() string {
	return fmt.Sprintf("sheet: row %d: %s%s", e.Line, e.Key, formatArgs(e.Args))
}

// Is matches a *RowError or *Error with the same Key (or its parent key), so
// errors.Is(err, ErrBadQuote) works whatever the Line.
func (e *RowError) Is(target error) bool {
	var key string
	switch t := target.(type) {
	case *RowError:
		key = t.Key
	case *Error:
		key = t.Key
	default:
		return false
	}
	return key == e.Key || parentKey[e.Key] == key
}

// The i18n keys. They are all prefixed "sheet_" so that they cannot collide
// with another package's keys in the shared registry.
const (
	keyEmpty           = "sheet_empty"
	keyNotSpreadsheet  = "sheet_not_spreadsheet"
	keyLegacyXLS       = "sheet_legacy_xls"
	keyCorrupt         = "sheet_corrupt"
	keyTooLarge        = "sheet_too_large"
	keyTooManyRows     = "sheet_too_many_rows"
	keyMissingColumns  = "sheet_missing_columns"
	keyBadEncoding     = "sheet_bad_encoding"
	keyDuplicateColumn = "sheet_duplicate_column"
	keyRowBadQuote     = "sheet_row_bad_quote"
	keyRowCellTooLong  = "sheet_row_cell_too_long"
	keyRowBadEncoding  = "sheet_row_bad_encoding"

	keyUnpackedTooLarge = "sheet_unpacked_too_large"
	keyCellTooLarge     = "sheet_cell_too_large"
	keyRowTooLarge      = "sheet_row_too_large"
	keyTooManyStrings   = "sheet_too_many_strings"
)

// parentKey lists keys that are a more precise case of another key.
var parentKey = map[string]string{
	keyLegacyXLS:        keyNotSpreadsheet,
	keyRowBadEncoding:   keyBadEncoding,
	keyUnpackedTooLarge: keyTooLarge,
}

// Sentinels for errors.Is. Returned errors are fresh values with Args; never
// modify these.
var (
	// ErrEmpty: no non-empty row at all, or a header and no data row.
	ErrEmpty = &Error{Key: keyEmpty}
	// ErrNotSpreadsheet: neither CSV text nor XLSX (a PDF, an image, a
	// Word file, a zip that holds no workbook...). Args["detected"] names
	// what it looks like, for logs.
	ErrNotSpreadsheet = &Error{Key: keyNotSpreadsheet}
	// ErrLegacyXLS: an OLE2 compound file, i.e. an Excel 97-2003 .xls or a
	// password-protected workbook. errors.Is(err, ErrNotSpreadsheet) is
	// also true; its own key lets the message say "save as .xlsx or CSV".
	ErrLegacyXLS = &Error{Key: keyLegacyXLS}
	// ErrCorrupt: it is an XLSX but cannot be read (truncated, damaged).
	ErrCorrupt = &Error{Key: keyCorrupt}
	// ErrTooLarge: more than Limits.MaxBytes, or an XLSX whose unpacked
	// size is out of proportion (a zip bomb). Args["max"] is the limit.
	ErrTooLarge = &Error{Key: keyTooLarge}
	// ErrTooManyRows: more than Limits.MaxRows data rows. Returned by Next
	// after MaxRows rows were returned; Args["max"] is the limit.
	ErrTooManyRows = &Error{Key: keyTooManyRows}
	// ErrMissingColumns: required fields have no column. Args["columns"]
	// lists them as "姓名/name, 身份证号/id_number".
	ErrMissingColumns = &Error{Key: keyMissingColumns}
	// ErrBadEncoding: the text is neither UTF-8 nor GB18030 (GBK).
	ErrBadEncoding = &Error{Key: keyBadEncoding}
	// ErrDuplicateColumn: two header columns mean the same field.
	// Args["column"] names the field, Args["headers"] the two titles.
	ErrDuplicateColumn = &Error{Key: keyDuplicateColumn}

	// ErrUnpackedTooLarge: an XLSX whose worksheet or shared-string table
	// unpacks to more than MaxSheetXMLBytes or MaxSharedStringsBytes, or
	// another XML part to more than its own limit, whatever the size of
	// the upload. errors.Is(err, ErrTooLarge) is also true. Args["max"].
	ErrUnpackedTooLarge = &Error{Key: keyUnpackedTooLarge}
	// ErrCellTooLarge: an XLSX with a cell or shared string of more than
	// MaxCellBytes of XML, or a longer run of text anywhere in its XML.
	// The file is refused whole: such a cell is no typing mistake, and
	// reading on would mean holding it. Args["max"], and Args["line"] when
	// the cell is in a worksheet row.
	ErrCellTooLarge = &Error{Key: keyCellTooLarge}
	// ErrRowTooLarge: an XLSX row of more than MaxRowBytes of XML.
	// Args["max"] and Args["line"].
	ErrRowTooLarge = &Error{Key: keyRowTooLarge}
	// ErrTooManyStrings: an XLSX shared-string table of more than
	// MaxSharedStrings entries. Args["max"].
	ErrTooManyStrings = &Error{Key: keyTooManyStrings}

	// ErrBadQuote (a RowError): a CSV record whose quotes do not pair up.
	ErrBadQuote = &RowError{Key: keyRowBadQuote}
	// ErrCellTooLong (a RowError): a mapped cell over Limits.MaxCellRunes.
	// Args["column"] is the header title, Args["max"] the limit.
	ErrCellTooLong = &RowError{Key: keyRowCellTooLong}
	// ErrRowBadEncoding (a RowError): bytes in this row that do not decode
	// in the encoding detected for the file. errors.Is(err,
	// ErrBadEncoding) is also true.
	ErrRowBadEncoding = &RowError{Key: keyRowBadEncoding}
)

func newError(key string, args map[string]any) *Error { return &Error{Key: key, Args: args} }

func newRowError(line int, key string, args map[string]any) *RowError {
	if args == nil {
		args = map[string]any{}
	}
	args["line"] = line
	return &RowError{Line: line, Key: key, Args: args}
}

// isRowError reports whether err lets reading go on.
func isRowError(err error) bool {
	var re *RowError
	return errors.As(err, &re)
}

// formatArgs renders Args sorted, for deterministic log lines and tests.
func formatArgs(args map[string]any) string {
	if len(args) == 0 {
		return ""
	}
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(" (")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%v", k, args[k])
	}
	b.WriteString(")")
	return b.String()
}

// sizeText renders a byte limit for a message: "32 MB" reads better than
// 33554432 to a community worker, and MB is what their file manager shows.
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	default:
		return fmt.Sprintf("%d B", n)
	}
}
