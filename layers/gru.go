package layers

import (
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
	Gates        // G = 3: W_ih [In, 3H], W_hh [H, 3H], b [3H]
	BHN   *Param // "b_hn" [H]
}

var _ Cell = (*GRUCell)(nil)

// NewGRUCell allocates a GRU cell (zero until Init). It panics on a
// non-positive size.
func NewGRUCell(in, hidden int) *GRUCell {
	return &GRUCell{Gates: newGates("GRUCell", in, hidden, 3), BHN: NewParam("b_hn", hidden)}
}

// Init draws the weights as PyTorch's nn.GRU does (see GRUCell).
func (c *GRUCell) Init(rng *tensor.RNG) { initFused(rng, c.WIH, c.WHH, c.B, c.BHN) }

// Params returns W_ih, W_hh, b, b_hn.
func (c *GRUCell) Params() []*Param { return []*Param{c.WIH, c.WHH, c.B, c.BHN} }

// Step maps x [B,In] and the state h (s.H; nil means zeros; s.C must be
// nil) to the new state. It panics on mismatched shapes.
func (c *GRUCell) Step(x *tensor.Tensor, s State) State { return step("GRUCell", c, c.In, false, x, s) }

func (c *GRUCell) sequence(a seqArgs) (*tensor.Tensor, State) {
	a.whh = c.WHH.Tensor
	a.bhn = c.BHN.Tensor
	return gruSequence(a)
}

// GRU is a multi-layer, optionally bidirectional GRU over a padded batch
// (see RNN); its states have no cell part (State.C nil).
type GRU = RNN[*GRUCell]

// NewGRU allocates a GRU (zero weights until Init). It panics on a
// non-positive size or a dropout outside [0, 1).
func NewGRU(in, hidden, layers int, bidirectional bool, dropout float32) *GRU {
	return newRNN("GRU", false, NewGRUCell, in, hidden, layers, bidirectional, dropout)
}
