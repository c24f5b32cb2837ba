//go:build amd64 && !purego

#include "textflag.h"

// func softmaxBwd512(ds, gr, p *float32, n int)
// ds[j] = p[j]·(gr[j] − d) with d = Σ_k p[k]·gr[k] over the row of n ≥ 1
// values (two accumulators of 16 lanes, folded at the end); the last n mod
// 16 values go through masked loads and stores. ds may be gr.
TEXT ·softmaxBwd512(SB), NOSPLIT, $0-32
	MOVQ ds+0(FP), DI
	MOVQ gr+8(FP), SI
	MOVQ p+16(FP), DX
	MOVQ n+24(FP), R9
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	MOVQ R9, BX
	XORQ AX, AX
	// The tail's mask: the low n mod 16 bits.
	MOVQ R9, CX
	ANDQ $15, CX
	MOVQ $1, R8
	SHLQ CX, R8
	DECQ R8
	KMOVW R8, K1

dot2:
	CMPQ BX, $32
	JL dot1
	VMOVUPS (SI)(AX*1), Z2
	VMOVUPS 64(SI)(AX*1), Z3
	VFMADD231PS (DX)(AX*1), Z2, Z0
	VFMADD231PS 64(DX)(AX*1), Z3, Z1
	ADDQ $128, AX
	SUBQ $32, BX
	JMP dot2

dot1:
	CMPQ BX, $16
	JL dottail
	VMOVUPS (SI)(AX*1), Z2
	VFMADD231PS (DX)(AX*1), Z2, Z0
	ADDQ $64, AX
	SUBQ $16, BX

dottail:
	TESTQ BX, BX
	JZ reduce
	VMOVUPS.Z (SI)(AX*1), K1, Z2
	VMOVUPS.Z (DX)(AX*1), K1, Z3
	VFMADD231PS Z3, Z2, Z1

reduce:
	VADDPS Z1, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VPERMILPS $0x4e, X0, X1
	VADDPS X1, X0, X0
	VPERMILPS $0xb1, X0, X1
	VADDPS X1, X0, X0
	VBROADCASTSS X0, Z31

	MOVQ R9, BX
	XORQ AX, AX

ds2:
	CMPQ BX, $32
	JL ds1
	VMOVUPS (SI)(AX*1), Z2
	VMOVUPS 64(SI)(AX*1), Z3
	VSUBPS Z31, Z2, Z2
	VSUBPS Z31, Z3, Z3
	VMULPS (DX)(AX*1), Z2, Z2
	VMULPS 64(DX)(AX*1), Z3, Z3
	VMOVUPS Z2, (DI)(AX*1)
	VMOVUPS Z3, 64(DI)(AX*1)
	ADDQ $128, AX
	SUBQ $32, BX
	JMP ds2

ds1:
	CMPQ BX, $16
	JL dstail
	VMOVUPS (SI)(AX*1), Z2
	VSUBPS Z31, Z2, Z2
	VMULPS (DX)(AX*1), Z2, Z2
	VMOVUPS Z2, (DI)(AX*1)
	ADDQ $64, AX
	SUBQ $16, BX

dstail:
	TESTQ BX, BX
	JZ done
	VMOVUPS.Z (SI)(AX*1), K1, Z2
	VMOVUPS.Z (DX)(AX*1), K1, Z3
	VSUBPS Z31, Z2, Z2
	VMULPS Z3, Z2, Z2
	VMOVUPS Z2, K1, (DI)(AX*1)

done:
	VZEROUPPER
	RET

// Constants of softmaxFwd512, the same float32 values as tensor's exp
// kernels (vmath_asmgen.go), one per 4 bytes, broadcast where used.
DATA softmaxConst<>+0(SB)/4, $0x3f800000 // one
DATA softmaxConst<>+4(SB)/4, $0xff800000 // negInf
DATA softmaxConst<>+8(SB)/4, $0xc2d00000 // expLo
DATA softmaxConst<>+12(SB)/4, $0x42b20000 // expHi
DATA softmaxConst<>+16(SB)/4, $0x3fb8aa3b // log2e
DATA softmaxConst<>+20(SB)/4, $0x3f318000 // ln2Hi
DATA softmaxConst<>+24(SB)/4, $0xb95e8083 // ln2Lo
DATA softmaxConst<>+28(SB)/4, $0x39506967 // expP0
DATA softmaxConst<>+32(SB)/4, $0x3ab743ce // expP1
DATA softmaxConst<>+36(SB)/4, $0x3c088908 // expP2
DATA softmaxConst<>+40(SB)/4, $0x3d2aa9c1 // expP3
DATA softmaxConst<>+44(SB)/4, $0x3e2aaaaa // expP4
DATA softmaxConst<>+48(SB)/4, $0x3f000000 // expP5
GLOBL softmaxConst<>(SB), RODATA|NOPTR, $52

// func softmaxFwd512(x *float32, n int) bool
// x = softmax(x) in place over n ≥ 1 values, with the arithmetic of
// tensor.MaxSlice, ExpShiftSum and ScaleSlice one after the other (the same
// exp, the same four float64 accumulators in the same order, the scale
// float32(1/s)), so the values are bitwise theirs, and returns true; a row
// whose largest value is −Inf (NaNs ignored, as MaxSlice does: all masked,
// or a NaN query's row) is not written and the result is false.
TEXT ·softmaxFwd512(SB), NOSPLIT, $0-17
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), R9
	MOVQ R9, CX
	ANDQ $15, CX
	MOVQ $1, R8
	SHLQ CX, R8
	DECQ R8
	KMOVW R8, K1
	VBROADCASTSS softmaxConst<>+4(SB), Z30
	MOVQ SI, DI
	MOVQ R9, BX
smx1:
	CMPQ BX, $16
	JL smxtail
	VMOVUPS (DI), Z0
	VMAXPS Z30, Z0, Z30
	ADDQ $64, DI
	SUBQ $16, BX
	JMP smx1
smxtail:
	TESTQ BX, BX
	JZ smxred
	VBROADCASTSS softmaxConst<>+4(SB), Z0
	VMOVUPS (DI), K1, Z0
	VMAXPS Z30, Z0, Z30
smxred:
	VMOVAPS Z30, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VMAXPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VMAXPS X1, X0, X0
	VPERMILPS $0x4e, X0, X1
	VMAXPS X1, X0, X0
	VPERMILPS $0xb1, X0, X1
	VMAXPS X1, X0, X0
	VMOVSS softmaxConst<>+4(SB), X1
	VUCOMISS X1, X0
	JEQ szero
	VBROADCASTSS X0, Z29
	VBROADCASTSS softmaxConst<>+8(SB), Z31
	VBROADCASTSS softmaxConst<>+12(SB), Z30
	VXORPS Z28, Z28, Z28
	VXORPS Z27, Z27, Z27
	VXORPS Z26, Z26, Z26
	VXORPS Z25, Z25, Z25
	MOVQ SI, DI
	MOVQ R9, CX
sexpU:
	CMPQ CX, $32
	JL sexp1
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z4
	VSUBPS Z29, Z0, Z0
	VSUBPS Z29, Z4, Z4
	VMAXPS Z0, Z31, Z0
	VMAXPS Z4, Z31, Z4
	VMINPS Z0, Z30, Z0
	VMINPS Z4, Z30, Z4
	VMULPS.BCST softmaxConst<>+16(SB), Z0, Z1
	VMULPS.BCST softmaxConst<>+16(SB), Z4, Z5
	VRNDSCALEPS $0, Z1, Z1
	VRNDSCALEPS $0, Z5, Z5
	VFNMADD231PS.BCST softmaxConst<>+20(SB), Z1, Z0
	VFNMADD231PS.BCST softmaxConst<>+20(SB), Z5, Z4
	VFNMADD231PS.BCST softmaxConst<>+24(SB), Z1, Z0
	VFNMADD231PS.BCST softmaxConst<>+24(SB), Z5, Z4
	VBROADCASTSS softmaxConst<>+28(SB), Z2
	VBROADCASTSS softmaxConst<>+28(SB), Z6
	VFMADD213PS.BCST softmaxConst<>+32(SB), Z0, Z2
	VFMADD213PS.BCST softmaxConst<>+32(SB), Z4, Z6
	VFMADD213PS.BCST softmaxConst<>+36(SB), Z0, Z2
	VFMADD213PS.BCST softmaxConst<>+36(SB), Z4, Z6
	VFMADD213PS.BCST softmaxConst<>+40(SB), Z0, Z2
	VFMADD213PS.BCST softmaxConst<>+40(SB), Z4, Z6
	VFMADD213PS.BCST softmaxConst<>+44(SB), Z0, Z2
	VFMADD213PS.BCST softmaxConst<>+44(SB), Z4, Z6
	VFMADD213PS.BCST softmaxConst<>+48(SB), Z0, Z2
	VFMADD213PS.BCST softmaxConst<>+48(SB), Z4, Z6
	VMULPS Z0, Z0, Z3
	VMULPS Z4, Z4, Z7
	VFMADD213PS Z0, Z3, Z2
	VFMADD213PS Z4, Z7, Z6
	VADDPS.BCST softmaxConst<>+0(SB), Z2, Z2
	VADDPS.BCST softmaxConst<>+0(SB), Z6, Z6
	VSCALEFPS Z1, Z2, Z0
	VSCALEFPS Z5, Z6, Z4
	VMOVUPS Z0, (DI)
	VMOVUPS Z4, 64(DI)
	VCVTPS2PD Y0, Z1
	VCVTPS2PD Y4, Z5
	VADDPD Z1, Z28, Z28
	VADDPD Z5, Z26, Z26
	VEXTRACTF64X4 $1, Z0, Y2
	VEXTRACTF64X4 $1, Z4, Y6
	VCVTPS2PD Y2, Z2
	VCVTPS2PD Y6, Z6
	VADDPD Z2, Z27, Z27
	VADDPD Z6, Z25, Z25
	ADDQ $128, DI
	ADDQ $128, SI
	SUBQ $32, CX
	JMP sexpU
sexp1:
	CMPQ CX, $16
	JL sexptail
	VMOVUPS (SI), Z0
	VSUBPS Z29, Z0, Z0
	VMAXPS Z0, Z31, Z0
	VMINPS Z0, Z30, Z0
	VMULPS.BCST softmaxConst<>+16(SB), Z0, Z1
	VRNDSCALEPS $0, Z1, Z1
	VFNMADD231PS.BCST softmaxConst<>+20(SB), Z1, Z0
	VFNMADD231PS.BCST softmaxConst<>+24(SB), Z1, Z0
	VBROADCASTSS softmaxConst<>+28(SB), Z2
	VFMADD213PS.BCST softmaxConst<>+32(SB), Z0, Z2
	VFMADD213PS.BCST softmaxConst<>+36(SB), Z0, Z2
	VFMADD213PS.BCST softmaxConst<>+40(SB), Z0, Z2
	VFMADD213PS.BCST softmaxConst<>+44(SB), Z0, Z2
	VFMADD213PS.BCST softmaxConst<>+48(SB), Z0, Z2
	VMULPS Z0, Z0, Z3
	VFMADD213PS Z0, Z3, Z2
	VADDPS.BCST softmaxConst<>+0(SB), Z2, Z2
	VSCALEFPS Z1, Z2, Z0
	VMOVUPS Z0, (DI)
	VCVTPS2PD Y0, Z1
	VADDPD Z1, Z28, Z28
	VEXTRACTF64X4 $1, Z0, Y2
	VCVTPS2PD Y2, Z2
	VADDPD Z2, Z27, Z27
	ADDQ $64, DI
	ADDQ $64, SI
	SUBQ $16, CX
	JMP sexp1
sexptail:
	TESTQ CX, CX
	JZ sexpdone
	VMOVUPS.Z (SI), K1, Z0
	VSUBPS Z29, Z0, Z0
	VMAXPS Z0, Z31, Z0
	VMINPS Z0, Z30, Z0
	VMULPS.BCST softmaxConst<>+16(SB), Z0, Z1
	VRNDSCALEPS $0, Z1, Z1
	VFNMADD231PS.BCST softmaxConst<>+20(SB), Z1, Z0
	VFNMADD231PS.BCST softmaxConst<>+24(SB), Z1, Z0
	VBROADCASTSS softmaxConst<>+28(SB), Z2
	VFMADD213PS.BCST softmaxConst<>+32(SB), Z0, Z2
	VFMADD213PS.BCST softmaxConst<>+36(SB), Z0, Z2
	VFMADD213PS.BCST softmaxConst<>+40(SB), Z0, Z2
	VFMADD213PS.BCST softmaxConst<>+44(SB), Z0, Z2
	VFMADD213PS.BCST softmaxConst<>+48(SB), Z0, Z2
	VMULPS Z0, Z0, Z3
	VFMADD213PS Z0, Z3, Z2
	VADDPS.BCST softmaxConst<>+0(SB), Z2, Z2
	VSCALEFPS Z1, Z2, Z0
	VMOVAPS.Z Z0, K1, Z0
	VMOVUPS Z0, K1, (DI)
	VCVTPS2PD Y0, Z1
	VADDPD Z1, Z28, Z28
	VEXTRACTF64X4 $1, Z0, Y2
	VCVTPS2PD Y2, Z2
	VADDPD Z2, Z27, Z27
sexpdone:
	VADDPD Z26, Z28, Z28
	VADDPD Z25, Z27, Z27
	VADDPD Z27, Z28, Z28
	VMOVAPS Z28, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPD Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD X1, X0, X0
	VPERMILPD $1, X0, X1
	VADDPD X1, X0, X0
	VCVTSS2SD softmaxConst<>+0(SB), X1, X1
	VDIVSD X0, X1, X1
	VCVTSD2SS X1, X1, X1
	VBROADCASTSS X1, Z31
	MOVQ x+0(FP), DI
	MOVQ R9, CX
sscale1:
	CMPQ CX, $16
	JL sscaletail
	VMOVUPS (DI), Z0
	VMULPS Z31, Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, DI
	SUBQ $16, CX
	JMP sscale1
sscaletail:
	TESTQ CX, CX
	JZ sdone
	VMOVUPS.Z (DI), K1, Z0
	VMULPS Z31, Z0, Z0
	VMOVUPS Z0, K1, (DI)
	JMP sdone
szero:
	// No finite entry (all −Inf, or −Inf and NaN: VMAXPS passes its
	// second operand, the running maximum, over a NaN): x is left as it
	// is for softmaxRow, which tells a masked row from a NaN one.
	VZEROUPPER
	MOVB $0, ret+16(FP)
	RET
sdone:
	VZEROUPPER
	MOVB $1, ret+16(FP)
	RET
