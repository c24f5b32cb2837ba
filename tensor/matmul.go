package tensor

import "slices"

// MatMul returns the matrix product a·b. Shapes: [M,K]·[K,N] → [M,N];
// batched [...,M,K]·[...,K,N] → [...,M,N] with equal batch dimensions; and
// [...,M,K]·[K,N] or [M,K]·[...,K,N], where the 2-D side is shared by every
// batch. It panics on mismatched shapes.
func MatMul(a, b *Tensor) *Tensor { return MatMulT(a, b, false, false) }

// MatMulT is MatMul with the last two dimensions of a and/or b read as
// transposed (so a [...,K,M] with transA gives op(a) = [...,M,K]), without
// making a transposed copy.
func MatMulT(a, b *Tensor, transA, transB bool) *Tensor {
	if a.Dims() < 2 || b.Dims() < 2 {
		panic(errorf("tensor.MatMul: need at least 2-D operands, got %v and %v", a.shape, b.shape))
	}
	ar, br := a.Dims(), b.Dims()
	m, ka := a.shape[ar-2], a.shape[ar-1]
	if transA {
		m, ka = ka, m
	}
	kb, n := b.shape[br-2], b.shape[br-1]
	if transB {
		kb, n = n, kb
	}
	if ka != kb {
		panic(errorf("tensor.MatMul: inner dimensions differ: %v·%v (transA=%v, transB=%v)", a.shape, b.shape, transA, transB))
	}
	k := ka
	abatch, bbatch := a.shape[:ar-2], b.shape[:br-2]
	var batch []int
	switch {
	case len(bbatch) == 0:
		batch = abatch
	case len(abatch) == 0:
		batch = bbatch
	case slices.Equal(abatch, bbatch):
		batch = abatch
	default:
		panic(errorf("tensor.MatMul: batch dimensions differ: %v·%v", a.shape, b.shape))
	}
	nb := shapeSize(batch)
	shape := append(append([]int(nil), batch...), m, n)
	out := resultFull("MatMul", shape, a, b)

	sa, sb := m*k, k*n // per-batch strides (0 for a shared 2-D operand)
	if len(abatch) == 0 {
		sa = 0
	}
	if len(bbatch) == 0 {
		sb = 0
	}
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	// A shared right operand and a plain left one: one GEMM over all rows.
	flat := sb == 0 && !transA
	if flat {
		Gemm(false, transB, nb*m, n, k, 1, a.Data, lda, b.Data, ldb, 0, out.Data, n)
	} else {
		for i := 0; i < nb; i++ {
			Gemm(transA, transB, m, n, k, 1, a.Data[i*sa:], lda, b.Data[i*sb:], ldb, 0, out.Data[i*m*n:], n)
		}
	}
	if out.requiresGrad {
		out.backward = func() {
			g := out.Grad
			if a.requiresGrad {
				// dA = dC·op(B)ᵀ, stored as A is (transposed when transA).
				// A new gradient buffer is assigned (beta 0), not cleared
				// first; a shared A (sa = 0) adds every batch after the first.
				ga, beta := a.gradDst()
				if flat {
					Gemm(false, !transB, nb*m, k, n, 1, g, n, b.Data, ldb, beta, ga, k)
				} else {
					for i := 0; i < nb; i++ {
						gi, bi, ai := g[i*m*n:], b.Data[i*sb:], ga[i*sa:]
						if !transA {
							Gemm(false, !transB, m, k, n, 1, gi, n, bi, ldb, beta, ai, k)
						} else {
							// A stored [K,M]: dA = op(B)·dCᵀ.
							Gemm(transB, true, k, m, n, 1, bi, ldb, gi, n, beta, ai, m)
						}
						if sa == 0 {
							beta = 1
						}
					}
				}
			}
			if b.requiresGrad {
				gb, beta := b.gradDst()
				if flat {
					if !transB {
						Gemm(true, false, k, n, nb*m, 1, a.Data, lda, g, n, beta, gb, n)
					} else {
						Gemm(true, false, n, k, nb*m, 1, g, n, a.Data, lda, beta, gb, k)
					}
				} else {
					for i := 0; i < nb; i++ {
						gi, ai, bi := g[i*m*n:], a.Data[i*sa:], gb[i*sb:]
						if !transB {
							// dB = op(A)ᵀ·dC.
							Gemm(!transA, false, k, n, m, 1, ai, lda, gi, n, beta, bi, n)
						} else {
							// B stored [N,K]: dB = dCᵀ·op(A).
							Gemm(true, transA, n, k, m, 1, gi, n, ai, lda, beta, bi, k)
						}
						if sb == 0 {
							beta = 1
						}
					}
				}
			}
		}
	}
	return out
}
