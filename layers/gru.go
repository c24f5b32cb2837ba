package layers

import (
	"fmt"

	"github.com/attnlab/attnlab/tensor"
)

// GRUCell is one GRU step with PyTorch's equations (gates r, z, n):
//
//	r = σ(x·W_ir + h·W_hr + b_r)
//	z = σ(x·W_iz + h·W_hz + b_z)
//	n = tanh(x·W_in + b_in + r⊙(h·W_hn + b_hn))
//	h' = (1−z)⊙n + z⊙h
//
// The gates are fused: W_ih [In, 3H] and W_hh [H, 3H] hold the blocks
// r, z, n side by side; b [3H] holds b_ir+b_hr, b_iz+b_hz and b_in, and
// b_hn [H] is separate because it sits inside r⊙(…). Initialisation is
// PyTorch's: weights U(±1/√H); the r and z blocks of b are sums of two
// U(±1/√H) draws (b_ih + b_hh), b_in and b_hn one draw each.
type GRUCell struct {
	In, Hidden int
	WIH        *Param // "W_ih" [In, 3H]
	WHH        *Param // "W_hh" [H, 3H]
	B          *Param // "b" [3H]
	BHN        *Param // "b_hn" [H]
}

var _ Cell = (*GRUCell)(nil)

// NewGRUCell allocates a GRU cell (zero until Init). It panics on a
// non-positive size.
func NewGRUCell(in, hidden int) *GRUCell {
	if in <= 0 || hidden <= 0 {
		panic(fmt.Sprintf("layers.NewGRUCell: in %d, hidden %d", in, hidden))
	}
	return &GRUCell{
		In: in, Hidden: hidden,
		WIH: NewParam("W_ih", in, 3*hidden),
		WHH: NewParam("W_hh", hidden, 3*hidden),
		B:   NewParam("b", 3*hidden),
		BHN: NewParam("b_hn", hidden),
	}
}

// Init draws the weights as PyTorch's nn.GRU does (see GRUCell).
func (c *GRUCell) Init(rng *tensor.RNG) {
	bound := FanInBound(c.Hidden)
	InitUniform(rng, c.WIH, bound)
	InitUniform(rng, c.WHH, bound)
	initFusedBias(rng, c.B.Data, c.BHN.Data, bound)
}

// Params returns W_ih, W_hh, b, b_hn.
func (c *GRUCell) Params() []*Param { return []*Param{c.WIH, c.WHH, c.B, c.BHN} }

// HiddenSize returns H.
func (c *GRUCell) HiddenSize() int { return c.Hidden }

// Step maps x [B,In] and the state h (s.H; nil means zeros; s.C must be
// nil) to the new state. It panics on mismatched shapes.
func (c *GRUCell) Step(x *tensor.Tensor, s State) State {
	if x.Dims() != 2 || x.Dim(1) != c.In {
		panic(fmt.Sprintf("layers.GRUCell: input %v, want [B, %d]", x.Shape(), c.In))
	}
	checkState("GRUCell", s, x.Dim(0), c.Hidden, false)
	b := x.Dim(0)
	_, st := c.sequence(seqArgs{
		xw: tensor.Reshape(c.project(x), b, 1, -1), h0: s.H, c0: s.C,
		b: b, t: 1, h: c.Hidden,
	})
	return st
}

func (c *GRUCell) project(x *tensor.Tensor) *tensor.Tensor {
	return tensor.Add(tensor.MatMul(x, c.WIH.Tensor), c.B.Tensor)
}

func (c *GRUCell) sequence(a seqArgs) (*tensor.Tensor, State) {
	a.whh = c.WHH.Tensor
	a.bhn = c.BHN.Tensor
	return gruSequence(a)
}

// GRU is a multi-layer, optionally bidirectional GRU over a padded batch;
// everything about layout, names, lengths and states is as for LSTM, with
// states that have no cell part (State.C nil).
type GRU struct {
	In, Hidden, Layers int
	Bidirectional      bool
	Cells              []*GRUCell
	Drop               *Dropout // between layers (not after the last)
}

var _ Recurrent = (*GRU)(nil)

// NewGRU allocates a GRU (zero weights until Init). It panics on a
// non-positive size or a dropout outside [0, 1).
func NewGRU(in, hidden, layers int, bidirectional bool, dropout float32) *GRU {
	if layers <= 0 {
		panic(fmt.Sprintf("layers.NewGRU: %d layers", layers))
	}
	g := &GRU{In: in, Hidden: hidden, Layers: layers, Bidirectional: bidirectional, Drop: NewDropout(dropout)}
	dirs := g.Dirs()
	for k := 0; k < layers; k++ {
		size := in
		if k > 0 {
			size = dirs * hidden
		}
		for d := 0; d < dirs; d++ {
			g.Cells = append(g.Cells, NewGRUCell(size, hidden))
		}
	}
	return g
}

// Dirs returns 2 for a bidirectional GRU and 1 otherwise.
func (g *GRU) Dirs() int { return dirsOf(g.Bidirectional) }

// HiddenSize returns the hidden size of one direction.
func (g *GRU) HiddenSize() int { return g.Hidden }

// NumLayers returns the number of stacked layers.
func (g *GRU) NumLayers() int { return g.Layers }

// Init initialises every cell in order, then the dropout stream.
func (g *GRU) Init(rng *tensor.RNG) {
	for _, c := range g.Cells {
		c.Init(rng)
	}
	g.Drop.Init(rng)
}

// Params returns every cell's parameters under "l." or "l.reverse.".
func (g *GRU) Params() []*Param {
	parts := make([]Named, len(g.Cells))
	for k, c := range g.Cells {
		parts[k] = Named{cellPrefix(k, g.Dirs()), c}
	}
	return Collect(parts...)
}

// SetTraining switches the dropout between layers.
func (g *GRU) SetTraining(on bool) { g.Drop.SetTraining(on) }

// Forward runs the GRU over x [B,T,In] with lengths and initial states as
// LSTM.Forward (states with C nil) and returns the outputs [B,T,Dirs·H] and
// the final states. It panics on mismatched shapes, lengths or states.
func (g *GRU) Forward(x *tensor.Tensor, lengths []int, init []State) (*tensor.Tensor, []State) {
	cells := make([]cell, len(g.Cells))
	for i, c := range g.Cells {
		cells[i] = c
	}
	return runSequence(seqSpec{name: "GRU", in: g.In, hidden: g.Hidden, layers: g.Layers, dirs: g.Dirs(), cells: cells, drop: g.Drop}, x, lengths, init)
}
