package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestBlas1Kernels runs every blas1 kernel on every length from 0 to 140
// at several offsets (so that the unrolled loop, the single-vector loop and
// the masked tail all run, aligned and not) against the plain float64
// formula, and checks that elements outside [0, n) are never touched.
func TestBlas1Kernels(t *testing.T) {
	forEachVMath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		const pad = 20
		fill := func(n int) []float32 {
			s := make([]float32, n+2*pad)
			for i := range s {
				s[i] = float32(rng.NormFloat64())
			}
			return s
		}
		for n := 0; n <= 140; n++ {
			for _, off := range []int{0, 1, 5} {
				a, b, d := fill(n), fill(n), fill(n)
				orig := append([]float32(nil), d...)
				sl := func(s []float32) []float32 { return s[pad+off : pad+off+n] }
				check := func(name string, want func(i int) float64, tol float64) {
					t.Helper()
					for i := range d {
						j := i - pad - off
						if j < 0 || j >= n {
							if d[i] != orig[i] {
								t.Fatalf("%s n=%d off=%d: element %d outside the slice changed", name, n, off, j)
							}
							continue
						}
						if w := want(i); math.Abs(float64(d[i])-w) > tol*(1+math.Abs(w)) {
							t.Fatalf("%s n=%d off=%d: [%d] = %v, want %v", name, n, off, j, d[i], w)
						}
					}
					copy(d, orig)
				}
				AddSlice(sl(d), sl(a), sl(b))
				check("AddSlice", func(i int) float64 { return float64(a[i]) + float64(b[i]) }, 1e-7)
				AccSlice(sl(d), sl(a))
				check("AccSlice", func(i int) float64 { return float64(orig[i]) + float64(a[i]) }, 1e-7)
				AxpySlice(sl(d), sl(a), -0.75)
				check("AxpySlice", func(i int) float64 { return float64(orig[i]) - 0.75*float64(a[i]) }, 1e-6)
				reluSlice(sl(d), sl(a))
				check("relu", func(i int) float64 { return math.Max(float64(a[i]), 0) }, 0)
				reluGradAcc(sl(d), sl(a), sl(b))
				check("reluGrad", func(i int) float64 {
					if b[i] > 0 {
						return float64(orig[i]) + float64(a[i])
					}
					return float64(orig[i])
				}, 1e-7)
				reluGradSet(sl(d), sl(a), sl(b))
				check("reluGradSet", func(i int) float64 {
					if b[i] > 0 {
						return float64(a[i])
					}
					return 0
				}, 0)
				var ss float64
				for _, v := range sl(a) {
					ss += float64(v) * float64(v)
				}
				if got := SumSquares(sl(a)); math.Abs(got-ss) > 1e-12*(1+ss) {
					t.Fatalf("SumSquares n=%d = %v, want %v", n, got, ss)
				}
			}
		}
		// ReLU keeps NaN and −0 (every implementation: MAXPS(0, x)) and
		// gives +0 for −Inf.
		x := []float32{float32(math.NaN()), float32(math.Copysign(0, -1)), float32(math.Inf(-1)), 2}
		y := make([]float32, 4)
		reluSlice(y, x)
		if !math.IsNaN(float64(y[0])) || math.Float32bits(y[1]) != 1<<31 || math.Float32bits(y[2]) != 0 || y[3] != 2 {
			t.Fatalf("relu(%v) = %v", x, y)
		}
		// The ReLU op (an elementwise closure, not reluSlice) gives the same bits.
		op := ReLU(FromData(append([]float32(nil), x...), 4)).Data
		for i := range y {
			if math.Float32bits(op[i]) != math.Float32bits(y[i]) {
				t.Fatalf("ReLU op(%v) = %v, reluSlice %v", x, op, y)
			}
		}
	})
}

// TestAdamUpdate compares the one-pass update with the formula in float64,
// for Adam with an L2 term and for AdamW's decoupled decay.
func TestAdamUpdate(t *testing.T) {
	forEachVMath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		for _, n := range []int{1, 15, 16, 17, 64, 100, 1000} {
			for _, h := range []AdamHyper{
				{Beta1: 0.9, Beta2: 0.999, StepSize: 1e-3 / (1 - 0.9), InvBC2: float32(1 / math.Sqrt(1-0.999)), Eps: 1e-8, Decay: 1, L2: 0.01},
				{Beta1: 0.8, Beta2: 0.99, StepSize: 3e-3, InvBC2: 2, Eps: 1e-6, Decay: 1 - 3e-3*0.1, L2: 0},
			} {
				p, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
				for i := range p {
					p[i], g[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
					m[i], v[i] = float32(0.1*rng.NormFloat64()), float32(rng.Float64())
				}
				p0, g0, m0, v0 := append([]float32(nil), p...), append([]float32(nil), g...), append([]float32(nil), m...), append([]float32(nil), v...)
				AdamUpdate(p, g, m, v, h)
				for i := range p {
					gi := float64(g0[i]) + float64(h.L2)*float64(p0[i])
					pi := float64(p0[i]) * float64(h.Decay)
					mi := float64(h.Beta1)*float64(m0[i]) + (1-float64(h.Beta1))*gi
					vi := float64(h.Beta2)*float64(v0[i]) + (1-float64(h.Beta2))*gi*gi
					pi -= float64(h.StepSize) * mi / (math.Sqrt(vi)*float64(h.InvBC2) + float64(h.Eps))
					for _, c := range [][3]float64{{float64(p[i]), pi, 0}, {float64(m[i]), mi, 1}, {float64(v[i]), vi, 2}} {
						if math.Abs(c[0]-c[1]) > 1e-5*(1+math.Abs(c[1])) {
							t.Fatalf("n=%d %+v: element %d (p/m/v %v) = %v, want %v", n, h, i, c[2], c[0], c[1])
						}
					}
					if g[i] != g0[i] {
						t.Fatal("AdamUpdate changed the gradient")
					}
				}
			}
		}
	})
}

// TestSumRows checks sumRows against adding the rows one by one in order,
// bit for bit (the blocked bias sums must not depend on the kernel), for
// widths that run the eight-vector strips, single vectors and the masked
// tail, with rows of a wider stride, and that nothing past the n columns
// of dst is written.
func TestSumRows(t *testing.T) {
	forEachVMath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		for _, rows := range []int{1, 2, 3, 7, 32} {
			for _, n := range []int{1, 5, 15, 16, 17, 127, 128, 129, 200, 257, 512} {
				for _, ld := range []int{n, n + 3} {
					src := make([]float32, (rows-1)*ld+n)
					for i := range src {
						// Magnitudes from 1e-4 to 1e4: any other order of
						// the adds rounds differently somewhere.
						src[i] = float32(rng.NormFloat64() * math.Pow(10, 8*rng.Float64()-4))
					}
					want := make([]float32, n)
					copy(want, src[:n])
					for r := 1; r < rows; r++ {
						for j := range want {
							want[j] += src[r*ld+j]
						}
					}
					got := make([]float32, n+1)
					got[n] = 42
					sumRows(got[:n], src, rows, n, ld)
					for j := range want {
						if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
							t.Fatalf("rows=%d n=%d ld=%d: [%d] = %v, want %v", rows, n, ld, j, got[j], want[j])
						}
					}
					if got[n] != 42 {
						t.Fatalf("rows=%d n=%d ld=%d: wrote past n", rows, n, ld)
					}
				}
			}
		}
	})
}

// BenchmarkBlas1 times the memory-bound kernels per implementation at W4's
// sizes: a gradient accumulation, the Adam update and a sum of squares
// over a feed-forward weight (128×512 floats), and the bias-gradient row
// sums and LayerNorm's forward and backward rows over a batch (768 rows of
// 128).
func BenchmarkBlas1(b *testing.B) {
	saved := vmathUse
	defer func() { vmathUse = saved }()
	const n, rows, d = 128 * 512, 768, 128
	rng := rand.New(rand.NewPCG(7, 8))
	fill := func(k int, lo, hi float64) []float32 {
		s := make([]float32, k)
		for i := range s {
			s[i] = float32(lo + (hi-lo)*rng.Float64())
		}
		return s
	}
	x, y, p, g, m, v := fill(n, -1, 1), fill(n, -1, 1), fill(n, -1, 1), fill(n, -1, 1), fill(n, -0.1, 0.1), fill(n, 0, 1)
	c := [9]float32{0.9, 0.1, 0.999, 0.001, 1e-3, 30, 1e-8, 1, 0}
	lx, ly, lh, gy, gx := fill(rows*d, -2, 3), fill(rows*d, 0, 0), fill(rows*d, 0, 0), fill(rows*d, -1, 1), fill(rows*d, 0, 0)
	gamma, beta, gg, gb, st := fill(d, 0.5, 1.5), fill(d, -1, 1), fill(d, 0, 0), fill(d, 0, 0), fill(2*rows, 0, 0)
	var sink float64
	kerns := []struct {
		name  string
		elems int
		run   func()
	}{
		{"acc", n, func() { vacc(y, x) }},
		{"adam", n, func() { vadam(p, g, m, v, &c) }},
		{"sumsq", n, func() { sink += vsumsq(x) }},
		{"sumRows", rows * d, func() { vsumRows(y, lx, rows, d, d) }},
		{"lnForward", rows * d, func() {
			for r := range rows {
				lnForwardRow(ly[r*d:(r+1)*d], lh[r*d:(r+1)*d], lx[r*d:(r+1)*d], gamma, beta, 1e-5, st[2*r:2*r+2])
			}
		}},
		{"lnBackward", rows * d, func() {
			for r := range rows {
				lnBackwardRow(gx[r*d:(r+1)*d], gg, gb, gy[r*d:(r+1)*d], lh[r*d:(r+1)*d], gamma, st[2*r+1], true)
			}
		}},
	}
	for _, k := range kerns {
		for _, impl := range vmathAvailable() {
			b.Run(k.name+"/"+impl.String(), func(b *testing.B) {
				vmathUse = impl
				b.ReportAllocs()
				for b.Loop() {
					k.run()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(k.elems), "ns/elem")
			})
		}
	}
	vmathUse = saved
	_ = sink
}

// TestBlas1SpecialValues runs the kernels that round as the Go loops do
// (adds, ReLU's gradients) on every combination of NaN, ±Inf, ±0,
// denormals, the largest floats and ±1, and wants the Go loops' result bit
// for bit from every implementation: gx stays −0 where y ≤ 0 or y is NaN,
// the set form gives +0 there, Inf − Inf is NaN, ReLU passes −0 and NaN
// through.
func TestBlas1SpecialValues(t *testing.T) {
	sp := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)),
		math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, math.MaxFloat32, -math.MaxFloat32, 1, -1}
	k := len(sp)
	n := k * k * k // 1331: every unrolled loop and a tail
	a, b, c := make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range a {
		a[i], b[i], c[i] = sp[i%k], sp[i/k%k], sp[i/(k*k)]
	}
	kerns := []struct {
		name string
		run  func(d []float32)
	}{
		{"AddSlice", func(d []float32) { AddSlice(d, a, b) }},
		{"AccSlice", func(d []float32) { copy(d, a); AccSlice(d, b) }},
		{"reluGrad", func(d []float32) { copy(d, a); reluGradAcc(d, b, c) }},
		{"reluGradSet", func(d []float32) { copy(d, a); reluGradSet(d, b, c) }},
		{"relu", func(d []float32) { reluSlice(d, a) }},
	}
	want := make([][]float32, len(kerns))
	saved := vmathUse
	vmathUse = vmathGo
	for i, kr := range kerns {
		want[i] = make([]float32, n)
		kr.run(want[i])
	}
	vmathUse = saved
	forEachVMath(t, func(t *testing.T) {
		for i, kr := range kerns {
			got := make([]float32, n)
			kr.run(got)
			for j := range got {
				if math.Float32bits(got[j]) != math.Float32bits(want[i][j]) {
					t.Fatalf("%s: [%d] (a %v, b %v, c %v) = %v (%#08x), Go loop %v (%#08x)",
						kr.name, j, a[j], b[j], c[j], got[j], math.Float32bits(got[j]), want[i][j], math.Float32bits(want[i][j]))
				}
			}
		}
	})
}
