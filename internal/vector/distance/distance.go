package distance

import (
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"unsafe"
)

// Dot returns the inner product of a and b. The slices must have the same
// length; only len(a) elements are read, and a b shorter than a panics.
// An empty a gives 0.
//
// b[:len(b):len(b)][:len(a)] checks len(a) against len(b): plain b[:len(a)]
// is bounded by cap(b) and would let a kernel read past len(b). Dot, L2Sq and
// DotInt8 are written to stay within the inliner's budget, so callers pay one
// indirect call into the kernel and nothing more.
func Dot(a, b []float32) float32 {
	return current().dot(a, b[:len(b):len(b)][:len(a)])
}

// L2Sq returns the squared Euclidean distance between a and b. The slices must
// have the same length; only len(a) elements are read, and a b shorter than a
// panics. An empty a gives 0.
func L2Sq(a, b []float32) float32 {
	return current().l2sq(a, b[:len(b):len(b)][:len(a)])
}

// Norm returns the Euclidean norm of v.
func Norm(v []float32) float32 { return float32(math.Sqrt(float64(Dot(v, v)))) }

// Normalize scales v in place to unit length and reports whether it could:
// a zero vector, or one whose norm is NaN or infinite, is left unchanged and
// false is returned.
func Normalize(v []float32) bool {
	n := Norm(v)
	if n == 0 || math.IsNaN(float64(n)) || math.IsInf(float64(n), 0) {
		return false
	}
	inv := 1 / n
	for i := range v {
		v[i] *= inv
	}
	return true
}

// kernelSet is one implementation of every kernel. The functions may assume
// len(b) >= len(a): the exported functions check that before calling them.
type kernelSet struct {
	name  string
	dot   func(a, b []float32) float32
	l2sq  func(a, b []float32) float32
	dotI8 func(a, b []int8) int32
}

var genericKernels = &kernelSet{
	name:  "generic",
	dot:   dotGeneric,
	l2sq:  l2sqGeneric,
	dotI8: dotInt8Generic,
}

// kernelSets lists the kernel sets this CPU can run, fastest first. The last
// one is always genericKernels.
var kernelSets = append(platformKernels(), genericKernels)

// active is the kernel set every exported function uses. It starts as the
// fastest available one; Force changes it. It is an atomic pointer so that
// Force does not race with kernels running on other goroutines.
var active = unsafe.Pointer(kernelSets[0])

// current returns the active kernel set. An atomic.Pointer would read the
// same but costs the inliner enough to keep Dot and L2Sq from being inlined.
func current() *kernelSet { return (*kernelSet)(atomic.LoadPointer(&active)) }

// Impl names the kernel set in use: "avx512", "avx2" or "generic". It is meant
// for logs and metrics.
func Impl() string { return current().name }

// Available names the kernel sets this machine can run, fastest first; the
// last is always "generic".
func Available() []string {
	names := make([]string, len(kernelSets))
	for i, k := range kernelSets {
		names[i] = k.name
	}
	return names
}

func swap(k *kernelSet) *kernelSet {
	return (*kernelSet)(atomic.SwapPointer(&active, unsafe.Pointer(k)))
}

// Force makes every function of the package use the named kernel set, one of
// Available, and returns the name of the set used until then so the caller
// can restore it. The name "" or "auto" selects the fastest set again. An
// unknown name, or one this CPU cannot run, returns an error and changes
// nothing. Force is meant for tests, benchmarks and debugging; it is safe for
// concurrent use, and a kernel already running finishes with the old set.
func Force(name string) (prev string, err error) {
	if name == "" || name == "auto" {
		return swap(kernelSets[0]).name, nil
	}
	for _, k := range kernelSets {
		if k.name == name {
			return swap(k).name, nil
		}
	}
	return Impl(), fmt.Errorf("distance: kernel set %q not available (have %s)", name, strings.Join(Available(), ", "))
}

// dotGeneric is the portable inner product. Four independent accumulators let
// the CPU overlap the multiply-adds instead of waiting on one dependency chain.
func dotGeneric(a, b []float32) float32 {
	n := len(a)
	b = b[:n]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= n; i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < n; i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// l2sqGeneric is the portable squared Euclidean distance.
func l2sqGeneric(a, b []float32) float32 {
	n := len(a)
	b = b[:n]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= n; i += 4 {
		d0 := a[i] - b[i]
		d1 := a[i+1] - b[i+1]
		d2 := a[i+2] - b[i+2]
		d3 := a[i+3] - b[i+3]
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < n; i++ {
		d := a[i] - b[i]
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}
