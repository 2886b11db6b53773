package flat

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/luma-db/luma/internal/vector/distance"
)

func randomVecs(seed uint64, n, dim int) [][]float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([][]float32, n)
	for i := range out {
		v := make([]float32, dim)
		for j := range v {
			v[j] = float32(rng.NormFloat64())
		}
		out[i] = v
	}
	return out
}

// naive is the reference: every allowed vector scored in float64 and
// sorted by (distance, id).
func naive(base [][]float32, q []float32, m Metric, k int, allow func(uint32) bool) []uint32 {
	type c struct {
		d  float64
		id uint32
	}
	var all []c
	for i, v := range base {
		if v == nil || (allow != nil && !allow(uint32(i))) {
			continue
		}
		var d float64
		for j := range v {
			if m == L2 {
				x := float64(v[j]) - float64(q[j])
				d += x * x
			} else {
				d -= float64(v[j]) * float64(q[j])
			}
		}
		all = append(all, c{d, uint32(i)})
	}
	slices.SortFunc(all, func(a, b c) int {
		if r := cmp.Compare(a.d, b.d); r != 0 {
			return r
		}
		return cmp.Compare(a.id, b.id)
	})
	var ids []uint32
	for _, x := range all[:min(k, len(all))] {
		ids = append(ids, x.id)
	}
	return ids
}

func ids(rs []Result) []uint32 {
	var out []uint32
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func TestSearchMatchesNaive(t *testing.T) {
	for _, m := range []Metric{L2, Dot} {
		for _, dim := range []int{1, 3, 16, 33} {
			t.Run(fmt.Sprintf("%v/%d", m, dim), func(t *testing.T) {
				base := randomVecs(uint64(dim), 700, dim)
				ix, err := New(Config{Dim: dim, Metric: m}, 0)
				if err != nil {
					t.Fatal(err)
				}
				for i, v := range base {
					if i%5 == 4 {
						base[i] = nil // a gap in the id space
						continue
					}
					if err := ix.Add(uint32(i), v); err != nil {
						t.Fatal(err)
					}
				}
				qs := randomVecs(99, 20, dim)
				for qi, q := range qs {
					var allow func(uint32) bool
					if qi%2 == 1 {
						allow = func(id uint32) bool { return id%3 == 0 }
					}
					got, err := ix.Search(q, 10, 0, allow)
					if err != nil {
						t.Fatal(err)
					}
					// float32 vs float64 rounding may swap near-ties: compare
					// distances, not only ids.
					want := naive(base, q, m, 10, allow)
					if len(got) != len(want) {
						t.Fatalf("got %d results, want %d", len(got), len(want))
					}
					for i := range got {
						if got[i].ID != want[i] {
							a, b := score(base[got[i].ID], q, m), score(base[want[i]], q, m)
							if math.Abs(a-b) > 1e-4*math.Max(1, math.Abs(b)) {
								t.Fatalf("result %d: id %d (%v), want %d (%v)", i, got[i].ID, a, want[i], b)
							}
						}
					}
					// SearchIDs over the allowed ids gives the same answer.
					var list []uint32
					for i := range base {
						if allow == nil || allow(uint32(i)) {
							list = append(list, uint32(i))
						}
					}
					rng := rand.New(rand.NewPCG(uint64(qi), 3))
					rng.Shuffle(len(list), func(i, j int) { list[i], list[j] = list[j], list[i] })
					list = append(list, list[:5]...) // duplicates are ignored
					sub, err := ix.SearchIDs(q, 10, list)
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(ids(sub), ids(got)) {
						t.Fatalf("SearchIDs %v, Search %v", ids(sub), ids(got))
					}
				}
			})
		}
	}
}

func score(v, q []float32, m Metric) float64 {
	if m == L2 {
		return float64(distance.L2Sq(v, q))
	}
	return float64(-distance.Dot(v, q))
}

func TestEdgeCases(t *testing.T) {
	if _, err := New(Config{Dim: 0, Metric: L2}, 0); !errors.Is(err, ErrConfig) {
		t.Fatal(err)
	}
	if _, err := New(Config{Dim: 2}, 0); !errors.Is(err, ErrConfig) {
		t.Fatal(err)
	}
	ix, _ := New(Config{Dim: 2, Metric: Dot}, 0)
	if r, err := ix.Search([]float32{1, 0}, 3, 0, nil); err != nil || len(r) != 0 {
		t.Fatalf("empty: %v %v", r, err)
	}
	if err := ix.Add(1, []float32{1}); !errors.Is(err, ErrDimMismatch) {
		t.Fatal(err)
	}
	if err := ix.Add(1, []float32{1, float32(math.NaN())}); !errors.Is(err, ErrInvalidVector) {
		t.Fatal(err)
	}
	if err := ix.Add(MaxID+1, []float32{1, 0}); !errors.Is(err, ErrIDRange) {
		t.Fatal(err)
	}
	if err := ix.Add(1, []float32{3, 4}); err != nil {
		t.Fatal(err)
	}
	if err := ix.Add(1, []float32{3, 4}); !errors.Is(err, ErrDuplicateID) {
		t.Fatal(err)
	}
	if err := ix.Add(2, []float32{3, 4}); err != nil { // same vector, other id
		t.Fatal(err)
	}
	r, err := ix.Search([]float32{1, 0}, 5, 0, nil)
	if err != nil || len(r) != 2 || r[0].ID != 1 || r[1].ID != 2 || r[0].Score != 3 {
		t.Fatalf("got %v %v; want ids 1,2 (tie by id) with score 3", r, err)
	}
	if _, err := ix.Search([]float32{1}, 1, 0, nil); !errors.Is(err, ErrDimMismatch) {
		t.Fatal(err)
	}
	if r, _ := ix.SearchIDs([]float32{1, 0}, 5, []uint32{0, 2, 1 << 30}); len(r) != 1 || r[0].ID != 2 {
		t.Fatalf("SearchIDs with absent ids: %v", r)
	}
	if !ix.Has(1) || ix.Has(0) || ix.Vector(0) != nil || ix.Len() != 2 || ix.MemoryBytes() <= 0 {
		t.Fatal("accessors")
	}
}

func TestConcurrentAddSearch(t *testing.T) {
	n := 3000
	base := randomVecs(5, n, 8)
	ix, _ := New(Config{Dim: 8, Metric: L2}, 0)
	var done atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !done.Load() {
			r, err := ix.Search(base[0], 3, 0, nil)
			if err != nil {
				t.Error(err)
				return
			}
			for _, x := range r {
				if len(ix.Vector(x.ID)) != 8 {
					t.Errorf("result %d without vector", x.ID)
				}
			}
		}
	}()
	var adders sync.WaitGroup
	for w := range 3 {
		adders.Add(1)
		go func() {
			defer adders.Done()
			for i := w; i < n; i += 3 {
				if err := ix.Add(uint32(i), base[i]); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	adders.Wait()
	done.Store(true)
	wg.Wait()
	if ix.Len() != n {
		t.Fatalf("Len %d", ix.Len())
	}
}

func TestRoundTripAndCorruption(t *testing.T) {
	base := randomVecs(7, 500, 5)
	ix, _ := New(Config{Dim: 5, Metric: Dot}, 10)
	for i, v := range base {
		if i%9 != 0 {
			_ = ix.Add(uint32(i), v)
		}
	}
	var buf bytes.Buffer
	n, err := ix.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatal(n, err)
	}
	good := buf.Bytes()
	got, err := Read(bytes.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	if got.Len() != ix.Len() || got.Config() != ix.Config() {
		t.Fatal("header mismatch")
	}
	for _, q := range randomVecs(8, 10, 5) {
		a, _ := ix.Search(q, 7, 0, nil)
		b, _ := got.Search(q, 7, 0, nil)
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Fatalf("results differ after reload")
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		bad := bytes.Clone(good)
		pos := rng.IntN(len(bad))
		bad[pos] ^= 1 << rng.IntN(8)
		if _, err := Read(bytes.NewReader(bad)); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("flip at %d: %v", pos, err)
		}
	}
	for _, n := range []int{0, 5, headerSize, headerSize + 3, len(good) - 1} {
		if _, err := Read(bytes.NewReader(good[:n])); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d: %v", n, err)
		}
	}
}

// FuzzRead: arbitrary input gives an index or an error, never a panic.
func FuzzRead(f *testing.F) {
	ix, _ := New(Config{Dim: 2, Metric: L2}, 0)
	_ = ix.Add(0, []float32{1, 2})
	_ = ix.Add(3, []float32{3, 4})
	var buf bytes.Buffer
	_, _ = ix.WriteTo(&buf)
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := Read(bytes.NewReader(b))
		if err != nil {
			return
		}
		if _, err := got.Search(make([]float32, got.Dim()), 2, 0, nil); err != nil {
			t.Fatal(err)
		}
	})
}
