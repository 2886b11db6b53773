//go:build amd64 && !purego

// int8 dot-product kernels for scalar-quantised vectors.
//
// Bytes are sign-extended to 16-bit lanes (VPMOVSXBW) and VPMADDWD multiplies
// them and adds adjacent pairs into 32-bit lanes; the products of int8 values
// are at most 2^14, so no step saturates. Integer addition wraps the same way
// in any order, so the results equal the generic kernel's exactly.

#include "textflag.h"

// func dotInt8AVX2(a, b []int8) int32
TEXT ·dotInt8AVX2(SB), NOSPLIT, $0-52
	MOVQ  a_base+0(FP), SI
	MOVQ  a_len+8(FP), CX
	MOVQ  b_base+24(FP), DI
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	CMPQ  CX, $64
	JB    loop16

loop64:
	VPMOVSXBW (SI), Y4
	VPMOVSXBW (DI), Y5
	VPMOVSXBW 16(SI), Y6
	VPMOVSXBW 16(DI), Y7
	VPMADDWD  Y5, Y4, Y4
	VPMADDWD  Y7, Y6, Y6
	VPADDD    Y4, Y0, Y0
	VPADDD    Y6, Y1, Y1
	VPMOVSXBW 32(SI), Y4
	VPMOVSXBW 32(DI), Y5
	VPMOVSXBW 48(SI), Y6
	VPMOVSXBW 48(DI), Y7
	VPMADDWD  Y5, Y4, Y4
	VPMADDWD  Y7, Y6, Y6
	VPADDD    Y4, Y2, Y2
	VPADDD    Y6, Y3, Y3
	ADDQ      $64, SI
	ADDQ      $64, DI
	SUBQ      $64, CX
	CMPQ      CX, $64
	JAE       loop64

loop16:
	CMPQ      CX, $16
	JB        reduce
	VPMOVSXBW (SI), Y4
	VPMOVSXBW (DI), Y5
	VPMADDWD  Y5, Y4, Y4
	VPADDD    Y4, Y0, Y0
	ADDQ      $16, SI
	ADDQ      $16, DI
	SUBQ      $16, CX
	JMP       loop16

reduce:
	VPADDD       Y1, Y0, Y0
	VPADDD       Y3, Y2, Y2
	VPADDD       Y2, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0x4e, X0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0xb1, X0, X1
	VPADDD       X1, X0, X0
	VMOVD        X0, AX
	VZEROUPPER

	// The last 0..15 bytes, one at a time.
tail:
	TESTQ   CX, CX
	JZ      done
	MOVBLSX (SI), DX
	MOVBLSX (DI), BX
	IMULL   BX, DX
	ADDL    DX, AX
	INCQ    SI
	INCQ    DI
	DECQ    CX
	JMP     tail

done:
	MOVL AX, ret+48(FP)
	RET

// func dotInt8AVX512(a, b []int8) int32
//
// Needs AVX-512F and AVX-512BW. The tail of 0..31 bytes is loaded with a
// zeroing byte-masked VMOVDQU8, which does not fault on masked-off bytes.
TEXT ·dotInt8AVX512(SB), NOSPLIT, $0-52
	MOVQ   a_base+0(FP), SI
	MOVQ   a_len+8(FP), CX
	MOVQ   b_base+24(FP), DI
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	CMPQ   CX, $128
	JB     loop32

loop128:
	VPMOVSXBW (SI), Z4
	VPMOVSXBW (DI), Z5
	VPMOVSXBW 32(SI), Z6
	VPMOVSXBW 32(DI), Z7
	VPMADDWD  Z5, Z4, Z4
	VPMADDWD  Z7, Z6, Z6
	VPADDD    Z4, Z0, Z0
	VPADDD    Z6, Z1, Z1
	VPMOVSXBW 64(SI), Z4
	VPMOVSXBW 64(DI), Z5
	VPMOVSXBW 96(SI), Z6
	VPMOVSXBW 96(DI), Z7
	VPMADDWD  Z5, Z4, Z4
	VPMADDWD  Z7, Z6, Z6
	VPADDD    Z4, Z2, Z2
	VPADDD    Z6, Z3, Z3
	ADDQ      $128, SI
	ADDQ      $128, DI
	SUBQ      $128, CX
	CMPQ      CX, $128
	JAE       loop128

loop32:
	CMPQ      CX, $32
	JB        tail
	VPMOVSXBW (SI), Z4
	VPMOVSXBW (DI), Z5
	VPMADDWD  Z5, Z4, Z4
	VPADDD    Z4, Z0, Z0
	ADDQ      $32, SI
	ADDQ      $32, DI
	SUBQ      $32, CX
	JMP       loop32

tail:
	TESTQ      CX, CX
	JZ         reduce
	MOVQ       $1, AX
	SHLQ       CX, AX
	DECQ       AX
	KMOVQ      AX, K1
	VMOVDQU8.Z (SI), K1, Z4
	VMOVDQU8.Z (DI), K1, Z5
	VPMOVSXBW  Y4, Z4
	VPMOVSXBW  Y5, Z5
	VPMADDWD   Z5, Z4, Z4
	VPADDD     Z4, Z1, Z1

reduce:
	VPADDD        Z1, Z0, Z0
	VPADDD        Z3, Z2, Z2
	VPADDD        Z2, Z0, Z0
	VEXTRACTI64X4 $1, Z0, Y1
	VPADDD        Y1, Y0, Y0
	VEXTRACTI128  $1, Y0, X1
	VPADDD        X1, X0, X0
	VPSHUFD       $0x4e, X0, X1
	VPADDD        X1, X0, X0
	VPSHUFD       $0xb1, X0, X1
	VPADDD        X1, X0, X0
	VMOVD         X0, AX
	VZEROUPPER
	MOVL          AX, ret+48(FP)
	RET

// bias80 and ones01 fill a 32-bit lane with bytes 0x80 and 0x01.
DATA bias80<>+0(SB)/4, $0x80808080
GLOBL bias80<>(SB), RODATA|NOPTR, $4
DATA ones01<>+0(SB)/4, $0x01010101
GLOBL ones01<>(SB), RODATA|NOPTR, $4

// func dotInt8VNNI(a, b []int8) int32
//
// Needs AVX-512F, AVX-512BW and AVX-512 VNNI. VPDPBUSD multiplies unsigned
// bytes by signed bytes and adds four products into each 32-bit lane, so it
// does in one instruction what the AVX-512BW kernel does in four, but one
// operand must be unsigned. Flipping the sign bit turns a into the unsigned
// a+128, and
//
//	Σ a·b = Σ (a+128)·b − 128·Σ b,
//
// with Σ b summed by VPDPBUSD against bytes of 1. Both sums wrap in int32 the
// same way the plain one does, so the result is still exact. The tail of
// 0..63 bytes is loaded with zeroing byte masks: a masked-off b byte is 0, so
// the 0x80 that the flip leaves in the matching a byte adds nothing.
TEXT ·dotInt8VNNI(SB), NOSPLIT, $0-52
	MOVQ         a_base+0(FP), SI
	MOVQ         a_len+8(FP), BX
	MOVQ         b_base+24(FP), DI
	VPBROADCASTD bias80<>(SB), Z30
	VPBROADCASTD ones01<>(SB), Z31
	VPXORD       Z0, Z0, Z0
	VPXORD       Z1, Z1, Z1
	VPXORD       Z2, Z2, Z2
	VPXORD       Z3, Z3, Z3
	CMPQ         BX, $128
	JB           vnni64

vnni128:
	VMOVDQU64 (DI), Z5
	VMOVDQU64 64(DI), Z7
	VPXORD    (SI), Z30, Z4
	VPXORD    64(SI), Z30, Z6
	VPDPBUSD  Z5, Z4, Z0
	VPDPBUSD  Z7, Z6, Z1
	VPDPBUSD  Z5, Z31, Z2
	VPDPBUSD  Z7, Z31, Z3
	ADDQ      $128, SI
	ADDQ      $128, DI
	SUBQ      $128, BX
	CMPQ      BX, $128
	JAE       vnni128

vnni64:
	CMPQ      BX, $64
	JB        vnnitail
	VMOVDQU64 (DI), Z5
	VPXORD    (SI), Z30, Z4
	VPDPBUSD  Z5, Z4, Z0
	VPDPBUSD  Z5, Z31, Z2
	ADDQ      $64, SI
	ADDQ      $64, DI
	SUBQ      $64, BX

vnnitail:
	TESTQ      BX, BX
	JZ         vnnisum
	MOVQ       BX, CX
	MOVQ       $1, AX
	SHLQ       CX, AX
	DECQ       AX
	KMOVQ      AX, K1
	VMOVDQU8.Z (SI), K1, Z4
	VMOVDQU8.Z (DI), K1, Z5
	VPXORD     Z30, Z4, Z4
	VPDPBUSD   Z5, Z4, Z1
	VPDPBUSD   Z5, Z31, Z3

vnnisum:
	VPADDD        Z1, Z0, Z0
	VPADDD        Z3, Z2, Z2
	VPSLLD        $7, Z2, Z2
	VPSUBD        Z2, Z0, Z0
	VEXTRACTI64X4 $1, Z0, Y1
	VPADDD        Y1, Y0, Y0
	VEXTRACTI128  $1, Y0, X1
	VPADDD        X1, X0, X0
	VPSHUFD       $0x4e, X0, X1
	VPADDD        X1, X0, X0
	VPSHUFD       $0xb1, X0, X1
	VPADDD        X1, X0, X0
	VMOVD         X0, AX
	VZEROUPPER
	MOVL          AX, ret+48(FP)
	RET
