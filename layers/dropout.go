package layers

import (
	"fmt"

	"github.com/attnlab/attnlab/tensor"
)

// Dropout is inverted dropout as a module: in training mode each element is
// zeroed with probability P and the others are scaled by 1/(1−P); in
// evaluation mode (or with P = 0) Forward returns its input unchanged. It
// draws from its own RNG, so the dropout masks of a run are reproducible
// and independent of other random streams. Dropout has no parameters.
//
// A Dropout is not safe for concurrent use in training mode (it advances
// its RNG).
type Dropout struct {
	P        float32     // drop probability in [0, 1)
	Training bool        // true (the default) in training mode
	RNG      *tensor.RNG // the dropout stream; Init replaces it
}

var (
	_ Module      = (*Dropout)(nil)
	_ Initializer = (*Dropout)(nil)
	_ Trainable   = (*Dropout)(nil)
)

// NewDropout returns a Dropout with drop probability p, in training mode,
// with an RNG seeded 0 until Init gives it its own stream. It panics if p is
// not in [0, 1).
func NewDropout(p float32) *Dropout {
	if !(p >= 0 && p < 1) {
		panic(fmt.Sprintf("layers.NewDropout: probability %v not in [0, 1)", p))
	}
	return &Dropout{P: p, Training: true, RNG: tensor.NewRNG(0)}
}

// Init gives the module its own stream, split from rng.
func (d *Dropout) Init(rng *tensor.RNG) { d.RNG = rng.Split() }

// Params returns nil: dropout has no parameters.
func (d *Dropout) Params() []*Param { return nil }

// SetTraining switches between training (drop) and evaluation (identity).
func (d *Dropout) SetTraining(on bool) { d.Training = on }

// Forward returns x with dropout applied in training mode, and x itself
// otherwise. A nil *Dropout is the identity too. It panics in training mode
// with P > 0 and a nil RNG.
func (d *Dropout) Forward(x *tensor.Tensor) *tensor.Tensor {
	if d == nil || !d.Training || d.P == 0 {
		return x
	}
	if d.RNG == nil {
		panic("layers.Dropout: training mode with a nil RNG (use NewDropout or Init)")
	}
	return tensor.Dropout(x, d.P, d.RNG, true)
}
