package sheet

import (
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/width"
)

// normalize folds a header title for matching: full-width forms to ASCII
// (Chinese input methods produce "ＩＤ", "（", "："), lower case, and drops
// spaces, zero-width characters and the decoration templates add to titles:
// "()（）" around remarks, "*" marking a required column, a trailing colon.
func normalize(s string) string {
	s = width.Fold.String(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if unicode.IsSpace(r) || ignoredInTitle(r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

func ignoredInTitle(r rune) bool {
	switch r {
	case '(', ')', '（', '）', '*', ':', '：',
		'\uFEFF', '\u200B', '\u200C', '\u200D': // BOM left in a cell, zero-width spaces
		return true
	}
	return false
}

// stripRemarks removes parenthesised remarks, so "身份证号（选填）" and
// "手机号(必填)" still match the alias "身份证号"/"手机号" when no alias
// spells the remark out. An unclosed "(" drops the rest of the title.
func stripRemarks(s string) string {
	s = width.Fold.String(s) // （） → ()
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '(':
			depth++
		case r == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// matcher maps normalised titles to field indexes.
type matcher struct {
	fields []Field
	index  map[string]int
}

// newMatcher indexes each field's Name and Aliases. Two fields claiming the
// same normalised title is a programming error in the caller's field list,
// reported as a plain error rather than silently picking one.
func newMatcher(fields []Field) (*matcher, error) {
	m := &matcher{fields: fields, index: make(map[string]int)}
	for i, f := range fields {
		for _, a := range append([]string{f.Name}, f.Aliases...) {
			k := normalize(a)
			if k == "" {
				continue
			}
			if j, dup := m.index[k]; dup && j != i {
				return nil, fmt.Errorf("sheet: alias %q of field %q is also an alias of field %q", a, f.Name, fields[j].Name)
			}
			m.index[k] = i
		}
	}
	return m, nil
}

// match returns the field a header title means, or -1. The title as
// written wins over the title without its remarks, so an alias that
// spells a remark out ("电话(家)") can still be told from another.
func (m *matcher) match(title string) int {
	k := normalize(title)
	if k == "" {
		return -1
	}
	if i, ok := m.index[k]; ok {
		return i
	}
	if s := normalize(stripRemarks(title)); s != "" && s != k {
		if i, ok := m.index[s]; ok {
			return i
		}
	}
	return m.matchBilingual(title)
}

// matchBilingual reads a title that names one field in two languages, as
// wanjia's own exports write them: "姓名 name", "姓名/name", "name 姓名".
// Every part must name the same field.
func (m *matcher) matchBilingual(title string) int {
	parts := strings.FieldsFunc(width.Fold.String(title), func(r rune) bool { return unicode.IsSpace(r) || r == '/' })
	if len(parts) < 2 {
		return -1
	}
	field := -1
	for _, p := range parts {
		i, ok := m.index[normalize(p)]
		if !ok || (field >= 0 && i != field) {
			return -1
		}
		field = i
	}
	return field
}

func (m *matcher) matchesAny(cells []string) bool {
	for _, c := range cells {
		if m.match(c) >= 0 {
			return true
		}
	}
	return false
}

// label names a field in a message: its first two aliases ("姓名/name"),
// which gives the user the Chinese title and integrators the English one.
func label(f Field) string {
	switch len(f.Aliases) {
	case 0:
		return f.Name
	case 1:
		return f.Aliases[0]
	default:
		return f.Aliases[0] + "/" + f.Aliases[1]
	}
}

// header is the outcome of mapping a header row.
type header struct {
	columns  []string // titles as written (trimmed), trailing empty ones dropped
	colField []int    // per column: field index or -1
	unknown  []string
}

// mapHeader maps titles to fields, rejecting a field claimed twice and
// required fields left without a column.
func (m *matcher) mapHeader(titles []string) (*header, error) {
	n := len(titles)
	for n > 0 && titles[n-1] == "" {
		n-- // Excel pads rows to the widest one; those are not columns
	}
	h := &header{columns: append([]string(nil), titles[:n]...), colField: make([]int, n)}
	byField := make([]int, len(m.fields))
	for i := range byField {
		byField[i] = -1
	}
	for col, t := range h.columns {
		f := m.match(t)
		h.colField[col] = f
		if f < 0 {
			if t != "" {
				h.unknown = append(h.unknown, t)
			}
			continue
		}
		if prev := byField[f]; prev >= 0 {
			return h, newError(keyDuplicateColumn, map[string]any{
				"column":  label(m.fields[f]),
				"headers": h.columns[prev] + ", " + t,
			})
		}
		byField[f] = col
	}
	var missing []string
	for i, f := range m.fields {
		if f.Required && byField[i] < 0 {
			missing = append(missing, label(f))
		}
	}
	if len(missing) > 0 {
		return h, newError(keyMissingColumns, map[string]any{"columns": strings.Join(missing, ", ")})
	}
	return h, nil
}

// noColumns is the error for a file in which no row looks like a header:
// the required fields, or every field when none is required, since a
// file that matches nothing imports nothing.
func (m *matcher) noColumns() *Error {
	var want []string
	for _, f := range m.fields {
		if f.Required {
			want = append(want, label(f))
		}
	}
	if len(want) == 0 {
		for _, f := range m.fields {
			want = append(want, label(f))
		}
	}
	return newError(keyMissingColumns, map[string]any{"columns": strings.Join(want, ", ")})
}
