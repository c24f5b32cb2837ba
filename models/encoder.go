package models

import (
	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/tensor"
)

// Encoder encodes a padded batch of embedded sources.
type Encoder interface {
	layers.Module
	layers.Initializer
	layers.Trainable
	// Encode maps x [B,S,In] with lengths to the outputs [B,S,OutSize()]
	// (zero at padded steps) and the final state of every layer and
	// direction (layer-major, as PyTorch's h_n).
	Encode(x *tensor.Tensor, lengths []int) (*tensor.Tensor, []layers.State)
	// OutSize returns the size of each output step (directions concatenated).
	OutSize() int
	// Recurrent returns the underlying recurrent layer.
	Recurrent() layers.Recurrent
}

// rnnEncoder wraps a multi-layer LSTM or GRU.
type rnnEncoder struct {
	rnn  layers.Recurrent
	cell string
}

func newRNNEncoder(cell string, p *RNNEncoderParams, in int) Encoder {
	var r layers.Recurrent
	if cell == "gru" {
		r = layers.NewGRU(in, p.Hidden, p.Layers, p.Bidirectional, float32(p.Dropout))
	} else {
		r = layers.NewLSTM(in, p.Hidden, p.Layers, p.Bidirectional, float32(p.Dropout))
	}
	return &rnnEncoder{rnn: r, cell: cell}
}

func (e *rnnEncoder) Params() []*layers.Param { return layers.Prefix(e.cell, e.rnn.Params()) }
func (e *rnnEncoder) Init(rng *tensor.RNG)    { e.rnn.Init(rng) }
func (e *rnnEncoder) SetTraining(on bool)     { e.rnn.SetTraining(on) }
func (e *rnnEncoder) OutSize() int            { return e.rnn.Dirs() * e.rnn.HiddenSize() }
func (e *rnnEncoder) Recurrent() layers.Recurrent {
	return e.rnn
}

func (e *rnnEncoder) Encode(x *tensor.Tensor, lengths []int) (*tensor.Tensor, []layers.State) {
	return e.rnn.Forward(x, lengths, nil)
}

// lastLayerState returns the final state of the encoder's last layer with the
// directions concatenated: H (and C for an LSTM) of size OutSize().
func lastLayerState(e Encoder, final []layers.State) layers.State {
	r := e.Recurrent()
	dirs := r.Dirs()
	last := final[len(final)-dirs:]
	if dirs == 1 {
		return last[0]
	}
	s := layers.State{H: tensor.Concat(-1, last[0].H, last[1].H)}
	if last[0].C != nil {
		s.C = tensor.Concat(-1, last[0].C, last[1].C)
	}
	return s
}
