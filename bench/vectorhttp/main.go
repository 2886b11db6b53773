// Command vectorhttp measures Luma's vector store end to end.
//
//	go run ./bench/vectorhttp -mode http -n 100000 -dim 768
//	go run ./bench/vectorhttp -mode restart -n 200000 -dim 768 -dir /tmp/vr
//	go run ./bench/vectorhttp -mode planner -n 65536 -dim 128
//
// Modes:
//
//   - http: starts a real server (the HTTP stack of package server, on a
//     loopback port, data on disk), ingests -n vectors with upsert_batch
//     (batches of 256, -ingest-clients clients, JSON or -b64 bodies) and
//     reports acknowledged and fully indexed throughput; then measures
//     search QPS over HTTP (-clients keep-alive clients, k=10) and the same
//     searches in process on the same index (-clients goroutines calling
//     Store.Search), with latency percentiles.
//   - restart: builds a -n × -dim collection in process on -dir (default
//     settings), waits until every segment is indexed and checkpointed (the
//     build time), closes it, and reopens it three times: with its
//     checkpoints (time until searchable), and with the checkpoint files
//     deleted (the rebuild: time until searchable and until fully indexed).
//     Each reopen checks recall@10 against brute force.
//   - planner: one sealed segment of -n vectors; for selectivities from
//     0.1% to 50% it times the filtered search with the exact scan of the
//     matching ids and with the filtered graph traversal, to place the
//     planner's threshold.
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/luma-db/luma/internal/config"
	"github.com/luma-db/luma/internal/server"
	"github.com/luma-db/luma/internal/storage"
	"github.com/luma-db/luma/internal/vector"
)

var (
	mode          = flag.String("mode", "http", "http, restart or planner")
	n             = flag.Int("n", 100000, "vectors")
	dim           = flag.Int("dim", 768, "dimension")
	dir           = flag.String("dir", "", "data directory (default: a temporary one, removed at the end)")
	clients       = flag.Int("clients", 8, "search clients / goroutines")
	ingestClients = flag.Int("ingest-clients", 4, "upsert_batch clients")
	useB64        = flag.Bool("b64", false, "send vectors as vector_b64 in http mode")
	dur           = flag.Duration("duration", 10*time.Second, "search measurement time per side")
	queries       = flag.Int("queries", 1000, "distinct query vectors")
	k             = flag.Int("k", 10, "k")
	segSize       = flag.Int("segment-size", 0, "SEGMENT_SIZE (0 = default)")
	kind          = flag.String("index", "hnsw", "index kind")
	cpuProfile    = flag.String("cpuprofile", "", "write a CPU profile of the http mode's ingest (until acknowledged) to this file")
)

func main() {
	flag.Parse()
	log.SetFlags(0)
	d := *dir
	if d == "" {
		var err error
		d, err = os.MkdirTemp("", "vectorhttp-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(d)
	}
	fmt.Printf("# %s, GOMAXPROCS %d, n %d, dim %d\n", runtime.Version(), runtime.GOMAXPROCS(0), *n, *dim)
	switch *mode {
	case "http":
		runHTTP(d)
	case "restart":
		runRestart(d)
	case "planner":
		runPlanner(d)
	default:
		log.Fatalf("unknown mode %q", *mode)
	}
}

// dataset returns n clustered vectors (64 centres, unit-scale noise), a
// more realistic shape than uniform noise, and q query vectors drawn the
// same way.
func dataset(n, q, d int, seed uint64) (base, qs [][]float32) {
	r := rand.New(rand.NewPCG(seed, 99))
	centres := make([][]float32, 64)
	for i := range centres {
		centres[i] = make([]float32, d)
		for j := range centres[i] {
			centres[i][j] = float32(r.NormFloat64())
		}
	}
	gen := func(m int) [][]float32 {
		out := make([][]float32, m)
		for i := range out {
			c := centres[r.IntN(len(centres))]
			v := make([]float32, d)
			for j := range v {
				v[j] = c[j] + 0.6*float32(r.NormFloat64())
			}
			out[i] = v
		}
		return out
	}
	return gen(n), gen(q)
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[min(len(ds)-1, int(p*float64(len(ds))))]
}

func b64(v []float32) string {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return base64.StdEncoding.EncodeToString(b)
}

// waitIndexed polls the detail route until the collection has no index
// lag and every sealed segment is checkpointed.
func waitIndexed(vs *vector.Store, name string) {
	for {
		d, err := vs.Detail(name)
		if err != nil {
			log.Fatal(err)
		}
		done := *d.IndexLag == 0
		for _, s := range d.SegmentList {
			if s.Sealed && !s.Checkpointed {
				done = false
			}
		}
		if done {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func runHTTP(d string) {
	args := []string{"--data-dir", d, "--logs", "warning"}
	cfg, err := config.Load(args, func(string) (string, bool) { return "", false })
	if err != nil {
		log.Fatal(err)
	}
	if *segSize > 0 {
		cfg.SegmentSize = *segSize
	}
	app, err := server.Open(cfg, quietLogger())
	if err != nil {
		log.Fatal(err)
	}
	defer app.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go app.Serve(ctx, ln, time.Second)
	defer cancel()
	url := "http://" + ln.Addr().String()
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	client := &http.Client{Transport: tr}
	do := func(path string, body []byte) []byte {
		resp, err := client.Post(url+path, "application/json", bytes.NewReader(body))
		if err != nil {
			log.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			log.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
		return b
	}
	do("/v1/vector/bench", []byte(fmt.Sprintf(`{"dim":%d,"metric":"cosine","index":%q}`, *dim, *kind)))
	base, qs := dataset(*n, *queries, *dim, 1)

	// Ingest: batches of 256, encoded before the clock starts.
	type batch struct{ body []byte }
	var batches []batch
	for s := 0; s < len(base); s += 256 {
		items := make([]map[string]any, 0, 256)
		for i := s; i < min(len(base), s+256); i++ {
			it := map[string]any{"id": fmt.Sprint(i), "meta": map[string]any{"i": i, "tag": i % 10}}
			if *useB64 {
				it["vector_b64"] = b64(base[i])
			} else {
				it["vector"] = base[i]
			}
			items = append(items, it)
		}
		b, _ := json.Marshal(map[string]any{"items": items})
		batches = append(batches, batch{b})
	}
	var next atomic.Int64
	var bodyBytes atomic.Int64
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
	}
	start := time.Now()
	var wg sync.WaitGroup
	for range *ingestClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(batches) {
					return
				}
				bodyBytes.Add(int64(len(batches[i].body)))
				do("/v1/vector/bench/upsert_batch", batches[i].body)
			}
		}()
	}
	wg.Wait()
	acked := time.Since(start)
	if *cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	waitIndexed(app.Vector, "bench")
	indexed := time.Since(start)
	enc := "JSON"
	if *useB64 {
		enc = "vector_b64"
	}
	fmt.Printf("ingest (%s bodies, %.1f MB): %d vectors acknowledged in %.2fs = %.0f vectors/s; fully indexed and checkpointed after %.2fs = %.0f vectors/s\n",
		enc, float64(bodyBytes.Load())/1e6, len(base), acked.Seconds(), float64(len(base))/acked.Seconds(), indexed.Seconds(), float64(len(base))/indexed.Seconds())

	// Search over HTTP.
	bodies := make([][]byte, len(qs))
	for i, q := range qs {
		bodies[i], _ = json.Marshal(map[string]any{"vector": q, "k": *k})
	}
	httpQPS, httpLat := measure(func(i int) {
		do("/v1/vector/bench/search", bodies[i%len(bodies)])
	})
	// The same searches in process.
	inQPS, inLat := measure(func(i int) {
		if _, err := app.Vector.Search(context.Background(), "bench", vector.SearchRequest{Vector: qs[i%len(qs)], K: *k}); err != nil {
			log.Fatal(err)
		}
	})
	fmt.Printf("search k=%d, %d clients: HTTP %.0f QPS (p50 %v, p99 %v); in-process %.0f QPS (p50 %v, p99 %v); HTTP/in-process = %.2f\n",
		*k, *clients, httpQPS, httpLat[0], httpLat[1], inQPS, inLat[0], inLat[1], httpQPS/inQPS)
	rec := recall(app.Vector, base, qs[:100])
	fmt.Printf("recall@%d over 100 queries: %.3f\n", *k, rec)
}

// measure runs fn from -clients goroutines for -duration and returns QPS
// and p50/p99 latency.
func measure(fn func(i int)) (float64, [2]time.Duration) {
	var ops atomic.Int64
	stop := time.Now().Add(*dur)
	lats := make([][]time.Duration, *clients)
	var wg sync.WaitGroup
	start := time.Now()
	for c := range *clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; time.Now().Before(stop); i += *clients {
				t0 := time.Now()
				fn(i)
				lats[c] = append(lats[c], time.Since(t0))
				ops.Add(1)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	return float64(ops.Load()) / el.Seconds(), [2]time.Duration{pct(all, 0.5), pct(all, 0.99)}
}

// recall compares Store.Search with brute force (cosine).
func recall(vs *vector.Store, base, qs [][]float32) float64 {
	norm := func(v []float32) []float64 {
		var s float64
		for _, x := range v {
			s += float64(x) * float64(x)
		}
		s = math.Sqrt(s)
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x) / s
		}
		return out
	}
	nb := make([][]float64, len(base))
	for i, v := range base {
		nb[i] = norm(v)
	}
	var hit, total int
	for _, q := range qs {
		nq := norm(q)
		type sc struct {
			i int
			s float64
		}
		all := make([]sc, len(nb))
		for i, v := range nb {
			var s float64
			for j := range v {
				s += v[j] * nq[j]
			}
			all[i] = sc{i, s}
		}
		sort.Slice(all, func(a, b int) bool { return all[a].s > all[b].s })
		want := map[string]bool{}
		for _, x := range all[:*k] {
			want[fmt.Sprint(x.i)] = true
		}
		res, err := vs.Search(context.Background(), "bench", vector.SearchRequest{Vector: q, K: *k})
		if err != nil {
			log.Fatal(err)
		}
		for _, h := range res.Hits {
			if want[h.ID] {
				hit++
			}
		}
		total += *k
	}
	return float64(hit) / float64(total)
}

// openStore opens storage and the vector store on d with default settings.
func openStore(d string) (*storage.DB, *vector.Store) {
	cfg, err := config.Load([]string{"--data-dir", d}, func(string) (string, bool) { return "", false })
	if err != nil {
		log.Fatal(err)
	}
	if *segSize > 0 {
		cfg.SegmentSize = *segSize
	}
	db, err := storage.Open(storage.Options{Dir: filepath.Join(d, "store"), Logger: quietLogger()})
	if err != nil {
		log.Fatal(err)
	}
	vs, err := vector.Open(db, server.VectorOptions(cfg, nil, nil, quietLogger()))
	if err != nil {
		log.Fatal(err)
	}
	return db, vs
}

func runRestart(d string) {
	base, qs := dataset(*n, 100, *dim, 2)
	db, vs := openStore(d)
	ctx := context.Background()
	if err := vs.Create(ctx, vector.CreateRequest{Name: "bench", Dim: *dim, Metric: vector.Cosine, Index: vector.IndexSettings{Kind: vector.IndexKind(*kind)}}); err != nil {
		log.Fatal(err)
	}
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				s := int(next.Add(256) - 256)
				if s >= len(base) {
					return
				}
				items := make([]vector.Item, 0, 256)
				for i := s; i < min(len(base), s+256); i++ {
					items = append(items, vector.Item{ID: fmt.Sprint(i), Vector: base[i], Meta: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))})
				}
				if _, err := vs.UpsertBatch(ctx, "bench", items); err != nil {
					log.Fatal(err)
				}
			}
		}()
	}
	wg.Wait()
	acked := time.Since(start)
	waitIndexed(vs, "bench")
	build := time.Since(start)
	fmt.Printf("build: %d × %d acknowledged in %.1fs, indexed and checkpointed in %.1fs\n", *n, *dim, acked.Seconds(), build.Seconds())
	t0 := time.Now()
	vs.Close()
	db.Close()
	fmt.Printf("graceful close (checkpoints the active segment): %.2fs\n", time.Since(t0).Seconds())
	size := func() int64 {
		var s int64
		filepath.Walk(filepath.Join(d, "vectors"), func(_ string, fi os.FileInfo, _ error) error {
			if fi != nil && !fi.IsDir() {
				s += fi.Size()
			}
			return nil
		})
		return s
	}
	fmt.Printf("checkpoint files: %.1f MB\n", float64(size())/1e6)

	for _, variant := range []string{"with checkpoints", "with checkpoints (second run, warm page cache)", "checkpoint files deleted"} {
		if variant == "checkpoint files deleted" {
			os.RemoveAll(filepath.Join(d, "vectors"))
		}
		t0 := time.Now()
		db, vs := openStore(d)
		searchable := time.Since(t0)
		res, err := vs.Search(ctx, "bench", vector.SearchRequest{Vector: qs[0], K: *k})
		if err != nil || len(res.Hits) != *k {
			log.Fatalf("search after restart: %v %d", err, len(res.Hits))
		}
		first := time.Since(t0)
		waitIndexed(vs, "bench")
		full := time.Since(t0)
		rec := recall(vs, base, qs)
		fmt.Printf("restart %s: searchable after %.2fs (%.1f%% of the build), first search done %.2fs, fully indexed %.2fs; recall@%d %.3f\n",
			variant, searchable.Seconds(), 100*searchable.Seconds()/build.Seconds(), first.Seconds(), full.Seconds(), *k, rec)
		vs.Close()
		db.Close()
	}
}

func runPlanner(d string) {
	base, qs := dataset(*n, 50, *dim, 3)
	db, vs := openStore(d)
	defer db.Close()
	defer vs.Close()
	ctx := context.Background()
	if err := vs.Create(ctx, vector.CreateRequest{Name: "bench", Dim: *dim, Metric: vector.Cosine}); err != nil {
		log.Fatal(err)
	}
	for s := 0; s < len(base); s += 256 {
		items := make([]vector.Item, 0, 256)
		for i := s; i < min(len(base), s+256); i++ {
			items = append(items, vector.Item{ID: fmt.Sprint(i), Vector: base[i], Meta: json.RawMessage(fmt.Sprintf(`{"p":%d}`, (i*7919)%100000))})
		}
		if _, err := vs.UpsertBatch(ctx, "bench", items); err != nil {
			log.Fatal(err)
		}
	}
	waitIndexed(vs, "bench")
	fmt.Println("| selectivity | matches | exact scan µs/query | filtered graph µs/query | graph recall |")
	fmt.Println("|---:|---:|---:|---:|---:|")
	for _, sel := range []float64{0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5} {
		lim := int(sel * 100000)
		f := json.RawMessage(fmt.Sprintf(`{"p":{"$lt":%d}}`, lim))
		var times [2]time.Duration
		var res [2][][]string
		for pi, path := range []string{"exact", "graph"} {
			vector.ForcePlannerPath(vs, path)
			t0 := time.Now()
			for _, q := range qs {
				r, err := vs.Search(ctx, "bench", vector.SearchRequest{Vector: q, K: *k, Filters: f})
				if err != nil {
					log.Fatal(err)
				}
				var ids []string
				for _, h := range r.Hits {
					ids = append(ids, h.ID)
				}
				res[pi] = append(res[pi], ids)
			}
			times[pi] = time.Since(t0) / time.Duration(len(qs))
		}
		vector.ForcePlannerPath(vs, "")
		hit, tot := 0, 0
		for i := range qs {
			want := map[string]bool{}
			for _, id := range res[0][i] {
				want[id] = true
			}
			for _, id := range res[1][i] {
				if want[id] {
					hit++
				}
			}
			tot += len(res[0][i])
		}
		fmt.Printf("| %.1f%% | %d | %.0f | %.0f | %.3f |\n", 100*sel, int(sel*float64(*n)), float64(times[0].Microseconds()), float64(times[1].Microseconds()), float64(hit)/float64(max(tot, 1)))
	}
}
