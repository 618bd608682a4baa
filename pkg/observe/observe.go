// Package observe builds the process's logger and metrics. It knows nothing
// of HTTP routes or the domain; pkg/web and others fill in what they measure.
package observe

import (
	"context"
	"io"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// NewLogger returns a JSON logger (for log shippers in real mode) or a text
// logger (for people reading a terminal in embedded mode).
func NewLogger(w io.Writer, json bool, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if json {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Metrics is the process's Prometheus registry and the HTTP instruments.
// Other packages register their own collectors on Registry.
type Metrics struct {
	Registry     *prometheus.Registry
	HTTPRequests *prometheus.CounterVec   // wanjia_http_requests_total{method,route,status}
	HTTPDuration *prometheus.HistogramVec // wanjia_http_request_duration_seconds{method,route}
}

// NewMetrics builds a fresh registry rather than using the global one, so
// tests can build many engines without "duplicate collector" panics and no
// library can sneak metrics onto /metrics.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wanjia_http_requests_total",
			Help: "HTTP requests answered, by method, route template and status.",
		}, []string{"method", "route", "status"}),
		HTTPDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "wanjia_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by method and route template.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
	}
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.HTTPRequests,
		m.HTTPDuration,
	)
	return m
}

type requestIDKey struct{}

// WithRequestID returns ctx carrying the request id, so that code below the
// HTTP layer (services, audit, enqueued tasks) can log and propagate it
// without importing pkg/web.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id carried by ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
