package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// forEachVMath runs f once per slice-kernel implementation this machine
// runs (pure Go always, then AVX2 and AVX-512 where available). It swaps
// the package-wide choice (vmathUse), so a test calling it must not call
// t.Parallel: Go runs sequential tests before the parallel ones resume,
// and a parallel test would race with every other parallel test reading
// the choice (go test -race reported it).
func forEachVMath(t *testing.T, f func(t *testing.T)) {
	saved := vmathUse
	defer func() { vmathUse = saved }()
	for _, impl := range vmathAvailable() {
		vmathUse = impl
		t.Run(impl.String(), f)
	}
}

// TestVMathUsesBest: the slice kernels run the best implementation this
// CPU has (the last of vmathAvailable), so an AVX2 machine without AVX-512
// runs the AVX2 kernels and not the Go loops the other tests also run.
func TestVMathUsesBest(t *testing.T) {
	l := vmathAvailable()
	if got, want := vmathUse, l[len(l)-1]; got != want {
		t.Fatalf("vmathUse = %v, want %v (available: %v)", got, want, l)
	}
}

type vmathFunc struct {
	name   string
	slice  func(dst, x []float32)
	ref    func(float64) float64
	maxULP float64
}

func sigmoid64(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

var vmathFuncs = []vmathFunc{
	{"exp", ExpSlice, math.Exp, 1},
	{"tanh", TanhSlice, math.Tanh, 2},
	{"sigmoid", SigmoidSlice, sigmoid64, 2},
}

// vmathInputs returns float32 inputs covering the functions' ranges: a
// dense grid over [lo, hi] and every 499th float32 bit pattern (all
// magnitudes, subnormals, both signs, infinities and NaNs).
func vmathInputs(lo, hi float64) []float32 {
	var xs []float32
	const n = 400000
	for i := 0; i <= n; i++ {
		xs = append(xs, float32(lo+(hi-lo)*float64(i)/n))
	}
	for b := uint64(0); b < 1<<32; b += 499 {
		xs = append(xs, math.Float32frombits(uint32(b)))
	}
	return xs
}

// ulpErr returns got's distance in float32 ulps from the float64 value
// want (how many float32 steps got is from float32(want), plus the fraction
// by which want itself is off that grid).
func ulpErr(got float32, want float64) float64 {
	w := float32(want)
	if math.IsNaN(want) {
		if got != got {
			return 0
		}
		return math.Inf(1)
	}
	if got == w {
		return 0
	}
	return ulpDiff(got, w)
}

func TestVMathAccuracy(t *testing.T) {
	ranges := map[string][2]float64{
		"exp":     {-104, 89},
		"tanh":    {-10, 10},
		"sigmoid": {-105, 40},
	}
	forEachVMath(t, func(t *testing.T) {
		for _, f := range vmathFuncs {
			r := ranges[f.name]
			xs := vmathInputs(r[0], r[1])
			got := make([]float32, len(xs))
			f.slice(got, xs)
			worst, at := 0.0, float32(0)
			for i, x := range xs {
				if d := ulpErr(got[i], f.ref(float64(x))); d > worst {
					worst, at = d, x
				}
			}
			t.Logf("%s: worst %v ulp at %v", f.name, worst, at)
			if worst > f.maxULP {
				t.Errorf("%s: %v ulp off at x = %v (%v, want %v)", f.name, worst, at, got[slices.Index(xs, at)], float32(f.ref(float64(at))))
			}
		}
	})
}

// TestVMathSpecial checks exact results at infinities, NaN, signed zeros,
// huge and tiny inputs.
func TestVMathSpecial(t *testing.T) {
	inf := float32(math.Inf(1))
	negZero := float32(math.Copysign(0, -1))
	xs := []float32{inf, -inf, 0, negZero, 1e30, -1e30, math.MaxFloat32, -math.MaxFloat32,
		1000, -1000, 89, 88.72283, 88.7229, -103.97, -104, -150, 1e-30, -1e-30,
		1e-40, -1e-40, math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, 0.625, -0.625, 9.5, -9.5, 20, -20}
	forEachVMath(t, func(t *testing.T) {
		for _, f := range vmathFuncs {
			got := make([]float32, len(xs))
			f.slice(got, xs)
			for i, x := range xs {
				want := float32(f.ref(float64(x)))
				if ulpErr(got[i], f.ref(float64(x))) > f.maxULP || (want == 0 || math.IsInf(float64(want), 0) || x == 0) && math.Float32bits(got[i]) != math.Float32bits(want) {
					t.Errorf("%s(%v) = %v, want %v", f.name, x, got[i], want)
				}
			}
			nan := []float32{float32(math.NaN()), -float32(math.NaN())}
			f.slice(nan, nan)
			if nan[0] == nan[0] || nan[1] == nan[1] {
				t.Errorf("%s(NaN) = %v", f.name, nan)
			}
		}
	})
}

// TestVMathLayout checks that every element's result is the same whatever
// the slice's length and alignment, and that nothing past len(x) is written.
func TestVMathLayout(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 200
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 8)
	}
	x[7], x[50], x[99] = float32(math.NaN()), float32(math.Inf(-1)), float32(math.Inf(1))
	gelu := func(dst, x []float32) { GELUSlice(dst, nil, x) }
	geluT := func(dst, x []float32) { GELUSlice(make([]float32, len(x)), dst, x) }
	fns := map[string]func(dst, x []float32){"exp": ExpSlice, "tanh": TanhSlice, "sigmoid": SigmoidSlice, "gelu": gelu, "geluT": geluT,
		"expShift": func(dst, x []float32) { ExpShiftSum(dst, x, 1.5) }}
	const sentinel = 12345.5
	forEachVMath(t, func(t *testing.T) {
		for name, f := range fns {
			full := make([]float32, n)
			f(full, x)
			for off := 0; off < 17; off++ {
				for ln := 0; off+ln <= n && ln < 70; ln++ {
					dst := make([]float32, n+1)
					for i := range dst {
						dst[i] = sentinel
					}
					f(dst[off:off+ln], x[off:off+ln])
					for i := range dst {
						want := float32(sentinel)
						if i >= off && i < off+ln {
							want = full[i]
						}
						if math.Float32bits(dst[i]) != math.Float32bits(want) && !(dst[i] != dst[i] && want != want) {
							t.Fatalf("%s off %d len %d: element %d = %v, want %v", name, off, ln, i, dst[i], want)
						}
					}
				}
			}
			// In place.
			y := slices.Clone(x)
			f(y, y)
			for i := range y {
				if math.Float32bits(y[i]) != math.Float32bits(full[i]) && !(y[i] != y[i] && full[i] != full[i]) {
					t.Fatalf("%s in place: element %d = %v, want %v", name, i, y[i], full[i])
				}
			}
		}
	})
}

// geluRef returns GELU's tanh approximation at x and the s = ½(1 + tanh u)
// that GELUSlice saves, as σ(2u) (accurate where 1 + tanh u cancels).
func geluRef(x float64) (y, s float64) {
	u := geluC * (x + 0.044715*x*x*x)
	s = 1 / (1 + math.Exp(-2*u))
	return 0.5 * x * (1 + math.Tanh(u)), s
}

func TestVMathGELU(t *testing.T) {
	xs := vmathInputs(-12, 12)
	forEachVMath(t, func(t *testing.T) {
		y := make([]float32, len(xs))
		th := make([]float32, len(xs))
		GELUSlice(y, th, xs)
		y2 := make([]float32, len(xs))
		GELUSlice(y2, nil, xs)
		const u = 1.0 / (1 << 24)
		for i, x := range xs {
			if math.Float32bits(y[i]) != math.Float32bits(y2[i]) && !(y[i] != y[i] && y2[i] != y2[i]) {
				t.Fatalf("GELU(%v): %v with t, %v without", x, y[i], y2[i])
			}
			if math.IsInf(float64(x), 0) || math.Abs(float64(x)) > 1e12 {
				continue // x³ overflows: NaN or ±Inf·0 as in the formula
			}
			wy, wt := geluRef(float64(x))
			if x != x {
				if y[i] == y[i] || th[i] == th[i] {
					t.Fatalf("GELU(NaN) = %v, %v", y[i], th[i])
				}
				continue
			}
			// s = σ(z), z = 2u: within 3 ulp of σ of the float32 z, whose
			// rounding (a few ulp of |z|, from x + 0.044715·x³) moves σ by
			// s(1 − s)·Δz: 1e-5 relative where s is 1e-32.
			z := 2 * geluC * (float64(x) + 0.044715*float64(x)*float64(x)*float64(x))
			tol := 3*u*wt + 8*u*wt*(1-wt)*math.Abs(z) + 1e-44
			if d := math.Abs(float64(th[i]) - wt); d > tol {
				t.Fatalf("GELU s(%v) = %v, want %v (off %g > %g)", x, th[i], wt, d, tol)
			}
			// y = x·s inherits s's absolute error times |x|.
			tol = 4*u*math.Abs(wy) + 2*u*math.Abs(float64(x)) + 1e-44
			if d := math.Abs(float64(y[i]) - wy); d > tol {
				t.Fatalf("GELU(%v) = %v, want %v (off %g > %g)", x, y[i], wy, d, tol)
			}
		}
	})
}

func TestVMathGELUGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	n := 1000
	x, th, gy, gx := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 3)
		gy[i] = float32(rng.NormFloat64())
		gx[i] = float32(rng.NormFloat64())
	}
	GELUSlice(make([]float32, n), th, x)
	forEachVMath(t, func(t *testing.T) {
		for _, ln := range []int{1, 7, 16, 33, n} {
			got := slices.Clone(gx)
			geluGradAcc(got[:ln], gy, x[:ln], th)
			// The writing kernel gives what adding into zeros gives (but
			// for the sign of a zero: 0 + −0 is +0).
			set, zeroAcc := slices.Clone(gx), make([]float32, ln)
			geluGradSet(set[:ln], gy, x[:ln], th)
			geluGradAcc(zeroAcc, gy, x[:ln], th)
			for i := range set {
				want := gx[i]
				if i < ln {
					want = zeroAcc[i]
				}
				if set[i] != want && !(set[i] != set[i] && want != want) {
					t.Fatalf("len %d: geluGradSet gx[%d] = %v, want %v", ln, i, set[i], want)
				}
			}
			for i := range got {
				want := float64(gx[i])
				if i < ln {
					// GELU' in the tanh form, from tanh u = 2s − 1.
					v, tt := float64(x[i]), 2*float64(th[i])-1
					du := geluC * (1 + 3*0.044715*v*v)
					want += float64(gy[i]) * (0.5*(1+tt) + 0.5*v*(1-tt*tt)*du)
				}
				scale := math.Abs(float64(gx[i])) + math.Abs(float64(gy[i]))*(1+math.Abs(float64(x[i])))
				if d := math.Abs(float64(got[i]) - want); d > 1e-6*scale {
					t.Fatalf("len %d: gx[%d] = %v, want %v", ln, i, got[i], want)
				}
			}
		}
	})
}

// TestVMathGELUGradLarge: where x is so large that s saturated (1 or 0) but
// x² is finite, GELU'(x) is s, 1 or 0, in every implementation: x·2u'
// overflows from |x| ≈ 1.2e13, so x·2u'·s(1 − s) must multiply s(1 − s) = 0
// into 2u' before x (Inf·0 would be NaN), as the kernels do. Beyond, where
// x² overflows, the implementations agree (NaN).
func TestVMathGELUGradLarge(t *testing.T) {
	var x []float32
	for _, v := range []float32{1.2e13, 2e13, 1e15, 1e18, 1e19} {
		x = append(x, v, -v)
	}
	n := len(x)
	huge := []float32{1.9e19, -1.9e19, 4e19, -4e19, 1e30, -1e30}
	var hugeGo []float32
	forEachVMath(t, func(t *testing.T) {
		hs := make([]float32, len(huge))
		GELUSlice(make([]float32, len(huge)), hs, huge)
		hg := make([]float32, len(huge))
		geluGradSet(hg, slices.Repeat([]float32{1}, len(huge)), huge, hs)
		if hugeGo == nil {
			hugeGo = hg // the Go loop runs first
		}
		for i, v := range huge {
			if math.Float32bits(hg[i]) != math.Float32bits(hugeGo[i]) && !(hg[i] != hg[i] && hugeGo[i] != hugeGo[i]) {
				t.Errorf("x = %v: GELU' = %v, the Go loop's %v", v, hg[i], hugeGo[i])
			}
		}
		s := make([]float32, n)
		GELUSlice(make([]float32, n), s, x)
		gy := make([]float32, n)
		for i := range gy {
			gy[i] = 1
		}
		set, acc := make([]float32, n), make([]float32, n)
		geluGradSet(set, gy, x, s)
		geluGradAcc(acc, gy, x, s)
		for i, v := range x {
			want := float32(0)
			if v > 0 {
				want = 1
			}
			if s[i] != want || set[i] != want || acc[i] != want {
				t.Errorf("x = %v: s = %v, GELU' = %v (set), %v (acc), want %v", v, s[i], set[i], acc[i], want)
			}
		}
	})
}

func TestVMathSoftmaxParts(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	forEachVMath(t, func(t *testing.T) {
		for _, n := range []int{1, 2, 5, 15, 16, 17, 31, 35, 64, 65, 100, 1000} {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(rng.NormFloat64() * 5)
			}
			m := MaxSlice(x)
			if want := slices.Max(x); m != want {
				t.Fatalf("n %d: MaxSlice = %v, want %v", n, m, want)
			}
			e := make([]float32, n)
			s := ExpShiftSum(e, x, m)
			var ws float64
			for i, v := range x {
				if d := ulpErr(e[i], math.Exp(float64(v-m))); d > 1 {
					t.Fatalf("n %d: exp(%v) = %v (%v ulp)", n, v-m, e[i], d)
				}
				ws += float64(e[i])
			}
			if math.Abs(s-ws) > 1e-13*ws {
				t.Fatalf("n %d: sum %v, want %v", n, s, ws)
			}
			p := make([]float32, n)
			SoftmaxSlice(p, x)
			for i, v := range x {
				want := math.Exp(float64(v-m)) / ws
				if d := ulpErr(p[i], want); d > 3 {
					t.Fatalf("n %d: softmax[%d] = %v, want %v (%v ulp)", n, i, p[i], want, d)
				}
			}
			c := slices.Clone(x)
			ScaleSlice(c, 0.5)
			for i := range c {
				if c[i] != x[i]*0.5 {
					t.Fatalf("ScaleSlice: %v, want %v", c[i], x[i]*0.5)
				}
			}
		}
		// NaNs are ignored by MaxSlice; empty and all-NaN give −Inf.
		nan := float32(math.NaN())
		for _, tc := range []struct {
			x    []float32
			want float32
		}{
			{nil, float32(math.Inf(-1))},
			{[]float32{nan}, float32(math.Inf(-1))},
			{[]float32{nan, -3, nan, 2, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, 1}, 2},
			{[]float32{float32(math.Inf(-1)), -5}, -5},
		} {
			if got := MaxSlice(tc.x); got != tc.want {
				t.Errorf("MaxSlice(%v) = %v, want %v", tc.x, got, tc.want)
			}
		}
	})
}

func TestVMathAddTanhDot(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	forEachVMath(t, func(t *testing.T) {
		for _, n := range []int{1, 3, 8, 16, 17, 40, 128, 300} {
			q, k, v := make([]float32, n), make([]float32, n), make([]float32, n)
			for i := range q {
				q[i] = float32(rng.NormFloat64() * 2)
				k[i] = float32(rng.NormFloat64() * 2)
				v[i] = float32(rng.NormFloat64())
			}
			var want, scale float64
			for i := range q {
				th := math.Tanh(float64(q[i] + k[i]))
				want += float64(v[i]) * th
				scale += math.Abs(float64(v[i]) * th)
			}
			got := AddTanhDot(q, k, v)
			if d := math.Abs(float64(got) - want); d > float64(n+4)*1e-7*scale {
				t.Fatalf("n %d: AddTanhDot = %v, want %v", n, got, want)
			}
			g := float32(0.7)
			dq, dk, dv := make([]float32, n), make([]float32, n), make([]float32, n)
			for i := range dq {
				dq[i], dk[i], dv[i] = float32(i), -float32(i), 0.5
			}
			dq2, dv2 := slices.Clone(dq), slices.Clone(dv)
			AddTanhDotGrad(q, k, v, g, dq, dk, dv)
			AddTanhDotGrad(q, k, v, g, dq2, nil, dv2)
			for i := range q {
				th := math.Tanh(float64(q[i] + k[i]))
				d := float64(g) * float64(v[i]) * (1 - th*th)
				check := func(what string, got float32, want float64) {
					if e := math.Abs(float64(got) - want); e > 4e-7*(math.Abs(want)+float64(i)+1) {
						t.Fatalf("n %d: %s[%d] = %v, want %v", n, what, i, got, want)
					}
				}
				check("dq", dq[i], float64(i)+d)
				check("dk", dk[i], -float64(i)+d)
				check("dv", dv[i], 0.5+float64(g)*th)
				if dq2[i] != dq[i] || dv2[i] != dv[i] {
					t.Fatalf("n %d: nil dk changes dq or dv at %d", n, i)
				}
			}
		}
	})
}

func TestVMathPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"ExpSlice":    func() { ExpSlice(make([]float32, 2), make([]float32, 3)) },
		"GELUSlice":   func() { GELUSlice(make([]float32, 3), make([]float32, 2), make([]float32, 3)) },
		"AddTanhDot":  func() { AddTanhDot(make([]float32, 3), make([]float32, 3), make([]float32, 2)) },
		"SoftmaxRow":  func() { SoftmaxSlice(make([]float32, 1), make([]float32, 3)) },
		"ExpShiftSum": func() { ExpShiftSum(nil, make([]float32, 3), 0) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic on a short slice", name)
				}
			}()
			f()
		}()
	}
}

// BenchmarkVMath times each slice kernel per implementation ("go" is the
// scalar functions of fastmath.go in a loop; "float64" rounds math's
// float64 function, as the layers and attention code did before).
func BenchmarkVMath(b *testing.B) {
	saved := vmathUse
	defer func() { vmathUse = saved }()
	rng := rand.New(rand.NewPCG(1, 2))
	type kern struct {
		name string
		run  func(dst, t, x, y []float32)
		f64  func(float64) float64
	}
	dk, dv := make([]float32, 4096), make([]float32, 4096)
	kerns := []kern{
		{"exp", func(d, _, x, _ []float32) { ExpSlice(d, x) }, math.Exp},
		{"tanh", func(d, _, x, _ []float32) { TanhSlice(d, x) }, math.Tanh},
		{"sigmoid", func(d, _, x, _ []float32) { SigmoidSlice(d, x) }, sigmoid64},
		{"gelu", func(d, t, x, _ []float32) { GELUSlice(d, t, x) }, nil},
		{"geluGrad", func(d, t, x, y []float32) { geluGradAcc(d, y, x, t) }, nil},
		{"softmax", func(d, _, x, _ []float32) { SoftmaxSlice(d, x) }, nil},
		{"addTanhDot", func(_, t, x, y []float32) { AddTanhDot(x, y, t) }, nil},
		{"addTanhDotGrad", func(d, t, x, y []float32) { AddTanhDotGrad(x, y, t, 0.5, d, dk, dv) }, nil},
	}
	for _, k := range kerns {
		for _, n := range []int{128, 4096} {
			x, y, t, d := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
			for i := range x {
				x[i] = float32(rng.NormFloat64() * 3)
				y[i] = float32(rng.NormFloat64() * 3)
				t[i] = float32(rng.NormFloat64() * 0.3)
			}
			impls := []string{}
			if k.f64 != nil {
				impls = append(impls, "float64")
			}
			for _, impl := range vmathAvailable() {
				impls = append(impls, impl.String())
			}
			for _, impl := range impls {
				b.Run(fmt.Sprintf("%s/%s/n=%d", k.name, impl, n), func(b *testing.B) {
					run := func() { k.run(d, t, x, y) }
					if impl == "float64" {
						run = func() {
							for i, v := range x {
								d[i] = float32(k.f64(float64(v)))
							}
						}
					} else {
						for _, v := range vmathAvailable() {
							if v.String() == impl {
								vmathUse = v
							}
						}
					}
					b.ReportAllocs()
					for b.Loop() {
						run()
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/elem")
				})
			}
			vmathUse = saved
		}
	}
}
