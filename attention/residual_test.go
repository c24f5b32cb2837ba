package attention

import (
	"fmt"
	"math"
	"slices"
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

// TestAttendAddRowsInBlocks: Transformer blocks run on the real rows only
// (ForwardRows, and ForwardPacked passing real rows from block to block
// and the memory's real rows to the cross-attention, through
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
				run := func(mode string) [][]float32 {
					for _, p := range params {
						p.Grad = nil
					}
					x.Grad, y.Grad = nil, nil
					var out *tensor.Tensor
					switch mode {
					case "all", "rows":
						var sr, tr *layers.Rows
						if mode == "rows" {
							sr, tr = srcRows, tgtRows
						}
						mem, _ := enc.ForwardRows(x, srcMask, sr)
						out, _, _ = dec.ForwardRows(y, mem, tgtMask, srcMask, tr)
					case "packed":
						mem, _ := enc.ForwardPacked(srcRows.Gather(x), srcMask, srcRows)
						mem, _ = enc.ForwardPacked(mem, srcMask, srcRows) // a second block on real rows
						h, _, _ := dec.ForwardPacked(tgtRows.Gather(y), mem, tgtMask, srcMask, tgtRows, srcRows)
						h, _, _ = dec.ForwardPacked(h, mem, tgtMask, srcMask, tgtRows, srcRows)
						out = tgtRows.Scatter(h)
					case "all2":
						mem, _ := enc.Forward(x, srcMask)
						mem, _ = enc.Forward(mem, srcMask)
						h, _, _ := dec.Forward(y, mem, tgtMask, srcMask)
						out, _, _ = dec.Forward(h, mem, tgtMask, srcMask)
					}
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
				for _, pair := range [][2]string{{"all", "rows"}, {"all2", "packed"}} {
					want, got := run(pair[0]), run(pair[1])
					for j := range want[0] {
						if got[0][j] != want[0][j] {
							t.Fatalf("%s: output element %d: real rows %g, every row %g", pair[1], j, got[0][j], want[0][j])
						}
					}
					for i := 1; i < len(want); i++ {
						for j := range want[i] {
							if diff := got[i][j] - want[i][j]; !(diff <= 1e-5 && diff >= -1e-5) { // NaN fails
								t.Fatalf("%s: gradient %d (1 dx, 2 dy, then parameters), element %d: real rows %g, every row %g", pair[1], i, j, got[i][j], want[i][j])
							}
						}
					}
				}
			})
		}
	}
}

// TestGradCheckAttendAddRows checks AttendAddRows' gradients by finite
// differences on real rows: self-attention (the same rows for queries and
// keys), and cross-attention over a whole memory and over its real rows.
func TestGradCheckAttendAddRows(t *testing.T) {
	const b, tq, tk, d = 2, 4, 3, 4
	for _, kind := range []string{"self", "cross", "cross-rows"} {
		t.Run(kind, func(t *testing.T) {
			cross := kind != "self"
			m, err := NewMultiHead(MultiHeadParams{Heads: 2, Bias: true}, Dims{Query: d, Key: d, Value: d, Causal: !cross})
			if err != nil {
				t.Fatal(err)
			}
			rng := tensor.NewRNG(5)
			m.Init(rng)
			qrows := layers.PaddedRows([]int{4, 2}, tq)
			krows, kLens := qrows, []int{4, 2}
			x := rng.Normal(tensor.New(len(qrows.Real), d), 0, 1).SetRequiresGrad(true)
			kv := x
			in := map[string]*tensor.Tensor{"x": x}
			if cross {
				kLens = []int{3, 1}
				krows = nil
				kv = rng.Normal(tensor.New(b, tk, d), 0, 1).SetRequiresGrad(true)
				if kind == "cross-rows" {
					krows = layers.PaddedRows(kLens, tk)
					kv = rng.Normal(tensor.New(len(krows.Real), d), 0, 1).SetRequiresGrad(true)
				}
				in["kv"] = kv
			}
			mask := KeyPaddingMask(kLens, tk)
			if !cross {
				mask = KeyPaddingMask(kLens, tq)
			}
			for _, p := range m.Params() {
				in[p.Name] = p.Tensor
			}
			f := func() []*tensor.Tensor {
				out, _ := m.AttendAddRows(x, x, kv, kv, mask, qrows, krows)
				return []*tensor.Tensor{out}
			}
			if err := tensor.GradCheck(f, in, tensor.GradCheckOptions{}); err != nil {
				t.Fatal(err)
			}
			// The real rows of AttendAdd on the scattered batches.
			got, _ := m.AttendAddRows(x, x, kv, kv, mask, qrows, krows)
			pad := func(v *tensor.Tensor, rows *layers.Rows) *tensor.Tensor {
				if rows == nil {
					return v
				}
				return rows.Scatter(v)
			}
			xs := qrows.Scatter(x)
			want, _ := m.AttendAdd(xs, xs, pad(kv, krows), pad(kv, krows), mask)
			want = qrows.Gather(want)
			for i := range want.Data {
				if diff := got.Data[i] - want.Data[i]; !(diff <= 1e-6 && diff >= -1e-6) { // NaN fails
					t.Fatalf("element %d: %g, AttendAdd's %g", i, got.Data[i], want.Data[i])
				}
			}
		})
	}
}

// TestAttendAddRowsLayouts: the per-head attention on real rows
// (Dense.attendRows: dotAttentionRows without scattering them into padded
// batches) gives the real rows of AttendAdd on the padded batches bitwise,
// and the same gradients up to summation order, for self-attention (causal
// or not, with query blocks cut short by the lengths) and cross-attention
// (keys as real rows or a whole batch), with lengths from 0 to the padded
// length, with and without biases, on 1, 2 and 3 threads (the same bits on
// each). Batches it cannot stand for take the padded path and still agree:
// a sequence with queries but no keys or keys but no queries, no mask, a
// mask that is not a key-padding prefix, a mask keeping padded keys.
func TestAttendAddRowsLayouts(t *testing.T) {
	defer tensor.SetThreads(tensor.Threads())
	const d = 8
	for _, tc := range []struct {
		name        string
		causal      bool
		cross       bool // keys from another batch
		kAsRows     bool // cross: the keys as real rows
		qLens, kLen []int
		tq, tk      int
		// mask: "" a key-padding mask of the keys' lengths; "nil" none;
		// "hole" that mask without the first key of the second sequence
		// (not a prefix of its keys), "hole0" without the second key of
		// the first (whose keys are all real); "full" keeping every key.
		mask   string
		packed bool
	}{
		{"self", false, false, false, []int{5, 0, 2, 3}, nil, 5, 5, "", true},
		{"self-causal-blocks", true, false, false, []int{60, 25, 49, 1}, nil, 60, 60, "", true},
		{"cross-rows", false, true, true, []int{4, 1, 3}, []int{6, 2, 1}, 4, 6, "", true},
		{"cross-batch", false, true, false, []int{4, 2, 3}, []int{6, 2, 1}, 4, 6, "", true},
		{"cross-no-keys", false, true, true, []int{4, 1, 3}, []int{6, 0, 1}, 4, 6, "", false},
		{"cross-no-queries", false, true, true, []int{4, 0, 3}, []int{6, 2, 1}, 4, 6, "", false},
		{"cross-batch-no-queries", false, true, false, []int{4, 0, 3}, []int{6, 2, 1}, 4, 6, "", false},
		{"self-no-mask", false, false, false, []int{5, 2, 3}, nil, 5, 5, "nil", false},
		{"self-mask-hole", false, false, false, []int{5, 2, 3}, nil, 5, 5, "hole", false},
		{"self-mask-hole-full-length", false, false, false, []int{5, 2, 3}, nil, 5, 5, "hole0", true},
		{"self-mask-keeps-padding", true, false, false, []int{5, 2, 3}, nil, 5, 5, "full", false},
	} {
		for _, bias := range []bool{false, true} {
			if bias && tc.mask == "nil" {
				// Real queries then attend to padded keys, whose projections
				// are the biases in a padded batch but zeros scattered:
				// outside AttendAddRows' contract (a mask drops padding).
				continue
			}
			t.Run(fmt.Sprintf("%s/bias=%v", tc.name, bias), func(t *testing.T) {
				m, err := NewMultiHead(MultiHeadParams{Heads: 2, Bias: bias}, Dims{Query: d, Key: d, Value: d, Causal: tc.causal})
				if err != nil {
					t.Fatal(err)
				}
				rng := tensor.NewRNG(9)
				m.Init(rng)
				if bias {
					for _, p := range m.Params() {
						if p.Dims() == 1 {
							rng.Normal(p.Tensor, 0, 1) // not the zeros Init gives
						}
					}
				}
				b := len(tc.qLens)
				qrows := layers.PaddedRows(tc.qLens, tc.tq)
				x := rng.Normal(tensor.New(len(qrows.Real), d), 0, 1).SetRequiresGrad(true)
				kv, krows, kLens := x, qrows, tc.qLens
				if tc.cross {
					kLens, krows = tc.kLen, nil
					kv = rng.Normal(tensor.New(b, tc.tk, d), 0, 1)
					if tc.kAsRows {
						krows = layers.PaddedRows(kLens, tc.tk)
						kv = rng.Normal(tensor.New(len(krows.Real), d), 0, 1)
					}
					kv.SetRequiresGrad(true)
				}
				var mask *tensor.Tensor
				switch tc.mask {
				case "":
					mask = KeyPaddingMask(kLens, tc.tk)
				case "hole":
					mask = KeyPaddingMask(kLens, tc.tk)
					mask.Data[tc.tk] = 0
				case "hole0":
					mask = KeyPaddingMask(kLens, tc.tk)
					mask.Data[1] = 0
				case "full":
					full := make([]int, b)
					for i := range full {
						full[i] = tc.tk
					}
					mask = KeyPaddingMask(full, tc.tk)
				}
				dense := m.head.(*Dense)
				if _, ok := dense.attendRows(x, kv, kv, mask, qrows, krows, b, tc.tq, tc.tk); ok != tc.packed {
					t.Fatalf("attendRows took the real rows: %v, want %v", ok, tc.packed)
				}
				g := rng.Normal(tensor.New(len(qrows.Real), d), 0, 1)
				params := m.Params()
				run := func(rows bool, threads int) [][]float32 {
					tensor.SetThreads(threads)
					for _, p := range params {
						p.Grad = nil
					}
					x.Grad, kv.Grad = nil, nil
					var out *tensor.Tensor
					if rows {
						out, _ = m.AttendAddRows(x, x, kv, kv, mask, qrows, krows)
					} else {
						pad := func(v *tensor.Tensor, r *layers.Rows) *tensor.Tensor {
							if r == nil {
								return v
							}
							return r.Scatter(v)
						}
						xs := qrows.Scatter(x)
						out, _ = m.AttendAdd(xs, xs, pad(kv, krows), pad(kv, krows), mask)
						out = qrows.Gather(out)
					}
					tensor.SumAll(tensor.Mul(out, g)).Backward()
					res := [][]float32{slices.Clone(out.Data), slices.Clone(x.Grad), slices.Clone(kv.Grad)}
					for _, p := range params {
						res = append(res, slices.Clone(p.Grad))
					}
					return res
				}
				want, got := run(false, 1), run(true, 1)
				for j := range want[0] {
					if got[0][j] != want[0][j] {
						t.Fatalf("output element %d: real rows %g, padded %g", j, got[0][j], want[0][j])
					}
				}
				for i := 1; i < len(want); i++ {
					for j := range want[i] {
						if diff := got[i][j] - want[i][j]; !(diff <= 1e-5 && diff >= -1e-5) { // NaN fails
							t.Fatalf("gradient %d (1 x, 2 keys, then parameters), element %d: real rows %g, padded %g", i, j, got[i][j], want[i][j])
						}
					}
				}
				for _, threads := range []int{2, 3} {
					more := run(true, threads)
					for i := range got {
						for j := range got[i] {
							if math.Float32bits(more[i][j]) != math.Float32bits(got[i][j]) {
								t.Fatalf("%d threads: result %d (0 output, 1 x, 2 keys, then parameters), element %d: %g, one thread %g", threads, i, j, more[i][j], got[i][j])
							}
						}
					}
				}
			})
		}
	}
}
