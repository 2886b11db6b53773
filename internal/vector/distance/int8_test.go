package distance

import (
	"math/rand/v2"
	"testing"
)

func randInt8s(r *rand.Rand, n int) []int8 {
	v := make([]int8, n)
	for i := range v {
		v[i] = int8(r.Uint32())
	}
	return v
}

type int8Kernel struct {
	name string
	fn   func(a, b []int8) int32
}

// int8Variants holds int8 kernels this machine can run that no kernel set
// uses, so that they are tested too: kernels_amd64_test.go adds the AVX-512BW
// kernel on cores where the VNNI one replaces it.
var int8Variants []int8Kernel

// eachInt8Kernel runs fn as a subtest for the int8 kernel of every kernel set
// and for every int8Variants entry.
func eachInt8Kernel(t *testing.T, fn func(t *testing.T, dot func(a, b []int8) int32)) {
	t.Helper()
	for _, k := range allInt8Kernels() {
		t.Run(k.name, func(t *testing.T) { fn(t, k.fn) })
	}
}

func allInt8Kernels() []int8Kernel {
	var ks []int8Kernel
	for _, k := range kernelSets {
		ks = append(ks, int8Kernel{k.name, k.dotI8})
	}
	return append(ks, int8Variants...)
}

// TestDotInt8MatchesGeneric checks every int8 kernel against the generic one,
// exactly, over lengths around every block size and unaligned starts.
func TestDotInt8MatchesGeneric(t *testing.T) {
	lengths := append([]int{127, 128, 129, 130, 143, 144, 159, 160, 161, 191, 192, 193, 255, 256, 257}, testLengths...)
	eachInt8Kernel(t, func(t *testing.T, dot func(a, b []int8) int32) {
		r := rand.New(rand.NewPCG(8, 8))
		for _, n := range lengths {
			for off := range 8 {
				a, b := randInt8s(r, n+off)[off:], randInt8s(r, n+8)
				if got, want := dot(a, b), dotInt8Generic(a, b); got != want {
					t.Errorf("n=%d off=%d: got %d, generic %d", n, off, got, want)
				}
			}
		}
	})
}

// TestDotInt8Extremes uses the values whose products are largest, including a
// length at which the int32 sum wraps: all kernels must wrap the same way.
func TestDotInt8Extremes(t *testing.T) {
	eachInt8Kernel(t, func(t *testing.T, dot func(a, b []int8) int32) {
		for _, n := range []int{1, 31, 32, 33, 1 << 17, 1<<17 + 1, 1<<18 + 77} {
			a, b := make([]int8, n), make([]int8, n)
			for i := range a {
				a[i], b[i] = -128, -128
			}
			want := int32(uint32(n) * 16384)
			if got := dot(a, b); got != want {
				t.Errorf("(-128)·(-128) n=%d: got %d, want %d", n, got, want)
			}
			for i := range b {
				b[i] = 127
			}
			prod := int32(-128 * 127)
			want = int32(uint32(n) * uint32(prod))
			if got := dot(a, b); got != want {
				t.Errorf("(-128)·127 n=%d: got %d, want %d", n, got, want)
			}
		}
	})
}

func TestDotInt8(t *testing.T) {
	eachKernelSet(t, func(t *testing.T, k *kernelSet) {
		defer forceForTest(t, k.name)()
		if got := DotInt8(nil, nil); got != 0 {
			t.Errorf("DotInt8(nil, nil) = %d", got)
		}
		if got := DotInt8([]int8{1, -2, 3}, []int8{4, 5, -6, 100}); got != 4-10-18 {
			t.Errorf("DotInt8 = %d, want %d", got, 4-10-18)
		}
	})
}
