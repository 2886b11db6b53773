package distance

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestBatchMatchesSingle checks that the batched forms give, bit for bit, what
// the single-vector functions of the same kernel set give row by row.
func TestBatchMatchesSingle(t *testing.T) {
	eachKernelSet(t, func(t *testing.T, k *kernelSet) {
		defer forceForTest(t, k.name)()
		r := rand.New(rand.NewPCG(5, 6))
		for _, dim := range []int{1, 3, 16, 17, 128, 769} {
			const rowsN = 50
			arena := randVec(r, rowsN*dim)
			q := randVec(r, dim)
			rows := []uint32{0, rowsN - 1, 7, 7, 3, 49, 20}
			row := func(i uint32) []float32 { return arena[int(i)*dim : int(i+1)*dim] }

			out := make([]float32, len(rows)+1)
			out[len(rows)] = -42
			DotBatch(q, arena, rows, out)
			for i, ri := range rows {
				if want := Dot(q, row(ri)); out[i] != want {
					t.Errorf("dim %d: DotBatch[%d] (row %d) = %v, want %v", dim, i, ri, out[i], want)
				}
			}
			if out[len(rows)] != -42 {
				t.Errorf("dim %d: DotBatch wrote past len(rows)", dim)
			}
			L2SqBatch(q, arena, rows, out)
			for i, ri := range rows {
				if want := L2Sq(q, row(ri)); out[i] != want {
					t.Errorf("dim %d: L2SqBatch[%d] (row %d) = %v, want %v", dim, i, ri, out[i], want)
				}
			}

			scan := make([]float32, rowsN)
			DotScan(q, arena, scan)
			for i := range scan {
				if want := Dot(q, row(uint32(i))); scan[i] != want {
					t.Errorf("dim %d: DotScan[%d] = %v, want %v", dim, i, scan[i], want)
				}
			}
			L2SqScan(q, arena, scan[:rowsN-1])
			for i := range scan[:rowsN-1] {
				if want := L2Sq(q, row(uint32(i))); scan[i] != want {
					t.Errorf("dim %d: L2SqScan[%d] = %v, want %v", dim, i, scan[i], want)
				}
			}
		}
	})
}

func TestBatchEdges(t *testing.T) {
	// An empty query scores 0 against any row, even in an empty arena.
	out := []float32{1, 1}
	DotBatch(nil, nil, []uint32{0, 5}, out)
	if out[0] != 0 || out[1] != 0 {
		t.Errorf("DotBatch with empty query = %v, want zeros", out)
	}
	out = []float32{1, 1}
	L2SqScan(nil, nil, out)
	if out[0] != 0 || out[1] != 0 {
		t.Errorf("L2SqScan with empty query = %v, want zeros", out)
	}
	DotBatch([]float32{1}, []float32{2}, nil, nil) // no rows, nothing to do

	q, arena := []float32{1, 2}, []float32{1, 2, 3, 4, 5, 6}
	for name, fn := range map[string]func(){
		"DotBatch out too short":  func() { DotBatch(q, arena, []uint32{0, 1}, make([]float32, 1)) },
		"L2SqBatch row past end":  func() { L2SqBatch(q, arena, []uint32{3}, make([]float32, 1)) },
		"DotBatch partial row":    func() { DotBatch(q, arena[:5], []uint32{2}, make([]float32, 1)) },
		"DotScan arena too short": func() { DotScan(q, arena, make([]float32, 4)) },
		// (2^32-1)·2 wraps to a small offset in 32-bit arithmetic.
		"DotBatch huge row":    func() { DotBatch(q, arena, []uint32{math.MaxUint32}, make([]float32, 1)) },
		"L2SqScan partial row": func() { L2SqScan(q, arena[:5], make([]float32, 3)) },
	} {
		if !panics(fn) {
			t.Errorf("%s: did not panic", name)
		}
	}
}
