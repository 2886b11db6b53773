//go:build amd64 && !purego

// AVX-512F float32 kernels.
//
// The same shape as the AVX2 kernels with 16-lane registers: four
// accumulators (two 64-byte loads per cycle, not FMA latency, are the limit
// here), a 64-element main loop, a 16-element loop, and a tail of 0..15
// elements read with zeroing opmask loads (masked-off lanes are neither read
// nor allowed to fault).
//
// Every 64-byte load that is not 64-byte aligned straddles two cache lines
// and costs about twice as much, so for inputs of 32 elements or more the
// kernels first consume, under a mask, the 1..15 elements that bring b to a
// 64-byte boundary. Rows of an arena built with Make are aligned already, and
// a query aligned the same way then makes every load a single-line one.
//
// BX holds the count of elements left so that CX is free for shift counts.
// Only AVX-512F instructions are used; VEX-encoded 256- and 128-bit
// instructions finish the reduction.

#include "textflag.h"

// func dotAVX512(a, b []float32) float32
TEXT ·dotAVX512(SB), NOSPLIT, $0-52
	MOVQ   a_base+0(FP), SI
	MOVQ   a_len+8(FP), BX
	MOVQ   b_base+24(FP), DI
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	CMPQ   BX, $32
	JB     dot16

	// Align b: CX = elements up to the next 64-byte boundary (0..15).
	MOVQ        DI, CX
	NEGQ        CX
	ANDQ        $63, CX
	SHRQ        $2, CX
	JZ          dot64check
	MOVL        $1, AX
	SHLL        CX, AX
	DECL        AX
	KMOVW       AX, K1
	VMOVUPS.Z   (SI), K1, Z4
	VMOVUPS.Z   (DI), K1, Z5
	VFMADD231PS Z5, Z4, Z1
	SUBQ        CX, BX
	SHLQ        $2, CX
	ADDQ        CX, SI
	ADDQ        CX, DI

dot64check:
	CMPQ BX, $64
	JB   dot16

dot64:
	VMOVUPS     (SI), Z4
	VMOVUPS     64(SI), Z5
	VMOVUPS     128(SI), Z6
	VMOVUPS     192(SI), Z7
	VFMADD231PS (DI), Z4, Z0
	VFMADD231PS 64(DI), Z5, Z1
	VFMADD231PS 128(DI), Z6, Z2
	VFMADD231PS 192(DI), Z7, Z3
	ADDQ        $256, SI
	ADDQ        $256, DI
	SUBQ        $64, BX
	CMPQ        BX, $64
	JAE         dot64

dot16:
	CMPQ        BX, $16
	JB          dottail
	VMOVUPS     (SI), Z4
	VFMADD231PS (DI), Z4, Z0
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $16, BX
	JMP         dot16

dottail:
	TESTQ       BX, BX
	JZ          dotsum
	MOVQ        BX, CX
	MOVL        $1, AX
	SHLL        CX, AX
	DECL        AX
	KMOVW       AX, K1
	VMOVUPS.Z   (SI), K1, Z4
	VMOVUPS.Z   (DI), K1, Z5
	VFMADD231PS Z5, Z4, Z2

dotsum:
	VADDPS        Z1, Z0, Z0
	VADDPS        Z3, Z2, Z2
	VADDPS        Z2, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPS        Y1, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VADDPS        X1, X0, X0
	VMOVHLPS      X0, X0, X1
	VADDPS        X1, X0, X0
	VMOVSHDUP     X0, X1
	VADDSS        X1, X0, X0
	VZEROUPPER
	MOVSS         X0, ret+48(FP)
	RET

// func l2sqAVX512(a, b []float32) float32
TEXT ·l2sqAVX512(SB), NOSPLIT, $0-52
	MOVQ   a_base+0(FP), SI
	MOVQ   a_len+8(FP), BX
	MOVQ   b_base+24(FP), DI
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	CMPQ   BX, $32
	JB     l2sq16

	// Align b: CX = elements up to the next 64-byte boundary (0..15).
	MOVQ        DI, CX
	NEGQ        CX
	ANDQ        $63, CX
	SHRQ        $2, CX
	JZ          l2sq64check
	MOVL        $1, AX
	SHLL        CX, AX
	DECL        AX
	KMOVW       AX, K1
	VMOVUPS.Z   (SI), K1, Z4
	VMOVUPS.Z   (DI), K1, Z5
	VSUBPS      Z5, Z4, Z4
	VFMADD231PS Z4, Z4, Z1
	SUBQ        CX, BX
	SHLQ        $2, CX
	ADDQ        CX, SI
	ADDQ        CX, DI

l2sq64check:
	CMPQ BX, $64
	JB   l2sq16

l2sq64:
	VMOVUPS     (SI), Z4
	VMOVUPS     64(SI), Z5
	VMOVUPS     128(SI), Z6
	VMOVUPS     192(SI), Z7
	VSUBPS      (DI), Z4, Z4
	VSUBPS      64(DI), Z5, Z5
	VSUBPS      128(DI), Z6, Z6
	VSUBPS      192(DI), Z7, Z7
	VFMADD231PS Z4, Z4, Z0
	VFMADD231PS Z5, Z5, Z1
	VFMADD231PS Z6, Z6, Z2
	VFMADD231PS Z7, Z7, Z3
	ADDQ        $256, SI
	ADDQ        $256, DI
	SUBQ        $64, BX
	CMPQ        BX, $64
	JAE         l2sq64

l2sq16:
	CMPQ        BX, $16
	JB          l2sqtail
	VMOVUPS     (SI), Z4
	VSUBPS      (DI), Z4, Z4
	VFMADD231PS Z4, Z4, Z0
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $16, BX
	JMP         l2sq16

l2sqtail:
	TESTQ       BX, BX
	JZ          l2sqsum
	MOVQ        BX, CX
	MOVL        $1, AX
	SHLL        CX, AX
	DECL        AX
	KMOVW       AX, K1
	VMOVUPS.Z   (SI), K1, Z4
	VMOVUPS.Z   (DI), K1, Z5
	VSUBPS      Z5, Z4, Z4
	VFMADD231PS Z4, Z4, Z2

l2sqsum:
	VADDPS        Z1, Z0, Z0
	VADDPS        Z3, Z2, Z2
	VADDPS        Z2, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPS        Y1, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VADDPS        X1, X0, X0
	VMOVHLPS      X0, X0, X1
	VADDPS        X1, X0, X0
	VMOVSHDUP     X0, X1
	VADDSS        X1, X0, X0
	VZEROUPPER
	MOVSS         X0, ret+48(FP)
	RET
