package audit

import (
	"reflect"
	"testing"

	"github.com/google/uuid"
)

func TestMaskText(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"mobile", "13800138000", "138****8000"},
		{"ID number", "45030219900101002X", "4503**********002X"},
		{"ID number, lower-case x", "45030219900101002x", "4503**********002X"},
		{"old ID number", "450302900101002", "***************"},
		{"full-width mobile", "１３８００１３８０００", "138****8000"},
		{"in a file name", "张三13800138000名单.xlsx", "张三138****8000名单.xlsx"},
		{"phone ending", "38000", "*8000"},
		{"landline digits", "07732851234", "077****1234"},
		{"with a country code", "8613800138000", "*********8000"},
		{"two numbers", "13800138000/45030219900101002X", "138****8000/4503**********002X"},
		{"four digits stay", "8000", "8000"},
		{"a name stays", "赵六", "赵六"},
		{"a date stays", "2026-11-28", "2026-11-28"},
		{"a time stays", "2026-11-28T10:00:00Z", "2026-11-28T10:00:00Z"},
		{"a UUID stays", "01890a5d-ac96-7745-8123-302099818057", "01890a5d-ac96-7745-8123-302099818057"},
		{"masked stays masked", "138****8000", "138****8000"},
		{"masked ID stays", "4503**********002X", "4503**********002X"},
		{"empty", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := MaskText(c.in); got != c.want {
				t.Errorf("MaskText(%q) = %q, want %q", c.in, got, c.want)
			}
			if again := MaskText(MaskText(c.in)); again != c.want {
				t.Errorf("MaskText twice = %q, want %q", again, c.want)
			}
		})
	}
}

func TestMaskSearch(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"138 0013 8000", "138****8000"},
		{"138-0013-8000", "138****8000"},
		{"+86 138 0013 8000", "+*********8000"},
		{"4503 0219 9001 0100 2X", "4503**********002X"},
		{"13800138000", "138****8000"},
		{"赵", "赵"},
		{"赵六 138 0013 8000", "赵六 138****8000"},
		{"0013", "0013"},
	} {
		if got := MaskSearch(c.in); got != c.want {
			t.Errorf("MaskSearch(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestMaskDetails: every string at any depth, a search as a search, and
// the caller's map untouched.
func TestMaskDetails(t *testing.T) {
	in := map[string]any{
		"q":        "138 0013 8000",
		"filename": "13800138000.xlsx",
		"ids":      []string{"01890a5d-ac96-7745-8123-302099818057"},
		"phones":   []any{"13800138000", "138****8000"},
		"nested":   map[string]any{"id_number": "45030219900101002X"},
		"count":    2,
		"masked":   false,
	}
	want := map[string]any{
		"q":        "138****8000",
		"filename": "138****8000.xlsx",
		"ids":      []string{"01890a5d-ac96-7745-8123-302099818057"},
		"phones":   []any{"138****8000", "138****8000"},
		"nested":   map[string]any{"id_number": "4503**********002X"},
		"count":    2,
		"masked":   false,
	}
	if got := maskDetails(in); !reflect.DeepEqual(got, want) {
		t.Errorf("maskDetails = %v\nwant %v", got, want)
	}
	if in["q"] != "138 0013 8000" || in["phones"].([]any)[0] != "13800138000" {
		t.Errorf("maskDetails changed its input: %v", in)
	}
	if maskDetails(nil) != nil {
		t.Error("nil details became something")
	}
}

func TestMaskTextGroups(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"138 0013 8000", "138****8000"},
		{"138-0013-8000.csv", "138****8000.csv"},
		{"+86 138 0013 8000", "+*********8000"},
		{"4503 0219 9001 0100 2X", "4503**********002X"},
		{"2026-11-28", "2026-11-28"},
		{"2026-11-28 10:00", "2026-11-28 10:00"},
		{"0773-2851234", "077****1234"},
		{"room 301-2", "room 301-2"},
	} {
		if got := MaskText(c.in); got != c.want {
			t.Errorf("MaskText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// BenchmarkMaskDetails is the cost the rule adds to every read's entry: a
// page of fifty ids and a search.
func BenchmarkMaskDetails(b *testing.B) {
	ids := make([]string, 50)
	for i := range ids {
		ids[i] = uuid.Must(uuid.NewV7()).String()
	}
	d := map[string]any{"masked": false, "count": 50, "ids": ids, "q": "13800138000", "grid": "yucai-g1"}
	b.ReportAllocs()
	for b.Loop() {
		_ = maskDetails(d)
	}
}
