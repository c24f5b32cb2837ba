package tensor

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestLayerNormKernels checks LayerNorm's forward and backward row
// kernels, every implementation, against the formulas in float64, for row
// lengths around the vector width (tails), with and without gamma and
// beta, and with only some inputs requiring gradients.
func TestLayerNormKernels(t *testing.T) {
	forEachVMath(t, func(t *testing.T) {
		for _, d := range []int{1, 3, 15, 16, 17, 40, 128, 130} {
			for _, affine := range []bool{true, false} {
				t.Run(fmt.Sprintf("d%d/affine=%v", d, affine), func(t *testing.T) {
					rng := NewRNG(uint64(d))
					const rows = 3
					x := rng.Uniform(New(rows, d), -2, 3).SetRequiresGrad(true)
					var gamma, beta *Tensor
					if affine {
						gamma = rng.Uniform(New(d), 0.5, 1.5).SetRequiresGrad(true)
						beta = rng.Uniform(New(d), -1, 1).SetRequiresGrad(true)
					}
					const eps = 1e-5
					y := LayerNorm(x, gamma, beta, eps)
					gy := rng.Uniform(New(rows, d), -1, 1).Data
					BackwardFrom([]*Tensor{y}, [][]float32{gy})
					gg, gb := make([]float64, d), make([]float64, d)
					for r := 0; r < rows; r++ {
						xs := x.Data[r*d : (r+1)*d]
						var mu, v float64
						for _, a := range xs {
							mu += float64(a)
						}
						mu /= float64(d)
						for _, a := range xs {
							v += (float64(a) - mu) * (float64(a) - mu)
						}
						rs := 1 / math.Sqrt(v/float64(d)+eps)
						h := make([]float64, d)
						dh := make([]float64, d)
						var s1, s2 float64
						for i, a := range xs {
							h[i] = (float64(a) - mu) * rs
							g, b := 1.0, 0.0
							if affine {
								g, b = float64(gamma.Data[i]), float64(beta.Data[i])
							}
							if w := h[i]*g + b; math.Abs(float64(y.Data[r*d+i])-w) > 1e-5*(1+math.Abs(w)) {
								t.Fatalf("y[%d,%d] = %v, want %v", r, i, y.Data[r*d+i], w)
							}
							dh[i] = float64(gy[r*d+i]) * g
							s1 += dh[i]
							s2 += dh[i] * h[i]
							gg[i] += float64(gy[r*d+i]) * h[i]
							gb[i] += float64(gy[r*d+i])
						}
						for i := range xs {
							w := rs * (dh[i] - s1/float64(d) - h[i]*s2/float64(d))
							if got := float64(x.Grad[r*d+i]); math.Abs(got-w) > 1e-4*(1+math.Abs(w)) {
								t.Fatalf("dx[%d,%d] = %v, want %v", r, i, got, w)
							}
						}
					}
					if affine {
						for i := 0; i < d; i++ {
							if math.Abs(float64(gamma.Grad[i])-gg[i]) > 1e-4*(1+math.Abs(gg[i])) || math.Abs(float64(beta.Grad[i])-gb[i]) > 1e-4*(1+math.Abs(gb[i])) {
								t.Fatalf("dgamma, dbeta[%d] = %v, %v, want %v, %v", i, gamma.Grad[i], beta.Grad[i], gg[i], gb[i])
							}
						}
					}
					Release(y)
					// Only gamma requires gradients: x's go nowhere, gamma's are the same.
					if affine {
						x.SetRequiresGrad(false)
						beta.SetRequiresGrad(false)
						want := append([]float32(nil), gamma.Grad...)
						gamma.ZeroGrad()
						y2 := LayerNorm(x, gamma, beta, eps)
						BackwardFrom([]*Tensor{y2}, [][]float32{gy})
						for i := range want {
							if gamma.Grad[i] != want[i] {
								t.Fatalf("dgamma[%d] alone = %v, with the others %v", i, gamma.Grad[i], want[i])
							}
						}
					}
				})
			}
		}
	})
}

// TestLayerNormBackwardRowSet: the backward row kernel's set form (a new
// gradient buffer, written without being read) gives the values its add
// form gives into zeros, every implementation, with and without a tail,
// and leaves what lies past the row alone.
func TestLayerNormBackwardRowSet(t *testing.T) {
	forEachVMath(t, func(t *testing.T) {
		for _, d := range []int{1, 15, 16, 17, 40, 128, 130} {
			rng := NewRNG(uint64(d) + 100)
			gy, h, gamma := rng.Normal(New(d), 0, 1).Data, rng.Normal(New(d), 0, 1).Data, rng.Normal(New(d), 0, 1).Data
			add, set := make([]float32, d+1), make([]float32, d+1)
			for i := range set {
				set[i] = 7 // garbage the set form must overwrite (and keep past the row)
			}
			ggA, gbA, ggS, gbS := make([]float32, d), make([]float32, d), make([]float32, d), make([]float32, d)
			lnBackwardRow(add[:d], ggA, gbA, gy, h, gamma, 0.7, false)
			lnBackwardRow(set[:d], ggS, gbS, gy, h, gamma, 0.7, true)
			for i := 0; i < d; i++ {
				if set[i] != add[i] || ggS[i] != ggA[i] || gbS[i] != gbA[i] {
					t.Fatalf("d=%d, %d: set gx %g gg %g gb %g, add %g %g %g", d, i, set[i], ggS[i], gbS[i], add[i], ggA[i], gbA[i])
				}
			}
			if set[d] != 7 {
				t.Fatalf("d=%d: the set form wrote past the row", d)
			}
		}
	})
}

// TestAsmVZEROUPPERBeforeRET: in this package's assembly, every RET of a
// function that names a Y or Z register follows a VZEROUPPER (comments and
// labels between them aside). Upper halves left dirty change no value a
// test checks, only the speed of the SSE code that runs next (on Intel
// cores), so a return path that lost its VZEROUPPER (as lnBwd256's shared
// lnb2_ret, reached from three places, could) would go unnoticed.
func TestAsmVZEROUPPERBeforeRET(t *testing.T) {
	files, err := filepath.Glob("*.s")
	if err != nil || len(files) == 0 {
		t.Fatalf("no assembly files: %v", err)
	}
	wide := regexp.MustCompile(`\b[YZ]([0-9]|1[0-9]|2[0-9]|3[01])\b`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		prev, fn, vec := "", "", false
		for i, l := range strings.Split(string(b), "\n") {
			l = strings.TrimSpace(l)
			if j := strings.Index(l, "//"); j >= 0 {
				l = strings.TrimSpace(l[:j])
			}
			if l == "" || strings.HasSuffix(l, ":") {
				continue
			}
			if strings.HasPrefix(l, "TEXT ") {
				fn, vec = l, false
			}
			vec = vec || wide.MatchString(l)
			if l == "RET" && vec && prev != "VZEROUPPER" {
				t.Errorf("%s:%d: %s: RET after %q, not VZEROUPPER", f, i+1, fn, prev)
			}
			prev = l
		}
	}
}
