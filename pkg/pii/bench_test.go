package pii

import "testing"

// Both parsers run on every row of a roster import; the sub-benchmarks are
// the shapes found in real spreadsheets.

var (
	sinkPhone Phone
	sinkID    ID
	sinkErr   error
)

func BenchmarkParsePhone(b *testing.B) {
	for _, bb := range []struct{ name, in string }{
		{"mobile-normalised", "13812345678"},
		{"mobile-formatted", "+86 138-1234-5678"},
		{"mobile-full-width", "１３８１２３４５６７８"},
		{"landline-normalised", "0773-2851234"},
		{"landline-extension", "(0773) 285 1234 转 801"},
		{"invalid", "2851234"},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkPhone, sinkErr = ParsePhone(bb.in)
			}
		})
	}
}

func BenchmarkParseID(b *testing.B) {
	for _, bb := range []struct{ name, in string }{
		{"normalised", "11010519491231002X"},
		{"lower-case-x", "11010519491231002x"},
		{"checksum-error", "110105194912310021"},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkID, sinkErr = ParseID(bb.in, today)
			}
		})
	}
}

func BenchmarkMask(b *testing.B) {
	b.Run("phone", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = MaskPhone("0773-2851234")
		}
	})
	b.Run("id", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = MaskID("11010519491231002X")
		}
	})
}
