//go:build amd64 && !purego

#include "textflag.h"

// func dsRow512(s, p *float32, n int, d float32)
// s = p ⊙ (s − d); n is a multiple of 16.
TEXT ·dsRow512(SB), NOSPLIT, $0-28
	MOVQ s+0(FP), DI
	MOVQ p+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS d+24(FP), Z31
dsRow512_loop4:
	CMPQ CX, $64
	JL dsRow512_loop1
	VMOVUPS (DI), Z0
	VMOVUPS 64(DI), Z1
	VMOVUPS 128(DI), Z2
	VMOVUPS 192(DI), Z3
	VSUBPS Z31, Z0, Z0
	VSUBPS Z31, Z1, Z1
	VSUBPS Z31, Z2, Z2
	VSUBPS Z31, Z3, Z3
	VMULPS (SI), Z0, Z0
	VMULPS 64(SI), Z1, Z1
	VMULPS 128(SI), Z2, Z2
	VMULPS 192(SI), Z3, Z3
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	ADDQ $256, DI
	ADDQ $256, SI
	SUBQ $64, CX
	JMP dsRow512_loop4
dsRow512_loop1:
	CMPQ CX, $16
	JL dsRow512_done
	VMOVUPS (DI), Z0
	VSUBPS Z31, Z0, Z0
	VMULPS (SI), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, DI
	ADDQ $64, SI
	SUBQ $16, CX
	JMP dsRow512_loop1
dsRow512_done:
	VZEROUPPER
	RET
