package distance

import (
	"math/rand/v2"
	"syscall"
	"testing"
	"unsafe"
)

// guarded returns a buffer of size bytes that ends exactly where an
// inaccessible page begins, so that any read past its end faults.
func guarded(t *testing.T, size int) []byte {
	t.Helper()
	page := syscall.Getpagesize()
	pages := (size+page-1)/page + 1
	mem, err := syscall.Mmap(-1, 0, pages*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatalf("mmap: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Munmap(mem) })
	guard := mem[(pages-1)*page:]
	if err := syscall.Mprotect(guard, syscall.PROT_NONE); err != nil {
		t.Fatalf("mprotect: %v", err)
	}
	return mem[(pages-1)*page-size : (pages-1)*page]
}

func guardedFloats(t *testing.T, n int) []float32 {
	buf := guarded(t, 4*n+4)[4:] // +4 keeps &buf[0] valid when n == 0
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(buf))), n)
}

// TestKernelsStayInBounds puts both operands right before a guard page: a
// kernel whose tail handling reads even one element too many crashes the
// test binary.
func TestKernelsStayInBounds(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	t.Run("float", func(t *testing.T) {
		eachKernelSet(t, func(t *testing.T, k *kernelSet) {
			for n := range 300 {
				a, b := guardedFloats(t, n), guardedFloats(t, n)
				copy(a, randVec(r, n))
				copy(b, randVec(r, n))
				if got, want := k.dot(a, b), dotGeneric(a, b); !within(got, want, sumTolerance(n, dotSumAbs(a, b))) {
					t.Errorf("dot n=%d: got %v, generic %v", n, got, want)
				}
				if got, want := k.l2sq(a, b), l2sqGeneric(a, b); !within(got, want, sumTolerance(n, l2SumAbs(a, b))) {
					t.Errorf("l2sq n=%d: got %v, generic %v", n, got, want)
				}
			}
		})
	})
	t.Run("int8", func(t *testing.T) {
		eachInt8Kernel(t, func(t *testing.T, dot func(a, b []int8) int32) {
			for n := range 300 {
				ia, ib := guarded(t, n+1)[1:], guarded(t, n+1)[1:]
				qa := unsafe.Slice((*int8)(unsafe.Pointer(unsafe.SliceData(ia))), n)
				qb := unsafe.Slice((*int8)(unsafe.Pointer(unsafe.SliceData(ib))), n)
				for i := range n {
					qa[i], qb[i] = int8(r.Uint32()), int8(r.Uint32())
				}
				if got, want := dot(qa, qb), dotInt8Generic(qa, qb); got != want {
					t.Errorf("int8 n=%d: got %d, generic %d", n, got, want)
				}
			}
		})
	})
}
