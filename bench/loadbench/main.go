// Command loadbench drives a real Luma server over loopback HTTP and, in the
// same run with the same clients and value bytes, a real redis-server made
// as durable as Luma (AOF, appendfsync always: every acknowledged write is
// fsynced), and measures Luma's SSE fan-out.
//
// Load points. Each point is one system × workload × client count × value
// size:
//
//	put  Luma: PUT /v1/state/{key} with body {"value":<v>}   Redis: SET key <v>
//	get  Luma: GET /v1/state/{key}                           Redis: GET key
//
// where <v> is a JSON string of exactly -sizes bytes (quotes included), the
// same bytes for both systems, and key is uniform over -keys keys
// "lb:<size>:<n>". Every point starts a fresh server process on a fresh
// directory under -dir (refused if on tmpfs), preloads the whole key space,
// then runs -clients goroutines back to back (closed loop, keep-alive
// connections: one pooled HTTP/1.1 connection or RESP connection per
// client) for -warmup and then -duration; only operations that start and
// end inside the measured window count. Before each point the tool calls
// sync(2) and idles -pause, so one point's writeback does not land in the
// next. Luma and Redis alternate at every spec (A,B in odd rounds, B,A in
// even ones), the whole plan repeats -rounds times, and the report gives
// per metric the median over rounds, because fsync latency on virtual disks
// is bimodal and drifts.
//
// Latency is measured per operation with time.Now around the client call
// (request written to answer fully read) into an HDR-style log-linear
// histogram (see hist.go: relative error < 0.8 %, exact max). For Luma PUT
// points the tool scrapes /v1/metrics at both ends of the window and
// reports the commit group size and group sync histograms of that window.
// It also reports each server's and its own CPU time per operation and the
// block device's cache flushes per second.
//
// SSE fan-out: a fresh Luma, -sse-subs streams on /v1/stream (one TCP
// connection each), then -sse-writers goroutines PUT at each of -sse-rates
// per second (open loop: the i-th PUT is due at start + i/rate) for
// -sse-warmup + -sse-duration, each value carrying its send time; every
// subscriber checks that it receives every offset exactly once and in
// order, and records send-to-receive latency. Each rate gets a fresh server.
//
// The load generator and the servers share the machine's CPUs unless
// -server-cpus / -client-cpus pin them (taskset -c for the servers, which
// then see only those CPUs and size GOMAXPROCS to them; sched_setaffinity
// on every thread of this process plus GOMAXPROCS for the generator).
//
// Diagnostics: system nethttp is a do-nothing net/http server answering the
// same routes (the HTTP floor on this machine); system lumab with
// -lumab-bin runs a second Luma build in the same interleaved plan (A/B of
// a proposed fix); -profile DIR runs Luma under the in-process harness (the
// serve subcommand, profserve.go) and writes a CPU profile of each Luma
// point's measured window.
//
// Usage, from the repository root:
//
//	go run ./bench/loadbench -json /tmp/loadbench.json
//	go run ./bench/loadbench -load=false -sse-subs 1000 -sse-rates 100,500
//	go run ./bench/loadbench -systems luma,nethttp -workloads put -clients 64 -sse=false -profile /tmp/prof
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// config is everything a run depends on; it is recorded in the JSON output.
type config struct {
	LumaBin   string        `json:"luma_bin"`
	LumaBBin  string        `json:"lumab_bin,omitempty"`
	LumaArgs  string        `json:"luma_args"`
	LumaRev   string        `json:"luma_rev"`
	RedisBin  string        `json:"redis_bin"`
	Dir       string        `json:"dir"`
	Duration  time.Duration `json:"duration_ns"`
	Warmup    time.Duration `json:"warmup_ns"`
	Pause     time.Duration `json:"pause_ns"`
	Rounds    int           `json:"rounds"`
	Clients   []int         `json:"clients"`
	Sizes     []int         `json:"sizes"`
	Workloads []string      `json:"workloads"`
	Systems   []string      `json:"systems"`
	Keys      int           `json:"keys"`
	Load      bool          `json:"load"`

	SSE         bool          `json:"sse"`
	SSESubs     int           `json:"sse_subs"`
	SSERates    []float64     `json:"sse_rates"`
	SSEWriters  int           `json:"sse_writers"`
	SSESize     int           `json:"sse_size"`
	SSEDuration time.Duration `json:"sse_duration_ns"`
	SSEWarmup   time.Duration `json:"sse_warmup_ns"`
	SSEDrain    time.Duration `json:"sse_drain_ns"`

	ServerCPUs        string `json:"server_cpus"`
	ClientCPUs        string `json:"client_cpus"`
	ProfileDir        string `json:"profile_dir,omitempty"`
	ProfileContention bool   `json:"profile_contention,omitempty"`
	Keep              bool   `json:"-"`
	JSONPath          string `json:"-"`

	lumaExtra []string
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		os.Exit(serveMain(os.Args[2:]))
	}
	var (
		cfg                       config
		clients, sizes, workloads string
		systems, sseRates         string
	)
	flag.StringVar(&cfg.LumaBin, "luma-bin", "", "Luma server `binary` to run (default: go build ./cmd/luma into a temporary directory)")
	flag.StringVar(&cfg.LumaRev, "luma-rev", "", "what the Luma binary was built from, for the report (default: git describe --always --dirty of the working directory)")
	flag.StringVar(&cfg.LumaBBin, "lumab-bin", "", "a second Luma `binary`, system lumab, to A/B against luma in the same interleaved run")
	flag.StringVar(&cfg.LumaArgs, "luma-args", "", "extra space-separated flags for every Luma server")
	flag.StringVar(&cfg.RedisBin, "redis-bin", "redis-server", "redis-server `binary` (Debian: apt-get install -y redis-server)")
	flag.StringVar(&cfg.Dir, "dir", os.TempDir(), "parent `directory` of the servers' data directories; must be on a real disk, not tmpfs")
	flag.DurationVar(&cfg.Duration, "duration", 10*time.Second, "measured time per point")
	flag.DurationVar(&cfg.Warmup, "warmup", 2*time.Second, "unmeasured load before each point's measured window")
	flag.DurationVar(&cfg.Pause, "pause", 500*time.Millisecond, "idle time before each point, after sync(2)")
	flag.IntVar(&cfg.Rounds, "rounds", 3, "times the interleaved plan runs; the report is the median")
	flag.StringVar(&clients, "clients", "1,16,64", "comma-separated concurrent client counts")
	flag.StringVar(&sizes, "sizes", "100,1024", "comma-separated value sizes in bytes (the JSON value, quotes included)")
	flag.StringVar(&workloads, "workloads", "put,get", "comma-separated workloads: put, get")
	flag.StringVar(&systems, "systems", "luma,redis", "comma-separated systems: luma, redis, nethttp (a do-nothing net/http server with Luma's state routes: the HTTP floor), lumab (see -lumab-bin)")
	flag.IntVar(&cfg.Keys, "keys", 10000, "key space size per value size")
	flag.BoolVar(&cfg.Load, "load", true, "run the Luma vs Redis load points")
	flag.BoolVar(&cfg.SSE, "sse", true, "run the SSE fan-out test")
	flag.IntVar(&cfg.SSESubs, "sse-subs", 1000, "SSE subscribers, one connection each")
	flag.StringVar(&sseRates, "sse-rates", "500", "comma-separated PUT/s rates of the SSE test (open loop), one run each")
	flag.IntVar(&cfg.SSEWriters, "sse-writers", 64, "writer goroutines (connections) issuing the SSE test's PUTs")
	flag.IntVar(&cfg.SSESize, "sse-size", 100, "approximate value size in bytes of the SSE test's PUTs")
	flag.DurationVar(&cfg.SSEDuration, "sse-duration", 30*time.Second, "measured time of the SSE test")
	flag.DurationVar(&cfg.SSEWarmup, "sse-warmup", 2*time.Second, "writes before the SSE test's measured window (checked for loss, not timed)")
	flag.DurationVar(&cfg.SSEDrain, "sse-drain", 60*time.Second, "longest wait for subscribers to catch up after the writes")
	flag.StringVar(&cfg.ServerCPUs, "server-cpus", "", "pin both servers to these CPUs with taskset -c (e.g. 1); empty = no pinning")
	flag.StringVar(&cfg.ClientCPUs, "client-cpus", "", "pin this load generator to these CPUs (e.g. 0); empty = no pinning")
	flag.StringVar(&cfg.ProfileDir, "profile", "", "run Luma under the in-process harness and write a CPU profile of each Luma point's measured window into this `directory`")
	flag.BoolVar(&cfg.ProfileContention, "profile-contention", false, "with -profile, also write block and mutex profiles")
	flag.BoolVar(&cfg.Keep, "keep", false, "keep the servers' data directories and logs")
	flag.StringVar(&cfg.JSONPath, "json", "", "write the machine notes, raw points, medians and SSE result as JSON to this `file`")
	flag.Parse()

	lg := slog.New(slog.NewTextHandler(os.Stderr, nil))
	err := cfg.parse(clients, sizes, workloads, systems, sseRates)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		flag.Usage()
		os.Exit(2)
	}
	if err := run(lg, &cfg); err != nil {
		lg.Error("loadbench failed", "err", err)
		os.Exit(1)
	}
}

func (c *config) parse(clients, sizes, workloads, systems, sseRates string) error {
	var err error
	for _, f := range strings.Split(sseRates, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		r, err := strconv.ParseFloat(f, 64)
		if err != nil || r <= 0 {
			return fmt.Errorf("-sse-rates: %q is not a positive rate", f)
		}
		c.SSERates = append(c.SSERates, r)
	}
	if len(c.SSERates) == 0 {
		return fmt.Errorf("-sse-rates: empty list")
	}
	if c.Clients, err = parseInts(clients); err != nil {
		return fmt.Errorf("-clients: %w", err)
	}
	if c.Sizes, err = parseInts(sizes); err != nil {
		return fmt.Errorf("-sizes: %w", err)
	}
	if c.Workloads, err = parseWords(workloads, "put", "get"); err != nil {
		return fmt.Errorf("-workloads: %w", err)
	}
	if c.Systems, err = parseWords(systems, "luma", "redis", "nethttp", "lumab"); err != nil {
		return fmt.Errorf("-systems: %w", err)
	}
	if slices.Contains(c.Systems, "lumab") != (c.LumaBBin != "") {
		return fmt.Errorf("-lumab-bin and the system lumab go together")
	}
	c.lumaExtra = strings.Fields(c.LumaArgs)
	switch {
	case c.Duration <= 0 || c.SSEDuration <= 0:
		return fmt.Errorf("-duration and -sse-duration must be positive")
	case c.Warmup < 0 || c.Pause < 0 || c.SSEWarmup < 0:
		return fmt.Errorf("-warmup, -pause and -sse-warmup must not be negative")
	case c.Rounds < 1:
		return fmt.Errorf("-rounds must be at least 1")
	case c.Keys < 1:
		return fmt.Errorf("-keys must be at least 1")
	case c.SSESubs < 1 || c.SSEWriters < 1:
		return fmt.Errorf("-sse-subs and -sse-writers must be positive")
	case c.ProfileContention && c.ProfileDir == "":
		return fmt.Errorf("-profile-contention needs -profile")
	}
	for _, n := range c.Clients {
		if n < 1 {
			return fmt.Errorf("-clients: %d is not a positive count", n)
		}
	}
	for _, n := range c.Sizes {
		if n < 3 {
			return fmt.Errorf("-sizes: %d is below the 3-byte minimum (a JSON string)", n)
		}
	}
	return nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
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

func parseWords(s string, allowed ...string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if !slices.Contains(allowed, f) {
			return nil, fmt.Errorf("unknown %q (known: %s)", f, strings.Join(allowed, ", "))
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty list %q", s)
	}
	return out, nil
}

// report is the JSON output.
type report struct {
	Machine machine      `json:"machine"`
	Config  *config      `json:"config"`
	Points  []point      `json:"points"`
	Rows    []row        `json:"rows"`
	SSE     []*sseResult `json:"sse,omitempty"`
}

func run(lg *slog.Logger, cfg *config) error {
	began := time.Now()
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return err
	}
	if err := checkDataDir(cfg.Dir); err != nil {
		return err
	}
	if wd, err := os.Getwd(); err == nil && !sameDevice(cfg.Dir, wd) {
		lg.Warn("-dir is not on the same filesystem as the working directory", "dir", cfg.Dir, "wd", wd)
	}
	nofile, err := raiseNoFile()
	if err != nil {
		return fmt.Errorf("raising the open-files limit: %w", err)
	}
	if cfg.SSE && nofile < uint64(cfg.SSESubs)+1024 {
		return fmt.Errorf("open-files limit %d is too low for %d subscribers (raise the hard limit: ulimit -Hn)", nofile, cfg.SSESubs)
	}
	if cfg.ClientCPUs != "" {
		if err := pinSelf(cfg.ClientCPUs); err != nil {
			return err
		}
	}
	if cfg.ProfileDir != "" {
		if err := os.MkdirAll(cfg.ProfileDir, 0o755); err != nil {
			return err
		}
	}
	if cfg.LumaBin == "" {
		tmp, err := os.MkdirTemp("", "loadbench-bin-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		lg.Info("building ./cmd/luma")
		if cfg.LumaBin, err = buildLuma(tmp); err != nil {
			return err
		}
	} else if cfg.LumaBin, err = filepath.Abs(cfg.LumaBin); err != nil {
		return err
	}
	if cfg.LumaBBin != "" {
		if cfg.LumaBBin, err = filepath.Abs(cfg.LumaBBin); err != nil {
			return err
		}
	}
	rep := report{Machine: describeMachine(cfg), Config: cfg}
	lg.Info("machine", "cpu", rep.Machine.CPU, "cpus", rep.Machine.CPUs, "kernel", rep.Machine.Kernel,
		"fs", rep.Machine.Filesystem, "dir", cfg.Dir, "loadavg", rep.Machine.LoadAvgStart, "redis", rep.Machine.Redis)

	if cfg.Load {
		plan := buildPlan(cfg)
		for i, sp := range plan {
			round := i/(len(plan)/cfg.Rounds) + 1
			p, err := runPoint(lg, cfg, sp, round)
			if err != nil {
				return fmt.Errorf("round %d, %s: %w", round, sp, err)
			}
			attrs := []any{"round", round, "point", sp.String(), "ops/s", int(p.OpsPerSec),
				"p50_ms", round3(p.Latency.P50ms), "p99_ms", round3(p.Latency.P99ms),
				"server_cpu_us/op", round3(p.ServerCPUus), "loadavg", p.LoadAvg1}
			if p.Commit != nil {
				attrs = append(attrs, "mean_group", round3(p.Commit.MeanGroup), "sync_mean_ms", round3(p.Commit.SyncMeanMs))
			}
			if p.Errors > 0 {
				attrs = append(attrs, "errors", p.Errors, "first_error", p.FirstError)
			}
			lg.Info("point", attrs...)
			rep.Points = append(rep.Points, p)
		}
		rep.Rows = summarize(cfg, rep.Points)
	}
	var sseErr error
	if cfg.SSE {
		for _, rate := range cfg.SSERates {
			res, err := runSSE(lg, cfg, rate)
			if res != nil {
				rep.SSE = append(rep.SSE, res)
				lg.Info("sse", "rate", rate, "achieved", int(res.AchievedRate), "p50_ms", round3(res.Delivery.P50ms),
					"p99_ms", round3(res.Delivery.P99ms), "max_ms", round3(res.Delivery.MaxMs), "lost", res.Lost, "dups", res.Duplicates)
			}
			if err != nil {
				if res == nil {
					return err
				}
				lg.Error("sse check failed", "rate", rate, "err", err)
				sseErr = errors.Join(sseErr, err)
			}
		}
	}
	rep.Machine.LoadAvgEnd = readLoadAvg()
	rep.Machine.CPUPressureEnd, rep.Machine.IOPressureEnd = pressure("cpu"), pressure("io")
	rep.Machine.Elapsed = time.Since(began).Round(time.Second).String()
	printReport(os.Stdout, &rep)
	if cfg.JSONPath != "" {
		b, err := json.MarshalIndent(&rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(cfg.JSONPath, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return sseErr
}

// buildPlan lists every point of every round: specs in the configured
// order (workload, size, clients), systems alternating A,B then B,A.
func buildPlan(cfg *config) []spec {
	var plan []spec
	for r := range cfg.Rounds {
		systems := slices.Clone(cfg.Systems)
		if r%2 == 1 {
			slices.Reverse(systems)
		}
		for _, w := range cfg.Workloads {
			for _, size := range cfg.Sizes {
				for _, c := range cfg.Clients {
					for _, sys := range systems {
						plan = append(plan, spec{System: sys, Workload: w, Clients: c, Size: size})
					}
				}
			}
		}
	}
	return plan
}

func round3(x float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', 3, 64), 64)
	return v
}
