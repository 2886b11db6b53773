package hnsw

import (
	"cmp"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/luma-db/luma/internal/vector/distance"
)

// testSize returns the number of base vectors and the dimension used by the
// recall tests: small under the race detector, larger otherwise.
func testSize() (n, dim int) {
	if raceEnabled {
		return 2000, 24
	}
	return 20000, 128
}

// clustered returns n base vectors and nq queries of dimension dim drawn
// from one mixture of Gaussian clusters (unit-variance centres, noise sd
// 0.35), reproducibly from seed. With unit set, every vector is normalised.
func clustered(seed uint64, n, nq, dim int, unit bool) (base, queries [][]float32) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	const clusters = 64
	centres := make([][]float32, clusters)
	for i := range centres {
		centres[i] = make([]float32, dim)
		for j := range centres[i] {
			centres[i][j] = float32(rng.NormFloat64())
		}
	}
	out := make([][]float32, n+nq)
	for i := range out {
		c := centres[rng.IntN(clusters)]
		v := make([]float32, dim)
		for j := range v {
			v[j] = c[j] + float32(0.35*rng.NormFloat64())
		}
		if unit {
			distance.Normalize(v)
		}
		out[i] = v
	}
	return out[:n], out[n:]
}

// exact returns the ids of the k nearest allowed vectors to q by brute
// force, nearest first, ties broken by id.
func exact(base [][]float32, q []float32, metric Metric, k int, allow func(uint32) bool) []uint32 {
	type cand struct {
		d  float32
		id uint32
	}
	var all []cand
	for i, v := range base {
		if allow != nil && !allow(uint32(i)) {
			continue
		}
		var d float32
		if metric == L2 {
			d = distance.L2Sq(q, v)
		} else {
			d = -distance.Dot(q, v)
		}
		all = append(all, cand{d, uint32(i)})
	}
	slices.SortFunc(all, func(a, b cand) int {
		if c := cmp.Compare(a.d, b.d); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	ids := make([]uint32, 0, k)
	for _, c := range all[:min(k, len(all))] {
		ids = append(ids, c.id)
	}
	return ids
}

// recall is |got ∩ want| / |want|.
func recall(got []Result, want []uint32) float64 {
	if len(want) == 0 {
		return 1
	}
	hit := 0
	for _, w := range want {
		for _, g := range got {
			if g.ID == w {
				hit++
				break
			}
		}
	}
	return float64(hit) / float64(len(want))
}

// build adds base[i] under id i from GOMAXPROCS goroutines.
func build(t testing.TB, cfg Config, base [][]float32) *Index {
	t.Helper()
	ix, err := New(cfg, len(base))
	if err != nil {
		t.Fatal(err)
	}
	addAll(t, ix, base, runtime.GOMAXPROCS(0))
	return ix
}

func addAll(t testing.TB, ix *Index, base [][]float32, workers int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(base); i += workers {
				if err := ix.Add(uint32(i), base[i]); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// meanRecall searches every query and averages recall@k against brute force.
func meanRecall(t testing.TB, ix *Index, base, queries [][]float32, metric Metric, k, ef int, allow func(uint32) bool) float64 {
	t.Helper()
	sum := 0.0
	for _, q := range queries {
		got, err := ix.Search(q, k, ef, allow)
		if err != nil {
			t.Fatal(err)
		}
		sum += recall(got, exact(base, q, metric, k, allow))
	}
	return sum / float64(len(queries))
}
