package attention

import (
	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/registry"
)

// AdditiveParams are the parameters of additive attention.
type AdditiveParams struct {
	Dim int `yaml:"dim" doc:"attention (hidden) size of the score MLP; 0: the key size"`
}

// Validate rejects a negative size.
func (p *AdditiveParams) Validate() error {
	if p.Dim < 0 {
		return registry.Invalid("dim", "must be 0 (the key size) or positive, got %d", p.Dim)
	}
	return nil
}

// Additive is Bahdanau's additive (concat / MLP) attention (Bahdanau, Cho &
// Bengio 2015, "Neural Machine Translation by Jointly Learning to Align and
// Translate"):
//
//	score(q_i, k_j) = vᵀ tanh(q_i W_q + k_j W_k + b),   W_q [Dq,A], W_k [Dk,A], b [A], v [A]
//	weights[i,:] = softmax_j(score, masked),  context_i = Σ_j weights[i,j] v_j
//
// A is the `dim` parameter. k·W_k + b is computed once per Attend call; the
// score is one fused op that skips masked pairs and recomputes the tanh in
// its backward pass rather than storing [B,Tq,Tk,A]. Parameters W_q, W_k, b,
// v, initialised as nn.Linear(Dq, A, bias=False), nn.Linear(Dk, A) and
// nn.Linear(A, 1, bias=False).
type Additive struct{ single }

var (
	_ Attention          = (*Additive)(nil)
	_ layers.Initializer = (*Additive)(nil)
)

func init() {
	Registry.Register(registry.Entry[Factory]{
		Name:   "additive",
		Doc:    "Bahdanau additive score vᵀ tanh(q W_q + k W_k + b)",
		Params: &AdditiveParams{},
		New: func(p any, d Dims) (Attention, error) {
			return NewAdditive(*p.(*AdditiveParams), d)
		},
	})
}

// NewAdditive returns additive attention for site d (parameters allocated,
// not initialised).
func NewAdditive(p AdditiveParams, d Dims) (*Additive, error) {
	if p.Dim == 0 {
		p.Dim = d.Key
	}
	s, err := newSingle("additive", scoreAdditive, d, p.Dim, 0)
	if err != nil {
		return nil, err
	}
	return &Additive{s}, nil
}
