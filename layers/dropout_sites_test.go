package layers_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/tensor"
)

// The tests in this file pin down where each dropout of the layers applies:
// each runs a module in training mode with its dropouts on fixed streams
// and compares it with a reference assembled from the module's parts, with
// the masks drawn explicitly from the same streams in the order the module
// draws them. A dropout left out, moved to another tensor, applied once too
// often or drawn from the wrong stream shifts or misplaces the masks, and the
// output differs. (The gradient checks reseed the masks before every pass,
// so they check only that forward and backward agree.)

// maskStream draws the masks of a Dropout with drop probability p whose RNG
// was seeded with seed, in the order the Dropout draws them.
type maskStream struct {
	tb  testing.TB
	p   float32
	rng *tensor.RNG
	n   int // masks drawn
}

func newMaskStream(tb testing.TB, p float32, seed uint64) *maskStream {
	return &maskStream{tb: tb, p: p, rng: tensor.NewRNG(seed)}
}

// apply returns x ⊙ mask with the stream's next mask: x itself when p is
// 0, for then Dropout draws nothing. Every element of a mask is 0 or
// exactly 1/(1−p) (inverted dropout), and about p of them are 0.
func (s *maskStream) apply(x *tensor.Tensor) *tensor.Tensor {
	s.tb.Helper()
	if s.p == 0 {
		return x
	}
	mask := tensor.Dropout(tensor.Full(1, x.Shape()...), s.p, s.rng, true)
	scale := 1 / (1 - s.p)
	dropped := 0
	for _, m := range mask.Data {
		switch m {
		case 0:
			dropped++
		case scale:
		default:
			s.tb.Fatalf("mask element %g, want 0 or 1/(1−%g) = %g", m, s.p, scale)
		}
	}
	if n := len(mask.Data); n >= 32 && (dropped == 0 || dropped == n) {
		s.tb.Fatalf("mask of %d elements at p=%g drops %d", n, s.p, dropped)
	}
	s.n++
	return tensor.Mul(x, mask)
}

// seedDropout gives d the stream seed and returns the reference's copy of
// it at d's drop probability.
func seedDropout(tb testing.TB, d *layers.Dropout, seed uint64) *maskStream {
	d.RNG = tensor.NewRNG(seed)
	return newMaskStream(tb, d.P, seed)
}

// checkClose fails unless got and want agree to tol.
func checkClose(tb testing.TB, what string, got, want *tensor.Tensor, tol float64) {
	tb.Helper()
	if fmt.Sprint(got.Shape()) != fmt.Sprint(want.Shape()) {
		tb.Fatalf("%s: shape %v, want %v", what, got.Shape(), want.Shape())
	}
	if d := maxAbsDiff(got.Data, want.Data); d > tol {
		tb.Fatalf("%s differs from the reference by %g", what, d)
	}
}

// dropConfigs are the drop probabilities of a test: each dropout alone,
// then all of them at different rates (so that swapping two sites shows).
func dropConfigs(n int) [][]float32 {
	var cs [][]float32
	for i := 0; i < n; i++ {
		c := make([]float32, n)
		c[i] = 0.5
		cs = append(cs, c)
	}
	all := make([]float32, n)
	for i := range all {
		all[i] = 0.3 + 0.3*float32(i)/float32(max(n-1, 1))
	}
	return append(cs, all)
}

// ffReference is FeedForward.Forward from its parts: Lin2(hidden(act(Lin1 x))).
func ffReference(ff *layers.FeedForward, x *tensor.Tensor, hidden *maskStream) *tensor.Tensor {
	return ff.Lin2.Forward(hidden.apply(ff.Act.Apply(ff.Lin1.Forward(x))))
}

// TestFeedForwardDropoutSite: FeedForward drops the activations of its
// hidden layer, in Forward and AddForward, and nothing in evaluation mode.
func TestFeedForwardDropoutSite(t *testing.T) {
	t.Parallel()
	for _, act := range []layers.Activation{layers.ReLU, layers.GELU} {
		t.Run(string(act), func(t *testing.T) {
			rng := tensor.NewRNG(31)
			ff := layers.NewFeedForward(6, 10, act, 0.4)
			ff.Init(rng)
			x := rng.Uniform(tensor.New(2, 3, 6), -1, 1)
			res := rng.Uniform(tensor.New(2, 3, 6), -1, 1)

			eval := newMaskStream(t, 0, 0)
			layers.SetTraining(false, ff)
			y := ff.Forward(x)
			checkClose(t, "evaluation-mode output", y, ffReference(ff, x, eval), 1e-5)
			checkClose(t, "evaluation-mode AddForward", ff.AddForward(res, x), tensor.Add(res, ffReference(ff, x, eval)), 1e-5)

			layers.SetTraining(true, ff)
			ref := seedDropout(t, ff.Drop, 7)
			got := ff.Forward(x)
			checkClose(t, "training-mode output", got, ffReference(ff, x, ref), 1e-5)
			if maxAbsDiff(got.Data, y.Data) == 0 {
				t.Fatal("training-mode output equals the evaluation-mode one")
			}
			checkClose(t, "training-mode AddForward", ff.AddForward(res, x), tensor.Add(res, ffReference(ff, x, ref)), 1e-5)
			if ref.n != 2 {
				t.Fatalf("reference drew %d masks, want 2", ref.n)
			}
		})
	}
}

// blockStreams seeds a block's residual and feed-forward dropouts and
// returns the reference's copies.
func blockStreams(t *testing.T, drop, ffDrop *layers.Dropout) (res, hidden *maskStream) {
	return seedDropout(t, drop, 101), seedDropout(t, ffDrop, 202)
}

// sublayerRef is a residual sub-layer from its parts: post-LN
// LN(x + drop(f(x))), pre-LN x + drop(f(LN(x))).
func sublayerRef(pre bool, ln *layers.LayerNorm, drop *maskStream, x *tensor.Tensor, f func(*tensor.Tensor) *tensor.Tensor) *tensor.Tensor {
	if pre {
		return tensor.Add(x, drop.apply(f(ln.Forward(x))))
	}
	return ln.Forward(tensor.Add(x, drop.apply(f(x))))
}

func encoderRef(e *layers.EncoderBlock, x, mask *tensor.Tensor, res, hidden *maskStream) *tensor.Tensor {
	h := sublayerRef(e.Cfg.PreLN, e.Norm1, res, x, func(z *tensor.Tensor) *tensor.Tensor {
		ctx, _ := e.SelfAttn.Attend(z, z, z, mask)
		return ctx
	})
	return sublayerRef(e.Cfg.PreLN, e.Norm2, res, h, func(z *tensor.Tensor) *tensor.Tensor {
		return ffReference(e.FF, z, hidden)
	})
}

func decoderRef(d *layers.DecoderBlock, y, mem, selfMask, memMask *tensor.Tensor, res, hidden *maskStream) *tensor.Tensor {
	h := sublayerRef(d.Cfg.PreLN, d.Norm1, res, y, func(z *tensor.Tensor) *tensor.Tensor {
		ctx, _ := d.SelfAttn.Attend(z, z, z, selfMask)
		return ctx
	})
	h = sublayerRef(d.Cfg.PreLN, d.Norm2, res, h, func(z *tensor.Tensor) *tensor.Tensor {
		ctx, _ := d.CrossAttn.Attend(z, mem, mem, memMask)
		return ctx
	})
	return sublayerRef(d.Cfg.PreLN, d.Norm3, res, h, func(z *tensor.Tensor) *tensor.Tensor {
		return ffReference(d.FF, z, hidden)
	})
}

// TestEncoderBlockDropoutSites: in training mode an encoder block drops
// the output of each residual sub-layer (self-attention, feed-forward)
// before the residual add, from the block's stream, and the feed-forward
// network's hidden activations from its own, pre- and post-LN; evaluation
// mode drops nothing.
func TestEncoderBlockDropoutSites(t *testing.T) {
	t.Parallel()
	for _, pre := range []bool{false, true} {
		for _, ps := range dropConfigs(2) {
			t.Run(fmt.Sprintf("%s/residual=%g/ff=%g", lnName(pre), ps[0], ps[1]), func(t *testing.T) {
				rng := tensor.NewRNG(41)
				blk := layers.NewEncoderBlock(layers.BlockConfig{Dim: 8, FFDim: 12, PreLN: pre}, newMultiHead(8, 2))
				blk.Init(rng)
				blk.Drop.P, blk.FF.Drop.P = ps[0], ps[1]
				x := rng.Uniform(tensor.New(2, 5, 8), -1, 1)
				mask := keyPadding([]int{5, 3}, 5)

				layers.SetTraining(false, blk)
				eval, _ := blk.Forward(x, mask)
				none := newMaskStream(t, 0, 0)
				checkClose(t, "evaluation-mode output", eval, encoderRef(blk, x, mask, none, none), 1e-5)

				layers.SetTraining(true, blk)
				res, hidden := blockStreams(t, blk.Drop, blk.FF.Drop)
				got, _ := blk.Forward(x, mask)
				checkClose(t, "training-mode output", got, encoderRef(blk, x, mask, res, hidden), 1e-5)
				if maxAbsDiff(got.Data, eval.Data) == 0 {
					t.Fatal("training-mode output equals the evaluation-mode one")
				}
				if want := 2 * sign(ps[0]); res.n != want {
					t.Fatalf("reference drew %d residual masks, want %d", res.n, want)
				}
			})
		}
	}
}

// TestDecoderBlockDropoutSites is TestEncoderBlockDropoutSites for the
// decoder block's three residual sub-layers (self-attention,
// cross-attention, feed-forward).
func TestDecoderBlockDropoutSites(t *testing.T) {
	t.Parallel()
	for _, pre := range []bool{false, true} {
		for _, ps := range dropConfigs(2) {
			t.Run(fmt.Sprintf("%s/residual=%g/ff=%g", lnName(pre), ps[0], ps[1]), func(t *testing.T) {
				rng := tensor.NewRNG(43)
				blk := layers.NewDecoderBlock(layers.BlockConfig{Dim: 8, FFDim: 12, PreLN: pre}, newMultiHead(8, 2), newMultiHead(8, 4))
				blk.Init(rng)
				blk.Drop.P, blk.FF.Drop.P = ps[0], ps[1]
				y := rng.Uniform(tensor.New(2, 4, 8), -1, 1)
				mem := rng.Uniform(tensor.New(2, 5, 8), -1, 1)
				selfMask := tensor.Mul(keyPadding([]int{4, 2}, 4), causal(4))
				memMask := keyPadding([]int{5, 3}, 5)

				layers.SetTraining(false, blk)
				eval, _, _ := blk.Forward(y, mem, selfMask, memMask)
				none := newMaskStream(t, 0, 0)
				checkClose(t, "evaluation-mode output", eval, decoderRef(blk, y, mem, selfMask, memMask, none, none), 1e-5)

				layers.SetTraining(true, blk)
				res, hidden := blockStreams(t, blk.Drop, blk.FF.Drop)
				got, _, _ := blk.Forward(y, mem, selfMask, memMask)
				checkClose(t, "training-mode output", got, decoderRef(blk, y, mem, selfMask, memMask, res, hidden), 1e-5)
				if maxAbsDiff(got.Data, eval.Data) == 0 {
					t.Fatal("training-mode output equals the evaluation-mode one")
				}
				if want := 3 * sign(ps[0]); res.n != want {
					t.Fatalf("reference drew %d residual masks, want %d", res.n, want)
				}
			})
		}
	}
}

func sign(p float32) int {
	if p > 0 {
		return 1
	}
	return 0
}

// singleLayers returns, for each layer of the stacked recurrent layer r,
// a one-layer layer of the same kind and directions holding a copy of that
// layer's weights, without dropout.
func singleLayers(t *testing.T, kind string, r layers.Recurrent, in int) []layers.Recurrent {
	t.Helper()
	byName := map[string]*layers.Param{}
	for _, p := range r.Params() {
		byName[p.Name] = p
	}
	var out []layers.Recurrent
	for l := 0; l < r.NumLayers(); l++ {
		size := in
		if l > 0 {
			size = r.Dirs() * r.HiddenSize()
		}
		one := newRecurrent(kind, size, r.HiddenSize(), 1, r.Dirs() == 2, 0, 1)
		for _, p := range one.Params() {
			name := fmt.Sprint(l) + strings.TrimPrefix(p.Name, "0")
			src := byName[name]
			if src == nil || len(src.Data) != len(p.Data) {
				t.Fatalf("layer %d: no parameter %s of %d values in the stacked layer", l, name, len(p.Data))
			}
			copy(p.Data, src.Data)
		}
		out = append(out, one)
	}
	return out
}

// TestRecurrentDropoutBetweenLayers: a stacked LSTM or GRU, uni- or
// bidirectional, drops the input of every layer but the first (the
// previous layer's outputs, directions concatenated) and nothing else —
// not its input, not its output — and nothing in evaluation mode.
func TestRecurrentDropoutBetweenLayers(t *testing.T) {
	t.Parallel()
	const b, steps, in, hidden, nl = 3, 5, 4, 3, 3
	lengths := []int{5, 2, 4}
	for _, kind := range []string{"lstm", "gru"} {
		for _, bidir := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/bidirectional=%v", kind, bidir), func(t *testing.T) {
				r := newRecurrent(kind, in, hidden, nl, bidir, 0.4, 51)
				singles := singleLayers(t, kind, r, in)
				rng := tensor.NewRNG(52)
				init, _ := initStates(rng, r, b, kind == "lstm")
				x := rng.Uniform(tensor.New(b, steps, in), -1, 1)
				reference := func(drop *maskStream) (*tensor.Tensor, []layers.State) {
					h := x
					var final []layers.State
					for l, one := range singles {
						if l > 0 {
							h = drop.apply(h)
						}
						var fl []layers.State
						h, fl = one.Forward(h, lengths, init[l*r.Dirs():(l+1)*r.Dirs()])
						final = append(final, fl...)
					}
					return h, final
				}
				compare := func(what string, out *tensor.Tensor, final []layers.State, drop *maskStream) {
					t.Helper()
					wantOut, wantFinal := reference(drop)
					checkClose(t, what+" output", out, wantOut, 1e-6)
					for k := range wantFinal {
						checkClose(t, fmt.Sprintf("%s final h[%d]", what, k), final[k].H, wantFinal[k].H, 1e-6)
						if wantFinal[k].C != nil {
							checkClose(t, fmt.Sprintf("%s final c[%d]", what, k), final[k].C, wantFinal[k].C, 1e-6)
						}
					}
				}

				layers.SetTraining(false, r)
				eval, evalFinal := r.Forward(x, lengths, init)
				compare("evaluation-mode", eval, evalFinal, newMaskStream(t, 0, 0))

				layers.SetTraining(true, r)
				var d *layers.Dropout
				switch r := r.(type) {
				case *layers.LSTM:
					d = r.Drop
				case *layers.GRU:
					d = r.Drop
				}
				drop := seedDropout(t, d, 53)
				got, final := r.Forward(x, lengths, init)
				compare("training-mode", got, final, drop)
				if maxAbsDiff(got.Data, eval.Data) == 0 {
					t.Fatal("training-mode output equals the evaluation-mode one")
				}
				if drop.n != nl-1 {
					t.Fatalf("reference drew %d masks, want %d", drop.n, nl-1)
				}
			})
		}
	}
}
