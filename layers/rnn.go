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
// a padded batch (LSTM or GRU), see RNN.Forward.
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

// Gates holds what a fused recurrent cell (LSTMCell, GRUCell) has for its G
// gate blocks: its sizes, W_ih [In, G·H] and W_hh [H, G·H] with the blocks
// side by side, and the bias b [G·H].
type Gates struct {
	In, Hidden int
	WIH        *Param // "W_ih"
	WHH        *Param // "W_hh"
	B          *Param // "b"
}

// newGates allocates the weights of a cell with the given number of gate
// blocks. It panics on a non-positive size.
func newGates(name string, in, hidden, gates int) Gates {
	if in <= 0 || hidden <= 0 {
		panic(fmt.Sprintf("layers.New%s: in %d, hidden %d", name, in, hidden))
	}
	return Gates{In: in, Hidden: hidden,
		WIH: NewParam("W_ih", in, gates*hidden), WHH: NewParam("W_hh", hidden, gates*hidden), B: NewParam("b", gates*hidden)}
}

// HiddenSize returns H.
func (g *Gates) HiddenSize() int { return g.Hidden }

// project returns x·W_ih + b.
func (g *Gates) project(x *tensor.Tensor) *tensor.Tensor {
	return tensor.Linear(x, g.WIH.Tensor, g.B.Tensor) // the bias added in the product's epilogue
}

// step is Cell.Step of a fused cell: the cell's sequence kernel over one
// step. It panics on mismatched shapes.
func step(name string, c cell, in int, hasC bool, x *tensor.Tensor, s State) State {
	if x.Dims() != 2 || x.Dim(1) != in {
		panic(fmt.Sprintf("layers.%s: input %v, want [B, %d]", name, x.Shape(), in))
	}
	b, h := x.Dim(0), c.HiddenSize()
	checkState(name, s, b, h, hasC)
	_, st := c.sequence(seqArgs{
		xw: tensor.Reshape(c.project(x), b, 1, -1), h0: s.H, c0: s.C,
		b: b, t: 1, h: h,
	})
	return st
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

// fusedCell is what RNN needs of its cells: LSTMCell and GRUCell.
type fusedCell interface {
	Cell
	cell
}

// RNN is a multi-layer, optionally bidirectional recurrent layer of cells
// C over a padded batch, with PyTorch's packed-sequence semantics (see
// Forward); LSTM and GRU are its two kinds. Layer l's cells are
// Cells[l*Dirs()+d], d = 0 forward and 1 reverse; their parameters are
// named "l.W_ih", "l.W_hh", "l.b" (and a GRU's "l.b_hn") and, for the
// reverse direction, "l.reverse.W_ih" and so on. Layer l > 0 reads the
// outputs of layer l−1 (both directions concatenated), after Drop.
type RNN[C fusedCell] struct {
	In, Hidden, Layers int
	Bidirectional      bool
	Cells              []C
	Drop               *Dropout // between layers (not after the last)
	name               string   // "LSTM" or "GRU"
	hasC               bool     // states have a cell part C
}

var _ Recurrent = (*RNN[*LSTMCell])(nil)

// newRNN allocates a recurrent layer of cells made by newCell (zero
// weights until Init). It panics on a non-positive size or a dropout
// outside [0, 1).
func newRNN[C fusedCell](name string, hasC bool, newCell func(in, hidden int) C, in, hidden, layers int, bidirectional bool, dropout float32) *RNN[C] {
	if layers <= 0 {
		panic(fmt.Sprintf("layers.New%s: %d layers", name, layers))
	}
	r := &RNN[C]{In: in, Hidden: hidden, Layers: layers, Bidirectional: bidirectional, Drop: NewDropout(dropout), name: name, hasC: hasC}
	dirs := r.Dirs()
	for k := 0; k < layers; k++ {
		size := in
		if k > 0 {
			size = dirs * hidden
		}
		for d := 0; d < dirs; d++ {
			r.Cells = append(r.Cells, newCell(size, hidden))
		}
	}
	return r
}

// Dirs returns 2 for a bidirectional layer and 1 otherwise.
func (r *RNN[C]) Dirs() int {
	if r.Bidirectional {
		return 2
	}
	return 1
}

// HiddenSize returns the hidden size of one direction.
func (r *RNN[C]) HiddenSize() int { return r.Hidden }

// NumLayers returns the number of stacked layers.
func (r *RNN[C]) NumLayers() int { return r.Layers }

// Init initialises every cell in order (layer by layer, forward before
// reverse), then the dropout stream.
func (r *RNN[C]) Init(rng *tensor.RNG) {
	for _, c := range r.Cells {
		c.Init(rng)
	}
	r.Drop.Init(rng)
}

// Params returns every cell's parameters under "l." or "l.reverse.".
func (r *RNN[C]) Params() []*Param {
	parts := make([]Named, len(r.Cells))
	for k, c := range r.Cells {
		prefix := fmt.Sprint(k / r.Dirs())
		if k%r.Dirs() == 1 {
			prefix += ".reverse"
		}
		parts[k] = Named{prefix, c}
	}
	return Collect(parts...)
}

// SetTraining switches the dropout between layers.
func (r *RNN[C]) SetTraining(on bool) { r.Drop.SetTraining(on) }

// Forward runs the layer over x [B,T,In], a padded batch whose sequence b
// has lengths[b] real steps (nil: all T; each in [0, T]), from the initial
// states init (nil: zeros; else Layers·Dirs states, layer-major as PyTorch's
// h_0, each [B,H] or nil for zeros; a GRU's states have C nil). It returns
// the outputs [B,T,Dirs·H] of the last layer (h after each step; directions
// concatenated, forward first) and the final state of every layer and
// direction, in init's order.
//
// Semantics are PyTorch's pack_padded_sequence: for t ≥ lengths[b] the
// state of sequence b stops updating and its outputs are exactly 0, so its
// final state is the state after step lengths[b]−1, and those steps pass no
// gradient to x. The reverse direction starts at each sequence's own last
// real step. Steps after the longest sequence are not computed at all.
//
// It panics on mismatched shapes, lengths or states.
func (r *RNN[C]) Forward(x *tensor.Tensor, lengths []int, init []State) (*tensor.Tensor, []State) {
	sp := seqSpec{name: r.name, in: r.In, hidden: r.Hidden, layers: r.Layers, dirs: r.Dirs(), lstm: r.hasC, drop: r.Drop}
	sp.cells = make([]cell, len(r.Cells))
	for i, c := range r.Cells {
		sp.cells[i] = c
	}
	return runSequence(sp, x, lengths, init)
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
// x [B,T,In] with packed-sequence semantics (see RNN.Forward).
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
