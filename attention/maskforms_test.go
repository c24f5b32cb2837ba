package attention_test

import (
	"testing"

	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/tensor"
)

// expand returns mask broadcast to a dense [B,Tq,Tk] tensor.
func expand(mask *tensor.Tensor, b, tq, tk int) *tensor.Tensor {
	return tensor.Mul(mask, tensor.Full(1, b, tq, tk))
}

// TestMaskForms: a mask means the same whatever its broadcast form. Every
// variant gives the same context, weights and gradients for
//
//   - no mask and an all-ones key mask [B,1,Tk];
//   - a key-padding mask [B,1,Tk] and the same mask expanded to [B,Tq,Tk];
//   - at a causal site, key padding alone, key padding times a causal mask
//     [1,T,T], and that product expanded to [B,T,T].
//
// The other tests pass masks in one form each; a variant reading a mask
// through the wrong strides would pass them.
func TestMaskForms(t *testing.T) {
	const b, tq, tk = 2, 3, 5
	for _, vr := range allVariants() {
		for _, causal := range []bool{false, true} {
			name := vr.String()
			if causal {
				name += "/causal"
			}
			t.Run(name, func(t *testing.T) {
				d := testDims
				d.Causal = causal
				a := build(t, vr, d)
				rng := tensor.NewRNG(23)
				randomBiases(rng, a)
				n := tq
				if causal {
					n = tk
				}
				q := randn(rng, true, b, n, d.Query)
				k := randn(rng, true, b, tk, d.Key)
				v := randn(rng, true, b, tk, d.Value)
				leaves := map[string]*tensor.Tensor{"q": q, "k": k, "v": v}
				for _, p := range a.Params() {
					leaves["param "+p.Name] = p.Tensor
				}
				attend := func(mask *tensor.Tensor) func() []*tensor.Tensor {
					return func() []*tensor.Tensor {
						c, w := a.Attend(q, k, v, mask)
						if w == nil {
							t.Fatal("no weights after RequestWeights")
						}
						return []*tensor.Tensor{c, w}
					}
				}
				pad := attention.KeyPaddingMask([]int{tk, 3}, tk)
				if !causal {
					compareGrads(t, 1e-6, leaves, attend(attention.KeyPaddingMask([]int{tk, tk}, tk)), attend(nil))
					compareGrads(t, 1e-6, leaves, attend(expand(pad, b, n, tk)), attend(pad))
					return
				}
				both := attention.CombineMasks(pad, attention.CausalMask(tk))
				compareGrads(t, 1e-6, leaves, attend(both), attend(pad))
				compareGrads(t, 1e-6, leaves, attend(expand(both, b, n, tk)), attend(pad))
			})
		}
	}
}
