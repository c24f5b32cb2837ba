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
		want := make([]float32, m*n)
		Gemm(false, false, m, n, k, 1, a, k, b, n, 0, want, n)
		got := make([]float32, m*n)
		part := make([]float32, m*n)
		for pc := 0; pc < k; pc += kb {
			kc := min(kb, k-pc)
			Gemm(false, false, m, n, kc, 1, a[pc:], k, b[pc*n:], n, 0, part, n)
			if pc == 0 {
				copy(got, part)
			} else {
				AccSlice(got, part)
			}
		}
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("k = %d, blocks of %d: element %d = %v, whole product %v", k, kb, i, got[i], want[i])
			}
		}
	}
}
