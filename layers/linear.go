package layers

import (
	"github.com/attnlab/attnlab/tensor"
)

// Linear is the affine map y = x·W + b over the last axis of x, with W
// shaped [in, out] and b shaped [out] (nil without bias). Initialisation is
// PyTorch's: W and b uniform in ±1/√in.
type Linear struct {
	In, Out int
	W, B    *Param
}

var _ Module = (*Linear)(nil)

// NewLinear allocates a Linear layer (zero weights until Init).
func NewLinear(in, out int, bias bool) *Linear {
	l := &Linear{In: in, Out: out, W: NewParam("W", in, out)}
	if bias {
		l.B = NewParam("b", out)
	}
	return l
}

// Init draws the weights as PyTorch's nn.Linear does.
func (l *Linear) Init(rng *tensor.RNG) {
	bound := FanInBound(l.In)
	InitUniform(rng, l.W, bound)
	if l.B != nil {
		InitUniform(rng, l.B, bound)
	}
}

// Params returns W and, with bias, b.
func (l *Linear) Params() []*Param {
	if l.B == nil {
		return []*Param{l.W}
	}
	return []*Param{l.W, l.B}
}

// Forward maps x [..., in] to [..., out] (one fused op: tensor.Linear).
func (l *Linear) Forward(x *tensor.Tensor) *tensor.Tensor {
	return tensor.Linear(x, l.W.Tensor, l.bias())
}

// ForwardAct returns act(x·W + b), the activation fused into the same op
// (tensor.LinearAct).
func (l *Linear) ForwardAct(x *tensor.Tensor, act tensor.Act) *tensor.Tensor {
	return tensor.LinearAct(x, l.W.Tensor, l.bias(), act)
}

// AddForward returns res + x·W + b in one op (tensor.AddLinear): a
// residual connection around the layer.
func (l *Linear) AddForward(res, x *tensor.Tensor) *tensor.Tensor {
	return tensor.AddLinear(res, x, l.W.Tensor, l.bias())
}

func (l *Linear) bias() *tensor.Tensor {
	if l.B == nil {
		return nil
	}
	return l.B.Tensor
}
