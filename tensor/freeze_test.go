package tensor

import (
	"fmt"
	"math"
	"runtime"
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

// TestFreezeValuesKeepsGrad: FreezeValues packs as Freeze does but leaves
// gradient tracking alone, nests with Freeze, and restores nothing it did
// not change.
func TestFreezeValuesKeepsGrad(t *testing.T) {
	rng := NewRNG(4)
	w := rng.Uniform(New(300, 520), -1, 1).SetRequiresGrad(true)
	a := rng.Uniform(New(70, 300), -1, 1).Data
	want := make([]float32, 70*520)
	Gemm(false, false, 70, 520, 300, 1, a, 300, w.Data, 520, 0, want, 520)
	restore := FreezeValues(w)
	if !w.RequiresGrad() {
		t.Fatal("FreezeValues turned gradient tracking off")
	}
	got := make([]float32, 70*520)
	Gemm(false, false, 70, 520, 300, 1, a, 300, w.Data, 520, 0, got, 520)
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("frozen product [%d] = %v, want %v", i, got[i], want[i])
		}
	}
	if r := frozen.ranges[&w.Data[0]]; Kernels() != "openblas" && (r == nil || len(r.packs) != 1) {
		t.Fatalf("%v packed copies, want 1", r)
	}
	inner := Freeze(w) // nested: Freeze turns tracking off and back on
	if w.RequiresGrad() {
		t.Fatal("Freeze inside FreezeValues left gradients on")
	}
	inner()
	if !w.RequiresGrad() || frozen.count.Load() != 1 {
		t.Fatal("the inner Freeze's restore changed the outer FreezeValues")
	}
	restore()
	if !w.RequiresGrad() || frozen.count.Load() != 0 {
		t.Fatal("restore left the tensor frozen or without gradients")
	}
	w.SetRequiresGrad(false)
	FreezeValues(w)()
	if w.RequiresGrad() {
		t.Fatal("FreezeValues' restore turned gradient tracking on")
	}
}

// TestFrozenPanelOrderBitwise: gemmPre (products on a frozen weight with
// several row tiles) gives the blocked loop's results bit for bit: full and
// partial panels and blocks, beta 0 and 1, an epilogue (Linear's bias),
// rows 1,040 floats apart as the decoders lay them out; for every kernel
// this CPU runs that has prefetching kernels (AVX-512 and AVX2), with row
// counts that reach each prefetch spacing of each: two tiles (AVX2's 7, 10
// and 12 rows: 4+3, 5+5, 6+6, a line every 2 steps) and more (every 3).
func TestFrozenPanelOrderBitwise(t *testing.T) {
	defer func(off bool, kr *gemmKernel) { gemmPreOff, gemmDefault = off, kr }(gemmPreOff, gemmDefault)
	ran := 0
	for _, kr := range gemmKernelList {
		if !kr.preLoop() {
			continue
		}
		ran++
		t.Run(kr.name, func(t *testing.T) {
			gemmDefault = kr
			testFrozenPanelOrder(t)
		})
	}
	if ran == 0 && runtime.GOARCH == "amd64" && Kernels() != "purego" && Kernels() != "openblas" {
		t.Fatalf("no kernel of %q runs gemmPre", Kernels())
	}
}

func testFrozenPanelOrder(t *testing.T) {
	rng := NewRNG(8)
	w := rng.Uniform(New(600, 1100), -1, 1)
	bias := rng.Uniform(New(1100), -1, 1)
	defer Freeze(w, bias)()
	for _, tc := range []struct{ m, n, k, lda int }{
		{13, 1100, 600, 600}, {64, 1100, 600, 616}, {40, 530, 257, 300}, {25, 48, 31, 31}, {100, 1, 600, 600}, {1000, 70, 300, 300},
		{7, 1100, 600, 600}, {10, 530, 257, 300}, {12, 48, 31, 31},
	} {
		a := rng.Uniform(New(tc.m, tc.lda), -1, 1).Data
		for _, beta := range []float32{0, 1} {
			c0 := rng.Uniform(New(tc.m, tc.n), -1, 1).Data
			var out [2][]float32
			for i, off := range []bool{true, false} {
				gemmPreOff = off
				out[i] = append([]float32(nil), c0...)
				Gemm(false, false, tc.m, tc.n, tc.k, 0.5, a, tc.lda, w.Data, 1100, beta, out[i], tc.n)
			}
			for i := range out[0] {
				if math.Float32bits(out[0][i]) != math.Float32bits(out[1][i]) {
					t.Fatalf("%v beta %v: C[%d] = %v in panel order, %v in the blocked loop", tc, beta, i, out[1][i], out[0][i])
				}
			}
		}
	}
	x := rng.Uniform(New(70, 600), -1, 1)
	var ys [2]*Tensor
	for i, off := range []bool{true, false} {
		gemmPreOff = off
		ys[i] = Linear(x, w, bias)
	}
	for i := range ys[0].Data {
		if math.Float32bits(ys[0].Data[i]) != math.Float32bits(ys[1].Data[i]) {
			t.Fatalf("Linear: y[%d] = %v in panel order, %v in the blocked loop", i, ys[1].Data[i], ys[0].Data[i])
		}
	}
}

// BenchmarkFrozenPanels times products on a frozen weight in panel order
// (gemmPre) and in the blocked loop, alternating (least CPU time per call
// of each): W6's vocabulary products, [64 or 320, 1,024] features (rows
// 1,040 floats apart, as models lays them out) times a 1,024 × 6,000
// weight too large for the caches; its decoder GRU's input projection; its
// encoder's over a batch of sources.
func BenchmarkFrozenPanels(b *testing.B) {
	defer func(off bool) { gemmPreOff = off }(gemmPreOff)
	rng := NewRNG(5)
	for _, tc := range []struct {
		name       string
		m, n, k, l int
	}{{"vocab", 64, 6000, 1024, 1040}, {"vocab", 320, 6000, 1024, 1040}, {"gru-in", 64, 768, 768, 768}, {"enc-in", 1408, 768, 256, 256}} {
		b.Run(fmt.Sprintf("%s/m=%d", tc.name, tc.m), func(b *testing.B) {
			w := rng.Uniform(New(tc.k, tc.n), -1, 1)
			defer Freeze(w)()
			a := rng.Uniform(New(tc.m, tc.l), -1, 1).Data
			c := make([]float32, tc.m*tc.n)
			best := []float64{math.Inf(1), math.Inf(1)}
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			for b.Loop() {
				for i, off := range []bool{false, true} {
					gemmPreOff = off
					t0 := threadCPU()
					Gemm(false, false, tc.m, tc.n, tc.k, 1, a, tc.l, w.Data, tc.n, 0, c, tc.n)
					best[i] = min(best[i], threadCPU()-t0)
				}
			}
			flop := 2 * float64(tc.m*tc.n*tc.k)
			b.ReportMetric(flop/best[0]/1e9, "GFLOP/s-cpu-panel")
			b.ReportMetric(flop/best[1]/1e9, "GFLOP/s-cpu-blocked")
		})
	}
}

// TestFrozenToken: a tensor's token is nil unfrozen, the same through
// nested Freezes, and new after it is unfrozen and frozen again.
func TestFrozenToken(t *testing.T) {
	w := New(4, 4)
	if FrozenToken(w) != nil {
		t.Fatal("an unfrozen tensor has a token")
	}
	restore := Freeze(w)
	a := FrozenToken(w)
	inner := Freeze(w)
	if a == nil || FrozenToken(w) != a {
		t.Fatal("nested Freeze changed the token")
	}
	inner()
	if FrozenToken(w) != a {
		t.Fatal("the inner restore changed the token")
	}
	restore()
	if FrozenToken(w) != nil {
		t.Fatal("a restored tensor has a token")
	}
	defer Freeze(w)()
	if b := FrozenToken(w); b == nil || b == a {
		t.Fatalf("a second Freeze gave token %p, the first %p", b, a)
	}
}
