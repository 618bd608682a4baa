package pii

import (
	"strings"
	"testing"
)

// toFullWidth rewrites the ASCII in s as a Chinese input method in
// full-width mode would type it.
func toFullWidth(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == ' ':
			return '\u3000'
		case r > ' ' && r < 0x7F:
			return r + 0xFEE0
		}
		return r
	}, s)
}

// TestParsePhoneGenerated writes the same numbers in every combination of
// the forms the rules allow, to catch an interaction the hand-written table
// misses.
func TestParsePhoneGenerated(t *testing.T) {
	n := 0
	check := func(in, want string, kind PhoneKind) {
		t.Helper()
		n++
		for _, s := range []string{in, toFullWidth(in)} {
			p, err := ParsePhone(s)
			if err != nil || p.Number != want || p.Kind != kind {
				t.Errorf("ParsePhone(%q) = %q %v, %v; want %q %v", s, p.Number, p.Kind, err, want, kind)
			}
		}
	}

	for _, prefix := range []string{"", "+86", "+86 ", "+86-", "(+86) ", "0086", "0086 ", "86", "86 ", "0"} {
		for _, body := range []string{"13812345678", "138 1234 5678", "138-1234-5678", "138.1234.5678", "138 12345678"} {
			check(prefix+body, "13812345678", PhoneMobile)
		}
	}

	for _, l := range []struct{ area, sub string }{
		{"0773", "2851234"}, {"0773", "28512345"}, {"010", "62345678"}, {"020", "8765432"}, {"0898", "66123456"},
	} {
		subs := []string{l.sub, l.sub[:3] + " " + l.sub[3:], l.sub[:4] + "-" + l.sub[4:]}
		for _, ext := range []string{"", "转801", " 转 801", " ext. 801", "EXT801", "x801", " X 801", "#801", "-801", " - 801", " 分机 801"} {
			want := l.area + "-" + l.sub
			if ext != "" {
				want += "-801"
			}
			for _, sub := range subs {
				for _, sep := range []string{"", "-", " ", " - ", "."} {
					check(l.area+sep+sub+ext, want, PhoneLandline)
					for _, cc := range []string{"+86", "+86 ", "0086 ", "(+86)"} {
						check(cc+l.area[1:]+sep+sub+ext, want, PhoneLandline)
					}
				}
				check("("+l.area+")"+sub+ext, want, PhoneLandline)
				check("("+l.area+") "+sub+ext, want, PhoneLandline)
				check("+86 ("+l.area[1:]+") "+sub+ext, want, PhoneLandline)
			}
		}
	}
	t.Logf("%d forms, each also in full width", n)
}
