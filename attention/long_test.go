package attention_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/tensor"
)

// bandMask returns the keep-mask [1,Tq,Tk] of sliding-window attention:
// keys i−w+1 … i (causal) or i−⌊(w−1)/2⌋ … i+⌈(w−1)/2⌉.
func bandMask(tq, tk, w int, causal bool) *tensor.Tensor {
	m := tensor.New(1, tq, tk)
	left, right := w-1, 0
	if !causal {
		left = (w - 1) / 2
		right = w - 1 - left
	}
	for i := 0; i < tq; i++ {
		for j := max(0, i-left); j <= min(tk-1, i+right); j++ {
			m.Set(1, 0, i, j)
		}
	}
	return m
}

// TestSlidingWindowIsBandedDense: sliding-window equals the dense
// attention of its score under the band as an explicit mask, in value and
// gradient, for the flash path (dot scores, several tile sizes) and the
// pair path (additive), causal and not, with key padding and 3 heads.
func TestSlidingWindowIsBandedDense(t *testing.T) {
	for _, tc := range []struct {
		score string
		block int
	}{{"scaled-dot", 4}, {"scaled-dot", 64}, {"general", 3}, {"additive", 0}} {
		for _, w := range []int{1, 4, 7} {
			for _, causal := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/block=%d/w=%d/causal=%v", tc.score, tc.block, w, causal), func(t *testing.T) {
					d := attention.Dims{Query: 4, Key: 4, Value: 3, Heads: 3, Causal: causal}
					params := map[string]any{"window": w, "score": map[string]any{"name": tc.score}}
					if tc.block > 0 {
						params["block"] = tc.block
					}
					sw, err := attention.New("sliding-window", params, d)
					if err != nil {
						t.Fatal(err)
					}
					attention.Init(sw, tensor.NewRNG(2))
					dense, err := attention.New(tc.score, nil, d)
					if err != nil {
						t.Fatal(err)
					}
					leaves := shareParams(t, sw, dense)
					const n = 13
					rng := tensor.NewRNG(uint64(w))
					q, k, v := randn(rng, true, 2, n, 12), randn(rng, true, 2, n, 12), randn(rng, true, 2, n, 9)
					leaves["q"], leaves["k"], leaves["v"] = q, k, v
					pad := attention.KeyPaddingMask([]int{n, 9}, n)
					compareGrads(t, 1e-5, leaves, func() []*tensor.Tensor {
						c, _ := sw.Attend(q, k, v, pad)
						return []*tensor.Tensor{c}
					}, func() []*tensor.Tensor {
						c, _ := dense.Attend(q, k, v, attention.CombineMasks(pad, bandMask(n, n, w, causal)))
						return []*tensor.Tensor{c}
					})
				})
			}
		}
	}
}

// favorRef computes Performer's features with tensor ops:
// exp(x̃ ωᵀ − ‖x̃‖²/2)/√m, x̃ = x/d^(1/4), for one head [B,T,d].
func favorRef(x, w *tensor.Tensor) *tensor.Tensor {
	m, d := w.Dim(0), w.Dim(1)
	xs := tensor.Scale(x, float32(math.Pow(float64(d), -0.25)))
	u := tensor.MatMulT(xs, w, false, true)
	half := tensor.Scale(tensor.Sum(tensor.Mul(xs, xs), -1, true), 0.5)
	return tensor.Scale(tensor.Exp(tensor.Sub(u, half)), float32(1/math.Sqrt(float64(m))))
}

// TestPerformerMatchesFormula: with its features fixed, Performer equals
// context_i = Σ_j a_ij v_j, a_ij = keep_ij φ(q_i)·φ(k_j) / Σ_j keep_ij
// φ(q_i)·φ(k_j), built densely, in value and gradient.
func TestPerformerMatchesFormula(t *testing.T) {
	d := attention.Dims{Query: 4, Key: 4, Value: 3}
	for _, causal := range []bool{false, true} {
		t.Run(fmt.Sprintf("causal=%v", causal), func(t *testing.T) {
			d.Causal = causal
			a, err := attention.New("performer", map[string]any{"features": 6}, d)
			if err != nil {
				t.Fatal(err)
			}
			attention.Init(a, tensor.NewRNG(5))
			w := a.(*attention.Performer).Features()
			const n = 7
			rng := tensor.NewRNG(6)
			q, k, v := randn(rng, true, 2, n, 4), randn(rng, true, 2, n, 4), randn(rng, true, 2, n, 3)
			pad := attention.KeyPaddingMask([]int{n, 4}, n)
			mask := pad
			if causal {
				mask = attention.CombineMasks(pad, attention.CausalMask(n))
			}
			compareGrads(t, 1e-5, map[string]*tensor.Tensor{"q": q, "k": k, "v": v}, func() []*tensor.Tensor {
				c, _ := a.Attend(q, k, v, pad)
				return []*tensor.Tensor{c}
			}, func() []*tensor.Tensor {
				sim := tensor.Mul(tensor.MatMulT(favorRef(q, w), favorRef(k, w), false, true), mask)
				return []*tensor.Tensor{tensor.MatMul(tensor.Div(sim, tensor.Sum(sim, -1, true)), v)}
			})
		})
	}
}

// TestPerformerApproximatesSoftmax: with many features the FAVOR+
// estimate is close to scaled-dot attention (the paper's unbiasedness).
func TestPerformerApproximatesSoftmax(t *testing.T) {
	d := attention.Dims{Query: 4, Key: 4, Value: 3}
	p, err := attention.New("performer", map[string]any{"features": 4096}, d)
	if err != nil {
		t.Fatal(err)
	}
	attention.Init(p, tensor.NewRNG(8))
	ref, _ := attention.New("scaled-dot", nil, d)
	rng := tensor.NewRNG(9)
	q, k, v := randn(rng, false, 2, 5, 4), randn(rng, false, 2, 6, 4), randn(rng, false, 2, 6, 3)
	got, _ := p.Attend(q, k, v, nil)
	want, _ := ref.Attend(q, k, v, nil)
	if dd := maxAbsDiff(got.Data, want.Data); dd > 0.02 {
		t.Fatalf("performer with 4096 features differs from softmax attention by %.3g", dd)
	}
}

// TestPerformerRedraw: in training mode the features change every redraw
// calls, in evaluation mode never; the same seed gives the same draws.
func TestPerformerRedraw(t *testing.T) {
	a, err := attention.New("performer", map[string]any{"features": 4, "redraw": 2}, attention.Dims{Query: 4, Key: 4, Value: 4})
	if err != nil {
		t.Fatal(err)
	}
	p := a.(*attention.Performer)
	attention.Init(a, tensor.NewRNG(1))
	x := randn(tensor.NewRNG(2), false, 1, 3, 4)
	first := append([]float32(nil), p.Features().Data...)
	p.Attend(x, x, x, nil) // evaluation mode: no redraw
	p.Attend(x, x, x, nil)
	p.Attend(x, x, x, nil)
	if maxAbsDiff(first, p.Features().Data) != 0 {
		t.Fatal("features changed in evaluation mode")
	}
	p.SetTraining(true)
	p.Attend(x, x, x, nil)
	p.Attend(x, x, x, nil)
	if maxAbsDiff(first, p.Features().Data) != 0 {
		t.Fatal("features changed before the redraw interval")
	}
	p.Attend(x, x, x, nil)
	if maxAbsDiff(first, p.Features().Data) == 0 {
		t.Fatal("features not redrawn after the interval")
	}
	// Orthogonal blocks: rows of a block are orthogonal.
	w := p.Features()
	var dot float64
	for j := 0; j < 4; j++ {
		dot += float64(w.At(0, j) * w.At(1, j))
	}
	if math.Abs(dot) > 1e-4 {
		t.Fatalf("rows 0 and 1 of a block have dot product %v, want 0", dot)
	}
}
