package tensor

import (
	"sync"
	"unsafe"
)

// The blocked SGEMM follows the GotoBLAS/BLIS loop nest, written for
// row-major C with register tiles of mr rows × nr columns (the columns in
// vector registers):
//
//	for jc over n in steps of nc ≤ gemmNC       (B block: kc × nc, ≤ 512 KiB, L2)
//	  for pc over k in steps of kc ≤ gemmKC
//	    pack B[pc:pc+kc, jc:jc+nc] into nr-wide panels (or read it in place)
//	    for ir over m in tiles of ≤ mr rows, all of nearly equal height
//	      pack A[ir:ir+rows, pc:pc+kc] into one mr-wide panel (or read it in place)
//	      for jr over nc in steps of nr (the full panels in one call where
//	      the kernel has panel loops: kernel.panels)
//	        micro-kernel: C[ir:ir+rows, jc+jr:jc+jr+nr] (+)= A panel · B panel
//
// The first kc block applies beta, later ones accumulate (beta = 1).
// The A panel (kc × mr) stays in L1 while the B panels stream from L2. The
// micro-kernels read only the rows and columns they own (AVX-512 opmasks,
// AVX2 VMASKMOVPS), so edges need no zero padding and either operand can be
// read in place when its layout allows: a transposed A is already a column
// panel, a plain A is read row by row ("row mode"), and a plain B is read
// row by row. Packing is then a choice made for speed (gemmPlan), except for
// a transposed B, which is always packed; a transposed A may be transposed
// back whole first (transposeA).
var (
	gemmKC = 256 // largest depth of a block
	gemmNC = 512 // largest width of a block of B
)

// gemmSplit returns the step that cuts size into the fewest parts of at
// most `most`, of nearly equal length rounded up to a multiple of unit (the
// last part takes the rest).
func gemmSplit(size, most, unit int) int {
	if size <= most {
		return size
	}
	parts := (size + most - 1) / most
	step := (size + parts - 1) / parts
	return min(most, (step+unit-1)/unit*unit)
}

// gemmMicro is one micro-kernel: C[0:mr, 0:nr] = alpha·A·B + beta·C over k
// steps, with A(i,p) at a + p·as + 4i (column mode) or a + i·as + 4p (row
// mode), B(p,j) at b + p·bs + 4j and C(i,j) at c + i·cs + 4j; strides are in
// bytes. beta == 0 does not read C.
type gemmMicro func(k int, a *float32, as int, b *float32, bs int, c *float32, cs int, alpha, beta float32, nr int)

// gemmMicroPanels runs the full kernel of its mode and height on np ≥ 1
// full panels of a row tile in one call (np = 0 would loop 2⁶⁴ times):
// panel q reads B at b + q·bp bytes and writes C's columns from q·nr on
// (bitwise as np calls of the kernel).
type gemmMicroPanels func(k int, a *float32, as int, b *float32, bs int, c *float32, cs int, alpha, beta float32, np, bp int)

// gemmKernel is one way of running a whole GEMM: either a blocked driver
// over a micro-kernel family, or (fn != nil) an external implementation
// such as gonum or OpenBLAS.
type gemmKernel struct {
	name string
	fn   func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

	mr, nr, vlen int  // full tile: rows, columns, lanes per vector
	maskedEdge   bool // a partial last vector needs the masked variant (index 1)
	// micro[mode][rows][vectors-1][masked]; mode 0 reads A by columns, 1 by rows.
	micro [2][][][2]gemmMicro
	// packT transposes a block into a packed panel (gemmPackTrans when nil).
	packT func(dst []float32, ds int, src []float32, ld, rows, cols int)
	// packN copies a block into a packed panel (gemmPackCopy when nil).
	packN func(dst []float32, ds int, src []float32, ld, rows, cols int)
	// prefetch, when set, asks for rows rows of width bytes, ld bytes
	// apart, to be brought into cache (see gemmPrefetchMax).
	prefetch func(p *float32, ld, rows, width int)
	// packBMin, when set, is the smallest B (k·n floats) that gemmPlan
	// packs in products of at least 16 row tiles, below the 1 MiB it
	// packs from otherwise (see gemmPlan).
	packBMin int
	// packSteps: a loop of products on one weight gains from packing it
	// once (see PackSteps).
	packSteps bool
	// transA: products with A transposed may run on A's transpose (see
	// transposeA).
	transA bool
	// panels[mode][rows], when set, runs a row tile's full panels in one
	// call (see gemmPanelsMin).
	panels [2][]gemmMicroPanels
}

// gemmPanelsMin is the fewest full panels a row tile hands to one
// kernel.panels call instead of one micro-kernel call each (one panel is
// one call either way; it must not be below 1). Frozen weights' gemmPre
// runs panel by panel through every row tile, prefetching the next panels
// from its kernels, and keeps its own per-panel calls. W4's products have 8 to 32 panels of 128-deep
// tiles, each call ~0.3 µs of FMAs, and the driver's loop with the ten
// stack arguments of every call was ~3 % of a step (profile); with AVX2's
// panel loops W4's step took 2–4 % less CPU time (Zen 3, two sets of 8
// alternations of 60 steps: means 98.2 → 94.4 and 96.5 → 94.4 ms), W3's
// about the same (4 alternations, 194.9 → 193.3). Not written for the
// AVX-512 kernels (not measured; their 12 × 32 tiles do four times the
// work a call).
const gemmPanelsMin = 2

// gemmPanelsOff turns kernel.panels off (tests compare the two ways). It
// must not change while products run.
var gemmPanelsOff bool

// gemmPrefetchMax is the largest m·k + k·n (floats) of a product whose A
// and B are prefetched whole before its first micro-kernel runs. In a
// training step the small per-head attention products read operands a
// previous pass left in L2 or further, and the hardware prefetchers learn a
// stream only after a few misses, which is most of such a short product:
// prefetching both operands first made W4's per-head products 16 % faster
// and W3's 24 % (sums of per-call minima over 30 steps, 2.02 → 1.70 and
// 5.5 → 4.2 ms a step). 32 KiB stays within L1.
const gemmPrefetchMax = 8192

var (
	// gemmGonumKernel is gonum's blas32 Sgemm, the reference and the
	// fallback where no assembly kernel runs.
	gemmGonumKernel = &gemmKernel{name: "gonum", fn: gemmGonum}
	// gemmDefault is what Gemm uses; set at init from the CPU's features.
	gemmDefault = gemmGonumKernel
	// gemmKernelList holds the blocked kernels this CPU can run, best first.
	gemmKernelList []*gemmKernel
	// gemmExternal holds other backends built in (OpenBLAS with -tags
	// openblas), for tests and benchmarks.
	gemmExternal []*gemmKernel
)

// gemmPrefetchNext: a product that reads A in place by rows that are not
// contiguous (a head's columns of a wider matrix) and is too large to be
// prefetched whole asks for the next row tile's block of A before running
// each tile. The hardware prefetchers follow such rows poorly (a few
// hundred bytes used out of each row of 512 or 1,536): in W5's linear
// attention at n = 4096, its per-head products of 4096 × 32 × 32 went from
// 25–32 to 34–41 GFLOP/s in place (50 repetitions, Zen 4).

// gemmBuf holds one goroutine's packing buffers while it runs a GEMM.
type gemmBuf struct{ a, b []float32 }

var gemmBufPool = sync.Pool{New: func() any { return new(gemmBuf) }}

func growF32(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// gemmPlan decides which operands to pack. A transposed B must be packed
// (the kernels read B by rows). Otherwise reading in place wins while the
// operands sit in cache: measured on Zen 5 (TestGemmReport, GEMM_PLANS),
// packing B paid only once B outgrew 1 MiB, and then a little (+4% at
// 1024³, +6% at 2048³; −3% at 512³), and packing A never paid (a row-mode
// A panel, kc ≤ gemmKC, stays in L1). The AVX2 kernel, on a Zen 3 with
// half that L2 (512 KiB), gains from packing a B of 240 KiB or more
// (kr.packBMin) once the product has 16 row tiles to pay for it: W4's
// feed-forward product 384 × 128 × 512 (m × k × n) +12–13 %, its weight
// gradient 128 × 384 × 512 (A transposed) +17–23 %, 768 × 256 × 512
// +25–35 % (best of 100 interleaved trials, two runs each); B of 224 KiB
// (k·n = 128 · 448) gained nothing, and products of 30–64 rows lost up to
// 15 %.
func (kr *gemmKernel) gemmPlan(transA, transB bool, m, n, k int) (packA, packB bool) {
	if f := gemmPlanForce; f != 0 {
		return f&1 != 0, f&2 != 0 || transB
	}
	packB = transB || (m > 4*kr.mr && k*n > 512*512) || (kr.packBMin > 0 && m >= 16*kr.mr && k*n >= kr.packBMin)
	return false, packB
}

// gemmPlanForce overrides gemmPlan in tests and experiments: 0 leaves it
// alone, otherwise 4 | (pack B ? 2 : 0) | (pack A ? 1 : 0). It must not
// change while products run.
var gemmPlanForce int

// gemm runs the blocked algorithm on one goroutine. Arguments are checked
// by Gemm; m, n, k > 0 and alpha != 0.
func (kr *gemmKernel) gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	kr.gemmEpi(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, gemmEpilogue{})
}

// gemmEpilogue is work done on blocks of C as soon as they are final
// (while they are still in cache): fn(r0, r1, c0, c1) for rows [r0, r1)
// and columns [c0, c1) of the whole product, whose block of this call
// starts at row roff and column coff. pre, when set, is B already packed
// for this kernel (a frozen weight), used instead of packing or reading B.
type gemmEpilogue struct {
	fn         func(r0, r1, c0, c1 int)
	roff, coff int
	pre        *gemmPacked
}

// gemmEpi is gemm with an epilogue (epi.fn may be nil).
func (kr *gemmKernel) gemmEpi(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, epi gemmEpilogue) {
	if transA && kr.transposeA(m, n, k, lda) {
		t := gemmTransPool.Get().(*[]float32)
		defer gemmTransPool.Put(t)
		*t = growF32(*t, m*k)
		kr.packTrans(*t, k, a, lda, k, m)
		kr.gemmEpi(false, transB, m, n, k, alpha, *t, k, b, ldb, beta, c, ldc, epi)
		return
	}
	packA, packB := kr.gemmPlan(transA, transB, m, n, k)
	// prefetchA: A is read in place by rows that are not contiguous, and
	// not prefetched whole, so each row tile asks for the next one's rows
	// (see gemmPrefetchNext).
	prefetchA := false
	if kr.prefetch != nil && m*k+k*n <= gemmPrefetchMax {
		ar, ac := m, k // A and B as stored
		if transA {
			ar, ac = k, m
		}
		br, bc := k, n
		if transB {
			br, bc = n, k
		}
		kr.prefetch(&a[0], 4*lda, ar, 4*ac)
		kr.prefetch(&b[0], 4*ldb, br, 4*bc)
	} else {
		prefetchA = kr.prefetch != nil && !packA && !transA && lda > k
	}
	pre := epi.pre
	if pre != nil && !pre.fits(kr, transB, n, k) {
		pre = nil
	}
	if pre != nil {
		packB = false
		if !packA && !transA && m > kr.mr && kr.preLoop() {
			kr.gemmPre(m, n, k, alpha, a, lda, pre, beta, c, ldc, epi) // freeze.go
			return
		}
	}
	var buf *gemmBuf
	if packA || packB {
		buf = gemmBufPool.Get().(*gemmBuf)
		defer gemmBufPool.Put(buf)
	}
	mr, nr, vlen := kr.mr, kr.nr, kr.vlen
	// Row tiles of nearly equal height: m = 16 runs as 8+8, not 12+4,
	// whose short tile would wait on FMA latency.
	tiles := (m + mr - 1) / mr
	base, extra := m/tiles, m%tiles
	kcMax := gemmSplit(k, gemmKC, 8)
	ncMax := gemmSplit(n, gemmNC, nr)
	for jc, jb := 0, 0; jc < n; jc, jb = jc+ncMax, jb+1 {
		nc := min(ncMax, n-jc)
		for pc, pb := 0, 0; pc < k; pc, pb = pc+kcMax, pb+1 {
			kc := min(kcMax, k-pc)
			bt := beta
			if pc > 0 {
				bt = 1
			}
			var bp []float32
			var bs, bpanel int // row stride and panel offset of B, in floats
			switch {
			case pre != nil:
				bp = pre.block(jb, pb, tiles > 1)
				bs, bpanel = nr, kc*nr
			case packB:
				npan := (nc + nr - 1) / nr
				buf.b = growF32(buf.b, npan*kc*nr)
				bp = buf.b
				kr.packB(bp, transB, b, ldb, jc, nc, pc, kc)
				bs, bpanel = nr, kc*nr
			default:
				bp = b[pc*ldb+jc:]
				bs, bpanel = ldb, nr
			}
			if packA {
				buf.a = growF32(buf.a, kc*mr)
			}
			for t := range tiles {
				ir := t*base + min(t, extra)
				rows := base
				if t < extra {
					rows++
				}
				var ap *float32
				var as, mode int
				switch {
				case packA:
					if transA {
						kr.packCopy(buf.a, mr, a[pc*lda+ir:], lda, kc, rows)
					} else {
						kr.packTrans(buf.a, mr, a[ir*lda+pc:], lda, rows, kc)
					}
					ap, as, mode = &buf.a[0], mr, 0
				case transA:
					ap, as, mode = &a[pc*lda+ir], lda, 0
				default:
					ap, as, mode = &a[ir*lda+pc], lda, 1
				}
				if prefetchA && t+1 < tiles {
					next := rows
					if t+1 == extra {
						next-- // the first tile of base rows
					}
					kr.prefetch(&a[(ir+rows)*lda+pc], 4*lda, next, 4*kc)
				}
				row := kr.micro[mode][rows]
				full := row[len(row)-1][0]
				cr := c[ir*ldc+jc:]
				jr0, boff0 := 0, 0
				if np := nc / nr; np >= gemmPanelsMin && kr.panels[mode] != nil && !gemmPanelsOff {
					kr.panels[mode][rows](kc, ap, 4*as, &bp[0], 4*bs, &cr[0], 4*ldc, alpha, bt, np, 4*bpanel)
					jr0, boff0 = np*nr, np*bpanel
				}
				for jr, boff := jr0, boff0; jr < nc; jr, boff = jr+nr, boff+bpanel {
					w := min(nr, nc-jr)
					f := full
					if w < nr {
						nv := 1
						for nv*vlen < w {
							nv++
						}
						masked := 0
						if kr.maskedEdge && w != nv*vlen {
							masked = 1
						}
						f = row[nv-1][masked]
					}
					f(kc, ap, 4*as, &bp[boff], 4*bs, &cr[jr], 4*ldc, alpha, bt, w)
				}
				if epi.fn != nil && pc+kc == k {
					epi.fn(epi.roff+ir, epi.roff+ir+rows, epi.coff+jc, epi.coff+jc+nc)
				}
			}
		}
	}
}

// transposeA reports whether a product with A transposed (a weight
// gradient, Xᵀ·dY) runs on A's transpose, written out row by row once
// (kr.packT) and read in row mode, instead of reading A's columns in
// place. A column panel in place takes one cache line per k step at a
// stride of lda floats; when that stride is a multiple of 512 bytes (lda
// a multiple of 128, as a model's widths are) the lines fall into an
// eighth or fewer of L1's sets and evict one another while the panel is
// reused across B's panels. Measured on a Zen 3 with the AVX2 kernel and
// one thread (TestGemmReport, interleaved trials, GFLOP/s in place →
// transposed, m × k × n): 128 × 768 × 384 80.6 → 85.0 hot and 72.1 → 76.7
// cold, 128 × 768 × 512 78.7 → 84.2 and 62.9 → 66.3, 512 × 768 × 128 (lda
// 512) 78.4 → 84.3 hot and 76.8 → 77.0 cold; the transpose does not pay
// at 128 × 768 × 128 (83.0 → 79.2), nor at 65 × 768 × 128, whose stride
// spreads over the sets (94.7 → 82.1). W4's step took 0.9 % less CPU time
// (6 alternations) and W5 linear attention at n = 4,096 1.4 % less (4).
// The floor of two row tiles and the 4 MiB bound on the copy are choices,
// not measurements. A product split across threads decides part by part
// on each part's width, and each part transposes its own copy of A. The
// sums are the same FMAs in the same order, so the results are bitwise
// those of the column panels (TestGemmTransposeABitwise, ...APaths). Only
// the AVX2 kernel does it (kr.transA): not measured with AVX-512.
func (kr *gemmKernel) transposeA(m, n, k, lda int) bool {
	if !kr.transA || gemmTransposeOff || k < 1 || m < 2*kr.mr || m*k > gemmTransposeMax {
		return false
	}
	return (4*lda)%512 == 0 && n >= 256 || (4*lda)%2048 == 0 && n >= 128
}

// gemmTransposeMax bounds the transposed copy of A (floats: 4 MiB).
const gemmTransposeMax = 1 << 20

// gemmTransposeOff turns transposeA off (tests compare the two ways). It
// must not change while products run.
var gemmTransposeOff bool

// gemmTransPool holds the transposed copies of A, apart from the packing
// buffers, so that those stay small.
var gemmTransPool = sync.Pool{New: func() any { return new([]float32) }}

// packB packs the block B[pc:pc+kc, jc:jc+nc] of op(B) into dst as
// nr-wide panels of kc rows each (the last panel narrower).
func (kr *gemmKernel) packB(dst []float32, transB bool, b []float32, ldb, jc, nc, pc, kc int) {
	nr := kr.nr
	npan := (nc + nr - 1) / nr
	for q := 0; q < npan; q++ {
		w := min(nr, nc-q*nr)
		if transB {
			kr.packTrans(dst[q*kc*nr:], nr, b[(jc+q*nr)*ldb+pc:], ldb, w, kc)
		} else {
			kr.packCopy(dst[q*kc*nr:], nr, b[pc*ldb+jc+q*nr:], ldb, kc, w)
		}
	}
}

// packTrans is kr's packT, or gemmPackTrans.
func (kr *gemmKernel) packTrans(dst []float32, ds int, src []float32, ld, rows, cols int) {
	if kr.packT != nil {
		kr.packT(dst, ds, src, ld, rows, cols)
		return
	}
	gemmPackTrans(dst, ds, src, ld, rows, cols)
}

// packCopy is kr's packN, or gemmPackCopy.
func (kr *gemmKernel) packCopy(dst []float32, ds int, src []float32, ld, rows, cols int) {
	if kr.packN != nil {
		kr.packN(dst, ds, src, ld, rows, cols)
		return
	}
	gemmPackCopy(dst, ds, src, ld, rows, cols)
}

// gemmPackCopy copies a rows×cols block of src (row stride ld) into dst
// with row stride ds.
func gemmPackCopy(dst []float32, ds int, src []float32, ld, rows, cols int) {
	_ = src[(rows-1)*ld+cols-1]
	_ = dst[(rows-1)*ds+cols-1]
	for r := 0; r < rows; r++ {
		copy(dst[r*ds:r*ds+cols], src[r*ld:r*ld+cols])
	}
}

// gemmPackTrans writes the transpose of a rows×cols block of src (row
// stride ld) into dst with row stride ds: dst[c·ds+r] = src[r·ld+c].
func gemmPackTrans(dst []float32, ds int, src []float32, ld, rows, cols int) {
	_ = src[(rows-1)*ld+cols-1]
	_ = dst[(cols-1)*ds+rows-1]
	sp := unsafe.Pointer(unsafe.SliceData(src))
	dp := unsafe.Pointer(unsafe.SliceData(dst))
	r := 0
	for ; r+4 <= rows; r += 4 {
		s0 := unsafe.Add(sp, 4*r*ld)
		s1 := unsafe.Add(s0, 4*ld)
		s2 := unsafe.Add(s1, 4*ld)
		s3 := unsafe.Add(s2, 4*ld)
		d := unsafe.Add(dp, 4*r)
		for c := 0; c < cols; c++ {
			o := 4 * c
			dd := (*[4]float32)(unsafe.Add(d, 4*c*ds))
			dd[0] = *(*float32)(unsafe.Add(s0, o))
			dd[1] = *(*float32)(unsafe.Add(s1, o))
			dd[2] = *(*float32)(unsafe.Add(s2, o))
			dd[3] = *(*float32)(unsafe.Add(s3, o))
		}
	}
	for ; r < rows; r++ {
		s := unsafe.Add(sp, 4*r*ld)
		d := unsafe.Add(dp, 4*r)
		for c := 0; c < cols; c++ {
			*(*float32)(unsafe.Add(d, 4*c*ds)) = *(*float32)(unsafe.Add(s, 4*c))
		}
	}
}
