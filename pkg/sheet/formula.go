package sheet

import "strings"

// A spreadsheet program opening a CSV file runs a cell that starts with
// =, +, - or @ as a formula (and, after a tab or carriage return, still
// may): a resident named "=HYPERLINK(...)" or "@SUM(...)" in an export is
// code run on the office's computer (CSV injection). OWASP's remedy is to
// write such a cell with a leading apostrophe, which spreadsheets show as
// text. The importer drops exactly that apostrophe again, so an exported
// file imports back unchanged.

// isFormulaLead reports a first byte that makes a CSV cell a formula.
func isFormulaLead(c byte) bool {
	switch c {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}

// EscapeFormula neutralises a value for a CSV cell: one that starts with
// =, +, -, @, a tab or a carriage return gets a leading apostrophe. Every
// reader of this package undoes it. XLSX cells need none: a value written
// as a string cell is never run as a formula.
func EscapeFormula(s string) string {
	if s != "" && isFormulaLead(s[0]) {
		return "'" + s
	}
	return s
}

// unescapeFormula drops the apostrophe EscapeFormula adds: exactly one,
// and only before a character that needs it, so `'abc` and two
// apostrophes before "=" keep theirs. (A value that itself starts with an
// apostrophe and then "=" therefore loses that apostrophe on a round
// trip; no roster value looks like that.) A tab or carriage return it
// uncovers is trimmed, as every cell's surrounding space is.
func unescapeFormula(s string) string {
	if len(s) < 2 || s[0] != '\'' || !isFormulaLead(s[1]) {
		return s
	}
	if s[1] == '\t' || s[1] == '\r' {
		return strings.TrimSpace(s[1:])
	}
	return s[1:]
}
