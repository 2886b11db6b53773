// Command sqlhttp measures SQL over HTTP against the same statements run
// in-process on the store the server uses (internal/sqlstore: the pure-Go
// driver, WAL, synchronous FULL, 4 read-only connections, one writer), in
// the same run, to give the cost of the HTTP layer.
//
// Workloads, each at every client count of -clients (closed loop, one
// keep-alive connection per HTTP client):
//
//	point   SELECT id, v FROM kv WHERE id = ?                      (random id)
//	range   SELECT id, v FROM kv WHERE id >= ? ORDER BY id LIMIT 1000
//	insert  INSERT INTO ins(c, v) VALUES (?, ?)                    (one row, 100 B)
//
// kv holds -rows rows of a 100-byte text. Modes:
//
//	driver        sqlstore.Query / sqlstore.Exec in this process
//	driver+event  (insert only) Exec with the server's sql_exec event hook:
//	              an event appended through a storage committer (Pebble,
//	              fsync) after each commit, as the server does
//	http          POST /v1/sql/query or /v1/sql/exec on a real luma process
//
// For each point the modes run back to back for -dur each, -rounds times,
// in an order that alternates from round to round (the machine is shared;
// fsync latency is bimodal); every figure is the median over the rounds,
// with the spread of ops/s (min–max). The ratio is the median driver rate
// over the median rate of the mode. HTTP answers are checked (status 200,
// 1 or 1000 rows); the client reads every body but does not decode it.
//
// Usage, from the repository root:
//
//	go build -o /tmp/luma ./cmd/luma
//	go run ./bench/sqlhttp -bin /tmp/luma -rows 100000 -clients 1,8,32 -dur 3s -rounds 3
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/luma-db/luma/internal/server"
	"github.com/luma-db/luma/internal/sqlstore"
	"github.com/luma-db/luma/internal/storage"
)

type options struct {
	bin     string
	dir     string
	rows    int
	clients []int
	dur     time.Duration
	rounds  int
	only    string
}

func main() {
	var o options
	var clients string
	flag.StringVar(&o.bin, "bin", "", "luma binary to start (required)")
	flag.StringVar(&o.dir, "dir", os.TempDir(), "parent directory of the fresh data dirs (use a real disk, not tmpfs)")
	flag.IntVar(&o.rows, "rows", 100000, "rows in kv")
	flag.StringVar(&clients, "clients", "1,8,32", "comma-separated client counts")
	flag.DurationVar(&o.dur, "dur", 3*time.Second, "duration of each measurement")
	flag.IntVar(&o.rounds, "rounds", 3, "measurements per point (the report shows medians)")
	flag.StringVar(&o.only, "only", "", "run only this workload (point, range or insert)")
	flag.Parse()
	for _, s := range strings.Split(clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "sqlhttp: bad -clients %q\n", clients)
			os.Exit(2)
		}
		o.clients = append(o.clients, n)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "sqlhttp:", err)
		os.Exit(1)
	}
}

// setup is run on both sides before measuring.
var setup = []string{
	"CREATE TABLE kv(id INTEGER PRIMARY KEY, v TEXT NOT NULL)",
	"INSERT INTO kv SELECT x, printf('%%0100d', x) FROM (WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r WHERE x < %d) SELECT x FROM r)",
	"CREATE TABLE ins(id INTEGER PRIMARY KEY, c INTEGER NOT NULL, v TEXT NOT NULL)",
}

const (
	pointSQL  = "SELECT id, v FROM kv WHERE id = ?"
	rangeSQL  = "SELECT id, v FROM kv WHERE id >= ? ORDER BY id LIMIT 1000"
	insertSQL = "INSERT INTO ins(c, v) VALUES (?, ?)"
)

var pad = strings.Repeat("x", 100)

func run(o options) error {
	if o.bin == "" {
		return errors.New("give -bin, a luma binary to start")
	}
	root, err := os.MkdirTemp(o.dir, "sqlhttp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)

	url, stop, err := startServer(o.bin, filepath.Join(root, "server"))
	if err != nil {
		return err
	}
	defer stop()
	h := &httpSide{url: url, client: &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: slices.Max(o.clients), DisableCompression: true}}}

	d, closeDriver, err := openDriver(filepath.Join(root, "driver"))
	if err != nil {
		return err
	}
	defer closeDriver()

	for _, q := range setup {
		if strings.Contains(q, "%d") {
			q = fmt.Sprintf(q, o.rows)
		}
		if err := h.exec(q); err != nil {
			return fmt.Errorf("server setup: %w", err)
		}
		if _, err := d.plain.Exec(context.Background(), q, sqlstore.Params{}); err != nil {
			return fmt.Errorf("driver setup: %w", err)
		}
	}

	fmt.Printf("sqlhttp: %d rows, %d rounds of %s per point, GOMAXPROCS=%d, %s, data in %s\n\n", o.rows, o.rounds, o.dur, runtime.GOMAXPROCS(0), runtime.Version(), o.dir)
	fmt.Println("| workload | clients | mode | ops/s (median) | min–max | p50 | p99 | driver ÷ mode |")
	fmt.Println("|---|---:|---|---:|---:|---:|---:|---:|")
	type workload struct {
		name  string
		modes []mode
	}
	rows := o.rows
	pointArgs := func(r *rand.Rand) []any { return []any{1 + r.IntN(rows)} }
	rangeArgs := func(r *rand.Rand) []any { return []any{1 + r.IntN(max(1, rows-1000))} }
	insertArgs := func(r *rand.Rand) []any { return []any{r.IntN(1 << 30), pad} }
	workloads := []workload{
		{"point", []mode{d.query("driver", pointSQL, pointArgs, 1), h.query(pointSQL, pointArgs, 1)}},
		{"range", []mode{d.query("driver", rangeSQL, rangeArgs, 1000), h.query(rangeSQL, rangeArgs, 1000)}},
		{"insert", []mode{d.exec("driver", d.plain, insertSQL, insertArgs), d.exec("driver+event", d.withEvent, insertSQL, insertArgs), h.execOp(insertSQL, insertArgs)}},
	}
	n := 0
	for _, w := range workloads {
		if o.only != "" && o.only != w.name {
			continue
		}
		for _, c := range o.clients {
			results := make([][]*result, len(w.modes)) // [mode][round]
			for range o.rounds {
				order := make([]int, len(w.modes))
				for i := range order {
					order[i] = i
				}
				if n%2 == 1 {
					slices.Reverse(order)
				}
				n++
				for _, i := range order {
					res, err := measure(c, o.dur, w.modes[i].op)
					if err != nil {
						return fmt.Errorf("%s %s, %d clients: %w", w.name, w.modes[i].name, c, err)
					}
					results[i] = append(results[i], res)
				}
			}
			base := median(results[0], (*result).rate)
			for i, m := range w.modes {
				rs := results[i]
				rate := median(rs, (*result).rate)
				lo, hi := spread(rs)
				p50 := time.Duration(median(rs, func(r *result) float64 { return float64(r.pct(0.5)) }))
				p99 := time.Duration(median(rs, func(r *result) float64 { return float64(r.pct(0.99)) }))
				fmt.Printf("| %s | %d | %s | %.0f | %.0f–%.0f | %s | %s | %.2f |\n", w.name, c, m.name, rate, lo, hi, round(p50), round(p99), base/rate)
			}
		}
	}
	return nil
}

// mode is one way of running a workload's statement.
type mode struct {
	name string
	op   func(ctx context.Context, r *rand.Rand) error
}

// driverSide is the in-process store, opened as the server opens its own.
type driverSide struct {
	plain     *sqlstore.Store // no event hook
	withEvent *sqlstore.Store // the server's sql_exec hook on its own storage engine
}

func openDriver(dir string) (*driverSide, func(), error) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := storage.Open(storage.Options{Dir: filepath.Join(dir, "store"), Logger: log})
	if err != nil {
		return nil, nil, err
	}
	plain, err := sqlstore.Open(sqlstore.Options{Path: filepath.Join(dir, "sqlite", "bench.db"), Synchronous: "FULL"})
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	withEvent, err := sqlstore.Open(sqlstore.Options{
		Path:        filepath.Join(dir, "sqlite", "bench-events.db"),
		Synchronous: "FULL",
		OnExec:      server.SQLExecHook(db),
	})
	if err != nil {
		plain.Close()
		db.Close()
		return nil, nil, err
	}
	if _, err := withEvent.Exec(context.Background(), setup[2], sqlstore.Params{}); err != nil {
		return nil, nil, err
	}
	return &driverSide{plain: plain, withEvent: withEvent}, func() {
		withEvent.Close()
		plain.Close()
		db.Close()
	}, nil
}

func (d *driverSide) query(name, q string, args func(*rand.Rand) []any, want int) mode {
	return mode{name, func(ctx context.Context, r *rand.Rand) error {
		res, err := d.plain.Query(ctx, q, sqlstore.Positional(args(r)...))
		if err == nil && len(res.Rows) != want {
			err = fmt.Errorf("%d rows, want %d", len(res.Rows), want)
		}
		return err
	}}
}

func (d *driverSide) exec(name string, s *sqlstore.Store, q string, args func(*rand.Rand) []any) mode {
	return mode{name, func(ctx context.Context, r *rand.Rand) error {
		res, err := s.Exec(ctx, q, sqlstore.Positional(args(r)...))
		if err == nil && res.RowsAffected != 1 {
			err = fmt.Errorf("%d rows affected", res.RowsAffected)
		}
		return err
	}}
}

// httpSide is the real server.
type httpSide struct {
	url    string
	client *http.Client
}

func (h *httpSide) post(path string, body []byte) ([]byte, error) {
	resp, err := h.client.Post(h.url+path, "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("%s: %d %s", path, resp.StatusCode, out)
	}
	return out, nil
}

func (h *httpSide) exec(q string) error {
	b, _ := json.Marshal(map[string]any{"sql": q})
	_, err := h.post("/v1/sql/exec", b)
	return err
}

func body(q string, args []any) []byte {
	b, _ := json.Marshal(map[string]any{"sql": q, "params": args})
	return b
}

var rowKey = []byte(`{"id":`)

func (h *httpSide) query(q string, args func(*rand.Rand) []any, want int) mode {
	return mode{"http", func(_ context.Context, r *rand.Rand) error {
		out, err := h.post("/v1/sql/query", body(q, args(r)))
		if err == nil && bytes.Count(out, rowKey) != want {
			err = fmt.Errorf("answer without %d rows: %.200s", want, out)
		}
		return err
	}}
}

func (h *httpSide) execOp(q string, args func(*rand.Rand) []any) mode {
	return mode{"http", func(_ context.Context, r *rand.Rand) error {
		out, err := h.post("/v1/sql/exec", body(q, args(r)))
		if err == nil && !bytes.HasPrefix(out, []byte(`{"rows_affected":1,`)) {
			err = fmt.Errorf("unexpected answer %s", out)
		}
		return err
	}}
}

// result is one measurement.
type result struct {
	lat     []time.Duration
	elapsed time.Duration
}

func (r *result) rate() float64 { return float64(len(r.lat)) / r.elapsed.Seconds() }

// median returns the median of f over rs (the mean of the middle two for
// an even count).
func median(rs []*result, f func(*result) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	if n := len(v); n%2 == 0 {
		return (v[n/2-1] + v[n/2]) / 2
	}
	return v[len(v)/2]
}

// spread returns the lowest and highest rate of rs.
func spread(rs []*result) (lo, hi float64) {
	lo, hi = rs[0].rate(), rs[0].rate()
	for _, r := range rs[1:] {
		lo, hi = min(lo, r.rate()), max(hi, r.rate())
	}
	return lo, hi
}

func (r *result) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[min(len(r.lat)-1, int(float64(len(r.lat))*p))]
}

// measure runs op from clients goroutines in a closed loop for dur.
func measure(clients int, dur time.Duration, op func(context.Context, *rand.Rand) error) (*result, error) {
	res := &result{}
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	ctx := context.Background()
	start := time.Now()
	deadline := start.Add(dur)
	for c := range clients {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(c), uint64(start.UnixNano())))
			var lat []time.Duration
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if err := op(ctx, r); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			res.lat = append(res.lat, lat...)
			mu.Unlock()
		}(c)
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	slices.Sort(res.lat)
	return res, firstErr
}

func round(d time.Duration) string {
	switch {
	case d >= 10*time.Millisecond:
		return d.Round(time.Millisecond).String()
	case d >= 100*time.Microsecond:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}

// startServer runs the luma binary on a free port with a fresh data dir
// (SQLite on, default durability).
func startServer(bin, dir string) (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "--data-dir", dir, "--port", strconv.Itoa(port), "--logs", "warning")
	cmd.Env = append(os.Environ(), "LUMA_API_KEY=", "API_KEY=", "RUSTKISS_API_KEY=")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	for range 600 {
		if resp, err := http.Get(url + "/v1/health"); err == nil {
			resp.Body.Close()
			return url, stop, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	return "", nil, errors.New("server did not answer /v1/health")
}
