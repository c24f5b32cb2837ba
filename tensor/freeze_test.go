package tensor

import (
	"testing"
)

// TestFreezeUsesPackedWeights: products reading a frozen tensor as their
// right operand (plain or transposed, the whole tensor or a window of it,
// on one goroutine or two) give the values of the unfrozen product, reuse
// one packed copy, and see new values again once restored.
func TestFreezeUsesPackedWeights(t *testing.T) {
	defer SetThreads(Threads())
	rng := NewRNG(3)
	w := rng.Uniform(New(300, 520), -1, 1).SetRequiresGrad(true)
	for _, threads := range []int{1, 2} {
		SetThreads(threads)
		for _, tc := range []struct {
			name         string
			transB       bool
			m, n, k, off int
			ldb          int
		}{
			{"plain", false, 70, 520, 300, 0, 520},
			{"window", false, 33, 100, 40, 520*5 + 7, 520},
			{"transposed", true, 400, 300, 520, 0, 520},
			{"gemv", false, 1, 520, 300, 0, 520},
		} {
			a := rng.Uniform(New(tc.m, tc.k), -1, 1).Data
			want := make([]float32, tc.m*tc.n)
			Gemm(false, tc.transB, tc.m, tc.n, tc.k, 1, a, tc.k, w.Data[tc.off:], tc.ldb, 0, want, tc.n)
			restore := Freeze(w)
			if w.RequiresGrad() {
				t.Fatal("a frozen tensor requires gradients")
			}
			for rep := 0; rep < 2; rep++ {
				got := make([]float32, tc.m*tc.n)
				Gemm(false, tc.transB, tc.m, tc.n, tc.k, 1, a, tc.k, w.Data[tc.off:], tc.ldb, 0, got, tc.n)
				for i := range got {
					if d := got[i] - want[i]; d > 1e-4 || d < -1e-4 {
						t.Fatalf("threads %d %s: frozen product [%d] = %v, want %v", threads, tc.name, i, got[i], want[i])
					}
				}
			}
			r := frozen.ranges[&w.Data[0]]
			if r == nil || len(r.packs) != 1 {
				t.Fatalf("threads %d %s: %v packed copies, want 1", threads, tc.name, r)
			}
			restore()
			if !w.RequiresGrad() || frozen.count.Load() != 0 {
				t.Fatal("restore left the tensor frozen")
			}
		}
	}
	// After restore, changed values are used.
	a := rng.Uniform(New(64, 300), -1, 1).Data
	restore := Freeze(w)
	inner := Freeze(w) // nested
	c1 := make([]float32, 64*520)
	Gemm(false, false, 64, 520, 300, 1, a, 300, w.Data, 520, 0, c1, 520)
	inner()
	if frozen.count.Load() != 1 {
		t.Fatal("the inner restore unfroze the outer freeze")
	}
	restore()
	w.Data[0] += 1
	c2 := make([]float32, 64*520)
	Gemm(false, false, 64, 520, 300, 1, a, 300, w.Data, 520, 0, c2, 520)
	if d := c2[0] - c1[0] - a[0]; d > 1e-4 || d < -1e-4 {
		t.Fatalf("after restore the product used stale values: %v vs %v", c2[0], c1[0])
	}
}
