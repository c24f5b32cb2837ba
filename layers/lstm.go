package layers

import (
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
	Gates // G = 4: W_ih [In, 4H], W_hh [H, 4H], b [4H]
}

var _ Cell = (*LSTMCell)(nil)

// NewLSTMCell allocates an LSTM cell (zero until Init). It panics on a
// non-positive size.
func NewLSTMCell(in, hidden int) *LSTMCell {
	return &LSTMCell{newGates("LSTMCell", in, hidden, 4)}
}

// Init draws the weights as PyTorch's nn.LSTM does (see LSTMCell).
func (c *LSTMCell) Init(rng *tensor.RNG) { initFused(rng, c.WIH, c.WHH, c.B, nil) }

// initFused draws W_ih and W_hh U(±1/√H) and the fused bias (see
// initFusedBias), as PyTorch does.
func initFused(rng *tensor.RNG, wih, whh, b, bhn *Param) {
	bound := FanInBound(whh.Shape()[0])
	InitUniform(rng, wih, bound)
	InitUniform(rng, whh, bound)
	var hn []float32
	if bhn != nil {
		hn = bhn.Data
	}
	initFusedBias(rng, b.Data, hn, bound)
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

// Step maps x [B,In] and the state (h, c) to the new state (h', c'). A nil
// s.H or s.C means zeros. It panics on mismatched shapes.
func (c *LSTMCell) Step(x *tensor.Tensor, s State) State {
	return step("LSTMCell", c, c.In, true, x, s)
}

func (c *LSTMCell) sequence(a seqArgs) (*tensor.Tensor, State) {
	a.whh = c.WHH.Tensor
	return lstmSequence(a)
}

// LSTM is a multi-layer, optionally bidirectional LSTM over a padded batch
// (see RNN).
type LSTM = RNN[*LSTMCell]

// NewLSTM allocates an LSTM with the given sizes, number of layers,
// directions and dropout between layers (zero weights until Init). It
// panics on a non-positive size or a dropout outside [0, 1).
func NewLSTM(in, hidden, layers int, bidirectional bool, dropout float32) *LSTM {
	return newRNN("LSTM", true, NewLSTMCell, in, hidden, layers, bidirectional, dropout)
}
