package attention

import (
	"math"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/tensor"
)

// Local attention modes.
const (
	localMonotonic  = "monotonic"
	localPredictive = "predictive"
)

// LocalParams are the parameters of local attention.
type LocalParams struct {
	Mode    string          `yaml:"mode" doc:"monotonic (local-m: the window is centred on the query's index) or predictive (local-p: a learned centre and a Gaussian)"`
	Window  int             `yaml:"window" doc:"half-width D: a query attends to the 2D+1 keys around its centre; the Gaussian of predictive mode has σ = D/2" range:"[1,65536]"`
	Score   registry.Plugin `yaml:"score" doc:"score inside the window: a block {name: ..., parameters} naming any score"`
	Dim     int             `yaml:"dim" doc:"predictive mode: hidden size of the position predictor W_p; 0: the query size" range:"[0,65536]"`
	Weights bool            `yaml:"weights" doc:"also return the [B,Tq,Tk] weights (no gradient, O(Tq·Tk) memory), for heatmaps"`
}

// Validate checks the mode and the ranges.
func (p *LocalParams) Validate() error {
	switch {
	case p.Mode != localMonotonic && p.Mode != localPredictive:
		return registry.Invalid("mode", "must be monotonic or predictive, got %q", p.Mode)
	case p.Window < 1:
		return registry.Invalid("window", "must be at least 1, got %d", p.Window)
	case p.Dim < 0:
		return registry.Invalid("dim", "must be 0 (the query size) or positive, got %d", p.Dim)
	}
	return nil
}

// Lint refuses, in new experiments (registry.Linter), a dim with mode
// monotonic: that mode has no position predictor, so a dim would change
// the run's identity (and plan's parameter count) and nothing else. Runs
// stored with it before still load.
func (p *LocalParams) Lint() error {
	if p.Dim != 0 && p.Mode == localMonotonic {
		return registry.Invalid("dim", "only applies to mode predictive (the position predictor's size), got %d with mode monotonic", p.Dim)
	}
	return nil
}

// Local is Luong's local attention (Luong, Pham & Manning 2015, "Effective
// Approaches to Attention-based Neural Machine Translation"): each query
// attends only to the 2D+1 keys j ∈ [c_i − D, c_i + D] around a centre c_i
// (D = window), so its cost is O(Tq·D) instead of O(Tq·Tk):
//
//	local-m (monotonic):   c_i = i (the query's index)
//	                       weights[i,j] = softmax_{j in window}(score(q_i, k_j), masked)
//	local-p (predictive):  p_i = S_i · sigmoid(v_pᵀ tanh(q_i W_p)),  c_i = round(p_i)
//	                       weights[i,j] = softmax_{j in window}(score, masked) · exp(−(j − p_i)² / (2σ²)),  σ = D/2
//	context_i = Σ_j weights[i,j] v_j
//
// score is any registered score (general by default). S_i is the number of
// keys query i may attend to under the mask (the source length, not the
// padded length, so padding changes nothing; under the causal rule, i+1).
// As in the paper, local-p's weights are not renormalised after the
// Gaussian, so they sum to less than 1. The window is a hard cut: the
// gradient reaches p_i only through the Gaussian. A query whose window
// holds no kept key (local-m with Tq > Tk + D, or a masked window) gets
// zero weights and a zero context. As a per-head attention each head has
// its own score parameters and, in predictive mode, its own centre.
//
// Weights are built only on request (the `weights` parameter or
// RequestWeights), without gradient; otherwise Attend returns nil weights.
// Parameters: the score's and, in predictive mode, W_p [Dq,dim] and v_p
// [dim] (per head: a leading head axis), initialised as nn.Linear.
type Local struct {
	base
	predictive bool
	window     int
	score      Score
	wp, vp     *layers.Param
}

var (
	_ Attention          = (*Local)(nil)
	_ layers.Initializer = (*Local)(nil)
	_ WeightsOnRequest   = (*Local)(nil)
)

func init() {
	Registry.Register(registry.Entry[Factory]{
		Name:   "local",
		Doc:    "Luong local attention over a window of 2D+1 keys (monotonic or predictive centre) with any score, weights only on request",
		Params: &LocalParams{Mode: localPredictive, Window: 10, Score: registry.Plugin{Name: "general"}},
		New: func(p any, d Dims) (Attention, error) {
			return NewLocal(*p.(*LocalParams), d)
		},
	})
}

// NewLocal returns local attention for site d (parameters allocated, not
// initialised).
func NewLocal(p LocalParams, d Dims) (*Local, error) {
	b, err := newBase("local", d)
	if err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if p.Dim == 0 {
		p.Dim = d.Query
	}
	if p.Score.Name == "" {
		p.Score.Name = "general"
	}
	s, err := buildScore(p.Score, ScoreDims{Heads: b.heads, Query: d.Query, Key: d.Key})
	if err != nil {
		return nil, err
	}
	l := &Local{base: b, predictive: p.Mode == localPredictive, window: p.Window, score: s}
	l.self = l
	if err := l.usePositions(isDot(s), true); err != nil {
		return nil, err
	}
	l.weights = p.Weights
	if l.predictive {
		sd := ScoreDims{Heads: b.heads}
		l.wp = layers.NewParam("W_p", sd.shape(d.Query, p.Dim)...)
		l.vp = layers.NewParam("v_p", sd.shape(p.Dim)...)
	}
	return l, nil
}

// Params lists the score's parameters, then W_p and v_p in predictive mode.
func (l *Local) Params() []*layers.Param {
	ps := l.score.Params()
	if l.predictive {
		ps = append(ps, l.wp, l.vp)
	}
	return ps
}

// Init draws the parameters (see Local).
func (l *Local) Init(rng *tensor.RNG) {
	l.score.Init(rng)
	if l.predictive {
		layers.InitUniform(rng, l.wp, layers.FanInBound(l.dims.Query))
		layers.InitUniform(rng, l.vp, layers.FanInBound(l.vp.Dim(-1)))
	}
}

// Attend returns the context [B,Tq,H·Dv] and, on request, the weights
// ([B,Tq,Tk], or [B,H,Tq,Tk] for H heads; nil otherwise).
func (l *Local) Attend(q, k, v, mask *tensor.Tensor) (ctx, weights *tensor.Tensor) {
	return l.attendAt(q, k, v, mask, nil)
}

// attendAt is Attend with query 0 of batch row b at position off[b]
// (decoding over a key/value cache; nil: 0).
func (l *Local) attendAt(q, k, v, mask *tensor.Tensor, off []int) (ctx, weights *tensor.Tensor) {
	c := l.newCall(q, k, v, mask, off)
	b, tq, h, dd := c.b, c.tq, c.h, l.window
	start := make([]int, b*h*tq)
	var p *tensor.Tensor // predicted positions [B,Tq,H]
	if l.predictive {
		count := tensor.New(b, tq, 1)
		for bb := 0; bb < b; bb++ {
			for i := 0; i < tq; i++ {
				if i > 0 && c.m.rowKeepsAll() {
					count.Data[bb*tq+i] = count.Data[bb*tq]
					continue
				}
				n := 0
				for j := 0; j < c.tk; j++ {
					if c.m.keep(bb, i, j) {
						n++
					}
				}
				count.Data[bb*tq+i] = float32(n)
			}
		}
		hid := tensor.Tanh(headLinear(q, l.wp.Tensor))
		vp := tensor.Reshape(l.vp.Tensor, append(l.vp.Shape(), 1)...)
		p = tensor.Mul(tensor.Sigmoid(headLinear(hid, vp)), count)
		for r, x := range p.Data { // r = (b·Tq+i)·H+hh
			bb, i, hh := r/(tq*h), (r/h)%tq, r%h
			start[(bb*h+hh)*tq+i] = int(math.Floor(float64(x)+0.5)) - dd
		}
	} else {
		for r := range start { // r = (b·H+hh)·Tq+i
			start[r] = c.m.pos(r/(h*tq), r%tq) - dd
		}
	}
	w := bandWindow(c, 2*dd+1, start, true)
	probs := windowSoftmax(l.score.pairs(c.queries(l.score.Queries(q)), c.keys(l.score.Keys(k)), w), w, c.bias())
	if l.predictive {
		pos := tensor.New(b, h, tq, w.w)
		for r, s := range start {
			for x := 0; x < w.w; x++ {
				pos.Data[r*w.w+x] = float32(s + x)
			}
		}
		sigma := float32(dd) / 2
		ph := tensor.Permute(tensor.Reshape(p, b, tq, h, 1), 0, 2, 1, 3)
		diff := tensor.Sub(pos, ph)
		probs = tensor.Mul(probs, tensor.Exp(tensor.Scale(tensor.Mul(diff, diff), -1/(2*sigma*sigma))))
	}
	ctx = windowSum(probs, v, w)
	if l.weights {
		weights = c.weightsOut(w.scatter(probs))
	}
	return ctx, weights
}
