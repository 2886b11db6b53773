package distance

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

var benchDims = []int{128, 768, 1536}

// sink keeps results alive so the compiler cannot drop the calls.
var (
	sinkF float32
	sinkI int32
)

// benchEachSet runs fn under b.Run("<impl>/<dim>") for every kernel set and
// dimension, with the set forced so the exported functions, dispatch
// included, are what is measured.
func benchEachSet(b *testing.B, fn func(b *testing.B, dim int)) {
	for _, name := range Available() {
		for _, dim := range benchDims {
			b.Run(fmt.Sprintf("%s/%d", name, dim), func(b *testing.B) {
				defer forceForTest(b, name)()
				fn(b, dim)
			})
		}
	}
}

// alignedVec returns n random values in a slice from Make, offset by skip
// elements from the 64-byte boundary.
func alignedVec(r *rand.Rand, n, skip int) []float32 {
	v := Make(n + skip)[skip:]
	copy(v, randVec(r, n))
	return v
}

// BenchmarkDot measures 64-byte aligned operands, as rows of an arena from
// Make and a query from Make are; BenchmarkDotUnaligned shows the cost when
// a and b are misaligned differently.
func BenchmarkDot(b *testing.B) {
	benchEachSet(b, func(b *testing.B, dim int) {
		r := rand.New(rand.NewPCG(1, 1))
		x, y := alignedVec(r, dim, 0), alignedVec(r, dim, 0)
		b.SetBytes(int64(8 * dim))
		var s float32
		for b.Loop() {
			s += Dot(x, y)
		}
		sinkF = s
	})
}

func BenchmarkDotUnaligned(b *testing.B) {
	benchEachSet(b, func(b *testing.B, dim int) {
		r := rand.New(rand.NewPCG(1, 1))
		x, y := alignedVec(r, dim, 1), alignedVec(r, dim, 9)
		b.SetBytes(int64(8 * dim))
		var s float32
		for b.Loop() {
			s += Dot(x, y)
		}
		sinkF = s
	})
}

func BenchmarkL2Sq(b *testing.B) {
	benchEachSet(b, func(b *testing.B, dim int) {
		r := rand.New(rand.NewPCG(1, 1))
		x, y := alignedVec(r, dim, 0), alignedVec(r, dim, 0)
		b.SetBytes(int64(8 * dim))
		var s float32
		for b.Loop() {
			s += L2Sq(x, y)
		}
		sinkF = s
	})
}

func BenchmarkDotInt8(b *testing.B) {
	benchEachSet(b, func(b *testing.B, dim int) {
		r := rand.New(rand.NewPCG(1, 1))
		x, y := randInt8s(r, dim), randInt8s(r, dim)
		b.SetBytes(int64(2 * dim))
		var s int32
		for b.Loop() {
			s += DotInt8(x, y)
		}
		sinkI = s
	})
}

// benchArenas caches the large arenas of BenchmarkDotBatch across runs of
// -count, keyed by dimension.
var benchArenas = map[int][]float32{}

// BenchmarkDotBatch scores a query against 64 random rows of a 256 MiB
// arena, far larger than the caches, as one HNSW neighbour-list expansion
// does: it measures memory more than arithmetic.
func BenchmarkDotBatch(b *testing.B) {
	benchEachSet(b, func(b *testing.B, dim int) {
		const arenaFloats = 64 << 20 // 256 MiB
		rowsN := arenaFloats / dim
		arena := benchArenas[dim]
		if arena == nil {
			r := rand.New(rand.NewPCG(2, 2))
			arena = alignedVec(r, rowsN*dim, 0)
			benchArenas[dim] = arena
		}
		r := rand.New(rand.NewPCG(3, 3))
		q := alignedVec(r, dim, 0)
		const batchN = 64
		lists := make([][]uint32, 1024)
		for i := range lists {
			lists[i] = make([]uint32, batchN)
			for j := range lists[i] {
				lists[i][j] = uint32(r.IntN(rowsN))
			}
		}
		out := make([]float32, batchN)
		b.SetBytes(int64(4 * dim * batchN))
		i := 0
		for b.Loop() {
			DotBatch(q, arena, lists[i%len(lists)], out)
			i++
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batchN), "ns/row")
		sinkF = out[0]
	})
}

// BenchmarkDotScan scores a query against every row of a 1 MiB arena, which
// stays in the L2 cache, as an exact scan of a small candidate set does.
func BenchmarkDotScan(b *testing.B) {
	benchEachSet(b, func(b *testing.B, dim int) {
		rowsN := (1 << 18) / dim
		r := rand.New(rand.NewPCG(4, 4))
		q, arena := alignedVec(r, dim, 0), alignedVec(r, rowsN*dim, 0)
		out := make([]float32, rowsN)
		b.SetBytes(int64(4 * dim * rowsN))
		for b.Loop() {
			DotScan(q, arena, out)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rowsN), "ns/row")
		sinkF = out[0]
	})
}
