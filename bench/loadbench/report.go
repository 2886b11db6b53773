package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// row is one spec's summary over the rounds: every metric is the median of
// that metric over the rounds, taken separately, plus the ops/s spread.
type row struct {
	spec
	Rounds       int     `json:"rounds"`
	OpsPerSec    float64 `json:"ops_per_sec"`
	MinOpsPerSec float64 `json:"min_ops_per_sec"`
	MaxOpsPerSec float64 `json:"max_ops_per_sec"`
	P50ms        float64 `json:"p50_ms"`
	P99ms        float64 `json:"p99_ms"`
	P999ms       float64 `json:"p999_ms"`
	MaxMs        float64 `json:"max_ms"` // the largest over rounds
	ServerCPUus  float64 `json:"server_cpu_us_per_op"`
	ClientCPUus  float64 `json:"client_cpu_us_per_op"`
	FlushesPerS  float64 `json:"device_flushes_per_sec"`
	LoadAvg1     float64 `json:"loadavg1"`
	CPUPressure  float64 `json:"cpu_pressure"`
	IOPressure   float64 `json:"io_pressure"`
	Errors       uint64  `json:"errors"`
	AOFRewrites  int     `json:"aof_rewrites,omitempty"`

	// Luma PUT only: medians of the per-round commit statistics.
	MeanGroup    float64 `json:"mean_group,omitempty"`
	GroupP50     float64 `json:"group_p50_le,omitempty"`
	GroupP99     float64 `json:"group_p99_le,omitempty"`
	GroupsPerSec float64 `json:"groups_per_sec,omitempty"`
	SyncMeanMs   float64 `json:"sync_mean_ms,omitempty"`
	SyncP50Ms    float64 `json:"sync_p50_le_ms,omitempty"`
	SyncP99Ms    float64 `json:"sync_p99_le_ms,omitempty"`
	SyncOver2ms  float64 `json:"sync_share_over_2ms,omitempty"`
}

func summarize(cfg *config, points []point) []row {
	groups := map[spec][]point{}
	for _, p := range points {
		groups[p.spec] = append(groups[p.spec], p)
	}
	var rows []row
	for _, w := range cfg.Workloads {
		for _, size := range cfg.Sizes {
			for _, c := range cfg.Clients {
				for _, sys := range cfg.Systems {
					sp := spec{System: sys, Workload: w, Clients: c, Size: size}
					if ps := groups[sp]; len(ps) > 0 {
						rows = append(rows, summarizeSpec(sp, ps))
					}
				}
			}
		}
	}
	return rows
}

func summarizeSpec(sp spec, ps []point) row {
	med := func(f func(*point) float64) float64 {
		xs := make([]float64, len(ps))
		for i := range ps {
			xs[i] = f(&ps[i])
		}
		return median(xs)
	}
	r := row{spec: sp, Rounds: len(ps)}
	r.OpsPerSec = med(func(p *point) float64 { return p.OpsPerSec })
	r.P50ms = med(func(p *point) float64 { return p.Latency.P50ms })
	r.P99ms = med(func(p *point) float64 { return p.Latency.P99ms })
	r.P999ms = med(func(p *point) float64 { return p.Latency.P999ms })
	r.ServerCPUus = med(func(p *point) float64 { return p.ServerCPUus })
	r.ClientCPUus = med(func(p *point) float64 { return p.ClientCPUus })
	r.FlushesPerS = med(func(p *point) float64 { return p.DeviceFlushesPerSec })
	r.LoadAvg1 = med(func(p *point) float64 { return p.LoadAvg1 })
	r.CPUPressure = med(func(p *point) float64 { return p.CPUPressure })
	r.IOPressure = med(func(p *point) float64 { return p.IOPressure })
	r.MinOpsPerSec, r.MaxOpsPerSec = math.Inf(1), 0
	for _, p := range ps {
		r.MinOpsPerSec = min(r.MinOpsPerSec, p.OpsPerSec)
		r.MaxOpsPerSec = max(r.MaxOpsPerSec, p.OpsPerSec)
		r.MaxMs = max(r.MaxMs, p.Latency.MaxMs)
		r.Errors += p.Errors
		r.AOFRewrites += p.AOFRewrites
	}
	if ps[0].Commit != nil {
		c := func(f func(*commitStats) float64) float64 {
			return med(func(p *point) float64 {
				if p.Commit == nil {
					return 0
				}
				return f(p.Commit)
			})
		}
		r.MeanGroup = c(func(s *commitStats) float64 { return s.MeanGroup })
		r.GroupP50 = c(func(s *commitStats) float64 { return s.GroupP50 })
		r.GroupP99 = c(func(s *commitStats) float64 { return s.GroupP99 })
		r.GroupsPerSec = c(func(s *commitStats) float64 { return s.GroupsPerSec })
		r.SyncMeanMs = c(func(s *commitStats) float64 { return s.SyncMeanMs })
		r.SyncP50Ms = c(func(s *commitStats) float64 { return s.SyncP50Ms })
		r.SyncP99Ms = c(func(s *commitStats) float64 { return s.SyncP99Ms })
		r.SyncOver2ms = c(func(s *commitStats) float64 { return s.SyncOver2ms })
	}
	return r
}

// median of xs (the mean of the middle two for an even count).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func findRow(rows []row, sp spec) *row {
	for i := range rows {
		if rows[i].spec == sp {
			return &rows[i]
		}
	}
	return nil
}

func sizeLabel(n int) string {
	if n >= 1024 && n%1024 == 0 {
		return fmt.Sprintf("%d KiB", n/1024)
	}
	return fmt.Sprintf("%d B", n)
}

func num(x float64) string {
	switch {
	case math.IsNaN(x) || x < 0:
		return "–"
	case x >= 100:
		return thousands(int64(math.Round(x)))
	case x >= 10:
		return fmt.Sprintf("%.1f", x)
	case x >= 1:
		return fmt.Sprintf("%.2f", x)
	default:
		return fmt.Sprintf("%.3f", x)
	}
}

// thousands writes n with thin spaces between groups of three digits.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(" ")
		}
		b.WriteRune(c)
	}
	return b.String()
}

// le writes a bucket bound from promHist.quantile (-1 = the +Inf bucket).
func le(x float64) string {
	if x == -1 {
		return "+Inf"
	}
	return num(x)
}

func lat(r *row) string {
	if r == nil {
		return "–"
	}
	return num(r.P50ms) + " / " + num(r.P99ms) + " / " + num(r.P999ms)
}

func ops(r *row) string {
	if r == nil {
		return "–"
	}
	return fmt.Sprintf("%s (%s–%s)", num(r.OpsPerSec), num(r.MinOpsPerSec), num(r.MaxOpsPerSec))
}

// printCompare writes one workload's table of system a against system b.
func printCompare(w io.Writer, rep *report, wl, a, b, title string) {
	cfg := rep.Config
	fmt.Fprintf(w, "\n#### %s\n\n", title)
	fmt.Fprintf(w, "| clients | value | %s ops/s (min–max) | %s ops/s (min–max) | %s ÷ %s | %s p50 / p99 / p999 ms | %s p50 / p99 / p999 ms |\n", a, b, a, b, a, b)
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|")
	for _, size := range cfg.Sizes {
		for _, c := range cfg.Clients {
			l := findRow(rep.Rows, spec{a, wl, c, size})
			r := findRow(rep.Rows, spec{b, wl, c, size})
			ratio := "–"
			if l != nil && r != nil && r.OpsPerSec > 0 {
				ratio = fmt.Sprintf("%.2f", l.OpsPerSec/r.OpsPerSec)
			}
			fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s | %s |\n", c, sizeLabel(size), ops(l), ops(r), ratio, lat(l), lat(r))
		}
	}
}

// printReport writes the Markdown tables of the run.
func printReport(w io.Writer, rep *report) {
	m := rep.Machine
	cfg := rep.Config
	fmt.Fprintf(w, "\nMachine: %s, %d CPUs, kernel %s, %s; data dir %s on %s (%s, %s); redis: %s; luma: %s\n",
		m.CPU, m.CPUs, m.Kernel, m.Go, m.Dir, m.Filesystem, m.Device, m.MountOptions, m.Redis, m.GitCommit)
	fmt.Fprintf(w, "Date %s, load average %s at start, %s at end; PSI some avg10 cpu %.0f%%→%.0f%%, io %.0f%%→%.0f%%; elapsed %s; pinning: servers %q, generator %q\n",
		m.Date, m.LoadAvgStart, m.LoadAvgEnd, m.CPUPressureStart, m.CPUPressureEnd, m.IOPressureStart, m.IOPressureEnd,
		m.Elapsed, m.ServerCPUs, m.ClientCPUs)
	if len(rep.Rows) > 0 {
		fmt.Fprintf(w, "Points: %s measured after %s warm-up, %d rounds, median per metric; %d keys per size.\n",
			cfg.Duration, cfg.Warmup, cfg.Rounds, cfg.Keys)
		titles := map[string]string{
			"put": "Durable write: Luma PUT /v1/state/{key} vs Redis SET (appendfsync always)",
			"get": "Read: Luma GET /v1/state/{key} vs Redis GET",
		}
		for _, wl := range cfg.Workloads {
			if slices.Contains(cfg.Systems, "luma") && slices.Contains(cfg.Systems, "redis") {
				printCompare(w, rep, wl, "luma", "redis", titles[wl])
			}
			if slices.Contains(cfg.Systems, "lumab") {
				printCompare(w, rep, wl, "lumab", "luma", "A/B "+wl+": lumab ("+cfg.LumaBBin+") vs luma ("+cfg.LumaBin+")")
			}
		}
		if slices.Contains(cfg.Systems, "nethttp") {
			fmt.Fprintln(w, "\n#### HTTP floor: a do-nothing net/http server with the same routes (loadbench serve -floor)")
			fmt.Fprintln(w, "\n| workload | clients | value | ops/s (min–max) | p50 / p99 / p999 ms | server µs/op | generator µs/op |")
			fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
			for _, wl := range cfg.Workloads {
				for _, size := range cfg.Sizes {
					for _, c := range cfg.Clients {
						if f := findRow(rep.Rows, spec{"nethttp", wl, c, size}); f != nil {
							fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s |\n", wl, c, sizeLabel(size), ops(f), lat(f), num(f.ServerCPUus), num(f.ClientCPUus))
						}
					}
				}
			}
		}
		if slices.Contains(cfg.Workloads, "put") && (slices.Contains(cfg.Systems, "luma") || slices.Contains(cfg.Systems, "lumab")) {
			fmt.Fprintln(w, "\n#### Luma commit groups during the PUT points (/v1/metrics, measured window)")
			fmt.Fprintln(w, "\n| system | clients | value | requests per group: mean (p50 ≤, p99 ≤) | groups/s | group sync ms: mean (p50 ≤, p99 ≤) | syncs > 2 ms | server µs/op |")
			fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|")
			for _, sys := range []string{"luma", "lumab"} {
				for _, size := range cfg.Sizes {
					for _, c := range cfg.Clients {
						l := findRow(rep.Rows, spec{sys, "put", c, size})
						if l == nil {
							continue
						}
						fmt.Fprintf(w, "| %s | %d | %s | %s (%s, %s) | %s | %s (%s, %s) | %.0f %% | %s |\n", sys, c, sizeLabel(size),
							num(l.MeanGroup), le(l.GroupP50), le(l.GroupP99), num(l.GroupsPerSec),
							num(l.SyncMeanMs), le(l.SyncP50Ms), le(l.SyncP99Ms), 100*l.SyncOver2ms, num(l.ServerCPUus))
					}
				}
			}
		}
		fmt.Fprintln(w, "\n#### CPU time per operation and device flushes")
		fmt.Fprintln(w, "\n| workload | clients | value | Luma server µs/op | Redis server µs/op | generator µs/op (Luma / Redis) | device flushes/s (Luma / Redis) |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
		for _, wl := range cfg.Workloads {
			for _, size := range cfg.Sizes {
				for _, c := range cfg.Clients {
					l := findRow(rep.Rows, spec{"luma", wl, c, size})
					r := findRow(rep.Rows, spec{"redis", wl, c, size})
					get := func(x *row, f func(*row) float64) string {
						if x == nil {
							return "–"
						}
						return num(f(x))
					}
					srv := func(x *row) float64 { return x.ServerCPUus }
					cli := func(x *row) float64 { return x.ClientCPUus }
					fl := func(x *row) float64 { return x.FlushesPerS }
					fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s / %s | %s / %s |\n", wl, c, sizeLabel(size),
						get(l, srv), get(r, srv), get(l, cli), get(r, cli), get(l, fl), get(r, fl))
				}
			}
		}
		var errs []string
		for _, r := range rep.Rows {
			if r.Errors > 0 {
				errs = append(errs, fmt.Sprintf("%s: %d errors", r.spec, r.Errors))
			}
			if r.AOFRewrites > 0 {
				errs = append(errs, fmt.Sprintf("%s: %d AOF rewrites during the windows", r.spec, r.AOFRewrites))
			}
		}
		if len(errs) > 0 {
			fmt.Fprintln(w, "\nNotes: "+strings.Join(errs, "; "))
		}
	}
	if len(rep.SSE) > 0 {
		s0 := rep.SSE[0]
		fmt.Fprintf(w, "\n#### SSE fan-out: %d subscribers, %s measured after %s, %d writers, ~%d B values\n\n", s0.Subscribers, s0.Duration, s0.Warmup, s0.Writers, s0.ValueSize)
		fmt.Fprintln(w, "| PUT/s target | PUT/s achieved | deliveries/s | delivery p50 / p99 / p999 / max ms | worst subscriber p99 ms | PUT p50 / p99 ms | events per subscriber | lost | duplicates | out of order | gaps | complete subscribers | drain ms | Luma cores | generator cores |")
		fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
		for _, s := range rep.SSE {
			fmt.Fprintf(w, "| %s | %s | %s | %s / %s / %s / %s | %s | %s / %s | %d | %d | %d | %d | %d | %d / %d | %s | %.2f | %.2f |\n",
				num(s.TargetRate), num(s.AchievedRate), num(s.AchievedRate*float64(s.Subscribers)),
				num(s.Delivery.P50ms), num(s.Delivery.P99ms), num(s.Delivery.P999ms), num(s.Delivery.MaxMs),
				num(s.WorstSubP99ms), num(s.Put.P50ms), num(s.Put.P99ms),
				s.Events, s.Lost, s.Duplicates, s.OutOfOrder, s.Gaps, s.Complete, s.Subscribers, num(s.DrainMs),
				s.ServerCores, s.ClientCores)
		}
		fmt.Fprintln(w)
		for _, s := range rep.SSE {
			fmt.Fprintf(w, "At %s PUT/s: writes acknowledged %d (errors %d), hub live-buffer overflows %.0f, log catch-ups %.0f, sse_clients %.0f.\n",
				num(s.TargetRate), s.Writes, s.WriteErrors, s.HubDrops, s.Catchups, s.SSEClients)
		}
	}
}
