package rosterpages

import "testing"

func TestEstimateRows(t *testing.T) {
	for _, c := range []struct {
		name, data string
		want       int
	}{
		{"a.csv", "h\n1\n2\n", 2}, {"a.CSV", "h\n1\n2", 2}, {"a.csv", "h", 0}, {"a.csv", "", 0}, {"a.xlsx", "h\n1\n", 0},
	} {
		if got := estimateRows(c.name, []byte(c.data)); got != c.want {
			t.Errorf("estimateRows(%q, %q) = %d, want %d", c.name, c.data, got, c.want)
		}
	}
}
