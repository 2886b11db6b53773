// Command storagebench measures, on the machine it runs on, the write path the
// Luma committer will use, and so chooses the embedded storage engine.
//
// Each logical write is one value record (key ~24 B, value -values bytes)
// plus one event-log record (key 'e' + 8-byte big-endian offset, value the
// JSON envelope of the change, which repeats the value), both committed
// durably (fsync) before the writer is answered. Writer goroutines issue
// writes back to back for a fixed duration; every variant runs at every
// writer count and value size, and the variants are interleaved (A,B,C,A,B,C,
// ...) for -rounds rounds because fsync latency on virtual disks is bimodal
// and drifts: the reported figure is the median over rounds.
//
// Variants (see variants.go for the exact list):
//
//	pebble-committer   one goroutine drains waiting requests into one batch, Apply(Sync)
//	pebble-apply       every writer builds its own batch and calls Apply(Sync) concurrently
//	pebble-2stage      a builder fills batch N+1 while an applier runs Apply(Sync) on batch N
//	pebble-pipelined   the committer calls ApplyNoSyncWait; a waiter goroutine calls SyncWait
//	pebble-committer-mt64  pebble-committer with a 64 MiB memtable instead of the 4 MiB default
//	pebble-apply-mt64  pebble-apply with a 64 MiB memtable (not run by default)
//	bbolt-committer    one goroutine drains waiting requests into one db.Update
//	bbolt-batch        every writer calls db.Batch (bbolt groups them, waiting MaxBatchDelay)
//
// Every point opens a fresh engine in a new directory under -dir, which must
// not be a tmpfs (the point is to measure fsync), and removes it afterwards.
// With -prefill the engine is first loaded with that many bytes, so that the
// measurement starts past the first memtable and WAL file.
//
// Usage:
//
//	go run ./bench/storagebench -duration 5s -rounds 3 -json bench/storagebench/results.json
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"
)

// config is everything a run depends on; it is recorded in the JSON output.
type config struct {
	Dir               string        `json:"dir"`
	Duration          time.Duration `json:"duration_ns"`
	Warmup            time.Duration `json:"warmup_ns"`
	Pause             time.Duration `json:"pause_ns"`
	Rounds            int           `json:"rounds"`
	Writers           []int         `json:"writers"`
	ValueSizes        []int         `json:"value_sizes"`
	Variants          []string      `json:"variants"`
	BigMemtableWriter []int         `json:"big_memtable_writers"`
	MaxGroup          int           `json:"max_group"`
	PipelineDepth     int           `json:"pipeline_depth"`
	BigMemtable       int           `json:"big_memtable_bytes"`
	Prefill           int           `json:"prefill_bytes"`
	AllowTmpfs        bool          `json:"allow_tmpfs"`
	JSONPath          string        `json:"-"`
	Keep              bool          `json:"-"`
}

func main() {
	var (
		cfg               config
		writers, sizes    string
		variants, bigMemW string
	)
	flag.StringVar(&cfg.Dir, "dir", os.TempDir(), "parent `directory` for the per-point databases; must be on a real disk, not tmpfs")
	flag.DurationVar(&cfg.Duration, "duration", 5*time.Second, "measured time per point")
	flag.DurationVar(&cfg.Warmup, "warmup", 500*time.Millisecond, "unmeasured time per point before measuring")
	flag.DurationVar(&cfg.Pause, "pause", 500*time.Millisecond, "idle time between points, after sync(2), so one point's background I/O does not land in the next")
	flag.IntVar(&cfg.Rounds, "rounds", 3, "how many times the whole interleaved plan runs; the report is the median")
	flag.StringVar(&writers, "writers", "1,16,64", "comma-separated concurrent writer counts")
	flag.StringVar(&sizes, "values", "200,1024", "comma-separated value sizes in bytes")
	flag.StringVar(&variants, "variants", strings.Join(defaultVariants, ","), "comma-separated variants to run, of: "+strings.Join(variantNames(), ", "))
	flag.StringVar(&bigMemW, "big-memtable-writers", "64", "writer counts at which the -mt64 variants run (they are skipped at the others)")
	flag.IntVar(&cfg.MaxGroup, "max-group", 256, "most writer requests a committer puts in one batch")
	flag.IntVar(&cfg.PipelineDepth, "pipeline-depth", 4, "most batches pebble-pipelined has applied but not yet seen synced")
	flag.IntVar(&cfg.BigMemtable, "big-memtable", 64<<20, "memtable size in bytes of the -mt64 variants")
	flag.IntVar(&cfg.Prefill, "prefill", 0, "`bytes` of value records loaded (unsynced, then synced) into each fresh engine before its warm-up, to measure past the first memtable and WAL")
	flag.BoolVar(&cfg.AllowTmpfs, "allow-tmpfs", false, "run even if -dir is on tmpfs (the fsync figures are then meaningless)")
	flag.StringVar(&cfg.JSONPath, "json", "", "write the machine notes, raw points and medians as JSON to this `file`")
	flag.BoolVar(&cfg.Keep, "keep", false, "keep the per-point databases instead of removing them")
	flag.Parse()

	lg := slog.New(slog.NewTextHandler(os.Stderr, nil))
	var err error
	if cfg.Writers, err = parseInts(writers); err == nil {
		if cfg.ValueSizes, err = parseInts(sizes); err == nil {
			cfg.BigMemtableWriter, err = parseInts(bigMemW)
		}
	}
	if err == nil {
		cfg.Variants, err = parseVariants(variants)
	}
	if err == nil {
		err = cfg.validate()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "storagebench:", err)
		flag.Usage()
		os.Exit(2)
	}
	if err := run(lg, &cfg); err != nil {
		lg.Error("storagebench failed", "err", err)
		os.Exit(1)
	}
}

func (c *config) validate() error {
	switch {
	case c.Duration <= 0:
		return fmt.Errorf("-duration must be positive")
	case c.Warmup < 0 || c.Pause < 0:
		return fmt.Errorf("-warmup and -pause must not be negative")
	case c.Rounds < 1:
		return fmt.Errorf("-rounds must be at least 1")
	case c.MaxGroup < 1:
		return fmt.Errorf("-max-group must be at least 1")
	case c.PipelineDepth < 1:
		return fmt.Errorf("-pipeline-depth must be at least 1")
	case c.BigMemtable < 1<<20:
		return fmt.Errorf("-big-memtable must be at least 1 MiB")
	case c.Prefill < 0:
		return fmt.Errorf("-prefill must not be negative")
	}
	for _, n := range c.Writers {
		if n < 1 {
			return fmt.Errorf("-writers: %d is not a positive count", n)
		}
	}
	for _, n := range c.ValueSizes {
		if n < 16 {
			return fmt.Errorf("-values: %d is below the 16-byte minimum", n)
		}
	}
	return nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", f)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty list %q", s)
	}
	return out, nil
}

func parseVariants(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if lookupVariant(f) == nil {
			return nil, fmt.Errorf("unknown variant %q (known: %s)", f, strings.Join(variantNames(), ", "))
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no variant selected")
	}
	return out, nil
}
