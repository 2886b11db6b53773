package distance

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"unsafe"
)

// testLengths cover empty input, every tail size of the 8- and 16-lane
// kernels around their unrolled block sizes, and the embedding sizes that
// matter in practice.
var testLengths = []int{
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 15, 16, 17, 23, 24, 31, 32, 33, 47, 48,
	63, 64, 65, 79, 95, 96, 100, 127, 128, 129, 191, 255, 256, 257, 383, 384,
	511, 512, 767, 768, 769, 1023, 1024, 1025, 1535, 1536, 1537, 3072, 4095, 4096, 4097,
}

// eachKernelSet runs fn as a subtest for every kernel set this machine can
// run, so each implementation is tested explicitly, not only the selected
// one.
func eachKernelSet(t *testing.T, fn func(t *testing.T, k *kernelSet)) {
	t.Helper()
	for _, k := range kernelSets {
		t.Run(k.name, func(t *testing.T) { fn(t, k) })
	}
}

// randVec returns n values in (-scale, scale) for a scale drawn from a wide
// range, so that the tests see values far from 1 as well as unit-range ones.
func randVec(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	scale := [...]float32{1, 1e-3, 1e3, 1e-20, 1e15}[r.IntN(5)]
	for i := range v {
		v[i] = (r.Float32()*2 - 1) * scale
	}
	return v
}

// unitRound is float32's unit roundoff.
const unitRound = 1.0 / (1 << 24)

// smallestSubnormal is float32's smallest positive value, 2^-149.
const smallestSubnormal = 1.0 / (1 << 149)

// sumTolerance bounds how far two float32 summations of the same n terms in
// different orders can drift apart, relative to the sum of the magnitudes of
// the terms. The generic kernel sums n/4 terms in a chain and each SIMD kernel
// fewer, plus a short reduction, and FMA rounds once per term where the
// generic kernel rounds twice; the slack of 16 covers the reductions. Terms
// in the subnormal range lose precision absolutely, not relatively, hence the
// second part.
func sumTolerance(n int, sumAbs float64) float64 {
	return float64(n/4+16)*2*unitRound*sumAbs + float64(n+16)*smallestSubnormal
}

func dotSumAbs(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += math.Abs(float64(a[i]) * float64(b[i]))
	}
	return s
}

func l2SumAbs(a, b []float32) float64 {
	var s float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return s
}

func within(got, want float32, tol float64) bool {
	return math.Abs(float64(got)-float64(want)) <= tol
}

func TestKernelSetsOrder(t *testing.T) {
	names := Available()
	if names[len(names)-1] != "generic" {
		t.Fatalf("Available() = %v, want generic last", names)
	}
	if Impl() != names[0] {
		t.Fatalf("Impl() = %q, want the fastest available %q", Impl(), names[0])
	}
	t.Logf("kernel sets: %v, selected %s", names, Impl())
}

func TestForce(t *testing.T) {
	orig := Impl()
	for _, name := range Available() {
		prev, err := Force(name)
		if err != nil {
			t.Fatalf("Force(%q): %v", name, err)
		}
		if Impl() != name {
			t.Fatalf("after Force(%q), Impl() = %q", name, Impl())
		}
		if got := Dot([]float32{1, 2, 3}, []float32{4, 5, 6}); got != 32 {
			t.Fatalf("%s: Dot = %v, want 32", name, got)
		}
		if _, err := Force(prev); err != nil {
			t.Fatalf("Force(%q) to restore: %v", prev, err)
		}
	}
	if _, err := Force("sse9"); err == nil {
		t.Fatal("Force(unknown) did not fail")
	}
	if Impl() != orig {
		t.Fatalf("failed Force changed Impl() to %q", Impl())
	}
	if _, err := Force("generic"); err != nil {
		t.Fatal(err)
	}
	if prev, err := Force("auto"); err != nil || prev != "generic" {
		t.Fatalf(`Force("auto") = %q, %v; want "generic", nil`, prev, err)
	}
	if Impl() != Available()[0] {
		t.Fatalf(`after Force("auto"), Impl() = %q, want %q`, Impl(), Available()[0])
	}
}

// TestForceConcurrent switches kernel sets while other goroutines compute;
// run with -race it checks that Force is safe to call at any time.
func TestForceConcurrent(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	a, b := randVec(r, 769), randVec(r, 769)
	want := dotGeneric(a, b)
	tol := sumTolerance(len(a), dotSumAbs(a, b))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if got := Dot(a, b); !within(got, want, tol) {
					t.Errorf("Dot = %v, want %v", got, want)
					return
				}
			}
		})
	}
	names := Available()
	for i := range 200 {
		if _, err := Force(names[i%len(names)]); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if _, err := Force("auto"); err != nil {
		t.Fatal(err)
	}
}

// TestKernelsMatchGeneric compares every kernel set against the generic
// kernels on random inputs of many lengths, with each operand starting at
// every offset 0..7 of a larger allocation so that no alignment is assumed,
// and with b longer than a so that only len(a) elements may be read.
func TestKernelsMatchGeneric(t *testing.T) {
	eachKernelSet(t, func(t *testing.T, k *kernelSet) {
		r := rand.New(rand.NewPCG(7, 11))
		for _, n := range testLengths {
			for off := range 8 {
				bufA, bufB := randVec(r, n+off+8), randVec(r, n+off+8)
				offB := (off * 3) % 8
				a, b := bufA[off:off+n], bufB[offB:]
				if got, want := k.dot(a, b), dotGeneric(a, b); !within(got, want, sumTolerance(n, dotSumAbs(a, b))) {
					t.Errorf("dot n=%d off=%d: got %v, generic %v", n, off, got, want)
				}
				if got, want := k.l2sq(a, b), l2sqGeneric(a, b); !within(got, want, sumTolerance(n, l2SumAbs(a, b))) {
					t.Errorf("l2sq n=%d off=%d: got %v, generic %v", n, off, got, want)
				}
			}
		}
	})
}

// TestKernelsExact uses small integers, whose products and sums float32
// represents exactly, so every summation order must give the same answer.
func TestKernelsExact(t *testing.T) {
	eachKernelSet(t, func(t *testing.T, k *kernelSet) {
		r := rand.New(rand.NewPCG(3, 5))
		for _, n := range testLengths {
			a, b := make([]float32, n), make([]float32, n)
			var dot, l2 float32
			for i := range a {
				a[i], b[i] = float32(r.IntN(33)-16), float32(r.IntN(33)-16)
				dot += a[i] * b[i]
				l2 += (a[i] - b[i]) * (a[i] - b[i])
			}
			if got := k.dot(a, b); got != dot {
				t.Errorf("dot n=%d: got %v, want %v", n, got, dot)
			}
			if got := k.l2sq(a, b); got != l2 {
				t.Errorf("l2sq n=%d: got %v, want %v", n, got, l2)
			}
		}
	})
}

// TestKernelsNonFinite puts NaN or ±Inf at every position class (main loop,
// short loop, masked tail) and checks the IEEE result: NaN anywhere gives
// NaN, a lone Inf gives Inf of the product's sign, +Inf and -Inf products
// together give NaN.
func TestKernelsNonFinite(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	eachKernelSet(t, func(t *testing.T, k *kernelSet) {
		for _, n := range []int{1, 3, 7, 8, 15, 16, 17, 31, 33, 63, 65, 127, 129, 768, 769} {
			positions := []int{0, n / 2, n - 1}
			for _, p := range positions {
				a, b := make([]float32, n), make([]float32, n)
				for i := range a {
					a[i], b[i] = 0.5, 0.25
				}
				a[p] = nan
				if got := k.dot(a, b); !isNaN(got) {
					t.Errorf("dot n=%d NaN at %d: got %v", n, p, got)
				}
				if got := k.l2sq(a, b); !isNaN(got) {
					t.Errorf("l2sq n=%d NaN at %d: got %v", n, p, got)
				}

				a[p] = inf
				if got := k.dot(a, b); got != inf {
					t.Errorf("dot n=%d +Inf at %d: got %v", n, p, got)
				}
				if got := k.l2sq(a, b); got != inf {
					t.Errorf("l2sq n=%d +Inf at %d: got %v", n, p, got)
				}
				b[p] = -1
				if got := k.dot(a, b); got != -inf {
					t.Errorf("dot n=%d +Inf*-1 at %d: got %v", n, p, got)
				}
				b[p] = inf
				if got := k.l2sq(a, b); !isNaN(got) {
					t.Errorf("l2sq n=%d Inf-Inf at %d: got %v", n, p, got)
				}
				if q := (p + 1) % n; q != p {
					b[p] = 1
					a[q], b[q] = -inf, 1
					if got := k.dot(a, b); !isNaN(got) {
						t.Errorf("dot n=%d +Inf at %d, -Inf at %d: got %v", n, p, q, got)
					}
				}
			}
		}
	})
}

func isNaN(f float32) bool { return f != f }

func TestNormalize(t *testing.T) {
	eachKernelSet(t, func(t *testing.T, k *kernelSet) {
		defer forceForTest(t, k.name)()

		zero := make([]float32, 17)
		if Normalize(zero) {
			t.Error("Normalize(zero) = true")
		}
		if slices.ContainsFunc(zero, func(f float32) bool { return f != 0 }) {
			t.Errorf("Normalize(zero) changed it: %v", zero)
		}
		if Normalize(nil) {
			t.Error("Normalize(nil) = true")
		}
		withNaN := []float32{1, float32(math.NaN()), 2}
		if Normalize(withNaN) || withNaN[0] != 1 || withNaN[2] != 2 {
			t.Errorf("Normalize(NaN vector) = true or changed it: %v", withNaN)
		}
		huge := []float32{3e38, 3e38}
		if Normalize(huge) || huge[0] != 3e38 {
			t.Errorf("Normalize(vector with overflowing norm) = true or changed it: %v", huge)
		}

		r := rand.New(rand.NewPCG(9, 9))
		for _, n := range []int{1, 3, 17, 128, 769, 1536} {
			v := randVec(r, n)
			if !Normalize(v) {
				t.Fatalf("Normalize(random n=%d) = false", n)
			}
			if got := Norm(v); math.Abs(float64(got)-1) > 1e-5 {
				t.Errorf("n=%d: norm after Normalize = %v", n, got)
			}
		}
		if got := Norm([]float32{3, 4}); got != 5 {
			t.Errorf("Norm(3,4) = %v, want 5", got)
		}
	})
}

// TestShortOperandPanics checks that the exported functions refuse a b
// shorter than a in Go rather than letting a kernel read past it.
func TestShortOperandPanics(t *testing.T) {
	eachKernelSet(t, func(t *testing.T, k *kernelSet) {
		defer forceForTest(t, k.name)()
		// b has room past its length: the check must use len, not cap.
		a, b := make([]float32, 33), make([]float32, 32, 64)
		for name, fn := range map[string]func(){
			"Dot":     func() { Dot(a, b) },
			"L2Sq":    func() { L2Sq(a, b) },
			"DotInt8": func() { DotInt8(make([]int8, 40), make([]int8, 39, 80)) },
		} {
			if !panics(fn) {
				t.Errorf("%s with short b did not panic", name)
			}
		}
	})
}

func panics(fn func()) (panicked bool) {
	defer func() { panicked = recover() != nil }()
	fn()
	return false
}

// forceForTest switches to the named kernel set and returns a function that
// restores the previous one.
func forceForTest(t testing.TB, name string) func() {
	t.Helper()
	prev, err := Force(name)
	if err != nil {
		t.Fatal(err)
	}
	return func() {
		if _, err := Force(prev); err != nil {
			t.Fatal(err)
		}
	}
}

// aligned reports whether v starts on an Alignment boundary.
func aligned(v []float32) bool {
	return uintptr(unsafe.Pointer(unsafe.SliceData(v)))%Alignment == 0
}

func TestMake(t *testing.T) {
	for _, n := range []int{0, 1, 15, 16, 17, 768, 1 << 16} {
		for range 20 { // several allocations, at different addresses
			v := Make(n)
			if len(v) != n || cap(v) != n {
				t.Fatalf("Make(%d): len %d cap %d", n, len(v), cap(v))
			}
			if n > 0 && !aligned(v) {
				t.Fatalf("Make(%d) is not %d-byte aligned", n, Alignment)
			}
			if slices.ContainsFunc(v, func(f float32) bool { return f != 0 }) {
				t.Fatalf("Make(%d) is not zeroed", n)
			}
		}
	}
}
