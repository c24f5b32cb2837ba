package layers_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/tensor"
)

func lnName(pre bool) string {
	if pre {
		return "preLN"
	}
	return "postLN"
}

// reseed gives every dropout of a block a fixed stream, so repeated
// forward passes in training mode draw the same masks.
func reseed(ds ...*layers.Dropout) {
	for i, d := range ds {
		d.RNG = tensor.NewRNG(uint64(100 + i))
	}
}

func TestGradEncoderBlock(t *testing.T) {
	t.Parallel()
	for _, pre := range []bool{false, true} {
		// Dropout 0: the attention sub-layer's residual add fused into
		// multi-head's output projection (ResidualAttender).
		for _, attn := range []string{"multi-head", "scaled-dot", "multi-head/no-dropout"} {
			t.Run(lnName(pre)+"/"+attn, func(t *testing.T) {
				rng := tensor.NewRNG(12)
				var a layers.Attender = scaledDot{}
				if strings.HasPrefix(attn, "multi-head") {
					a = newMultiHead(4, 2)
				}
				var p float32 = 0.1
				if strings.HasSuffix(attn, "no-dropout") {
					p = 0
				}
				blk := layers.NewEncoderBlock(layers.BlockConfig{Dim: 4, FFDim: 6, Activation: layers.GELU, Dropout: p, PreLN: pre}, a)
				blk.Init(rng)
				x := leaf(rng, 2, 3, 4)
				mask := keyPadding([]int{3, 2}, 3)
				check(t, func() []*tensor.Tensor {
					reseed(blk.Drop, blk.FF.Drop)
					y, _ := blk.Forward(x, mask)
					return one(y)
				}, paramInputs(blk.Params(), map[string]*tensor.Tensor{"x": x}))
			})
		}
	}
}

func TestGradDecoderBlock(t *testing.T) {
	t.Parallel()
	for _, pre := range []bool{false, true} {
		for _, p := range []float32{0.1, 0} { // 0: fused residual adds
			t.Run(fmt.Sprintf("%s/dropout=%v", lnName(pre), p), func(t *testing.T) {
				rng := tensor.NewRNG(13)
				blk := layers.NewDecoderBlock(layers.BlockConfig{Dim: 4, FFDim: 6, Dropout: p, PreLN: pre}, newMultiHead(4, 2), newMultiHead(4, 2))
				blk.Init(rng)
				y := leaf(rng, 2, 3, 4)
				mem := leaf(rng, 2, 5, 4)
				selfMask := tensor.Mul(causal(3), keyPadding([]int{3, 2}, 3))
				memMask := keyPadding([]int{5, 3}, 5)
				check(t, func() []*tensor.Tensor {
					reseed(blk.Drop, blk.FF.Drop)
					out, _, _ := blk.Forward(y, mem, selfMask, memMask)
					return one(out)
				}, paramInputs(blk.Params(), map[string]*tensor.Tensor{"y": y, "mem": mem}))
			})
		}
	}
}

func TestBlockParamsAndWeights(t *testing.T) {
	t.Parallel()
	enc := layers.NewEncoderBlock(layers.BlockConfig{Dim: 8}, newMultiHead(8, 2))
	dec := layers.NewDecoderBlock(layers.BlockConfig{Dim: 8, FFDim: 16}, newMultiHead(8, 2), newMultiHead(8, 2))
	if enc.FF.Lin1.Out != 32 || enc.FF.Act != layers.ReLU {
		t.Errorf("defaults: FF hidden %d, activation %q; want 32, relu", enc.FF.Lin1.Out, enc.FF.Act)
	}
	var names []string
	for _, p := range dec.Params() {
		names = append(names, p.Name)
	}
	want := "self_attn.q.W self_attn.q.b self_attn.k.W self_attn.k.b self_attn.v.W self_attn.v.b self_attn.o.W self_attn.o.b " +
		"cross_attn.q.W cross_attn.q.b cross_attn.k.W cross_attn.k.b cross_attn.v.W cross_attn.v.b cross_attn.o.W cross_attn.o.b " +
		"ff.lin1.W ff.lin1.b ff.lin2.W ff.lin2.b norm1.gamma norm1.beta norm2.gamma norm2.beta norm3.gamma norm3.beta"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("decoder params =\n%s\nwant\n%s", got, want)
	}
	rng := tensor.NewRNG(1)
	enc.Init(rng)
	dec.Init(rng)
	src := rng.Uniform(tensor.New(2, 5, 8), -1, 1)
	tgt := rng.Uniform(tensor.New(2, 3, 8), -1, 1)
	mem, ew := enc.Forward(src, keyPadding([]int{5, 4}, 5))
	out, sw, cw := dec.Forward(tgt, mem, causal(3), keyPadding([]int{5, 4}, 5))
	for _, tc := range []struct {
		name string
		t    *tensor.Tensor
		want string
	}{
		{"encoder output", mem, "[2 5 8]"}, {"encoder weights", ew, "[2 2 5 5]"},
		{"decoder output", out, "[2 3 8]"}, {"self weights", sw, "[2 2 3 3]"}, {"cross weights", cw, "[2 2 3 5]"},
	} {
		if got := fmt.Sprint(tc.t.Shape()); got != tc.want {
			t.Errorf("%s shape = %s, want %s", tc.name, got, tc.want)
		}
	}
	// Cross-attention weights: rows sum to 1, padded memory gets 0.
	for h := 0; h < 2; h++ {
		for i := 0; i < 3; i++ {
			var s float64
			for j := 0; j < 5; j++ {
				s += float64(cw.At(1, h, i, j))
			}
			if math.Abs(s-1) > 1e-5 || cw.At(1, h, i, 4) != 0 {
				t.Fatalf("cross weights row (1,%d,%d) sums to %g, padded key weight %g", h, i, s, cw.At(1, h, i, 4))
			}
		}
	}
}

// TestEncoderBlockPaddingInvariance appends padding steps (garbage values,
// masked out) to a batch: the real positions' outputs do not change.
func TestEncoderBlockPaddingInvariance(t *testing.T) {
	t.Parallel()
	for _, pre := range []bool{false, true} {
		t.Run(lnName(pre), func(t *testing.T) {
			rng := tensor.NewRNG(14)
			blk := layers.NewEncoderBlock(layers.BlockConfig{Dim: 8, Dropout: 0.3, PreLN: pre}, newMultiHead(8, 2))
			blk.Init(rng)
			layers.SetTraining(false, blk)
			lengths := []int{4, 2}
			x := rng.Uniform(tensor.New(2, 4, 8), -1, 1)
			xl := rng.Uniform(tensor.New(2, 7, 8), -5, 5)
			for b := 0; b < 2; b++ {
				copy(xl.Data[b*56:b*56+32], x.Data[b*32:(b+1)*32])
			}
			y, _ := blk.Forward(x, keyPadding(lengths, 4))
			yl, _ := blk.Forward(xl, keyPadding(lengths, 7))
			for b, n := range lengths {
				for s := 0; s < n; s++ {
					for j := 0; j < 8; j++ {
						if d := math.Abs(float64(y.At(b, s, j) - yl.At(b, s, j))); d > 1e-6 {
							t.Fatalf("output [%d,%d,%d] changed by %g when padding was appended", b, s, j, d)
						}
					}
				}
			}
		})
	}
}

// TestDecoderBlockCausal changes the last target step: earlier outputs do
// not move.
func TestDecoderBlockCausal(t *testing.T) {
	t.Parallel()
	rng := tensor.NewRNG(15)
	blk := layers.NewDecoderBlock(layers.BlockConfig{Dim: 8, PreLN: true}, newMultiHead(8, 2), newMultiHead(8, 4))
	blk.Init(rng)
	y := rng.Uniform(tensor.New(1, 4, 8), -1, 1)
	mem := rng.Uniform(tensor.New(1, 3, 8), -1, 1)
	a, _, _ := blk.Forward(y, mem, causal(4), nil)
	y2 := y.Clone()
	for j := 0; j < 8; j++ {
		y2.Set(9, 0, 3, j)
	}
	b, _, _ := blk.Forward(y2, mem, causal(4), nil)
	if d := maxAbsDiff(a.Data[:24], b.Data[:24]); d != 0 {
		t.Fatalf("changing target step 3 moved earlier outputs by %g", d)
	}
	if maxAbsDiff(a.Data[24:], b.Data[24:]) == 0 {
		t.Fatal("changing target step 3 did not change its output")
	}
}

// trainable is an attention stand-in that records SetTraining.
type trainable struct {
	scaledDot
	training *bool
}

func (a trainable) SetTraining(on bool) { *a.training = on }

func TestBlockSetTraining(t *testing.T) {
	t.Parallel()
	var sa, ca bool = true, true
	dec := layers.NewDecoderBlock(layers.BlockConfig{Dim: 4, Dropout: 0.5}, trainable{training: &sa}, trainable{training: &ca})
	dec.Init(tensor.NewRNG(1))
	layers.SetTraining(false, dec)
	if sa || ca || dec.Drop.Training || dec.FF.Drop.Training {
		t.Fatalf("after SetTraining(false): self %v, cross %v, drop %v, ff drop %v", sa, ca, dec.Drop.Training, dec.FF.Drop.Training)
	}
	// In evaluation mode two passes agree; in training mode they differ.
	rng := tensor.NewRNG(2)
	y, mem := rng.Uniform(tensor.New(1, 3, 4), -1, 1), rng.Uniform(tensor.New(1, 2, 4), -1, 1)
	a, _, _ := dec.Forward(y, mem, causal(3), nil)
	b, _, _ := dec.Forward(y, mem, causal(3), nil)
	if maxAbsDiff(a.Data, b.Data) != 0 {
		t.Fatal("evaluation-mode passes differ")
	}
	layers.SetTraining(true, dec)
	a, _, _ = dec.Forward(y, mem, causal(3), nil)
	b, _, _ = dec.Forward(y, mem, causal(3), nil)
	if maxAbsDiff(a.Data, b.Data) == 0 {
		t.Fatal("training-mode passes with dropout 0.5 agree")
	}
}

// TestBlockLayerNormOrder tells the two orders apart by value: with the
// sub-layers' output projections zeroed, a pre-LN block is the identity
// (x + 0 + 0), and a post-LN block's rows are normalised (mean 0, variance
// 1 with gamma 1, beta 0).
func TestBlockLayerNormOrder(t *testing.T) {
	t.Parallel()
	for _, pre := range []bool{false, true} {
		t.Run(lnName(pre), func(t *testing.T) {
			rng := tensor.NewRNG(16)
			mha := newMultiHead(8, 2)
			blk := layers.NewEncoderBlock(layers.BlockConfig{Dim: 8, PreLN: pre}, mha)
			blk.Init(rng)
			for _, p := range append(mha.wo.Params(), blk.FF.Lin2.Params()...) {
				p.ZeroGrad()
				for i := range p.Data {
					p.Data[i] = 0
				}
			}
			x := rng.Uniform(tensor.New(2, 3, 8), -2, 3)
			y, _ := blk.Forward(x, nil)
			if pre {
				if d := maxAbsDiff(y.Data, x.Data); d != 0 {
					t.Fatalf("pre-LN block with zero sub-layers is not the identity (off by %g)", d)
				}
				return
			}
			for r := 0; r < 6; r++ {
				var m, v float64
				for _, e := range y.Data[r*8 : (r+1)*8] {
					m += float64(e) / 8
				}
				for _, e := range y.Data[r*8 : (r+1)*8] {
					v += (float64(e) - m) * (float64(e) - m) / 8
				}
				if math.Abs(m) > 1e-5 || math.Abs(v-1) > 1e-3 {
					t.Fatalf("post-LN row %d has mean %g, variance %g; want 0, 1", r, m, v)
				}
			}
		})
	}
}

// TestPaddedRows lists the real rows of a padded batch and maps every row
// to its place among them; nothing padded gives nil.
func TestPaddedRows(t *testing.T) {
	r := layers.PaddedRows([]int{2, 3, 0}, 3)
	if fmt.Sprint(r.Real) != "[0 1 3 4 5]" || fmt.Sprint(r.Slot) != "[0 1 -1 2 3 4 -1 -1 -1]" {
		t.Errorf("PaddedRows([2 3 0], 3) = %v, %v", r.Real, r.Slot)
	}
	if r := layers.PaddedRows([]int{3, 3}, 3); r != nil {
		t.Errorf("PaddedRows of unpadded sequences = %+v, want nil", r)
	}
}

// TestForwardRows: with the rows of a padded batch, the blocks' real rows
// are bitwise those of Forward, their padded rows 0 (the feed-forward
// sub-layer never ran on them), and their gradients flow to the input as
// Forward's do.
func TestForwardRows(t *testing.T) {
	t.Parallel()
	lengths := []int{4, 2, 3}
	rows := layers.PaddedRows(lengths, 4)
	for _, pre := range []bool{false, true} {
		t.Run(lnName(pre), func(t *testing.T) {
			rng := tensor.NewRNG(16)
			enc := layers.NewEncoderBlock(layers.BlockConfig{Dim: 8, FFDim: 12, Activation: layers.GELU, PreLN: pre}, newMultiHead(8, 2))
			dec := layers.NewDecoderBlock(layers.BlockConfig{Dim: 8, FFDim: 12, PreLN: pre}, newMultiHead(8, 2), newMultiHead(8, 2))
			enc.Init(rng)
			dec.Init(rng)
			x := rng.Uniform(tensor.New(3, 4, 8), -1, 1)
			mem := rng.Uniform(tensor.New(3, 5, 8), -1, 1)
			mask := keyPadding(lengths, 4)
			run := func(packed bool) (*tensor.Tensor, []float32) {
				xi := x.Clone().SetRequiresGrad(true)
				var r *layers.Rows
				if packed {
					r = rows
				}
				h, _ := enc.ForwardRows(xi, mask, r)
				y, _, _ := dec.ForwardRows(h, mem, mask, nil, r)
				// The loss reads the real rows only, as a masked loss does.
				w := tensor.New(3, 4, 8)
				for b, n := range lengths {
					for s := range n {
						for j := range 8 {
							w.Set(float32(j+1), b, s, j)
						}
					}
				}
				tensor.SumAll(tensor.Mul(y, w)).Backward()
				return y, xi.Grad
			}
			y0, g0 := run(false)
			y1, g1 := run(true)
			for b := range 3 {
				for s := range 4 {
					for j := range 8 {
						switch got, want := y1.At(b, s, j), y0.At(b, s, j); {
						case s < lengths[b] && got != want:
							t.Fatalf("real row [%d,%d] element %d: %v from ForwardRows, %v from Forward", b, s, j, got, want)
						case s >= lengths[b] && got != 0:
							t.Fatalf("padded row [%d,%d] element %d: %v, want 0", b, s, j, got)
						}
					}
				}
			}
			for i := range g0 {
				if d := math.Abs(float64(g1[i] - g0[i])); d > 1e-6 {
					t.Fatalf("input gradient %d: %v from ForwardRows, %v from Forward", i, g1[i], g0[i])
				}
			}
		})
	}
}

// TestBlockPaddingInvariantGradients appends padded steps (garbage values,
// masked out) to the encoder's input and to the decoder's memory: under a
// loss that reads only real rows (as the masked loss does), the real rows'
// outputs, the gradients of the real inputs and of every parameter do not
// change, and padded memory steps get no gradient. The padding-invariance
// test above checks the encoder's outputs only.
func TestBlockPaddingInvariantGradients(t *testing.T) {
	t.Parallel()
	const d, tx, tm, pad = 8, 4, 5, 3
	lengths, memLengths := []int{4, 2}, []int{5, 3}
	for _, pre := range []bool{false, true} {
		t.Run(lnName(pre), func(t *testing.T) {
			rng := tensor.NewRNG(17)
			enc := layers.NewEncoderBlock(layers.BlockConfig{Dim: d, FFDim: 12, Activation: layers.GELU, PreLN: pre}, newMultiHead(d, 2))
			dec := layers.NewDecoderBlock(layers.BlockConfig{Dim: d, FFDim: 12, PreLN: pre}, newMultiHead(d, 2), newMultiHead(d, 2))
			enc.Init(rng)
			dec.Init(rng)
			params := append(enc.Params(), dec.Params()...)
			x := rng.Uniform(tensor.New(2, tx, d), -1, 1)
			mem := rng.Uniform(tensor.New(2, tm, d), -1, 1)
			// Padded copies: garbage after the real steps of each sequence.
			widen := func(src *tensor.Tensor, n int, lens []int) *tensor.Tensor {
				out := rng.Uniform(tensor.New(2, n+pad, d), -5, 5)
				for b, l := range lens {
					copy(out.Data[b*(n+pad)*d:], src.Data[b*n*d:(b*n+l)*d])
				}
				return out
			}
			xl, meml := widen(x, tx, lengths), widen(mem, tm, memLengths)
			run := func(x, mem *tensor.Tensor) (outs [2]*tensor.Tensor, gx, gm []float32, gp [][]float32) {
				x, mem = x.Clone().SetRequiresGrad(true), mem.Clone().SetRequiresGrad(true)
				layers.ZeroGrad(params)
				n := x.Dim(1)
				h, _ := enc.Forward(x, keyPadding(lengths, n))
				y, _, _ := dec.Forward(h, mem, tensor.Mul(causal(n), keyPadding(lengths, n)), keyPadding(memLengths, mem.Dim(1)))
				r := tensor.New(2, n, d)
				for b, l := range lengths {
					for s := range l {
						for j := range d {
							r.Set(float32((b+s+j)%5)-2, b, s, j)
						}
					}
				}
				tensor.BackwardFrom([]*tensor.Tensor{h, y}, [][]float32{r.Data, r.Data})
				for _, p := range params {
					gp = append(gp, append([]float32(nil), p.Grad...))
				}
				return [2]*tensor.Tensor{h, y}, x.Grad, mem.Grad, gp
			}
			o0, gx0, gm0, gp0 := run(x, mem)
			o1, gx1, gm1, gp1 := run(xl, meml)
			const tol = 1e-5
			for k, name := range []string{"encoder", "decoder"} {
				for b, l := range lengths {
					for s := range l {
						for j := range d {
							if dd := math.Abs(float64(o0[k].At(b, s, j) - o1[k].At(b, s, j))); dd > tol {
								t.Fatalf("%s output [%d,%d,%d] changes by %.3g with padding", name, b, s, j, dd)
							}
						}
					}
				}
			}
			rowsOf := func(g []float32, n, b, from, to int) []float32 {
				return g[(b*n+from)*d : (b*n+to)*d]
			}
			for b := range 2 {
				if dd := maxAbsDiff(rowsOf(gx1, tx+pad, b, 0, lengths[b]), rowsOf(gx0, tx, b, 0, lengths[b])); dd > tol {
					t.Errorf("gradient of the real input steps of sequence %d changes by %.3g with padding", b, dd)
				}
				if dd := maxAbsDiff(rowsOf(gm1, tm+pad, b, 0, memLengths[b]), rowsOf(gm0, tm, b, 0, memLengths[b])); dd > tol {
					t.Errorf("gradient of the real memory steps of sequence %d changes by %.3g with padding", b, dd)
				}
				padded := rowsOf(gm1, tm+pad, b, memLengths[b], tm+pad)
				if dd := maxAbsDiff(padded, make([]float32, len(padded))); dd != 0 {
					t.Errorf("padded memory steps of sequence %d get gradient (max %.3g)", b, dd)
				}
				padded = rowsOf(gx1, tx+pad, b, lengths[b], tx+pad)
				if dd := maxAbsDiff(padded, make([]float32, len(padded))); dd != 0 {
					t.Errorf("padded input steps of sequence %d get gradient (max %.3g)", b, dd)
				}
			}
			for i, p := range params {
				if dd := maxAbsDiff(gp1[i], gp0[i]); dd > tol {
					t.Errorf("gradient of %s changes by %.3g with padding", p.Name, dd)
				}
			}
		})
	}
}

// TestBlockEmptySequence: a sequence whose every step is padding (length
// 0, as the last batch of a bucket may hold) leaves the encoder's and the
// decoder's outputs and gradients finite, and the other sequence's real
// rows as they are alone.
func TestBlockEmptySequence(t *testing.T) {
	t.Parallel()
	const d, n = 8, 4
	rng := tensor.NewRNG(18)
	enc := layers.NewEncoderBlock(layers.BlockConfig{Dim: d, PreLN: true}, newMultiHead(d, 2))
	dec := layers.NewDecoderBlock(layers.BlockConfig{Dim: d}, newMultiHead(d, 2), newMultiHead(d, 2))
	enc.Init(rng)
	dec.Init(rng)
	x := rng.Uniform(tensor.New(2, n, d), -1, 1).SetRequiresGrad(true)
	h, _ := enc.Forward(x, keyPadding([]int{n, 0}, n))
	y, _, _ := dec.Forward(x, h, causal(n), keyPadding([]int{n, 0}, n))
	tensor.SumAll(tensor.Add(tensor.SumAll(h), tensor.SumAll(y))).Backward()
	for _, s := range [][]float32{h.Data, y.Data, x.Grad} {
		for _, v := range s {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatal("NaN or Inf from a sequence of length 0")
			}
		}
	}
	for _, p := range append(enc.Params(), dec.Params()...) {
		for _, v := range p.Grad {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("NaN or Inf in the gradient of %s", p.Name)
			}
		}
	}
	h1, _ := enc.Forward(tensor.Narrow(x, 0, 0, 1), keyPadding([]int{n}, n))
	if dd := maxAbsDiff(h1.Data, h.Data[:n*d]); dd > 1e-6 {
		t.Fatalf("the empty sequence changes the other's encoder output by %.3g", dd)
	}
}
