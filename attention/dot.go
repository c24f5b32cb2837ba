package attention

import (
	"github.com/attnlab/attnlab/registry"
)

// Dot is Luong's dot-product attention (Luong, Pham & Manning 2015,
// "Effective Approaches to Attention-based Neural Machine Translation"):
//
//	score(q_i, k_j) = q_i · k_j
//	weights[i,:] = softmax_j(score, masked),  context_i = Σ_j weights[i,j] v_j
//
// It has no parameters and needs equal query and key sizes (construction
// error otherwise).
type Dot struct{ single }

var _ Attention = (*Dot)(nil)

func init() {
	Registry.Register(registry.Entry[Factory]{
		Name: "dot",
		Doc:  "Luong dot score q·k (needs query size = key size)",
		New:  func(_ any, d Dims) (Attention, error) { return NewDot(d) },
	})
}

// NewDot returns dot attention for site d.
func NewDot(d Dims) (*Dot, error) {
	s, err := newSingle("dot", scoreDot, d, 0, 0)
	if err != nil {
		return nil, err
	}
	return &Dot{s}, nil
}
