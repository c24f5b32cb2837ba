package optim

import (
	"fmt"
	"math"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/tensor"
)

// Optimizer updates parameters from their gradients.
type Optimizer interface {
	// Step applies one update with learning rate lr and counts the step.
	Step(lr float64)
	// Steps returns the number of updates applied so far.
	Steps() int
	// BaseLR returns the learning rate the optimizer was configured with;
	// the schedule's factor multiplies it.
	BaseLR() float64
	// State returns the optimizer's state tensors by name (for checkpoints);
	// they alias the live state.
	State() map[string]*tensor.Tensor
	// LoadState restores state saved from State, and the step count. It
	// returns an error naming a missing or mis-shaped tensor.
	LoadState(state map[string]*tensor.Tensor, steps int) error
}

// Factory builds an optimizer over ps from its decoded parameters.
type Factory func(params any, ps []*layers.Param) (Optimizer, error)

// Registry holds the optimizers.
var Registry = registry.New[Factory]("optimizer")

// New builds the optimizer registered as name.
func New(name string, params map[string]any, ps []*layers.Param) (Optimizer, error) {
	return registry.Build(Registry, name, params, func(f Factory, p any) (Optimizer, error) {
		return f(p, ps)
	})
}

// ClipGradNorm scales the gradients of ps so that their global L2 norm is at
// most maxNorm (no-op when maxNorm <= 0) and returns the norm before
// clipping, as torch.nn.utils.clip_grad_norm_.
func ClipGradNorm(ps []*layers.Param, maxNorm float64) float64 {
	var ss float64
	for _, p := range ps {
		ss += tensor.SumSquares(p.Grad)
	}
	norm := math.Sqrt(ss)
	if maxNorm > 0 && norm > maxNorm {
		scale := float32(maxNorm / (norm + 1e-6))
		for _, p := range ps {
			tensor.ScaleSlice(p.Grad, scale)
		}
	}
	return norm
}

// loadInto copies the named state tensor into dst.
func loadInto(state map[string]*tensor.Tensor, name string, dst []float32) error {
	t, ok := state[name]
	if !ok {
		return fmt.Errorf("optimizer state: missing tensor %q", name)
	}
	if len(t.Data) != len(dst) {
		return fmt.Errorf("optimizer state: tensor %q has %d values, want %d", name, len(t.Data), len(dst))
	}
	copy(dst, t.Data)
	return nil
}
