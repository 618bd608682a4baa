package pii

import "testing"

func TestDialString(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"13812345678", "13812345678"},
		{"0773-2851234", "07732851234"},
		{"010-62345678-801", "01062345678,801"},
		{"", ""},
	} {
		if got := DialString(c.in); got != c.want {
			t.Errorf("DialString(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
