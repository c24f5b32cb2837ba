package layers

import (
	"fmt"

	"github.com/attnlab/attnlab/tensor"
)

// LSTMCell is one LSTM step with PyTorch's equations (gates i, f, g, o):
//
//	[i f g o] = x·W_ih + h·W_hh + b
//	i, f, o = σ(·), g = tanh(·)
//	c' = f⊙c + i⊙g,  h' = o⊙tanh(c')
//
// The four gates are fused: W_ih [In, 4H] and W_hh [H, 4H] hold the gate
// blocks side by side in the order i, f, g, o (columns [kH, (k+1)H) for gate
// k), so one matrix product computes all gates; b [4H] is PyTorch's
// b_ih + b_hh. Initialisation is PyTorch's: W_ih and W_hh U(±1/√H), and b
// the sum of two U(±1/√H) draws (b_ih and b_hh), so its distribution matches
// PyTorch's effective bias.
type LSTMCell struct {
	In, Hidden int
	WIH        *Param // "W_ih" [In, 4H]
	WHH        *Param // "W_hh" [H, 4H]
	B          *Param // "b" [4H]
}

var _ Cell = (*LSTMCell)(nil)

// NewLSTMCell allocates an LSTM cell (zero until Init). It panics on a
// non-positive size.
func NewLSTMCell(in, hidden int) *LSTMCell {
	if in <= 0 || hidden <= 0 {
		panic(fmt.Sprintf("layers.NewLSTMCell: in %d, hidden %d", in, hidden))
	}
	return &LSTMCell{
		In: in, Hidden: hidden,
		WIH: NewParam("W_ih", in, 4*hidden),
		WHH: NewParam("W_hh", hidden, 4*hidden),
		B:   NewParam("b", 4*hidden),
	}
}

// Init draws the weights as PyTorch's nn.LSTM does (see LSTMCell).
func (c *LSTMCell) Init(rng *tensor.RNG) {
	bound := FanInBound(c.Hidden)
	InitUniform(rng, c.WIH, bound)
	InitUniform(rng, c.WHH, bound)
	initFusedBias(rng, c.B.Data, nil, bound)
}

// initFusedBias sets b to b_ih + b_hh, both drawn U(±bound) in PyTorch's
// order (all of b_ih, then all of b_hh). With hn non-nil (GRU) the last
// len(hn) entries of b_hh go to hn instead of being added.
func initFusedBias(rng *tensor.RNG, b, hn []float32, bound float64) {
	tmp := tensor.New(len(b))
	rng.Uniform(tmp, float32(-bound), float32(bound))
	copy(b, tmp.Data)
	rng.Uniform(tmp, float32(-bound), float32(bound))
	split := len(b) - len(hn)
	for i := 0; i < split; i++ {
		b[i] += tmp.Data[i]
	}
	copy(hn, tmp.Data[split:])
}

// Params returns W_ih, W_hh, b.
func (c *LSTMCell) Params() []*Param { return []*Param{c.WIH, c.WHH, c.B} }

// HiddenSize returns H.
func (c *LSTMCell) HiddenSize() int { return c.Hidden }

// Step maps x [B,In] and the state (h, c) to the new state (h', c'). A nil
// s.H or s.C means zeros. It panics on mismatched shapes.
func (c *LSTMCell) Step(x *tensor.Tensor, s State) State {
	if x.Dims() != 2 || x.Dim(1) != c.In {
		panic(fmt.Sprintf("layers.LSTMCell: input %v, want [B, %d]", x.Shape(), c.In))
	}
	checkState("LSTMCell", s, x.Dim(0), c.Hidden, true)
	b := x.Dim(0)
	_, st := c.sequence(seqArgs{
		xw: tensor.Reshape(c.project(x), b, 1, -1), h0: s.H, c0: s.C,
		b: b, t: 1, h: c.Hidden,
	})
	return st
}

func (c *LSTMCell) project(x *tensor.Tensor) *tensor.Tensor {
	return tensor.Add(tensor.MatMul(x, c.WIH.Tensor), c.B.Tensor)
}

func (c *LSTMCell) sequence(a seqArgs) (*tensor.Tensor, State) {
	a.whh = c.WHH.Tensor
	return lstmSequence(a)
}

// LSTM is a multi-layer, optionally bidirectional LSTM over a padded batch,
// with PyTorch's packed-sequence semantics (see Forward). Layer l's cells
// are Cells[l*Dirs()+d], d = 0 forward and 1 reverse; their parameters are
// named "l.W_ih", "l.W_hh", "l.b" and, for the reverse direction,
// "l.reverse.W_ih" and so on. Layer l > 0 reads the outputs of layer l−1
// (both directions concatenated), after Drop.
type LSTM struct {
	In, Hidden, Layers int
	Bidirectional      bool
	Cells              []*LSTMCell
	Drop               *Dropout // between layers (not after the last)
}

var _ Recurrent = (*LSTM)(nil)

// NewLSTM allocates an LSTM with the given sizes, number of layers,
// directions and dropout between layers (zero weights until Init). It
// panics on a non-positive size or a dropout outside [0, 1).
func NewLSTM(in, hidden, layers int, bidirectional bool, dropout float32) *LSTM {
	if layers <= 0 {
		panic(fmt.Sprintf("layers.NewLSTM: %d layers", layers))
	}
	l := &LSTM{In: in, Hidden: hidden, Layers: layers, Bidirectional: bidirectional, Drop: NewDropout(dropout)}
	dirs := l.Dirs()
	for k := 0; k < layers; k++ {
		size := in
		if k > 0 {
			size = dirs * hidden
		}
		for d := 0; d < dirs; d++ {
			l.Cells = append(l.Cells, NewLSTMCell(size, hidden))
		}
	}
	return l
}

// Dirs returns 2 for a bidirectional LSTM and 1 otherwise.
func (l *LSTM) Dirs() int { return dirsOf(l.Bidirectional) }

// HiddenSize returns the hidden size of one direction.
func (l *LSTM) HiddenSize() int { return l.Hidden }

// NumLayers returns the number of stacked layers.
func (l *LSTM) NumLayers() int { return l.Layers }

func dirsOf(bidir bool) int {
	if bidir {
		return 2
	}
	return 1
}

// Init initialises every cell in order (layer by layer, forward before
// reverse), then the dropout stream.
func (l *LSTM) Init(rng *tensor.RNG) {
	for _, c := range l.Cells {
		c.Init(rng)
	}
	l.Drop.Init(rng)
}

// Params returns every cell's parameters under "l." or "l.reverse.".
func (l *LSTM) Params() []*Param {
	parts := make([]Named, len(l.Cells))
	for k, c := range l.Cells {
		parts[k] = Named{cellPrefix(k, l.Dirs()), c}
	}
	return Collect(parts...)
}

func cellPrefix(k, dirs int) string {
	if k%dirs == 1 {
		return fmt.Sprintf("%d.reverse", k/dirs)
	}
	return fmt.Sprint(k / dirs)
}

// SetTraining switches the dropout between layers.
func (l *LSTM) SetTraining(on bool) { l.Drop.SetTraining(on) }

// Forward runs the LSTM over x [B,T,In], a padded batch whose sequence b
// has lengths[b] real steps (nil: all T; each in [0, T]), from the initial
// states init (nil: zeros; else Layers·Dirs states, layer-major as PyTorch's
// h_0, each [B,H] or nil for zeros). It returns the outputs [B,T,Dirs·H] of
// the last layer (h after each step; directions concatenated, forward
// first) and the final state of every layer and direction, in init's order.
//
// Semantics are PyTorch's pack_padded_sequence: for t ≥ lengths[b] the
// state of sequence b stops updating and its outputs are exactly 0, so its
// final state is the state after step lengths[b]−1, and those steps pass no
// gradient to x. The reverse direction starts at each sequence's own last
// real step. Steps after the longest sequence are not computed at all.
//
// It panics on mismatched shapes, lengths or states.
func (l *LSTM) Forward(x *tensor.Tensor, lengths []int, init []State) (*tensor.Tensor, []State) {
	return runSequence(l.spec(), x, lengths, init)
}

func (l *LSTM) spec() seqSpec {
	cells := make([]cell, len(l.Cells))
	for i, c := range l.Cells {
		cells[i] = c
	}
	return seqSpec{name: "LSTM", in: l.In, hidden: l.Hidden, layers: l.Layers, dirs: l.Dirs(), lstm: true, cells: cells, drop: l.Drop}
}
