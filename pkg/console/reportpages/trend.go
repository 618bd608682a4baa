package reportpages

import (
	"fmt"
	"strings"

	"github.com/wanjia/wanjia/pkg/reports"
)

// trend is a series' main figures as small line charts the server draws
// (inline SVG: no script, no library, nothing fetched), one per figure
// on its own scale: the households screened run in thousands, the fever
// alerts in ones, and one shared axis would flatten the second.
type trend struct {
	From, To string
	Lines    []spark
}

// spark is one figure's line over the days.
type spark struct {
	Key          string
	W, H         int
	Points       string // the polyline's
	LastX, LastY float64
	Last, Max    int
}

const (
	sparkW, sparkH = 240, 56
	sparkPad       = 4
)

// newTrend draws keys of s's days, oldest on the left.
func newTrend(s *reports.Series, keys []string) trend {
	t := trend{From: s.From, To: s.To}
	n := len(s.Items)
	for _, k := range keys {
		sp := spark{Key: k, W: sparkW, H: sparkH}
		for _, d := range s.Items {
			sp.Max = max(sp.Max, d.Figures[k])
		}
		pts := make([]string, 0, n)
		for i, d := range s.Items {
			x := float64(sparkPad)
			if n > 1 {
				x += float64(i) * float64(sparkW-2*sparkPad) / float64(n-1)
			}
			y := float64(sparkH - sparkPad)
			if sp.Max > 0 {
				y -= float64(d.Figures[k]) * float64(sparkH-2*sparkPad) / float64(sp.Max)
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
			sp.LastX, sp.LastY, sp.Last = x, y, d.Figures[k]
		}
		sp.Points = strings.Join(pts, " ")
		t.Lines = append(t.Lines, sp)
	}
	return t
}
