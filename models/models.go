package models

import (
	"fmt"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/seq"
	"github.com/attnlab/attnlab/tensor"
)

// Spec is what a model factory needs besides its own parameters.
type Spec struct {
	SrcVocab int // source vocabulary size (0 for language models)
	TgtVocab int // target vocabulary size
	MaxLen   int // longest source or target sequence the model must handle (learned positions)
	// Context is a language model's training context: its longest input
	// in tokens. Decoding slides a window of this many tokens, the
	// positions training updated (MaxLen is larger: it covers
	// evaluation's decoding limit). 0: MaxLen (specs stored before it).
	Context   int             `json:",omitempty"`
	Encoder   registry.Plugin // the model.encoder block (models whose entry Uses "encoder")
	Attention registry.Plugin // the model.attention block (models whose entry Uses "attention")
}

// Factory builds a model from its decoded parameters (the pointer returned
// by [registry.Entry.Decode]) and the spec.
type Factory func(params any, spec Spec) (Model, error)

// The capabilities of model and encoder entries (registry.Entry.Caps).
const (
	// LanguageModel marks a language model: it trains on a task whose
	// entry has tasks.LanguageModel, and every other model on a task
	// without it.
	LanguageModel registry.Capability = "language-model"
	// RNNDecoder marks a model with a recurrent decoder, fed one token per
	// step: train.teacher_forcing below 1 (feeding back its own
	// predictions) applies to it.
	RNNDecoder registry.Capability = "rnn-decoder"
	// GRUCell marks an encoder entry (of [Encoders]) whose recurrent cell
	// is a GRU: three gate blocks per step, not the LSTM's four (the
	// memory estimate reads it).
	GRUCell registry.Capability = "gru-cell"
)

// Registry holds the model assemblies. An entry's Uses names the nested
// blocks it reads, "encoder" and "attention", which its factory receives as
// Spec.Encoder and Spec.Attention.
var Registry = registry.New[Factory]("model")

// ForwardOptions control a teacher-forced forward pass.
type ForwardOptions struct {
	Training bool // dropout on
	// TeacherForcing is the probability of feeding the gold previous token
	// at each decoder step; below 1 the model's own greedy prediction is fed
	// otherwise (RNN decoders only). 0 means 1.
	TeacherForcing float64
	RNG            *tensor.RNG // teacher-forcing draws
	// WantAttention asks for Output.Attention (the attentions whose
	// weights it holds then materialise them; no other attention does).
	WantAttention bool
}

// Output of a forward pass.
type Output struct {
	Logits *tensor.Tensor // [Size, T, V]
	// Attention holds the decoder's (cross-)attention weights [Size, T, S],
	// averaged over heads (Transformers: of the last decoder layer), when
	// ForwardOptions.WantAttention is set; nil otherwise and for models
	// without attention.
	Attention *tensor.Tensor
}

// Model is a trainable assembly that can score a batch and decode.
type Model interface {
	layers.Module
	layers.Initializer
	// Forward computes the logits of every target position of b.
	Forward(b *seq.Batch, opt ForwardOptions) Output
	// Start encodes sources (or, for a language model, the prompts in In)
	// for step-by-step decoding; see Decoder.
	Start(b *seq.Batch) State
}

// State is a model's decoding state for a set of hypotheses.
type State interface {
	// Step feeds one token per hypothesis and returns log-probabilities of
	// the next token [N, V] and the attention of each hypothesis over its
	// source ([N][S_i], nil without attention). logp may live in a buffer
	// the state reuses: it is valid until the next Step of this state or
	// of a state Selected from it (the decoders read it before stepping
	// again).
	Step(tokens []int) (logp *tensor.Tensor, attn [][]float32)
	// Select returns the state of the hypotheses idx (with repeats), for beam
	// search; the receiver stays valid.
	Select(idx []int) State
	// Len returns the number of hypotheses.
	Len() int
}

// New builds the model registered as name; its parameters are allocated but
// not initialised (call Init).
func New(name string, params map[string]any, spec Spec) (Model, error) {
	return registry.Build(Registry, name, params, func(f Factory, p any) (Model, error) {
		m, err := f(p, spec)
		if err != nil {
			return nil, fmt.Errorf("model %q: %w", name, err)
		}
		return m, nil
	})
}
