package reportpages

import (
	"strings"
	"testing"

	"github.com/wanjia/wanjia/pkg/reports"
)

// TestTrend: each figure on its own scale, oldest day on the left, the
// highest at the top and 0 at the bottom; a figure that is 0 throughout
// is a flat line at the bottom, and one day is a point.
func TestTrend(t *testing.T) {
	for _, c := range []struct {
		name   string
		values []int
		points string
		last   int
		max    int
	}{
		{"rising", []int{0, 5, 10}, "4.0,52.0 120.0,28.0 236.0,4.0", 10, 10},
		{"zeros", []int{0, 0}, "4.0,52.0 236.0,52.0", 0, 0},
		{"one day", []int{3}, "4.0,4.0", 3, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := &reports.Series{From: "2020-02-01", To: "2020-02-03"}
			for _, v := range c.values {
				s.Items = append(s.Items, reports.SeriesDay{Figures: reports.Figures{"screened_today": v, "support_open": 2 * v}})
			}
			tr := newTrend(s, []string{"screened_today", "support_open"})
			if len(tr.Lines) != 2 {
				t.Fatalf("%d lines", len(tr.Lines))
			}
			sp := tr.Lines[0]
			if sp.Points != c.points || sp.Last != c.last || sp.Max != c.max {
				t.Errorf("got %q last %d max %d, want %q last %d max %d", sp.Points, sp.Last, sp.Max, c.points, c.last, c.max)
			}
			// The second figure, twice the first, draws the same line on its own scale.
			if tr.Lines[1].Points != sp.Points || tr.Lines[1].Max != 2*c.max {
				t.Errorf("support_open on its scale: %q max %d", tr.Lines[1].Points, tr.Lines[1].Max)
			}
			if strings.Count(sp.Points, ",") != len(c.values) {
				t.Errorf("%d points for %d days", strings.Count(sp.Points, ","), len(c.values))
			}
		})
	}
}
