package outreach

import "github.com/prometheus/client_golang/prometheus"

// Metrics are outreach's counters for the operator.
type Metrics struct {
	messages *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	waits    *prometheus.CounterVec
	auth     *prometheus.CounterVec
}

// NewMetrics registers outreach's metrics on reg (nil: not exported).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wanjia_outreach_messages_total",
			Help: "Messages that reached a status, by status and provider.",
		}, []string{"status", "provider"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "wanjia_outreach_send_seconds",
			Help:    "Time a provider took to take a message, by provider and outcome.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"provider", "outcome"}),
		waits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wanjia_outreach_bucket_waits_total",
			Help: "Times a send found a shared rate bucket short and waited, by bucket (community, provider, or alert: alerts' own).",
		}, []string{"bucket"}),
		auth: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wanjia_outreach_provider_auth_failures_total",
			Help: "Sends the provider refused for our credentials (each pauses its campaign): alert on any increase.",
		}, []string{"provider"}),
	}
	if reg != nil {
		reg.MustRegister(m.messages, m.latency, m.waits, m.auth)
	}
	return m
}

func (m *Metrics) count(status, provider string) {
	if m != nil {
		m.messages.WithLabelValues(status, provider).Inc()
	}
}

func (m *Metrics) observe(provider, outcome string, seconds float64) {
	if m != nil {
		m.latency.WithLabelValues(provider, outcome).Observe(seconds)
	}
}

func (m *Metrics) bucketWait(kind string) {
	if m != nil {
		m.waits.WithLabelValues(kind).Inc()
	}
}

func (m *Metrics) authFailure(provider string) {
	if m != nil {
		m.auth.WithLabelValues(provider).Inc()
	}
}
