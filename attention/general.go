package attention

import (
	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/tensor"
)

// generalScore is Luong's bilinear ("general") score (Luong, Pham & Manning
// 2015, "Effective Approaches to Attention-based Neural Machine
// Translation"):
//
//	score(q_i, k_j) = q_iᵀ W k_j = (q_i W) · k_j,   W [Dq,Dk] (per head: [H,dq,dk])
//
// As a single-head attention (`general`): weights[i,:] = softmax_j(score,
// masked), context_i = Σ_j weights[i,j] v_j. Parameter W, initialised as
// PyTorch's nn.Linear(Dq, Dk, bias=False).
type generalScore struct {
	dotForm
	dq int
	w  *layers.Param
}

func init() {
	RegisterScore(registry.Entry[ScoreFactory]{
		Name: "general",
		Doc:  "Luong general (bilinear) score qᵀ W k",
		New: func(_ any, d ScoreDims) (Score, error) {
			return &generalScore{dotForm: dotForm{scale: 1}, dq: d.Query, w: layers.NewParam("W", d.shape(d.Query, d.Key)...)}, nil
		},
	})
}

func (s *generalScore) Params() []*layers.Param { return []*layers.Param{s.w} }

func (s *generalScore) Init(rng *tensor.RNG) { layers.InitUniform(rng, s.w, layers.FanInBound(s.dq)) }

func (s *generalScore) Queries(q *tensor.Tensor) *tensor.Tensor { return headLinear(q, s.w.Tensor) }

func (s *generalScore) Keys(k *tensor.Tensor) *tensor.Tensor { return k }
