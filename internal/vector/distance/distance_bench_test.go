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

func BenchmarkDot(b *testing.B) {
	benchEachSet(b, func(b *testing.B, dim int) {
		r := rand.New(rand.NewPCG(1, 1))
		x, y := randVec(r, dim), randVec(r, dim)
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
		x, y := randVec(r, dim), randVec(r, dim)
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

// BenchmarkDotBatch scores a query against 64 random rows of an arena much
// larger than the caches, as one HNSW neighbour list expansion does.
func BenchmarkDotBatch(b *testing.B) {
	arenas := map[int][]float32{}
	benchEachSet(b, func(b *testing.B, dim int) {
		const arenaFloats = 64 << 20 // 256 MiB
		rowsN := arenaFloats / dim
		arena := arenas[dim]
		if arena == nil {
			r := rand.New(rand.NewPCG(2, 2))
			arena = randVec(r, rowsN*dim)
			arenas[dim] = arena
		}
		r := rand.New(rand.NewPCG(3, 3))
		q := randVec(r, dim)
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
		sinkF = out[0]
	})
}

// BenchmarkDotScan scores a query against 1024 consecutive rows that fit in
// the L2 cache at 128 and 768 dimensions, as an exact scan of a small
// candidate set does.
func BenchmarkDotScan(b *testing.B) {
	benchEachSet(b, func(b *testing.B, dim int) {
		const rowsN = 1024
		r := rand.New(rand.NewPCG(4, 4))
		q, arena := randVec(r, dim), randVec(r, rowsN*dim)
		out := make([]float32, rowsN)
		b.SetBytes(int64(4 * dim * rowsN))
		for b.Loop() {
			DotScan(q, arena, out)
		}
		sinkF = out[0]
	})
}
