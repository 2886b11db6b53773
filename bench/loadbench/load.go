package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// spec names one measured point: a system under one workload.
type spec struct {
	System   string `json:"system"`   // luma | redis
	Workload string `json:"workload"` // put | get
	Clients  int    `json:"clients"`
	Size     int    `json:"size"` // value bytes
}

func (s spec) String() string {
	return fmt.Sprintf("%s %s %dc %dB", s.System, s.Workload, s.Clients, s.Size)
}

// point is one measurement of a spec in one round.
type point struct {
	spec
	Round      int     `json:"round"`
	Ops        uint64  `json:"ops"`
	OpsPerSec  float64 `json:"ops_per_sec"`
	Errors     uint64  `json:"errors"`
	FirstError string  `json:"first_error,omitempty"`
	Latency    latency `json:"latency"`
	// CPU per operation over the measured window: the server process (all
	// threads) and this tool (the load generator).
	ServerCPUus float64 `json:"server_cpu_us_per_op"`
	ClientCPUus float64 `json:"client_cpu_us_per_op"`
	// DeviceFlushesPerSec counts cache flushes the data dir's block device
	// completed (/proc/diskstats), all processes included; -1 if unknown.
	DeviceFlushesPerSec float64 `json:"device_flushes_per_sec"`
	LoadAvg1            float64 `json:"loadavg1"`
	// CPUPressure and IOPressure are PSI "some" avg10 (percent) at the end
	// of the window: how much of the time something on the machine waited.
	CPUPressure float64 `json:"cpu_pressure"`
	IOPressure  float64 `json:"io_pressure"`
	// Commit is Luma's commit-group and sync histograms (PUT points only).
	Commit *commitStats `json:"commit,omitempty"`
	// AOFRewrites counts Redis background AOF rewrites during the window.
	AOFRewrites int `json:"aof_rewrites,omitempty"`
}

// commitStats come from Luma's /v1/metrics, scraped at the start and the
// end of the measured window.
type commitStats struct {
	Groups       float64  `json:"groups"`
	GroupsPerSec float64  `json:"groups_per_sec"`
	MeanGroup    float64  `json:"mean_group"`
	GroupP50     float64  `json:"group_p50_le"` // bucket upper bounds
	GroupP99     float64  `json:"group_p99_le"`
	SyncMeanMs   float64  `json:"sync_mean_ms"`
	SyncP50Ms    float64  `json:"sync_p50_le_ms"`
	SyncP99Ms    float64  `json:"sync_p99_le_ms"`
	SyncOver2ms  float64  `json:"sync_share_over_2ms"`
	GroupHist    promHist `json:"group_hist"`
	SyncHist     promHist `json:"sync_hist"`
}

func newCommitStats(before, after promSamples, window time.Duration) *commitStats {
	g := after.hist("luma_commit_group_requests").sub(before.hist("luma_commit_group_requests"))
	s := after.hist("luma_commit_sync_seconds").sub(before.hist("luma_commit_sync_seconds"))
	msAt := func(q float64) float64 { // keeps -1 (beyond the last bucket) as is
		if v := s.quantile(q); v >= 0 {
			return v * 1e3
		}
		return -1
	}
	return &commitStats{
		Groups:       g.Count,
		GroupsPerSec: g.Count / window.Seconds(),
		MeanGroup:    g.mean(),
		GroupP50:     g.quantile(0.5),
		GroupP99:     g.quantile(0.99),
		SyncMeanMs:   s.mean() * 1e3,
		SyncP50Ms:    msAt(0.5),
		SyncP99Ms:    msAt(0.99),
		SyncOver2ms:  s.shareAbove(0.002),
		GroupHist:    g,
		SyncHist:     s,
	}
}

// payload returns a JSON string value of exactly size bytes (quotes
// included) of random letters, so Luma stores and Redis stores the same bytes.
func payload(size int, rng *rand.Rand) []byte {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, size)
	b[0], b[size-1] = '"', '"'
	for i := 1; i < size-1; i++ {
		b[i] = letters[rng.IntN(len(letters))]
	}
	return b
}

func keyName(size, i int) string { return fmt.Sprintf("lb:%d:%06d", size, i) }

// driver issues one system's operations.
type driver interface {
	// preload writes every key of the point's key space.
	preload(ctx context.Context, keys int, val []byte) error
	// op returns a function doing one operation of the workload on a key;
	// each client goroutine gets its own.
	op(workload string) func(ctx context.Context, key int) error
	close()
}

// lumaDriver talks HTTP/1.1 with keep-alive to Luma.
type lumaDriver struct {
	base string
	c    *http.Client
	urls []string // /v1/state/<key> by key index
	body []byte   // PUT body: {"value":<payload>}
	size int
}

func newLumaDriver(base string, clients, keys, size int, val []byte) *lumaDriver {
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          clients + 16,
		MaxIdleConnsPerHost:   clients + 16,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
		ResponseHeaderTimeout: 60 * time.Second,
	}
	d := &lumaDriver{base: base, c: &http.Client{Transport: tr}, size: size}
	d.urls = make([]string, keys)
	for i := range d.urls {
		d.urls[i] = base + "/v1/state/" + keyName(size, i)
	}
	d.body = append(append([]byte(`{"value":`), val...), '}')
	return d
}

var jsonCT = []string{"application/json"}

func (d *lumaDriver) preload(ctx context.Context, keys int, val []byte) error {
	const chunk = 256 // the server's default batch_put limit
	for lo := 0; lo < keys; lo += chunk {
		var b bytes.Buffer
		b.WriteString(`{"operations":[`)
		for i := lo; i < min(lo+chunk, keys); i++ {
			if i > lo {
				b.WriteByte(',')
			}
			b.WriteString(`{"key":"` + keyName(d.size, i) + `","value":`)
			b.Write(val)
			b.WriteByte('}')
		}
		b.WriteString(`]}`)
		if _, err := d.do(ctx, http.MethodPost, d.base+"/v1/state/batch_put", b.Bytes(), nil); err != nil {
			return fmt.Errorf("preload: %w", err)
		}
	}
	return nil
}

// do sends one request and reads the whole answer into buf (if not nil).
func (d *lumaDriver) do(ctx context.Context, method, url string, body []byte, buf *bytes.Buffer) (int, error) {
	var rd *bytes.Reader
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return 0, err
	}
	if body != nil {
		rd = bytes.NewReader(body)
		req.Body = readCloser{rd}
		req.ContentLength = int64(len(body))
		req.Header["Content-Type"] = jsonCT
	}
	resp, err := d.c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	buf.Reset()
	_, err = buf.ReadFrom(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s %s: %s: %.200s", method, url, resp.Status, buf.Bytes())
	}
	return buf.Len(), nil
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

func (d *lumaDriver) op(workload string) func(context.Context, int) error {
	var buf bytes.Buffer
	if workload == "put" {
		return func(ctx context.Context, k int) error {
			_, err := d.do(ctx, http.MethodPut, d.urls[k], d.body, &buf)
			return err
		}
	}
	return func(ctx context.Context, k int) error {
		n, err := d.do(ctx, http.MethodGet, d.urls[k], nil, &buf)
		if err == nil && n < d.size {
			err = fmt.Errorf("GET %s: %d-byte answer for a %d-byte value", d.urls[k], n, d.size)
		}
		return err
	}
}

func (d *lumaDriver) close() { d.c.CloseIdleConnections() }

// redisDriver talks RESP2 to redis-server through go-redis's pool.
type redisDriver struct {
	c    *redis.Client
	keys []string
	val  []byte
	size int
}

func newRedisDriver(addr string, clients, keys, size int, val []byte) *redisDriver {
	d := &redisDriver{c: newRedisClient(addr, clients), val: val, size: size}
	d.keys = make([]string, keys)
	for i := range d.keys {
		d.keys[i] = keyName(size, i)
	}
	return d
}

func (d *redisDriver) preload(ctx context.Context, keys int, val []byte) error {
	const chunk = 1000
	for lo := 0; lo < keys; lo += chunk {
		p := d.c.Pipeline()
		for i := lo; i < min(lo+chunk, keys); i++ {
			p.Set(ctx, d.keys[i], val, 0)
		}
		if _, err := p.Exec(ctx); err != nil {
			return fmt.Errorf("preload: %w", err)
		}
	}
	return nil
}

func (d *redisDriver) op(workload string) func(context.Context, int) error {
	if workload == "put" {
		return func(ctx context.Context, k int) error {
			return d.c.Set(ctx, d.keys[k], d.val, 0).Err()
		}
	}
	return func(ctx context.Context, k int) error {
		v, err := d.c.Get(ctx, d.keys[k]).Bytes()
		if err == nil && len(v) != d.size {
			err = fmt.Errorf("GET %s: %d bytes, want %d", d.keys[k], len(v), d.size)
		}
		return err
	}
}

func (d *redisDriver) close() { _ = d.c.Close() }

// maxClientErrors stops a client that keeps failing (the point then reports
// its errors instead of spinning).
const maxClientErrors = 100

// runPoint starts a fresh server for sp, preloads its key space, runs the
// clients for warm-up + duration and measures the window in between.
func runPoint(lg *slog.Logger, cfg *config, sp spec, round int) (point, error) {
	p := point{spec: sp, Round: round}
	syscall.Sync() // the previous point's writeback must not land in this one
	time.Sleep(cfg.Pause)

	tag := fmt.Sprintf("%s-%dc-%dB-r%d", sp.Workload, sp.Clients, sp.Size, round)
	rng := rand.New(rand.NewPCG(uint64(sp.Size), uint64(round)))
	val := payload(sp.Size, rng)
	var (
		drv     driver
		srv     *proc
		scrapeF func() (promSamples, error)
		redisC  *redis.Client
		cleanup func() error
	)
	switch sp.System {
	case "luma", "lumab":
		bin, profile := cfg.LumaBin, ""
		if sp.System == "lumab" {
			bin = cfg.LumaBBin
		} else if cfg.ProfileDir != "" {
			profile = filepath.Join(cfg.ProfileDir, "luma-"+tag+".cpu.pprof")
		}
		s, err := startLuma(cfg, bin, cfg.Dir, sp.System+"-"+tag, profile)
		if err != nil {
			return p, err
		}
		srv, cleanup = s.proc, func() error { return s.close(cfg.Keep) }
		drv = newLumaDriver(s.base, sp.Clients, cfg.Keys, sp.Size, val)
		mc := &http.Client{Timeout: 10 * time.Second}
		scrapeF = func() (promSamples, error) { return scrape(mc, s.base+"/v1/metrics") }
	case "nethttp":
		s, err := startFloor(cfg, cfg.Dir, tag)
		if err != nil {
			return p, err
		}
		srv, cleanup = s.proc, func() error { return s.close(cfg.Keep) }
		drv = newLumaDriver(s.base, sp.Clients, cfg.Keys, sp.Size, val)
	case "redis":
		s, err := startRedis(cfg, cfg.Dir, tag)
		if err != nil {
			return p, err
		}
		srv, cleanup = s.proc, func() error { return s.close(cfg.Keep) }
		drv = newRedisDriver(s.addr, sp.Clients, cfg.Keys, sp.Size, val)
		redisC = newRedisClient(s.addr, 1)
		defer redisC.Close()
	default:
		return p, fmt.Errorf("unknown system %q", sp.System)
	}
	defer func() {
		drv.close()
		if err := cleanup(); err != nil {
			lg.Warn("stopping server", "point", sp.String(), "err", err)
		}
	}()

	ctx := context.Background()
	if err := drv.preload(ctx, cfg.Keys, val); err != nil {
		return p, fmt.Errorf("%s: %w", sp, err)
	}

	var (
		stop   atomic.Bool
		wg     sync.WaitGroup
		hists  = make([]*hist, sp.Clients)
		errs   = make([]uint64, sp.Clients)
		first  atomic.Pointer[string]
		t0     = time.Now().Add(cfg.Warmup)
		t1     = t0.Add(cfg.Duration)
		window = cfg.Duration
	)
	for i := range sp.Clients {
		hists[i] = new(hist)
		op := drv.op(sp.Workload)
		crng := rand.New(rand.NewPCG(uint64(i), uint64(round)<<32|uint64(sp.Size)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := hists[i]
			for !stop.Load() {
				k := crng.IntN(cfg.Keys)
				start := time.Now()
				err := op(ctx, k)
				end := time.Now()
				if err != nil {
					errs[i]++
					msg := err.Error()
					first.CompareAndSwap(nil, &msg)
					if errors.Is(err, syscall.ECONNREFUSED) || errs[i] >= maxClientErrors {
						return
					}
					continue
				}
				if !start.Before(t0) && !end.After(t1) {
					h.record(end.Sub(start))
				}
			}
		}()
	}

	type snap struct {
		server, client time.Duration
		flushes        int64
		metrics        promSamples
		aofRewrites    int
	}
	take := func() (snap, error) {
		s := snap{server: srv.cpuTime(), client: selfCPU(), flushes: deviceFlushes(cfg.Dir)}
		if scrapeF != nil {
			m, err := scrapeF()
			if err != nil {
				return s, err
			}
			s.metrics = m
		}
		if redisC != nil {
			s.aofRewrites, _ = strconv.Atoi(redisInfo(ctx, redisC, "persistence", "aof_rewrites"))
		}
		return s, nil
	}
	time.Sleep(time.Until(t0))
	if cfg.ProfileDir != "" && sp.System == "luma" {
		_ = srv.signal(syscall.SIGUSR1)
	}
	before, err := take()
	if err != nil {
		stop.Store(true)
		wg.Wait()
		return p, err
	}
	time.Sleep(time.Until(t1))
	if cfg.ProfileDir != "" && sp.System == "luma" {
		_ = srv.signal(syscall.SIGUSR2)
	}
	after, err := take()
	stop.Store(true)
	wg.Wait()
	if err != nil {
		return p, err
	}
	if err := srv.alive(); err != nil {
		return p, err
	}

	var all hist
	for i, h := range hists {
		all.merge(h)
		p.Errors += errs[i]
	}
	if f := first.Load(); f != nil {
		p.FirstError = *f
	}
	p.Ops = all.n
	p.OpsPerSec = float64(all.n) / window.Seconds()
	p.Latency = all.summary()
	if all.n > 0 {
		p.ServerCPUus = float64(after.server-before.server) / float64(time.Microsecond) / float64(all.n)
		p.ClientCPUus = float64(after.client-before.client) / float64(time.Microsecond) / float64(all.n)
	}
	p.DeviceFlushesPerSec = -1
	if before.flushes >= 0 && after.flushes >= 0 {
		p.DeviceFlushesPerSec = float64(after.flushes-before.flushes) / window.Seconds()
	}
	p.LoadAvg1 = loadAvg1()
	p.CPUPressure, p.IOPressure = pressure("cpu"), pressure("io")
	if sp.System != "redis" && sp.Workload == "put" && after.metrics != nil {
		p.Commit = newCommitStats(before.metrics, after.metrics, window)
	}
	p.AOFRewrites = after.aofRewrites - before.aofRewrites
	return p, nil
}

// selfCPU is the CPU time this process has used (user + system).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
