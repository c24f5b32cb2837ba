package attention

import (
	"fmt"
	"math"
	"runtime"
	"testing"

	"github.com/attnlab/attnlab/tensor"
)

// eachFlashKernel runs f once for every fused kernel set this CPU has
// (AVX-512, AVX2), with that set chosen, and skips t when it has none.
func eachFlashKernel(t testing.TB, f func(t testing.TB)) {
	var sets []bool // flashUse512
	if flashAVX512 {
		sets = append(sets, true)
	}
	if flashAVX2 {
		sets = append(sets, false)
	}
	if len(sets) == 0 {
		t.Skip("neither AVX-512 nor AVX2: the fused kernel does not run on this CPU")
	}
	defer func(old bool) { flashUse512 = old }(flashUse512)
	for _, use512 := range sets {
		flashUse512 = use512
		name := "avx2"
		if use512 {
			name = "avx512"
		}
		switch t := t.(type) {
		case *testing.T:
			t.Run(name, func(t *testing.T) { f(t) })
		case *testing.B:
			t.Run(name, func(b *testing.B) { f(b) })
		}
	}
}

// TestFlash32MatchesDense: the fused flash kernel for heads of 32 gives
// the context and the gradients of q, k and v of the dense kernel (weights
// requested, P materialised) and of the flash tile loop within 2e-5, for
// lengths that are and are not multiples of its tiles (8 keys, 32
// queries), with and without key padding, a batch row whose keys are all
// masked, queries and keys of different lengths, scores peaked enough
// that the running maximum moves again and again, for chunked and for a
// long dense attention; its context is no further from float64 arithmetic
// than the dense kernel's; and the fused kernel really ran. Each kernel
// set the CPU has (AVX-512, AVX2) is tested.
func TestFlash32MatchesDense(t *testing.T) { eachFlashKernel(t, testFlash32MatchesDense) }

func testFlash32MatchesDense(tb testing.TB) {
	t := tb.(*testing.T)
	for _, tc := range []struct {
		variant string
		tq, tk  int
		mask    string  // "", "pad" (row 1 keeps 2/3 of its keys), "dead" (row 1 keeps none)
		peak    float32 // queries' standard deviation (default 1.5: scores of a few units)
	}{
		{"scaled-dot", 256, 256, "", 0},
		{"scaled-dot", 300, 300, "pad", 0},
		{"scaled-dot", 257, 263, "dead", 0},
		{"chunked", 1, 1, "", 0},
		{"chunked", 7, 7, "pad", 0},
		{"chunked", 33, 40, "", 0},
		{"chunked", 64, 64, "dead", 0},
		{"chunked", 100, 37, "pad", 0},
		{"chunked", 31, 129, "", 0},
		{"chunked", 70, 300, "pad", 8},   // the running maximum passes the lazy shift again and again
		{"scaled-dot", 260, 256, "", 40}, // weights near one-hot
	} {
		t.Run(fmt.Sprintf("%s/%dx%d/%s/%v", tc.variant, tc.tq, tc.tk, tc.mask, tc.peak), func(t *testing.T) {
			const heads, hd, b = 3, 32, 2
			d := Dims{Query: hd, Key: hd, Value: hd, Heads: heads}
			rng := tensor.NewRNG(uint64(tc.tq*1000 + tc.tk))
			sd := tc.peak
			if sd == 0 {
				sd = 1.5
			}
			q := rng.Normal(tensor.New(b, tc.tq, heads*hd), 0, sd).SetRequiresGrad(true)
			k := rng.Normal(tensor.New(b, tc.tk, heads*hd), 0, 1.5).SetRequiresGrad(true)
			v := rng.Normal(tensor.New(b, tc.tk, heads*hd), 0, 1).SetRequiresGrad(true)
			up := rng.Uniform(tensor.New(b, tc.tq, heads*hd), -1, 1).Data
			var mask *tensor.Tensor
			switch tc.mask {
			case "pad":
				mask = KeyPaddingMask([]int{tc.tk, max(1, tc.tk-tc.tk/3)}, tc.tk)
			case "dead":
				mask = KeyPaddingMask([]int{tc.tk, 0}, tc.tk)
			}
			type result struct {
				ctx   []float32
				grads [3][]float32
				op    string
			}
			run := func(variant string, fused, weights bool) result {
				old := flashFusedOn
				flashFusedOn = fused
				defer func() { flashFusedOn = old }()
				a, err := New(variant, nil, d)
				if err != nil {
					t.Fatal(err)
				}
				if weights {
					a.(WeightsOnRequest).RequestWeights(true)
				}
				for _, x := range []*tensor.Tensor{q, k, v} {
					x.ZeroGrad()
				}
				c, _ := a.Attend(q, k, v, mask)
				tensor.BackwardFrom([]*tensor.Tensor{c}, [][]float32{up})
				r := result{ctx: append([]float32(nil), c.Data...), op: c.Op()}
				for i, x := range []*tensor.Tensor{q, k, v} {
					r.grads[i] = append([]float32(nil), x.Grad...)
				}
				return r
			}
			got := run(tc.variant, true, false)
			if got.op != "ChunkedAttention" {
				t.Fatalf("context from %s, want the flash op", got.op)
			}
			dense := run("scaled-dot", false, true)
			// Peaked scores (|s| up to ~100) round differently (the fused
			// kernel scales q first, then takes the dot product): their
			// weights agree only to ~1e-5 relative, so the context is held
			// to float64 arithmetic below instead.
			ctxTol := 2e-5
			if tc.peak > 0 {
				ctxTol = 2e-4
			}
			for name, want := range map[string]result{"the flash tile loop": run(tc.variant, false, false), "the dense kernel": dense} {
				if dd := maxAbsDiff32(got.ctx, want.ctx); dd > ctxTol {
					t.Errorf("context differs from %s by %.3g", name, dd)
				}
				for i, n := range []string{"q", "k", "v"} {
					// Gradients as large as |q| agree to float32 rounding of
					// their size.
					tol := 2e-5 * max(1, maxAbs32(want.grads[i]))
					if dd := maxAbsDiff32(got.grads[i], want.grads[i]); dd > tol {
						t.Errorf("gradient of %s differs from %s by %.3g (max %.3g)", n, name, dd, tol)
					}
				}
			}
			ref := refContext(q, k, v, mask, heads, hd)
			// (Its sums are float32, the dense softmax's float64: a few
			// roundings over a few hundred keys apart.)
			if ef, ed := maxAbsDiff32(got.ctx, ref), maxAbsDiff32(dense.ctx, ref); ef > 1.25*ed+5e-6 {
				t.Errorf("context is %.3g from float64 arithmetic, the dense kernel's %.3g", ef, ed)
			}
			if tc.mask == "dead" {
				for i, x := range got.ctx[tc.tq*heads*hd:] {
					if x != 0 {
						t.Fatalf("fully masked batch row: context[%d] = %v, want 0", i, x)
					}
				}
			}
		})
	}
}

// refContext is scaled dot-product attention in float64 for heads of hd
// under a key mask [B,1,Tk] or [B,Tk] (nil: none); a query with no kept
// key gets 0.
func refContext(q, k, v, mask *tensor.Tensor, heads, hd int) []float32 {
	b, tq, tk := q.Dim(0), q.Dim(1), k.Dim(1)
	ld := heads * hd
	out := make([]float32, b*tq*ld)
	s := make([]float64, tk)
	for bb := 0; bb < b; bb++ {
		for h := 0; h < heads; h++ {
			for i := 0; i < tq; i++ {
				m := math.Inf(-1)
				for j := range s {
					s[j] = math.Inf(-1)
					if mask != nil && mask.Data[bb*tk+j] == 0 {
						continue
					}
					var x float64
					for c := 0; c < hd; c++ {
						x += float64(q.Data[(bb*tq+i)*ld+h*hd+c]) * float64(k.Data[(bb*tk+j)*ld+h*hd+c])
					}
					s[j] = x / math.Sqrt(float64(hd))
					m = max(m, s[j])
				}
				if math.IsInf(m, -1) {
					continue
				}
				var l float64
				for j := range s {
					s[j] = math.Exp(s[j] - m)
					l += s[j]
				}
				for c := 0; c < hd; c++ {
					var o float64
					for j := range s {
						o += s[j] * float64(v.Data[(bb*tk+j)*ld+h*hd+c])
					}
					out[(bb*tq+i)*ld+h*hd+c] = float32(o / l)
				}
			}
		}
	}
	return out
}

func maxAbs32(x []float32) float64 {
	m := 0.0
	for _, v := range x {
		m = max(m, math.Abs(float64(v)))
	}
	return m
}

func maxAbsDiff32(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	worst := 0.0
	for i := range a {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		worst = max(worst, d)
	}
	return worst
}

// BenchmarkFlash32Kernels times the fused kernels on hot operands: one
// query block over 4096 keys (forward), and one key block of 64 over 128
// query blocks (backward); GFLOP/s counts 2 (forward) and 5 (backward)
// products of 2·32 flops per query-key pair.
func BenchmarkFlash32Kernels(b *testing.B) { eachFlashKernel(b, benchFlash32Kernels) }

func benchFlash32Kernels(bb testing.TB) {
	b := bb.(*testing.B)
	const n = 4096
	rng := tensor.NewRNG(1)
	x := rng.Normal(tensor.New(8*n*fq), 0, 1).Data
	ks, vs, qt := x[:n*fq], x[n*fq:2*n*fq], x[2*n*fq:2*n*fq+n*fq]
	b.Run("fwd", func(b *testing.B) {
		ot := make([]float32, fq*fq)
		ml := make([]float32, 2*fq)
		sec := threadCPULoop(b, func() {
			for i := range fq {
				ml[i], ml[fq+i] = -math.MaxFloat32, 0
			}
			flashFwd(&qt[0], &ks[0], &vs[0], n, &ot[0], &ml[0], nil)
		})
		b.ReportMetric(sec*1e9/float64(n/fk), "cpu-ns/tile")
		b.ReportMetric(2*2*32*float64(fq*n)/sec/1e9, "GFLOP/s-cpu")
	})
	b.Run("bwd", func(b *testing.B) {
		dot, qr, dor, dqt := x[3*n*fq:4*n*fq], x[4*n*fq:5*n*fq], x[5*n*fq:6*n*fq], make([]float32, n*fq)
		lsed := make([]float32, 2*n)
		for i := range lsed {
			lsed[i] = 3
		}
		dk, dv, scr := make([]float32, fkb*fq), make([]float32, fkb*fq), make([]float32, fk*fq)
		sec := threadCPULoop(b, func() {
			for qb := 0; qb < n/fq; qb++ {
				o := qb * fq * fq
				flashBwd(&qt[o], &dot[o], &qr[o], &dor[o], &lsed[qb*2*fq], &ks[0], &vs[0], &dk[0], &dv[0], &dqt[o], &scr[0], nil, fkb/fk)
			}
		})
		tiles := float64(n/fq) * fkb / fk
		b.ReportMetric(sec*1e9/tiles, "cpu-ns/tile")
		b.ReportMetric(5*2*32*float64(fkb*n)/sec/1e9, "GFLOP/s-cpu")
	})
}

// threadCPULoop runs f b.N times (b.Loop) on a locked thread and returns
// the least CPU seconds of the thread over a call (on a shared machine
// the least is the call that nothing disturbed).
func threadCPULoop(b *testing.B, f func()) float64 {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	least := math.Inf(1)
	for b.Loop() {
		t0 := threadCPU(b)
		f()
		least = min(least, threadCPU(b)-t0)
	}
	return least
}

// TestFlash32Packed: self-attention over a packed projection through the
// fused kernel, reading q, k and v in place (AttendPacked), gives the
// context and the projection's gradient of attending over its split
// parts, bit for bit, for chunked and for a long scaled-dot attention,
// with key padding and a fully masked batch row; and it did not split.
func TestFlash32Packed(t *testing.T) { eachFlashKernel(t, testFlash32Packed) }

func testFlash32Packed(tb testing.TB) {
	t := tb.(*testing.T)
	const heads, hd = 4, 32
	for _, tc := range []struct {
		variant string
		n       int
	}{{"chunked", 45}, {"scaled-dot", 300}} {
		t.Run(tc.variant, func(t *testing.T) {
			a, err := New(tc.variant, nil, Dims{Query: hd, Key: hd, Value: hd, Heads: heads})
			if err != nil {
				t.Fatal(err)
			}
			rng := tensor.NewRNG(31)
			x := rng.Normal(tensor.New(3, tc.n, 3*heads*hd), 0, 1).SetRequiresGrad(true)
			up := rng.Uniform(tensor.New(3, tc.n, heads*hd), -1, 1).Data
			mask := KeyPaddingMask([]int{tc.n, tc.n - 7, 0}, tc.n)
			run := func(packed bool) ([]float32, []float32, string) {
				x.ZeroGrad()
				var c *tensor.Tensor
				if packed {
					c, _ = AttendPacked(a, x, heads*hd, heads*hd, heads*hd, mask)
				} else {
					c, _ = attendSplit(a, x, heads*hd, heads*hd, heads*hd, mask)
				}
				tensor.BackwardFrom([]*tensor.Tensor{c}, [][]float32{up})
				return append([]float32(nil), c.Data...), append([]float32(nil), x.Grad...), c.Op()
			}
			pc, pg, op := run(true)
			sc, sg, _ := run(false)
			var f *flash
			switch a := a.(type) {
			case *Dense:
				f = packedFlash(&a.base, a.dot, x, heads*hd, heads*hd, heads*hd, mask, flashBlock)
			case *Chunked:
				f = packedFlash(&a.base, a.score, x, heads*hd, heads*hd, heads*hd, mask, a.block)
			}
			if op != "ChunkedAttention" || f == nil {
				t.Fatalf("packed attention ran %s, or would not read qkv in place", op)
			}
			if d := maxAbsDiff32(pc, sc); d != 0 {
				t.Errorf("context differs from the split one by %.3g", d)
			}
			if d := maxAbsDiff32(pg, sg); d != 0 {
				t.Errorf("gradient of qkv differs from the split one by %.3g", d)
			}
		})
	}
}

// TestFlash32NaNKey: a NaN in one key (a diverging run) makes every
// query's context and the gradients of q, k and v NaN through the fused
// kernel, as it does through the dense kernel and the flash tile loop,
// for each kernel set the CPU has; it is not read as a masked row and
// turned into zeros, nor clamped away inside the kernel's exp.
func TestFlash32NaNKey(t *testing.T) { eachFlashKernel(t, testFlash32NaNKey) }

func testFlash32NaNKey(tb testing.TB) {
	t := tb.(*testing.T)
	const hd, n = 32, 40
	a, err := New("chunked", nil, Dims{Query: hd, Key: hd, Value: hd, Heads: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []int{3, 37} { // in the first tile, and in the last (padded) one
		rng := tensor.NewRNG(5)
		q := rng.Normal(tensor.New(1, n, hd), 0, 1).SetRequiresGrad(true)
		k := rng.Normal(tensor.New(1, n, hd), 0, 1).SetRequiresGrad(true)
		v := rng.Normal(tensor.New(1, n, hd), 0, 1).SetRequiresGrad(true)
		k.Data[key*hd+5] = float32(math.NaN())
		c, _ := a.Attend(q, k, v, nil)
		if c.Op() != "ChunkedAttention" {
			t.Fatalf("context from %s, want the flash op", c.Op())
		}
		tensor.BackwardFrom([]*tensor.Tensor{c}, [][]float32{rng.Uniform(tensor.New(1, n, hd), -1, 1).Data})
		for _, x := range []struct {
			name string
			v    []float32
		}{{"context", c.Data}, {"gradient of q", q.Grad}, {"gradient of k", k.Grad}, {"gradient of v", v.Grad}} {
			for i, y := range x.v {
				if !math.IsNaN(float64(y)) {
					t.Fatalf("NaN in key %d: %s[%d] = %v, want NaN", key, x.name, i, y)
				}
			}
		}
	}
}
