package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

// row is one spec's summary over the rounds: every metric is the median of
// that metric over the rounds (taken separately), plus the ops/s spread.
type row struct {
	Variant   string `json:"variant"`
	Writers   int    `json:"writers"`
	ValueSize int    `json:"value_size"`
	Rounds    int    `json:"rounds"`
	metrics
	MinOpsPerSec float64 `json:"min_ops_per_sec"`
	MaxOpsPerSec float64 `json:"max_ops_per_sec"`
	LoadAvg1     float64 `json:"loadavg1"`
}

func summarize(cfg *config, points []point) []row {
	type key struct {
		variant       string
		writers, size int
	}
	groups := map[key][]point{}
	var order []key
	for _, p := range points {
		k := key{p.Variant, p.Writers, p.ValueSize}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], p)
	}
	// Report in the configured order, not the rotated run order.
	rank := func(k key) (int, int, int) {
		return slices.Index(cfg.ValueSizes, k.size), slices.Index(cfg.Writers, k.writers), slices.Index(cfg.Variants, k.variant)
	}
	slices.SortFunc(order, func(a, b key) int {
		a1, a2, a3 := rank(a)
		b1, b2, b3 := rank(b)
		if a1 != b1 {
			return a1 - b1
		}
		if a2 != b2 {
			return a2 - b2
		}
		return a3 - b3
	})
	var rows []row
	for _, k := range order {
		ps := groups[k]
		med := func(f func(*point) float64) float64 {
			xs := make([]float64, len(ps))
			for i := range ps {
				xs[i] = f(&ps[i])
			}
			return median(xs)
		}
		r := row{Variant: k.variant, Writers: k.writers, ValueSize: k.size, Rounds: len(ps)}
		r.OpsPerSec = med(func(p *point) float64 { return p.OpsPerSec })
		r.P50ms = med(func(p *point) float64 { return p.P50ms })
		r.P99ms = med(func(p *point) float64 { return p.P99ms })
		r.P999ms = med(func(p *point) float64 { return p.P999ms })
		r.MeanMs = med(func(p *point) float64 { return p.MeanMs })
		r.OpsPerLogSync = med(func(p *point) float64 { return p.OpsPerLogSync })
		r.OpsPerBatch = med(func(p *point) float64 { return p.OpsPerBatch })
		r.LogSyncsPerSec = med(func(p *point) float64 { return p.LogSyncsPerSec })
		r.SyncsPerSec = med(func(p *point) float64 { return p.SyncsPerSec })
		r.StallMs = med(func(p *point) float64 { return p.StallMs })
		r.DeviceFlushesPerSec = med(func(p *point) float64 { return p.DeviceFlushesPerSec })
		r.LoadAvg1 = med(func(p *point) float64 { return p.LoadAvg1 })
		r.MinOpsPerSec, r.MaxOpsPerSec = ps[0].OpsPerSec, ps[0].OpsPerSec
		for _, p := range ps[1:] {
			r.MinOpsPerSec = min(r.MinOpsPerSec, p.OpsPerSec)
			r.MaxOpsPerSec = max(r.MaxOpsPerSec, p.OpsPerSec)
		}
		rows = append(rows, r)
	}
	return rows
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// markdown renders one table per value size.
func markdown(cfg *config, m machine, rows []row) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n<!-- storagebench %s; %s, %d CPUs; %s on %s (%s); loadavg %s -> %s -->\n",
		m.Date, m.CPU, m.CPUs, m.Filesystem, m.Device, m.MountOptions, m.LoadAvgStart, m.LoadAvgEnd)
	for _, size := range cfg.ValueSizes {
		fmt.Fprintf(&b, "\n**%s values** — median of %d rounds of %s per point\n\n", sizeName(size), cfg.Rounds, cfg.Duration)
		b.WriteString("| variant | writers | ops/s | ops/s min–max | p50 ms | p99 ms | p99.9 ms | ops per log fsync | engine fsyncs/s | device flushes/s | write stall ms |\n")
		b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, r := range rows {
			if r.ValueSize != size {
				continue
			}
			flushes := "–"
			if r.DeviceFlushesPerSec >= 0 {
				flushes = fmt.Sprintf("%.0f", r.DeviceFlushesPerSec)
			}
			stall := "–"
			if strings.HasPrefix(r.Variant, "pebble") {
				stall = fmt.Sprintf("%.0f", r.StallMs)
			}
			fmt.Fprintf(&b, "| %s | %d | %.0f | %.0f–%.0f | %.3f | %.3f | %.3f | %.1f | %.0f | %s | %s |\n",
				r.Variant, r.Writers, r.OpsPerSec, r.MinOpsPerSec, r.MaxOpsPerSec,
				r.P50ms, r.P99ms, r.P999ms, r.OpsPerLogSync, r.SyncsPerSec, flushes, stall)
		}
	}
	return b.String()
}

func sizeName(n int) string {
	if n%1024 == 0 {
		return fmt.Sprintf("%d KiB", n/1024)
	}
	return fmt.Sprintf("%d B", n)
}

func writeJSON(path string, cfg *config, m machine, rows []row, points []point) error {
	out := struct {
		Machine machine `json:"machine"`
		Config  *config `json:"config"`
		Summary []row   `json:"summary"`
		Points  []point `json:"points"`
	}{m, cfg, rows, points}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
