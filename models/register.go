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
		Caps:   []registry.Capability{GRUCell},
	})
	Registry.Register(registry.Entry[Factory]{
		Name: "seq2seq-rnn", Doc: "embedding → RNN encoder → RNN decoder with any attention (Bahdanau or Luong wiring); with attention none, the RNNencdec baseline (Cho et al. 2014) or Sutskever et al. 2014's",
		Params: &Seq2SeqRNNParams{Embed: 64, Cell: "lstm", Wiring: "bahdanau", Attentional: true, Bridge: true},
		New:    newSeq2SeqRNN, Uses: []string{"encoder", "attention"}, Caps: []registry.Capability{RNNDecoder},
	})
	Registry.Register(registry.Entry[Factory]{
		Name: "seq2seq-transformer", Doc: "Transformer encoder-decoder (Vaswani et al. 2017) with the chosen attention in every attention site",
		Params: &TransformerParams{DModel: 128, FF: 512, EncoderLayers: 2, DecoderLayers: 2, Dropout: 0.1, Norm: "post", Positions: "sinusoidal", Activation: "relu", ScaleEmbed: true},
		New:    newSeq2SeqTransformer, Uses: []string{"attention"},
	})
	Registry.Register(registry.Entry[Factory]{
		Name: "lm-transformer", Doc: "decoder-only causal Transformer language model (GPT-style) with the chosen attention",
		Params: &TransformerParams{DModel: 128, FF: 512, DecoderLayers: 4, Norm: "pre", Positions: "learned", Activation: "gelu", TieEmbeddings: true, lm: true},
		New:    newLMTransformer, Uses: []string{"attention"}, Caps: []registry.Capability{LanguageModel},
	})
	Registry.Register(registry.Entry[Factory]{
		Name: "lm-rnn", Doc: "recurrent language model: embedding → the model.encoder RNN (unidirectional) → output projection",
		Params: &LMRNNParams{Embed: 128},
		New:    newLMRNN, Uses: []string{"encoder"}, Caps: []registry.Capability{LanguageModel},
	})
}
