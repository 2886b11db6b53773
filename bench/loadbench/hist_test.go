package main

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketBounds(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		v := int64(rng.Uint64N(1 << 44))
		if rng.IntN(4) == 0 {
			v = int64(rng.IntN(1000))
		}
		i := bucketOf(v)
		if up := bucketUpper(i); up < v || float64(up-v) > float64(v)/subCount+1 {
			t.Fatalf("value %d: bucket %d has upper bound %d", v, i, up)
		}
		if i > 0 && bucketUpper(i-1) >= v {
			t.Fatalf("value %d: the bucket below (%d) already covers it", v, i-1)
		}
	}
}

// TestQuantileAgainstSorted checks the histogram's percentiles against
// exact nearest-rank percentiles of the same samples.
func TestQuantileAgainstSorted(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var h hist
	xs := make([]int64, 50000)
	for i := range xs {
		// Log-normal-ish latencies from 10 µs to ~100 ms.
		xs[i] = int64(10_000 * (1 + rng.ExpFloat64()*rng.ExpFloat64()*50))
		h.record(time.Duration(xs[i]))
	}
	slices.Sort(xs)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
		rank := int(q*float64(len(xs)) + 0.999999)
		exact := xs[rank-1]
		got := int64(h.quantile(q))
		if got < exact || float64(got-exact) > float64(exact)/subCount+1 {
			t.Errorf("q=%v: histogram %d, exact %d", q, got, exact)
		}
	}
	if int64(h.quantile(1)) != xs[len(xs)-1] || h.min != xs[0] || h.n != uint64(len(xs)) {
		t.Errorf("max/min/count: %v %d %d", h.quantile(1), h.min, h.n)
	}
	var m hist
	m.merge(&h)
	m.merge(&h)
	if m.n != 2*h.n || m.quantile(0.5) != h.quantile(0.5) {
		t.Errorf("merge: n %d, p50 %v vs %v", m.n, m.quantile(0.5), h.quantile(0.5))
	}
}
