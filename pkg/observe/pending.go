package observe

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Pending is work the database says is waiting: uploads not yet imported,
// later messages not yet sent. The queue's own figures cannot show it when
// Redis lost the tasks, which is exactly when an operator needs to see it.
type Pending struct {
	Kind   string // "import", "message", …
	Status string // "queued", "running", …
	Count  int
	Oldest time.Duration // age of the oldest such item
}

// PendingSource reports one domain's pending work, over all tenants.
type PendingSource func(ctx context.Context) ([]Pending, error)

// PendingCollector exports pending work at scrape time from each source:
// wanjia_pending_work{kind,status} and wanjia_pending_work_oldest_seconds.
type PendingCollector struct {
	sources []PendingSource
	timeout time.Duration
	count   *prometheus.Desc
	oldest  *prometheus.Desc
	up      *prometheus.Desc
}

// NewPendingCollector returns a collector over sources.
func NewPendingCollector(sources ...PendingSource) *PendingCollector {
	return &PendingCollector{
		sources: sources,
		timeout: 5 * time.Second,
		count:   prometheus.NewDesc("wanjia_pending_work", "Work waiting in the database, by kind and status.", []string{"kind", "status"}, nil),
		oldest:  prometheus.NewDesc("wanjia_pending_work_oldest_seconds", "Age of the oldest waiting item, by kind and status.", []string{"kind", "status"}, nil),
		up:      prometheus.NewDesc("wanjia_pending_work_up", "1 when the pending work could be read from the database.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *PendingCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.count
	ch <- c.oldest
	ch <- c.up
}

// Collect implements prometheus.Collector.
func (c *PendingCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	up := 1.0
	for _, src := range c.sources {
		items, err := src(ctx)
		if err != nil {
			up = 0
			continue
		}
		for _, p := range items {
			ch <- prometheus.MustNewConstMetric(c.count, prometheus.GaugeValue, float64(p.Count), p.Kind, p.Status)
			ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, p.Oldest.Seconds(), p.Kind, p.Status)
		}
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, up)
}
