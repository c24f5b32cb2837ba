package attention

import (
	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/tensor"
)

// Dense is softmax attention over every key with a registered score: the
// single-head variants dot, scaled-dot, general, additive and location
// (one per score, see RegisterScore):
//
//	weights[i,:] = softmax_j(score(q_i, k_j), masked),  context_i = Σ_j weights[i,j] v_j
//
// Scores of the dot-product form (DotScore) are computed and normalised by
// one fused op per call (one GEMM per head, the scores never stored); other
// scores by their own pair kernel and a masked softmax. The weights are
// returned with their gradient: [B,Tq,Tk], or [B,H,Tq,Tk] for H heads. The
// parameters are the score's.
//
// Unless its weights are requested (WeightsOnRequest: a model asks for
// them for heatmaps and alignment metrics), a dot-product score computes
// scores, softmax and the weighted sum as one op that keeps the weights to
// itself, and Attend returns nil weights; for long inputs it takes the
// chunked (flash) kernel instead — the same attention, equal up to float32
// rounding, in O(n) memory — from flashKeys keys (flashKeysCausal at a
// causal site, whose hidden half the flash kernel skips). Requested
// weights come with their gradient.
type Dense struct {
	base
	score Score
	dot   DotScore // the score as a DotScore, or nil
}

// Key counts from which a dense dot-product attention takes the flash
// kernel. Measured on this machine (4 heads of 32, batch 4, forward and
// backward, thread CPU time): bidirectional 6.4 ms dense vs 6.1 ms flash at
// 256 keys, 93 vs 22 ms at 512; causal 1.5 vs 1.3 ms at 128, 7.0 vs 4.1 ms
// at 256. Below these the dense kernel is as fast or faster.
const (
	flashKeys       = 256
	flashKeysCausal = 128
	flashBlock      = 64
)

var (
	_ WeightsOnRequest   = (*Dense)(nil)
	_ Attention          = (*Dense)(nil)
	_ layers.Initializer = (*Dense)(nil)
	_ Preparer           = (*Dense)(nil)
)

func newDense(name string, p any, d Dims) (*Dense, error) {
	b, err := newBase(name, d)
	if err != nil {
		return nil, err
	}
	s, err := newScoreFor(name, p, d)
	if err != nil {
		return nil, err
	}
	a := &Dense{base: b, score: s}
	a.self = a
	a.dot, _ = s.(DotScore)
	if err := a.usePositions(a.dot != nil, true); err != nil {
		return nil, err
	}
	return a, nil
}

// newScoreFor builds the score registered as name for the heads of site d,
// without the "score" prefix in errors (the variant is the score).
func newScoreFor(name string, p any, d Dims) (Score, error) {
	e, err := Scores.Lookup(name)
	if err != nil {
		return nil, err
	}
	return e.New(p, ScoreDims{Heads: d.heads(), Query: d.Query, Key: d.Key})
}

// Score returns the attention's score.
func (a *Dense) Score() Score { return a.score }

// Params lists the score's parameters.
func (a *Dense) Params() []*layers.Param { return a.score.Params() }

// Init draws the score's parameters.
func (a *Dense) Init(rng *tensor.RNG) { a.score.Init(rng) }

// Attend returns the context [B,Tq,H·Dv] and the weights ([B,Tq,Tk] for one
// head, [B,H,Tq,Tk] for H).
func (a *Dense) Attend(q, k, v, mask *tensor.Tensor) (ctx, weights *tensor.Tensor) {
	return a.attendAt(q, k, v, mask, nil)
}

// attendAt is Attend with query 0 of batch row b at position off[b]
// (decoding over a key/value cache; nil: 0).
func (a *Dense) attendAt(q, k, v, mask *tensor.Tensor, off []int) (ctx, weights *tensor.Tensor) {
	c := a.newCall(q, k, v, mask, off)
	ks := c.keys(a.score.Keys(k))
	if a.flashPays(c) {
		return newFlash(c, c.queries(a.score.Queries(q)), ks, a.dot.Scale(), flashBlock).forward(), nil
	}
	if a.dot != nil && !a.weights {
		return dotAttention(c.queries(a.score.Queries(q)), ks, v, c.h, a.dot.Scale(), &c.m, c.bias()), nil
	}
	ctx, w := a.attend(c, ks)
	return ctx, c.weightsOut(w)
}

// flashPays reports whether the call takes the flash kernel (see Dense).
func (a *Dense) flashPays(c *call) bool {
	if a.dot == nil || a.weights {
		return false
	}
	return c.tk >= flashKeys || (a.dims.Causal && c.tk >= flashKeysCausal)
}

// attend computes a call's context and weights from the mapped (and
// rotated) keys ks.
func (a *Dense) attend(c *call, ks *tensor.Tensor) (ctx, weights *tensor.Tensor) {
	qs := c.queries(a.score.Queries(c.q))
	var p *tensor.Tensor
	if a.dot != nil {
		p = dotSoftmax(qs, ks, c.h, a.dot.Scale(), &c.m, c.bias())
	} else {
		w := fullWindow(c)
		p = windowSoftmax(a.score.pairs(qs, ks, w), w, c.bias())
	}
	return weightedSum(p, c.v), p
}

// Prepare maps the keys once (additive: k·W_k + b) for many Attend calls
// over the same keys and values, as a recurrent decoder makes. The
// prepared form always takes the dense kernel and returns the weights,
// requested or not (a decoder's queries are one step long). At a site with
// a position scheme there is nothing to prepare (rope moves the keys).
func (a *Dense) Prepare(k, v, mask *tensor.Tensor) Prepared {
	if a.dims.Positions != nil { // keys move with the queries' positions: nothing to prepare
		return plain{a, k, v, mask}
	}
	return &preparedDense{a: a, k: k, ks: a.score.Keys(k), v: v, mask: mask}
}

type preparedDense struct {
	a        *Dense
	k, ks, v *tensor.Tensor
	mask     *tensor.Tensor
}

func (p *preparedDense) Attend(q *tensor.Tensor) (ctx, weights *tensor.Tensor) {
	c := p.a.newCall(q, p.k, p.v, p.mask, nil)
	ctx, w := p.a.attend(c, p.ks)
	return ctx, c.weightsOut(w)
}

// Select returns the prepared form for the rows idx of the batch (see
// RowSelector): the mapped keys are gathered, not mapped again.
func (p *preparedDense) Select(idx []int) Prepared {
	out := &preparedDense{a: p.a, k: gatherRows(p.k, idx), ks: gatherRows(p.ks, idx), mask: gatherRows(p.mask, idx)}
	out.v = out.k
	if p.v != p.k {
		out.v = gatherRows(p.v, idx)
	}
	return out
}
