// Package pii validates, normalises and masks residents' personal
// identifiers: mainland phone numbers and resident identity card numbers
// (GB 11643-1999).
package pii

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Error is a rejected identifier; Key names an i18n message.
type Error struct{ Key string }

func (e *Error) Error() string { return "pii: " + e.Key }

// The reasons an identifier is rejected.
var (
	ErrPhoneEmpty     = &Error{"phone_empty"}
	ErrPhoneFormat    = &Error{"phone_format"}
	ErrMobileFormat   = &Error{"phone_mobile_format"}
	ErrLandlineFormat = &Error{"phone_landline_format"}
	ErrIDLength       = &Error{"id_length"}
	ErrIDChars        = &Error{"id_chars"}
	ErrIDRegion       = &Error{"id_region"}
	ErrIDBirthDate    = &Error{"id_birth_date"}
	ErrIDChecksum     = &Error{"id_checksum"}
)

// PhoneKind tells mobiles from landlines.
type PhoneKind int

const (
	PhoneMobile PhoneKind = iota + 1
	PhoneLandline
)

// Phone is a normalised phone number.
type Phone struct {
	Number string
	Kind   PhoneKind
}

// fold keeps digits and turns full-width digits into ASCII; separators
// people type (spaces, hyphens, dots, brackets) are dropped. It returns
// the digits, the extension digits (after 转, ext, x, #), and whether any
// other character was seen.
func fold(s string) (digits, ext string, bad bool) {
	s = strings.TrimSpace(s)
	lower := asciiLower(s) // same length as s, so indexes carry over
	for _, sep := range []string{"转", "ext.", "ext", "x", "#"} {
		if i := strings.Index(lower, sep); i >= 0 {
			e, _, b := fold(s[i+len(sep):])
			if b || e == "" || len(e) > 6 {
				return "", "", true
			}
			ext = e
			s = s[:i]
			break
		}
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= '０' && r <= '９':
			b.WriteRune('0' + (r - '０'))
		case r == '+' && b.Len() == 0:
			b.WriteRune('+')
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '（' || r == '）' || r == '　' || r == '－' || r == '—':
		default:
			bad = true
		}
	}
	return b.String(), ext, bad
}

// ParsePhone accepts a mainland mobile (13812345678, +86 138 1234 5678) or
// a landline with its area code (0773-2851234, (010)12345678, +86 773
// 2851234 ext 801) and returns it normalised.
func ParsePhone(s string) (Phone, error) {
	if strings.TrimSpace(s) == "" {
		return Phone{}, ErrPhoneEmpty
	}
	// Our own normalised form carries the extension as a third group.
	if parts := strings.Split(strings.TrimSpace(s), "-"); len(parts) == 3 && strings.HasPrefix(parts[0], "0") && allDigits(parts[0]+parts[1]+parts[2]) && parts[2] != "" {
		s = parts[0] + "-" + parts[1] + "转" + parts[2]
	}
	d, ext, bad := fold(s)
	if bad {
		return Phone{}, ErrPhoneFormat
	}
	intl := false
	switch {
	case strings.HasPrefix(d, "+86"):
		d, intl = d[3:], true
	case strings.HasPrefix(d, "0086"):
		d, intl = d[4:], true
	case strings.HasPrefix(d, "86") && len(d) == 13 && d[2] == '1':
		d = d[2:]
	case strings.HasPrefix(d, "+"):
		return Phone{}, ErrPhoneFormat
	}
	if len(d) == 11 && d[0] == '1' && ext == "" {
		if d[1] < '3' {
			return Phone{}, ErrMobileFormat
		}
		return Phone{Number: d, Kind: PhoneMobile}, nil
	}
	if intl && d != "" && d[0] != '0' {
		d = "0" + d // the international form drops the trunk 0
	}
	if len(d) > 0 && d[0] == '1' {
		return Phone{}, ErrMobileFormat
	}
	if len(d) < 4 || d[0] != '0' {
		return Phone{}, ErrLandlineFormat
	}
	// Area codes: 010 and 020–029 are three digits with the 0; the rest four.
	area := 4
	if d[1] == '1' || d[1] == '2' {
		area = 3
	}
	if len(d) <= area {
		return Phone{}, ErrLandlineFormat
	}
	sub := d[area:]
	if len(sub) < 7 || len(sub) > 8 || sub[0] == '0' || sub[0] == '1' || (area == 3 && d[1] == '1' && d[2] != '0') {
		return Phone{}, ErrLandlineFormat
	}
	n := d[:area] + "-" + sub
	if ext != "" {
		n += "-" + ext
	}
	return Phone{Number: n, Kind: PhoneLandline}, nil
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// NormalizePhone returns the normalised form of a phone number.
func NormalizePhone(s string) (string, error) {
	p, err := ParsePhone(s)
	return p.Number, err
}

// MaskPhone hides the middle of a phone: 138****5678, 0773-****234.
func MaskPhone(p string) string {
	n := utf8.RuneCountInString(p)
	if n < 7 || n != len(p) {
		return strings.Repeat("*", n)
	}
	if i := strings.IndexByte(p, '-'); i > 0 && p[0] == '0' {
		rest := p[i+1:]
		if j := strings.IndexByte(rest, '-'); j >= 0 {
			rest = rest[:j] // the extension is not shown
		}
		if len(rest) < 4 {
			return strings.Repeat("*", n)
		}
		return p[:i+1] + strings.Repeat("*", len(rest)-3) + rest[len(rest)-3:]
	}
	return p[:3] + strings.Repeat("*", n-7) + p[n-4:]
}

// ID is a checked resident identity card number.
type ID struct {
	Number string
	Region string
	Birth  time.Time
	Female bool
}

var weights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// provinces are the first two digits in use (83: residence permits of
// Taiwan residents, which carry the same checksum).
var provinces = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true, "21": true, "22": true, "23": true,
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true,
	"41": true, "42": true, "43": true, "44": true, "45": true, "46": true,
	"50": true, "51": true, "52": true, "53": true, "54": true,
	"61": true, "62": true, "63": true, "64": true, "65": true, "71": true, "81": true, "82": true, "83": true,
}

// CheckDigit computes the GB 11643 check character of the first 17 digits.
func CheckDigit(first17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(first17[i]-'0') * weights[i]
	}
	return "10X98765432"[sum%11]
}

// ParseID checks an 18-character ID number: digits, a real province, a
// real birth date not after today, and the check digit.
func ParseID(s string, today time.Time) (ID, error) {
	s = strings.TrimSpace(s)
	if len(s) == 15 && utf8.ValidString(s) {
		return ID{}, ErrIDLength // first-generation numbers are no longer valid
	}
	if len(s) != 18 {
		return ID{}, ErrIDLength
	}
	for i := 0; i < 17; i++ {
		if s[i] < '0' || s[i] > '9' {
			return ID{}, ErrIDChars
		}
	}
	last := s[17]
	if last == 'x' {
		last = 'X'
	}
	if (last < '0' || last > '9') && last != 'X' {
		return ID{}, ErrIDChars
	}
	if !provinces[s[:2]] {
		return ID{}, ErrIDRegion
	}
	birth, err := time.Parse("20060102", s[6:14])
	if err != nil || birth.Year() < 1880 || birth.After(today) {
		return ID{}, ErrIDBirthDate
	}
	if CheckDigit(s) != last {
		return ID{}, ErrIDChecksum
	}
	n := s[:17] + string(last)
	return ID{Number: n, Region: n[:6], Birth: birth, Female: (n[16]-'0')%2 == 0}, nil
}

// MaskID keeps the first four and last four characters: 4503**********1234.
func MaskID(n string) string {
	c := utf8.RuneCountInString(n)
	if c < 9 || c != len(n) {
		return strings.Repeat("*", c)
	}
	return n[:4] + strings.Repeat("*", len(n)-8) + n[len(n)-4:]
}
