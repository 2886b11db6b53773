// Command annbench measures Luma's in-process vector indexes (package hnsw,
// or flat for exact search) on a dataset prepared by shared/bench
// (fvecs/ivecs files plus dataset.json) and writes JSON in the shape of the
// hnswlib and faiss anchors, so that shared/bench/summarize.py can put all
// of them in one table.
//
//	go run ./bench/annbench -data bench-data/fashion-mnist-784 -metric l2 \
//	    -time-nq 2000 -out bench-results/fmnist-l2-luma.json
//
// It builds the index from vectors in memory with -build-threads goroutines
// (normalising first for cosine, inside the timed build, as the anchors do),
// then for each ef: searches every query once for recall@10 and the
// tie-aware recall, and times the first -time-nq queries with 1 and 2
// goroutines (median of -repeats runs; cosine queries are normalised inside
// the timed loop). It also reports the index's own memory estimate, the
// checkpoint size and the time to load the checkpoint.
package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/luma-db/luma/internal/vector/distance"
	"github.com/luma-db/luma/internal/vector/flat"
	"github.com/luma-db/luma/internal/vector/hnsw"
)

type options struct {
	data, metric, kind, out, efList, threads string
	cpuProfile, buildProfile                 string
	profileEf                                int
	k, nq, timeNQ, repeats                   int
	maxSeconds                               float64
	m, efc, buildThreads                     int
	seed                                     int64
}

func main() {
	var o options
	flag.StringVar(&o.data, "data", "", "prepared dataset folder (contains dataset.json)")
	flag.StringVar(&o.metric, "metric", "l2", "l2, cosine or dot")
	flag.StringVar(&o.kind, "index", "hnsw", "hnsw or flat")
	flag.IntVar(&o.k, "k", 10, "neighbours per query")
	flag.IntVar(&o.nq, "nq", 0, "use only the first NQ queries (0: all)")
	flag.IntVar(&o.timeNQ, "time-nq", 0, "time only the first TIME_NQ queries (0: all)")
	flag.IntVar(&o.repeats, "repeats", 3, "timed repeats per point; the median is reported")
	flag.Float64Var(&o.maxSeconds, "max-seconds", 15, "per point and thread count: stop repeating after this much time")
	flag.StringVar(&o.threads, "threads", "1,2", "comma-separated search goroutine counts to time")
	flag.StringVar(&o.efList, "ef", "10,16,24,32,48,64,96,128,192,256,384,512", "comma-separated ef values")
	flag.IntVar(&o.m, "M", 16, "HNSW M")
	flag.IntVar(&o.efc, "efc", 200, "HNSW efConstruction")
	flag.IntVar(&o.buildThreads, "build-threads", runtime.NumCPU(), "goroutines adding vectors")
	flag.Int64Var(&o.seed, "seed", 100, "HNSW level seed")
	flag.StringVar(&o.out, "out", "", "write the results as JSON here")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the 1-thread timed search at -profile-ef")
	flag.IntVar(&o.profileEf, "profile-ef", 64, "ef whose timed search -cpuprofile records")
	flag.StringVar(&o.buildProfile, "buildprofile", "", "write a CPU profile of the build")
	flag.Parse()
	if o.data == "" {
		log.Fatal("annbench: -data is required")
	}
	if err := run(o); err != nil {
		log.Fatal("annbench: ", err)
	}
}

// dataset is a loaded benchmark folder.
type dataset struct {
	name       string
	dim        int
	base       []float32 // n*dim
	queries    []float32 // nq*dim
	gtIDs      [][]int32
	gtDist     [][]float32
	n, nqTotal int
}

func (d *dataset) vec(i int) []float32 { return d.base[i*d.dim : (i+1)*d.dim] }
func (d *dataset) query(i int) []float32 {
	return d.queries[i*d.dim : (i+1)*d.dim]
}

// readVecs reads an .fvecs or .ivecs file as one flat slice of raw 32-bit
// words and the record dimension.
func readVecs(path string, limit int) ([]uint32, int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	if len(b) < 4 {
		return nil, 0, fmt.Errorf("%s: empty", path)
	}
	d := int(int32(binary.LittleEndian.Uint32(b)))
	rec := 4 + 4*d
	if d <= 0 || len(b)%rec != 0 {
		return nil, 0, fmt.Errorf("%s: size %d is not a multiple of %d", path, len(b), rec)
	}
	n := len(b) / rec
	if limit > 0 && limit < n {
		n = limit
	}
	out := make([]uint32, 0, n*d)
	for i := 0; i < n; i++ {
		r := b[i*rec:]
		if int(int32(binary.LittleEndian.Uint32(r))) != d {
			return nil, 0, fmt.Errorf("%s: record %d has another dimension", path, i)
		}
		for j := 0; j < d; j++ {
			out = append(out, binary.LittleEndian.Uint32(r[4+4*j:]))
		}
	}
	return out, d, nil
}

func readF(path string, limit int) ([]float32, int, error) {
	w, d, err := readVecs(path, limit)
	if err != nil {
		return nil, 0, err
	}
	f := make([]float32, len(w))
	for i, x := range w {
		f[i] = math.Float32frombits(x)
	}
	return f, d, nil
}

func loadDataset(dir, metric string, nq int) (*dataset, error) {
	var meta struct {
		Name        string `json:"name"`
		Base        string `json:"base"`
		Queries     string `json:"queries"`
		GroundTruth map[string]struct {
			IDs       string `json:"ids"`
			Distances string `json:"distances"`
		} `json:"ground_truth"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "dataset.json"))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return nil, err
	}
	gt, ok := meta.GroundTruth[metric]
	if !ok {
		return nil, fmt.Errorf("%s has no ground truth for %q", dir, metric)
	}
	ds := &dataset{name: meta.Name}
	if ds.base, ds.dim, err = readF(filepath.Join(dir, meta.Base), 0); err != nil {
		return nil, err
	}
	var qd int
	if ds.queries, qd, err = readF(filepath.Join(dir, meta.Queries), nq); err != nil {
		return nil, err
	}
	if qd != ds.dim {
		return nil, errors.New("queries and base differ in dimension")
	}
	ids, kk, err := readVecs(filepath.Join(dir, gt.IDs), nq)
	if err != nil {
		return nil, err
	}
	dist, _, err := readF(filepath.Join(dir, gt.Distances), nq)
	if err != nil {
		return nil, err
	}
	ds.n = len(ds.base) / ds.dim
	ds.nqTotal = len(ds.queries) / ds.dim
	for i := 0; i < ds.nqTotal; i++ {
		row := make([]int32, kk)
		for j := range row {
			row[j] = int32(ids[i*kk+j])
		}
		ds.gtIDs = append(ds.gtIDs, row)
		ds.gtDist = append(ds.gtDist, dist[i*kk:(i+1)*kk])
	}
	return ds, nil
}

// index is what both index kinds offer the benchmark.
type index interface {
	Add(id uint32, vec []float32) error
	Search(q []float32, k, ef int, allow func(uint32) bool) ([]hnsw.Result, error)
	MemoryBytes() int64
	WriteTo(w io.Writer) (int64, error)
}

var (
	_ index = (*hnsw.Index)(nil)
	_ index = (*flat.Index)(nil)
)

type searchRow struct {
	Param     string    `json:"param"`
	Value     int       `json:"value"`
	Recall    float64   `json:"recall"`
	RecallTie float64   `json:"recall_tie"`
	NDis      *float64  `json:"ndis"`
	QPS1      float64   `json:"qps_1t,omitempty"`
	QPS2      float64   `json:"qps_2t,omitempty"`
	Best1     float64   `json:"best_qps_1t,omitempty"`
	Best2     float64   `json:"best_qps_2t,omitempty"`
	Times1    []float64 `json:"times_1t,omitempty"`
	Times2    []float64 `json:"times_2t,omitempty"`
	CPU1      []float64 `json:"cpu_s_1t,omitempty"`
	CPU2      []float64 `json:"cpu_s_2t,omitempty"`
	CPUQPS1   float64   `json:"cpu_qps_1t,omitempty"`
	CPUQPS2   float64   `json:"cpu_qps_2t,omitempty"`
	LoadAvg   float64   `json:"loadavg"`
}

type result struct {
	Peer   string         `json:"peer"`
	Impl   string         `json:"impl"`
	Index  string         `json:"index"`
	Params map[string]any `json:"params"`
	Build  map[string]any `json:"build"`
	Search []searchRow    `json:"search"`
}

func run(o options) error {
	machine := machineInfo()
	ds, err := loadDataset(o.data, o.metric, o.nq)
	if err != nil {
		return err
	}
	fmt.Printf("# %s  metric=%s  n=%d  nq=%d  dim=%d  k=%d  cpu=%s  nproc=%d  load=%.2f  kernels=%s\n",
		ds.name, o.metric, ds.n, ds.nqTotal, ds.dim, o.k, machine["cpu"], runtime.NumCPU(), loadavg(), distance.Impl())
	fmt.Println(header)

	metric := hnsw.L2
	if o.metric != "l2" {
		metric = hnsw.Dot
	}
	cosine := o.metric == "cosine"
	res := result{Peer: "luma", Impl: "go", Params: map[string]any{}}

	// Build, timed: normalisation (cosine) and insertion.
	// Return the dataset loader's garbage to the OS first, or the index
	// would reuse those pages and the RSS delta would miss it.
	debug.FreeOSMemory()
	rss0 := rssBytes()
	stopProfile := startProfile(o.buildProfile)
	cpu0 := cpuSeconds()
	t0 := time.Now()
	var ix index
	switch o.kind {
	case "hnsw":
		res.Index = "HNSW"
		res.Params = map[string]any{"M": o.m, "efConstruction": o.efc, "build_threads": o.buildThreads, "seed": o.seed}
		ix, err = hnsw.New(hnsw.Config{Dim: ds.dim, Metric: metric, M: o.m, EfConstruction: o.efc, Seed: o.seed}, ds.n)
	case "flat":
		res.Index = "Flat"
		ix, err = flat.New(flat.Config{Dim: ds.dim, Metric: metric}, ds.n)
	default:
		err = fmt.Errorf("unknown -index %q", o.kind)
	}
	if err != nil {
		return err
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	var addErr atomic.Value
	for range o.buildThreads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]float32, ds.dim)
			for {
				i := int(next.Add(1) - 1)
				if i >= ds.n {
					return
				}
				v := ds.vec(i)
				if cosine {
					copy(buf, v)
					distance.Normalize(buf)
					v = buf
				}
				if err := ix.Add(uint32(i), v); err != nil {
					addErr.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	buildS := time.Since(t0).Seconds()
	buildCPU := cpuSeconds() - cpu0
	stopProfile()
	if e, ok := addErr.Load().(error); ok {
		return e
	}
	rssDelta := float64(rssBytes()-rss0) / (1 << 20)
	res.Build = map[string]any{
		"seconds": buildS, "vectors_per_s": float64(ds.n) / buildS, "rss_delta_mib": rssDelta,
		"n": ds.n, "index_mib": float64(ix.MemoryBytes()) / (1 << 20), "cpu_seconds": buildCPU,
	}
	var ckpt bytes.Buffer
	if _, err := ix.WriteTo(&ckpt); err != nil {
		return err
	}
	res.Build["serialized_mib"] = float64(ckpt.Len()) / (1 << 20)
	t1 := time.Now()
	switch o.kind {
	case "hnsw":
		_, err = hnsw.Read(bytes.NewReader(ckpt.Bytes()))
	case "flat":
		_, err = flat.Read(bytes.NewReader(ckpt.Bytes()))
	}
	if err != nil {
		return err
	}
	res.Build["load_seconds"] = time.Since(t1).Seconds()
	ckpt = bytes.Buffer{}
	fmt.Println(row("luma", fmt.Sprintf("%s-go M%d efc%d", res.Index, o.m, o.efc), "build", nil, nil, nil, nil, &buildS, &rssDelta))
	fmt.Printf("# index %.1f MiB (estimate), checkpoint %.1f MiB, loaded in %.2f s\n",
		res.Build["index_mib"], res.Build["serialized_mib"], res.Build["load_seconds"])

	threads, err := intList(o.threads)
	if err != nil {
		return err
	}
	efs, err := intList(o.efList)
	if err != nil {
		return err
	}
	param := "ef"
	if o.kind == "flat" {
		efs, param = []int{0}, "exact"
	}
	timeNQ := ds.nqTotal
	if o.timeNQ > 0 && o.timeNQ < timeNQ {
		timeNQ = o.timeNQ
	}
	for _, ef := range efs {
		found := searchAll(ix, ds, o.k, ef, cosine, ds.nqTotal, max(slices.Max(threads), 1))
		r := searchRow{Param: param, Value: ef}
		r.Recall, r.RecallTie = recalls(ds, found, o.k, o.metric)
		for _, t := range threads {
			var times, cpus []float64
			spent := 0.0
			profiling := t == 1 && ef == o.profileEf && o.cpuProfile != ""
			var stop func()
			if profiling {
				stop = startProfile(o.cpuProfile)
			}
			for range o.repeats {
				c0 := cpuSeconds()
				s0 := time.Now()
				searchAll(ix, ds, o.k, ef, cosine, timeNQ, t)
				dt := time.Since(s0).Seconds()
				cpus = append(cpus, cpuSeconds()-c0)
				times = append(times, dt)
				spent += dt
				if spent >= o.maxSeconds {
					break
				}
			}
			if profiling {
				stop()
			}
			qps := float64(timeNQ) / median(times)
			best := float64(timeNQ) / slices.Min(times)
			cpuQPS := float64(timeNQ) / median(cpus)
			switch t {
			case 1:
				r.QPS1, r.Best1, r.Times1, r.CPU1, r.CPUQPS1 = qps, best, times, cpus, cpuQPS
			case 2:
				r.QPS2, r.Best2, r.Times2, r.CPU2, r.CPUQPS2 = qps, best, times, cpus, cpuQPS
			}
		}
		r.LoadAvg = loadavg()
		res.Search = append(res.Search, r)
		fmt.Println(row("luma", res.Index+"-go", fmt.Sprintf("%s=%d", param, ef), &r.Recall, &r.RecallTie,
			nz(r.QPS1), nz(r.QPS2), nil, nil))
	}

	machine["loadavg_end"] = loadavg()
	doc := map[string]any{
		"dataset": ds.name, "metric": o.metric, "k": o.k, "n_base": ds.n,
		"n_queries": ds.nqTotal, "time_nq": timeNQ, "repeats": o.repeats,
		"machine": machine, "command": strings.Join(os.Args, " "),
		"results": []result{res},
	}
	if o.out != "" {
		if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
			return err
		}
		b, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.out, b, 0o644); err != nil {
			return err
		}
		fmt.Println("wrote", o.out)
	}
	return nil
}

// searchAll searches the first nq queries with `threads` goroutines and
// returns the result ids per query.
func searchAll(ix index, ds *dataset, k, ef int, cosine bool, nq, threads int) [][]uint32 {
	out := make([][]uint32, nq)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]float32, ds.dim)
			for {
				i := int(next.Add(1) - 1)
				if i >= nq {
					return
				}
				q := ds.query(i)
				if cosine {
					copy(buf, q)
					distance.Normalize(buf)
					q = buf
				}
				res, err := ix.Search(q, k, ef, nil)
				if err != nil {
					panic(err)
				}
				ids := make([]uint32, len(res))
				for j, r := range res {
					ids[j] = r.ID
				}
				out[i] = ids
			}
		}()
	}
	wg.Wait()
	return out
}

// recalls returns recall@k by id and ann-benchmarks' tie-aware recall (a
// returned id counts when its exact distance is within the k-th true
// distance + 1e-3; Euclidean distance for l2, 1-cos for cosine, -dot for
// dot), both computed in float64 as shared/bench/benchlib.py does.
func recalls(ds *dataset, found [][]uint32, k int, metric string) (float64, float64) {
	hits, tie, total := 0, 0, 0
	for qi, ids := range found {
		gt := ds.gtIDs[qi][:k]
		total += k
		for _, id := range ids[:min(k, len(ids))] {
			if slices.Contains(gt, int32(id)) {
				hits++
			}
		}
		q := ds.query(qi)
		thr := float64(ds.gtDist[qi][k-1])
		if metric == "l2" {
			thr = math.Sqrt(math.Max(thr, 0))
		}
		for _, id := range ids[:min(k, len(ids))] {
			v := ds.vec(int(id))
			var d float64
			switch metric {
			case "l2":
				for j := range q {
					x := float64(v[j]) - float64(q[j])
					d += x * x
				}
				d = math.Sqrt(d)
			default:
				var dot, nq, nv float64
				for j := range q {
					dot += float64(v[j]) * float64(q[j])
					nq += float64(q[j]) * float64(q[j])
					nv += float64(v[j]) * float64(v[j])
				}
				if metric == "cosine" {
					d = 1 - dot/(math.Sqrt(nq)*math.Max(math.Sqrt(nv), 1e-30))
				} else {
					d = -dot
				}
			}
			if d <= thr+1e-3 {
				tie++
			}
		}
	}
	return float64(hits) / float64(total), float64(tie) / float64(total)
}

func intList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("bad list %q: %w", s, err)
		}
		out = append(out, v)
	}
	return out, nil
}

func median(x []float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func nz(v float64) *float64 {
	if v == 0 {
		return nil
	}
	return &v
}

const header = "peer       index                  param            r@10   r@10tie   ndis/q    qps_1t     qps_2t    build_s   mem_MiB"

func row(peer, index, param string, rec, tie, q1, q2, build, mem *float64) string {
	f := func(v *float64, format string) string {
		if v == nil {
			return "-"
		}
		return fmt.Sprintf(format, *v)
	}
	return fmt.Sprintf("%-10s %-22s %-12s %8s %9s %8s %9s %10s %10s %9s", peer, index, param,
		f(rec, "%.4f"), f(tie, "%.4f"), "-", f(q1, "%.1f"), f(q2, "%.1f"), f(build, "%.2f"), f(mem, "%.1f"))
}

func startProfile(path string) func() {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

func loadavg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

func machineInfo() map[string]any {
	m := map[string]any{
		"nproc": runtime.NumCPU(), "go": runtime.Version(), "date": time.Now().Format(time.RFC3339),
		"loadavg_start": loadavg(), "kernels": distance.Impl(),
	}
	if out, err := exec.Command("lscpu").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			if rest, ok := strings.CutPrefix(line, "Model name:"); ok {
				m["cpu"] = strings.TrimSpace(rest)
			}
		}
	}
	return m
}
