package attention_test

import (
	"testing"

	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/tensor"
)

// TestPreparedStepsMatchAttend prepares each variant once and attends
// from it at three decoder steps, as a recurrent decoder does, against
// three Attend calls: the contexts, the weights and every gradient —
// keys, values and parameters, which reach the prepared keys from all
// three steps — must agree. TestPreparedMatchesAttend compares one call's
// context and query and key gradients only (not the values' or the
// parameters'), and covers each variant with its default parameters.
func TestPreparedStepsMatchAttend(t *testing.T) {
	const b, tk, steps = 2, 5, 3
	d := testDims
	for _, vr := range allVariants() {
		t.Run(vr.String(), func(t *testing.T) {
			a := build(t, vr, d)
			rng := tensor.NewRNG(26)
			randomBiases(rng, a)
			k, v := randn(rng, true, b, tk, d.Key), randn(rng, true, b, tk, d.Value)
			leaves := map[string]*tensor.Tensor{"k": k, "v": v}
			var qs []*tensor.Tensor
			for s := 0; s < steps; s++ {
				q := randn(rng, true, b, 1, d.Query)
				qs = append(qs, q)
				leaves[string(rune('0'+s))+"q"] = q
			}
			for _, p := range a.Params() {
				leaves["param "+p.Name] = p.Tensor
			}
			mask := attention.KeyPaddingMask([]int{tk, 3}, tk)
			outs := func(attend func(q *tensor.Tensor) (*tensor.Tensor, *tensor.Tensor)) []*tensor.Tensor {
				var out []*tensor.Tensor
				for _, q := range qs {
					c, w := attend(q)
					if w == nil {
						t.Fatal("no weights after RequestWeights")
					}
					out = append(out, c, w)
				}
				return out
			}
			compareGrads(t, 1e-5, leaves, func() []*tensor.Tensor {
				p := attention.Prepare(a, k, v, mask)
				return outs(p.Attend)
			}, func() []*tensor.Tensor {
				return outs(func(q *tensor.Tensor) (*tensor.Tensor, *tensor.Tensor) { return a.Attend(q, k, v, mask) })
			})
		})
	}
}
