package tensor

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

var blasImpl gonum.Implementation

// Gemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices, where
// op(X) is X or Xᵀ as transA/transB say, op(A) is m×k, op(B) is k×n and C is
// m×n; lda, ldb and ldc are the row strides of A, B and C as stored.
//
// Every matrix product in attnlab goes through this one function, so a faster
// kernel can replace it without touching any op. It is safe for concurrent
// use on distinct outputs.
//
// On amd64 with AVX-512 or AVX2+FMA it runs a packed, cache-blocked SGEMM
// with assembly micro-kernels (chosen at start-up from the CPU's features);
// elsewhere the same blocked driver over a micro-kernel written in Go. With beta = 0, C is only written,
// never read; with alpha = 0 or k = 0, A and B are not read. Large products
// are split across goroutines when SetThreads allows. It panics, as gonum
// does, on negative sizes, leading dimensions smaller than a row, or slices
// too short for the matrices they hold.
func Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemmCheck(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		gemmScaleC(m, n, beta, c, ldc)
		return
	}
	gemmRunEpi(gemmDefault, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nil,
		frozenPack(gemmDefault, transB, k, n, b, ldb))
}

// Kernels names the kind of matrix-product kernels Gemm computes with in
// this process: "avx512", "avx2" (AVX2 and FMA), "purego" (the
// micro-kernel written in Go: other CPUs, or -tags purego) or "openblas"
// (-tags openblas). The elementwise kernels follow the same CPU features
// (with OpenBLAS, the CPU's). Kinds round differently: results are the
// same bit for bit only between processes whose kernels are of one kind.
func Kernels() string { return gemmDefault.name }

// DepthBlock returns the depth of the blocks Gemm sums a product of depth
// k in (the last block takes the rest), or 0 when its kernel promises no
// such order (OpenBLAS, gonum). Each block's sum Σ_p A(i,p)·B(p,j) starts
// from zero and is added to C in turn, so a caller that splits a product
// at multiples of DepthBlock(k) into products of their own, each of depth
// at most DepthBlock(k) (one block each), and adds their results to C in
// the same order gets the full product's bits (a decoder sharing the part
// of a product that several rows have in common does). Safe for
// concurrent use.
func DepthBlock(k int) int {
	if gemmDefault.fn != nil || k <= 0 {
		return 0
	}
	return gemmSplit(k, gemmKC, 8)
}

// gemmWithEpilogue is Gemm calling epi(r0, r1, c0, c1) on each block of C
// (rows [r0, r1), columns [c0, c1)) once it holds its final value, while it
// is still in cache; every element is in exactly one block. Blocks may be
// passed concurrently when the product is split across goroutines.
func gemmWithEpilogue(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, epi func(r0, r1, c0, c1 int)) {
	gemmCheck(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		gemmScaleC(m, n, beta, c, ldc)
		epi(0, m, 0, n)
		return
	}
	gemmRunEpi(gemmDefault, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, epi,
		frozenPack(gemmDefault, transB, k, n, b, ldb))
}

// gemmCheck panics with an Error carrying gonum's messages on arguments
// Sgemm would reject.
func gemmCheck(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	switch {
	case m < 0:
		panic(Error{"blas: m < 0"})
	case n < 0:
		panic(Error{"blas: n < 0"})
	case k < 0:
		panic(Error{"blas: k < 0"})
	}
	ar, ac := m, k // A as stored
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	switch {
	case lda < max(1, ac):
		panic(Error{"blas: bad leading dimension of A"})
	case ldb < max(1, bc):
		panic(Error{"blas: bad leading dimension of B"})
	case ldc < max(1, n):
		panic(Error{"blas: bad leading dimension of C"})
	}
	if m == 0 || n == 0 {
		return
	}
	switch {
	case ar > 0 && len(a) < (ar-1)*lda+ac:
		panic(Error{"blas: insufficient length of a"})
	case br > 0 && len(b) < (br-1)*ldb+bc:
		panic(Error{"blas: insufficient length of b"})
	case len(c) < (m-1)*ldc+n:
		panic(Error{"blas: insufficient length of c"})
	}
}

// gemmScaleC sets C = beta·C without reading C when beta = 0.
func gemmScaleC(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// gemmGonum is gonum's blas32 Sgemm: the reference the blocked kernels are
// tested against, and Gemm's implementation where they cannot run.
func gemmGonum(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	blasImpl.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// PrefetchRows asks the CPU to bring rows rows of width values, ld values
// apart, from x on into its caches (a hint: it changes no value, and does
// nothing where the assembly kernels do not run). Loops that read rows of a
// wider matrix (a head's columns) use it a few rows ahead: the hardware
// prefetchers follow such rows poorly. Rows past the end of x are not
// asked for.
func PrefetchRows(x []float32, ld, rows, width int) {
	if rows <= 0 || width <= 0 || len(x) == 0 {
		return
	}
	if ld <= 0 {
		ld = width
	}
	rows = min(rows, (len(x)-width)/ld+1)
	if rows <= 0 {
		return
	}
	prefetchRows(x, ld, rows, width)
}
