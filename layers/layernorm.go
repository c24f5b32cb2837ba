package layers

import (
	"fmt"

	"github.com/attnlab/attnlab/tensor"
)

// DefaultEps is the LayerNorm epsilon used when none is given (PyTorch's).
const DefaultEps = 1e-5

// LayerNorm normalises over the last axis with the biased variance and an
// affine map: y = (x − mean)/√(var + Eps) ⊙ gamma + beta. Initialisation is
// PyTorch's: gamma 1, beta 0.
type LayerNorm struct {
	Dim   int
	Eps   float32
	Gamma *Param // "gamma" [Dim]
	Beta  *Param // "beta" [Dim]
}

var (
	_ Module      = (*LayerNorm)(nil)
	_ Initializer = (*LayerNorm)(nil)
)

// NewLayerNorm allocates a LayerNorm over dim features with epsilon eps
// (0 means DefaultEps), already initialised to gamma 1, beta 0. It panics
// on a non-positive dim.
func NewLayerNorm(dim int, eps float32) *LayerNorm {
	if dim <= 0 {
		panic(fmt.Sprintf("layers.NewLayerNorm: dim %d", dim))
	}
	if eps == 0 {
		eps = DefaultEps
	}
	l := &LayerNorm{Dim: dim, Eps: eps, Gamma: NewParam("gamma", dim), Beta: NewParam("beta", dim)}
	l.Init(nil)
	return l
}

// Init sets gamma to 1 and beta to 0; it draws nothing (rng may be nil).
func (l *LayerNorm) Init(*tensor.RNG) {
	for i := range l.Gamma.Data {
		l.Gamma.Data[i] = 1
		l.Beta.Data[i] = 0
	}
}

// Params returns gamma and beta.
func (l *LayerNorm) Params() []*Param { return []*Param{l.Gamma, l.Beta} }

// Forward normalises x [..., Dim]. It panics if x's last axis is not Dim.
func (l *LayerNorm) Forward(x *tensor.Tensor) *tensor.Tensor {
	return tensor.LayerNorm(x, l.Gamma.Tensor, l.Beta.Tensor, l.Eps)
}
