package attention

import (
	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/tensor"
)

// AdditiveParams are the parameters of the additive score.
type AdditiveParams struct {
	Dim int `yaml:"dim" doc:"attention (hidden) size of the score MLP; 0: the key size" range:"[0,65536]"`
}

// Validate rejects a negative size.
func (p *AdditiveParams) Validate() error {
	if p.Dim < 0 {
		return registry.Invalid("dim", "must be 0 (the key size) or positive, got %d", p.Dim)
	}
	return nil
}

// additiveScore is Bahdanau's additive (concat / MLP) score (Bahdanau, Cho
// & Bengio 2015, "Neural Machine Translation by Jointly Learning to Align
// and Translate"):
//
//	score(q_i, k_j) = vᵀ tanh(q_i W_q + k_j W_k + b),   W_q [Dq,A], W_k [Dk,A], b [A], v [A]
//
// (per head: a leading head axis). A is the `dim` parameter. As a
// single-head attention (`additive`): weights[i,:] = softmax_j(score,
// masked), context_i = Σ_j weights[i,j] v_j. k·W_k + b is computed once per
// call (once per sequence when prepared); the score is one fused op that
// skips masked pairs and recomputes the tanh in its backward pass rather
// than storing [B,Tq,Tk,A]. Parameters W_q, W_k, b, v, initialised as
// nn.Linear(Dq, A, bias=False), nn.Linear(Dk, A) and nn.Linear(A, 1,
// bias=False).
type additiveScore struct {
	heads, dq, dk, dim int
	wq, wk, bias, v    *layers.Param
}

func init() {
	RegisterScore(registry.Entry[ScoreFactory]{
		Name:   "additive",
		Doc:    "Bahdanau additive score vᵀ tanh(q W_q + k W_k + b)",
		Params: &AdditiveParams{},
		New: func(p any, d ScoreDims) (Score, error) {
			a := p.(*AdditiveParams).Dim
			if a == 0 {
				a = d.Key
			}
			return &additiveScore{heads: max(1, d.Heads), dq: d.Query, dk: d.Key, dim: a,
				wq: layers.NewParam("W_q", d.shape(d.Query, a)...), wk: layers.NewParam("W_k", d.shape(d.Key, a)...),
				bias: layers.NewParam("b", d.shape(a)...), v: layers.NewParam("v", d.shape(a)...)}, nil
		},
	})
}

func (s *additiveScore) Params() []*layers.Param { return []*layers.Param{s.wq, s.wk, s.bias, s.v} }

func (s *additiveScore) Init(rng *tensor.RNG) {
	layers.InitUniform(rng, s.wq, layers.FanInBound(s.dq))
	layers.InitUniform(rng, s.wk, layers.FanInBound(s.dk))
	layers.InitUniform(rng, s.bias, layers.FanInBound(s.dk))
	layers.InitUniform(rng, s.v, layers.FanInBound(s.dim))
}

func (s *additiveScore) Queries(q *tensor.Tensor) *tensor.Tensor { return headLinear(q, s.wq.Tensor) }

func (s *additiveScore) Keys(k *tensor.Tensor) *tensor.Tensor {
	return tensor.Add(headLinear(k, s.wk.Tensor), tensor.Reshape(s.bias.Tensor, s.heads*s.dim))
}

func (s *additiveScore) pairs(q, k *tensor.Tensor, w *window) *tensor.Tensor {
	return windowAdditive(q, k, s.v.Tensor, w)
}
