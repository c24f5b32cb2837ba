package layers

import (
	"fmt"
	"math"

	"github.com/attnlab/attnlab/tensor"
)

// Param is a named trainable tensor. Names are dotted paths that stay stable
// across runs ("encoder.lstm.0.W_ih"); optimizers and checkpoints key on
// them. The embedded tensor requires gradients.
type Param struct {
	Name string
	*tensor.Tensor
}

// NewParam returns a zero parameter of the given shape, requiring gradients.
func NewParam(name string, shape ...int) *Param {
	return &Param{Name: name, Tensor: tensor.New(shape...).SetRequiresGrad(true)}
}

// Module is anything made of parameters: layers, attention variants, models.
type Module interface {
	// Params lists the module's parameters with their dotted names, in a
	// fixed order.
	Params() []*Param
}

// Initializer is a module that (re)initialises its parameters from a seeded
// RNG, as PyTorch's defaults unless its doc says otherwise. Construction
// allocates; Init draws values, so the same seed gives the same model.
type Initializer interface {
	Init(rng *tensor.RNG)
}

// Prefix returns copies of ps (sharing the tensors) whose names are prefixed
// with prefix and a dot.
func Prefix(prefix string, ps []*Param) []*Param {
	out := make([]*Param, len(ps))
	for i, p := range ps {
		out[i] = &Param{Name: prefix + "." + p.Name, Tensor: p.Tensor}
	}
	return out
}

// Collect concatenates the parameters of several modules, each under its
// prefix (an empty prefix keeps the names). It panics on a duplicate name.
func Collect(parts ...Named) []*Param {
	var out []*Param
	seen := map[string]bool{}
	for _, part := range parts {
		if part.Module == nil {
			continue
		}
		ps := part.Module.Params()
		if part.Prefix != "" {
			ps = Prefix(part.Prefix, ps)
		}
		for _, p := range ps {
			if seen[p.Name] {
				panic(fmt.Sprintf("layers.Collect: duplicate parameter name %q", p.Name))
			}
			seen[p.Name] = true
			out = append(out, p)
		}
	}
	return out
}

// Named pairs a module with the prefix of its parameter names.
type Named struct {
	Prefix string
	Module Module
}

// Tensors returns the tensors of ps, for tensor.NoGrad and optimizers.
func Tensors(ps []*Param) []*tensor.Tensor {
	out := make([]*tensor.Tensor, len(ps))
	for i, p := range ps {
		out[i] = p.Tensor
	}
	return out
}

// CountParams returns the number of scalar parameters.
func CountParams(ps []*Param) int {
	n := 0
	for _, p := range ps {
		n += p.Len()
	}
	return n
}

// ZeroGrad clears the gradients of ps.
func ZeroGrad(ps []*Param) {
	for _, p := range ps {
		p.ZeroGrad()
	}
}

// InitUniform fills p with values uniform in [−bound, bound).
func InitUniform(rng *tensor.RNG, p *Param, bound float64) {
	rng.Uniform(p.Tensor, float32(-bound), float32(bound))
}

// FanInBound returns 1/√fanIn, PyTorch's default bound for Linear weights and
// biases (kaiming_uniform with a=√5 reduces to it) and for RNN weights
// (with fanIn = hidden size).
func FanInBound(fanIn int) float64 {
	if fanIn <= 0 {
		return 0
	}
	return 1 / math.Sqrt(float64(fanIn))
}
