package distance

// DotInt8 returns the inner product of two int8 vectors, as used by scalar
// quantisation (q8): each product is at most 2^14 in magnitude and the sum is
// kept in an int32, so vectors of up to 2^17 elements cannot overflow. Longer
// ones wrap around in two's complement, identically in every kernel set. The
// slices must have the same length; only len(a) elements are read, and a b
// shorter than a panics.
func DotInt8(a, b []int8) int32 {
	return current().dotI8(a, b[:len(b):len(b)][:len(a)])
}

// dotInt8Generic is the portable int8 inner product.
func dotInt8Generic(a, b []int8) int32 {
	n := len(a)
	b = b[:n]
	var s0, s1, s2, s3 int32
	i := 0
	for ; i+4 <= n; i += 4 {
		s0 += int32(a[i]) * int32(b[i])
		s1 += int32(a[i+1]) * int32(b[i+1])
		s2 += int32(a[i+2]) * int32(b[i+2])
		s3 += int32(a[i+3]) * int32(b[i+3])
	}
	for ; i < n; i++ {
		s0 += int32(a[i]) * int32(b[i])
	}
	return s0 + s1 + s2 + s3
}
