package smslen

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMeasure(t *testing.T) {
	zh := func(n int) string { return strings.Repeat("疫", n) }
	ascii := func(n int) string { return strings.Repeat("a", n) }
	const emoji = "😷" // outside the BMP: a surrogate pair, 2 UTF-16 units

	tests := []struct {
		name  string
		body  string
		sign  string
		rule  Rule
		units int
		enc   Encoding
		parts int
	}{
		{"empty", "", "", GSM, 0, GSM7, 0},
		{"empty with a sign still sends the sign", "", "社区", Aliyun, 4, UCS2, 1},

		// GSM-7: 160 in one part, 153 per part after.
		{"ascii 1", "a", "", GSM, 1, GSM7, 1},
		{"ascii 160", ascii(160), "", GSM, 160, GSM7, 1},
		{"ascii 161", ascii(161), "", GSM, 161, GSM7, 2},
		{"ascii 306", ascii(306), "", GSM, 306, GSM7, 2},
		{"ascii 307", ascii(307), "", GSM, 307, GSM7, 3},
		{"GSM accents stay GSM-7", "Ça coûte 5€", "", GSM, 0, UCS2, 1}, // û is not GSM-7
		{"GSM basic accents", "àèéùìòÄÖÑÜäöñü£¥§¿¡", "", GSM, 19, GSM7, 1},
		{"extension chars count 2", "{}[]~|^€\\", "", GSM, 18, GSM7, 1},
		{"80 euros fill one part exactly", strings.Repeat("€", 80), "", GSM, 160, GSM7, 1},
		// 81 € = 162 septets: split, and a part cannot end between an
		// escape septet and its character, so each part holds 76 (152).
		{"81 euros", strings.Repeat("€", 81), "", GSM, 162, GSM7, 2},
		{"153 euros", strings.Repeat("€", 153), "", GSM, 306, GSM7, 3},

		// UCS-2: 70 in one part, 67 per part after.
		{"chinese 1", zh(1), "", GSM, 1, UCS2, 1},
		{"chinese 70", zh(70), "", GSM, 70, UCS2, 1},
		{"chinese 71", zh(71), "", GSM, 71, UCS2, 2},
		{"chinese 134", zh(134), "", GSM, 134, UCS2, 2},
		{"chinese 135", zh(135), "", GSM, 135, UCS2, 3},
		{"one chinese char makes ascii UCS-2", ascii(69) + "疫", "", GSM, 70, UCS2, 1},
		{"one chinese char makes 160 ascii 3 parts", ascii(159) + "疫", "", GSM, 160, UCS2, 3},
		{"emoji is 2 units", emoji, "", GSM, 2, UCS2, 1},
		{"35 emoji fill one part", strings.Repeat(emoji, 35), "", GSM, 70, UCS2, 1},
		{"36 emoji", strings.Repeat(emoji, 36), "", GSM, 72, UCS2, 2},
		// 66 units then an emoji: the pair is not split, so the first part
		// ends at 66 and the emoji opens the second.
		{"emoji at a part boundary", zh(66) + emoji + zh(3), "", GSM, 71, UCS2, 2},
		{"emoji pushes a third part", zh(66) + emoji + zh(65) + emoji, "", GSM, 135, UCS2, 3},
		{"invalid UTF-8 is UCS-2, one unit", "a\xffb", "", GSM, 3, UCS2, 1},

		// Aliyun: 70/67 whatever the characters, with 【sign】 counted.
		{"aliyun ascii 70", ascii(70), "", Aliyun, 70, UCS2, 1},
		{"aliyun ascii 71", ascii(71), "", Aliyun, 71, UCS2, 2},
		{"aliyun chinese 134", zh(134), "", Aliyun, 134, UCS2, 2},
		{"aliyun chinese 135", zh(135), "", Aliyun, 135, UCS2, 3},
		{"aliyun sign counts with brackets", zh(64), "万家社区", Aliyun, 70, UCS2, 1},
		{"aliyun sign tips it over", zh(65), "万家社区", Aliyun, 71, UCS2, 2},
		{"aliyun sign at 134", zh(128), "万家社区", Aliyun, 134, UCS2, 2},
		{"aliyun sign at 135", zh(129), "万家社区", Aliyun, 135, UCS2, 3},
		{"aliyun emoji 2 units", zh(68) + emoji, "", Aliyun, 70, UCS2, 1},
		{"aliyun emoji over", zh(69) + emoji, "", Aliyun, 71, UCS2, 2},

		// A sign under the GSM rule is prepended too; its brackets are not
		// GSM-7.
		{"gsm rule with a sign", "hello", "wj", GSM, 9, UCS2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Measure(tt.body, tt.sign, tt.rule)
			if tt.units != 0 && got.Units != tt.units {
				t.Errorf("Units = %d, want %d", got.Units, tt.units)
			}
			if got.Encoding != tt.enc {
				t.Errorf("Encoding = %v, want %v", got.Encoding, tt.enc)
			}
			if got.Parts != tt.parts {
				t.Errorf("Parts = %d, want %d (units %d)", got.Parts, tt.parts, got.Units)
			}
			if p := Parts(tt.body, tt.sign, tt.rule); p != got.Parts {
				t.Errorf("Parts() = %d, Measure().Parts = %d", p, got.Parts)
			}
		})
	}
}

// The parts can never hold fewer units than the message: a guard against
// an off-by-one in the greedy fill.
func FuzzMeasure(f *testing.F) {
	for _, s := range []string{"", "a", "疫情", "😷€{", strings.Repeat("€", 81), "a\xff"} {
		f.Add(s, "", false)
		f.Add(s, "社区", true)
	}
	f.Fuzz(func(t *testing.T, body, sign string, aliyun bool) {
		rule := GSM
		if aliyun {
			rule = Aliyun
		}
		l := Measure(body, sign, rule)
		if body == "" && sign == "" {
			if l.Parts != 0 {
				t.Fatalf("empty: %d parts", l.Parts)
			}
			return
		}
		single, per := gsmSingle, gsmPart
		if l.Encoding == UCS2 {
			single, per = ucs2Single, ucs2Part
		}
		switch {
		case l.Parts < 1:
			t.Fatalf("%d parts", l.Parts)
		case l.Parts == 1 && l.Units > single:
			t.Fatalf("%d units in one part", l.Units)
		case l.Parts > 1 && l.Units > l.Parts*per:
			t.Fatalf("%d units in %d parts", l.Units, l.Parts)
		case l.Units < utf8.RuneCountInString(body):
			t.Fatalf("%d units for %d runes", l.Units, utf8.RuneCountInString(body))
		}
	})
}
