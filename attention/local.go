package attention

import (
	"fmt"
	"math"
	"slices"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/tensor"
)

// Local attention modes.
const (
	localMonotonic  = "monotonic"
	localPredictive = "predictive"
)

var localScores = []string{scoreAdditive, scoreDot, scoreGeneral, scoreScaled}

// LocalParams are the parameters of local attention.
type LocalParams struct {
	Mode     string `yaml:"mode" doc:"monotonic (local-m: the window is centred on the query's index) or predictive (local-p: a learned centre and a Gaussian)"`
	Window   int    `yaml:"window" doc:"half-width D: a query attends to the 2D+1 keys around its centre; the Gaussian of predictive mode has σ = D/2"`
	Score    string `yaml:"score" doc:"score inside the window: general, dot, scaled-dot or additive"`
	ScoreDim int    `yaml:"score_dim" doc:"additive score: attention size; 0: the key size"`
	Dim      int    `yaml:"dim" doc:"predictive mode: hidden size of the position predictor W_p; 0: the query size"`
	Weights  bool   `yaml:"weights" doc:"also return the [B,Tq,Tk] weights (no gradient, O(Tq·Tk) memory), for heatmaps"`
}

// Validate checks the mode, the score and the ranges.
func (p *LocalParams) Validate() error {
	switch {
	case p.Mode != localMonotonic && p.Mode != localPredictive:
		return registry.Invalid("mode", "must be monotonic or predictive, got %q", p.Mode)
	case p.Window < 1:
		return registry.Invalid("window", "must be at least 1, got %d", p.Window)
	case !slices.Contains(localScores, p.Score):
		return registry.Invalid("score", "unknown score %q (known: %v)", p.Score, localScores)
	case p.ScoreDim < 0:
		return registry.Invalid("score_dim", "must be 0 (the key size) or positive, got %d", p.ScoreDim)
	case p.Dim < 0:
		return registry.Invalid("dim", "must be 0 (the query size) or positive, got %d", p.Dim)
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
// score is general (default), dot, scaled-dot or additive, as the
// single-head variants. S_i is the number of keys query i may attend to
// under the mask (the source length, not the padded length, so padding
// changes nothing; under a causal mask, i+1). As in the paper, local-p's
// weights are not renormalised after the Gaussian, so they sum to less
// than 1. The window is a hard cut: the gradient reaches p_i only through
// the Gaussian. A query whose window holds no kept key (local-m with
// Tq > Tk + D, or a masked window) gets zero weights and a zero context.
//
// Weights [B,Tq,Tk] are built only on request (the `weights` parameter or
// RequestWeights), without gradient; otherwise Attend returns nil weights.
// Parameters: the score's (W, or W_q, W_k, b, v) and, in predictive mode,
// W_p [Dq,dim] and v_p [dim], initialised as nn.Linear.
type Local struct {
	dims       Dims
	predictive bool
	window     int
	score      *scorer
	wp, vp     *layers.Param
	weights    bool
}

var (
	_ Attention          = (*Local)(nil)
	_ layers.Initializer = (*Local)(nil)
	_ WeightsOnRequest   = (*Local)(nil)
)

func init() {
	Registry.Register(registry.Entry[Factory]{
		Name:   "local",
		Doc:    "Luong local attention over a window of 2D+1 keys (monotonic or predictive centre), weights only on request",
		Params: &LocalParams{Mode: localPredictive, Window: 10, Score: scoreGeneral},
		New: func(p any, d Dims) (Attention, error) {
			return NewLocal(*p.(*LocalParams), d)
		},
	})
}

// NewLocal returns local attention for site d (parameters allocated, not
// initialised).
func NewLocal(p LocalParams, d Dims) (*Local, error) {
	if err := checkDims(d); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if p.ScoreDim == 0 {
		p.ScoreDim = d.Key
	}
	if p.Dim == 0 {
		p.Dim = d.Query
	}
	s, err := newScorer(p.Score, 1, d.Query, d.Key, p.ScoreDim, 0)
	if err != nil {
		return nil, err
	}
	l := &Local{dims: d, predictive: p.Mode == localPredictive, window: p.Window, score: s, weights: p.Weights}
	if l.predictive {
		l.wp = layers.NewParam("W_p", d.Query, p.Dim)
		l.vp = layers.NewParam("v_p", p.Dim)
	}
	return l, nil
}

// RequestWeights turns the building of weights on or off.
func (l *Local) RequestWeights(on bool) { l.weights = on }

// Params lists the score's parameters, then W_p and v_p in predictive mode.
func (l *Local) Params() []*layers.Param {
	ps := l.score.params()
	if l.predictive {
		ps = append(ps, l.wp, l.vp)
	}
	return ps
}

// Init draws the parameters (see Local).
func (l *Local) Init(rng *tensor.RNG) {
	l.score.init(rng)
	if l.predictive {
		layers.InitUniform(rng, l.wp, layers.FanInBound(l.dims.Query))
		layers.InitUniform(rng, l.vp, layers.FanInBound(l.vp.Len()))
	}
}

// band describes each query's window: keys start[r] … start[r]+w−1 of
// query row r = b·Tq+i; keep[r·w+x] is 1 where key start[r]+x exists and
// the mask keeps it.
type band struct {
	b, tq, tk, w int
	start        []int
	keep         *tensor.Tensor // [B,Tq,W]
}

func (bd *band) key(r, x int) (int, bool) {
	if bd.keep.Data[r*bd.w+x] == 0 {
		return 0, false
	}
	return bd.start[r] + x, true
}

// Attend returns the context [B,Tq,Dv] and, on request, the weights
// [B,Tq,Tk] (nil otherwise).
func (l *Local) Attend(q, k, v, mask *tensor.Tensor) (ctx, weights *tensor.Tensor) {
	b, tq, tk := checkInputs("local", q, k, v, l.dims)
	m := newMaskView("local", mask, b, tq, tk)
	dd := l.window
	bd := &band{b: b, tq: tq, tk: tk, w: 2*dd + 1, start: make([]int, b*tq)}
	var p *tensor.Tensor // predicted positions [B,Tq,1]
	if l.predictive {
		count := tensor.New(b, tq, 1)
		for bb := 0; bb < b; bb++ {
			for i := 0; i < tq; i++ {
				if i > 0 && m.si == 0 {
					count.Data[bb*tq+i] = count.Data[bb*tq]
					continue
				}
				n := 0
				for j := 0; j < tk; j++ {
					if m.keep(bb, i, j) {
						n++
					}
				}
				count.Data[bb*tq+i] = float32(n)
			}
		}
		h := tensor.Tanh(tensor.MatMul(q, l.wp.Tensor))
		p = tensor.Mul(tensor.Sigmoid(tensor.MatMul(h, tensor.Reshape(l.vp.Tensor, l.vp.Len(), 1))), count)
		for r, x := range p.Data {
			bd.start[r] = int(math.Floor(float64(x)+0.5)) - dd
		}
	} else {
		for r := range bd.start {
			bd.start[r] = r%tq - dd
		}
	}
	bd.keep = tensor.New(b, tq, bd.w)
	for r, s := range bd.start {
		bb, i := r/tq, r%tq
		for x := 0; x < bd.w; x++ {
			if j := s + x; j >= 0 && j < tk && m.keep(bb, i, j) {
				bd.keep.Data[r*bd.w+x] = 1
			}
		}
	}
	var scores *tensor.Tensor
	switch l.score.kind {
	case scoreDot:
		scores = bandDot(q, k, bd)
	case scoreScaled:
		scores = bandDot(tensor.Scale(q, float32(1/math.Sqrt(float64(l.dims.Key)))), k, bd)
	case scoreGeneral:
		scores = bandDot(tensor.MatMul(q, l.score.w.Tensor), k, bd)
	case scoreAdditive:
		s := l.score
		qa := tensor.MatMul(q, s.wq.Tensor)
		ka := tensor.Add(tensor.MatMul(k, s.wk.Tensor), s.bias.Tensor)
		scores = bandAdditive(qa, ka, s.vvec.Tensor, bd)
	default:
		panic(fmt.Sprintf("attention local: score %q", l.score.kind))
	}
	w := tensor.MaskedSoftmax(scores, bd.keep)
	if l.predictive {
		pos := tensor.New(b, tq, bd.w)
		for r, s := range bd.start {
			for x := 0; x < bd.w; x++ {
				pos.Data[r*bd.w+x] = float32(s + x)
			}
		}
		sigma := float32(dd) / 2
		diff := tensor.Sub(pos, p)
		w = tensor.Mul(w, tensor.Exp(tensor.Scale(tensor.Mul(diff, diff), -1/(2*sigma*sigma))))
	}
	ctx = bandSum(w, v, bd)
	if l.weights {
		weights = tensor.New(b, tq, tk)
		for r := range bd.start {
			for x := 0; x < bd.w; x++ {
				if j, ok := bd.key(r, x); ok {
					weights.Data[r*tk+j] = w.Data[r*bd.w+x]
				}
			}
		}
	}
	return ctx, weights
}

// bandDot returns S [B,Tq,W] with S[b,i,x] = q[b,i] · k[b,start+x] for the
// kept keys of each window (0 elsewhere).
func bandDot(q, k *tensor.Tensor, bd *band) *tensor.Tensor {
	d := q.Dim(2)
	s := make([]float32, bd.b*bd.tq*bd.w)
	for r := range bd.start {
		bb := r / bd.tq
		qi := q.Data[r*d : (r+1)*d]
		for x := 0; x < bd.w; x++ {
			j, ok := bd.key(r, x)
			if !ok {
				continue
			}
			kj := k.Data[(bb*bd.tk+j)*d:][:d]
			var acc float32
			for y, qv := range qi {
				acc += qv * kj[y]
			}
			s[r*bd.w+x] = acc
		}
	}
	return tensor.Custom("BandDot", s, []int{bd.b, bd.tq, bd.w}, []*tensor.Tensor{q, k}, func(out *tensor.Tensor, g [][]float32) {
		for r := range bd.start {
			bb := r / bd.tq
			for x := 0; x < bd.w; x++ {
				j, ok := bd.key(r, x)
				gs := out.Grad[r*bd.w+x]
				if !ok || gs == 0 {
					continue
				}
				if g[0] != nil {
					axpy(g[0][r*d:(r+1)*d], gs, k.Data[(bb*bd.tk+j)*d:])
				}
				if g[1] != nil {
					axpy(g[1][(bb*bd.tk+j)*d:][:d], gs, q.Data[r*d:])
				}
			}
		}
	})
}

// bandAdditive returns S [B,Tq,W] with
// S[b,i,x] = Σ_a v[a] tanh(qa[b,i,a] + ka[b,start+x,a]) for the kept keys of
// each window (0 elsewhere); the backward pass recomputes the tanh.
func bandAdditive(qa, ka, v *tensor.Tensor, bd *band) *tensor.Tensor {
	a := qa.Dim(2)
	s := make([]float32, bd.b*bd.tq*bd.w)
	for r := range bd.start {
		bb := r / bd.tq
		qi := qa.Data[r*a : (r+1)*a]
		for x := 0; x < bd.w; x++ {
			j, ok := bd.key(r, x)
			if !ok {
				continue
			}
			s[r*bd.w+x] = additivePair(qi, ka.Data[(bb*bd.tk+j)*a:], v.Data)
		}
	}
	return tensor.Custom("BandAdditive", s, []int{bd.b, bd.tq, bd.w}, []*tensor.Tensor{qa, ka, v}, func(out *tensor.Tensor, g [][]float32) {
		dq := make([]float32, a)
		dv := make([]float32, a)
		for r := range bd.start {
			bb := r / bd.tq
			qi := qa.Data[r*a : (r+1)*a]
			clear(dq)
			for x := 0; x < bd.w; x++ {
				j, ok := bd.key(r, x)
				gs := out.Grad[r*bd.w+x]
				if !ok || gs == 0 {
					continue
				}
				var dk []float32
				if g[1] != nil {
					dk = g[1][(bb*bd.tk+j)*a:]
				}
				additivePairBackward(qi, ka.Data[(bb*bd.tk+j)*a:], v.Data, gs, dq, dk, dv)
			}
			if g[0] != nil {
				axpy(g[0][r*a:(r+1)*a], 1, dq)
			}
		}
		if g[2] != nil {
			axpy(g[2], 1, dv)
		}
	})
}

// bandSum returns the context C [B,Tq,Dv] with C[b,i] = Σ_x w[b,i,x]
// v[b,start+x] over the kept keys of each window.
func bandSum(w, v *tensor.Tensor, bd *band) *tensor.Tensor {
	dv := v.Dim(2)
	c := make([]float32, bd.b*bd.tq*dv)
	for r := range bd.start {
		bb := r / bd.tq
		for x := 0; x < bd.w; x++ {
			if j, ok := bd.key(r, x); ok {
				axpy(c[r*dv:(r+1)*dv], w.Data[r*bd.w+x], v.Data[(bb*bd.tk+j)*dv:])
			}
		}
	}
	return tensor.Custom("BandSum", c, []int{bd.b, bd.tq, dv}, []*tensor.Tensor{w, v}, func(out *tensor.Tensor, g [][]float32) {
		for r := range bd.start {
			bb := r / bd.tq
			gc := out.Grad[r*dv : (r+1)*dv]
			for x := 0; x < bd.w; x++ {
				j, ok := bd.key(r, x)
				if !ok {
					continue
				}
				vj := v.Data[(bb*bd.tk+j)*dv:][:dv]
				if g[0] != nil {
					var acc float32
					for y, gv := range gc {
						acc += gv * vj[y]
					}
					g[0][r*bd.w+x] += acc
				}
				if g[1] != nil {
					axpy(g[1][(bb*bd.tk+j)*dv:][:dv], w.Data[r*bd.w+x], gc)
				}
			}
		}
	})
}
