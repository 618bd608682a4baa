package pii

import (
	"errors"
	"testing"
	"time"
	"unicode/utf8"
)

var today = time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)

func TestParsePhone(t *testing.T) {
	tests := []struct {
		in, want string
		kind     PhoneKind
		err      error
	}{
		{"13812345678", "13812345678", PhoneMobile, nil},
		{" 138-1234-5678 ", "13812345678", PhoneMobile, nil},
		{"+86 138 1234 5678", "13812345678", PhoneMobile, nil},
		{"0086-13812345678", "13812345678", PhoneMobile, nil},
		{"8613812345678", "13812345678", PhoneMobile, nil},
		{"１３８１２３４５６７８", "13812345678", PhoneMobile, nil},
		{"0773-2851234", "0773-2851234", PhoneLandline, nil},
		{"(0773)2851234", "0773-2851234", PhoneLandline, nil},
		{"07732851234", "0773-2851234", PhoneLandline, nil},
		{"010-62345678", "010-62345678", PhoneLandline, nil},
		{"02087654321", "020-87654321", PhoneLandline, nil},
		{"+86 773 2851234", "0773-2851234", PhoneLandline, nil},
		{"0773-2851234转801", "0773-2851234-801", PhoneLandline, nil},
		{"0773-2851234 ext 801", "0773-2851234-801", PhoneLandline, nil},
		{"", "", 0, ErrPhoneEmpty},
		{"12345678901", "", 0, ErrMobileFormat},
		{"1381234567", "", 0, ErrMobileFormat},
		{"2851234", "", 0, ErrLandlineFormat},
		{"0773-123", "", 0, ErrLandlineFormat},
		{"0773-0851234", "", 0, ErrLandlineFormat},
		{"011-12345678", "", 0, ErrLandlineFormat},
		{"phone: 138", "", 0, ErrPhoneFormat},
		{"+1 415 555 0100", "", 0, ErrPhoneFormat},
		{"010-12345678", "", 0, ErrLandlineFormat},
		{"0773-2851234转", "", 0, ErrPhoneFormat},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := ParsePhone(tt.in)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if p.Number != tt.want || p.Kind != tt.kind {
				t.Fatalf("got %+v, want %s kind %d", p, tt.want, tt.kind)
			}
		})
	}
}

func TestMask(t *testing.T) {
	for in, want := range map[string]string{
		"13812345678": "138****5678", "0773-2851234": "0773-****234", "010-62345678": "010-*****678",
		"0773-2851234-801": "0773-****234", "123": "***", "": "",
		"11010519491231002X": "1101**********002X", "4503": "****",
	} {
		var got string
		if len(in) == 18 || in == "4503" {
			got = MaskID(in)
		} else {
			got = MaskPhone(in)
		}
		if got != want {
			t.Errorf("mask(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseID(t *testing.T) {
	tests := []struct {
		in     string
		err    error
		female bool
		birth  string
	}{
		{"11010519491231002X", nil, true, "1949-12-31"},
		{"11010519491231002x", nil, true, "1949-12-31"},
		{"440524188001010014", nil, false, "1880-01-01"},
		{"110105194912310021", ErrIDChecksum, false, ""},
		{"11010519491231002", ErrIDLength, false, ""},
		{"110105491231002", ErrIDLength, false, ""},
		{"1101051949123100AX", ErrIDChars, false, ""},
		{"99010519491231002X", ErrIDRegion, false, ""},
		{"110105194902300027", ErrIDBirthDate, false, ""},
		{"110105203001010027", ErrIDBirthDate, false, ""},
		{"110105187001010027", ErrIDBirthDate, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			id, err := ParseID(tt.in, today)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err == nil && (id.Female != tt.female || id.Birth.Format(time.DateOnly) != tt.birth || id.Number[17] == 'x') {
				t.Fatalf("got %+v", id)
			}
		})
	}
	// Every computed check digit is accepted, and a changed digit is caught.
	first := "45030519650710001"
	n := first + string(CheckDigit(first))
	if _, err := ParseID(n, today); err != nil {
		t.Fatal(err)
	}
	flipped := n[:15] + string("1234567890"[n[15]-'0']) + n[16:]
	if _, err := ParseID(flipped, today); !errors.Is(err, ErrIDChecksum) {
		t.Fatalf("flipped digit: %v", err)
	}
}

func FuzzParsePhone(f *testing.F) {
	for _, s := range []string{"13812345678", "+86 138 1234 5678", "0773-2851234转801", "(010)12345678", "", "x", "０７７３－２８５１２３４"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePhone(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Key == "" {
				t.Fatalf("error without a key: %v", err)
			}
			return
		}
		again, err := ParsePhone(p.Number)
		if err != nil || again != p {
			t.Fatalf("%q → %+v does not re-parse to itself: %+v %v", s, p, again, err)
		}
		_ = MaskPhone(p.Number)
	})
}

func FuzzParseID(f *testing.F) {
	for _, s := range []string{"11010519491231002X", "440524188001010014", "", "123", "11010519491231002x "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = MaskID(s)
		id, err := ParseID(s, today)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Key == "" {
				t.Fatalf("error without a key: %v", err)
			}
			return
		}
		again, err := ParseID(id.Number, today)
		if err != nil || again.Number != id.Number {
			t.Fatalf("%q does not re-parse: %v", s, err)
		}
		if m := MaskID(id.Number); utf8.RuneCountInString(m) != 18 {
			t.Fatalf("mask length %d", len(m))
		}
	})
}

func BenchmarkParsePhone(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_, _ = ParsePhone("138-1234-5678")
	}
}

func BenchmarkParseID(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_, _ = ParseID("11010519491231002X", today)
	}
}
