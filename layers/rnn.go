package layers

import (
	"fmt"

	"github.com/attnlab/attnlab/tensor"
)

// State is the state of a recurrent cell for a batch: the hidden state H
// [B,Hidden] and, for an LSTM, the cell state C [B,Hidden] (nil for a GRU).
// In an initial state a nil H or C means zeros.
type State struct {
	H, C *tensor.Tensor
}

// Cell is one recurrent step, as a decoder calls it once per target step.
type Cell interface {
	Module
	Initializer
	// Step maps the input x [B,In] and the state s to the new state.
	Step(x *tensor.Tensor, s State) State
	// HiddenSize returns the size of the hidden state.
	HiddenSize() int
}

// Recurrent is a multi-layer, optionally bidirectional recurrent layer over
// a padded batch (LSTM or GRU), see LSTM.Forward.
type Recurrent interface {
	Module
	Initializer
	Trainable
	Forward(x *tensor.Tensor, lengths []int, init []State) (out *tensor.Tensor, final []State)
	// Dirs returns 2 for a bidirectional layer and 1 otherwise.
	Dirs() int
	// HiddenSize returns the hidden size of one direction.
	HiddenSize() int
	// NumLayers returns the number of stacked layers.
	NumLayers() int
}

// cell is what the sequence runner needs from a cell.
type cell interface {
	// project returns x·W_ih + b for x [..., In]: the input part of every
	// gate, for a whole sequence in one matrix product.
	project(x *tensor.Tensor) *tensor.Tensor
	// sequence runs the fused kernel over a projected sequence.
	sequence(a seqArgs) (*tensor.Tensor, State)
	HiddenSize() int
}

func checkState(name string, s State, b, h int, lstm bool) {
	for _, t := range []*tensor.Tensor{s.H, s.C} {
		if t != nil && (t.Dims() != 2 || t.Dim(0) != b || t.Dim(1) != h) {
			panic(fmt.Sprintf("layers.%s: state of shape %v, want [%d %d]", name, t.Shape(), b, h))
		}
	}
	if !lstm && s.C != nil {
		panic(fmt.Sprintf("layers.%s: a GRU state has no cell state C", name))
	}
}

// seqSpec describes a sequence layer for runSequence.
type seqSpec struct {
	name               string
	in, hidden, layers int
	dirs               int
	lstm               bool
	cells              []cell // layer l, direction d at l*dirs+d
	drop               *Dropout
}

// runSequence runs a stacked, optionally bidirectional recurrent layer over
// x [B,T,In] with packed-sequence semantics (see LSTM.Forward).
func runSequence(sp seqSpec, x *tensor.Tensor, lengths []int, init []State) (*tensor.Tensor, []State) {
	if x.Dims() != 3 || x.Dim(2) != sp.in {
		panic(fmt.Sprintf("layers.%s: input %v, want [B, T, %d]", sp.name, x.Shape(), sp.in))
	}
	b, t := x.Dim(0), x.Dim(1)
	if lengths != nil && len(lengths) != b {
		panic(fmt.Sprintf("layers.%s: %d lengths for a batch of %d", sp.name, len(lengths), b))
	}
	for i, n := range lengths {
		if n < 0 || n > t {
			panic(fmt.Sprintf("layers.%s: length %d of sequence %d outside [0, %d]", sp.name, n, i, t))
		}
	}
	nstates := sp.layers * sp.dirs
	if init != nil && len(init) != nstates {
		panic(fmt.Sprintf("layers.%s: %d initial states, want layers×directions = %d", sp.name, len(init), nstates))
	}
	for _, s := range init {
		checkState(sp.name, s, b, sp.hidden, sp.lstm)
	}
	final := make([]State, nstates)
	if t == 0 {
		// Nothing to run: the final states are the initial ones. (Handled
		// here because tensor's broadcasting Add panics on empty tensors.)
		for k := range final {
			if init != nil {
				final[k] = init[k]
			}
			if final[k].H == nil {
				final[k].H = tensor.New(b, sp.hidden)
			}
			if sp.lstm && final[k].C == nil {
				final[k].C = tensor.New(b, sp.hidden)
			}
		}
		return tensor.New(b, 0, sp.dirs*sp.hidden), final
	}
	h := x
	for l := 0; l < sp.layers; l++ {
		if l > 0 {
			h = sp.drop.Forward(h)
		}
		outs := make([]*tensor.Tensor, sp.dirs)
		for d := 0; d < sp.dirs; d++ {
			k := l*sp.dirs + d
			var s State
			if init != nil {
				s = init[k]
			}
			c := sp.cells[k]
			outs[d], final[k] = c.sequence(seqArgs{
				xw: c.project(h), h0: s.H, c0: s.C, lengths: lengths,
				reverse: d == 1, b: b, t: t, h: sp.hidden,
			})
		}
		if sp.dirs == 1 {
			h = outs[0]
		} else {
			h = tensor.Concat(2, outs...)
		}
	}
	return h, final
}
