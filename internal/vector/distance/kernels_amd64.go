//go:build amd64 && !purego

package distance

import "golang.org/x/sys/cpu"

// platformKernels returns the SIMD kernel sets this CPU and OS can run,
// fastest first. x/sys/cpu reports AVX2 and AVX-512 only when the OS also
// saves their register state (XCR0), so a kernel is never picked that would
// fault on a context switch.
func platformKernels() []*kernelSet {
	return selectKernels(
		cpu.X86.HasAVX2 && cpu.X86.HasFMA,
		cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW,
		cpu.X86.HasAVX512VNNI,
	)
}

// selectKernels builds the kernel sets for the given features. The "avx512"
// set needs AVX-512F for the float kernels and AVX-512BW for the int8 one
// (every AVX-512 core but Xeon Phi has both), and uses the VNNI int8 kernel
// where the core has AVX-512 VNNI.
func selectKernels(avx2, avx512, vnni bool) []*kernelSet {
	var sets []*kernelSet
	if avx512 && avx2 {
		k := &kernelSet{
			name:  "avx512",
			dot:   dotAVX512,
			l2sq:  l2sqAVX512,
			dotI8: dotInt8AVX512,
		}
		if vnni {
			k.dotI8 = dotInt8VNNI
		}
		sets = append(sets, k)
	}
	if avx2 {
		sets = append(sets, &kernelSet{
			name:  "avx2",
			dot:   dotAVX2,
			l2sq:  l2sqAVX2,
			dotI8: dotInt8AVX2,
		})
	}
	return sets
}

// The assembly kernels read len(a) elements of a and of b; callers guarantee
// len(b) >= len(a). They touch no memory outside the two slices.

//go:noescape
func dotAVX2(a, b []float32) float32

//go:noescape
func l2sqAVX2(a, b []float32) float32

//go:noescape
func dotAVX512(a, b []float32) float32

//go:noescape
func l2sqAVX512(a, b []float32) float32

//go:noescape
func dotInt8AVX2(a, b []int8) int32

//go:noescape
func dotInt8AVX512(a, b []int8) int32

//go:noescape
func dotInt8VNNI(a, b []int8) int32
