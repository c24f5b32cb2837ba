//go:build amd64 && !purego

#include "textflag.h"

// LayerNorm rows with AVX-512F (lnFwd512, lnBwd512) and AVX2+FMA (below):
// a row of n floats is walked a vector (16 floats) at a time and its last
// n mod 16 elements with the opmask K1 (masked loads read zeros and fault
// on nothing, masked stores leave the other lanes alone), so the result
// does not depend on alignment.

// hsum16 reduces Z0 into X0 (the low lane): the sum of its 16 floats.
#define HSUM16 \
	VEXTRACTF64X4 $1, Z0, Y1; \
	VADDPS Y1, Y0, Y0; \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPS X1, X0, X0; \
	VPERMILPS $0x4e, X0, X1; \
	VADDPS X1, X0, X0; \
	VPERMILPS $0xb1, X0, X1; \
	VADDPS X1, X0, X0

// func lnFwd512(y, h, x, gamma, beta *float32, n int, eps float32, stats *float32)
// h = (x − mean)·rstd, y = h·gamma + beta; stats[0], stats[1] = mean, rstd.
TEXT ·lnFwd512(SB), NOSPLIT, $0-64
	MOVQ y+0(FP), DI
	MOVQ h+8(FP), R9
	MOVQ x+16(FP), SI
	MOVQ gamma+24(FP), DX
	MOVQ beta+32(FP), R8
	MOVQ n+40(FP), R10
	// K1: the tail's lanes; R12: whole vectors.
	MOVQ R10, CX
	ANDQ $15, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	MOVQ R10, R12
	SHRQ $4, R12
	// Pass 1: the mean.
	VXORPS Z0, Z0, Z0
	VXORPS Z2, Z2, Z2
	XORQ R11, R11
	MOVQ R12, R13
lnf_sum:
	TESTQ R13, R13
	JZ lnf_sumtail
	VADDPS (SI)(R11*1), Z0, Z0
	ADDQ $64, R11
	DECQ R13
	JMP lnf_sum
lnf_sumtail:
	VMOVUPS.Z (SI)(R11*1), K1, Z1
	VADDPS Z1, Z0, Z0
	HSUM16
	VCVTSI2SSQ R10, X5, X5
	VDIVSS X5, X0, X6 // mean
	VBROADCASTSS X6, Z6
	// Pass 2: Σ (x − mean)².
	VXORPS Z0, Z0, Z0
	XORQ R11, R11
	MOVQ R12, R13
lnf_var:
	TESTQ R13, R13
	JZ lnf_vartail
	VMOVUPS (SI)(R11*1), Z1
	VSUBPS Z6, Z1, Z1
	VFMADD231PS Z1, Z1, Z0
	ADDQ $64, R11
	DECQ R13
	JMP lnf_var
lnf_vartail:
	VMOVUPS.Z (SI)(R11*1), K1, Z1
	VSUBPS.Z Z6, Z1, K1, Z1
	VFMADD231PS Z1, Z1, Z0
	HSUM16
	VDIVSS X5, X0, X0   // variance
	VADDSS eps+48(FP), X0, X0
	VSQRTSS X0, X0, X0
	MOVL $0x3f800000, AX
	VMOVD AX, X1
	VDIVSS X0, X1, X7   // rstd
	VBROADCASTSS X7, Z7
	// Pass 3: h and y.
	XORQ R11, R11
	MOVQ R12, R13
lnf_out:
	TESTQ R13, R13
	JZ lnf_outtail
	VMOVUPS (SI)(R11*1), Z1
	VSUBPS Z6, Z1, Z1
	VMULPS Z7, Z1, Z1
	VMOVUPS Z1, (R9)(R11*1)
	VMOVUPS (R8)(R11*1), Z2
	VFMADD231PS (DX)(R11*1), Z1, Z2
	VMOVUPS Z2, (DI)(R11*1)
	ADDQ $64, R11
	DECQ R13
	JMP lnf_out
lnf_outtail:
	VMOVUPS.Z (SI)(R11*1), K1, Z1
	VSUBPS Z6, Z1, Z1
	VMULPS Z7, Z1, Z1
	VMOVUPS Z1, K1, (R9)(R11*1)
	VMOVUPS.Z (R8)(R11*1), K1, Z2
	VMOVUPS.Z (DX)(R11*1), K1, Z3
	VFMADD231PS Z3, Z1, Z2
	VMOVUPS Z2, K1, (DI)(R11*1)
	MOVQ stats+56(FP), AX
	VMOVSS X6, (AX)
	VMOVSS X7, 4(AX)
	VZEROUPPER
	RET

// func lnBwd512(gx, gg, gb, gy, h, gamma *float32, n int, rstd float32, set int)
// With dh = gy·gamma: gg += gy·h, gb += gy and
// gx += rstd·(dh − mean(dh) − h·mean(dh·h)).
TEXT ·lnBwd512(SB), NOSPLIT, $0-72
	MOVQ gx+0(FP), DI
	MOVQ gg+8(FP), R9
	MOVQ gb+16(FP), R10
	MOVQ gy+24(FP), SI
	MOVQ h+32(FP), R8
	MOVQ gamma+40(FP), DX
	MOVQ n+48(FP), BX
	MOVQ BX, CX
	ANDQ $15, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	MOVQ BX, R12
	SHRQ $4, R12
	// Pass 1: Σ dh into Z0, Σ dh·h into Z4; gg and gb.
	VXORPS Z0, Z0, Z0
	VXORPS Z4, Z4, Z4
	XORQ R11, R11
	MOVQ R12, R13
lnb_p1:
	TESTQ R13, R13
	JZ lnb_p1tail
	VMOVUPS (SI)(R11*1), Z1     // gy
	VMOVUPS (R8)(R11*1), Z2     // h
	VMULPS (DX)(R11*1), Z1, Z3  // dh
	VADDPS Z3, Z0, Z0
	VFMADD231PS Z3, Z2, Z4
	VMOVUPS (R9)(R11*1), Z5
	VFMADD231PS Z1, Z2, Z5
	VMOVUPS Z5, (R9)(R11*1)
	VADDPS (R10)(R11*1), Z1, Z5
	VMOVUPS Z5, (R10)(R11*1)
	ADDQ $64, R11
	DECQ R13
	JMP lnb_p1
lnb_p1tail:
	VMOVUPS.Z (SI)(R11*1), K1, Z1
	VMOVUPS.Z (R8)(R11*1), K1, Z2
	VMOVUPS.Z (DX)(R11*1), K1, Z3
	VMULPS Z3, Z1, Z3
	VADDPS Z3, Z0, Z0
	VFMADD231PS Z3, Z2, Z4
	VMOVUPS.Z (R9)(R11*1), K1, Z5
	VFMADD231PS Z1, Z2, Z5
	VMOVUPS Z5, K1, (R9)(R11*1)
	VMOVUPS.Z (R10)(R11*1), K1, Z5
	VADDPS Z1, Z5, Z5
	VMOVUPS Z5, K1, (R10)(R11*1)
	HSUM16
	VMOVAPS X0, X8
	VMOVAPS Z4, Z0
	HSUM16
	VCVTSI2SSQ BX, X5, X5
	VDIVSS X5, X8, X8  // mean(dh)
	VDIVSS X5, X0, X9  // mean(dh·h)
	VBROADCASTSS X8, Z8
	VBROADCASTSS X9, Z9
	VBROADCASTSS rstd+56(FP), Z7
	// Pass 2: gx += rstd·(dh − m1 − h·m2), or gx = … with set ≠ 0 (gx
	// not read: a new buffer).
	XORQ R11, R11
	MOVQ R12, R13
	MOVQ set+64(FP), R14
	TESTQ R14, R14
	JNZ lnb_s2
lnb_p2:
	TESTQ R13, R13
	JZ lnb_p2tail
	VMOVUPS (SI)(R11*1), Z1
	VMULPS (DX)(R11*1), Z1, Z3
	VSUBPS Z8, Z3, Z3
	VFNMADD231PS (R8)(R11*1), Z9, Z3
	VMOVUPS (DI)(R11*1), Z5
	VFMADD231PS Z3, Z7, Z5
	VMOVUPS Z5, (DI)(R11*1)
	ADDQ $64, R11
	DECQ R13
	JMP lnb_p2
lnb_p2tail:
	VMOVUPS.Z (SI)(R11*1), K1, Z1
	VMOVUPS.Z (DX)(R11*1), K1, Z2
	VMULPS Z2, Z1, Z3
	VSUBPS Z8, Z3, Z3
	VMOVUPS.Z (R8)(R11*1), K1, Z2
	VFNMADD231PS Z2, Z9, Z3
	VMOVUPS.Z (DI)(R11*1), K1, Z5
	VFMADD231PS Z3, Z7, Z5
	VMOVUPS Z5, K1, (DI)(R11*1)
	VZEROUPPER
	RET
lnb_s2:
	TESTQ R13, R13
	JZ lnb_s2tail
	VMOVUPS (SI)(R11*1), Z1
	VMULPS (DX)(R11*1), Z1, Z3
	VSUBPS Z8, Z3, Z3
	VFNMADD231PS (R8)(R11*1), Z9, Z3
	VMULPS Z3, Z7, Z5
	VMOVUPS Z5, (DI)(R11*1)
	ADDQ $64, R11
	DECQ R13
	JMP lnb_s2
lnb_s2tail:
	VMOVUPS.Z (SI)(R11*1), K1, Z1
	VMOVUPS.Z (DX)(R11*1), K1, Z2
	VMULPS Z2, Z1, Z3
	VSUBPS Z8, Z3, Z3
	VMOVUPS.Z (R8)(R11*1), K1, Z2
	VFNMADD231PS Z2, Z9, Z3
	VMULPS Z3, Z7, Z5
	VMOVUPS Z5, K1, (DI)(R11*1)
	VZEROUPPER
	RET

// The same rows with AVX2+FMA: a vector is 8 floats and the last n mod 8
// elements go through VMASKMOVPS with the lane mask tailMask256
// (blas1_amd64.s) in Y15 (masked loads read zeros and fault on nothing,
// masked stores leave the other lanes alone). The operations are those of
// the AVX-512 rows, except that the forward row's two sums each run in two
// accumulators (even and odd vectors), as do the backward row's two sums
// (its pass 1), and rows with no tail skip the masked moves: chains of dependent adds
// and masked stores were most of their time.

// hsum8 reduces Y0 into X0 (the low lane): the sum of its 8 floats.
#define HSUM8 \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPS X1, X0, X0; \
	VPERMILPS $0x4e, X0, X1; \
	VADDPS X1, X0, X0; \
	VPERMILPS $0xb1, X0, X1; \
	VADDPS X1, X0, X0

// func lnFwd256(y, h, x, gamma, beta *float32, n int, eps float32, stats *float32)
TEXT ·lnFwd256(SB), NOSPLIT, $0-64
	MOVQ y+0(FP), DI
	MOVQ h+8(FP), R9
	MOVQ x+16(FP), SI
	MOVQ gamma+24(FP), DX
	MOVQ beta+32(FP), R8
	MOVQ n+40(FP), R10
	// Y15: the tail's lanes; R12: whole vectors.
	MOVQ R10, CX
	ANDQ $7, CX
	LEAQ ·tailMask256(SB), AX
	MOVQ $8, BX
	SUBQ CX, BX
	VMOVDQU (AX)(BX*4), Y15
	MOVQ R10, R12
	SHRQ $3, R12
	// Pass 1: the mean. Two accumulators (even and odd vectors) halve the
	// chain of dependent adds a row waits on; the tail, if any, goes to
	// the odd one.
	VXORPS Y0, Y0, Y0
	VXORPS Y2, Y2, Y2
	XORQ R11, R11
	MOVQ R12, R13
	SHRQ $1, R13
lnf2_sum:
	TESTQ R13, R13
	JZ lnf2_sumodd
	VADDPS (SI)(R11*1), Y0, Y0
	VADDPS 32(SI)(R11*1), Y2, Y2
	ADDQ $64, R11
	DECQ R13
	JMP lnf2_sum
lnf2_sumodd:
	TESTQ $1, R12
	JZ lnf2_sumtail
	VADDPS (SI)(R11*1), Y0, Y0
	ADDQ $32, R11
lnf2_sumtail:
	TESTQ CX, CX
	JZ lnf2_sumdone
	VMASKMOVPS (SI)(R11*1), Y15, Y1
	VADDPS Y1, Y2, Y2
lnf2_sumdone:
	VADDPS Y2, Y0, Y0
	HSUM8
	VCVTSI2SSQ R10, X5, X5
	VDIVSS X5, X0, X6 // mean
	VBROADCASTSS X6, Y6
	// Pass 2: Σ (x − mean)², with two accumulators as pass 1.
	VXORPS Y0, Y0, Y0
	VXORPS Y2, Y2, Y2
	XORQ R11, R11
	MOVQ R12, R13
	SHRQ $1, R13
lnf2_var:
	TESTQ R13, R13
	JZ lnf2_varodd
	VMOVUPS (SI)(R11*1), Y1
	VMOVUPS 32(SI)(R11*1), Y3
	VSUBPS Y6, Y1, Y1
	VSUBPS Y6, Y3, Y3
	VFMADD231PS Y1, Y1, Y0
	VFMADD231PS Y3, Y3, Y2
	ADDQ $64, R11
	DECQ R13
	JMP lnf2_var
lnf2_varodd:
	TESTQ $1, R12
	JZ lnf2_vartail
	VMOVUPS (SI)(R11*1), Y1
	VSUBPS Y6, Y1, Y1
	VFMADD231PS Y1, Y1, Y0
	ADDQ $32, R11
lnf2_vartail:
	TESTQ CX, CX
	JZ lnf2_vardone
	VMASKMOVPS (SI)(R11*1), Y15, Y1
	VSUBPS Y6, Y1, Y1
	VANDPS Y15, Y1, Y1 // 0 − mean is not 0: clear the lanes past the row
	VFMADD231PS Y1, Y1, Y2
lnf2_vardone:
	VADDPS Y2, Y0, Y0
	HSUM8
	VDIVSS X5, X0, X0   // variance
	VADDSS eps+48(FP), X0, X0
	VSQRTSS X0, X0, X0
	MOVL $0x3f800000, AX
	VMOVD AX, X1
	VDIVSS X0, X1, X7   // rstd
	VBROADCASTSS X7, Y7
	// Pass 3: h and y.
	XORQ R11, R11
	MOVQ R12, R13
lnf2_out:
	TESTQ R13, R13
	JZ lnf2_outtail
	VMOVUPS (SI)(R11*1), Y1
	VSUBPS Y6, Y1, Y1
	VMULPS Y7, Y1, Y1
	VMOVUPS Y1, (R9)(R11*1)
	VMOVUPS (R8)(R11*1), Y2
	VFMADD231PS (DX)(R11*1), Y1, Y2
	VMOVUPS Y2, (DI)(R11*1)
	ADDQ $32, R11
	DECQ R13
	JMP lnf2_out
lnf2_outtail:
	TESTQ CX, CX // no tail: skip the masked moves (slow on AMD cores)
	JZ lnf2_stats
	VMASKMOVPS (SI)(R11*1), Y15, Y1
	VSUBPS Y6, Y1, Y1
	VMULPS Y7, Y1, Y1
	VMASKMOVPS Y1, Y15, (R9)(R11*1)
	VMASKMOVPS (R8)(R11*1), Y15, Y2
	VMASKMOVPS (DX)(R11*1), Y15, Y3
	VFMADD231PS Y3, Y1, Y2
	VMASKMOVPS Y2, Y15, (DI)(R11*1)
lnf2_stats:
	MOVQ stats+56(FP), AX
	VMOVSS X6, (AX)
	VMOVSS X7, 4(AX)
	VZEROUPPER
	RET

// func lnBwd256(gx, gg, gb, gy, h, gamma *float32, n int, rstd float32, set int)
TEXT ·lnBwd256(SB), NOSPLIT, $0-72
	MOVQ gx+0(FP), DI
	MOVQ gg+8(FP), R9
	MOVQ gb+16(FP), R10
	MOVQ gy+24(FP), SI
	MOVQ h+32(FP), R8
	MOVQ gamma+40(FP), DX
	MOVQ n+48(FP), BX
	MOVQ BX, CX
	ANDQ $7, CX
	LEAQ ·tailMask256(SB), AX
	MOVQ $8, R14
	SUBQ CX, R14
	VMOVDQU (AX)(R14*4), Y15
	MOVQ BX, R12
	SHRQ $3, R12
	// Pass 1: Σ dh into Y0 and Y10, Σ dh·h into Y4 and Y11 (even and odd
	// vectors: two chains of dependent adds, half as long; the tail, if
	// any, goes to the odd ones); gg and gb.
	VXORPS Y0, Y0, Y0
	VXORPS Y4, Y4, Y4
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	XORQ R11, R11
	MOVQ R12, R13
	SHRQ $1, R13
lnb2_p1:
	TESTQ R13, R13
	JZ lnb2_p1odd
	VMOVUPS (SI)(R11*1), Y1     // gy
	VMOVUPS (R8)(R11*1), Y2     // h
	VMULPS (DX)(R11*1), Y1, Y3  // dh
	VADDPS Y3, Y0, Y0
	VFMADD231PS Y3, Y2, Y4
	VMOVUPS (R9)(R11*1), Y5
	VFMADD231PS Y1, Y2, Y5
	VMOVUPS Y5, (R9)(R11*1)
	VADDPS (R10)(R11*1), Y1, Y5
	VMOVUPS Y5, (R10)(R11*1)
	VMOVUPS 32(SI)(R11*1), Y1     // gy
	VMOVUPS 32(R8)(R11*1), Y2     // h
	VMULPS 32(DX)(R11*1), Y1, Y3  // dh
	VADDPS Y3, Y10, Y10
	VFMADD231PS Y3, Y2, Y11
	VMOVUPS 32(R9)(R11*1), Y5
	VFMADD231PS Y1, Y2, Y5
	VMOVUPS Y5, 32(R9)(R11*1)
	VADDPS 32(R10)(R11*1), Y1, Y5
	VMOVUPS Y5, 32(R10)(R11*1)
	ADDQ $64, R11
	DECQ R13
	JMP lnb2_p1
lnb2_p1odd:
	TESTQ $1, R12
	JZ lnb2_p1tail
	VMOVUPS (SI)(R11*1), Y1     // gy
	VMOVUPS (R8)(R11*1), Y2     // h
	VMULPS (DX)(R11*1), Y1, Y3  // dh
	VADDPS Y3, Y0, Y0
	VFMADD231PS Y3, Y2, Y4
	VMOVUPS (R9)(R11*1), Y5
	VFMADD231PS Y1, Y2, Y5
	VMOVUPS Y5, (R9)(R11*1)
	VADDPS (R10)(R11*1), Y1, Y5
	VMOVUPS Y5, (R10)(R11*1)
	ADDQ $32, R11
lnb2_p1tail:
	TESTQ CX, CX // no tail: skip the masked moves (slow on AMD cores)
	JZ lnb2_p1done
	VMASKMOVPS (SI)(R11*1), Y15, Y1
	VMASKMOVPS (R8)(R11*1), Y15, Y2
	VMASKMOVPS (DX)(R11*1), Y15, Y3
	VMULPS Y3, Y1, Y3
	VADDPS Y3, Y10, Y10
	VFMADD231PS Y3, Y2, Y11
	VMASKMOVPS (R9)(R11*1), Y15, Y5
	VFMADD231PS Y1, Y2, Y5
	VMASKMOVPS Y5, Y15, (R9)(R11*1)
	VMASKMOVPS (R10)(R11*1), Y15, Y5
	VADDPS Y1, Y5, Y5
	VMASKMOVPS Y5, Y15, (R10)(R11*1)
lnb2_p1done:
	VADDPS Y10, Y0, Y0
	VADDPS Y11, Y4, Y4
	HSUM8
	VMOVAPS X0, X8
	VMOVAPS Y4, Y0
	HSUM8
	VCVTSI2SSQ BX, X5, X5
	VDIVSS X5, X8, X8  // mean(dh)
	VDIVSS X5, X0, X9  // mean(dh·h)
	VBROADCASTSS X8, Y8
	VBROADCASTSS X9, Y9
	VBROADCASTSS rstd+56(FP), Y7
	// Pass 2: gx += rstd·(dh − m1 − h·m2), or gx = … with set ≠ 0 (gx
	// not read: a new buffer).
	XORQ R11, R11
	MOVQ R12, R13
	MOVQ set+64(FP), R14
	TESTQ R14, R14
	JNZ lnb2_s2
lnb2_p2:
	TESTQ R13, R13
	JZ lnb2_p2tail
	VMOVUPS (SI)(R11*1), Y1
	VMULPS (DX)(R11*1), Y1, Y3
	VSUBPS Y8, Y3, Y3
	VFNMADD231PS (R8)(R11*1), Y9, Y3
	VMOVUPS (DI)(R11*1), Y5
	VFMADD231PS Y3, Y7, Y5
	VMOVUPS Y5, (DI)(R11*1)
	ADDQ $32, R11
	DECQ R13
	JMP lnb2_p2
lnb2_p2tail:
	TESTQ CX, CX
	JZ lnb2_ret
	VMASKMOVPS (SI)(R11*1), Y15, Y1
	VMASKMOVPS (DX)(R11*1), Y15, Y2
	VMULPS Y2, Y1, Y3
	VSUBPS Y8, Y3, Y3
	VMASKMOVPS (R8)(R11*1), Y15, Y2
	VFNMADD231PS Y2, Y9, Y3
	VMASKMOVPS (DI)(R11*1), Y15, Y5
	VFMADD231PS Y3, Y7, Y5
	VMASKMOVPS Y5, Y15, (DI)(R11*1)
	VZEROUPPER
	RET
lnb2_s2:
	TESTQ R13, R13
	JZ lnb2_s2tail
	VMOVUPS (SI)(R11*1), Y1
	VMULPS (DX)(R11*1), Y1, Y3
	VSUBPS Y8, Y3, Y3
	VFNMADD231PS (R8)(R11*1), Y9, Y3
	VMULPS Y3, Y7, Y5
	VMOVUPS Y5, (DI)(R11*1)
	ADDQ $32, R11
	DECQ R13
	JMP lnb2_s2
lnb2_s2tail:
	TESTQ CX, CX
	JZ lnb2_ret
	VMASKMOVPS (SI)(R11*1), Y15, Y1
	VMASKMOVPS (DX)(R11*1), Y15, Y2
	VMULPS Y2, Y1, Y3
	VSUBPS Y8, Y3, Y3
	VMASKMOVPS (R8)(R11*1), Y15, Y2
	VFNMADD231PS Y2, Y9, Y3
	VMULPS Y3, Y7, Y5
	VMASKMOVPS Y5, Y15, (DI)(R11*1)
lnb2_ret:
	VZEROUPPER
	RET
