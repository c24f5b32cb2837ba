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

// TestLinearKernelsSIMD: the AVX-512 kernels of the elementwise passes
// give the Go loops' results (φ and φ' exactly; the fused multiply-adds
// within float32 rounding), on lengths with and without a tail.
func TestLinearKernelsSIMD(t *testing.T) {
	if !linearAVX512 {
		t.Skip("no AVX-512 on this CPU: the Go loops are the only kernels")
	}
	defer func(on bool) { linearAVX512 = on }(linearAVX512)
	rng := tensor.NewRNG(3)
	for _, n := range []int{16, 35, 64, 128} {
		x := rng.Normal(tensor.New(n), 0, 2).Data
		x[0], x[1], x[n-1] = 0, float32(math.Copysign(0, -1)), 100
		g, add, o := rng.Normal(tensor.New(n), 0, 1).Data, rng.Normal(tensor.New(n), 0, 1).Data, rng.Normal(tensor.New(n), 0, 1).Data
		run := func(simd bool) (y, d, y2, dst []float32) {
			linearAVX512 = simd
			y, d, y2, dst = make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
			eluRow(y, d, x)
			eluRow(y2, nil, x)
			y3, z := make([]float32, n), append([]float32(nil), o...)
			eluRowSum(y3, z, x)
			for i := range z {
				if y3[i] != y[i] || z[i] != o[i]+y[i] {
					t.Fatalf("simd %v, n=%d, x=%g: eluRowSum φ %g, z %g; want %g, %g", simd, n, x[i], y3[i], z[i], y[i], o[i]+y[i])
				}
			}
			copy(dst, o)
			eluGradRow(dst, g, add, y)
			return
		}
		y, d, y2, dst := run(true)
		wy, wd, _, wdst := run(false)
		for i := range x {
			if y[i] != wy[i] || d[i] != wd[i] || y2[i] != wy[i] || !close32(dst[i], wdst[i]) {
				t.Fatalf("n=%d, x=%g: SIMD φ %g (%g) φ' %g grad %g; Go %g, %g, %g", n, x[i], y[i], y2[i], d[i], dst[i], wy[i], wd[i], wdst[i])
			}
		}
	}
	// One head of the non-causal q gradient: SIMD against the formula.
	linearAVX512 = true
	for _, n := range []int{16, 32} {
		v := func() []float32 { return rng.Normal(tensor.New(n), 0, 1).Data }
		gi, oi, fq, dz, df, z, dq, gq := v(), v(), v(), v(), v(), v(), v(), v()
		wantDz, wantGq := append([]float32(nil), dz...), append([]float32(nil), gq...)
		const inv = 0.37
		var c float32
		for i := range gi {
			c += gi[i] * oi[i]
		}
		for i := range fq {
			wantDz[i] -= c * fq[i]
			wantGq[i] += (df[i] - c*z[i]) * inv * dq[i]
		}
		if !qGradSIMD(gi, oi, fq, dz, df, z, dq, gq, inv) {
			t.Fatalf("n=%d: qGradSIMD declined", n)
		}
		for i := range dz {
			if math.Abs(float64(dz[i]-wantDz[i])) > 1e-5 || math.Abs(float64(gq[i]-wantGq[i])) > 1e-5 {
				t.Fatalf("n=%d, %d: dz %g gq %g, want %g %g", n, i, dz[i], gq[i], wantDz[i], wantGq[i])
			}
		}
	}
	if qGradSIMD(make([]float32, 8), nil, make([]float32, 16), nil, nil, nil, nil, nil, 1) {
		t.Fatal("qGradSIMD took value and feature sizes that differ")
	}
}

// TestDsRowSIMD: chunked attention's softmax-backward row kernel gives the
// Go loop's values exactly (the same subtract then multiply), with and
// without a tail.
func TestDsRowSIMD(t *testing.T) {
	if !linearAVX512 {
		t.Skip("no AVX-512 on this CPU: the Go loop is the only kernel")
	}
	defer func(on bool) { linearAVX512 = on }(linearAVX512)
	rng := tensor.NewRNG(4)
	for _, n := range []int{16, 37, 64, 200} {
		p, s0 := rng.Uniform(tensor.New(n), 0, 1).Data, rng.Normal(tensor.New(n), 0, 1).Data
		var got, want []float32
		for _, simd := range []bool{true, false} {
			linearAVX512 = simd
			s := append([]float32(nil), s0...)
			dsRow(s, p, 0.3)
			if simd {
				got = s
			} else {
				want = s
			}
		}
		for i := range got {
			if got[i] != want[i] || want[i] != p[i]*(s0[i]-0.3) {
				t.Fatalf("n=%d, %d: SIMD %g, Go %g", n, i, got[i], want[i])
			}
		}
	}
}
