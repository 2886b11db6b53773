//go:build !amd64 || purego

package distance

// platformKernels returns no SIMD kernel sets: only the generic Go kernels
// exist for this build.
func platformKernels() []*kernelSet { return nil }
