package observe

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func TestNewLogger(t *testing.T) {
	tests := []struct {
		name    string
		json    bool
		level   slog.Level
		logInfo bool
	}{
		{"json info", true, slog.LevelInfo, true},
		{"text info", false, slog.LevelInfo, true},
		{"json warn drops info", true, slog.LevelWarn, false},
		{"text debug", false, slog.LevelDebug, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := NewLogger(&buf, tt.json, tt.level)
			l.Info("hello", "request_id", "r1")
			out := buf.String()
			if !tt.logInfo {
				if out != "" {
					t.Fatalf("info logged at level %v: %q", tt.level, out)
				}
				return
			}
			if tt.json {
				var rec map[string]any
				if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
					t.Fatalf("not JSON: %q: %v", out, err)
				}
				if rec["msg"] != "hello" || rec["request_id"] != "r1" {
					t.Fatalf("record = %v", rec)
				}
			} else if !strings.Contains(out, "msg=hello") || !strings.Contains(out, "request_id=r1") {
				t.Fatalf("text output = %q", out)
			}
		})
	}
}

func TestNewMetricsIndependentRegistries(t *testing.T) {
	a, b := NewMetrics(), NewMetrics() // must not panic: separate registries
	a.HTTPRequests.WithLabelValues("GET", "/x", "200").Inc()
	if got := counterValue(t, a.HTTPRequests.WithLabelValues("GET", "/x", "200")); got != 1 {
		t.Errorf("a counter = %v", got)
	}
	if got := counterValue(t, b.HTTPRequests.WithLabelValues("GET", "/x", "200")); got != 0 {
		t.Errorf("b counter = %v, registries are shared", got)
	}
	a.HTTPDuration.WithLabelValues("GET", "/x").Observe(0.01)

	mfs, err := a.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	for _, want := range []string{
		"wanjia_http_requests_total", "wanjia_http_request_duration_seconds",
		"go_goroutines", "process_start_time_seconds",
	} {
		if !names[want] {
			t.Errorf("metric %s not gathered", want)
		}
	}
}

func TestRequestIDContext(t *testing.T) {
	ctx := context.Background()
	if got := RequestID(ctx); got != "" {
		t.Errorf("empty ctx gave %q", got)
	}
	if got := RequestID(WithRequestID(ctx, "abc")); got != "abc" {
		t.Errorf("got %q", got)
	}
}

// counterValue reads a counter without prometheus/testutil, whose extra
// dependencies are not in go.sum.
func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
