package pii

import (
	"testing"
	"unicode/utf8"
)

func TestMaskPhone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"13812345678", "138****5678"},
		{"19912345678", "199****5678"},
		{"0773-2851234", "0773-****234"},
		{"0773-28512345", "0773-*****345"},
		{"010-62345678", "010-*****678"},
		{"020-8765432", "020-****432"},
		{"0773-2851234-801", "0773-****234"}, // the extension is dropped
		// Not normalised numbers: at most half is shown, short ones not at all.
		{"", ""},
		{"123", "***"},
		{"123456", "******"},
		{"1234567", "****567"},
		{"12345678", "****5678"},
		{"1381234567", "1*****4567"},
		{"+86 138 1234 5678", "+86**********5678"},
		{"0773-2851234-1234567", "077*************4567"},
		{"电话号码是一二三", "****是一二三"},
		{"\xff\xfe\xfd", "***"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := MaskPhone(tt.in)
			if got != tt.want {
				t.Fatalf("MaskPhone(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMaskID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"11010519491231002X", "1101**********002X"},
		{"450305196507100015", "4503**********0015"},
		{"", ""},
		{"4503", "****"},
		{"11010519491231002", "*****************"},
		{"110105491231002", "***************"},
		{"11010519491231002X1", "1101***********02X1"},
		{"身份证号码身份证号码身份证号码身份证号", "身份证号***********身份证号"},
		{"\xff1010519491231002\xfe", "\xff101**********002\xfe"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := MaskID(tt.in)
			if got != tt.want {
				t.Fatalf("MaskID(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if utf8.RuneCountInString(got) != utf8.RuneCountInString(tt.in) {
				t.Fatalf("MaskID(%q) changed the length to %d runes", tt.in, utf8.RuneCountInString(got))
			}
		})
	}
}
