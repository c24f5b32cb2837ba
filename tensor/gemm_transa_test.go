package tensor

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// gemmTransposedParts counts the blocks of tc's cut for t threads (B
// frozen as pre, or not) and those whose gemmEpi runs on A's transpose (as
// gemmProduct.part cuts them).
func gemmTransposedParts(kr *gemmKernel, tc gemmCase, lda, t int, pre *gemmPacked) (parts, transposed int) {
	p := gemmProduct{kr: kr, transA: true, transB: tc.transB, m: tc.m, n: tc.n, k: tc.k, pre: pre}
	p.plan(t)
	for lo := 0; lo < p.size; lo += p.grain {
		w := min(p.grain, p.size-lo)
		m, n := tc.m, tc.n
		switch p.cut {
		case gemmCols:
			n = w
		case gemmRows:
			m = w
		}
		parts++
		if kr.transposeA(m, n, tc.k, lda) {
			transposed++
		}
	}
	return parts, transposed
}

// TestGemmTransposeAPaths: products that run on A's transpose at depths
// below and off a multiple of 8 (packT8's partial rows), heights off a
// multiple of mr, a padded A, split by columns and by rows with every part
// (or all but a short last one) transposing, with an epilogue and with a
// frozen B (which now takes gemmPre) are bitwise those from A's column
// panels, and correct against gonum.
func TestGemmTransposeAPaths(t *testing.T) {
	defer func(off bool) { gemmTransposeOff = off }(gemmTransposeOff)
	defer SetThreads(Threads())
	defer func(f float64) { gemmParMinFlops = f }(gemmParMinFlops)
	gemmParMinFlops = 1
	ran := false
	for _, kr := range gemmKernelList {
		if !kr.transA {
			continue
		}
		ran = true
		for _, c := range []struct {
			tc      gemmCase
			threads int
		}{
			{gemmCase{transA: true, m: 128, n: 256, k: 1, alpha: 1, beta: 0}, 1},
			{gemmCase{transA: true, m: 13, n: 300, k: 5, alpha: 0.5, beta: 0.3, padA: 115}, 1},
			{gemmCase{transA: true, m: 131, n: 257, k: 9, alpha: -1, beta: 1, padA: 125, padC: 2}, 1},
			{gemmCase{transA: true, m: 12, n: 129, k: 263, alpha: 1, beta: 0.5, padA: 500}, 1},
			{gemmCase{transA: true, transB: true, m: 37, n: 271, k: 7, alpha: 2, beta: 0, padA: 91, padB: 3}, 1},
			// split by columns, every part 256 wide
			{gemmCase{transA: true, m: 128, n: 1024, k: 33, alpha: 1, beta: 0.25}, 2},
			{gemmCase{transA: true, transB: true, m: 100, n: 1030, k: 20, alpha: 1, beta: 0, padA: 28, padB: 1}, 2},
			// split by rows
			{gemmCase{transA: true, m: 512, n: 131, k: 3, alpha: -1, beta: 0.25, padC: 3}, 2},
			{gemmCase{transA: true, m: 500, n: 200, k: 70, alpha: 0.5, beta: 1, padA: 12}, 2},
		} {
			tc := c.tc
			SetThreads(c.threads)
			checkGemm(t, rand.New(rand.NewPCG(21, uint64(tc.k))), kr, tc)
			for _, frozenB := range []bool{false, true} {
				a, lda, b, ldb, c0, ldc := gemmOperands(rand.New(rand.NewPCG(22, uint64(tc.m))), tc)
				var pre *gemmPacked
				if frozenB {
					pre = newGemmPacked(kr, tc.transB, tc.k, tc.n, b, ldb)
				}
				gemmTransposeOff = false
				if parts, tr := gemmTransposedParts(kr, tc, lda, c.threads, pre); tr == 0 || tr < parts-1 {
					t.Fatalf("%s %v frozen %v, %d threads: %d of %d parts transpose A", kr.name, tc, frozenB, c.threads, tr, parts)
				}
				run := func(off bool) (c, seen []float32) {
					gemmTransposeOff = off
					c = slices.Clone(c0)
					seen = make([]float32, len(c))
					count := make([]int, len(c))
					epi := func(r0, r1, j0, j1 int) {
						for i := r0; i < r1; i++ {
							for j := j0; j < j1; j++ {
								seen[i*ldc+j] = c[i*ldc+j]
								count[i*ldc+j]++
							}
						}
					}
					gemmRunEpi(kr, true, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc, epi, pre)
					for i := range c {
						if i%ldc < tc.n && count[i] != 1 {
							t.Fatalf("%s %v frozen %v off %v: epilogue passed C[%d] %d times", kr.name, tc, frozenB, off, i, count[i])
						}
					}
					return c, seen
				}
				got, seen := run(false)
				want, _ := run(true)
				for i := range got {
					if i%ldc >= tc.n {
						continue
					}
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) || math.Float32bits(seen[i]) != math.Float32bits(got[i]) {
						t.Fatalf("%s %v frozen %v, %d threads: C[%d] = %v transposed (epilogue saw %v), %v from column panels", kr.name, tc, frozenB, c.threads, i, got[i], seen[i], want[i])
					}
				}
			}
		}
		// The bounds TestGemmTransposeABitwise leaves out: lda 512 needs
		// n ≥ 128, and the copy of A is at most gemmTransposeMax floats.
		gemmTransposeOff = false
		for _, c := range [][4]int{{512, 127, 768, 512}, {1024, 512, 1025, 1024}} {
			if kr.transposeA(c[0], c[1], c[2], c[3]) {
				t.Errorf("%s: transposeA(m %d, n %d, k %d, lda %d) = true", kr.name, c[0], c[1], c[2], c[3])
			}
		}
		if !kr.transposeA(1024, 512, 1024, 1024) {
			t.Errorf("%s: transposeA declines a copy of exactly gemmTransposeMax floats", kr.name)
		}
	}
	if !ran {
		t.Skip("no kernel on this CPU transposes A (the AVX2 kernel does)")
	}
}
