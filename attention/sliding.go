package attention

import (
	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/tensor"
)

// SlidingWindowParams are the parameters of sliding-window attention.
type SlidingWindowParams struct {
	Window  int             `yaml:"window" doc:"keys per query w: the w most recent at a causal site, w around the query elsewhere" range:"[1,65536]"`
	Score   registry.Plugin `yaml:"score" doc:"score inside the band: a block {name: ..., parameters} naming any score"`
	Block   int             `yaml:"block" doc:"dot-product scores: queries and keys per tile of the flash kernel" range:"[1,65536]"`
	Weights bool            `yaml:"weights" doc:"also return the [B,Tq,Tk] weights (no gradient, O(Tq·Tk) memory), for heatmaps"`
}

// Validate checks the ranges.
func (p *SlidingWindowParams) Validate() error {
	switch {
	case p.Window < 1:
		return registry.Invalid("window", "must be at least 1, got %d", p.Window)
	case p.Block < 1:
		return registry.Invalid("block", "must be at least 1, got %d", p.Block)
	}
	return nil
}

// SlidingWindow is softmax attention restricted to a band of w keys around
// each query (as in Longformer's local attention, Beltagy, Peters & Cohan
// 2020, "Longformer: The Long-Document Transformer", and Child et al.
// 2019's local pattern): query i at position p attends to
//
//	causal site:        keys p−w+1 … p
//	bidirectional site: keys p−⌊(w−1)/2⌋ … p+⌈(w−1)/2⌉
//	weights[i,j] = softmax_{j in band}(score(q_i, k_j) + position bias, masked),  context_i = Σ_j weights[i,j] v_j
//
// in O(n·w) time and memory. With a dot-product score (scaled-dot by
// default) it runs the chunked (flash) kernel with the band as a mask rule,
// so only the tiles that meet the band are computed and nothing
// [Tq,Tk]-sized is stored; other scores compute their pair kernel over
// each query's band. Unlike local-m, the band is one-sided at a causal site.
//
// Weights are computed only on request (the `weights` parameter or
// RequestWeights), without gradient; otherwise Attend returns nil weights.
// The parameters are the score's.
type SlidingWindow struct {
	base
	window, block int
	score         Score
	dot           DotScore
}

var (
	_ Attention          = (*SlidingWindow)(nil)
	_ WeightsOnRequest   = (*SlidingWindow)(nil)
	_ layers.Initializer = (*SlidingWindow)(nil)
)

func init() {
	Registry.Register(registry.Entry[Factory]{
		Name:   "sliding-window",
		Doc:    "softmax attention over a band of w keys (the w most recent at a causal site), any score, O(n·w), weights only on request",
		Params: &SlidingWindowParams{Window: 64, Score: registry.Plugin{Name: "scaled-dot"}, Block: 64},
		New: func(p any, d Dims) (Attention, error) {
			return NewSlidingWindow(*p.(*SlidingWindowParams), d)
		},
	})
}

// NewSlidingWindow returns sliding-window attention for site d.
func NewSlidingWindow(p SlidingWindowParams, d Dims) (*SlidingWindow, error) {
	b, err := newBase("sliding-window", d)
	if err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if p.Score.Name == "" {
		p.Score.Name = "scaled-dot"
	}
	s, err := buildScore(p.Score, ScoreDims{Heads: b.heads, Query: d.Query, Key: d.Key})
	if err != nil {
		return nil, err
	}
	a := &SlidingWindow{base: b, window: p.Window, block: p.Block, score: s}
	a.self = a
	a.dot, _ = s.(DotScore)
	a.weights = p.Weights
	if err := a.usePositions(a.dot != nil, true); err != nil {
		return nil, err
	}
	return a, nil
}

// Params lists the score's parameters.
func (a *SlidingWindow) Params() []*layers.Param { return a.score.Params() }

// Init draws the score's parameters.
func (a *SlidingWindow) Init(rng *tensor.RNG) { a.score.Init(rng) }

// Attend returns the context [B,Tq,H·Dv] and, on request, the weights
// ([B,Tq,Tk], or [B,H,Tq,Tk] for H heads; nil otherwise).
func (a *SlidingWindow) Attend(q, k, v, mask *tensor.Tensor) (ctx, weights *tensor.Tensor) {
	return a.attendAt(q, k, v, mask, nil)
}

// attendAt is Attend with query 0 of batch row b at position off[b]
// (decoding over a key/value cache; nil: 0).
func (a *SlidingWindow) attendAt(q, k, v, mask *tensor.Tensor, off []int) (ctx, weights *tensor.Tensor) {
	c := a.newCall(q, k, v, mask, off)
	c.m.band = true
	if a.dims.Causal {
		c.m.left, c.m.right = a.window-1, 0
	} else {
		c.m.left = (a.window - 1) / 2
		c.m.right = a.window - 1 - c.m.left
	}
	qs, ks := c.queries(a.score.Queries(q)), c.keys(a.score.Keys(k))
	if a.dot != nil {
		f := newFlash(c, qs, ks, a.dot.Scale(), a.block)
		ctx = f.forward()
		if a.weights {
			weights = c.weightsOut(f.weightsMatrix())
		}
		return ctx, weights
	}
	start := make([]int, c.b*c.tq)
	for r := range start {
		start[r] = c.m.pos(r/c.tq, r%c.tq) - c.m.left
	}
	w := bandWindow(c, a.window, start, false)
	p := windowSoftmax(a.score.pairs(qs, ks, w), w, c.bias())
	ctx = windowSum(p, v, w)
	if a.weights {
		weights = c.weightsOut(w.scatter(p))
	}
	return ctx, weights
}
