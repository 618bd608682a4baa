package sheet

import (
	"bytes"
	"encoding/csv"
	"testing"
)

// formulaValues are values a roster may hold that a spreadsheet would run
// as formulas if written raw into a CSV cell.
var formulaValues = []string{
	"=1+2", "+86 138 0013 8000", "-5", "@x", "=HYPERLINK(\"http://x\",\"点我\")", "@SUM(A1:A9)",
	"+8613800001234", "-", "=", "'=already quoted", "'abc", "plain", "",
}

func TestEscapeFormula(t *testing.T) {
	for _, v := range formulaValues {
		e := EscapeFormula(v)
		if e != "" && isFormulaLead(e[0]) {
			t.Errorf("EscapeFormula(%q) = %q: still starts with %q", v, e, e[0])
		}
		if got := unescapeFormula(e); got != v && v != "'=already quoted" {
			t.Errorf("unescapeFormula(EscapeFormula(%q)) = %q", v, got)
		}
	}
	for in, want := range map[string]string{
		"'=1+2": "=1+2", "'-5": "-5", "'@x": "@x", "'+86": "+86",
		"'\t=1": "=1", "'\r@x": "@x", // the uncovered tab or CR is trimmed like any cell's space
		"''=1": "''=1", "'abc": "'abc", "'": "'", "=1": "=1", "": "",
	} {
		if got := unescapeFormula(in); got != want {
			t.Errorf("unescapeFormula(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFormulaRoundTrip: values written with EscapeFormula into a CSV, or
// as they are into XLSX string cells (and the CSV's apostrophes kept by a
// spreadsheet program that saved it as XLSX), read back unchanged.
func TestFormulaRoundTrip(t *testing.T) {
	fields := []Field{{Name: "name", Aliases: []string{"姓名"}, Required: true}, {Name: "phone", Aliases: []string{"手机号"}}}
	var values []string
	for _, v := range formulaValues {
		if v != "" && v != "'=already quoted" {
			values = append(values, v)
		}
	}

	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"姓名", "手机号"})
	for _, v := range values {
		_ = w.Write([]string{EscapeFormula(v), EscapeFormula(v)})
	}
	w.Flush()
	escapedRows := [][]any{{"姓名", "手机号"}}
	plainRows := [][]any{{"姓名", "手机号"}}
	for _, v := range values {
		escapedRows = append(escapedRows, []any{EscapeFormula(v), EscapeFormula(v)})
		plainRows = append(plainRows, []any{v, v})
	}
	for name, data := range map[string][]byte{
		"csv":                       buf.Bytes(),
		"xlsx with apostrophes":     buildXLSX(t, []string{"Sheet1"}, map[string][][]any{"Sheet1": escapedRows}, nil),
		"xlsx written as it should": buildXLSX(t, []string{"Sheet1"}, map[string][][]any{"Sheet1": plainRows}, nil),
	} {
		t.Run(name, func(t *testing.T) {
			g, err := readUpload(t, data, fields, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if len(g.Rows) != len(values) {
				t.Fatalf("got %s", show(g))
			}
			for i, r := range g.Rows {
				if r.Values[0] != values[i] || r.Values[1] != values[i] {
					t.Errorf("row %d = %q, want %q twice", r.Line, r.Values, values[i])
				}
			}
		})
	}
}
