//go:build amd64 && !purego

#include "textflag.h"

// func vsumRows512(dst, src *float32, rows, n, ld int)
// dst[j] = src[j] + src[ld+j] + … + src[(rows−1)·ld+j] for j < n, rows ≥ 1,
// added in that order. Columns are walked eight vectors (128 floats) at a
// time, then one vector, then the last n mod 16 with the opmask K1; each
// strip's sums stay in registers while the rows stream past, so a row
// costs one load and one add a vector, and eight independent sums hide the
// adds' latency.
TEXT ·vsumRows512(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), BX
	MOVQ n+24(FP), CX
	MOVQ ld+32(FP), DX
	SHLQ $2, DX
	DECQ BX
loop8:
	CMPQ CX, $128
	JL loop1
	MOVQ SI, R8
	VMOVUPS (R8), Z0
	VMOVUPS 64(R8), Z1
	VMOVUPS 128(R8), Z2
	VMOVUPS 192(R8), Z3
	VMOVUPS 256(R8), Z4
	VMOVUPS 320(R8), Z5
	VMOVUPS 384(R8), Z6
	VMOVUPS 448(R8), Z7
	MOVQ BX, R9
rows8:
	TESTQ R9, R9
	JZ store8
	ADDQ DX, R8
	VADDPS (R8), Z0, Z0
	VADDPS 64(R8), Z1, Z1
	VADDPS 128(R8), Z2, Z2
	VADDPS 192(R8), Z3, Z3
	VADDPS 256(R8), Z4, Z4
	VADDPS 320(R8), Z5, Z5
	VADDPS 384(R8), Z6, Z6
	VADDPS 448(R8), Z7, Z7
	DECQ R9
	JMP rows8
store8:
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	VMOVUPS Z4, 256(DI)
	VMOVUPS Z5, 320(DI)
	VMOVUPS Z6, 384(DI)
	VMOVUPS Z7, 448(DI)
	ADDQ $512, DI
	ADDQ $512, SI
	SUBQ $128, CX
	JMP loop8
loop1:
	CMPQ CX, $16
	JL tail
	MOVQ SI, R8
	VMOVUPS (R8), Z0
	MOVQ BX, R9
rows1:
	TESTQ R9, R9
	JZ store1
	ADDQ DX, R8
	VADDPS (R8), Z0, Z0
	DECQ R9
	JMP rows1
store1:
	VMOVUPS Z0, (DI)
	ADDQ $64, DI
	ADDQ $64, SI
	SUBQ $16, CX
	JMP loop1
tail:
	TESTQ CX, CX
	JZ done
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	MOVQ SI, R8
	VMOVUPS.Z (R8), K1, Z0
	MOVQ BX, R9
rowsT:
	TESTQ R9, R9
	JZ storeT
	ADDQ DX, R8
	VADDPS.Z (R8), Z0, K1, Z0
	DECQ R9
	JMP rowsT
storeT:
	VMOVUPS Z0, K1, (DI)
done:
	VZEROUPPER
	RET
