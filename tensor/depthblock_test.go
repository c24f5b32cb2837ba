package tensor

import (
	"math"
	"testing"
)

// TestDepthBlock: a product split along its depth at multiples of
// DepthBlock(k), each part a product of its own added to C in order, has
// the whole product's bits (what a decoder sharing a part of its output
// product relies on).
func TestDepthBlock(t *testing.T) {
	if DepthBlock(768) == 0 {
		t.Skipf("kernel %s promises no block order", Kernels())
	}
	rng := NewRNG(1)
	const m, n = 7, 45
	for _, k := range []int{40, 256, 512, 600, 768, 1000} {
		kb := DepthBlock(k)
		if kb <= 0 || kb > k {
			t.Fatalf("DepthBlock(%d) = %d, want in [1, %d]", k, kb, k)
		}
		a, b := make([]float32, m*k), make([]float32, k*n)
		for i := range a {
			a[i] = float32(rng.NormFloat64())
		}
		for i := range b {
			b[i] = float32(rng.NormFloat64())
		}
		want, got := cutAtBlocks(m, n, k, kb, a, b, func(kc int, a, b, c []float32) {
			Gemm(false, false, m, n, kc, 1, a, k, b, n, 0, c, n)
		})
		if i := firstBitsDiff(got, want); i >= 0 {
			t.Fatalf("k = %d, blocks of %d: element %d = %v, whole product %v", k, kb, i, got[i], want[i])
		}
	}
}

// TestDepthBlockEveryPath: the cut of TestDepthBlock keeps the whole
// product's bits on every path a decoder's products take — each blocked
// kernel this CPU runs (AVX-512, AVX2, the Go micro-kernel), on one and
// on two goroutines, with B read or packed at each call and with B frozen
// (packed ahead: gemmPre above mr rows, the blocked loop at or below),
// and with C's rows on other tile edges than the whole product's (the
// shared part has fewer rows). A change of the blocking or of a kernel
// that DepthBlock does not follow fails here, whichever kernel the
// default is.
func TestDepthBlockEveryPath(t *testing.T) {
	if DepthBlock(768) == 0 {
		t.Skipf("kernel %s promises no block order", Kernels())
	}
	defer SetThreads(Threads())
	rng := NewRNG(2)
	const n = 300 // panels of every kernel, and a narrow last one
	for _, kr := range gemmKernelList {
		for _, k := range []int{256, 600, 768, 1000} {
			kb := DepthBlock(k)
			b := make([]float32, k*n)
			for i := range b {
				b[i] = float32(rng.NormFloat64())
			}
			for _, frozen := range []bool{false, true} {
				var restore func()
				if frozen {
					restore = Freeze(FromData(b, k, n))
				}
				for _, threads := range []int{1, 2} {
					SetThreads(threads)
					for _, m := range []int{1, 5, 37} { // below, at and above a tile
						a := make([]float32, m*k)
						for i := range a {
							a[i] = float32(rng.NormFloat64())
						}
						prod := func(kc int, a, b, c []float32) {
							gemmRunEpi(kr, false, false, m, n, kc, 1, a, k, b, n, 0, c, n, nil,
								frozenPack(kr, false, kc, n, b, n))
						}
						want, got := cutAtBlocks(m, n, k, kb, a, b, prod)
						if i := firstBitsDiff(got, want); i >= 0 {
							t.Fatalf("%s, k = %d, blocks of %d, frozen %v, %d threads, %d rows: element %d = %v, whole product %v",
								kr.name, k, kb, frozen, threads, m, i, got[i], want[i])
						}
					}
				}
				if restore != nil {
					if frozenPack(kr, false, k, n, b, n) == nil {
						t.Fatalf("%s: frozen B not packed", kr.name)
					}
					restore()
				}
			}
		}
	}
}

// cutAtBlocks returns the product A·B (m × n, depth k; A's rows k apart,
// B's n) computed whole by prod, and computed as products of depth kb
// (the last takes the rest) added to C in order, as a decoder sharing a
// part of its product does. prod(kc, a, b, c) writes the product of depth
// kc of a and b into c.
func cutAtBlocks(m, n, k, kb int, a, b []float32, prod func(kc int, a, b, c []float32)) (whole, cut []float32) {
	whole = make([]float32, m*n)
	prod(k, a, b, whole)
	cut, part := make([]float32, m*n), make([]float32, m*n)
	for pc := 0; pc < k; pc += kb {
		prod(min(kb, k-pc), a[pc:], b[pc*n:], part)
		if pc == 0 {
			copy(cut, part)
		} else {
			AccSlice(cut, part)
		}
	}
	return whole, cut
}

// firstBitsDiff returns the first index where got and want differ in
// their bits, or −1.
func firstBitsDiff(got, want []float32) int {
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			return i
		}
	}
	return -1
}
