package vector

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/luma-db/luma/internal/metrics"
)

// storeMetrics are the luma_vector_* series. They are registered in the
// server's registry when Options.Metrics is set, and work unregistered
// otherwise.
type storeMetrics struct {
	search       *prometheus.HistogramVec
	ckptWritten  prometheus.Counter
	ckptRebuilds prometheus.Counter
	ckptErrors   prometheus.Counter
	vacuums      prometheus.Counter
}

func newStoreMetrics(s *Store, m *metrics.Metrics) *storeMetrics {
	sm := &storeMetrics{
		search: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "luma_vector_search_seconds",
			Help:    "Vector search latency by planner path (graph, exact, mixed, empty) and whether a filter was given.",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}, []string{"path", "filtered"}),
		ckptWritten:  prometheus.NewCounter(prometheus.CounterOpts{Name: "luma_vector_checkpoints_written_total", Help: "Segment checkpoint files written."}),
		ckptRebuilds: prometheus.NewCounter(prometheus.CounterOpts{Name: "luma_vector_checkpoint_rebuilds_total", Help: "Sealed segments rebuilt from records at start because their checkpoint was missing or unusable."}),
		ckptErrors:   prometheus.NewCounter(prometheus.CounterOpts{Name: "luma_vector_checkpoint_errors_total", Help: "Checkpoint writes that failed."}),
		vacuums:      prometheus.NewCounter(prometheus.CounterOpts{Name: "luma_vector_vacuums_total", Help: "Completed vacuums (online, offline and automatic)."}),
	}
	if m == nil {
		return sm
	}
	m.Register(sm.search, sm.ckptWritten, sm.ckptRebuilds, sm.ckptErrors, sm.vacuums)
	sum := func(f func(c *Collection) float64) func() float64 {
		return func() float64 {
			s.mu.RLock()
			defer s.mu.RUnlock()
			var t float64
			for _, c := range s.colls {
				t += f(c)
			}
			return t
		}
	}
	m.GaugeFunc("luma_vector_collections", "Vector collections.", func() float64 {
		s.mu.RLock()
		defer s.mu.RUnlock()
		return float64(len(s.colls))
	})
	m.GaugeFunc("luma_vector_segments", "Segments across all vector collections.", sum(func(c *Collection) float64 { return float64(len(c.segments())) }))
	m.GaugeFunc("luma_vector_live", "Live vectors across all collections.", sum(func(c *Collection) float64 { return float64(c.live.Load()) }))
	m.GaugeFunc("luma_vector_tombstones", "Deleted or replaced vectors still held in segments (removed by vacuum).", sum(func(c *Collection) float64 { return float64(c.slotsN.Load() - c.live.Load()) }))
	m.GaugeFunc("luma_vector_index_lag", "Vectors waiting for graph insertion (searched exactly meanwhile).", sum(func(c *Collection) float64 { return float64(c.lag()) }))
	return sm
}

func (m *storeMetrics) observeSearch(path string, filtered bool, d time.Duration) {
	m.search.WithLabelValues(path, strconv.FormatBool(filtered)).Observe(d.Seconds())
}
