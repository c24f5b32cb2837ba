package layers

import (
	"fmt"
	"strings"

	"github.com/attnlab/attnlab/tensor"
)

// Activation names the non-linearity of a FeedForward layer.
type Activation string

// The activations FeedForward supports.
const (
	ReLU Activation = "relu"
	// GELU is the tanh approximation (PyTorch's gelu(approximate="tanh"),
	// as in GPT-2), not the exact erf form of nn.GELU().
	GELU Activation = "gelu"
)

// ParseActivation returns the activation named s ("relu" or "gelu", any
// case; "" means relu), or an error naming s and the known names.
func ParseActivation(s string) (Activation, error) {
	switch a := Activation(strings.ToLower(s)); a {
	case "":
		return ReLU, nil
	case ReLU, GELU:
		return a, nil
	}
	return "", fmt.Errorf("layers: unknown activation %q (known: gelu, relu)", s)
}

// Apply returns the activation of x. It panics on an unknown activation.
func (a Activation) Apply(x *tensor.Tensor) *tensor.Tensor {
	switch a {
	case ReLU, "":
		return tensor.ReLU(x)
	case GELU:
		return tensor.GELU(x)
	}
	panic(fmt.Sprintf("layers: unknown activation %q", string(a)))
}

// tensorAct returns the fused activation of tensor.LinearAct. It panics
// on an unknown activation.
func (a Activation) tensorAct() tensor.Act {
	switch a {
	case ReLU, "":
		return tensor.ActReLU
	case GELU:
		return tensor.ActGELU
	}
	panic(fmt.Sprintf("layers: unknown activation %q", string(a)))
}

// FeedForward is the Transformer's position-wise feed-forward network:
// y = Lin2(Drop(act(Lin1(x)))), Lin1 [Dim, Hidden], Lin2 [Hidden, Dim],
// both with bias and PyTorch's Linear initialisation.
type FeedForward struct {
	Lin1, Lin2 *Linear // "lin1.*", "lin2.*"
	Act        Activation
	Drop       *Dropout // dropout after the activation
}

var (
	_ Module      = (*FeedForward)(nil)
	_ Initializer = (*FeedForward)(nil)
	_ Trainable   = (*FeedForward)(nil)
)

// NewFeedForward allocates a feed-forward network dim → hidden → dim with
// the given activation and dropout probability. It panics on an unknown
// activation or a probability outside [0, 1).
func NewFeedForward(dim, hidden int, act Activation, dropout float32) *FeedForward {
	if act == "" {
		act = ReLU
	}
	if act != ReLU && act != GELU {
		panic(fmt.Sprintf("layers.NewFeedForward: unknown activation %q", string(act)))
	}
	return &FeedForward{
		Lin1: NewLinear(dim, hidden, true),
		Lin2: NewLinear(hidden, dim, true),
		Act:  act,
		Drop: NewDropout(dropout),
	}
}

// Init initialises both linear maps (Lin1 then Lin2) and the dropout stream.
func (f *FeedForward) Init(rng *tensor.RNG) {
	f.Lin1.Init(rng)
	f.Lin2.Init(rng)
	f.Drop.Init(rng)
}

// Params returns lin1.W, lin1.b, lin2.W, lin2.b.
func (f *FeedForward) Params() []*Param {
	return Collect(Named{"lin1", f.Lin1}, Named{"lin2", f.Lin2})
}

// SetTraining switches the dropout.
func (f *FeedForward) SetTraining(on bool) { f.Drop.SetTraining(on) }

// Forward maps x [..., Dim] to [..., Dim]. The activation is fused into
// the first linear map (tensor.LinearAct).
func (f *FeedForward) Forward(x *tensor.Tensor) *tensor.Tensor {
	return f.Lin2.Forward(f.hidden(x))
}

// AddForward returns res + FF(x) with the residual add fused into the
// second linear map (tensor.AddLinear), for a residual sub-layer without
// dropout after the network.
func (f *FeedForward) AddForward(res, x *tensor.Tensor) *tensor.Tensor {
	return f.Lin2.AddForward(res, f.hidden(x))
}

func (f *FeedForward) hidden(x *tensor.Tensor) *tensor.Tensor {
	return f.Drop.Forward(f.Lin1.ForwardAct(x, f.Act.tensorAct()))
}
