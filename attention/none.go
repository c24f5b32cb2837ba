package attention

import (
	"fmt"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/tensor"
)

// Contexts of the no-attention baseline.
const (
	ContextFinal = "final"
	ContextMean  = "mean"
	ContextZero  = "zero"
)

// NoneParams are the parameters of the no-attention baseline.
type NoneParams struct {
	Context string `yaml:"context" doc:"what the decoder gets at every step where attention's context goes: final (the encoder's final state of each direction; Cho et al. 2014, the RNNencdec baseline of Bahdanau et al. 2015), mean (the masked mean of the encoder outputs) or zero (nothing; Sutskever et al. 2014)"`
}

// Validate checks the context.
func (p *NoneParams) Validate() error {
	switch p.Context {
	case ContextFinal, ContextMean, ContextZero:
		return nil
	}
	return registry.Invalid("context", "must be final, mean or zero, got %q", p.Context)
}

// None is the no-attention baseline: the context does not depend on the
// query. It is fed to the decoder at every step exactly where an
// attention's context goes, and is one of
//
//	final  context_i = [→h_{last}; ←h_{first}]   the encoder's final state of each direction
//	mean   context_i = (1/n_i) Σ_{j kept} v_j      the masked mean of the encoder outputs
//	zero   context_i = 0
//
// final (the default) is the fixed context vector of the RNN
// encoder–decoder (Cho et al. 2014, "Learning Phrase Representations using
// RNN Encoder–Decoder for Statistical Machine Translation"), the
// no-attention baseline "RNNencdec" of Bahdanau, Cho & Bengio 2015: the
// decoder sees the source summary at every step, not only in its initial
// state. It needs values that are a recurrent encoder's outputs
// (Dims.Directions, set by seq2seq-rnn): the forward direction's final
// state is its output at the last kept key, the backward direction's its
// output at the first kept key (a construction error elsewhere). zero is
// the encoder–decoder of Sutskever, Vinyals & Le 2014 ("Sequence to
// Sequence Learning with Neural Networks"), whose decoder sees the source
// only through its initial state. A query with no kept key gets a zero
// context. The weights are zero, except mean's, which are uniform over the
// kept keys. No parameters.
type None struct {
	base
	context string
}

var _ Attention = (*None)(nil)

func init() {
	Registry.Register(registry.Entry[Factory]{
		Name:   "none",
		Doc:    "no attention (baseline): a context that ignores the query — the encoder's final state (default), the mean of its outputs, or zero",
		Params: &NoneParams{Context: ContextFinal},
		New: func(p any, d Dims) (Attention, error) {
			return NewNone(*p.(*NoneParams), d)
		},
	})
}

// NewNone returns the baseline for site d. Context final needs the outputs
// of a recurrent encoder (Dims.Directions 1 or 2) with as many features per
// direction.
func NewNone(p NoneParams, d Dims) (*None, error) {
	b, err := newBase("none", d)
	if err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if d.Positions != nil {
		return nil, fmt.Errorf("none has no queries, keys or scores for positions %s to act on", d.Positions.Scheme())
	}
	if p.Context == ContextFinal {
		switch {
		case d.Directions < 1 || d.Directions > 2:
			return nil, fmt.Errorf("context final needs the outputs of a recurrent encoder (seq2seq-rnn); use context: mean or zero here")
		case d.Value%d.Directions != 0:
			return nil, fmt.Errorf("context final: value size %d does not split into %d directions", d.Value, d.Directions)
		}
	}
	n := &None{base: b, context: p.Context}
	n.self = n
	return n, nil
}

// Context returns final, mean or zero.
func (n *None) Context() string { return n.context }

// Params returns nil: the baseline has no parameters.
func (n *None) Params() []*layers.Param { return nil }

// Attend returns the context [B,Tq,H·Dv] and the weights ([B,Tq,Tk]).
func (n *None) Attend(q, k, v, mask *tensor.Tensor) (ctx, weights *tensor.Tensor) {
	return n.attendAt(q, k, v, mask, nil)
}

// attendAt is Attend with query 0 of batch row b at position off[b]
// (decoding over a key/value cache; nil: 0).
func (n *None) attendAt(q, k, v, mask *tensor.Tensor, off []int) (ctx, weights *tensor.Tensor) {
	c := n.newCall(q, k, v, mask, off)
	w := tensor.New(c.b, c.h, c.tq, c.tk)
	if n.context == ContextZero {
		return tensor.New(c.b, c.tq, c.h*c.dv), c.weightsOut(w)
	}
	// Each query row's context is a fixed combination of value rows:
	// mean: uniform over the kept keys; final: the forward half of the last
	// kept key and the backward half of the first.
	ld := c.h * c.dv
	type pick struct{ j, from, to int }
	picks := make([][]pick, c.b*c.tq)
	scale := make([]float32, c.b*c.tq)
	for bb := 0; bb < c.b; bb++ {
		for i := 0; i < c.tq; i++ {
			r := bb*c.tq + i
			var kept []int
			for j := 0; j < c.tk; j++ {
				if c.m.keep(bb, i, j) {
					kept = append(kept, j)
				}
			}
			if len(kept) == 0 {
				continue
			}
			if n.context == ContextMean {
				scale[r] = 1 / float32(len(kept))
				for _, j := range kept {
					picks[r] = append(picks[r], pick{j, 0, ld})
					for h := 0; h < c.h; h++ {
						w.Data[((bb*c.h+h)*c.tq+i)*c.tk+j] = scale[r]
					}
				}
				continue
			}
			scale[r] = 1
			half := ld / n.dims.Directions
			picks[r] = append(picks[r], pick{kept[len(kept)-1], 0, half})
			if n.dims.Directions == 2 {
				picks[r] = append(picks[r], pick{kept[0], half, ld})
			}
		}
	}
	out := tensor.Scratch(c.b * c.tq * ld) // recycled with the result: a make'd buffer joined the free lists at every step
	for r, ps := range picks {
		bb := r / c.tq
		for _, p := range ps {
			axpy(out[r*ld+p.from:r*ld+p.to], scale[r], v.Data[(bb*c.tk+p.j)*ld+p.from:])
		}
	}
	ctx = tensor.Custom("NoneContext", out, []int{c.b, c.tq, ld}, []*tensor.Tensor{v}, func(res *tensor.Tensor, g [][]float32) {
		for r, ps := range picks {
			bb := r / c.tq
			for _, p := range ps {
				axpy(g[0][(bb*c.tk+p.j)*ld+p.from:(bb*c.tk+p.j)*ld+p.to], scale[r], res.Grad[r*ld+p.from:])
			}
		}
	})
	return ctx, c.weightsOut(w)
}
