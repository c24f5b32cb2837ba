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

// func vsumRows256(dst, src *float32, rows, n, ld int)
// vsumRows512 with AVX2 on 8 lanes: strips of eight vectors (64 floats),
// then one vector, then the last n mod 8 with VMASKMOVPS and the lane mask
// tailMask256 (blas1_amd64.s) in Y15: masked loads read zeros, the masked
// store leaves the other lanes alone. The same adds in the same order.
TEXT ·vsumRows256(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), BX
	MOVQ n+24(FP), CX
	MOVQ ld+32(FP), DX
	SHLQ $2, DX
	DECQ BX
loop8y:
	CMPQ CX, $64
	JL loop1y
	MOVQ SI, R8
	VMOVUPS (R8), Y0
	VMOVUPS 32(R8), Y1
	VMOVUPS 64(R8), Y2
	VMOVUPS 96(R8), Y3
	VMOVUPS 128(R8), Y4
	VMOVUPS 160(R8), Y5
	VMOVUPS 192(R8), Y6
	VMOVUPS 224(R8), Y7
	MOVQ BX, R9
rows8y:
	TESTQ R9, R9
	JZ store8y
	ADDQ DX, R8
	VADDPS (R8), Y0, Y0
	VADDPS 32(R8), Y1, Y1
	VADDPS 64(R8), Y2, Y2
	VADDPS 96(R8), Y3, Y3
	VADDPS 128(R8), Y4, Y4
	VADDPS 160(R8), Y5, Y5
	VADDPS 192(R8), Y6, Y6
	VADDPS 224(R8), Y7, Y7
	DECQ R9
	JMP rows8y
store8y:
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VMOVUPS Y4, 128(DI)
	VMOVUPS Y5, 160(DI)
	VMOVUPS Y6, 192(DI)
	VMOVUPS Y7, 224(DI)
	ADDQ $256, DI
	ADDQ $256, SI
	SUBQ $64, CX
	JMP loop8y
loop1y:
	CMPQ CX, $8
	JL taily
	MOVQ SI, R8
	VMOVUPS (R8), Y0
	MOVQ BX, R9
rows1y:
	TESTQ R9, R9
	JZ store1y
	ADDQ DX, R8
	VADDPS (R8), Y0, Y0
	DECQ R9
	JMP rows1y
store1y:
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	SUBQ $8, CX
	JMP loop1y
taily:
	TESTQ CX, CX
	JZ doney
	LEAQ ·tailMask256(SB), AX
	MOVQ $8, R10
	SUBQ CX, R10
	VMOVDQU (AX)(R10*4), Y15
	MOVQ SI, R8
	VMASKMOVPS (R8), Y15, Y0
	MOVQ BX, R9
rowsTy:
	TESTQ R9, R9
	JZ storeTy
	ADDQ DX, R8
	VMASKMOVPS (R8), Y15, Y1
	VADDPS Y1, Y0, Y0
	DECQ R9
	JMP rowsTy
storeTy:
	VMASKMOVPS Y0, Y15, (DI)
doney:
	VZEROUPPER
	RET
