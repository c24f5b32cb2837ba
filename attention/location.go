package attention

import (
	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/registry"
)

// LocationParams are the parameters of location-based attention.
type LocationParams struct {
	MaxLen int `yaml:"max_len" doc:"number of source positions the query is mapped to; keys at positions ≥ max_len are never attended"`
}

// Validate requires a positive max_len.
func (p *LocationParams) Validate() error {
	if p.MaxLen < 1 {
		return registry.Invalid("max_len", "must be at least 1, got %d", p.MaxLen)
	}
	return nil
}

// Location is Luong's location-based attention (Luong, Pham & Manning 2015,
// "Effective Approaches to Attention-based Neural Machine Translation"): the
// weights are computed from the query alone, by a learned map to a fixed
// number L of source positions:
//
//	score_i = q_i W,   W [Dq,L]   (L = max_len)
//	weights[i,:] = softmax over the first min(Tk, L) positions (masked),  context_i = Σ_j weights[i,j] v_j
//
// Keys at positions ≥ max_len cannot be scored; they are treated as padding
// (weight exactly 0), so a longer source is attended only over its first
// max_len positions, and a query whose kept keys all lie beyond max_len gets
// zero weights and a zero context. Choose max_len ≥ the longest source.
// Parameter W, initialised as nn.Linear(Dq, L, bias=False).
type Location struct{ single }

var (
	_ Attention          = (*Location)(nil)
	_ layers.Initializer = (*Location)(nil)
)

func init() {
	Registry.Register(registry.Entry[Factory]{
		Name:   "location",
		Doc:    "Luong location score q W over the first max_len source positions (ignores the keys' content)",
		Params: &LocationParams{MaxLen: 256},
		New: func(p any, d Dims) (Attention, error) {
			return NewLocation(*p.(*LocationParams), d)
		},
	})
}

// NewLocation returns location-based attention for site d (W allocated,
// not initialised).
func NewLocation(p LocationParams, d Dims) (*Location, error) {
	s, err := newSingle("location", scoreLocation, d, 0, p.MaxLen)
	if err != nil {
		return nil, err
	}
	return &Location{s}, nil
}
