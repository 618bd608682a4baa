package pii

import (
	"unicode"
	"unicode/utf8"
)

// PhoneKind tells a mobile from a landline number.
type PhoneKind int

// The kinds start at 1 so that a zero Phone does not claim to be a mobile.
const (
	PhoneMobile PhoneKind = iota + 1
	PhoneLandline
)

// String is for logs and test failures.
func (k PhoneKind) String() string {
	switch k {
	case PhoneMobile:
		return "mobile"
	case PhoneLandline:
		return "landline"
	}
	return "unknown"
}

// Phone is a parsed mainland Chinese phone number.
type Phone struct {
	// Number is the normalised form: 11 digits for a mobile
	// ("13812345678"); area code, subscriber number and optional extension
	// joined by hyphens for a landline ("0773-2851234", "010-62345678-801").
	// It is what we store, compare for duplicates and show.
	Number string
	Kind   PhoneKind
}

// NormalizePhone is ParsePhone for callers that only store the number.
func NormalizePhone(s string) (string, error) {
	p, err := ParsePhone(s)
	return p.Number, err
}

// maxDigits bounds the work on hostile input. The longest number we accept
// is 0086 + 4-digit area code + 8-digit subscriber + 6-digit extension = 22
// digits.
const maxDigits = 24

// tokens is a phone number as typed, reduced to its digits and the places
// where the writer separated them: separators are how people show where the
// area code ends or the extension starts, so they are evidence we keep
// rather than strip blindly.
type tokens struct {
	d    [maxDigits]byte // the digits, ASCII
	n    int             // len(d) in use
	gs   [maxDigits]uint8
	gh   [maxDigits]bool // gh[i]: the separator before group i had a hyphen
	ng   int             // digit groups: group i starts at d[gs[i]]
	ext  int             // the group after an explicit extension marker, or -1
	plus bool            // a leading "+"
}

// ParsePhone validates and normalises a mainland mobile number or a landline
// number with its area code. It accepts what people type into forms and
// spreadsheets: spaces, hyphens, dots and parentheses as separators,
// full-width characters, the +86, 0086 and (before a mobile) 86 prefixes, a
// trunk 0 before a mobile, and a landline extension after 转, 分机, ext, x, #
// or a hyphen.
//
// A landline without an area code is rejected: the platform serves many
// cities, so "2851234" alone does not say which one.
func ParsePhone(s string) (Phone, error) {
	var t tokens
	if err := t.scan(s); err != nil {
		return Phone{}, err
	}

	// The digits before an explicit extension marker form the number.
	mainEnd := t.n
	if t.ext >= 0 {
		mainEnd = int(t.gs[t.ext])
	}

	// Strip the country code. A bare "86" is taken as one only before a
	// mobile number: before anything else it could as well be the start of
	// a local number, and guessing would store a wrong number silently.
	off, intl := 0, false
	switch {
	case t.plus:
		if !t.hasPrefix("86", mainEnd) {
			return Phone{}, ErrPhoneFormat // the platform only serves the mainland
		}
		off, intl = 2, true
	case t.hasPrefix("0086", mainEnd):
		off, intl = 4, true
	case mainEnd == 13 && t.hasPrefix("861", mainEnd):
		off, intl = 2, true
	}

	// Copy the national number into nd, putting back the trunk 0 that the
	// international form drops from area codes ("+86 773" is "0773", and
	// "+86 10" is Beijing, not a mobile). The group boundaries move with it.
	var nd [maxDigits + 1]byte
	var nb [maxDigits]int
	var nh [maxDigits]bool
	L, nn := 0, 0
	if intl && off < mainEnd && t.d[off] != '0' && !t.mobileLead(off, mainEnd) {
		nd[0] = '0'
		L = 1
	}
	shift := L - off
	L += copy(nd[L:], t.d[off:mainEnd])
	for g := 0; g < t.ng && (t.ext < 0 || g < t.ext); g++ {
		// A boundary inside or right after the country code says nothing
		// about the national number.
		if start := int(t.gs[g]); start > off {
			nb[nn], nh[nn] = start+shift, t.gh[g]
			nn++
		}
	}
	if L == 0 {
		return Phone{}, ErrPhoneFormat // a country code and nothing else
	}
	nat := nd[:L]

	switch nat[0] {
	case '1':
		return mobile(s, nat, t.ext >= 0)
	case '0':
		if L >= 2 && nat[1] == '0' {
			return Phone{}, ErrPhoneFormat // another country's international prefix
		}
		if L >= 3 && nat[1] == '1' && nat[2] >= '3' {
			// The trunk prefix people used to dial before a mobile from
			// another city: 0 is not part of the number, and 01x other than
			// 010 is no area code, so this is unambiguous.
			return mobile(s, nat[1:], t.ext >= 0)
		}
		return t.landline(s, nat, nb[:nn], nh[:nn])
	default:
		// 2–9: looks like a local number whose area code is missing if it
		// has a subscriber number's length; otherwise it is just wrong.
		first := L
		if nn > 0 {
			first = nb[0]
		}
		if (L >= 7 && L <= 8) || (first >= 7 && first <= 8) || t.ext >= 0 {
			return Phone{}, ErrLandlineFormat
		}
		return Phone{}, ErrPhoneFormat
	}
}

// scan tokenises s; it rejects any character that is neither a digit, a
// separator, a leading + nor an extension marker, because a stray letter or
// a second number in the same cell ("0773-2851234/13812345678") is not
// something to guess about.
func (t *tokens) scan(s string) error {
	t.ext = -1
	seen := false // anything but white space
	inRun, hyphen, marker := false, false, false
	for i := 0; i < len(s); {
		r, size := decode(s, i)
		i += size
		switch {
		case '0' <= r && r <= '9':
			seen = true
			if t.n == maxDigits {
				return ErrPhoneFormat
			}
			if !inRun {
				// t.ng <= t.n < maxDigits, so there is room.
				t.gs[t.ng], t.gh[t.ng] = uint8(t.n), hyphen
				if marker {
					t.ext, marker = t.ng, false
				}
				t.ng++
				inRun, hyphen = true, false
			}
			t.d[t.n] = byte(r)
			t.n++
		case isSpace(r):
			inRun = false
		case isHyphen(r):
			seen, inRun, hyphen = true, false, true
		case r == '.' || r == '(' || r == ')':
			seen, inRun = true, false
		case r == '+':
			if t.n > 0 || t.plus {
				return ErrPhoneFormat
			}
			seen, t.plus = true, true
		default:
			l := markerLen(s, i, r)
			if l < 0 {
				return ErrPhoneFormat
			}
			// A marker needs a number before it and exactly one after.
			if t.n == 0 || t.ext >= 0 || marker {
				return ErrPhoneFormat
			}
			i += l
			seen, inRun, marker = true, false, true
		}
	}
	if marker {
		return ErrPhoneFormat // "0773-2851234转" with no extension
	}
	if t.n == 0 {
		if !seen {
			return ErrPhoneEmpty
		}
		return ErrPhoneFormat
	}
	return nil
}

func (t *tokens) hasPrefix(p string, end int) bool {
	return len(p) <= end && string(t.d[:len(p)]) == p
}

// mobileLead reports whether the national number at off is meant as a
// mobile: after +86 a 1 starts a mobile, except 10, which is Beijing's area
// code without its trunk 0.
func (t *tokens) mobileLead(off, end int) bool {
	return off+1 < end && t.d[off] == '1' && t.d[off+1] != '0'
}

func mobile(s string, m []byte, hasExt bool) (Phone, error) {
	if hasExt || len(m) != 11 || m[1] < '3' {
		return Phone{}, ErrMobileFormat
	}
	return Phone{Number: reuse(s, m), Kind: PhoneMobile}, nil
}

// landline splits nat (national digits starting with 0) into area code,
// subscriber number and extension. nb are the positions in nat where the
// writer put a separator, nh whether that separator had a hyphen.
func (t *tokens) landline(s string, nat []byte, nb []int, nh []bool) (Phone, error) {
	// The area code's length follows from its digits: 010 and 020–029 are
	// the only 3-digit codes (with the 0), all others 03xx–09xx have 4.
	// So we need no separator to find it, and 011–019 are not codes.
	if len(nat) < 3 {
		return Phone{}, ErrLandlineFormat
	}
	al := 4
	switch nat[1] {
	case '1':
		if nat[2] != '0' {
			return Phone{}, ErrLandlineFormat
		}
		al = 3
	case '2':
		al = 3
	}
	if len(nat) < al {
		return Phone{}, ErrLandlineFormat
	}
	// A separator inside the area code means the writer had a different
	// split in mind ("077 32851234"): a digit is likely missing or extra.
	if len(nb) > 0 && nb[0] < al {
		return Phone{}, ErrLandlineFormat
	}
	if len(nb) > 0 && nb[0] == al {
		nb, nh = nb[1:], nh[1:]
	}

	// The subscriber number has 7 or 8 digits and may itself be grouped
	// ("010 6234 5678"): take groups until there are at least 7 digits.
	k := 0
	for k < len(nb) && nb[k]-al < 7 {
		k++
	}
	subEnd := len(nat)
	if k < len(nb) {
		subEnd = nb[k]
	}
	sub := nat[al:subEnd]
	if len(sub) < 7 || len(sub) > 8 || sub[0] == '0' || sub[0] == '1' {
		// Without a separator, digits beyond 8 could be the end of an
		// 8-digit number or an extension; we do not guess.
		return Phone{}, ErrLandlineFormat
	}

	var ext []byte
	switch {
	case t.ext >= 0:
		// After 转/ext/x/#: one group of digits, nothing between the number
		// and the marker.
		if k < len(nb) || t.ext != t.ng-1 {
			return Phone{}, ErrLandlineFormat
		}
		ext = t.d[t.gs[t.ext]:t.n]
	case k < len(nb):
		// One more group, set off by a hyphen, is an extension
		// ("0773-2851234-801"); after a space or a dot it might as well be
		// a second number, so it is rejected.
		if k != len(nb)-1 || !nh[k] {
			return Phone{}, ErrLandlineFormat
		}
		ext = nat[nb[k]:]
	}
	if len(ext) > 6 {
		return Phone{}, ErrLandlineFormat
	}

	var buf [4 + 1 + 8 + 1 + 6]byte
	b := append(buf[:0], nat[:al]...)
	b = append(b, '-')
	b = append(b, sub...)
	if len(ext) > 0 {
		b = append(b, '-')
		b = append(b, ext...)
	}
	return Phone{Number: reuse(s, b), Kind: PhoneLandline}, nil
}

// reuse returns s when it already is the normalised form, saving the
// allocation for the common case of re-validating stored numbers.
func reuse(s string, b []byte) string {
	if s == string(b) { // compiled without allocating
		return s
	}
	return string(b)
}

// decode returns the rune at s[i] folded to ASCII where it is a full-width
// form (Chinese input methods type ０-９, －, （）, ＋, ｘ...) and its size.
func decode(s string, i int) (rune, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	switch {
	case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII block
		r -= 0xFEE0
	case r == 0x3000: // ideographic space
		r = ' '
	}
	return r, size
}

func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\v', '\f':
		return true
	case 0xFEFF, 0x200B: // BOM and zero-width space, left over from CSV and web copies
		return true
	}
	return r >= utf8.RuneSelf && unicode.IsSpace(r) // NBSP from Excel, thin spaces...
}

// isHyphen accepts the dashes word processors substitute for a typed
// hyphen.
func isHyphen(r rune) bool {
	switch r {
	case '-', 0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2212, 0xFE63:
		return true
	}
	return false
}

// markerLen reports whether r (already consumed, s[i:] follows it) starts an
// extension marker and how many more bytes the marker takes; -1 if it does
// not.
func markerLen(s string, i int, r rune) int {
	switch r {
	case 'x', 'X', '#', '转', '轉':
		return 0
	case 'e', 'E':
		if i < len(s) {
			r2, n2 := decode(s, i)
			if i+n2 < len(s) {
				r3, n3 := decode(s, i+n2)
				if (r2 == 'x' || r2 == 'X') && (r3 == 't' || r3 == 'T') {
					return n2 + n3
				}
			}
		}
	case '分':
		if i < len(s) {
			if r2, n2 := decode(s, i); r2 == '机' || r2 == '機' {
				return n2
			}
		}
	}
	return -1
}
