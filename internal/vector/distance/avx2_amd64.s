//go:build amd64 && !purego

// AVX2+FMA float32 kernels.
//
// Each kernel keeps eight 8-lane accumulators: FMA latency is four cycles and
// recent cores issue up to three 32-byte loads a cycle, so four would leave
// the loop latency-bound. The main loop takes 64 elements, a second loop 8 at
// a time, and the last 0..7 elements are read with VMASKMOVPS, which loads
// only the lanes whose mask is set and does not fault on the others, so the
// kernels never touch memory past the end of the slices. The accumulators are
// then summed pairwise down to one float.
//
// A 32-byte load that crosses a cache line costs about twice as much, so for
// inputs of 32 elements or more the kernels first consume, under a mask, the
// 1..7 elements that bring b to a 32-byte boundary.

#include "textflag.h"

// tailmask<>+32-4*r holds r all-ones int32 lanes followed by zero lanes.
DATA tailmask<>+0(SB)/8, $0xffffffffffffffff
DATA tailmask<>+8(SB)/8, $0xffffffffffffffff
DATA tailmask<>+16(SB)/8, $0xffffffffffffffff
DATA tailmask<>+24(SB)/8, $0xffffffffffffffff
DATA tailmask<>+32(SB)/8, $0
DATA tailmask<>+40(SB)/8, $0
DATA tailmask<>+48(SB)/8, $0
DATA tailmask<>+56(SB)/8, $0
GLOBL tailmask<>(SB), RODATA|NOPTR, $64

// func dotAVX2(a, b []float32) float32
TEXT ·dotAVX2(SB), NOSPLIT, $0-52
	MOVQ   a_base+0(FP), SI
	MOVQ   a_len+8(FP), CX
	MOVQ   b_base+24(FP), DI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	CMPQ   CX, $32
	JB     dot8

	// Align b: AX = bytes up to the next 32-byte boundary (0..28).
	MOVQ        DI, AX
	NEGQ        AX
	ANDQ        $28, AX
	JZ          dot64check
	LEAQ        tailmask<>+32(SB), DX
	SUBQ        AX, DX
	VMOVDQU     (DX), Y15
	VMASKMOVPS  (SI), Y15, Y8
	VMASKMOVPS  (DI), Y15, Y9
	VFMADD231PS Y9, Y8, Y1
	ADDQ        AX, SI
	ADDQ        AX, DI
	SHRQ        $2, AX
	SUBQ        AX, CX

dot64check:
	CMPQ CX, $64
	JB   dot8

dot64:
	VMOVUPS     (SI), Y8
	VMOVUPS     32(SI), Y9
	VMOVUPS     64(SI), Y10
	VMOVUPS     96(SI), Y11
	VMOVUPS     128(SI), Y12
	VMOVUPS     160(SI), Y13
	VMOVUPS     192(SI), Y14
	VMOVUPS     224(SI), Y15
	VFMADD231PS (DI), Y8, Y0
	VFMADD231PS 32(DI), Y9, Y1
	VFMADD231PS 64(DI), Y10, Y2
	VFMADD231PS 96(DI), Y11, Y3
	VFMADD231PS 128(DI), Y12, Y4
	VFMADD231PS 160(DI), Y13, Y5
	VFMADD231PS 192(DI), Y14, Y6
	VFMADD231PS 224(DI), Y15, Y7
	ADDQ        $256, SI
	ADDQ        $256, DI
	SUBQ        $64, CX
	CMPQ        CX, $64
	JAE         dot64

dot8:
	CMPQ        CX, $8
	JB          dottail
	VMOVUPS     (SI), Y8
	VFMADD231PS (DI), Y8, Y0
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         dot8

dottail:
	TESTQ       CX, CX
	JZ          dotsum
	LEAQ        tailmask<>+32(SB), AX
	SHLQ        $2, CX
	SUBQ        CX, AX
	VMOVDQU     (AX), Y15
	VMASKMOVPS  (SI), Y15, Y8
	VMASKMOVPS  (DI), Y15, Y9
	VFMADD231PS Y9, Y8, Y1

dotsum:
	VADDPS       Y1, Y0, Y0
	VADDPS       Y3, Y2, Y2
	VADDPS       Y5, Y4, Y4
	VADDPS       Y7, Y6, Y6
	VADDPS       Y2, Y0, Y0
	VADDPS       Y6, Y4, Y4
	VADDPS       Y4, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VMOVHLPS     X0, X0, X1
	VADDPS       X1, X0, X0
	VMOVSHDUP    X0, X1
	VADDSS       X1, X0, X0
	VZEROUPPER
	MOVSS        X0, ret+48(FP)
	RET

// func l2sqAVX2(a, b []float32) float32
TEXT ·l2sqAVX2(SB), NOSPLIT, $0-52
	MOVQ   a_base+0(FP), SI
	MOVQ   a_len+8(FP), CX
	MOVQ   b_base+24(FP), DI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	CMPQ   CX, $32
	JB     l2sq8

	// Align b: AX = bytes up to the next 32-byte boundary (0..28).
	MOVQ        DI, AX
	NEGQ        AX
	ANDQ        $28, AX
	JZ          l2sq64check
	LEAQ        tailmask<>+32(SB), DX
	SUBQ        AX, DX
	VMOVDQU     (DX), Y15
	VMASKMOVPS  (SI), Y15, Y8
	VMASKMOVPS  (DI), Y15, Y9
	VSUBPS      Y9, Y8, Y8
	VFMADD231PS Y8, Y8, Y1
	ADDQ        AX, SI
	ADDQ        AX, DI
	SHRQ        $2, AX
	SUBQ        AX, CX

l2sq64check:
	CMPQ CX, $64
	JB   l2sq8

l2sq64:
	VMOVUPS     (SI), Y8
	VMOVUPS     32(SI), Y9
	VMOVUPS     64(SI), Y10
	VMOVUPS     96(SI), Y11
	VMOVUPS     128(SI), Y12
	VMOVUPS     160(SI), Y13
	VMOVUPS     192(SI), Y14
	VMOVUPS     224(SI), Y15
	VSUBPS      (DI), Y8, Y8
	VSUBPS      32(DI), Y9, Y9
	VSUBPS      64(DI), Y10, Y10
	VSUBPS      96(DI), Y11, Y11
	VSUBPS      128(DI), Y12, Y12
	VSUBPS      160(DI), Y13, Y13
	VSUBPS      192(DI), Y14, Y14
	VSUBPS      224(DI), Y15, Y15
	VFMADD231PS Y8, Y8, Y0
	VFMADD231PS Y9, Y9, Y1
	VFMADD231PS Y10, Y10, Y2
	VFMADD231PS Y11, Y11, Y3
	VFMADD231PS Y12, Y12, Y4
	VFMADD231PS Y13, Y13, Y5
	VFMADD231PS Y14, Y14, Y6
	VFMADD231PS Y15, Y15, Y7
	ADDQ        $256, SI
	ADDQ        $256, DI
	SUBQ        $64, CX
	CMPQ        CX, $64
	JAE         l2sq64

l2sq8:
	CMPQ        CX, $8
	JB          l2sqtail
	VMOVUPS     (SI), Y8
	VSUBPS      (DI), Y8, Y8
	VFMADD231PS Y8, Y8, Y0
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         l2sq8

l2sqtail:
	TESTQ       CX, CX
	JZ          l2sqsum
	LEAQ        tailmask<>+32(SB), AX
	SHLQ        $2, CX
	SUBQ        CX, AX
	VMOVDQU     (AX), Y15
	VMASKMOVPS  (SI), Y15, Y8
	VMASKMOVPS  (DI), Y15, Y9
	VSUBPS      Y9, Y8, Y8
	VFMADD231PS Y8, Y8, Y1

l2sqsum:
	VADDPS       Y1, Y0, Y0
	VADDPS       Y3, Y2, Y2
	VADDPS       Y5, Y4, Y4
	VADDPS       Y7, Y6, Y6
	VADDPS       Y2, Y0, Y0
	VADDPS       Y6, Y4, Y4
	VADDPS       Y4, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VMOVHLPS     X0, X0, X1
	VADDPS       X1, X0, X0
	VMOVSHDUP    X0, X1
	VADDSS       X1, X0, X0
	VZEROUPPER
	MOVSS        X0, ret+48(FP)
	RET
