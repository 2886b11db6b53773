#include "textflag.h"

// func prefetch(p *float32, lines int)
// Hints lines (>= 1) consecutive cache lines from p into all cache levels.
// PREFETCHT0 never faults, so a hint past the end of the arena is harmless.
TEXT ·prefetch(SB), NOSPLIT|NOFRAME, $0-16
	MOVQ p+0(FP), AX
	MOVQ lines+8(FP), CX
loop:
	PREFETCHT0 (AX)
	ADDQ $64, AX
	DECQ CX
	JNZ  loop
	RET
