package attention

import (
	"fmt"
	"testing"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/tensor"
)

// plainAttender hides MultiHead's AttendAdd, so the blocks take the
// unfused sub-layer (an Add after the attention).
type plainAttender struct{ layers.Attender }

// TestAttendAddInBlocks: Transformer blocks over multi-head attention give
// bitwise the same outputs and gradients whether the residual add is fused
// into the output projection (MultiHead.AttendAdd, dropout off) or not,
// pre- and post-LN, encoder and decoder (self- and cross-attention), with
// key padding and a causal site; and under a mask that leaves a query
// nothing to attend (the unfused output path).
func TestAttendAddInBlocks(t *testing.T) {
	for _, pre := range []bool{false, true} {
		for _, dead := range []bool{false, true} {
			t.Run(fmt.Sprintf("preLN=%v/deadRow=%v", pre, dead), func(t *testing.T) {
				const b, ty, tm, d = 3, 5, 6, 8
				mk := func(causal bool) *MultiHead {
					m, err := NewMultiHead(MultiHeadParams{Heads: 2, Bias: true}, Dims{Query: d, Key: d, Value: d, Causal: causal})
					if err != nil {
						t.Fatal(err)
					}
					return m
				}
				cfg := layers.BlockConfig{Dim: d, FFDim: 12, Activation: layers.GELU, PreLN: pre}
				enc := layers.NewEncoderBlock(cfg, mk(false))
				dec := layers.NewDecoderBlock(cfg, mk(true), mk(false))
				rng := tensor.NewRNG(21)
				enc.Init(rng)
				dec.Init(rng)
				x := rng.Normal(tensor.New(b, tm, d), 0, 1).SetRequiresGrad(true)
				y := rng.Normal(tensor.New(b, ty, d), 0, 1).SetRequiresGrad(true)
				srcMask := tensor.New(b, 1, tm)
				for i, n := range []int{6, 4, 2} {
					if dead && i == 2 {
						n = 0 // a row with nothing to attend
					}
					for j := 0; j < n; j++ {
						srcMask.Set(1, i, 0, j)
					}
				}
				params := append(enc.Params(), dec.Params()...)
				run := func(plain bool) [][]float32 {
					if plain {
						sa, ca, ea := dec.SelfAttn, dec.CrossAttn, enc.SelfAttn
						dec.SelfAttn, dec.CrossAttn, enc.SelfAttn = plainAttender{sa}, plainAttender{ca}, plainAttender{ea}
						defer func() { dec.SelfAttn, dec.CrossAttn, enc.SelfAttn = sa, ca, ea }()
					}
					for _, p := range params {
						p.Grad = nil
					}
					x.Grad, y.Grad = nil, nil
					mem, _ := enc.Forward(x, srcMask)
					out, _, _ := dec.Forward(y, mem, nil, srcMask)
					loss := tensor.SumAll(tensor.Mul(out, out))
					loss.Backward()
					res := [][]float32{append([]float32(nil), out.Data...), append([]float32(nil), x.Grad...), append([]float32(nil), y.Grad...)}
					for _, p := range params {
						res = append(res, append([]float32(nil), p.Grad...))
					}
					tensor.Release(loss)
					return res
				}
				want, got := run(true), run(false)
				for i := range want {
					for j := range want[i] {
						if got[i][j] != want[i][j] {
							t.Fatalf("result %d (0 output, 1 dx, 2 dy, then parameters), element %d: fused %g, unfused %g", i, j, got[i][j], want[i][j])
						}
					}
				}
			})
		}
	}
}
