// Command docbench measures the document store over HTTP: keep-alive
// clients against a real luma process (or any -url), on a collection of
// -docs documents of about 400 bytes.
//
// Phases, in order (each runs -clients goroutines in a closed loop for
// -dur — two for the scans, which read the whole collection — except
// put-new, which writes -docs documents, and build):
//
//	put-new         PUT /v1/doc/bench/{id} of -docs new documents, no index
//	get             GET of random existing documents
//	find-scan-eq    find {"group": g} limit 20, no index: a full scan
//	find-scan-sort  find sorted by score desc, limit 20, no index
//	build           declare indexes on group (number) and score (auto) and
//	                wait until the background build reports ready
//	find-eq         find {"group": g} limit 20 through the group index
//	find-range      find {"score": {"$gte": x, "$lt": x+2000}} limit 20
//	find-sort-asc   find sorted by score asc from a random point, limit 20
//	find-sort-desc  find sorted by score desc below a random point, limit 20
//	put-indexed     overwrite random documents, two indexes maintained
//
// Every answer is checked (status 200; indexed finds must name their
// index), and the report lists operations per second, p50 and p99 latency,
// and the mean `scanned` of finds.
//
// Usage, from the repository root:
//
//	go build -o /tmp/luma ./cmd/luma
//	go run ./bench/docbench -bin /tmp/luma -docs 100000 -clients 16 -dur 5s
//	go run ./bench/docbench -url http://127.0.0.1:9917   # an already running server
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type options struct {
	url     string
	bin     string
	dir     string
	docs    int
	clients int
	dur     time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.url, "url", "", "server to measure (default: start -bin on a fresh data dir)")
	flag.StringVar(&o.bin, "bin", "", "luma binary to start when -url is empty")
	flag.StringVar(&o.dir, "dir", os.TempDir(), "parent directory of the fresh data dir")
	flag.IntVar(&o.docs, "docs", 100000, "documents in the collection")
	flag.IntVar(&o.clients, "clients", 16, "concurrent keep-alive clients")
	flag.DurationVar(&o.dur, "dur", 5*time.Second, "duration of each timed phase")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "docbench:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if o.url == "" {
		if o.bin == "" {
			return errors.New("give -url of a running server or -bin of a luma binary to start")
		}
		stop, url, err := startServer(o)
		if err != nil {
			return err
		}
		defer stop()
		o.url = url
	}
	b := &bench{o: o, client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.clients * 2, MaxConnsPerHost: o.clients * 2}}}
	fmt.Printf("docbench: %d documents, %d clients, %s per phase, %s, GOMAXPROCS=%d\n\n", o.docs, o.clients, o.dur, o.url, runtime.GOMAXPROCS(0))
	fmt.Println("| phase | ops | ops/s | p50 | p99 | mean scanned | index |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---|")
	return b.all()
}

// startServer runs the luma binary on a free port with a fresh data dir.
func startServer(o options) (func(), string, error) {
	dir, err := os.MkdirTemp(o.dir, "docbench-")
	if err != nil {
		return nil, "", err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(o.bin, "--data-dir", filepath.Join(dir, "data"), "--port", fmt.Sprint(port), "--logs", "warning", "--no-sqlite")
	cmd.Env = append(os.Environ(), "LUMA_API_KEY=", "API_KEY=", "RUSTKISS_API_KEY=")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	stop := func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		os.RemoveAll(dir)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	for i := 0; i < 600; i++ {
		if resp, err := http.Get(url + "/v1/health"); err == nil {
			resp.Body.Close()
			return stop, url, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	return nil, "", errors.New("server did not answer /v1/health")
}

type bench struct {
	o      options
	client *http.Client
}

var cities = []string{"lima", "quito", "bogota", "santiago", "madrid", "paris", "oslo", "tokyo"}

func docBody(i int, r *rand.Rand) string {
	return fmt.Sprintf(`{"n":%d,"group":%d,"score":%.3f,"name":"user-%d","active":%t,"tags":["t%d","u%d"],"profile":{"age":%d,"city":%q},"bio":%q}`,
		i, i%100, r.Float64()*1e6, i, i%3 == 0, i%10, i%7, 18+i%60, cities[i%8], strings.Repeat("lorem ipsum ", 18))
}

func docID(i int) string { return fmt.Sprintf("doc-%07d", i) }

// result is one phase's measurements.
type result struct {
	lat     []time.Duration
	scanned int64
	finds   int64
	index   string
	elapsed time.Duration
}

func (r *result) print(name string) {
	slices.Sort(r.lat)
	n := len(r.lat)
	pct := func(p float64) time.Duration {
		if n == 0 {
			return 0
		}
		return r.lat[min(n-1, int(float64(n)*p))]
	}
	scanned := "–"
	if r.finds > 0 {
		scanned = fmt.Sprintf("%.0f", float64(r.scanned)/float64(r.finds))
	}
	idx := r.index
	if idx == "" {
		idx = "–"
	}
	fmt.Printf("| %s | %d | %.0f | %s | %s | %s | %s |\n", name, n, float64(n)/r.elapsed.Seconds(), round(pct(0.5)), round(pct(0.99)), scanned, idx)
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

// op is one request of a phase; it returns the find answer when it was one.
type op func(c int, r *rand.Rand) (method, path, body string)

// do sends one request and checks the answer.
func (b *bench) do(method, path, body string) ([]byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, b.o.url+path, rd)
	if err != nil {
		return nil, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, out)
	}
	return out, nil
}

// runPhase runs gen from every client until dur (or, with count > 0, until
// count operations were issued) and collects latencies.
func (b *bench) runPhase(clients int, dur time.Duration, count int, wantIndex string, gen op) (*result, error) {
	res := &result{index: wantIndex}
	var mu sync.Mutex
	var issued atomic.Int64
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(dur)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(c), uint64(start.UnixNano())))
			var lat []time.Duration
			var scanned, finds int64
			for {
				if count > 0 {
					if issued.Add(1) > int64(count) {
						break
					}
				} else if time.Now().After(deadline) {
					break
				}
				method, path, body := gen(c, r)
				t0 := time.Now()
				out, err := b.do(method, path, body)
				d := time.Since(t0)
				if err == nil && strings.HasSuffix(path, "/find") {
					var fr struct {
						Scanned   int64   `json:"scanned"`
						IndexUsed *string `json:"index_used"`
					}
					if err = json.Unmarshal(out, &fr); err == nil {
						got := ""
						if fr.IndexUsed != nil {
							got = *fr.IndexUsed
						}
						if got != wantIndex {
							err = fmt.Errorf("find %s used index %q, want %q", body, got, wantIndex)
						}
						scanned += fr.Scanned
						finds++
					}
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				lat = append(lat, d)
			}
			mu.Lock()
			res.lat = append(res.lat, lat...)
			res.scanned += scanned
			res.finds += finds
			mu.Unlock()
		}(c)
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res, firstErr
}

func (b *bench) all() error {
	n := b.o.docs
	var next atomic.Int64
	res, err := b.runPhase(b.o.clients, 0, n, "", func(c int, r *rand.Rand) (string, string, string) {
		i := int(next.Add(1) - 1)
		return "PUT", "/v1/doc/bench/" + docID(i), docBody(i, r)
	})
	if err != nil {
		return err
	}
	res.print("put-new")

	// Scans read the whole collection; two clients are enough to load the
	// server and keep the phase short.
	scanClients := min(2, b.o.clients)
	phases := []struct {
		name, index string
		clients     int
		gen         op
	}{
		{"get", "", b.o.clients, func(c int, r *rand.Rand) (string, string, string) {
			return "GET", "/v1/doc/bench/" + docID(r.IntN(n)), ""
		}},
		{"find-scan-eq", "", scanClients, func(c int, r *rand.Rand) (string, string, string) {
			return "POST", "/v1/doc/bench/find", fmt.Sprintf(`{"filter":{"group":%d},"limit":20}`, r.IntN(100))
		}},
		{"find-scan-sort", "", scanClients, func(c int, r *rand.Rand) (string, string, string) {
			return "POST", "/v1/doc/bench/find", `{"sort":{"field":"score","order":"desc"},"limit":20}`
		}},
	}
	for _, p := range phases {
		res, err := b.runPhase(p.clients, b.o.dur, 0, p.index, p.gen)
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		res.print(p.name)
	}

	t0 := time.Now()
	for _, ix := range []string{`{"field":"group","type":"number"}`, `{"field":"score"}`} {
		if _, err := b.do("POST", "/v1/doc/bench/_indexes", ix); err != nil {
			return err
		}
	}
	for {
		out, err := b.do("GET", "/v1/doc/bench/_indexes", "")
		if err != nil {
			return err
		}
		var l struct{ Indexes []struct{ State string } }
		if err := json.Unmarshal(out, &l); err != nil {
			return err
		}
		if !slices.ContainsFunc(l.Indexes, func(x struct{ State string }) bool { return x.State != "ready" }) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	build := time.Since(t0)
	fmt.Printf("| build (2 indexes) | %d docs | %.0f docs/s | – | – | – | %s total |\n", n, float64(n)/build.Seconds(), round(build))

	phases = []struct {
		name, index string
		clients     int
		gen         op
	}{
		{"find-eq", "group", b.o.clients, func(c int, r *rand.Rand) (string, string, string) {
			return "POST", "/v1/doc/bench/find", fmt.Sprintf(`{"filter":{"group":%d},"limit":20}`, r.IntN(100))
		}},
		{"find-range", "score", b.o.clients, func(c int, r *rand.Rand) (string, string, string) {
			x := r.Float64() * 998000
			return "POST", "/v1/doc/bench/find", fmt.Sprintf(`{"filter":{"score":{"$gte":%.3f,"$lt":%.3f}},"limit":20}`, x, x+2000)
		}},
		{"find-sort-asc", "score", b.o.clients, func(c int, r *rand.Rand) (string, string, string) {
			return "POST", "/v1/doc/bench/find", fmt.Sprintf(`{"filter":{"score":{"$gte":%.3f}},"sort":{"field":"score"},"limit":20}`, r.Float64()*1e6)
		}},
		{"find-sort-desc", "score", b.o.clients, func(c int, r *rand.Rand) (string, string, string) {
			return "POST", "/v1/doc/bench/find", fmt.Sprintf(`{"filter":{"score":{"$lt":%.3f}},"sort":{"field":"score","order":"desc"},"limit":20}`, r.Float64()*1e6)
		}},
		{"put-indexed", "", b.o.clients, func(c int, r *rand.Rand) (string, string, string) {
			i := r.IntN(n)
			return "PUT", "/v1/doc/bench/" + docID(i), docBody(i, r)
		}},
	}
	for _, p := range phases {
		res, err := b.runPhase(p.clients, b.o.dur, 0, p.index, p.gen)
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		res.print(p.name)
	}
	return nil
}
