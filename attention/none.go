package attention

import (
	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/tensor"
)

// None is the no-attention baseline: the decoder sees only the encoder's
// final state (Sutskever et al. 2014, "Sequence to Sequence Learning with
// Neural Networks"). Attend returns a zero context [B,Tq,Dv] and zero
// weights [B,Tq,Tk], outside any graph, so a model that adds the context
// to its decoder input gets nothing from the keys:
//
//	context = 0,  weights = 0
type None struct{ dims Dims }

var _ Attention = (*None)(nil)

func init() {
	Registry.Register(registry.Entry[Factory]{
		Name: "none",
		Doc:  "no attention (baseline): zero context and weights; the decoder relies on the encoder's final state",
		New:  func(_ any, d Dims) (Attention, error) { return NewNone(d) },
	})
}

// NewNone returns the baseline for site d.
func NewNone(d Dims) (*None, error) {
	if err := checkDims(d); err != nil {
		return nil, err
	}
	return &None{dims: d}, nil
}

// Attend returns zeros of the context's and the weights' shapes.
func (n *None) Attend(q, k, v, mask *tensor.Tensor) (ctx, weights *tensor.Tensor) {
	b, tq, tk := checkInputs("none", q, k, v, n.dims)
	newMaskView("none", mask, b, tq, tk)
	return tensor.New(b, tq, n.dims.Value), tensor.New(b, tq, tk)
}

// Params returns nil: the baseline has no parameters.
func (n *None) Params() []*layers.Param { return nil }
