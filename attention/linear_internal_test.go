package attention

import (
	"math"
	"testing"

	"github.com/attnlab/attnlab/tensor"
)

// TestEluRow: φ = elu + 1 and φ' from the branch-free kernel equal the
// definition (x + 1 and 1 for x > 0, eˣ and eˣ otherwise) at signed zeros,
// tiny, large and overflowing inputs, and the gradient row applies φ'.
func TestEluRow(t *testing.T) {
	x := []float32{0, float32(math.Copysign(0, -1)), 1e-30, -1e-30, 0.5, -0.5, 3, -3, 50, -50, 100, -100, 1e30, -1e30}
	y, d := make([]float32, len(x)), make([]float32, len(x))
	eluRow(y, d, x)
	y2 := make([]float32, len(x))
	eluRow(y2, nil, x)
	for i, v := range x {
		wantY, wantD := float32(math.Exp(float64(v))), float32(math.Exp(float64(v)))
		if v > 0 {
			wantY, wantD = v+1, 1
		}
		if !close32(y[i], wantY) || !close32(d[i], wantD) || y2[i] != y[i] {
			t.Errorf("x = %g: φ = %g (without φ': %g), φ' = %g; want %g, %g", v, y[i], y2[i], d[i], wantY, wantD)
		}
	}
	g := make([]float32, len(x))
	add := make([]float32, len(x))
	for i := range g {
		g[i], add[i] = float32(i+1), 0.5
	}
	dst := make([]float32, len(x))
	eluGradRow(dst, g, add, y)
	for i := range dst {
		if want := (g[i] + add[i]) * d[i]; !close32(dst[i], want) {
			t.Errorf("x = %g: gradient %g, want %g", x[i], dst[i], want)
		}
	}
}

func close32(a, b float32) bool {
	return a == b || math.Abs(float64(a-b)) <= 1e-6*math.Abs(float64(b))
}

// linearKernel is one implementation of linear attention's elementwise
// passes, as the switches that select it.
type linearKernel struct {
	name         string
	avx512, avx2 bool
}

func (k linearKernel) use() { linearAVX512, linearAVX2 = k.avx512, k.avx2 }

// linearGo selects the Go loops.
var linearGo = linearKernel{name: "go"}

// linearKernelsSIMD lists the SIMD kernels this CPU runs: AVX2+FMA (also
// on a CPU with AVX-512, which then runs both) and AVX-512.
func linearKernelsSIMD() []linearKernel {
	var l []linearKernel
	if hasLinearAVX2 {
		l = append(l, linearKernel{name: "avx2", avx2: true})
	}
	if hasLinearAVX512 {
		l = append(l, linearKernel{name: "avx512", avx512: true, avx2: hasLinearAVX2})
	}
	return l
}

// The CPU's kernels, as selected at start-up (tests switch them).
var hasLinearAVX512, hasLinearAVX2 = linearAVX512, linearAVX2

// TestEluNaNSign: every kernel chooses φ's side on x's sign bit, so a NaN
// with the sign bit clear takes the x+1 side (φ' = 1) and one with it set
// the eˣ side (NaN), as the Go loop does. The AVX-512 kernels compared x
// > 0 as floats (false for any NaN) and gave φ' = NaN for both: a dead
// query row's gradient (0 · φ') was NaN with AVX-512 alone.
func TestEluNaNSign(t *testing.T) {
	defer func(a, b bool) { linearAVX512, linearAVX2 = a, b }(linearAVX512, linearAVX2)
	pos, neg := math.Float32frombits(0x7fc00000), math.Float32frombits(0xffc00000)
	for _, k := range append([]linearKernel{linearGo}, linearKernelsSIMD()...) {
		k.use()
		for _, n := range []int{16, 32} {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(i%5) - 2
			}
			x[3], x[n-2] = pos, neg
			y, d, y2, z := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
			eluRow(y, d, x)
			eluRow(y2, nil, x)
			y3 := make([]float32, n)
			eluRowSum(y3, z, x)
			if d[3] != 1 || !math.IsNaN(float64(y[3])) || !math.IsNaN(float64(y2[3])) || !math.IsNaN(float64(y3[3])) {
				t.Errorf("%s, n=%d: x = +NaN gives φ %v (%v, %v) φ' %v; want NaN and φ' 1", k.name, n, y[3], y2[3], y3[3], d[3])
			}
			if !math.IsNaN(float64(d[n-2])) || !math.IsNaN(float64(y[n-2])) {
				t.Errorf("%s, n=%d: x = −NaN gives φ %v φ' %v; want NaN and NaN", k.name, n, y[n-2], d[n-2])
			}
		}
	}
}

// TestLinearKernelsSIMD: each SIMD kernel of the elementwise passes
// (AVX2+FMA, AVX-512) gives the Go loops' results (φ and φ' exactly; the
// fused multiply-adds within float32 rounding of their terms) and the
// other SIMD kernel's bitwise, on lengths with and without a tail,
// writing nothing past the row.
func TestLinearKernelsSIMD(t *testing.T) {
	kernels := linearKernelsSIMD()
	if len(kernels) == 0 {
		t.Skip("no AVX2+FMA or AVX-512 on this CPU: the Go loops are the only kernels")
	}
	defer func(a, b bool) { linearAVX512, linearAVX2 = a, b }(linearAVX512, linearAVX2)
	const guard = 42
	// row returns n values followed by 8 guards, as a slice of n.
	row := func(n int) []float32 {
		s := make([]float32, n+8)
		for i := n; i < len(s); i++ {
			s[i] = guard
		}
		return s[:n]
	}
	untouched := func(s []float32) bool {
		for _, v := range s[len(s):cap(s)] {
			if v != guard {
				return false
			}
		}
		return true
	}
	rng := tensor.NewRNG(3)
	for _, n := range []int{8, 16, 24, 35, 64, 128} {
		x := rng.Normal(tensor.New(n), 0, 2).Data
		x[0], x[1], x[n-1] = 0, float32(math.Copysign(0, -1)), 100
		g, add, o := rng.Normal(tensor.New(n), 0, 1).Data, rng.Normal(tensor.New(n), 0, 1).Data, rng.Normal(tensor.New(n), 0, 1).Data
		run := func(k linearKernel) (y, d, y2, dst []float32) {
			k.use()
			y, d, y2, dst = row(n), row(n), row(n), row(n)
			eluRow(y, d, x)
			eluRow(y2, nil, x)
			y3, z := row(n), row(n)
			copy(z, o)
			eluRowSum(y3, z, x)
			for i := range z {
				if y3[i] != y[i] || z[i] != o[i]+y[i] {
					t.Fatalf("%s, n=%d, x=%g: eluRowSum φ %g, z %g; want %g, %g", k.name, n, x[i], y3[i], z[i], y[i], o[i]+y[i])
				}
			}
			copy(dst, o)
			eluGradRow(dst, g, add, y)
			for _, s := range [][]float32{y, d, y2, y3, z, dst} {
				if !untouched(s) {
					t.Fatalf("%s, n=%d: a kernel wrote past the row", k.name, n)
				}
			}
			return
		}
		wy, wd, _, wdst := run(linearGo)
		var first []float32 // the first SIMD kernel's gradient row
		for _, k := range kernels {
			y, d, y2, dst := run(k)
			for i := range x {
				// The kernels fuse dst + (g+add)·φ' (one rounding), the Go
				// loop does not: within float32 rounding of the terms.
				terms := math.Abs(float64(o[i])) + math.Abs(float64((g[i]+add[i])*wd[i]))
				if y[i] != wy[i] || d[i] != wd[i] || y2[i] != wy[i] || math.Abs(float64(dst[i]-wdst[i])) > 1e-6*terms {
					t.Fatalf("%s, n=%d, x=%g: SIMD φ %g (%g) φ' %g grad %g; Go %g, %g, %g", k.name, n, x[i], y[i], y2[i], d[i], dst[i], wy[i], wd[i], wdst[i])
				}
				if first != nil && math.Float32bits(dst[i]) != math.Float32bits(first[i]) {
					t.Fatalf("%s, n=%d, x=%g: grad %g, %s %g (want bitwise equal)", k.name, n, x[i], dst[i], kernels[0].name, first[i])
				}
			}
			if first == nil {
				first = dst
			}
		}
	}
	// One head of the non-causal q gradient: each SIMD kernel against the
	// formula, and the kernels bitwise against one another.
	for _, n := range []int{16, 32, 48} {
		v := func() []float32 { return rng.Normal(tensor.New(n), 0, 1).Data }
		gi, oi, fq, dz0, df, z, dq, gq0 := v(), v(), v(), v(), v(), v(), v(), v()
		wantDz, wantGq := append([]float32(nil), dz0...), append([]float32(nil), gq0...)
		const inv = 0.37
		var c float32
		for i := range gi {
			c += gi[i] * oi[i]
		}
		for i := range fq {
			wantDz[i] -= c * fq[i]
			wantGq[i] += (df[i] - c*z[i]) * inv * dq[i]
		}
		var firstDz, firstGq []float32
		for _, k := range kernels {
			k.use()
			dz, gq := row(n), row(n)
			copy(dz, dz0)
			copy(gq, gq0)
			if !qGradSIMD(gi, oi, fq, dz, df, z, dq, gq, inv) {
				t.Fatalf("%s, n=%d: qGradSIMD declined", k.name, n)
			}
			if !untouched(dz) || !untouched(gq) {
				t.Fatalf("%s, n=%d: qGrad wrote past the row", k.name, n)
			}
			for i := range dz {
				if math.Abs(float64(dz[i]-wantDz[i])) > 1e-5 || math.Abs(float64(gq[i]-wantGq[i])) > 1e-5 {
					t.Fatalf("%s, n=%d, %d: dz %g gq %g, want %g %g", k.name, n, i, dz[i], gq[i], wantDz[i], wantGq[i])
				}
				if firstDz != nil && (math.Float32bits(dz[i]) != math.Float32bits(firstDz[i]) || math.Float32bits(gq[i]) != math.Float32bits(firstGq[i])) {
					t.Fatalf("%s, n=%d, %d: dz %g gq %g, %s %g %g (want bitwise equal)", k.name, n, i, dz[i], gq[i], kernels[0].name, firstDz[i], firstGq[i])
				}
			}
			if firstDz == nil {
				firstDz, firstGq = dz, gq
			}
		}
		if qGradSIMD(make([]float32, 8), nil, make([]float32, 16), nil, nil, nil, nil, nil, 1) {
			t.Fatalf("%s: qGradSIMD took value and feature sizes that differ", kernels[len(kernels)-1].name)
		}
	}
	linearGo.use()
	if r := make([]float32, 16); qGradSIMD(r, r, r, r, r, r, r, r, 1) {
		t.Fatal("qGradSIMD ran with every kernel switched off")
	}
}

// TestDsRowSIMD: chunked attention's softmax-backward row kernel, each
// SIMD variant this CPU has (AVX2, AVX-512), gives the Go loop's values
// exactly (the same subtract then multiply), with and without a tail,
// writing nothing past the row.
func TestDsRowSIMD(t *testing.T) {
	kernels := linearKernelsSIMD()
	if len(kernels) == 0 {
		t.Skip("no AVX2+FMA or AVX-512 on this CPU: the Go loop is the only kernel")
	}
	defer func(a, b bool) { linearAVX512, linearAVX2 = a, b }(linearAVX512, linearAVX2)
	rng := tensor.NewRNG(4)
	for _, n := range []int{8, 15, 16, 37, 64, 200} {
		p, s0 := rng.Uniform(tensor.New(n), 0, 1).Data, rng.Normal(tensor.New(n), 0, 1).Data
		for _, k := range kernels {
			k.use()
			s := make([]float32, n+8)
			copy(s, s0)
			for i := n; i < len(s); i++ {
				s[i] = 42
			}
			lanes := map[bool]int{false: 8, true: 16}[k.avx512]
			if done := dsRowSIMD(append([]float32(nil), s0...), p, 0.3); done != n/lanes*lanes {
				t.Fatalf("%s, n=%d: the kernel did %d values, want %d", k.name, n, done, n/lanes*lanes)
			}
			dsRow(s[:n], p, 0.3)
			linearGo.use()
			want := append([]float32(nil), s0...)
			dsRow(want, p, 0.3)
			for i := range want {
				if s[i] != want[i] || want[i] != p[i]*(s0[i]-0.3) {
					t.Fatalf("%s, n=%d, %d: SIMD %g, Go %g", k.name, n, i, s[i], want[i])
				}
			}
			for _, g := range s[n:] {
				if g != 42 {
					t.Fatalf("%s, n=%d: wrote past the row", k.name, n)
				}
			}
		}
	}
}
