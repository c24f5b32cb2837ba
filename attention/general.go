package attention

import (
	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/registry"
)

// General is Luong's bilinear ("general") attention (Luong, Pham & Manning
// 2015, "Effective Approaches to Attention-based Neural Machine
// Translation"):
//
//	score(q_i, k_j) = q_iᵀ W k_j,   W [Dq,Dk]
//	weights[i,:] = softmax_j(score, masked),  context_i = Σ_j weights[i,j] v_j
//
// Parameter: W, initialised as PyTorch's nn.Linear(Dq, Dk, bias=False).
type General struct{ single }

var (
	_ Attention          = (*General)(nil)
	_ layers.Initializer = (*General)(nil)
)

func init() {
	Registry.Register(registry.Entry[Factory]{
		Name: "general",
		Doc:  "Luong general (bilinear) score qᵀ W k",
		New:  func(_ any, d Dims) (Attention, error) { return NewGeneral(d) },
	})
}

// NewGeneral returns general attention for site d (W allocated, not
// initialised).
func NewGeneral(d Dims) (*General, error) {
	s, err := newSingle("general", scoreGeneral, d, 0, 0)
	if err != nil {
		return nil, err
	}
	return &General{s}, nil
}
