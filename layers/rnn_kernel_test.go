package layers

import (
	"fmt"
	"testing"

	"github.com/attnlab/attnlab/tensor"
)

// TestSequenceKernelGradPaths checks both kernels' gradients by finite
// differences with the input projection xw as a leaf, so that every way a
// kernel can deliver dxw is run: written into a new gradient buffer (xw's
// only consumer, or the first one to finish), or added to one another
// consumer wrote first; and with the batch's longest sequence shorter than
// T, whose last times no step runs.
func TestSequenceKernelGradPaths(t *testing.T) {
	t.Parallel()
	const b, tt, h = 3, 5, 4
	for _, lstm := range []bool{true, false} {
		for _, lengths := range [][]int{nil, {5, 2, 4}, {3, 1, 0}} {
			for _, other := range []string{"none", "before", "after"} {
				for _, reverse := range []bool{false, true} {
					name := fmt.Sprintf("lstm=%v/lengths=%v/other=%s/reverse=%v", lstm, lengths, other, reverse)
					t.Run(name, func(t *testing.T) {
						rng := tensor.NewRNG(3)
						gates := 3
						if lstm {
							gates = 4
						}
						leaf := func(shape ...int) *tensor.Tensor {
							return rng.Uniform(tensor.New(shape...), -1, 1).SetRequiresGrad(true)
						}
						xw, whh, h0 := leaf(b, tt, gates*h), leaf(h, gates*h), leaf(b, h)
						in := map[string]*tensor.Tensor{"xw": xw, "whh": whh, "h0": h0}
						var c0, bhn *tensor.Tensor
						if lstm {
							c0 = leaf(b, h)
							in["c0"] = c0
						} else {
							bhn = leaf(h)
							in["bhn"] = bhn
						}
						f := func() []*tensor.Tensor {
							var outs []*tensor.Tensor
							if other == "before" {
								outs = append(outs, tensor.Scale(xw, 0.5))
							}
							a := seqArgs{xw: xw, whh: whh, bhn: bhn, h0: h0, c0: c0, lengths: lengths, reverse: reverse, b: b, t: tt, h: h}
							var out *tensor.Tensor
							var s State
							if lstm {
								out, s = lstmSequence(a)
							} else {
								out, s = gruSequence(a)
							}
							outs = append(outs, out, s.H)
							if s.C != nil {
								outs = append(outs, s.C)
							}
							if other == "after" {
								outs = append(outs, tensor.Scale(xw, 0.5))
							}
							return outs
						}
						if err := tensor.GradCheck(f, in, tensor.GradCheckOptions{}); err != nil {
							t.Fatal(err)
						}
					})
				}
			}
		}
	}
}
