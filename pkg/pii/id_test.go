package pii

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// today is fixed so the tests do not age.
var today = time.Date(2026, 11, 28, 15, 4, 5, 0, time.UTC)

// makeID completes region (6 digits), birth (YYYYMMDD) and seq (3 digits)
// with a check character computed from GB 11643's definition, independently
// of the lookup table in id.go: weights 2^(17-i) mod 11, check value
// (12 - sum mod 11) mod 11, with 10 written X.
func makeID(region, birth, seq string) string {
	s := region + birth + seq
	if len(s) != 17 {
		panic("makeID: " + s)
	}
	sum := 0
	for i := 0; i < 17; i++ {
		w := 1 << (17 - i) % 11
		sum += int(s[i]-'0') * w
	}
	c := (12 - sum%11) % 11
	if c == 10 {
		return s + "X"
	}
	return s + string(rune('0'+c))
}

func TestMakeIDMatchesStandardExamples(t *testing.T) {
	// The worked example of GB 11643-1999 and a commonly cited second one.
	for _, want := range []string{"11010519491231002X", "440524188001010014"} {
		if got := makeID(want[:6], want[6:14], want[14:17]); got != want {
			t.Errorf("makeID = %s, want %s", got, want)
		}
	}
}

func TestParseID(t *testing.T) {
	tomorrow := today.AddDate(0, 0, 1).Format("20060102")
	tests := []struct {
		name, in string
		want     string // normalised number
		birth    string
		female   bool
		today    time.Time // zero: the package-level today
		err      error
	}{
		{"GB 11643 example", "11010519491231002X", "11010519491231002X", "1949-12-31", true, time.Time{}, nil},
		{"lower-case x", "11010519491231002x", "11010519491231002X", "1949-12-31", true, time.Time{}, nil},
		{"trimmed", " 11010519491231002X\u3000", "11010519491231002X", "1949-12-31", true, time.Time{}, nil},
		{"full-width", "１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X", "1949-12-31", true, time.Time{}, nil},
		{"full-width x", "11010519491231002ｘ", "11010519491231002X", "1949-12-31", true, time.Time{}, nil},
		{"born 1880-01-01", "440524188001010014", "440524188001010014", "1880-01-01", false, time.Time{}, nil},
		{"male", makeID("450305", "19650710", "001"), makeID("450305", "19650710", "001"), "1965-07-10", false, time.Time{}, nil},
		{"female", makeID("450305", "19650710", "002"), makeID("450305", "19650710", "002"), "1965-07-10", true, time.Time{}, nil},
		{"leap day", makeID("320102", "20000229", "123"), makeID("320102", "20000229", "123"), "2000-02-29", false, time.Time{}, nil},
		{"leap day 2024", makeID("510104", "20240229", "248"), makeID("510104", "20240229", "248"), "2024-02-29", true, time.Time{}, nil},
		{"born today", makeID("450305", today.Format("20060102"), "011"), makeID("450305", today.Format("20060102"), "011"), today.Format(time.DateOnly), false, time.Time{}, nil},
		{"Taiwan residence permit (83)", makeID("830000", "19900101", "123"), makeID("830000", "19900101", "123"), "1990-01-01", false, time.Time{}, nil},
		{"Hong Kong residence permit (81)", makeID("810000", "19850615", "004"), makeID("810000", "19850615", "004"), "1985-06-15", true, time.Time{}, nil},
		{"Macao residence permit (82)", makeID("820000", "19850615", "005"), makeID("820000", "19850615", "005"), "1985-06-15", false, time.Time{}, nil},
		{"Taiwan (71)", makeID("710000", "19850615", "005"), makeID("710000", "19850615", "005"), "1985-06-15", false, time.Time{}, nil},
		{"Xinjiang (65)", makeID("650102", "19991231", "996"), makeID("650102", "19991231", "996"), "1999-12-31", true, time.Time{}, nil},
		// Shanghai's 1 March starts at 16:00 UTC on 28 February: a child
		// born that day and registered that night is not from the future.
		{"today is local", makeID("310101", "20260301", "013"), makeID("310101", "20260301", "013"), "2026-03-01", false,
			time.Date(2026, 3, 1, 0, 30, 0, 0, time.FixedZone("CST", 8*3600)), nil},

		{"empty", "", "", "", false, time.Time{}, ErrIDLength},
		{"17 digits", "11010519491231002", "", "", false, time.Time{}, ErrIDLength},
		{"19 characters", "11010519491231002X1", "", "", false, time.Time{}, ErrIDLength},
		{"old 15-digit number", "110105491231002", "", "", false, time.Time{}, ErrIDLength},
		{"inner space", "110105 19491231002X", "", "", false, time.Time{}, ErrIDLength},
		{"letter inside", "1101051949123100AX", "", "", false, time.Time{}, ErrIDChars},
		{"X first", "X10105194912310021", "", "", false, time.Time{}, ErrIDChars},
		{"Y last", "11010519491231002Y", "", "", false, time.Time{}, ErrIDChars},
		{"hyphen inside", "110105-9491231002X", "", "", false, time.Time{}, ErrIDChars},
		{"non-ASCII last", "11010519491231002é", "", "", false, time.Time{}, ErrIDChars},
		{"invalid UTF-8", "11010519491231002\xff", "", "", false, time.Time{}, ErrIDChars},

		{"Feb 30", makeID("110105", "19490230", "002"), "", "", false, time.Time{}, ErrIDBirthDate},
		{"1900 is no leap year", makeID("110105", "19000229", "002"), "", "", false, time.Time{}, ErrIDBirthDate},
		{"April 31", makeID("110105", "19490431", "002"), "", "", false, time.Time{}, ErrIDBirthDate},
		{"month 13", makeID("110105", "19491301", "002"), "", "", false, time.Time{}, ErrIDBirthDate},
		{"month 0", makeID("110105", "19490001", "002"), "", "", false, time.Time{}, ErrIDBirthDate},
		{"day 0", makeID("110105", "19491200", "002"), "", "", false, time.Time{}, ErrIDBirthDate},
		{"day 32", makeID("110105", "19491232", "002"), "", "", false, time.Time{}, ErrIDBirthDate},
		{"before 1880", makeID("110105", "18791231", "002"), "", "", false, time.Time{}, ErrIDBirthDate},
		{"tomorrow", makeID("110105", tomorrow, "002"), "", "", false, time.Time{}, ErrIDBirthDate},
		{"future", makeID("110105", "20300101", "002"), "", "", false, time.Time{}, ErrIDBirthDate},
		{"UTC today is not yet Shanghai's", makeID("310101", "20260301", "013"), "", "", false,
			time.Date(2026, 2, 28, 16, 30, 0, 0, time.UTC), ErrIDBirthDate},

		{"wrong check digit", "110105194912310021", "", "", false, time.Time{}, ErrIDChecksum},
		{"digit instead of X", "110105194912310020", "", "", false, time.Time{}, ErrIDChecksum},
		{"transposed digits", "11010519491231200X", "", "", false, time.Time{}, ErrIDChecksum},
	}
	// Every province code the standard lists, and a sample of codes it
	// does not, each with a correct check digit so only the region is at
	// fault.
	for _, p := range []string{"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
		"41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82", "83"} {
		n := makeID(p+"0102", "19800101", "005")
		tests = append(tests, struct {
			name, in, want, birth string
			female                bool
			today                 time.Time
			err                   error
		}{"province " + p, n, n, "1980-01-01", false, time.Time{}, nil})
	}
	for _, p := range []string{"00", "01", "10", "16", "20", "24", "30", "38", "40", "47", "49", "55", "60", "66", "70", "72", "80", "84", "90", "99"} {
		tests = append(tests, struct {
			name, in, want, birth string
			female                bool
			today                 time.Time
			err                   error
		}{"not a province " + p, makeID(p+"0102", "19800101", "005"), "", "", false, time.Time{}, ErrIDRegion})
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.today
			if now.IsZero() {
				now = today
			}
			id, err := ParseID(tt.in, now)
			if !errors.Is(err, tt.err) {
				t.Fatalf("ParseID(%q) error = %v, want %v", tt.in, err, tt.err)
			}
			if err != nil {
				if id != (ID{}) {
					t.Fatalf("rejected, yet returned %+v", id)
				}
				return
			}
			if id.Number != tt.want || id.Region != tt.want[:6] || id.Female != tt.female ||
				id.Birth.Format(time.DateOnly) != tt.birth || id.Birth.Location() != time.UTC || !id.Birth.Equal(id.Birth.Truncate(24*time.Hour)) {
				t.Fatalf("ParseID(%q) = %+v, want %s born %s female %v", tt.in, id, tt.want, tt.birth, tt.female)
			}
			if again, err := ParseID(id.Number, now); err != nil || again != id {
				t.Fatalf("re-parse: %+v, %v", again, err)
			}
		})
	}
}

// Any single changed digit is caught: the weights are non-zero modulo 11.
// Positions in the birth date are left out where a change would make the
// date itself invalid; the region digits after the province and the
// sequence number can take any value.
func TestParseIDSingleDigitErrors(t *testing.T) {
	valid := []string{"11010519491231002X", "440524188001010014", makeID("450305", "19650710", "001")}
	for _, n := range valid {
		for _, pos := range []int{2, 3, 4, 5, 14, 15, 16, 17} {
			for _, c := range "0123456789X" {
				if byte(c) == n[pos] || (c == 'X' && pos != 17) {
					continue
				}
				bad := n[:pos] + string(c) + n[pos+1:]
				t.Run(fmt.Sprintf("%s@%d=%c", n, pos, c), func(t *testing.T) {
					if _, err := ParseID(bad, today); !errors.Is(err, ErrIDChecksum) {
						t.Fatalf("ParseID(%q) error = %v, want ErrIDChecksum", bad, err)
					}
				})
			}
		}
	}
}

func TestCheckDigit(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want byte
	}{
		{"11010519491231002", 'X'},
		{"11010519491231002X", 'X'}, // only the first 17 count
		{"44052418800101001", '4'},
		{"1101051949123100", 0},
		{"1101051949123100A", 0},
		{"", 0},
	} {
		if got := CheckDigit(tt.in); got != tt.want {
			t.Errorf("CheckDigit(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseIDAllocs(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want float64
	}{
		{"11010519491231002X", 0},
		{"11010519491231002x", 1},
		{"110105194912310021", 0},
	} {
		if got := testing.AllocsPerRun(100, func() { _, _ = ParseID(tt.in, today) }); got != tt.want {
			t.Errorf("ParseID(%q): %v allocations, want %v", tt.in, got, tt.want)
		}
	}
}
