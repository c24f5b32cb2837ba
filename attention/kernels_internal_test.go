package attention

import (
	"math"
	"testing"

	"github.com/attnlab/attnlab/tensor"
)

// The additive kernels compute tanh in float32 (tensor.AddTanhDot): within
// a few float32 roundings of the float64 sums.
func TestAdditivePair(t *testing.T) {
	q := []float32{-9, -3, -0.5, 0, 1e-5, 0.7, 2, 8.5, 0.3, -1.2}
	k := []float32{0.5, 1, -0.2, 0, 0, 0.1, -4, 1, 0.25, 0.4}
	v := []float32{1, -2, 3, 0.5, 4, -1, 2, 0.25, -0.5, 1.5}
	var want, scale float64
	for i := range q {
		th := math.Tanh(float64(q[i] + k[i]))
		want += float64(v[i]) * th
		scale += math.Abs(float64(v[i]) * th)
	}
	if got := tensor.AddTanhDot(q, k, v); math.Abs(float64(got)-want) > 1e-6*scale {
		t.Fatalf("AddTanhDot = %v, want %v", got, want)
	}
	dq, dk, dv := make([]float32, len(q)), make([]float32, len(q)), make([]float32, len(q))
	tensor.AddTanhDotGrad(q, k, v, 0.5, dq, dk, dv)
	for i := range q {
		th := math.Tanh(float64(q[i] + k[i]))
		wq := 0.5 * float64(v[i]) * (1 - th*th)
		if math.Abs(float64(dv[i])-0.5*th) > 1e-7 || math.Abs(float64(dq[i])-wq) > 1e-6*math.Abs(float64(v[i])) || dk[i] != dq[i] {
			t.Fatalf("AddTanhDotGrad at %d: dq %v dk %v dv %v, want dq %v dv %v", i, dq[i], dk[i], dv[i], wq, 0.5*th)
		}
	}
}

// TestSoftmaxBwdRow: the softmax-backward row (AVX-512 kernel and Go loop)
// is ds = p ⊙ (g − g·p) within float32 rounding of the float64 sums, at
// lengths with and without a tail, in place (ds = g) and not.
func TestSoftmaxBwdRow(t *testing.T) {
	defer func(on bool) { linearAVX512 = on }(linearAVX512)
	rng := tensor.NewRNG(5)
	have := linearAVX512
	for _, simd := range []bool{false, true} {
		if simd && !have {
			t.Log("no AVX-512 on this CPU: only the Go loop is tested")
			continue
		}
		linearAVX512 = simd
		for _, n := range []int{1, 7, 16, 17, 31, 32, 33, 48, 64, 100} {
			p := rng.Uniform(tensor.New(n), 0, 1).Data
			g := rng.Normal(tensor.New(n), 0, 1).Data
			var dot, scale float64
			for j := range p {
				dot += float64(p[j]) * float64(g[j])
				scale += math.Abs(float64(p[j]) * float64(g[j]))
			}
			for _, inPlace := range []bool{false, true} {
				gg := append([]float32(nil), g...)
				ds := make([]float32, n+1) // one more: must stay untouched
				ds[n] = 42
				if inPlace {
					ds = gg
				}
				softmaxBwdRow(ds, gg, p)
				for j := 0; j < n; j++ {
					want := float64(p[j]) * (float64(g[j]) - dot)
					if math.Abs(float64(ds[j])-want) > 1e-6*(1+scale)*float64(p[j])+1e-7 {
						t.Fatalf("simd %v n=%d in place %v, %d: %g, want %g", simd, n, inPlace, j, ds[j], want)
					}
				}
				if !inPlace && ds[n] != 42 {
					t.Fatalf("simd %v n=%d: wrote past the row", simd, n)
				}
			}
		}
	}
}

// TestKeyPaddingMaskRow: maskRow's shortcut for key-padding masks (kept
// prefix, then dropped keys) masks exactly what the element-by-element
// reading masks, at every query, offset and band; masks of other forms
// take the element-by-element path.
func TestKeyPaddingMaskRow(t *testing.T) {
	const b, tq, tk = 3, 5, 9
	m := tensor.New(b, 1, tk)
	for j := 0; j < tk; j++ {
		m.Set(1, 0, 0, j)                      // keeps everything
		m.Set(float32(b2f(j < 4)), 1, 0, j)    // keeps 4
		m.Set(float32(b2f(j%2 == 0)), 2, 0, j) // not a prefix
	}
	for _, causal := range []bool{false, true} {
		for _, band := range []bool{false, true} {
			mv := newMaskView("test", m, b, tq, tk)
			if mv.prefix == nil || mv.prefix[0] != tk || mv.prefix[1] != 4 || mv.prefix[2] != -1 {
				t.Fatalf("prefix %v", mv.prefix)
			}
			mv.causal, mv.band, mv.left, mv.right = causal, band, 2, 1
			slow := mv
			slow.prefix = nil
			for bb := 0; bb < b; bb++ {
				for i := 0; i < tq; i++ {
					for j0 := 0; j0 < tk; j0 += 3 {
						x, y := make([]float32, tk-j0), make([]float32, tk-j0)
						mv.maskRow(x, bb, i, j0)
						slow.maskRow(y, bb, i, j0)
						for j := range x {
							if x[j] != y[j] {
								t.Fatalf("causal %v band %v b=%d i=%d j0=%d: %v, want %v", causal, band, bb, i, j0, x, y)
							}
						}
					}
				}
			}
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// TestSoftmaxRowKernel: the one-call AVX-512 softmax row gives bitwise the
// values of tensor.MaxSlice, ExpShiftSum and ScaleSlice in turn (the Go
// path), at lengths with and without a tail, with masked (−Inf) entries,
// and zeros for a row with nothing kept.
func TestSoftmaxRowKernel(t *testing.T) {
	if !linearAVX512 {
		t.Skip("no AVX-512 on this CPU: the Go path is the only one")
	}
	defer func(on bool) { linearAVX512 = on }(linearAVX512)
	rng := tensor.NewRNG(6)
	ninf := float32(math.Inf(-1))
	for _, n := range []int{1, 5, 16, 17, 31, 32, 33, 47, 64, 65, 100, 257} {
		for _, masked := range []string{"none", "some", "all"} {
			x := rng.Normal(tensor.New(n), 0, 4).Data
			for j := range x {
				if masked == "all" || (masked == "some" && j%3 == 1) {
					x[j] = ninf
				}
			}
			got, want := append([]float32(nil), x...), append([]float32(nil), x...)
			linearAVX512 = true
			softmaxRow(got)
			linearAVX512 = false
			softmaxRow(want)
			for j := range got {
				if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
					t.Fatalf("n=%d masked %s, %d: kernel %g, Go %g", n, masked, j, got[j], want[j])
				}
			}
		}
	}
}
