package pii

import (
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The seeds below cover every branch of the grammar; the checked-in corpus
// in testdata/fuzz adds inputs that once broke an earlier version.

func FuzzParsePhone(f *testing.F) {
	for _, s := range []string{
		"13812345678", "+86 138 1234 5678", "0086-138-1234-5678", "8613812345678", "013812345678",
		"0773-2851234", "(010) 6234 5678", "+86 10 62345678", "0773-2851234转801", "0773-2851234 ext. 801",
		"0773-285-1234-801", "07732851234分机801", "０７７３－２８５１２３４", "2851234", "", " ", "x", "e", "+", "转",
		"0773-2851234/13812345678", "\xff", "１３８\u3000１２３４\u3000５６７８",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if m := MaskPhone(s); utf8.RuneCountInString(m) > utf8.RuneCountInString(s) {
			t.Fatalf("MaskPhone(%q) = %q is longer than its input", s, m)
		}
		p, err := ParsePhone(s)
		if err != nil {
			checkErr(t, s, err, phoneErrors)
			if p != (Phone{}) {
				t.Fatalf("%q rejected, yet returned %+v", s, p)
			}
			return
		}
		if p.Kind != PhoneMobile && p.Kind != PhoneLandline {
			t.Fatalf("%q: kind %v", s, p.Kind)
		}
		again, err := ParsePhone(p.Number)
		if err != nil || again != p {
			t.Fatalf("%q → %+v does not re-parse to itself: %+v, %v", s, p, again, err)
		}
		checkPhoneDigits(t, s, p.Number)
		checkPhoneMask(t, p)
	})
}

// checkPhoneDigits: normalising may strip a country code or trunk 0 in
// front and put back an area code's 0, but never drops, adds or reorders a
// digit anywhere else.
func checkPhoneDigits(t *testing.T, in, number string) {
	t.Helper()
	digits := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r >= '０' && r <= '９' {
				r -= '０' - '0'
			}
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, s)
	}
	din, dout := digits(in), digits(number)
	for _, removed := range []string{"", "0", "86", "0086", "860", "00860"} {
		if din == removed+dout {
			return
		}
		if dout[0] == '0' && (removed == "86" || removed == "0086") && din == removed+dout[1:] {
			return
		}
	}
	t.Fatalf("%q → %q: digits %s do not come from %s", in, number, dout, din)
}

func checkPhoneMask(t *testing.T, p Phone) {
	t.Helper()
	m := MaskPhone(p.Number)
	switch p.Kind {
	case PhoneMobile:
		if m != p.Number[:3]+"****"+p.Number[7:] {
			t.Fatalf("MaskPhone(%q) = %q", p.Number, m)
		}
	case PhoneLandline:
		area, rest, _ := strings.Cut(p.Number, "-")
		sub, _, _ := strings.Cut(rest, "-")
		if m != area+"-"+strings.Repeat("*", len(sub)-3)+sub[len(sub)-3:] {
			t.Fatalf("MaskPhone(%q) = %q", p.Number, m)
		}
	}
}

func FuzzParseID(f *testing.F) {
	for _, s := range []string{
		"11010519491231002X", "11010519491231002x", "440524188001010014", " 11010519491231002X ",
		"１１０１０５１９４９１２３１００２Ｘ", "110105491231002", "", "123", "110105194902300027",
		makeID("830000", "19900101", "123"), makeID("990000", "19900101", "123"), makeID("110105", "20261128", "001"),
		"11010519491231002\xff", "110105194912310021",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if m := MaskID(s); utf8.RuneCountInString(m) != utf8.RuneCountInString(s) {
			t.Fatalf("MaskID(%q) = %q changes the length", s, m)
		}
		id, err := ParseID(s, today)
		want, wantErr := refParseID(s, today)
		if err != wantErr || id.Number != want {
			t.Fatalf("ParseID(%q) = %q, %v; the reference says %q, %v", s, id.Number, err, want, wantErr)
		}
		if err != nil {
			checkErr(t, s, err, idErrors)
			if id != (ID{}) {
				t.Fatalf("%q rejected, yet returned %+v", s, id)
			}
			return
		}
		again, err := ParseID(id.Number, today)
		if err != nil || again != id {
			t.Fatalf("%q → %+v does not re-parse to itself: %+v, %v", s, id, again, err)
		}
		if id.Region != id.Number[:6] || id.Birth.Format("20060102") != id.Number[6:14] || id.Female != ((id.Number[16]-'0')%2 == 0) {
			t.Fatalf("%q: parts do not match the number: %+v", s, id)
		}
		if m := MaskID(id.Number); utf8.RuneCountInString(m) != 18 || m[:4] != id.Number[:4] || m[14:] != id.Number[14:] || strings.Count(m, "*") != 10 {
			t.Fatalf("MaskID(%q) = %q", id.Number, m)
		}
	})
}

var refIDChars = regexp.MustCompile(`^[0-9]{17}[0-9X]$`)

// refParseID is a slow, straightforward reading of the rules, written
// without looking at id.go's shortcuts, to check ParseID against.
func refParseID(s string, today time.Time) (string, error) {
	s = strings.TrimSpace(s)
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= '０' && r <= '９':
			return r - '０' + '0'
		case r == 'Ｘ' || r == 'ｘ' || r == 'x':
			return 'X'
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) != 18 {
		return "", ErrIDLength
	}
	if !refIDChars.MatchString(s) {
		return "", ErrIDChars
	}
	if !strings.Contains(" 11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82 83 ", " "+s[:2]+" ") {
		return "", ErrIDRegion
	}
	birth, err := time.Parse("20060102", s[6:14])
	if err != nil || s[6:14] < "18800101" || s[6:14] > today.Format("20060102") || birth.IsZero() {
		return "", ErrIDBirthDate
	}
	if makeID(s[:6], s[6:14], s[14:17]) != s {
		return "", ErrIDChecksum
	}
	return s, nil
}
