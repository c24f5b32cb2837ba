package models

import "github.com/attnlab/attnlab/registry"

// EncoderFactory builds an encoder over inputs of the given feature size.
type EncoderFactory func(params any, inputSize int) (Encoder, error)

// Encoders holds the recurrent encoders a model.encoder block can name.
var Encoders = registry.New[EncoderFactory]("encoder")

func init() {
	Encoders.Register(registry.Entry[EncoderFactory]{
		Name: "lstm", Doc: "LSTM encoder (Hochreiter & Schmidhuber 1997), multi-layer, optionally bidirectional, over padded batches",
		Params: &RNNEncoderParams{Hidden: 128, Layers: 1},
		New:    func(p any, in int) (Encoder, error) { return newRNNEncoder("lstm", p.(*RNNEncoderParams), in), nil },
	})
	Encoders.Register(registry.Entry[EncoderFactory]{
		Name: "gru", Doc: "GRU encoder (Cho et al. 2014), multi-layer, optionally bidirectional, over padded batches",
		Params: &RNNEncoderParams{Hidden: 128, Layers: 1},
		New:    func(p any, in int) (Encoder, error) { return newRNNEncoder("gru", p.(*RNNEncoderParams), in), nil },
	})
	Registry.Register(registry.Entry[Kind]{
		Name: "seq2seq-rnn", Doc: "embedding → RNN encoder → RNN decoder with any attention (Bahdanau or Luong wiring); with attention none, the Sutskever et al. 2014 baseline",
		Params: &Seq2SeqRNNParams{Embed: 64, Cell: "lstm", Wiring: "bahdanau", Attentional: true, Bridge: true},
		New:    Kind{UsesEncoder: true, UsesAttention: true, New: newSeq2SeqRNN},
	})
	Registry.Register(registry.Entry[Kind]{
		Name: "seq2seq-transformer", Doc: "Transformer encoder-decoder (Vaswani et al. 2017) with the chosen attention in every attention site",
		Params: &TransformerParams{DModel: 128, FF: 512, EncoderLayers: 2, DecoderLayers: 2, Dropout: 0.1, Norm: "post", Positions: "sinusoidal", Activation: "relu", ScaleEmbed: true},
		New:    Kind{UsesAttention: true, New: newSeq2SeqTransformer},
	})
	Registry.Register(registry.Entry[Kind]{
		Name: "lm-transformer", Doc: "decoder-only causal Transformer language model (GPT-style) with the chosen attention",
		Params: &TransformerParams{DModel: 128, FF: 512, DecoderLayers: 4, Norm: "pre", Positions: "learned", Activation: "gelu", TieEmbeddings: true},
		New:    Kind{LM: true, UsesAttention: true, New: newLMTransformer},
	})
	Registry.Register(registry.Entry[Kind]{
		Name: "lm-rnn", Doc: "recurrent language model: embedding → the model.encoder RNN (unidirectional) → output projection",
		Params: &LMRNNParams{Embed: 128},
		New:    Kind{LM: true, UsesEncoder: true, New: newLMRNN},
	})
}
