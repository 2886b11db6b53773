package distance

import (
	"encoding/binary"
	"math"
	"testing"
)

// floatsFromBytes splits data into two equal float32 vectors, each copied to
// an offset of off%8 elements inside a larger slice so that the kernels see
// every alignment. Any bit pattern is allowed: NaN, ±Inf, subnormals.
func floatsFromBytes(data []byte, off uint8) (a, b []float32) {
	n := len(data) / 8
	o := int(off % 8)
	a = make([]float32, o+n)[o:]
	b = make([]float32, 7-o+n)[7-o:]
	for i := range n {
		a[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		b[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*(n+i):]))
	}
	return a, b
}

// expectation says what any correct kernel must return for terms t[i],
// given as float64 (exact for products of two float32 and for squares of a
// float32): NaN if the IEEE sum is NaN in every order, the signed infinity if
// it is that in every order, otherwise a finite value near want. ok is false
// when finite terms are large enough that float32 overflow depends on the
// summation order; nothing can then be said but for NaN inputs.
type expectation struct {
	nan, ok bool
	inf     float64 // ±Inf, or 0 when the sum is finite
	sumAbs  float64 // of the finite terms
}

func expect(terms []float64) expectation {
	var e expectation
	var sum float64
	for _, t := range terms {
		sum += t
		if !math.IsInf(t, 0) && !math.IsNaN(t) {
			e.sumAbs += math.Abs(t)
		}
	}
	switch {
	case math.IsNaN(sum):
		e.nan = true
	case math.IsInf(sum, 0):
		e.inf = sum
	}
	e.ok = e.sumAbs < math.MaxFloat32/2
	return e
}

func (e expectation) check(t *testing.T, what string, n int, got, generic float32) {
	t.Helper()
	if !e.ok {
		return
	}
	switch {
	case e.nan:
		if !isNaN(got) || !isNaN(generic) {
			t.Errorf("%s n=%d: got %v, generic %v, want NaN", what, n, got, generic)
		}
	case e.inf != 0:
		if float64(got) != e.inf || float64(generic) != e.inf {
			t.Errorf("%s n=%d: got %v, generic %v, want %v", what, n, got, generic, e.inf)
		}
	default:
		if !within(got, generic, sumTolerance(n, e.sumAbs)) {
			t.Errorf("%s n=%d: got %v, generic %v (sum of |terms| %v)", what, n, got, generic, e.sumAbs)
		}
	}
}

// FuzzFloatKernels compares every kernel set with the generic kernels on
// arbitrary float32 bit patterns, lengths and alignments. Run it with
//
//	go test -run NONE -fuzz FuzzFloatKernels -fuzzminimizetime 2s ./internal/vector/distance/
//
// The short minimise time matters: minimising a long new input for the
// default 60s stalls the run.
func FuzzFloatKernels(f *testing.F) {
	// More seeds live in testdata/fuzz/FuzzFloatKernels.
	f.Add([]byte{}, uint8(0))
	f.Add(make([]byte, 8*17), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, off uint8) {
		a, b := floatsFromBytes(data, off)
		n := len(a)
		dots, l2s := make([]float64, n), make([]float64, n)
		hasNaN := false
		for i := range a {
			dots[i] = float64(a[i]) * float64(b[i])
			d := float64(a[i] - b[i]) // the kernels subtract in float32 too
			l2s[i] = d * d
			hasNaN = hasNaN || isNaN(a[i]) || isNaN(b[i])
		}
		eDot, eL2 := expect(dots), expect(l2s)
		wantDot, wantL2 := dotGeneric(a, b), l2sqGeneric(a, b)
		for _, k := range kernelSets {
			gotDot, gotL2 := k.dot(a, b), k.l2sq(a, b)
			if hasNaN && (!isNaN(gotDot) || !isNaN(gotL2)) {
				t.Errorf("%s n=%d: NaN input gave dot %v, l2sq %v", k.name, n, gotDot, gotL2)
			}
			eDot.check(t, k.name+" dot", n, gotDot, wantDot)
			eL2.check(t, k.name+" l2sq", n, gotL2, wantL2)
		}
	})
}

// FuzzDotInt8 compares every int8 kernel with the generic one, which must
// agree exactly.
func FuzzDotInt8(f *testing.F) {
	// More seeds live in testdata/fuzz/FuzzDotInt8.
	f.Add([]byte{}, uint8(0))
	f.Add([]byte{0x80, 0x80, 0x7f, 0x80}, uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, off uint8) {
		n := len(data) / 2
		o := int(off % 8)
		a, b := make([]int8, o+n)[o:], make([]int8, n)
		for i := range n {
			a[i], b[i] = int8(data[i]), int8(data[n+i])
		}
		want := dotInt8Generic(a, b)
		for _, k := range allInt8Kernels() {
			if got := k.fn(a, b); got != want {
				t.Errorf("%s n=%d: got %d, generic %d", k.name, n, got, want)
			}
		}
	})
}
