package audit

import (
	"strings"
	"unicode/utf8"

	"github.com/wanjia/wanjia/pkg/pii"
)

// Personal data never rests in an entry's details in clear. The log is
// read by the community's admins and by the officials above it, who see
// phones and ID numbers masked everywhere else; a staff search by phone,
// a file name with a number in it, or a field added tomorrow must not hand
// them what masking hides. So every string of every entry's details is
// masked on the way in (newEntry, for Record and Reads alike) and again on
// the way out (List, for rows written before this rule): masked always,
// for every reader, since the least entitled reader of a community's log
// (a sub-district official) sees masks. An entry names the records read by
// id; a reader who may see more opens the record, and that read is
// audited in turn.
//
// The rule is about digits, not about field names, so a new field is
// covered without a line of code: a run of five or more digits is what a
// phone, an ID number or a useful piece of either looks like, and shorter
// runs (dates, times, counts, the last four digits a mask shows anyway)
// stay as they are. UUIDs (the ids of the records read) are left whole.

// MaskText masks every run of five or more digits (ASCII or full-width; an
// ID number's final X counts) in s as the least entitled reader would see
// it: an ID number keeps its first and last four characters
// (4503**********002X), a mobile number its first three and last four
// (138****8000), any other run its last four (*****8000). Groups of digits
// split by single spaces or dashes that make eleven digits or more (a
// phone or an ID number as people write them, 138 0013 8000) are masked as
// one number; shorter groups (2026-11-28) run by run. Applying it twice
// changes nothing more.
func MaskText(s string) string {
	if isUUID(s) || !hasLongRun(s) && !hasLongGroup(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if _, ok := digit(r); !ok {
			b.WriteString(s[i : i+size])
			i += size
			continue
		}
		j, digits := group(s, i)
		if len(digits) >= 11 {
			b.WriteString(maskRun(string(digits)))
		} else {
			maskRuns(&b, s[i:j])
		}
		i = j
	}
	return b.String()
}

// group is the group of digits that begins at s[i]: runs of digits joined
// by single spaces or dashes, with an ID number's final X. It returns
// where the group ends and its digits as ASCII.
func group(s string, i int) (int, []byte) {
	digits := make([]byte, 0, 18)
	j := i
	for j < len(s) {
		r, size := utf8.DecodeRuneInString(s[j:])
		if d, ok := digit(r); ok {
			digits = append(digits, d)
			j += size
			continue
		}
		if isJoiner(r) && j+size < len(s) {
			if next, _ := utf8.DecodeRuneInString(s[j+size:]); isDigitRune(next) {
				j += size
				continue
			}
		}
		break
	}
	if len(digits) >= 14 && j < len(s) {
		if r, size := utf8.DecodeRuneInString(s[j:]); r == 'X' || r == 'x' || r == 'Ｘ' || r == 'ｘ' {
			digits = append(digits, 'X')
			j += size
		}
	}
	return j, digits
}

// maskRuns writes g (a group of fewer than eleven digits) with each run of
// minRun digits or more masked and the rest as it is.
func maskRuns(b *strings.Builder, g string) {
	for i := 0; i < len(g); {
		r, size := utf8.DecodeRuneInString(g[i:])
		if !isDigitRune(r) {
			b.WriteString(g[i : i+size])
			i += size
			continue
		}
		run := make([]byte, 0, 10)
		j := i
		for j < len(g) {
			r, size := utf8.DecodeRuneInString(g[j:])
			d, ok := digit(r)
			if !ok {
				break
			}
			run = append(run, d)
			j += size
		}
		if len(run) < minRun {
			b.WriteString(g[i:j])
		} else {
			b.WriteString(maskRun(string(run)))
		}
		i = j
	}
}

// MaskSearch is MaskText for a search term as typed: the spaces, dashes,
// dots and brackets people put between a number's digits are dropped
// first, so "138 0013 8000" is masked as the phone it is, not as three
// short runs.
func MaskSearch(q string) string {
	rs := []rune(q)
	out := make([]rune, 0, len(rs))
	for i := 0; i < len(rs); i++ {
		if isSeparator(rs[i]) && len(out) > 0 {
			if _, ok := digit(out[len(out)-1]); ok {
				j := i
				for j < len(rs) && isSeparator(rs[j]) {
					j++
				}
				if j < len(rs) {
					if _, ok := digit(rs[j]); ok {
						i = j - 1 // skip the separators between two digits
						continue
					}
				}
			}
		}
		out = append(out, rs[i])
	}
	return MaskText(string(out))
}

// minRun is the shortest run of digits MaskText masks.
const minRun = 5

// searchKeys are the details that hold a search as typed.
var searchKeys = map[string]bool{"q": true}

// maskDetails is d with every string masked (MaskSearch for a search,
// MaskText for the rest), at any depth; d itself is not changed.
func maskDetails(d map[string]any) map[string]any {
	if d == nil {
		return nil
	}
	out := make(map[string]any, len(d))
	for k, v := range d {
		out[k] = maskValue(searchKeys[k], v)
	}
	return out
}

func maskValue(search bool, v any) any {
	switch x := v.(type) {
	case string:
		if search {
			return MaskSearch(x)
		}
		return MaskText(x)
	case []string:
		var out []string // copied only when an element changes
		for i, s := range x {
			m := MaskText(s)
			if search {
				m = MaskSearch(s)
			}
			if m != s && out == nil {
				out = append(make([]string, 0, len(x)), x[:i]...)
			}
			if out != nil {
				out = append(out, m)
			}
		}
		if out == nil {
			return x
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = maskValue(search, e)
		}
		return out
	case map[string]any:
		return maskDetails(x)
	}
	return v
}

// maskRun masks one run of ASCII digits (with an ID number's X).
func maskRun(run string) string {
	switch n := len(run); {
	case n >= 15:
		return pii.MaskID(run)
	case n == 11:
		return pii.MaskPhone(run)
	default:
		return strings.Repeat("*", n-4) + run[n-4:]
	}
}

// digit is r as an ASCII digit, for ASCII and full-width digits.
func digit(r rune) (byte, bool) {
	switch {
	case r >= '0' && r <= '9':
		return byte(r), true
	case r >= '０' && r <= '９':
		return byte(r-'０') + '0', true
	}
	return 0, false
}

func isSeparator(r rune) bool {
	switch r {
	case ' ', '-', '.', '(', ')', '\u3000', '－', '（', '）', '\t':
		return true
	}
	return false
}

func isDigitRune(r rune) bool {
	_, ok := digit(r)
	return ok
}

// isJoiner is what may stand between the digits of one number as people
// write it, within a detail (a search drops more: isSeparator).
func isJoiner(r rune) bool {
	return r == ' ' || r == '-' || r == '\u3000' || r == '－'
}

// hasLongGroup reports whether s has eleven digits joined by spaces or
// dashes.
func hasLongGroup(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !isDigitRune(r) {
			i += size
			continue
		}
		j, digits := group(s, i)
		if len(digits) >= 11 {
			return true
		}
		i = j
	}
	return false
}

// hasLongRun reports whether s has a run of minRun digits: most strings
// (ids, slugs, dates, names) have none and are returned as they are.
func hasLongRun(s string) bool {
	n := 0
	for _, r := range s {
		if _, ok := digit(r); ok {
			if n++; n >= minRun {
				return true
			}
		} else {
			n = 0
		}
	}
	return false
}

// isUUID reports whether s is a UUID in its canonical form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}
