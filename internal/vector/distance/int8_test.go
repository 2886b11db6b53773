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

// TestDotInt8MatchesGeneric checks every kernel set against the generic int8
// kernel, exactly, over lengths around every block size and unaligned starts.
func TestDotInt8MatchesGeneric(t *testing.T) {
	lengths := append([]int{127, 128, 129, 130, 143, 144, 159, 160, 161, 191, 192, 193, 255, 256, 257}, testLengths...)
	eachKernelSet(t, func(t *testing.T, k *kernelSet) {
		r := rand.New(rand.NewPCG(8, 8))
		for _, n := range lengths {
			for off := range 8 {
				a, b := randInt8s(r, n+off)[off:], randInt8s(r, n+8)
				if got, want := k.dotI8(a, b), dotInt8Generic(a, b); got != want {
					t.Errorf("n=%d off=%d: got %d, generic %d", n, off, got, want)
				}
			}
		}
	})
}

// TestDotInt8Extremes uses the values whose products are largest, including a
// length at which the int32 sum wraps: all kernel sets must wrap the same way.
func TestDotInt8Extremes(t *testing.T) {
	eachKernelSet(t, func(t *testing.T, k *kernelSet) {
		for _, n := range []int{1, 31, 32, 33, 1 << 17, 1<<17 + 1, 1<<18 + 77} {
			a, b := make([]int8, n), make([]int8, n)
			for i := range a {
				a[i], b[i] = -128, -128
			}
			want := int32(uint32(n) * 16384)
			if got := k.dotI8(a, b); got != want {
				t.Errorf("(-128)·(-128) n=%d: got %d, want %d", n, got, want)
			}
			for i := range b {
				b[i] = 127
			}
			prod := int32(-128 * 127)
			want = int32(uint32(n) * uint32(prod))
			if got := k.dotI8(a, b); got != want {
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
