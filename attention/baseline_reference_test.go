package attention_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/tensor"
)

// refMask is a [B,Tq,Tk] keep-mask with key padding (lengths 6 and 3 of
// Tk = 6) and one query (batch 1, query 1) that may attend to nothing.
func refMask(b, tq, tk int, lengths []int) *tensor.Tensor {
	m := tensor.New(b, tq, tk)
	for bb := 0; bb < b; bb++ {
		for i := 0; i < tq; i++ {
			for j := 0; j < lengths[bb]; j++ {
				m.Set(1, bb, i, j)
			}
		}
	}
	for j := 0; j < tk; j++ {
		m.Set(0, 1, 1, j)
	}
	return m
}

// TestLocationFormula checks Luong's location score in float64, written
// out from its definition: weights[b,i,:] = softmax over the kept keys
// j < max_len of (q_i W)[j], context_i = Σ_j weights[b,i,j] v_j; keys at
// j ≥ max_len and masked keys weigh exactly 0, and a query with nothing to
// attend gets zero weights and a zero context. No PyTorch fixture exists
// for this score; the gradient checks only show that its backward matches
// its forward, this that the forward is the formula.
func TestLocationFormula(t *testing.T) {
	const b, tq, tk, maxLen = 2, 3, 6, 4
	d := testDims
	loc, err := attention.New("location", map[string]any{"max_len": maxLen}, d)
	if err != nil {
		t.Fatal(err)
	}
	attention.Init(loc, tensor.NewRNG(5))
	w := loc.Params()[0].Tensor // [Dq, max_len]
	if fmt.Sprint(w.Shape()) != fmt.Sprint([]int{d.Query, maxLen}) {
		t.Fatalf("W has shape %v, want [%d %d]", w.Shape(), d.Query, maxLen)
	}
	rng := tensor.NewRNG(6)
	q, k, v := randn(rng, false, b, tq, d.Query), randn(rng, false, b, tk, d.Key), randn(rng, false, b, tk, d.Value)
	lengths := []int{tk, 3}
	mask := refMask(b, tq, tk, lengths)
	ctx, weights := loc.Attend(q, k, v, mask)
	for bb := 0; bb < b; bb++ {
		for i := 0; i < tq; i++ {
			// Scores of the kept keys that have a position to map to.
			var kept []int
			var s []float64
			for j := 0; j < min(tk, maxLen); j++ {
				if mask.At(bb, i, j) == 0 {
					continue
				}
				var x float64
				for c := 0; c < d.Query; c++ {
					x += float64(q.At(bb, i, c)) * float64(w.At(c, j))
				}
				kept, s = append(kept, j), append(s, x)
			}
			want := make([]float64, tk)
			if len(kept) > 0 {
				mx := math.Inf(-1)
				for _, x := range s {
					mx = math.Max(mx, x)
				}
				var z float64
				for n := range s {
					s[n] = math.Exp(s[n] - mx)
					z += s[n]
				}
				for n, j := range kept {
					want[j] = s[n] / z
				}
			}
			for j := 0; j < tk; j++ {
				if got := float64(weights.At(bb, i, j)); math.Abs(got-want[j]) > 1e-6 || (want[j] == 0 && got != 0) {
					t.Fatalf("weight [%d,%d,%d] = %v, want %v", bb, i, j, got, want[j])
				}
			}
			for c := 0; c < d.Value; c++ {
				var x float64
				for j := 0; j < tk; j++ {
					x += want[j] * float64(v.At(bb, j, c))
				}
				if got := float64(ctx.At(bb, i, c)); math.Abs(got-x) > 1e-6 || (x == 0 && got != 0) {
					t.Fatalf("context [%d,%d,%d] = %v, want %v", bb, i, c, got, x)
				}
			}
		}
	}
}

// TestNoneContexts checks the no-attention baseline's contexts and weights
// from their definitions, for the outputs of a bidirectional encoder
// (Directions 2: forward features first), which the property tests (one
// direction) never use:
//
//	final  [→v at the last kept key ; ←v at the first kept key]
//	mean   the mean of v over the kept keys, weights 1/n on them
//	zero   0, weights 0
//
// A query with nothing to attend gets a zero context and zero weights.
// The gradient with respect to v is checked numerically too.
func TestNoneContexts(t *testing.T) {
	const b, tq, tk, half = 2, 3, 6, 3
	d := attention.Dims{Query: 4, Key: 4, Value: 2 * half, Directions: 2}
	lengths := []int{tk, 3}
	mask := refMask(b, tq, tk, lengths)
	// Batch 0, query 2 keeps only keys 1..3: the first and last kept keys
	// are not the sequence's ends.
	mask.Set(0, 0, 2, 0)
	mask.Set(0, 0, 2, 4)
	mask.Set(0, 0, 2, 5)
	for _, context := range []string{"final", "mean", "zero"} {
		t.Run(context, func(t *testing.T) {
			a, err := attention.New("none", map[string]any{"context": context}, d)
			if err != nil {
				t.Fatal(err)
			}
			rng := tensor.NewRNG(8)
			q, k := randn(rng, true, b, tq, d.Query), randn(rng, true, b, tk, d.Key)
			v := randn(rng, true, b, tk, d.Value)
			ctx, w := a.Attend(q, k, v, mask)
			for bb := 0; bb < b; bb++ {
				for i := 0; i < tq; i++ {
					var kept []int
					for j := 0; j < tk; j++ {
						if mask.At(bb, i, j) != 0 {
							kept = append(kept, j)
						}
					}
					want := make([]float64, d.Value)
					wantW := make([]float64, tk)
					if len(kept) > 0 {
						switch context {
						case "final":
							first, last := kept[0], kept[len(kept)-1]
							for c := 0; c < half; c++ {
								want[c] = float64(v.At(bb, last, c))
								want[half+c] = float64(v.At(bb, first, half+c))
							}
						case "mean":
							for _, j := range kept {
								wantW[j] = 1 / float64(len(kept))
								for c := range want {
									want[c] += float64(v.At(bb, j, c)) / float64(len(kept))
								}
							}
						}
					}
					for c := range want {
						if got := float64(ctx.At(bb, i, c)); math.Abs(got-want[c]) > 1e-6 {
							t.Fatalf("context [%d,%d,%d] = %v, want %v (kept keys %v)", bb, i, c, got, want[c], kept)
						}
					}
					for j := range wantW {
						if got := float64(w.At(bb, i, j)); math.Abs(got-wantW[j]) > 1e-7 {
							t.Fatalf("weight [%d,%d,%d] = %v, want %v", bb, i, j, got, wantW[j])
						}
					}
				}
			}
			if context == "zero" {
				return // no graph: the context is a constant
			}
			if err := tensor.GradCheck(func() []*tensor.Tensor {
				c, _ := a.Attend(q, k, v, mask)
				return []*tensor.Tensor{c}
			}, map[string]*tensor.Tensor{"v": v}, tensor.GradCheckOptions{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
