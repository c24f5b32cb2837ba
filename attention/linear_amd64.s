//go:build amd64 && !purego

#include "textflag.h"

// AVX-512 kernels of linear attention's elementwise passes (see
// linear_amd64.go), written by hand. n is a multiple of 16. Their
// AVX2+FMA variants follow. "x > 0" below is on x's bits as an int32
// (VPCMPGTD), as the Go loop and the AVX2 kernels (VBLENDVPS) choose on the
// sign bit: a NaN with its sign bit clear takes the x+1 side (φ' = 1),
// where a float comparison (false for NaN) took eˣ (φ' NaN) — a dead
// query row's gradient was then NaN with AVX-512 alone. ±0 give 1 either
// way.

DATA linOne<>+0(SB)/4, $0x3f800000
GLOBL linOne<>(SB), RODATA|NOPTR, $4

// func eluSel512(y, d, x *float32, n int)
// y holds eˣ on entry: y = x > 0 ? x+1 : eˣ, d = x > 0 ? 1 : eˣ.
TEXT ·eluSel512(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), DI
	MOVQ d+8(FP), DX
	MOVQ x+16(FP), SI
	MOVQ n+24(FP), CX
	VBROADCASTSS linOne<>(SB), Z30
	VPXORD Z31, Z31, Z31
eluSel512_loop:
	CMPQ CX, $16
	JL eluSel512_done
	VMOVUPS (SI), Z0
	VMOVUPS (DI), Z1
	VPCMPGTD Z31, Z0, K1
	VADDPS Z30, Z0, Z2
	VMOVAPS Z1, Z3
	VMOVAPS Z30, K1, Z3
	VMOVAPS Z2, K1, Z1
	VMOVUPS Z1, (DI)
	VMOVUPS Z3, (DX)
	ADDQ $64, SI
	ADDQ $64, DI
	ADDQ $64, DX
	SUBQ $16, CX
	JMP eluSel512_loop
eluSel512_done:
	VZEROUPPER
	RET

// func eluSelY512(y, x *float32, n int)
// y holds eˣ on entry: y = x > 0 ? x+1 : eˣ.
TEXT ·eluSelY512(SB), NOSPLIT, $0-24
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS linOne<>(SB), Z30
	VPXORD Z31, Z31, Z31
eluSelY512_loop:
	CMPQ CX, $16
	JL eluSelY512_done
	VMOVUPS (SI), Z0
	VMOVUPS (DI), Z1
	VPCMPGTD Z31, Z0, K1
	VADDPS Z30, Z0, Z2
	VMOVAPS Z2, K1, Z1
	VMOVUPS Z1, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP eluSelY512_loop
eluSelY512_done:
	VZEROUPPER
	RET

// func eluSelZ512(y, z, x *float32, n int)
// y holds eˣ on entry: y = x > 0 ? x+1 : eˣ, z += y.
TEXT ·eluSelZ512(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), DI
	MOVQ z+8(FP), DX
	MOVQ x+16(FP), SI
	MOVQ n+24(FP), CX
	VBROADCASTSS linOne<>(SB), Z30
	VPXORD Z31, Z31, Z31
eluSelZ512_loop:
	CMPQ CX, $16
	JL eluSelZ512_done
	VMOVUPS (SI), Z0
	VMOVUPS (DI), Z1
	VPCMPGTD Z31, Z0, K1
	VADDPS Z30, Z0, Z2
	VMOVAPS Z2, K1, Z1
	VMOVUPS Z1, (DI)
	VADDPS (DX), Z1, Z3
	VMOVUPS Z3, (DX)
	ADDQ $64, SI
	ADDQ $64, DI
	ADDQ $64, DX
	SUBQ $16, CX
	JMP eluSelZ512_loop
eluSelZ512_done:
	VZEROUPPER
	RET

// func eluGrad512(dst, gr, add, fx *float32, n int)
// dst += (g + add) ⊙ min(fx, 1), φ'(x) from φ(x) (see eluGradRow).
TEXT ·eluGrad512(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ gr+8(FP), AX
	MOVQ add+16(FP), BX
	MOVQ fx+24(FP), DX
	MOVQ n+32(FP), CX
	VBROADCASTSS linOne<>(SB), Z30
eluGrad512_loop:
	CMPQ CX, $16
	JL eluGrad512_done
	VMINPS (DX), Z30, Z1
	VMOVUPS (AX), Z2
	VADDPS (BX), Z2, Z2
	VMOVUPS (DI), Z3
	VFMADD231PS Z2, Z1, Z3
	VMOVUPS Z3, (DI)
	ADDQ $64, DI
	ADDQ $64, AX
	ADDQ $64, BX
	ADDQ $64, DX
	SUBQ $16, CX
	JMP eluGrad512_loop
eluGrad512_done:
	VZEROUPPER
	RET

// func qGrad512(gr, o, fq, dz, df, z, dq, gq *float32, n int, inv float32)
// c = g·o; dz -= c·fq; gq += (df − c·z)·inv ⊙ dq.
TEXT ·qGrad512(SB), NOSPLIT, $0-76
	MOVQ gr+0(FP), AX
	MOVQ o+8(FP), BX
	MOVQ fq+16(FP), SI
	MOVQ dz+24(FP), DI
	MOVQ df+32(FP), R8
	MOVQ z+40(FP), R9
	MOVQ dq+48(FP), R10
	MOVQ gq+56(FP), R11
	MOVQ n+64(FP), CX
	VBROADCASTSS inv+72(FP), Z29
	VPXORD Z0, Z0, Z0
	MOVQ CX, DX
	XORQ R12, R12
qGrad512_dot:
	CMPQ DX, $16
	JL qGrad512_sum
	VMOVUPS (AX)(R12*1), Z1
	VFMADD231PS (BX)(R12*1), Z1, Z0
	ADDQ $64, R12
	SUBQ $16, DX
	JMP qGrad512_dot
qGrad512_sum:
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VMOVHLPS X0, X0, X1
	VADDPS X1, X0, X0
	VMOVSHDUP X0, X1
	VADDSS X1, X0, X0
	VBROADCASTSS X0, Z28
	XORQ R12, R12
qGrad512_loop:
	CMPQ CX, $16
	JL qGrad512_done
	VMOVUPS (DI)(R12*1), Z1
	VFNMADD231PS (SI)(R12*1), Z28, Z1
	VMOVUPS Z1, (DI)(R12*1)
	VMOVUPS (R8)(R12*1), Z2
	VFNMADD231PS (R9)(R12*1), Z28, Z2
	VMULPS Z29, Z2, Z2
	VMOVUPS (R11)(R12*1), Z3
	VFMADD231PS (R10)(R12*1), Z2, Z3
	VMOVUPS Z3, (R11)(R12*1)
	ADDQ $64, R12
	SUBQ $16, CX
	JMP qGrad512_loop
qGrad512_done:
	VZEROUPPER
	RET

// AVX2+FMA variants of the kernels above for CPUs without AVX-512: eight
// lanes in ymm registers, n a multiple of 8 (qGrad256: of 16). Per lane
// the arithmetic is the AVX-512 kernels' (and φ, φ' the Go loops'): the
// choice between eˣ and x + 1 is a blend on x's sign bit (VBLENDVPS), as
// eluRow's integer masks; at x = ±0 both sides are 1, as with the
// AVX-512 kernels' x > 0 compare.

// func eluSel256(y, d, x *float32, n int)
// y holds eˣ on entry: y = x < 0 ? eˣ : x+1, d = x < 0 ? eˣ : 1 (sign bit).
TEXT ·eluSel256(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), DI
	MOVQ d+8(FP), DX
	MOVQ x+16(FP), SI
	MOVQ n+24(FP), CX
	VBROADCASTSS linOne<>(SB), Y15
eluSel256_loop:
	CMPQ CX, $8
	JL eluSel256_done
	VMOVUPS (SI), Y0
	VMOVUPS (DI), Y1
	VADDPS Y15, Y0, Y2
	VBLENDVPS Y0, Y1, Y2, Y2
	VBLENDVPS Y0, Y1, Y15, Y3
	VMOVUPS Y2, (DI)
	VMOVUPS Y3, (DX)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, DX
	SUBQ $8, CX
	JMP eluSel256_loop
eluSel256_done:
	VZEROUPPER
	RET

// func eluSelY256(y, x *float32, n int)
// y holds eˣ on entry: y = x < 0 ? eˣ : x+1.
TEXT ·eluSelY256(SB), NOSPLIT, $0-24
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS linOne<>(SB), Y15
eluSelY256_loop:
	CMPQ CX, $8
	JL eluSelY256_done
	VMOVUPS (SI), Y0
	VADDPS Y15, Y0, Y2
	VBLENDVPS Y0, (DI), Y2, Y2
	VMOVUPS Y2, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP eluSelY256_loop
eluSelY256_done:
	VZEROUPPER
	RET

// func eluSelZ256(y, z, x *float32, n int)
// y holds eˣ on entry: y = x < 0 ? eˣ : x+1, z += y.
TEXT ·eluSelZ256(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), DI
	MOVQ z+8(FP), DX
	MOVQ x+16(FP), SI
	MOVQ n+24(FP), CX
	VBROADCASTSS linOne<>(SB), Y15
eluSelZ256_loop:
	CMPQ CX, $8
	JL eluSelZ256_done
	VMOVUPS (SI), Y0
	VADDPS Y15, Y0, Y2
	VBLENDVPS Y0, (DI), Y2, Y2
	VMOVUPS Y2, (DI)
	VADDPS (DX), Y2, Y3
	VMOVUPS Y3, (DX)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, DX
	SUBQ $8, CX
	JMP eluSelZ256_loop
eluSelZ256_done:
	VZEROUPPER
	RET

// func eluGrad256(dst, gr, add, fx *float32, n int)
// dst += (g + add) ⊙ min(fx, 1), as eluGrad512.
TEXT ·eluGrad256(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ gr+8(FP), AX
	MOVQ add+16(FP), BX
	MOVQ fx+24(FP), DX
	MOVQ n+32(FP), CX
	VBROADCASTSS linOne<>(SB), Y15
eluGrad256_loop:
	CMPQ CX, $8
	JL eluGrad256_done
	VMINPS (DX), Y15, Y1
	VMOVUPS (AX), Y2
	VADDPS (BX), Y2, Y2
	VMOVUPS (DI), Y3
	VFMADD231PS Y2, Y1, Y3
	VMOVUPS Y3, (DI)
	ADDQ $32, DI
	ADDQ $32, AX
	ADDQ $32, BX
	ADDQ $32, DX
	SUBQ $8, CX
	JMP eluGrad256_loop
eluGrad256_done:
	VZEROUPPER
	RET

// func qGrad256(gr, o, fq, dz, df, z, dq, gq *float32, n int, inv float32)
// c = g·o; dz -= c·fq; gq += (df − c·z)·inv ⊙ dq, bitwise as qGrad512:
// the dot product keeps qGrad512's 16 lanes as two ymm halves (lanes
// 0–7 in Y0, 8–15 in Y1), added half to half as qGrad512 folds its zmm.
TEXT ·qGrad256(SB), NOSPLIT, $0-76
	MOVQ gr+0(FP), AX
	MOVQ o+8(FP), BX
	MOVQ fq+16(FP), SI
	MOVQ dz+24(FP), DI
	MOVQ df+32(FP), R8
	MOVQ z+40(FP), R9
	MOVQ dq+48(FP), R10
	MOVQ gq+56(FP), R11
	MOVQ n+64(FP), CX
	VBROADCASTSS inv+72(FP), Y12
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	MOVQ CX, DX
	XORQ R12, R12
qGrad256_dot:
	CMPQ DX, $16
	JL qGrad256_sum
	VMOVUPS (AX)(R12*1), Y2
	VFMADD231PS (BX)(R12*1), Y2, Y0
	VMOVUPS 32(AX)(R12*1), Y3
	VFMADD231PS 32(BX)(R12*1), Y3, Y1
	ADDQ $64, R12
	SUBQ $16, DX
	JMP qGrad256_dot
qGrad256_sum:
	VADDPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VMOVHLPS X0, X0, X1
	VADDPS X1, X0, X0
	VMOVSHDUP X0, X1
	VADDSS X1, X0, X0
	VBROADCASTSS X0, Y13
	XORQ R12, R12
qGrad256_loop:
	CMPQ CX, $8
	JL qGrad256_done
	VMOVUPS (DI)(R12*1), Y1
	VFNMADD231PS (SI)(R12*1), Y13, Y1
	VMOVUPS Y1, (DI)(R12*1)
	VMOVUPS (R8)(R12*1), Y2
	VFNMADD231PS (R9)(R12*1), Y13, Y2
	VMULPS Y12, Y2, Y2
	VMOVUPS (R11)(R12*1), Y3
	VFMADD231PS (R10)(R12*1), Y2, Y3
	VMOVUPS Y3, (R11)(R12*1)
	ADDQ $32, R12
	SUBQ $8, CX
	JMP qGrad256_loop
qGrad256_done:
	VZEROUPPER
	RET
