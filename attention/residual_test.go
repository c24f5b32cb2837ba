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

// The blocks of the tests below: batch 3, targets of 5, sources of 6,
// width 8.
const blockB, blockTy, blockTm, blockD = 3, 5, 6, 8

// testBlocks returns an encoder and a decoder block over multi-head
// attention with biases (pre- or post-LN), drawn from seed, and inputs x
// [3,6,8] and y [3,5,8] that require gradients.
func testBlocks(t *testing.T, pre bool, seed uint64) (enc *layers.EncoderBlock, dec *layers.DecoderBlock, x, y *tensor.Tensor) {
	t.Helper()
	const d = blockD
	mk := func(causal bool) *MultiHead {
		m, err := NewMultiHead(MultiHeadParams{Heads: 2, Bias: true}, Dims{Query: d, Key: d, Value: d, Causal: causal})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	cfg := layers.BlockConfig{Dim: d, FFDim: 12, Activation: layers.GELU, PreLN: pre}
	enc = layers.NewEncoderBlock(cfg, mk(false))
	dec = layers.NewDecoderBlock(cfg, mk(true), mk(false))
	rng := tensor.NewRNG(seed)
	enc.Init(rng)
	dec.Init(rng)
	x = rng.Normal(tensor.New(blockB, blockTm, d), 0, 1).SetRequiresGrad(true)
	y = rng.Normal(tensor.New(blockB, blockTy, d), 0, 1).SetRequiresGrad(true)
	return enc, dec, x, y
}

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
				const b, ty, tm = blockB, blockTy, blockTm
				enc, dec, x, y := testBlocks(t, pre, 21)
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

// TestAttendAddRowsInBlocks: Transformer blocks run with their projections
// and feed-forward networks on the real rows only (ForwardRows, through
// MultiHead.AttendAddRows) give the real rows of the whole padded batch's
// outputs bitwise, zeros in padded rows, and the same gradients up to the
// order of summation (the weights' gradients skip the padded rows' zeros),
// pre- and post-LN, encoder and decoder; and a row with nothing to attend
// takes the unfused path.
func TestAttendAddRowsInBlocks(t *testing.T) {
	for _, pre := range []bool{false, true} {
		for _, dead := range []bool{false, true} {
			t.Run(fmt.Sprintf("preLN=%v/deadRow=%v", pre, dead), func(t *testing.T) {
				const b, ty, tm = blockB, blockTy, blockTm
				enc, dec, x, y := testBlocks(t, pre, 22)
				srcLens, tgtLens := []int{6, 4, 2}, []int{3, 5, 1}
				if dead {
					srcLens[2] = 0
				}
				srcMask, tgtMask := KeyPaddingMask(srcLens, tm), KeyPaddingMask(tgtLens, ty)
				srcRows, tgtRows := layers.PaddedRows(srcLens, tm), layers.PaddedRows(tgtLens, ty)
				params := append(enc.Params(), dec.Params()...)
				// keep zeroes the padded target rows, which the loss ignores.
				keep := tensor.New(b, ty, 1)
				for i, n := range tgtLens {
					for j := 0; j < n; j++ {
						keep.Set(1, i, j, 0)
					}
				}
				run := func(rows bool) [][]float32 {
					for _, p := range params {
						p.Grad = nil
					}
					x.Grad, y.Grad = nil, nil
					var sr, tr *layers.Rows
					if rows {
						sr, tr = srcRows, tgtRows
					}
					mem, _ := enc.ForwardRows(x, srcMask, sr)
					out, _, _ := dec.ForwardRows(y, mem, tgtMask, srcMask, tr)
					out = tensor.Mul(out, keep)
					loss := tensor.SumAll(tensor.Mul(out, out))
					loss.Backward()
					res := [][]float32{append([]float32(nil), out.Data...), append([]float32(nil), x.Grad...), append([]float32(nil), y.Grad...)}
					for _, p := range params {
						res = append(res, append([]float32(nil), p.Grad...))
					}
					tensor.Release(loss)
					return res
				}
				want, got := run(false), run(true)
				for j := range want[0] {
					if got[0][j] != want[0][j] {
						t.Fatalf("output element %d: real rows %g, every row %g", j, got[0][j], want[0][j])
					}
				}
				for i := 1; i < len(want); i++ {
					for j := range want[i] {
						if diff := got[i][j] - want[i][j]; diff > 1e-5 || diff < -1e-5 {
							t.Fatalf("gradient %d (1 dx, 2 dy, then parameters), element %d: real rows %g, every row %g", i, j, got[i][j], want[i][j])
						}
					}
				}
			})
		}
	}
}

// TestGradCheckAttendAddRows checks AttendAddRows' gradients by finite
// differences, self-attention (the same rows for queries and keys) and
// cross-attention (keys on every row), on the real rows of the result.
func TestGradCheckAttendAddRows(t *testing.T) {
	const b, tq, tk, d = 2, 4, 3, 4
	for _, cross := range []bool{false, true} {
		t.Run(fmt.Sprintf("cross=%v", cross), func(t *testing.T) {
			m, err := NewMultiHead(MultiHeadParams{Heads: 2, Bias: true}, Dims{Query: d, Key: d, Value: d, Causal: !cross})
			if err != nil {
				t.Fatal(err)
			}
			rng := tensor.NewRNG(5)
			m.Init(rng)
			x := rng.Normal(tensor.New(b, tq, d), 0, 1).SetRequiresGrad(true)
			kv := x
			qLens, kLens := []int{4, 2}, []int{4, 2}
			if cross {
				kv = rng.Normal(tensor.New(b, tk, d), 0, 1).SetRequiresGrad(true)
				kLens = []int{3, 1}
			}
			qrows := layers.PaddedRows(qLens, tq)
			var krows *layers.Rows
			if !cross {
				krows = qrows
			}
			mask := KeyPaddingMask(kLens, kv.Dim(1))
			in := map[string]*tensor.Tensor{"x": x}
			if cross {
				in["kv"] = kv
			}
			for _, p := range m.Params() {
				in[p.Name] = p.Tensor
			}
			f := func() []*tensor.Tensor {
				out, _ := m.AttendAddRows(x, x, kv, kv, mask, qrows, krows)
				return []*tensor.Tensor{tensor.Gather(tensor.Reshape(out, b*tq, d), qrows.Real, -1)}
			}
			if err := tensor.GradCheck(f, in, tensor.GradCheckOptions{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
