package distance

import "fmt"

// Batched kernels score one query against many rows of an arena: a single
// []float32 holding equal-length vectors back to back, row r occupying
// arena[r*d : (r+1)*d] with d = len(q). This is how the HNSW and flat indexes
// store a segment's vectors.
//
// They loop over the single-vector kernels; the kernel set is loaded once per
// call, so Force during a batch does not mix kernel sets within it. Rows are
// read fastest when the arena comes from Make, the dimension is a multiple
// of 16 and q comes from Make too (see Alignment).

// DotBatch sets out[i] to Dot(q, row rows[i]) for every i < len(rows). It
// panics if out is shorter than rows or a row lies outside arena. With an
// empty q every score is 0.
func DotBatch(q, arena []float32, rows []uint32, out []float32) {
	batch(current().dot, q, arena, rows, out)
}

// L2SqBatch sets out[i] to L2Sq(q, row rows[i]) for every i < len(rows). It
// panics if out is shorter than rows or a row lies outside arena. With an
// empty q every score is 0.
func L2SqBatch(q, arena []float32, rows []uint32, out []float32) {
	batch(current().l2sq, q, arena, rows, out)
}

// DotScan sets out[i] to Dot(q, row i) for every i < len(out): it scores the
// first len(out) rows of arena in order, as an exact scan does. It panics if
// arena holds fewer than len(out) rows.
func DotScan(q, arena []float32, out []float32) {
	scan(current().dot, q, arena, out)
}

// L2SqScan sets out[i] to L2Sq(q, row i) for every i < len(out). It panics if
// arena holds fewer than len(out) rows.
func L2SqScan(q, arena []float32, out []float32) {
	scan(current().l2sq, q, arena, out)
}

func batch(kernel func(a, b []float32) float32, q, arena []float32, rows []uint32, out []float32) {
	d := len(q)
	out = out[:len(rows)]
	arena = arena[:len(arena):len(arena)] // bound the row slices by len, not cap
	for i, r := range rows {
		// In uint64 so that r*d cannot wrap into range where int is 32 bits.
		end := (uint64(r) + 1) * uint64(d)
		if end > uint64(len(arena)) {
			panic(fmt.Sprintf("distance: row %d of dimension %d is outside an arena of %d values", r, d, len(arena)))
		}
		out[i] = kernel(q, arena[int(end)-d:int(end)])
	}
}

func scan(kernel func(a, b []float32) float32, q, arena []float32, out []float32) {
	d := len(q)
	arena = arena[:len(arena):len(arena)][:len(out)*d] // bounded by len, not cap
	for i := range out {
		off := i * d
		out[i] = kernel(q, arena[off:off+d])
	}
}
