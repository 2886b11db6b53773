// Package distance holds the vector kernels used by every index kind: dot
// product, squared Euclidean distance and L2 normalisation over float32
// slices.
//
// The exported functions dispatch to the fastest implementation the CPU
// supports, chosen once at start-up (see Impl). The pure-Go versions in this
// file are the reference every other kernel is tested against.
package distance

import "math"

// Dot returns the inner product of a and b. The slices must have the same
// length; only len(a) elements are read.
func Dot(a, b []float32) float32 { return dotImpl(a, b) }

// L2Sq returns the squared Euclidean distance between a and b. The slices must
// have the same length; only len(a) elements are read.
func L2Sq(a, b []float32) float32 { return l2sqImpl(a, b) }

// Norm returns the Euclidean norm of v.
func Norm(v []float32) float32 { return float32(math.Sqrt(float64(Dot(v, v)))) }

// Normalize scales v in place to unit length and reports whether it could:
// a zero vector is left unchanged and false is returned.
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

// dotImpl and l2sqImpl are replaced at init by faster kernels when the CPU
// supports them.
var (
	dotImpl  = dotGeneric
	l2sqImpl = l2sqGeneric
)

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
