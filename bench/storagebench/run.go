package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// spec is one point of the plan: a variant at a writer count and value size.
type spec struct {
	v         *variant
	writers   int
	valueSize int
}

// point is the measurement of one spec in one round.
type point struct {
	Variant   string    `json:"variant"`
	Writers   int       `json:"writers"`
	ValueSize int       `json:"value_size"`
	Round     int       `json:"round"`
	Started   time.Time `json:"started"`
	Seconds   float64   `json:"seconds"`
	Ops       uint64    `json:"ops"`
	// LoadAvg1 is the 1-minute load average when the point started: the
	// machine is shared, and a busy neighbour shows up here.
	LoadAvg1 float64 `json:"loadavg1"`
	metrics
	Counters counters `json:"counters"`
}

// metrics are the figures a point reports; a summary row holds their
// per-metric medians over the rounds.
type metrics struct {
	OpsPerSec float64 `json:"ops_per_sec"`
	P50ms     float64 `json:"p50_ms"`
	P99ms     float64 `json:"p99_ms"`
	P999ms    float64 `json:"p999_ms"`
	MeanMs    float64 `json:"mean_ms"`
	// OpsPerLogSync is the average group: writer ops made durable by one
	// sync of the commit log.
	OpsPerLogSync float64 `json:"ops_per_log_sync"`
	// OpsPerBatch is writer ops per engine commit (batch or transaction).
	OpsPerBatch    float64 `json:"ops_per_batch"`
	LogSyncsPerSec float64 `json:"log_syncs_per_sec"`
	SyncsPerSec    float64 `json:"syncs_per_sec"`
	// StallMs is the time writes spent in Pebble write stalls.
	StallMs float64 `json:"write_stall_ms"`
	// DeviceFlushesPerSec is cache flushes completed by the block device
	// under -dir (/proc/diskstats), machine-wide; -1 when unknown.
	DeviceFlushesPerSec float64 `json:"device_flushes_per_sec"`
}

func plan(cfg *config, round int) []spec {
	var out []spec
	for _, size := range cfg.ValueSizes {
		for _, n := range cfg.Writers {
			var row []spec
			for _, name := range cfg.Variants {
				v := lookupVariant(name)
				if v.only != nil && !v.only(cfg, n) {
					continue
				}
				row = append(row, spec{v: v, writers: n, valueSize: size})
			}
			// Rotate the order every round so that no variant always
			// follows the same neighbour.
			if len(row) > 0 {
				k := round % len(row)
				row = append(row[k:], row[:k]...)
			}
			out = append(out, row...)
		}
	}
	return out
}

func run(lg *slog.Logger, cfg *config) error {
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return err
	}
	if err := checkNotTmpfs(cfg.Dir, cfg.AllowTmpfs); err != nil {
		return err
	}
	base, err := os.MkdirTemp(cfg.Dir, "storagebench-")
	if err != nil {
		return err
	}
	if !cfg.Keep {
		defer os.RemoveAll(base)
	}
	mach := describeMachine(base)
	perPoint := cfg.Duration + cfg.Warmup + cfg.Pause
	total := 0
	for r := range cfg.Rounds {
		total += len(plan(cfg, r))
	}
	lg.Info("starting", "dir", base, "fs", mach.Filesystem, "points", total,
		"estimate", (time.Duration(total) * (perPoint + 300*time.Millisecond)).Round(time.Second))

	var points []point
	i := 0
	for r := range cfg.Rounds {
		for _, s := range plan(cfg, r) {
			i++
			dir := filepath.Join(base, fmt.Sprintf("%03d-%s-w%d-v%d", i, s.v.name, s.writers, s.valueSize))
			p, err := runPoint(cfg, s, r, dir)
			if err != nil {
				return fmt.Errorf("%s writers=%d value=%d round %d: %w", s.v.name, s.writers, s.valueSize, r+1, err)
			}
			lg.Info("point", "n", fmt.Sprintf("%d/%d", i, total), "variant", p.Variant, "writers", p.Writers,
				"value", p.ValueSize, "ops/s", int(p.OpsPerSec), "p50ms", round3(p.P50ms), "p99ms", round3(p.P99ms),
				"group", round3(p.OpsPerLogSync), "syncs/s", int(p.SyncsPerSec), "stallms", int(p.StallMs), "load1", p.LoadAvg1)
			points = append(points, p)
		}
	}
	mach.LoadAvgEnd = readLoadAvg()
	rows := summarize(cfg, points)
	fmt.Print(markdown(cfg, mach, rows))
	if cfg.JSONPath != "" {
		if err := writeJSON(cfg.JSONPath, cfg, mach, rows, points); err != nil {
			return err
		}
		lg.Info("wrote results", "file", cfg.JSONPath)
	}
	return nil
}

// runPoint opens s's variant on a fresh dir, runs its writers for the
// warm-up and the measured window, and closes and removes it.
func runPoint(cfg *config, s spec, round int, dir string) (point, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return point{}, err
	}
	t, err := s.v.open(dir, cfg)
	if err != nil {
		return point{}, err
	}
	if cfg.Prefill > 0 {
		if err := t.(prefiller).prefill(cfg.Prefill, s.valueSize); err != nil {
			return point{}, errors.Join(fmt.Errorf("prefill: %w", err), t.close())
		}
	}
	runtime.GC()

	var (
		phase   atomic.Int32
		wg      sync.WaitGroup
		errOnce sync.Once
		werr    error
		ws      = make([]*writer, s.writers)
	)
	fail := func(err error) {
		errOnce.Do(func() { werr = err })
		phase.Store(phaseStop)
	}
	seed := uint64(time.Now().UnixNano())
	for i := range ws {
		ws[i] = newWriter(i, s.valueSize, seed)
		wg.Add(1)
		go func(w *writer) {
			defer wg.Done()
			w.loop(t, &phase, fail)
		}(ws[i])
	}

	time.Sleep(cfg.Warmup)
	c0, f0 := t.counters(), deviceFlushes(dir)
	load1 := loadAvg1()
	started := time.Now()
	phase.CompareAndSwap(phaseWarmup, phaseMeasure)
	time.Sleep(cfg.Duration)
	phase.CompareAndSwap(phaseMeasure, phaseStop)
	elapsed := time.Since(started).Seconds()
	c1, f1 := t.counters(), deviceFlushes(dir)
	wg.Wait()

	cerr := t.close()
	if !cfg.Keep {
		if err := os.RemoveAll(dir); err != nil && cerr == nil {
			cerr = err
		}
	}
	if err := errors.Join(werr, cerr); err != nil {
		return point{}, err
	}
	// Push the removed files' metadata (and the discards of this mount)
	// out before the next point starts.
	syscall.Sync()
	time.Sleep(cfg.Pause)

	p := point{
		Variant: s.v.name, Writers: s.writers, ValueSize: s.valueSize, Round: round + 1,
		Started: started.UTC(), Seconds: elapsed, LoadAvg1: load1, Counters: c1.sub(c0),
	}
	var lat []time.Duration
	for _, w := range ws {
		p.Ops += w.ops
		lat = append(lat, w.lat...)
	}
	slices.Sort(lat)
	p.OpsPerSec = float64(p.Ops) / elapsed
	p.P50ms = ms(quantile(lat, 0.50))
	p.P99ms = ms(quantile(lat, 0.99))
	p.P999ms = ms(quantile(lat, 0.999))
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	if len(lat) > 0 {
		p.MeanMs = ms(sum / time.Duration(len(lat)))
	}
	c := p.Counters
	p.OpsPerLogSync = ratio(float64(c.BatchedOps), float64(c.LogSyncs))
	p.OpsPerBatch = ratio(float64(c.BatchedOps), float64(c.Batches))
	p.LogSyncsPerSec = float64(c.LogSyncs) / elapsed
	p.SyncsPerSec = float64(c.Syncs) / elapsed
	p.StallMs = float64(c.StallNanos) / 1e6
	p.DeviceFlushesPerSec = -1
	if f0 >= 0 && f1 >= f0 {
		p.DeviceFlushesPerSec = float64(f1-f0) / elapsed
	}
	return p, nil
}

// quantile returns the q-quantile of sorted (nearest rank).
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func round3(x float64) float64 {
	return float64(int64(x*1000+0.5)) / 1000
}
