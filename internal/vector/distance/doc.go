// Package distance holds the vector kernels used by every index kind: dot
// product, squared Euclidean distance and L2 normalisation over float32
// slices, batched forms of them for graph and flat scans, and an int8 dot
// product for scalar-quantised vectors.
//
// # Dispatch
//
// Every exported function goes through one kernel set chosen when the
// package is initialised: the fastest one the CPU and the operating system
// support (see Impl and Available). On amd64 these are, in order of
// preference:
//
//   - "avx512": 512-bit AVX-512F kernels, opmask-predicated tails; the int8
//     kernel needs AVX-512BW and uses VPDPBUSD where AVX-512 VNNI exists;
//   - "avx2": 256-bit AVX2+FMA kernels, VMASKMOVPS tails;
//   - "generic": the portable Go loops in distance.go.
//
// Other architectures, and amd64 builds with the purego tag, only have
// "generic". Force pins a kernel set by name, for tests, benchmarks and
// debugging; it is safe to call while other goroutines compute distances.
//
// # Invariants
//
// The generic kernels are the reference: the tests compare every other
// kernel set against them on random inputs of many lengths and alignments,
// and a fuzz target does the same with a seed corpus under testdata/fuzz.
// The SIMD kernels sum in a different order, so float results agree with the
// reference within rounding (relative to the sum of |a[i]*b[i]|), not
// bit for bit; the int8 kernels agree exactly. NaN and ±Inf inputs propagate
// as they would through the plain loop.
//
// The kernels read len(a) elements of each operand. The exported functions
// check len(b) >= len(a) first (and the batch functions bound every row by
// len(arena)), so a short operand panics in Go instead of letting the
// assembly read past it.
//
// # Files
//
//	doc.go            this overview
//	distance.go       public float API, kernel sets, Impl/Force, generic kernels
//	align.go          Make: 64-byte aligned vectors and arenas
//	batch.go          one query against many rows of an arena
//	int8.go           int8 dot product and its generic kernel
//	kernels_amd64.go  CPU feature checks and the assembly declarations
//	kernels_other.go  the generic-only kernel list for other builds
//	*_amd64.s         the AVX2, AVX-512 and VNNI kernels
package distance
