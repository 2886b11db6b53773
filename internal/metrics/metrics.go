// Package metrics holds the Prometheus collectors of one Luma instance: the
// five series of the wire contract plus Luma's own. Each server gets its own
// registry, so tests that start several servers in one process do not share
// counters. All methods are safe on a nil *Metrics (they do nothing), which
// keeps domain packages usable without metrics.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics is the set of collectors of one instance.
type Metrics struct {
	Registry *prometheus.Registry

	// The contract's series (CONTRACT.md §4.1); names are fixed.
	StatePuts    prometheus.Counter
	StateDeletes prometheus.Counter
	VectorOps    prometheus.Counter
	Events       prometheus.Counter
	SSEClients   prometheus.Gauge

	// Luma's own series.
	HTTPRequests   *prometheus.CounterVec
	HTTPDuration   *prometheus.HistogramVec
	CommitGroup    prometheus.Histogram
	CommitSync     prometheus.Histogram
	CommitFailures prometheus.Counter
	SlowCatchups   prometheus.Counter
}

// New creates the collectors and registers them, together with the Go
// runtime and process collectors, in a fresh registry.
func New() *Metrics {
	m := &Metrics{
		Registry:     prometheus.NewRegistry(),
		StatePuts:    prometheus.NewCounter(prometheus.CounterOpts{Name: "state_put_total", Help: "State puts, including internal document and manifest puts."}),
		StateDeletes: prometheus.NewCounter(prometheus.CounterOpts{Name: "state_delete_total", Help: "State deletes, including TTL expiries."}),
		VectorOps:    prometheus.NewCounter(prometheus.CounterOpts{Name: "vector_ops_total", Help: "Vector operations: create, add, upsert, update, delete, search."}),
		Events:       prometheus.NewCounter(prometheus.CounterOpts{Name: "events_total", Help: "Events published."}),
		SSEClients:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "sse_clients", Help: "Open SSE connections."}),
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "luma_http_requests_total", Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		HTTPDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "luma_http_request_duration_seconds", Help: "HTTP request latency by route pattern (SSE excluded).",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
		CommitGroup: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "luma_commit_group_requests", Help: "Requests per durable commit group.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 13),
		}),
		CommitSync: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "luma_commit_sync_seconds", Help: "Latency of one durable group commit (batch apply + fsync).",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .002, .004, .008, .016, .032, .064, .128, .256, 1},
		}),
		CommitFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "luma_commit_failures_total", Help: "Group commits that failed to persist."}),
		SlowCatchups:   prometheus.NewCounter(prometheus.CounterOpts{Name: "luma_sse_catchups_total", Help: "Times a slow SSE subscriber was served from the log instead of the live buffer."}),
	}
	m.Registry.MustRegister(
		m.StatePuts, m.StateDeletes, m.VectorOps, m.Events, m.SSEClients,
		m.HTTPRequests, m.HTTPDuration, m.CommitGroup, m.CommitSync, m.CommitFailures, m.SlowCatchups,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// GaugeFunc registers a gauge whose value is read at scrape time.
func (m *Metrics) GaugeFunc(name, help string, f func() float64) {
	if m == nil {
		return
	}
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
}

// Register adds collectors owned by other packages.
func (m *Metrics) Register(cs ...prometheus.Collector) {
	if m == nil {
		return
	}
	m.Registry.MustRegister(cs...)
}

// AddStatePut counts n state puts.
func (m *Metrics) AddStatePut(n int) {
	if m != nil && n > 0 {
		m.StatePuts.Add(float64(n))
	}
}

// AddStateDelete counts n state deletes.
func (m *Metrics) AddStateDelete(n int) {
	if m != nil && n > 0 {
		m.StateDeletes.Add(float64(n))
	}
}

// AddVectorOp counts n vector operations.
func (m *Metrics) AddVectorOp(n int) {
	if m != nil && n > 0 {
		m.VectorOps.Add(float64(n))
	}
}

// AddEvents counts n published events.
func (m *Metrics) AddEvents(n int) {
	if m != nil && n > 0 {
		m.Events.Add(float64(n))
	}
}

// ObserveCommit records one group commit.
func (m *Metrics) ObserveCommit(requests int, sync time.Duration, failed bool) {
	if m == nil {
		return
	}
	m.CommitGroup.Observe(float64(requests))
	m.CommitSync.Observe(sync.Seconds())
	if failed {
		m.CommitFailures.Inc()
	}
}
