package pii

import (
	"strings"
	"unicode/utf8"
)

// MaskPhone hides the middle of a normalised phone number for lists and
// exports: a mobile keeps its first 3 and last 4 digits (138****5678), the
// usual Chinese convention; a landline keeps its area code and the last 3
// digits of the subscriber number (0773-****234) and drops the extension,
// which without the number is useless and with it only adds detail.
//
// It never panics. Input that is not a normalised number is masked more
// conservatively: under 7 characters entirely, otherwise at most half of
// the characters stay visible. Every hidden character becomes one *.
func MaskPhone(s string) string {
	if isDigits(s) && len(s) == 11 {
		return s[:3] + "****" + s[7:]
	}
	if area, sub, ok := landlineParts(s); ok {
		var b strings.Builder
		b.Grow(len(area) + 1 + len(sub))
		b.WriteString(area)
		b.WriteByte('-')
		b.WriteString(stars[:len(sub)-3])
		b.WriteString(sub[len(sub)-3:])
		return b.String()
	}
	n := utf8.RuneCountInString(s)
	if n < 7 {
		return maskRunes(s, n, 0, 0)
	}
	show := n / 2
	tail := min(4, show)
	return maskRunes(s, n, min(3, show-tail), tail)
}

// MaskID keeps the first 4 characters (province and city) and the last 4
// (sequence and check digit) of an ID number: 4503**********1234. The
// birth date in between is what makes an ID number identifying, so it is
// always hidden. Input shorter than 18 characters is not an ID number and
// is masked entirely, so a mangled value cannot leak most of itself. It
// never panics, and the result has as many characters (runes) as the input.
func MaskID(s string) string {
	n := utf8.RuneCountInString(s)
	if n < 18 {
		return maskRunes(s, n, 0, 0)
	}
	return maskRunes(s, n, 4, 4)
}

// stars is sliced rather than built with strings.Repeat for the usual
// short masks.
const stars = "**********"

// maskRunes keeps the first head and last tail runes of s (n runes long)
// and replaces the others with one * each. Invalid UTF-8 bytes count as
// one rune each, as utf8.RuneCountInString counts them.
func maskRunes(s string, n, head, tail int) string {
	if head+tail >= n {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	i := 0
	for k := 0; k < n; k++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		if k < head || k >= n-tail {
			b.WriteString(s[i : i+size])
		} else {
			b.WriteByte('*')
		}
		i += size
	}
	return b.String()
}

// landlineParts splits a normalised landline, 0AA(A)-SSSSSSS(S)[-EEE],
// into area code and subscriber number.
func landlineParts(s string) (area, sub string, ok bool) {
	area, rest, ok := strings.Cut(s, "-")
	if !ok || len(area) < 3 || len(area) > 4 || area[0] != '0' || !isDigits(area) {
		return "", "", false
	}
	sub, ext, hasExt := strings.Cut(rest, "-")
	if len(sub) < 7 || len(sub) > 8 || !isDigits(sub) {
		return "", "", false
	}
	if hasExt && (len(ext) < 1 || len(ext) > 6 || !isDigits(ext)) {
		return "", "", false
	}
	return area, sub, true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
