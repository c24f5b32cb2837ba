package attention

import (
	"github.com/attnlab/attnlab/registry"
)

// ScaledDot is scaled dot-product attention (Vaswani et al. 2017,
// "Attention Is All You Need"):
//
//	score(q_i, k_j) = q_i · k_j / √d   (d the key size)
//	weights[i,:] = softmax_j(score, masked),  context_i = Σ_j weights[i,j] v_j
//
// It has no parameters and needs equal query and key sizes (construction
// error otherwise). Scores and softmax are one fused op.
type ScaledDot struct{ single }

var _ Attention = (*ScaledDot)(nil)

func init() {
	Registry.Register(registry.Entry[Factory]{
		Name: "scaled-dot",
		Doc:  "Vaswani scaled dot score q·k/√d (needs query size = key size)",
		New:  func(_ any, d Dims) (Attention, error) { return NewScaledDot(d) },
	})
}

// NewScaledDot returns scaled dot-product attention for site d.
func NewScaledDot(d Dims) (*ScaledDot, error) {
	s, err := newSingle("scaled-dot", scoreScaled, d, 0, 0)
	if err != nil {
		return nil, err
	}
	return &ScaledDot{s}, nil
}
