package isolationpages

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wanjia/wanjia/pkg/isolation"
)

// chart is a case's temperatures as a small SVG the server draws (no
// script, no library): a day per column from the start date to the end
// date, each check-in a dot where its local time falls, the dots joined,
// and the fever line at 37.3 °C. A dot at or above the line, or with a
// symptom, is drawn as a fever.
type chart struct {
	W, H       int
	Left, Top  int // the plot's corner
	PW, PH     int // the plot's size
	Fever      float64
	Line       string // the polyline's points
	Dots       []dot
	YTicks     []tick
	XTicks     []tick
	Empty      bool
	FeverLabel string // the temperature the fever line is at
}

type dot struct {
	X, Y  float64
	Fever bool
	T     string // the temperature shown
	When  string // local date and time
}

type tick struct {
	At    float64
	Label string
}

// The chart's scale: 35.0–41.0 °C holds nearly every reading; the rare
// one outside is drawn on the edge.
const (
	chartLow  = 350
	chartHigh = 410
)

// newChart draws the check-ins of a case running from start for days
// (the end date is start+days), in loc.
func newChart(c *isolation.CaseView, loc *time.Location) chart {
	ch := chart{W: 400, H: 220, Left: 34, Top: 12, PW: 346, PH: 178, FeverLabel: temp(float64(isolation.FeverTemperature) / 10)}
	start, err := time.ParseInLocation(time.DateOnly, c.StartDate, loc)
	days := c.Days
	if err != nil || days < 1 {
		ch.Empty = true
		return ch
	}
	y := func(tenths float64) float64 {
		tenths = min(max(tenths, chartLow), chartHigh)
		return float64(ch.Top) + float64(ch.PH)*(chartHigh-tenths)/(chartHigh-chartLow)
	}
	span := float64(days) * 24 * float64(time.Hour)
	x := func(t time.Time) float64 {
		f := float64(t.Sub(start)) / span
		return float64(ch.Left) + float64(ch.PW)*min(max(f, 0), 1)
	}
	ch.Fever = y(isolation.FeverTemperature)
	for t := 360; t <= 400; t += 10 {
		ch.YTicks = append(ch.YTicks, tick{At: y(float64(t)), Label: fmt.Sprint(t / 10)})
	}
	// A label every few days, so a 14-day period and a 60-day one both read.
	step := max(1, (days+4)/5)
	for d := 0; d <= days; d += step {
		day := start.AddDate(0, 0, d)
		ch.XTicks = append(ch.XTicks, tick{At: x(day), Label: day.Format("01-02")})
	}
	ks := slices.Clone(c.Checkins)
	slices.SortFunc(ks, func(a, b isolation.CheckinView) int { return a.At.Compare(b.At) })
	var pts []string
	for _, k := range ks {
		tenths := k.Temperature * 10
		d := dot{X: x(k.At.In(loc)), Y: y(tenths), Fever: k.Fever(),
			T: temp(k.Temperature), When: k.At.In(loc).Format("2006-01-02 15:04")}
		ch.Dots = append(ch.Dots, d)
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", d.X, d.Y))
	}
	ch.Line = strings.Join(pts, " ")
	ch.Empty = len(ks) == 0
	return ch
}
