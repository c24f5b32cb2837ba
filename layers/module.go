package layers

import "github.com/attnlab/attnlab/tensor"

// Trainable is a module that behaves differently in training and in
// evaluation (Dropout, and every module that contains one). SetTraining
// switches the module and all its children; modules start in training mode,
// as PyTorch's do. Attention variants with dropout may implement it too: the
// Transformer blocks pass the switch on to their attentions when they do.
type Trainable interface {
	SetTraining(on bool)
}

// SetTraining switches every module in ms that implements Trainable (the
// others are skipped), e.g. SetTraining(false, model) before evaluation.
func SetTraining(on bool, ms ...any) {
	for _, m := range ms {
		if t, ok := m.(Trainable); ok {
			t.SetTraining(on)
		}
	}
}

// initIfAble initialises m from rng when it implements Initializer.
func initIfAble(m any, rng *tensor.RNG) {
	if in, ok := m.(Initializer); ok {
		in.Init(rng)
	}
}
