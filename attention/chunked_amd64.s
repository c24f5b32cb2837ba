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

// func dsRow256(s, p *float32, n int, d float32)
// dsRow512 with AVX2: s = p ⊙ (s − d), the same subtraction and product
// per lane; n is a multiple of 8.
TEXT ·dsRow256(SB), NOSPLIT, $0-28
	MOVQ s+0(FP), DI
	MOVQ p+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS d+24(FP), Y15
dsRow256_loop4:
	CMPQ CX, $32
	JL dsRow256_loop1
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS 64(DI), Y2
	VMOVUPS 96(DI), Y3
	VSUBPS Y15, Y0, Y0
	VSUBPS Y15, Y1, Y1
	VSUBPS Y15, Y2, Y2
	VSUBPS Y15, Y3, Y3
	VMULPS (SI), Y0, Y0
	VMULPS 32(SI), Y1, Y1
	VMULPS 64(SI), Y2, Y2
	VMULPS 96(SI), Y3, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ $128, DI
	ADDQ $128, SI
	SUBQ $32, CX
	JMP dsRow256_loop4
dsRow256_loop1:
	CMPQ CX, $8
	JL dsRow256_done
	VMOVUPS (DI), Y0
	VSUBPS Y15, Y0, Y0
	VMULPS (SI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	SUBQ $8, CX
	JMP dsRow256_loop1
dsRow256_done:
	VZEROUPPER
	RET
