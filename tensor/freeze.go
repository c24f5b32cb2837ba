package tensor

import (
	"math"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Freeze promises that the values of ts do not change until the returned
// function is called, and turns their gradient tracking off meanwhile (as
// NoGrad does). While they are frozen, a matrix product that reads one of
// them as its right operand packs it into the kernel's panel layout once
// and reuses that copy: a decoder reads the same weights at every step, and
// packing a vocabulary projection again at every step costs as much as a
// third of the product. restore drops the packed copies and gives the
// tensors their gradient tracking back. Freezes nest.
//
// Changing a frozen tensor's values is a bug: products would keep using
// the old ones. Freeze and restore are safe for concurrent use; products
// on frozen tensors may run concurrently.
func Freeze(ts ...*Tensor) (restore func()) { return freeze(ts, true) }

// FreezeValues is Freeze without the gradient change: products reading
// one of ts pack it once, and ts keep their gradient tracking. It is for
// an op that reads a weight in many products while it runs, such as an
// RNN's recurrent weight at every step of a sequence (forward, and its
// transpose backward), where another goroutine may be building a graph on
// the same weight at the same time (Freeze's gradient change would race
// with it).
func FreezeValues(ts ...*Tensor) (restore func()) { return freeze(ts, false) }

// PackSteps reports whether an op that reads one weight in a product at
// every step of a loop (an RNN's recurrent weight) gains from holding it
// packed for the loop (FreezeValues) with this process's kernels. With the
// AVX2 kernel, which packs a transposed B at every product, it did (Zen 3:
// W2's CPU time −1.5 to −12 % in three alternations while other work ran
// on the machine, session 43). With the
// AVX-512 kernel it costs (Zen 5, in-process alternation of 12 rounds of
// 10 steps: W2 +11 % CPU, W1 +8 %, 10 and 12 of 12 rounds): the forward
// product reads a 256 KiB W_hh in place faster than its packed copy (a
// 64 × 128 × 512 product 15 % faster alone), and the pack made afresh for
// each pass costs more in the step than the per-step packing of Wᵀ it
// saves. The Go micro-kernel (purego) packs frozen weights too, and does
// not gain either (an LSTM of 64 × 30 steps, H 128, forward and backward:
// 354–371 ms a pass without, 357–379 ms with, three alternations with
// -tags purego); OpenBLAS and gonum's kernels do not pack them.
func PackSteps() bool { return gemmDefault.packSteps }

func freeze(ts []*Tensor, noGrad bool) (restore func()) {
	saved := make([]bool, len(ts))
	frozen.mu.Lock()
	for i, t := range ts {
		if noGrad {
			saved[i] = t.requiresGrad
			t.requiresGrad = false
		}
		if len(t.Data) == 0 {
			continue
		}
		key := unsafe.SliceData(t.Data)
		if r := frozen.ranges[key]; r != nil && len(r.data) == len(t.Data) {
			r.refs++
			continue
		}
		if frozen.ranges == nil {
			frozen.ranges = map[*float32]*frozenRange{}
		}
		frozen.ranges[key] = &frozenRange{data: t.Data, refs: 1}
	}
	frozen.count.Store(int32(len(frozen.ranges)))
	frozen.mu.Unlock()
	return func() {
		frozen.mu.Lock()
		for i, t := range ts {
			if noGrad {
				t.requiresGrad = saved[i]
			}
			if len(t.Data) == 0 {
				continue
			}
			key := unsafe.SliceData(t.Data)
			if r := frozen.ranges[key]; r != nil {
				if r.refs--; r.refs == 0 {
					delete(frozen.ranges, key)
				}
			}
		}
		frozen.count.Store(int32(len(frozen.ranges)))
		frozen.mu.Unlock()
	}
}

// FrozenToken returns a value that stays the same while t's values stay
// frozen by the same Freeze (nested Freezes included), and nil when they
// are not frozen: a cache of values computed from frozen tensors is valid
// while their tokens are those it was made with. Tokens of two Freezes of
// the same tensor differ, even at the same address (a token keeps its
// freeze's record alive).
func FrozenToken(t *Tensor) any {
	if frozen.count.Load() == 0 || len(t.Data) == 0 {
		return nil
	}
	frozen.mu.RLock()
	defer frozen.mu.RUnlock()
	if r := frozen.ranges[unsafe.SliceData(t.Data)]; r != nil && len(r.data) == len(t.Data) {
		return r
	}
	return nil
}

var frozen struct {
	mu     sync.RWMutex
	count  atomic.Int32 // len(ranges), read without the lock
	ranges map[*float32]*frozenRange
}

// frozenRange is one frozen tensor's data with the packed copies made of
// it.
type frozenRange struct {
	data  []float32
	refs  int
	mu    sync.Mutex
	packs map[packKey]*gemmPacked
}

type packKey struct {
	kr          *gemmKernel
	off, ld     int
	k, n        int
	transB      bool
	kcMax, ncMx int
}

// frozenPack returns kr's packed copy of the right operand op(B) (k × n,
// stored at b with row stride ldb) when b lies in a frozen tensor, making
// it on first use; nil otherwise.
func frozenPack(kr *gemmKernel, transB bool, k, n int, b []float32, ldb int) *gemmPacked {
	if frozen.count.Load() == 0 || kr.fn != nil || len(b) == 0 {
		return nil
	}
	rows, cols := k, n // B as stored
	if transB {
		rows, cols = n, k
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	end := start + 4*uintptr((rows-1)*ldb+cols)
	frozen.mu.RLock()
	var r *frozenRange
	for _, fr := range frozen.ranges {
		lo := uintptr(unsafe.Pointer(unsafe.SliceData(fr.data)))
		if start >= lo && end <= lo+4*uintptr(len(fr.data)) {
			r = fr
			break
		}
	}
	frozen.mu.RUnlock()
	if r == nil {
		return nil
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(r.data)))
	key := packKey{kr: kr, off: int(start-lo) / 4, ld: ldb, k: k, n: n, transB: transB,
		kcMax: gemmSplit(k, gemmKC, 8), ncMx: gemmSplit(n, gemmNC, kr.nr)}
	r.mu.Lock()
	defer r.mu.Unlock()
	if p := r.packs[key]; p != nil {
		return p
	}
	p := newGemmPacked(kr, transB, k, n, b, ldb)
	if r.packs == nil {
		r.packs = map[packKey]*gemmPacked{}
	}
	r.packs[key] = p
	return p
}

// gemmPacked is a right operand op(B) packed once for a kernel: every
// (column block, depth block) of the blocked loop laid out as packB lays
// it out.
type gemmPacked struct {
	kr           *gemmKernel
	transB       bool
	k, n         int
	kcMax, ncMax int
	npc          int // depth blocks per column block
	blocks       [][]float32
}

func newGemmPacked(kr *gemmKernel, transB bool, k, n int, b []float32, ldb int) *gemmPacked {
	p := &gemmPacked{kr: kr, transB: transB, k: k, n: n, kcMax: gemmSplit(k, gemmKC, 8), ncMax: gemmSplit(n, gemmNC, kr.nr)}
	p.npc = (k + p.kcMax - 1) / p.kcMax
	nr := kr.nr
	for jc := 0; jc < n; jc += p.ncMax {
		nc := min(p.ncMax, n-jc)
		for pc := 0; pc < k; pc += p.kcMax {
			kc := min(p.kcMax, k-pc)
			blk := make([]float32, (nc+nr-1)/nr*kc*nr)
			kr.packB(blk, transB, b, ldb, jc, nc, pc, kc)
			p.blocks = append(p.blocks, blk)
		}
	}
	return p
}

// fits reports whether p was packed for this kernel, layout and blocking.
func (p *gemmPacked) fits(kr *gemmKernel, transB bool, n, k int) bool {
	return p.kr == kr && p.transB == transB && p.n == n && p.k == k &&
		p.kcMax == gemmSplit(k, gemmKC, 8) && p.ncMax == gemmSplit(n, gemmNC, kr.nr)
}

// block returns column block jb's depth block pb; with touch, pulled into
// cache first: one load per cache line, in order, which the hardware
// prefetchers stream at memory bandwidth. A packed vocabulary projection
// (24 MiB for 1,024 × 6,000) does not stay in cache between the steps of a
// decoder; without this the micro-kernels of the block's first row tile
// wait on each of its lines in turn, and a 64 × 1,024 × 6,000 product ran
// 1.3× slower frozen than packing B again at every call (on Zen 5). With
// a single row tile (a language model generating one token) nothing reads
// the block again: the touch only doubles the loads (W6's lm-cache ran
// ~15% slower with it), so the caller asks for it only with several tiles.
func (p *gemmPacked) block(jb, pb int, touch bool) []float32 {
	b := p.blocks[jb*p.npc+pb]
	if touch {
		touchLines(b)
	}
	return b
}

// touchLines reads one value of each 64-byte line of b.
func touchLines(b []float32) {
	var s float32
	for i := 0; i < len(b); i += 16 {
		s += b[i]
	}
	touchSink.Store(math.Float32bits(s))
}

// touchSink keeps touchLines' loads from being optimised away. It is
// atomic: the row blocks of a product split across threads read the same
// frozen block at once.
var touchSink atomic.Uint32

// gemmMicroPF is a row-mode micro-kernel (see gemmMicro) that also
// prefetches pfn 64-byte lines from pf on while it runs, one every few
// steps of its k loop (the rest after the loop).
type gemmMicroPF func(k int, a *float32, as int, b *float32, bs int, c *float32, cs int, alpha, beta float32, nr int, pf *float32, pfn int)

// preLoop reports whether products on pre-packed B with several row tiles
// run gemmPre.
func (kr *gemmKernel) preLoop() bool { return !gemmPreOff && frozenMicro(kr, 1, 1, 0) != nil }

// gemmPreOff turns gemmPre off (tests and benchmarks comparing it with the
// blocked loop). It must not change while products run.
var gemmPreOff bool

// gemmPreRows is the most rows of A gemmPre runs over one panel of B
// before the next panel: 384 rows of a 256-deep block are 384 KiB, which
// stay in L2 with the panels streaming by. (W6's products have 64 or 320
// rows: one chunk; an encoder's input projection over a whole batch of
// sources has thousands.)
const gemmPreRows = 384

// gemmPreAhead is how many panels ahead of the one it computes gemmPre
// prefetches.
const gemmPreAhead = 2

// gemmPre is the blocked loop for a product with several row tiles whose
// B was packed ahead (a frozen weight, see Freeze), read in place by rows
// (A plain) on a kernel with prefetching micro-kernels (frozenMicro). A
// decoder's vocabulary projection (1,024 × 6,000: 24 MiB packed) does not
// stay in cache from one step to the next, so the product streams it from
// memory at every step; gemmPre overlaps that stream with the arithmetic:
//
//   - it runs every row tile (of a chunk of up to gemmPreRows rows) on one
//     B panel (kc × nr, ≤ 32 KiB) before moving to the next panel, so each
//     panel comes from memory once and is read again from L1 (the blocked
//     loop runs one row tile over a whole block of panels, and reads the
//     block again for every tile);
//   - each micro-kernel call prefetches its share of the panel
//     gemmPreAhead panels ahead (in this block or the next), a line every
//     few steps of its k loop, so the memory stream runs at the pace of the
//     arithmetic and within the core's outstanding-miss limits.
//
// W6's 64 × 1,024 × 6,000 product, min CPU time per call in a loop (Zen 5,
// machine shared): 160 GFLOP/s when each block was first touched into
// cache (touchLines), 179-187 with this order and one prefetch per k step,
// 196-198 with one every three; the 320-row beam product 181-188 → 190-194
// (BenchmarkFrozenPanels, which also has the decoder's GRU input projection
// and an encoder's: 198 → 211 and 190-196 → 196-199 GFLOP/s-cpu). With
// AVX2 kernels (Zen 3, no AVX-512; until then they ran the blocked loop):
// the 64-row product 73 → 86 GFLOP/s-cpu (best of 40), 64 × 768 × 6,000 on
// a cold cache 64 → 81 mean; the 320-row one and the GRU's and encoder's
// products unchanged within noise (89-92 either way).
// The arithmetic is the blocked loop's (the same kernels' instructions in
// the same order over the same kc blocks), so results are bitwise equal.
func (kr *gemmKernel) gemmPre(m, n, k int, alpha float32, a []float32, lda int, pre *gemmPacked, beta float32, c []float32, ldc int, epi gemmEpilogue) {
	mr, nr, vlen := kr.mr, kr.nr, kr.vlen
	tiles := (m + mr - 1) / mr
	base, extra := m/tiles, m%tiles
	tile := func(t int) (ir, rows int) {
		ir = t*base + min(t, extra)
		rows = base
		if t < extra {
			rows++
		}
		return ir, rows
	}
	// edge returns the plain kernel for a panel narrower than nr.
	edge := func(rows, w int) gemmMicro {
		row := kr.micro[1][rows]
		nv := (w + vlen - 1) / vlen
		masked := 0
		if kr.maskedEdge && w != nv*vlen {
			masked = 1
		}
		return row[nv-1][masked]
	}
	kcMax, ncMax := pre.kcMax, pre.ncMax
	// Row chunks of at most gemmPreRows rows (whole tiles): a chunk's rows
	// of A (kc wide) stay in L2 while the panels of B go by.
	chunk := max(1, gemmPreRows/mr)
	for t0 := 0; t0 < tiles; t0 += chunk {
		t1 := min(tiles, t0+chunk)
		for jc, jb := 0, 0; jc < n; jc, jb = jc+ncMax, jb+1 {
			nc := min(ncMax, n-jc)
			npan := (nc + nr - 1) / nr
			for pc, pb := 0, 0; pc < k; pc, pb = pc+kcMax, pb+1 {
				kc := min(kcMax, k-pc)
				bt := beta
				if pc > 0 {
					bt = 1
				}
				bi := jb*pre.npc + pb
				bp := pre.blocks[bi]
				if bi == 0 && t0 == 0 {
					// Nothing prefetched these panels.
					touchLines(bp[:min(len(bp), gemmPreAhead*kc*nr)])
				}
				for q := 0; q < npan; q++ {
					jr := q * nr
					w := min(nr, nc-jr)
					// The panel gemmPreAhead ahead, in this block or the
					// next (whose panels have about as many rows).
					var ahead []float32
					if o := (q + gemmPreAhead) * kc * nr; o < len(bp) {
						ahead = bp[o:min(len(bp), o+kc*nr)]
					} else if bi+1 < len(pre.blocks) {
						nb := pre.blocks[bi+1]
						if o -= len(bp); o < len(nb) {
							ahead = nb[o:min(len(nb), o+kc*nr)]
						}
					}
					lines := (len(ahead) + 15) / 16
					per := (lines + t1 - t0 - 1) / (t1 - t0)
					for t := t0; t < t1; t++ {
						ir, rows := tile(t)
						lo := min(lines, (t-t0)*per)
						hi := min(lines, lo+per)
						var pf *float32
						if hi > lo {
							pf = &ahead[lo*16]
						}
						ap, cp := &a[ir*lda+pc], &c[ir*ldc+jc+jr]
						if w == nr {
							frozenMicro(kr, rows, kc, hi-lo)(kc, ap, 4*lda, &bp[q*kc*nr], 4*nr, cp, 4*ldc, alpha, bt, w, pf, hi-lo)
							continue
						}
						if pf != nil {
							kr.prefetch(pf, 0, 1, 64*(hi-lo))
						}
						edge(rows, w)(kc, ap, 4*lda, &bp[q*kc*nr], 4*nr, cp, 4*ldc, alpha, bt, w)
					}
				}
			}
			if epi.fn != nil {
				for t := t0; t < t1; t++ {
					ir, rows := tile(t)
					epi.fn(epi.roff+ir, epi.roff+ir+rows, epi.coff+jc, epi.coff+jc+nc)
				}
			}
		}
	}
}
