package main

import (
	"math"
	"math/bits"
	"time"
)

// hist is an HDR-style log-linear latency histogram in nanoseconds.
//
// Values below 128 ns get a bucket each; above, every power-of-two range
// [2^k, 2^(k+1)) is split into 128 equal sub-buckets, so a bucket's width is
// at most 1/128 of its lower bound: any percentile read from it is off by
// less than 0.8 %. Count, sum, min and max are exact. Values beyond
// 2^44 ns (about 4.9 hours) land in the last bucket.
//
// Percentiles are nearest-rank (the smallest recorded value v such that at
// least q of all values are <= v) and report the upper bound of the bucket
// holding that value, clipped to the exact maximum: never optimistic.
type hist struct {
	counts [histBuckets]uint64
	n      uint64
	sum    float64 // ns
	min    int64
	max    int64
}

const (
	subBits     = 7
	subCount    = 1 << subBits // 128
	maxShift    = 44 - subBits // top range [2^43, 2^44)
	histBuckets = (maxShift + 2) * subCount
)

func bucketOf(v int64) int {
	if v < subCount {
		if v < 0 {
			return 0
		}
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - subBits - 1 // v>>shift is in [128, 256)
	if shift > maxShift {
		return histBuckets - 1
	}
	return (shift+1)*subCount + int(v>>shift) - subCount
}

// bucketUpper is the largest value that falls in bucket i.
func bucketUpper(i int) int64 {
	if i < subCount {
		return int64(i)
	}
	shift := i/subCount - 1
	sub := int64(i%subCount + subCount)
	return (sub+1)<<shift - 1
}

func (h *hist) record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	h.counts[bucketOf(v)]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += float64(v)
}

func (h *hist) merge(o *hist) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// quantile returns the nearest-rank q-quantile (0 < q <= 1).
func (h *hist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(bucketUpper(i), h.max))
		}
	}
	return time.Duration(h.max)
}

func (h *hist) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.n))
}

// latency is the summary of a histogram as the report shows it.
type latency struct {
	Count  uint64  `json:"count"`
	MeanMs float64 `json:"mean_ms"`
	P50ms  float64 `json:"p50_ms"`
	P99ms  float64 `json:"p99_ms"`
	P999ms float64 `json:"p999_ms"`
	MaxMs  float64 `json:"max_ms"`
}

func (h *hist) summary() latency {
	return latency{
		Count:  h.n,
		MeanMs: ms(h.mean()),
		P50ms:  ms(h.quantile(0.50)),
		P99ms:  ms(h.quantile(0.99)),
		P999ms: ms(h.quantile(0.999)),
		MaxMs:  ms(time.Duration(h.max)),
	}
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }
