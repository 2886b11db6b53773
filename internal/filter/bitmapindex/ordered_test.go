package bitmapindex

import (
	"math/rand/v2"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/luma-db/luma/internal/filter"
)

// TestOrderedAgainstBruteForce drives the bucketed structure with random
// inserts and deletes (ids with several keys included) and checks collect
// and count for random ranges against a plain list of pairs, across bucket
// sizes so both the OR and the dense union paths run.
func TestOrderedAgainstBruteForce(t *testing.T) {
	defer func(s int) { bucketSize = s }(bucketSize)
	for _, size := range []int{1, 2, 5, 64} {
		bucketSize = size
		rng := rand.New(rand.NewPCG(uint64(size), 9))
		var o ordered[filter.Number]
		live := map[pair[filter.Number]]bool{}
		key := func() filter.Number { return filter.IntNumber(int64(rng.IntN(60)) - 10) }
		for step := range 6000 {
			p := pair[filter.Number]{key(), uint32(rng.IntN(700))}
			if live[p] {
				if !o.remove(p.k, p.id) {
					t.Fatalf("remove %v failed", p)
				}
				delete(live, p)
			} else if rng.IntN(4) > 0 {
				o.insert(p.k, p.id)
				live[p] = true
			} else if o.remove(p.k, p.id) {
				t.Fatalf("removed absent %v", p)
			}
			if o.n != len(live) {
				t.Fatalf("n = %d, want %d", o.n, len(live))
			}
			if step%20 != 0 {
				continue
			}
			var lo, hi *bound[filter.Number]
			if rng.IntN(4) > 0 {
				lo = &bound[filter.Number]{key(), rng.IntN(2) == 0}
			}
			if rng.IntN(4) > 0 {
				hi = &bound[filter.Number]{key(), rng.IntN(2) == 0}
			}
			want := roaring.New()
			var wantPairs uint64
			for p := range live {
				if aboveLo(p.k, lo) && belowHi(p.k, hi) {
					want.Add(p.id)
					wantPairs++
				}
			}
			if got := o.collect(lo, hi); !got.Equals(want) {
				t.Fatalf("size %d step %d: collect(%v, %v) = %v, want %v", size, step, lo, hi, got, want)
			}
			if got := o.count(lo, hi); got != wantPairs {
				t.Fatalf("size %d step %d: count = %d, want %d", size, step, got, wantPairs)
			}
		}
	}
}

func TestCollectDenseFallsBackWhenSparse(t *testing.T) {
	wholes := []*roaring.Bitmap{roaring.BitmapOf(1, 1<<31)}
	if collectDense(wholes, nil, 2) != nil {
		t.Fatal("dense union of 2 ids up to 2^31 must fall back")
	}
	got := collectDense([]*roaring.Bitmap{roaring.BitmapOf(1, 70), roaring.BitmapOf(3)}, []uint32{200, 1}, 5)
	if !got.Equals(roaring.BitmapOf(1, 3, 70, 200)) {
		t.Fatalf("collectDense = %v", got)
	}
}
