package hnsw

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

// checkGraph asserts the structural invariants that Read also enforces.
func checkGraph(t *testing.T, ix *Index) {
	t.Helper()
	pgs := *ix.pages.Load()
	rows := 0
	for pi, p := range pgs {
		for r, st := range p.state {
			if st >= stateLevel0 {
				rows = pi<<ix.pageShift + r + 1
			}
		}
	}
	id, level, ok := ix.loadEntry()
	if !ok {
		level = -1
		id = noEntry
	}
	if err := ix.validate(rows, id, level); err != nil {
		t.Fatalf("graph invariant: %v", err)
	}
}

func TestRecall(t *testing.T) {
	n, dim := testSize()
	for _, m := range []Metric{L2, Dot} {
		t.Run(m.String(), func(t *testing.T) {
			base, qs := clustered(1, n, 200, dim, m == Dot)
			ix := build(t, Config{Dim: dim, Metric: m}, base)
			if ix.Len() != n {
				t.Fatalf("Len = %d, want %d", ix.Len(), n)
			}
			checkGraph(t, ix)
			r := meanRecall(t, ix, base, qs, m, 10, 0, nil)
			t.Logf("n=%d dim=%d recall@10 at DefaultEf: %.4f", n, dim, r)
			if r < 0.95 {
				t.Fatalf("recall@10 = %.4f, want >= 0.95", r)
			}
			// Scores are the metric's own values, nearest first.
			res, err := ix.Search(qs[0], 10, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i, x := range res {
				v := base[x.ID]
				var want float32
				for j := range v {
					if m == L2 {
						d := v[j] - qs[0][j]
						want += d * d
					} else {
						want += v[j] * qs[0][j]
					}
				}
				if math.Abs(float64(want-x.Score)) > 1e-3*math.Max(1, math.Abs(float64(want))) {
					t.Fatalf("result %d: score %v, want %v", i, x.Score, want)
				}
				if i > 0 && ((m == L2 && x.Score < res[i-1].Score) || (m == Dot && x.Score > res[i-1].Score)) {
					t.Fatalf("results not ordered nearest first: %v", res)
				}
			}
		})
	}
}

// TestConcurrentAddSearch runs writers and readers together; under -race
// it checks that the lock-free reads are race-free, and afterwards that the
// graph is valid and as good as a sequential one.
func TestConcurrentAddSearch(t *testing.T) {
	n, dim := 4000, 24
	if raceEnabled {
		n = 1500
	}
	base, qs := clustered(3, n, 50, dim, false)
	ix, err := New(Config{Dim: dim, Metric: L2, M: 8, EfConstruction: 64}, 0) // tiny pages: many grows
	if err != nil {
		t.Fatal(err)
	}
	var done atomic.Bool
	var wg sync.WaitGroup
	var searches atomic.Int64
	for r := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !done.Load(); i++ {
				q := qs[(i+r)%len(qs)]
				var allow func(uint32) bool
				if i%3 == 0 {
					allow = func(id uint32) bool { return id%2 == 0 }
				}
				res, err := ix.Search(q, 5, 16, allow)
				if err != nil {
					t.Error(err)
					return
				}
				for _, x := range res {
					if allow != nil && !allow(x.ID) {
						t.Errorf("disallowed id %d returned", x.ID)
					}
					if v := ix.Vector(x.ID); len(v) != dim {
						t.Errorf("result %d has no vector", x.ID)
					}
				}
				searches.Add(1)
			}
		}()
	}
	addAll(t, ix, base, 4)
	done.Store(true)
	wg.Wait()
	t.Logf("%d searches ran during the build", searches.Load())
	checkGraph(t, ix)
	if r := meanRecall(t, ix, base, qs, L2, 10, 64, nil); r < 0.95 {
		t.Fatalf("recall after concurrent build %.4f", r)
	}
}

func TestFilteredSearch(t *testing.T) {
	n, dim := testSize()
	base, qs := clustered(4, n, 40, dim, false)
	ix := build(t, Config{Dim: dim, Metric: L2}, base)
	const k = 10
	for _, sel := range []float64{0.001, 0.01, 0.1, 0.5} {
		t.Run(fmt.Sprint(sel), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(sel*1e6), 7))
			allowed := make([]bool, n)
			count := 0
			for i := range allowed {
				if rng.Float64() < sel {
					allowed[i] = true
					count++
				}
			}
			allow := func(id uint32) bool { return allowed[id] }
			sum := 0.0
			for _, q := range qs {
				got, err := ix.Search(q, k, 0, allow)
				if err != nil {
					t.Fatal(err)
				}
				if want := min(k, count); len(got) != want {
					t.Fatalf("got %d results, want %d (%d allowed)", len(got), want, count)
				}
				for _, x := range got {
					if !allowed[x.ID] {
						t.Fatalf("disallowed id %d returned", x.ID)
					}
				}
				sum += recall(got, exact(base, q, L2, k, allow))
			}
			r := sum / float64(len(qs))
			t.Logf("selectivity %v (%d allowed): recall@10 %.4f", sel, count, r)
			if r < 0.9 {
				t.Fatalf("filtered recall %.4f, want >= 0.9", r)
			}
		})
	}
	t.Run("none allowed", func(t *testing.T) {
		got, err := ix.Search(qs[0], k, 0, func(uint32) bool { return false })
		if err != nil || len(got) != 0 {
			t.Fatalf("got %v, %v; want nothing", got, err)
		}
	})
}

func TestSerializationRoundTrip(t *testing.T) {
	for _, m := range []Metric{L2, Dot} {
		t.Run(m.String(), func(t *testing.T) {
			base, qs := clustered(5, 3000, 20, 16, m == Dot)
			ix, err := New(Config{Dim: 16, Metric: m, M: 12, EfConstruction: 80, Seed: 9}, 100)
			if err != nil {
				t.Fatal(err)
			}
			// Leave gaps in the id space.
			for i, v := range base {
				if i%7 != 3 {
					if err := ix.Add(uint32(i), v); err != nil {
						t.Fatal(err)
					}
				}
			}
			var buf bytes.Buffer
			n, err := ix.WriteTo(&buf)
			if err != nil || n != int64(buf.Len()) {
				t.Fatalf("WriteTo = %d, %v; buffer has %d", n, err, buf.Len())
			}
			got, err := Read(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if got.Len() != ix.Len() || got.Config() != ix.Config() {
				t.Fatalf("loaded Len %d cfg %+v, want %d %+v", got.Len(), got.Config(), ix.Len(), ix.Config())
			}
			for i := range base {
				a, b := ix.Vector(uint32(i)), got.Vector(uint32(i))
				if (a == nil) != (b == nil) || fmt.Sprint(a) != fmt.Sprint(b) {
					t.Fatalf("vector %d differs", i)
				}
			}
			for _, q := range qs {
				for _, ef := range []int{10, 50} {
					a, _ := ix.Search(q, 10, ef, nil)
					b, _ := got.Search(q, 10, ef, nil)
					if fmt.Sprint(a) != fmt.Sprint(b) {
						t.Fatalf("ef=%d: results differ after reload:\n%v\n%v", ef, a, b)
					}
				}
			}
			// The loaded index keeps accepting inserts.
			if err := got.Add(3, base[3]); err != nil {
				t.Fatal(err)
			}
			if err := got.Add(5000, base[0]); err != nil {
				t.Fatal(err)
			}
			checkGraph(t, got)
			// Writing the loaded index again gives the same bytes as writing
			// an index with the same content.
			var again bytes.Buffer
			if _, err := ix.WriteTo(&again); err != nil || !bytes.Equal(again.Bytes(), buf.Bytes()) {
				t.Fatalf("second WriteTo differs (%v)", err)
			}
		})
	}
	t.Run("empty", func(t *testing.T) {
		ix, _ := New(Config{Dim: 3, Metric: L2}, 0)
		var buf bytes.Buffer
		if _, err := ix.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		got, err := Read(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if res, err := got.Search([]float32{1, 2, 3}, 3, 0, nil); err != nil || res != nil {
			t.Fatalf("search on loaded empty index: %v %v", res, err)
		}
		if err := got.Add(0, []float32{1, 2, 3}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestCorruptFile(t *testing.T) {
	base, _ := clustered(6, 300, 0, 8, false)
	ix := build(t, Config{Dim: 8, Metric: L2, M: 4}, base)
	var buf bytes.Buffer
	if _, err := ix.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	rng := rand.New(rand.NewPCG(1, 2))
	positions := []int{0, 8, 12, 30, 60, headerSize, headerSize + 1, len(good) / 2, len(good) - 5, len(good) - 1}
	for range 200 {
		positions = append(positions, rng.IntN(len(good)))
	}
	for _, pos := range positions {
		bad := bytes.Clone(good)
		bad[pos] ^= 1 << rng.IntN(8)
		if _, err := Read(bytes.NewReader(bad)); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("bit flip at %d: err = %v, want ErrCorrupt", pos, err)
		}
	}
	for _, n := range []int{0, 1, 7, headerSize - 1, headerSize, headerSize + 1, len(good) / 3, len(good) - 4, len(good) - 1} {
		if _, err := Read(bytes.NewReader(good[:n])); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d bytes: err = %v, want ErrCorrupt", n, err)
		}
	}
	if _, err := Read(bytes.NewReader(good)); err != nil {
		t.Fatalf("intact file: %v", err)
	}
}

// TestStructurallyBadFile checks that a file whose checksums are right but
// whose graph is not (a link to a missing node) is rejected, not loaded.
func TestStructurallyBadFile(t *testing.T) {
	ix, _ := New(Config{Dim: 2, Metric: L2, M: 2}, 0)
	for i := range 3 {
		if err := ix.Add(uint32(i), []float32{float32(i), 1}); err != nil {
			t.Fatal(err)
		}
	}
	// Point node 0's first level-0 link at node 5, which does not exist.
	pgs := *ix.pages.Load()
	pgs[0].links0[1] = 5
	var buf bytes.Buffer
	if _, err := ix.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(&buf); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("err = %v, want ErrCorrupt", err)
	}
}

func TestConfigAndDims(t *testing.T) {
	for _, cfg := range []Config{{Dim: 0, Metric: L2}, {Dim: -1, Metric: L2}, {Dim: 4}, {Dim: 4, Metric: 9}, {Dim: 4, Metric: L2, M: 1}, {Dim: MaxDim + 1, Metric: Dot}} {
		if _, err := New(cfg, 0); !errors.Is(err, ErrConfig) {
			t.Errorf("New(%+v): err = %v, want ErrConfig", cfg, err)
		}
	}
	for _, dim := range []int{1, 3, 7, 17, 33} {
		t.Run(fmt.Sprint(dim), func(t *testing.T) {
			base, qs := clustered(uint64(dim), 500, 10, dim, false)
			ix := build(t, Config{Dim: dim, Metric: L2}, base)
			if r := meanRecall(t, ix, base, qs, L2, 5, 100, nil); r < 0.95 {
				t.Fatalf("dim %d recall %.3f", dim, r)
			}
		})
	}
	ix, _ := New(Config{Dim: 3, Metric: Dot}, 0)
	if res, err := ix.Search([]float32{1, 0, 0}, 5, 10, nil); res != nil || err != nil {
		t.Fatalf("empty index search: %v %v", res, err)
	}
	for _, v := range [][]float32{nil, {}, {1, 2}, {1, 2, 3, 4}} {
		if err := ix.Add(0, v); !errors.Is(err, ErrDimMismatch) {
			t.Errorf("Add(%v): %v, want ErrDimMismatch", v, err)
		}
		if _, err := ix.Search(v, 1, 1, nil); !errors.Is(err, ErrDimMismatch) {
			t.Errorf("Search(%v): %v, want ErrDimMismatch", v, err)
		}
	}
	nan := float32(math.NaN())
	if err := ix.Add(0, []float32{1, nan, 0}); !errors.Is(err, ErrInvalidVector) {
		t.Errorf("NaN vector: %v", err)
	}
	if _, err := ix.Search([]float32{float32(math.Inf(1)), 0, 0}, 1, 1, nil); !errors.Is(err, ErrInvalidVector) {
		t.Errorf("Inf query: %v", err)
	}
	if err := ix.Add(MaxID+1, []float32{1, 0, 0}); !errors.Is(err, ErrIDRange) {
		t.Errorf("id past MaxID: %v", err)
	}
	if err := ix.Add(7, []float32{1, 0, 0}); err != nil {
		t.Fatal(err)
	}
	if err := ix.Add(7, []float32{0, 1, 0}); !errors.Is(err, ErrDuplicateID) {
		t.Errorf("duplicate id: %v", err)
	}
	if ix.Len() != 1 || !ix.Has(7) || ix.Has(6) || ix.Vector(6) != nil || ix.Vector(1<<30) != nil {
		t.Fatalf("Len/Has/Vector wrong after one add at id 7")
	}
	if res, _ := ix.Search([]float32{1, 0, 0}, 0, 10, nil); res != nil {
		t.Fatalf("k=0 gave %v", res)
	}
	if ix.MemoryBytes() <= 0 {
		t.Fatal("MemoryBytes not positive")
	}
}

// TestDuplicateVectors inserts many identical vectors (distance 0 between
// them, which stresses the heuristic) next to distinct ones.
func TestDuplicateVectors(t *testing.T) {
	const dim = 8
	base, qs := clustered(8, 600, 10, dim, false)
	base = slices.Clip(base) // appending must not overwrite the queries
	for i := 0; i < 300; i++ {
		base = append(base, base[0])
	}
	ix := build(t, Config{Dim: dim, Metric: L2, M: 6}, base)
	checkGraph(t, ix)
	res, err := ix.Search(base[0], 50, 100, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 50 {
		t.Fatalf("got %d results", len(res))
	}
	zeros := 0
	for _, r := range res {
		if r.Score == 0 {
			zeros++
		}
	}
	if res[0].Score != 0 || zeros < 10 {
		t.Fatalf("expected copies of the query first, got %v", res)
	}
	t.Logf("%d of 50 results are exact copies", zeros)
	if r := meanRecall(t, ix, base, qs, L2, 10, 100, nil); r < 0.9 {
		t.Fatalf("recall with duplicates %.3f", r)
	}
}

// TestLevelsDeterministic checks that levels depend on (seed, id) only and
// follow the expected geometric distribution.
func TestLevelsDeterministic(t *testing.T) {
	a, _ := New(Config{Dim: 1, Metric: L2, Seed: 1}, 0)
	b, _ := New(Config{Dim: 1, Metric: L2, Seed: 1}, 0)
	hist := make([]int, maxLevel+1)
	for id := uint32(0); id < 100000; id++ {
		if a.levelFor(id) != b.levelFor(id) {
			t.Fatal("levels differ for the same seed")
		}
		hist[a.levelFor(id)]++
	}
	// P(level >= 1) = 1/M = 1/16.
	if up := 100000 - hist[0]; up < 5500 || up > 7000 {
		t.Fatalf("%d of 100000 nodes above level 0, want about 6250", up)
	}
}

func TestManyGoroutinesNoLostNodes(t *testing.T) {
	base, _ := clustered(9, 2000, 0, 4, false)
	ix, _ := New(Config{Dim: 4, Metric: L2, M: 4, EfConstruction: 20}, 0)
	addAll(t, ix, base, 2*runtime.GOMAXPROCS(0)+1)
	checkGraph(t, ix)
	if ix.Len() != len(base) {
		t.Fatalf("Len %d, want %d", ix.Len(), len(base))
	}
	for i, v := range base {
		if !slices.Equal(ix.Vector(uint32(i)), v) {
			t.Fatalf("vector %d lost", i)
		}
	}
	// Nearly every node is reachable: an unfiltered search with ef = n
	// finds them. (HNSW does not guarantee all: pruning can leave a node
	// of a tiny-M graph with no in-link.)
	res, err := ix.Search(base[0], len(base), len(base), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) < len(base)*99/100 {
		t.Fatalf("exhaustive search found %d of %d nodes", len(res), len(base))
	}
}

// unreachable returns the nodes that level 0 cannot reach from the entry
// point.
func unreachable(ix *Index) []uint32 {
	epID, _, ok := ix.loadEntry()
	if !ok {
		return nil
	}
	pgs := *ix.pages.Load()
	rows := len(pgs) << ix.pageShift
	seen := make([]bool, rows)
	seen[epID] = true
	stack := []uint32{epID}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		block := ix.linkBlock(&pgs, id, 0)
		for _, x := range block[1 : 1+block[0]] {
			if !seen[x] {
				seen[x] = true
				stack = append(stack, x)
			}
		}
	}
	var out []uint32
	for id := range rows {
		p := pgs[id>>ix.pageShift]
		if p.state[id&int(ix.pageMask)] >= stateLevel0 && !seen[id] {
			out = append(out, uint32(id))
		}
	}
	return out
}

// TestSelfQueries builds segment-sized graphs of random unit vectors (a
// hard case: intrinsic dimension as high as the space's) concurrently with
// the default settings, and checks that nearly every node is reachable from
// the entry point and finds itself among its top 10 at ef 256. HNSW
// guarantees neither: over 400 such graphs none had an unreachable node and
// 2 of 409,600 self-queries missed (at k 1 and ef 64, about 1 in 40,000), so
// the bounds below (0.1%) fail only when the graph is really damaged.
func TestSelfQueries(t *testing.T) {
	graphs, n, dim := 6, 1024, 16
	if raceEnabled {
		graphs, n = 2, 512
	}
	unreach, misses := 0, 0
	for seed := range graphs {
		r := rand.New(rand.NewPCG(uint64(seed), 9))
		base := make([][]float32, n)
		for i := range base {
			v := make([]float32, dim)
			var s float64
			for j := range v {
				v[j] = float32(r.NormFloat64())
				s += float64(v[j]) * float64(v[j])
			}
			for j := range v {
				v[j] /= float32(math.Sqrt(s))
			}
			base[i] = v
		}
		ix, err := New(Config{Dim: dim, Metric: Dot, Seed: int64(seed)}, n)
		if err != nil {
			t.Fatal(err)
		}
		addAll(t, ix, base, 2)
		unreach += len(unreachable(ix))
		for i, v := range base {
			res, err := ix.Search(v, 10, 256, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(res, func(r Result) bool { return r.ID == uint32(i) }) {
				misses++
			}
		}
	}
	if total := graphs * n; unreach > total/1000 || misses > total/1000 {
		t.Fatalf("of %d nodes: %d unreachable from the entry point, %d not in their own top 10", total, unreach, misses)
	}
}
