package attention

import (
	"fmt"
	"math"
	"slices"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/tensor"
)

// MultiHeadParams are the parameters of multi-head attention.
type MultiHeadParams struct {
	Heads    int    `yaml:"heads" doc:"number of heads; must divide dim"`
	Dim      int    `yaml:"dim" doc:"model size of the projections, all heads together; 0: the value size"`
	Score    string `yaml:"score" doc:"score of each head: scaled-dot, dot, general, additive or location"`
	ScoreDim int    `yaml:"score_dim" doc:"additive score: attention size per head; 0: the head size"`
	MaxLen   int    `yaml:"max_len" doc:"location score: number of source positions per head"`
	Bias     bool   `yaml:"bias" doc:"biases on the in- and output projections (PyTorch's default)"`
}

// Validate checks ranges and the score name.
func (p *MultiHeadParams) Validate() error {
	switch {
	case p.Heads < 1:
		return registry.Invalid("heads", "must be at least 1, got %d", p.Heads)
	case p.Dim < 0:
		return registry.Invalid("dim", "must be 0 (the value size) or positive, got %d", p.Dim)
	case !slices.Contains(scoreNames, p.Score):
		return registry.Invalid("score", "unknown score %q (known: %v)", p.Score, scoreNames)
	case p.ScoreDim < 0:
		return registry.Invalid("score_dim", "must be 0 (the head size) or positive, got %d", p.ScoreDim)
	case p.MaxLen < 1:
		return registry.Invalid("max_len", "must be at least 1, got %d", p.MaxLen)
	}
	return nil
}

// MultiHead is multi-head attention (Vaswani et al. 2017, "Attention Is All
// You Need"), identical to torch.nn.MultiheadAttention with the default
// scaled-dot score:
//
//	Q = q W_q + b_q,  K = k W_k + b_k,  V = v W_v + b_v     (W_q [Dq,D], W_k [Dk,D], W_v [Dv,D])
//	head h uses columns h·d … h·d+d−1 (d = D/H) of Q, K, V:
//	weights[b,h,i,:] = softmax_j(score(Q_h[b,i], K_h[b,j]), masked)
//	heads[b,i,h·d:(h+1)·d] = Σ_j weights[b,h,i,j] V_h[b,j]
//	context = heads W_o + b_o                                (W_o [D,Dv])
//
// with score scaled-dot (Q_h·K_h/√d, the default), dot, general (each head
// its own W [d,d]), additive (each head its own W_q, W_k [d,A], b, v [A]) or
// location (each head its own W [d,max_len]). The weights are [B,H,Tq,Tk].
// A query whose every key is masked gets zero weights and a zero context
// (not b_o: PyTorch would give NaN). Parameters W_q, b_q, W_k, b_k, W_v,
// b_v, score.* and W_o, b_o, initialised as PyTorch's: in-projections
// Xavier-uniform (as one stacked [3D,D] matrix when Dq = Dk = Dv = D),
// W_o uniform in ±1/√D, biases 0.
type MultiHead struct {
	dims          Dims
	heads, dim    int
	score         *scorer
	wq, wk, wv    *layers.Param
	bq, bk, bv    *layers.Param
	wo, bo        *layers.Param
	stackedInProj bool
}

var (
	_ Attention          = (*MultiHead)(nil)
	_ layers.Initializer = (*MultiHead)(nil)
)

func init() {
	Registry.Register(registry.Entry[Factory]{
		Name:   "multi-head",
		Doc:    "Vaswani multi-head attention: projections, H heads of any score, output projection",
		Params: &MultiHeadParams{Heads: 4, Score: scoreScaled, MaxLen: 256, Bias: true},
		New: func(p any, d Dims) (Attention, error) {
			return NewMultiHead(*p.(*MultiHeadParams), d)
		},
	})
}

// NewMultiHead returns multi-head attention for site d (parameters
// allocated, not initialised). It fails when heads does not divide dim.
func NewMultiHead(p MultiHeadParams, d Dims) (*MultiHead, error) {
	if err := checkDims(d); err != nil {
		return nil, err
	}
	if p.Dim == 0 {
		p.Dim = d.Value
	}
	if p.Heads < 1 || p.Dim%p.Heads != 0 {
		return nil, fmt.Errorf("dim %d is not a multiple of heads %d", p.Dim, p.Heads)
	}
	hd := p.Dim / p.Heads
	if p.ScoreDim == 0 {
		p.ScoreDim = hd
	}
	s, err := newScorer(p.Score, p.Heads, hd, hd, p.ScoreDim, p.MaxLen)
	if err != nil {
		return nil, err
	}
	m := &MultiHead{
		dims: d, heads: p.Heads, dim: p.Dim, score: s,
		wq: layers.NewParam("W_q", d.Query, p.Dim),
		wk: layers.NewParam("W_k", d.Key, p.Dim),
		wv: layers.NewParam("W_v", d.Value, p.Dim),
		wo: layers.NewParam("W_o", p.Dim, d.Value),
	}
	if p.Bias {
		m.bq, m.bk, m.bv = layers.NewParam("b_q", p.Dim), layers.NewParam("b_k", p.Dim), layers.NewParam("b_v", p.Dim)
		m.bo = layers.NewParam("b_o", d.Value)
	}
	m.stackedInProj = d.Query == p.Dim && d.Key == p.Dim && d.Value == p.Dim
	return m, nil
}

// Heads returns the number of heads.
func (m *MultiHead) Heads() int { return m.heads }

// Params lists W_q, b_q, W_k, b_k, W_v, b_v, the score's parameters
// (prefixed "score."), W_o and b_o; biases only with bias on.
func (m *MultiHead) Params() []*layers.Param {
	var ps []*layers.Param
	add := func(p ...*layers.Param) {
		for _, x := range p {
			if x != nil {
				ps = append(ps, x)
			}
		}
	}
	add(m.wq, m.bq, m.wk, m.bk, m.wv, m.bv)
	add(layers.Prefix("score", m.score.params())...)
	add(m.wo, m.bo)
	return ps
}

// Init draws the parameters as torch.nn.MultiheadAttention does.
func (m *MultiHead) Init(rng *tensor.RNG) {
	xavier := func(p *layers.Param, in int) {
		fanIn, fanOut := in, m.dim
		if m.stackedInProj {
			fanOut = 3 * m.dim
		}
		layers.InitUniform(rng, p, math.Sqrt(6/float64(fanIn+fanOut)))
	}
	xavier(m.wq, m.dims.Query)
	xavier(m.wk, m.dims.Key)
	xavier(m.wv, m.dims.Value)
	layers.InitUniform(rng, m.wo, layers.FanInBound(m.dim))
	for _, b := range []*layers.Param{m.bq, m.bk, m.bv, m.bo} {
		if b != nil {
			clear(b.Data)
		}
	}
	m.score.init(rng)
}

func affine(x *tensor.Tensor, w, b *layers.Param) *tensor.Tensor {
	y := tensor.MatMul(x, w.Tensor)
	if b != nil {
		y = tensor.Add(y, b.Tensor)
	}
	return y
}

// Attend returns the context [B,Tq,Dv] and the weights [B,H,Tq,Tk].
func (m *MultiHead) Attend(q, k, v, mask *tensor.Tensor) (ctx, weights *tensor.Tensor) {
	b, tq, tk := checkInputs("multi-head", q, k, v, m.dims)
	mv := newMaskView("multi-head", mask, b, tq, tk)
	qp := affine(q, m.wq, m.bq)
	kp := affine(k, m.wk, m.bk)
	vp := affine(v, m.wv, m.bv)
	p := m.score.weights(qp, kp, mv)
	ctx = affine(weightedSum(p, vp), m.wo, m.bo)
	if m.bo != nil {
		if keep := mv.deadRows(b, tq, tk); keep != nil {
			ctx = tensor.Mul(ctx, keep)
		}
	}
	return ctx, p
}
