package store

import (
	"encoding/json"
	"slices"
	"testing"
)

// TestTags: what the fast path reads is what encoding/json reads, and
// what it cannot read goes to encoding/json.
func TestTags(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		fast bool
	}{
		{`[]`, []string{}, true},
		{` [ ] `, []string{}, true},
		{`["独居老人"]`, []string{"独居老人"}, true},
		{`["a", "b"]`, []string{"a", "b"}, true},
		{`["a","b"]`, []string{"a", "b"}, true},
		{`[""]`, []string{""}, true},
		{`["a\"b"]`, []string{`a"b`}, false},
		{`["\u72ec"]`, []string{"独"}, false},
		{`["a",]`, nil, false},
		{`["a" "b"]`, nil, false},
		{`[1]`, nil, false},
		{`null`, nil, false},
		{"[\"a\tb\"]", nil, false},
	} {
		_, fast := plainTags(tc.in)
		if fast != tc.fast {
			t.Errorf("%s: fast path %v, want %v", tc.in, fast, tc.fast)
		}
		var got Tags
		err := got.Scan(tc.in)
		var std []string
		stdErr := json.Unmarshal([]byte(tc.in), &std)
		if (err != nil) != (stdErr != nil) {
			t.Errorf("%s: error %v, encoding/json %v", tc.in, err, stdErr)
			continue
		}
		if err == nil && (!slices.Equal(got, tc.want) || !slices.Equal([]string(got), std)) {
			t.Errorf("%s: %q, want %q (encoding/json %q)", tc.in, got, tc.want, std)
		}
	}
	for _, v := range []Tags{nil, {}, {"a", `b"c`}} {
		raw, err := v.Value()
		if err != nil {
			t.Fatal(err)
		}
		var back Tags
		if err := back.Scan(raw); err != nil || len(back) != len(v) {
			t.Errorf("%q: written %v, read back %q (%v)", v, raw, back, err)
		}
	}
}

// FuzzTags: whatever the fast path accepts, encoding/json reads the same.
func FuzzTags(f *testing.F) {
	for _, s := range []string{`[]`, `["a","b"]`, `["a", "b"]`, `["a\"b"]`, `[""]`, `["a",]`, "[\"a\tb\"]", "[\n\"a\"]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := plainTags(s)
		if !ok {
			return
		}
		var std []string
		if err := json.Unmarshal([]byte(s), &std); err != nil {
			t.Fatalf("%q: fast %q, encoding/json refuses it: %v", s, got, err)
		}
		if !slices.Equal([]string(got), std) {
			t.Fatalf("%q: fast %q, encoding/json %q", s, got, std)
		}
	})
}
