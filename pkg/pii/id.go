package pii

import (
	"strings"
	"time"
	"unicode/utf8"
)

// ID is a checked resident identity card number (居民身份证号码, GB 11643-1999).
type ID struct {
	// Number is the 18 characters with the check character upper-case, the
	// form we store and compare for duplicates.
	Number string
	// Region is the administrative division code of the place of first
	// registration (first 6 digits). It is not checked beyond the province:
	// county codes are renamed and merged over the years, and a number
	// issued under an old code stays valid for life.
	Region string
	// Birth is the birth date at UTC midnight, a date rather than an
	// instant.
	Birth time.Time
	// Female: the 17th digit (sequence number) is even for women.
	Female bool
}

// weights are GB 11643's 2^(17-i) mod 11 for positions 1..17.
var weights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const checkChars = "10X98765432"

// provinces marks the first two digits in use (GB/T 2260 provinces). 71
// (Taiwan) is in the standard though no mainland IDs carry it; 81 and 82 are
// used by the residence permits for Hong Kong and Macao residents, and 83 by
// the residence permits for Taiwan residents (台湾居民居住证). Those permits
// follow GB 11643 in full, and community offices register their holders
// like anyone else, so they are accepted.
var provinces = [100]bool{
	11: true, 12: true, 13: true, 14: true, 15: true,
	21: true, 22: true, 23: true,
	31: true, 32: true, 33: true, 34: true, 35: true, 36: true, 37: true,
	41: true, 42: true, 43: true, 44: true, 45: true, 46: true,
	50: true, 51: true, 52: true, 53: true, 54: true,
	61: true, 62: true, 63: true, 64: true, 65: true,
	71: true, 81: true, 82: true, 83: true,
}

// earliestYear is the first birth year we accept: earlier dates are typing
// errors (1080 for 1980), not residents.
const earliestYear = 1880

// CheckDigit returns the GB 11643 check character for the first 17 digits
// of s, or 0 if s does not start with 17 ASCII digits. It is exported so
// tests and demo data elsewhere can make valid numbers.
func CheckDigit(s string) byte {
	if len(s) < 17 {
		return 0
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0
		}
		sum += int(c-'0') * weights[i]
	}
	return checkChars[sum%11]
}

// ParseID validates an 18-character ID number and returns its parts. The
// checks run from the coarse to the fine so the message names the first
// thing to fix: length, characters, region, birth date, check digit.
//
// today bounds the birth date; it is compared as a calendar date in its own
// location, so pass the office's local "now" and a baby registered on the
// day of birth is accepted. A zero today rejects every birth date, which
// fails closed if a caller forgets it.
//
// Surrounding white space is trimmed and full-width digits and Ｘ (typed in
// a Chinese input method's full-width mode) are folded to ASCII; anything
// else between the characters is an error rather than something to strip,
// since an ID number has no customary separators.
func ParseID(s string, today time.Time) (ID, error) {
	s = strings.TrimSpace(s) // also trims the ideographic space U+3000
	var b [18]byte
	n := 0
	for i := 0; i < len(s); n++ {
		if n == len(b) {
			return ID{}, ErrIDLength
		}
		c := s[i]
		if c < utf8.RuneSelf {
			b[n] = c
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r >= '０' && r <= '９':
			b[n] = byte(r-'０') + '0'
		case r == 'Ｘ' || r == 'ｘ':
			b[n] = 'X'
		default:
			b[n] = '?' // still one character, so the length check is honest
		}
	}
	if n != len(b) {
		// Includes the 15-digit numbers issued before 1999: they have no
		// century and no check digit, and were replaced long ago.
		return ID{}, ErrIDLength
	}

	for i := 0; i < 17; i++ {
		if b[i] < '0' || b[i] > '9' {
			return ID{}, ErrIDChars
		}
	}
	switch b[17] {
	case 'x':
		b[17] = 'X'
	case 'X', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
	default:
		return ID{}, ErrIDChars
	}

	if !provinces[num(b[0:2])] {
		return ID{}, ErrIDRegion
	}

	y, m, d := num(b[6:10]), num(b[10:12]), num(b[12:14])
	if y < earliestYear || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return ID{}, ErrIDBirthDate
	}
	ty, tm, td := today.Date()
	if y > ty || y == ty && (m > int(tm) || m == int(tm) && d > td) {
		return ID{}, ErrIDBirthDate
	}

	if CheckDigit(string(b[:17])) != b[17] { // the conversion does not allocate
		return ID{}, ErrIDChecksum
	}

	number := reuse(s, b[:])
	return ID{
		Number: number,
		Region: number[:6],
		Birth:  time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC),
		Female: (b[16]-'0')%2 == 0,
	}, nil
}

// num reads ASCII digits already known to be digits.
func num(b []byte) int {
	v := 0
	for _, c := range b {
		v = v*10 + int(c-'0')
	}
	return v
}

// daysIn is the length of month m (1–12) in the proleptic Gregorian year y,
// computed directly because time.Date would silently normalise 0230 to
// March 2.
func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
