package queue

import (
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
)

// Collector exports the size of every queue by task state at scrape time,
// so the figures are never stale and cost nothing between scrapes.
type Collector struct {
	insp *asynq.Inspector
	size *prometheus.Desc
	up   *prometheus.Desc
}

// NewCollector returns a Prometheus collector over insp.
func NewCollector(insp *asynq.Inspector) *Collector {
	return &Collector{
		insp: insp,
		size: prometheus.NewDesc("wanjia_queue_tasks", "Tasks in an Asynq queue, by state.", []string{"queue", "state"}, nil),
		up:   prometheus.NewDesc("wanjia_queue_up", "1 when the queue sizes could be read from Redis.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) { ch <- c.size; ch <- c.up }

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	known, err := c.insp.Queues()
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	exists := map[string]bool{}
	for _, q := range known {
		exists[q] = true
	}
	up := 1.0
	for q := range Weights {
		// A queue nobody has used yet is not in Redis: it is empty.
		var info asynq.QueueInfo
		if exists[q] {
			i, err := c.insp.GetQueueInfo(q)
			if err != nil {
				up = 0
				continue
			}
			info = *i
		}
		for st, n := range map[string]int{
			"pending": info.Pending, "active": info.Active, "scheduled": info.Scheduled,
			"retry": info.Retry, "archived": info.Archived, "completed": info.Completed,
		} {
			ch <- prometheus.MustNewConstMetric(c.size, prometheus.GaugeValue, float64(n), q, st)
		}
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, up)
}
