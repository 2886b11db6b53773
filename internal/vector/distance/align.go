package distance

import "unsafe"

// Alignment is the byte boundary the kernels prefer their operands to start
// on: a 64-byte load from an address that is not a multiple of it spans two
// cache lines and costs about twice as much.
const Alignment = 64

// Make returns a zeroed slice of n float32 whose first element starts on an
// Alignment boundary. Use it for vector arenas and query buffers: the kernels
// align b themselves, but only when a shares b's alignment are both operands
// read one cache line per load. A row of an arena from Make stays aligned
// when its dimension is a multiple of 16 (128, 384, 768, 1536, ...).
func Make(n int) []float32 {
	const perLine = Alignment / 4
	buf := make([]float32, n+perLine-1)
	skip := 0
	if n > 0 {
		addr := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
		skip = int((Alignment-addr%Alignment)%Alignment) / 4
	}
	return buf[skip : skip+n : skip+n]
}
