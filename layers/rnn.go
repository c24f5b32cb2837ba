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
	// advance takes one step from the projected input xw [B, gates·H].
	advance(xw *tensor.Tensor, s State) State
	HiddenSize() int
}

// zeroState returns explicit zeros for the nil parts of s.
func zeroState(s State, b, h int, lstm bool) State {
	if s.H == nil {
		s.H = tensor.New(b, h)
	}
	if lstm && s.C == nil {
		s.C = tensor.New(b, h)
	}
	return s
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
	maxLen := 0
	for i := 0; i < b; i++ {
		n := t
		if lengths != nil {
			n = lengths[i]
		}
		if n < 0 || n > t {
			panic(fmt.Sprintf("layers.%s: length %d of sequence %d outside [0, %d]", sp.name, n, i, t))
		}
		maxLen = max(maxLen, n)
	}
	nstates := sp.layers * sp.dirs
	if init != nil && len(init) != nstates {
		panic(fmt.Sprintf("layers.%s: %d initial states, want layers×directions = %d", sp.name, len(init), nstates))
	}
	for _, s := range init {
		checkState(sp.name, s, b, sp.hidden, sp.lstm)
	}

	// masks[t] is the keep-mask [B,1] of the sequences still running at
	// step t, or nil when every sequence is.
	masks := make([]*tensor.Tensor, maxLen)
	for step := 0; step < maxLen; step++ {
		if lengths == nil {
			break
		}
		var m *tensor.Tensor
		for i, n := range lengths {
			if step >= n && m == nil {
				m = tensor.Full(1, b, 1)
			}
			if m != nil && step >= n {
				m.Data[i] = 0
			}
		}
		masks[step] = m
	}

	// Time-major inside: each step reads a contiguous [B, ·] slice.
	h := tensor.Permute(x, 1, 0, 2) // [T,B,In]
	final := make([]State, nstates)
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
			outs[d], final[k] = runDirection(sp.cells[k], h, b, t, maxLen, masks, zeroState(s, b, sp.hidden, sp.lstm), d == 1)
		}
		if sp.dirs == 1 {
			h = outs[0]
		} else {
			h = tensor.Concat(2, outs...)
		}
	}
	return tensor.Permute(h, 1, 0, 2), final
}

// runDirection runs one cell over the time-major input x [T,B,In] forwards
// or backwards and returns its outputs [T,B,H] and final state.
func runDirection(c cell, x *tensor.Tensor, b, t, maxLen int, masks []*tensor.Tensor, s State, reverse bool) (*tensor.Tensor, State) {
	hid := c.HiddenSize()
	xw := c.project(x) // [T,B,G·H]
	g := xw.Dim(2)
	outs := make([]*tensor.Tensor, t)
	for i := 0; i < maxLen; i++ {
		step := i
		if reverse {
			step = maxLen - 1 - i
		}
		xt := tensor.Reshape(tensor.Narrow(xw, 0, step, 1), b, g)
		ns := c.advance(xt, s)
		if m := masks[step]; m != nil {
			// Finished sequences keep their state; their output is 0.
			ns.H = tensor.Where(m, ns.H, s.H)
			if ns.C != nil {
				ns.C = tensor.Where(m, ns.C, s.C)
			}
			outs[step] = tensor.Mul(ns.H, m)
		} else {
			outs[step] = ns.H
		}
		s = ns
	}
	if maxLen < t {
		zero := tensor.New(b, hid)
		for step := maxLen; step < t; step++ {
			outs[step] = zero
		}
	}
	if t == 0 {
		return tensor.New(0, b, hid), s
	}
	return tensor.Stack(0, outs...), s
}
