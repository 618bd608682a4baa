package pii

import (
	"errors"
	"testing"
)

func TestParsePhone(t *testing.T) {
	const (
		mob  = "13812345678"
		land = "0773-2851234"
		ext  = "0773-2851234-801"
	)
	tests := []struct {
		name, in, want string
		kind           PhoneKind
		err            error
	}{
		// Mobiles and the ways people write them.
		{"plain", "13812345678", mob, PhoneMobile, nil},
		{"trimmed", " 138-1234-5678 ", mob, PhoneMobile, nil},
		{"spaces", "138 1234 5678", mob, PhoneMobile, nil},
		{"dots", "138.1234.5678", mob, PhoneMobile, nil},
		{"parentheses", "(138)12345678", mob, PhoneMobile, nil},
		{"+86 spaced", "+86 138 1234 5678", mob, PhoneMobile, nil},
		{"+86 hyphen", "+86-13812345678", mob, PhoneMobile, nil},
		{"+86 glued", "+8613812345678", mob, PhoneMobile, nil},
		{"(+86)", "(+86) 138 1234 5678", mob, PhoneMobile, nil},
		{"0086", "0086 138 1234 5678", mob, PhoneMobile, nil},
		{"0086 glued", "008613812345678", mob, PhoneMobile, nil},
		{"86 glued", "8613812345678", mob, PhoneMobile, nil},
		{"86 spaced", "86 138 1234 5678", mob, PhoneMobile, nil},
		{"trunk 0", "013812345678", mob, PhoneMobile, nil},
		{"+86 and trunk 0", "+86 (0)138 1234 5678", mob, PhoneMobile, nil},
		{"full-width digits", "１３８１２３４５６７８", mob, PhoneMobile, nil},
		{"full-width hyphens", "１３８－１２３４－５６７８", mob, PhoneMobile, nil},
		{"full-width plus and spaces", "＋８６　１３８　１２３４　５６７８", mob, PhoneMobile, nil},
		{"no-break spaces", "138\u00a01234\u00a05678", mob, PhoneMobile, nil},
		{"BOM", "\ufeff13812345678", mob, PhoneMobile, nil},
		{"en dashes", "138–1234–5678", mob, PhoneMobile, nil},
		{"199", "19912345678", "19912345678", PhoneMobile, nil},
		{"147", "14712345678", "14712345678", PhoneMobile, nil},

		{"second digit 2", "12345678901", "", 0, ErrMobileFormat},
		{"second digit 0", "10012345678", "", 0, ErrMobileFormat},
		{"10 digits", "1381234567", "", 0, ErrMobileFormat},
		{"12 digits", "138123456789", "", 0, ErrMobileFormat},
		{"mobile with 转", "13812345678转801", "", 0, ErrMobileFormat},
		{"mobile with -ext", "13812345678-801", "", 0, ErrMobileFormat},
		{"service number", "12345", "", 0, ErrMobileFormat},
		{"86 before a bad mobile", "86 12345678901", "", 0, ErrMobileFormat},
		{"+86 bad mobile", "+86 11812345678", "", 0, ErrMobileFormat},

		// Landlines.
		{"normalised", "0773-2851234", land, PhoneLandline, nil},
		{"space", "0773 2851234", land, PhoneLandline, nil},
		{"parenthesised area", "(0773)2851234", land, PhoneLandline, nil},
		{"full-width parentheses", "（0773）2851234", land, PhoneLandline, nil},
		{"glued 4-digit area", "07732851234", land, PhoneLandline, nil},
		{"full-width", "０７７３－２８５１２３４", land, PhoneLandline, nil},
		{"8-digit subscriber", "0773-28512345", "0773-28512345", PhoneLandline, nil},
		{"glued 8-digit subscriber", "077328512345", "0773-28512345", PhoneLandline, nil},
		{"Beijing", "010-62345678", "010-62345678", PhoneLandline, nil},
		{"Beijing glued", "01062345678", "010-62345678", PhoneLandline, nil},
		{"Beijing grouped", "(010) 6234 5678", "010-62345678", PhoneLandline, nil},
		{"Beijing mixed", "010 6234-5678", "010-62345678", PhoneLandline, nil},
		{"Guangzhou glued", "02087654321", "020-87654321", PhoneLandline, nil},
		{"Xi'an 7 digits", "029-8765432", "029-8765432", PhoneLandline, nil},
		{"subscriber grouped", "0773-285-1234", land, PhoneLandline, nil},
		{"area glued to part", "0773285 1234", land, PhoneLandline, nil},
		{"+86 area", "+86 773 2851234", land, PhoneLandline, nil},
		{"+86 Beijing", "+86 10 6234 5678", "010-62345678", PhoneLandline, nil},
		{"+86 Beijing glued", "+861062345678", "010-62345678", PhoneLandline, nil},
		{"0086 area", "0086 773 2851234", land, PhoneLandline, nil},
		{"+86 with trunk 0", "+86 0773 2851234", land, PhoneLandline, nil},
		{"trailing hyphen", "0773-2851234-", land, PhoneLandline, nil},

		// Extensions.
		{"转", "0773-2851234转801", ext, PhoneLandline, nil},
		{"转 spaced", "0773-2851234 转 801", ext, PhoneLandline, nil},
		{"分机", "0773-2851234分机801", ext, PhoneLandline, nil},
		{"ext", "0773-2851234ext801", ext, PhoneLandline, nil},
		{"ext.", "0773-2851234 ext. 801", ext, PhoneLandline, nil},
		{"EXT", "0773-2851234 EXT 801", ext, PhoneLandline, nil},
		{"full-width ext", "0773-2851234ｅｘｔ801", ext, PhoneLandline, nil},
		{"x", "0773-2851234x801", ext, PhoneLandline, nil},
		{"X spaced", "0773-2851234 X 801", ext, PhoneLandline, nil},
		{"#", "0773-2851234#801", ext, PhoneLandline, nil},
		{"hyphen", "0773-2851234-801", ext, PhoneLandline, nil},
		{"hyphen, grouped subscriber", "0773-285-1234-801", ext, PhoneLandline, nil},
		{"glued number, 转", "07732851234转801", ext, PhoneLandline, nil},
		{"6-digit extension", "0773-2851234-123456", "0773-2851234-123456", PhoneLandline, nil},
		{"1-digit extension", "010-62345678 x 1", "010-62345678-1", PhoneLandline, nil},

		{"no area code, 7 digits", "2851234", "", 0, ErrLandlineFormat},
		{"no area code, 8 digits", "62345678", "", 0, ErrLandlineFormat},
		{"no area code, extension", "2851234-801", "", 0, ErrLandlineFormat},
		{"no area code, 转", "2851234转801", "", 0, ErrLandlineFormat},
		{"area code only", "0773", "", 0, ErrLandlineFormat},
		{"lone 0", "0", "", 0, ErrLandlineFormat},
		{"subscriber too short", "0773-123", "", 0, ErrLandlineFormat},
		{"subscriber 6 digits", "0773-285123", "", 0, ErrLandlineFormat},
		{"subscriber 9 digits", "0773-285123456", "", 0, ErrLandlineFormat},
		{"subscriber starts with 0", "0773-0851234", "", 0, ErrLandlineFormat},
		{"subscriber starts with 1", "0773-1851234", "", 0, ErrLandlineFormat},
		{"Beijing subscriber starts with 1", "010-12345678", "", 0, ErrLandlineFormat},
		{"no 011 area code", "011-62345678", "", 0, ErrLandlineFormat},
		{"separator inside the area code", "077 32851234", "", 0, ErrLandlineFormat},
		{"glued, ambiguous extension", "0773285123456", "", 0, ErrLandlineFormat},
		{"extension after a space", "0773-2851234 801", "", 0, ErrLandlineFormat},
		{"extension too long", "0773-2851234-1234567", "", 0, ErrLandlineFormat},
		{"extension in two groups", "0773-2851234-80-1", "", 0, ErrLandlineFormat},
		{"marked extension in two groups", "0773-2851234转80 1", "", 0, ErrLandlineFormat},
		{"two extensions", "0773-2851234-801转802", "", 0, ErrLandlineFormat},
		{"+86 subscriber too short", "+86 773 285", "", 0, ErrLandlineFormat},

		// Neither.
		{"empty", "", "", 0, ErrPhoneEmpty},
		{"blank", " \t ", "", 0, ErrPhoneEmpty},
		{"ideographic space", "\u3000", "", 0, ErrPhoneEmpty},
		{"only separators", "---", "", 0, ErrPhoneFormat},
		{"only parentheses", "()", "", 0, ErrPhoneFormat},
		{"words", "phone: 138", "", 0, ErrPhoneFormat},
		{"letter", "138-1234-567a", "", 0, ErrPhoneFormat},
		{"e without xt", "0773-2851234e801", "", 0, ErrPhoneFormat},
		{"US", "+1 415 555 0100", "", 0, ErrPhoneFormat},
		{"UK", "+44 20 7946 0958", "", 0, ErrPhoneFormat},
		{"00 other country", "001 415 555 0100", "", 0, ErrPhoneFormat},
		{"country code alone", "+86", "", 0, ErrPhoneFormat},
		{"0086 alone", "0086", "", 0, ErrPhoneFormat},
		{"plus inside", "138+12345678", "", 0, ErrPhoneFormat},
		{"two pluses", "++8613812345678", "", 0, ErrPhoneFormat},
		{"marker first", "转801", "", 0, ErrPhoneFormat},
		{"dangling marker", "0773-2851234转", "", 0, ErrPhoneFormat},
		{"two markers", "0773-2851234转801转802", "", 0, ErrPhoneFormat},
		{"two numbers in a cell", "0773-2851234/13812345678", "", 0, ErrPhoneFormat},
		{"too many digits", "1234567890123456789012345", "", 0, ErrPhoneFormat},
		{"86 before a landline", "86 773 2851234", "", 0, ErrPhoneFormat},
		{"short junk", "999", "", 0, ErrPhoneFormat},
		{"invalid UTF-8", "138\xff12345678", "", 0, ErrPhoneFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePhone(tt.in)
			if !errors.Is(err, tt.err) {
				t.Fatalf("ParsePhone(%q) error = %v, want %v", tt.in, err, tt.err)
			}
			if p.Number != tt.want || p.Kind != tt.kind {
				t.Fatalf("ParsePhone(%q) = %q %v, want %q %v", tt.in, p.Number, p.Kind, tt.want, tt.kind)
			}
			n, err2 := NormalizePhone(tt.in)
			if n != tt.want || err2 != err {
				t.Fatalf("NormalizePhone(%q) = %q, %v; ParsePhone said %q, %v", tt.in, n, err2, p.Number, err)
			}
			if err != nil {
				return
			}
			checkPhoneDigits(t, tt.in, p.Number)
			// Normalisation is idempotent.
			if again, err := ParsePhone(p.Number); err != nil || again != p {
				t.Fatalf("ParsePhone(%q) = %+v, %v; want %+v", p.Number, again, err, p)
			}
		})
	}
}

// The common case of re-validating a stored number must not allocate, and
// a number that needs normalising allocates only its result.
func TestParsePhoneAllocs(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want float64
	}{
		{"13812345678", 0},
		{"0773-2851234-801", 0},
		{"+86 138 1234 5678", 1},
		{"(0773) 285 1234 转 801", 1},
		{"not a phone", 0},
	} {
		if got := testing.AllocsPerRun(100, func() { _, _ = ParsePhone(tt.in) }); got != tt.want {
			t.Errorf("ParsePhone(%q): %v allocations, want %v", tt.in, got, tt.want)
		}
	}
}

func TestPhoneKindString(t *testing.T) {
	for k, want := range map[PhoneKind]string{PhoneMobile: "mobile", PhoneLandline: "landline", 0: "unknown"} {
		if got := k.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(k), got, want)
		}
	}
}
