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
//   - a product no taller than wide (a linear map's dW = Xᵀ·dY; a short
//     product with a transposed B) whose B is not packed already goes by
//     columns, in whole nr-wide panels: a block that packs B packs only its
//     own panels, once, and keeps them in its own cache; one that reads B
//     in place reads as much as a block of rows would (all of one operand,
//     a strip of the other), and its panels divide more evenly than a
//     short product's row tiles (128 rows went as 36+36+36+20). Two
//     threads, 3 interleaved runs, Zen 5: W3's 128×128 dW 290 → 342
//     GFLOP/s, W4's dW products +3 to +12 %;
//   - a taller product, or one with B packed already (a frozen weight; W4's
//     65-column LM head, narrow enough that packing it again for each
//     block of rows costs less than blocks of unequal width), goes by rows.
//     A linear map's dX = dY·Wᵀ is tall: its blocks of columns would each
//     read all of dY again, in strips too narrow to keep the kernel busy;
//     by rows each block packs all of W, a small part of its work (two
//     threads on W3's dX products, 5 interleaved runs, Zen 4: 126 → 139
//     GFLOP/s geomean; W3's two-thread training step −10 %, W4's
//     unchanged; packing W once for all blocks was slower still, 10–20 %
//     on W4's dX products, Zen 5: each core then reads the panels the
//     other packed).
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
	p := gemmProduct{kr: kr, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
		a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, epi: epi, pre: pre}
	p.plan(int(gemmThreads.Load()))
	if p.cut == gemmWhole {
		p.part(0, m)
		return
	}
	// Only a split product moves to the heap (ParallelFor keeps p.part):
	// p itself stays on the stack, so a product on one goroutine — every
	// product with one thread — allocates nothing.
	h := new(gemmProduct)
	*h = p
	ParallelFor(h.size, h.grain, h.part)
}

// gemmCut says how a product is split across goroutines.
type gemmCut int

const (
	gemmWhole gemmCut = iota // on one goroutine
	gemmCols                 // whole nr-wide panels of columns, each block packing (or reading) its own
	gemmRows                 // whole row tiles, B in place or packed already
)

// gemmProduct is one product with its arguments and, after plan, its cut:
// blocks of grain columns or rows of the size of that dimension (the last
// block shorter).
type gemmProduct struct {
	kr             *gemmKernel
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int
	epi            func(r0, r1, c0, c1 int)
	pre            *gemmPacked
	cut            gemmCut
	size, grain    int
}

// plan chooses p's cut for t goroutines (see gemmRunEpi).
func (p *gemmProduct) plan(t int) {
	kr := p.kr
	p.cut, p.size, p.grain = gemmWhole, p.m, p.m
	if t <= 1 || 2*float64(p.m)*float64(p.n)*float64(p.k) < gemmParMinFlops {
		return
	}
	if p.pre != nil && !p.pre.fits(kr, p.transB, p.n, p.k) {
		p.pre = nil
	}
	// Two blocks a goroutine: enough for one that starts late to leave its
	// share to the others, few enough that each block packs or reads its
	// operands once.
	parts := 2 * t
	panels := (p.n + kr.nr - 1) / kr.nr
	switch {
	case p.m <= p.n && panels > 1 && p.pre == nil:
		p.cut, p.size, p.grain = gemmCols, p.n, kr.nr*((panels+parts-1)/parts)
	default:
		grain := (p.m + parts - 1) / parts
		if grain >= kr.mr {
			grain = (grain + kr.mr - 1) / kr.mr * kr.mr
		}
		p.cut, p.size, p.grain = gemmRows, p.m, grain
	}
}

// blocks returns how many blocks p's cut makes.
func (p *gemmProduct) blocks() int { return (p.size + p.grain - 1) / p.grain }

// part runs the block [lo, hi) of p's cut (columns or rows; all of p when
// it is not cut) as an ordinary blocked product.
func (p *gemmProduct) part(lo, hi int) {
	kr, transA, transB, m, n, k := p.kr, p.transA, p.transB, p.m, p.n, p.k
	a, b, c, lda, ldb, ldc := p.a, p.b, p.c, p.lda, p.ldb, p.ldc
	switch p.cut {
	case gemmWhole:
		kr.gemmEpi(transA, transB, m, n, k, p.alpha, a, lda, b, ldb, p.beta, c, ldc, gemmEpilogue{fn: p.epi, pre: p.pre})
	case gemmCols:
		var bb []float32
		if transB {
			bb = b[lo*ldb:]
		} else {
			bb = b[lo:]
		}
		kr.gemmEpi(transA, transB, m, hi-lo, k, p.alpha, a, lda, bb, ldb, p.beta, c[lo:], ldc,
			gemmEpilogue{fn: p.epi, coff: lo})
	case gemmRows:
		var aa []float32
		if transA {
			aa = a[lo:]
		} else {
			aa = a[lo*lda:]
		}
		kr.gemmEpi(transA, transB, hi-lo, n, k, p.alpha, aa, lda, b, ldb, p.beta, c[lo*ldc:], ldc,
			gemmEpilogue{fn: p.epi, roff: lo, pre: p.pre})
	}
}

// gemmPair computes two independent products (either may be nil), each
// exactly as Gemm (gemmWithEpilogue, when its epi is set) would: with one
// thread one after the other; with more, each cut into blocks as Gemm
// would cut it alone and all blocks of both handed out by a single
// ParallelFor, so that the goroutines stay busy until both are done
// instead of each waiting at the end of its own product (a linear map's
// backward pass: dX = dY·Wᵀ and dW += Xᵀ·dY). Neither C may be read or
// written by the other product.
func gemmPair(p, q *gemmProduct) {
	kr := gemmDefault
	t := int(gemmThreads.Load())
	var ps []*gemmProduct
	for _, x := range [2]*gemmProduct{p, q} {
		if x == nil {
			continue
		}
		gemmCheck(x.transA, x.transB, x.m, x.n, x.k, x.a, x.lda, x.b, x.ldb, x.c, x.ldc)
		if x.m == 0 || x.n == 0 || x.k == 0 || x.alpha == 0 || kr.fn != nil || t <= 1 {
			// One thread, a trivial product or an external kernel: as Gemm.
			if x.epi != nil {
				gemmWithEpilogue(x.transA, x.transB, x.m, x.n, x.k, x.alpha, x.a, x.lda, x.b, x.ldb, x.beta, x.c, x.ldc, x.epi)
			} else {
				Gemm(x.transA, x.transB, x.m, x.n, x.k, x.alpha, x.a, x.lda, x.b, x.ldb, x.beta, x.c, x.ldc)
			}
			continue
		}
		x.kr = kr
		x.pre = frozenPack(kr, x.transB, x.k, x.n, x.b, x.ldb)
		x.plan(t)
		ps = append(ps, x)
	}
	switch len(ps) {
	case 0:
		return
	case 1:
		x := ps[0]
		if x.cut == gemmWhole {
			x.part(0, x.m)
		} else {
			ParallelFor(x.size, x.grain, x.part)
		}
		return
	}
	p, q = ps[0], ps[1]
	np := p.blocks()
	ParallelFor(np+q.blocks(), 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			x, j := p, i
			if i >= np {
				x, j = q, i-np
			}
			x.part(j*x.grain, min(x.size, (j+1)*x.grain))
		}
	})
}
