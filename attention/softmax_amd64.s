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
