package isolationpages

import (
	"testing"
	"time"

	"github.com/wanjia/wanjia/pkg/isolation"
)

// TestChart: each reading is a dot at its local time between the start
// and the end date, above the 37.3 °C line exactly when it is a fever (or
// has a symptom), and a reading off the scale stays on the plot's edge.
func TestChart(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	at := func(day, hour int) time.Time { return time.Date(2020, 2, day, hour, 0, 0, 0, loc) }
	c := &isolation.CaseView{StartDate: "2020-02-01", Days: 14, EndDate: "2020-02-15", Checkins: []isolation.CheckinView{
		{Temperature: 37.3, At: at(3, 12)}, // newest first, as the service lists them
		{Temperature: 36.5, Symptoms: []string{"cough"}, At: at(2, 12)},
		{Temperature: 37.2, At: at(1, 12)},
		{Temperature: 43.0, At: at(15, 12)},
	}}
	ch := newChart(c, loc)
	if len(ch.Dots) != 4 || ch.Empty {
		t.Fatalf("%d dots, want 4", len(ch.Dots))
	}
	for i, want := range []struct {
		fever, above bool
	}{{false, false}, {true, false}, {true, true}, {true, true}} {
		d := ch.Dots[i]
		if d.Fever != want.fever || (d.Y <= ch.Fever) != want.above {
			t.Errorf("dot %d (%s °C): fever %v, above the line %v; want %v, %v", i, d.T, d.Fever, d.Y <= ch.Fever, want.fever, want.above)
		}
		if i > 0 && d.X <= ch.Dots[i-1].X {
			t.Errorf("dot %d is not right of the one before", i)
		}
	}
	if top := ch.Dots[3]; top.Y != float64(ch.Top) || top.X != float64(ch.Left+ch.PW) {
		t.Errorf("43.0 °C on the last day at (%v, %v), want the plot's top right corner", top.X, top.Y)
	}
	if day2 := float64(ch.Left) + float64(ch.PW)*(1.5/14); ch.Dots[1].X != day2 {
		t.Errorf("noon of the second day at x=%v, want %v", ch.Dots[1].X, day2)
	}
	if ch.FeverLabel != "37.3" || len(ch.XTicks) == 0 || ch.XTicks[0].Label != "02-01" {
		t.Errorf("labels: fever %q, first day %+v", ch.FeverLabel, ch.XTicks)
	}
	if empty := newChart(&isolation.CaseView{StartDate: "2020-02-01", Days: 14}, loc); !empty.Empty || empty.Line != "" {
		t.Error("a case without check-ins is not drawn empty")
	}
}
