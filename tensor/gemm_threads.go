package tensor

import "sync/atomic"

// gemmThreads is the number of goroutines one large GEMM may use.
var gemmThreads atomic.Int32

func init() { gemmThreads.Store(1) }

// gemmParMinFlops is the smallest product (2·m·n·k) split across
// goroutines. ParallelFor's workers spin between the passes of a training
// step, so a hand-off costs well under a microsecond; a product of 2 MFLOP
// (64×128×128, about 10 µs on one core) is the least worth cutting in two.
// Smaller ones — per-head attention products — run whole on the calling
// goroutine, in parallel with each other when their caller splits its heads
// with ParallelFor.
var gemmParMinFlops = 2.0 * 64 * 128 * 128

// SetThreads sets how many goroutines a single matrix product (Gemm, and so
// MatMul) and the other parallel passes (ParallelFor) may use; n < 1 means
// 1, the default. Products smaller than about 64×128×128 multiply-adds
// always stay on the calling goroutine. A training
// run sets it from its train.threads config. It is safe to call at any
// time, also while other goroutines run products: each product reads the
// setting once when it starts.
func SetThreads(n int) {
	if n < 1 {
		n = 1
	}
	gemmThreads.Store(int32(min(n, 1<<16)))
	if gemmThreadsHook != nil {
		gemmThreadsHook(n)
	}
}

// gemmThreadsHook passes SetThreads on to an external backend (OpenBLAS).
var gemmThreadsHook func(n int)

// Threads returns the setting of SetThreads. It is safe for concurrent use.
func Threads() int { return int(gemmThreads.Load()) }

// gemmRun runs a checked, non-trivial product with kr, splitting it across
// goroutines when SetThreads allows and it is large enough.
func gemmRun(kr *gemmKernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemmRunEpi(kr, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nil, nil)
}

// gemmRunEpi is gemmRun calling epi on blocks of C as they become final
// (see gemmEpilogue); blocks done by different goroutines may be passed to
// epi concurrently, never the same element twice. pre, when not nil, is B
// packed already (a frozen weight).
//
// A split product is cut with ParallelFor into a few blocks of whole
// columns or rows of C, each an ordinary blocked product on one goroutine:
//   - when B is to be packed (a transposed B, or a large one) and has a
//     panel for each block, by columns in whole nr-wide panels, so that
//     each goroutine packs only its own panels of B, once, and keeps them
//     in its own cache;
//   - otherwise by rows (B read in place, packed already, or so narrow —
//     W4's 65-column LM head — that packing it again for each block of rows
//     costs less than blocks of unequal width).
//
// Every element of C is computed by the same micro-kernel arithmetic in the
// same order of k whatever the cut (k is blocked the same way, and tile
// heights and panel widths do not change a lane's sums), so a split product
// equals the one-goroutine product bit for bit.
func gemmRunEpi(kr *gemmKernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, epi func(r0, r1, c0, c1 int), pre *gemmPacked) {
	if kr.fn != nil {
		kr.fn(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		if epi != nil {
			epi(0, m, 0, n)
		}
		return
	}
	t := int(gemmThreads.Load())
	if t <= 1 || 2*float64(m)*float64(n)*float64(k) < gemmParMinFlops {
		kr.gemmEpi(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, gemmEpilogue{fn: epi, pre: pre})
		return
	}
	if pre != nil && !pre.fits(kr, transB, n, k) {
		pre = nil
	}
	_, packB := kr.gemmPlan(transA, transB, m, n, k)
	// Two blocks a goroutine: enough for one that starts late to leave its
	// share to the others, few enough that each block packs or reads its
	// operands once.
	parts := 2 * t
	panels := (n + kr.nr - 1) / kr.nr
	if packB && pre == nil && panels >= parts {
		grain := kr.nr * ((panels + parts - 1) / parts)
		ParallelFor(n, grain, func(lo, hi int) {
			var bb []float32
			if transB {
				bb = b[lo*ldb:]
			} else {
				bb = b[lo:]
			}
			kr.gemmEpi(transA, transB, m, hi-lo, k, alpha, a, lda, bb, ldb, beta, c[lo:], ldc,
				gemmEpilogue{fn: epi, coff: lo})
		})
		return
	}
	if m < 2*kr.mr && panels > 1 && pre == nil {
		// A short, wide product: columns.
		grain := kr.nr * ((panels + parts - 1) / parts)
		ParallelFor(n, grain, func(lo, hi int) {
			kr.gemmEpi(transA, transB, m, hi-lo, k, alpha, a, lda, b[lo:], ldb, beta, c[lo:], ldc,
				gemmEpilogue{fn: epi, coff: lo})
		})
		return
	}
	grain := (m + parts - 1) / parts
	if grain >= kr.mr {
		grain = (grain + kr.mr - 1) / kr.mr * kr.mr
	}
	ParallelFor(m, grain, func(lo, hi int) {
		var aa []float32
		if transA {
			aa = a[lo:]
		} else {
			aa = a[lo*lda:]
		}
		kr.gemmEpi(transA, transB, hi-lo, n, k, alpha, aa, lda, b, ldb, beta, c[lo*ldc:], ldc,
			gemmEpilogue{fn: epi, roff: lo, pre: pre})
	})
}
