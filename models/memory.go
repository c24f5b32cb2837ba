package models

import (
	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/registry"
)

// MemoryEnv is what a model's memory estimate knows beside its own
// parameters: the run's vocabulary, batch and longest sequences, and the
// model's nested blocks.
type MemoryEnv struct {
	Vocab    float64 // vocabulary size, 0 when unknown
	Batch    float64 // sequences per training step (Forward: per evaluation batch)
	Src, Tgt float64 // longest source and decoder input, 0 when unknown
	LM       bool    // the model's entry has LanguageModel
	// Forward asks for a forward pass without gradients (an evaluation)
	// instead of a training step: what one layer, one decoder step and
	// the outputs kept across them hold at once, freed as the pass goes.
	Forward bool

	Encoder, Attention *registry.Plugin // model.encoder, model.attention; nil when absent
}

// MemoryEstimator is implemented by the decoded parameters of a model that
// can estimate its training memory from its configuration alone: its
// parameters (weights, embeddings included) and the float32 activations
// one training step keeps for the backward pass. The attention and the
// encoder are asked of their own entries ([attention.EstimateMemory],
// [EstimateEncoderMemory]).
type MemoryEstimator interface {
	EstimateMemory(env MemoryEnv) (params, activations float64)
}

// EstimateMemory estimates the model named name with the given parameters;
// it fills env.LM from the entry. A model that is unknown, whose
// parameters do not decode, or whose decoded parameters do not implement
// [MemoryEstimator] is estimated at 0.
func EstimateMemory(name string, params map[string]any, env MemoryEnv) (float64, float64) {
	info, err := Registry.Info(name)
	if err != nil {
		return 0, 0
	}
	env.LM = info.Has(LanguageModel)
	p, err := info.Decode(params, registry.DecodeOptions{NoValidate: true})
	if err != nil {
		return 0, 0
	}
	if m, ok := p.(MemoryEstimator); ok {
		return m.EstimateMemory(env)
	}
	return 0, 0
}

// EstimateEncoderMemory estimates env.Encoder over inputs of size in and
// sequences of t steps, and returns its output size too: a recurrent
// encoder (RNNEncoderParams) has gate blocks of 4 hidden rows per layer and
// direction (3 when its entry has GRUCell). Any other encoder, or none,
// counts 0.
func EstimateEncoderMemory(env MemoryEnv, in, t float64) (params, activations, out float64) {
	p, info, ok := decodeRNNEncoder(env.Encoder, registry.DecodeOptions{NoValidate: true})
	if !ok {
		return 0, 0, 0
	}
	gates := 4.0
	if info.Has(GRUCell) {
		gates = 3
	}
	h, dirs := float64(p.Hidden), float64(p.dirs())
	for range min(p.Layers, 64) {
		params += dirs * gates * h * (in + h)
		layer := env.Batch * t * dirs * (gates + 2) * h
		if env.Forward { // a layer's input and working set, then freed
			activations = max(activations, layer+env.Batch*t*in)
		} else {
			activations += layer
		}
		in = dirs * h
	}
	return params, activations, dirs * h
}

// decodeRNNEncoder decodes an encoder block into the lstm or gru
// encoder's parameters and its entry; ok is false when block is nil or
// does not decode (reported where it is resolved).
func decodeRNNEncoder(block *registry.Plugin, opt registry.DecodeOptions) (p *RNNEncoderParams, info registry.Info, ok bool) {
	if block == nil {
		return nil, info, false
	}
	info, err := Encoders.Info(block.Name)
	if err != nil {
		return nil, info, false
	}
	v, err := info.Decode(block.Params, opt)
	if err != nil {
		return nil, info, false
	}
	p, ok = v.(*RNNEncoderParams)
	return p, info, ok
}

// dirs is the encoder's number of directions: its outputs are
// dirs × hidden wide.
func (p *RNNEncoderParams) dirs() int {
	if p.Bidirectional {
		return 2
	}
	return 1
}

// EstimateMemory of seq2seq-rnn: source and target embeddings, the
// encoder, the decoder cell over [embedding; context], the attention and
// the output layer, and their activations over the target steps.
func (p *Seq2SeqRNNParams) EstimateMemory(env MemoryEnv) (params, activations float64) {
	embed := float64(p.Embed)
	params += 2 * env.Vocab * embed
	ep, ea, encOut := EstimateEncoderMemory(env, embed, env.Src)
	params, activations = params+ep, activations+ea
	hidden := float64(p.Hidden)
	if hidden == 0 {
		hidden = encOut
	}
	params += 4*hidden*(embed+encOut+hidden) + 2*hidden*(encOut+hidden) + env.Vocab*hidden
	steps := env.Tgt // the decoder steps whose activations are kept
	if env.Forward {
		// The encoder's outputs, each step's output and logits; one
		// step's cell and attention at a time.
		activations += env.Batch*env.Src*encOut + env.Batch*env.Tgt*(2*hidden+2*env.Vocab)
		steps = 1
	}
	activations += env.Batch * steps * (10*hidden + 2*env.Vocab + 2*env.Src)
	ap, aa := attention.EstimateMemory(env.Attention, attention.MemoryShape{Q: hidden, K: encOut, TQ: steps, TK: env.Src, Batch: env.Batch, Steps: true})
	return params + ap, activations + aa
}

// EstimateMemory of seq2seq-transformer and lm-transformer (no encoder,
// one attention per block over the longer of the task's sequences):
// embeddings, learned positions at most max_len, per block the
// feed-forward layers and its attentions, and the output logits.
func (p *TransformerParams) EstimateMemory(env MemoryEnv) (params, activations float64) {
	d, ff := float64(p.DModel), float64(p.FF)
	enc, dec := min(p.EncoderLayers, 64), min(p.DecoderLayers, 64)
	if env.LM {
		enc = 0
	}
	if p.MaxLen > 0 {
		params += float64(p.MaxLen) * d // learned positions, at most
	}
	params += 2 * env.Vocab * d
	var largest float64               // Forward: the largest layer's working set
	layer := func(t, cross float64) { // cross: a cross-attention's keys, 0 for none
		params += 2 * d * ff // the attentions count their own projections
		attentions, acts := 1.0, 0.0
		if cross > 0 {
			attentions = 2
		}
		acts += env.Batch * t * (attentions*6*d + 2*ff)
		for _, tk := range []float64{t, cross}[:int(attentions)] {
			ap, aa := attention.EstimateMemory(env.Attention, attention.MemoryShape{Q: d, K: d, TQ: t, TK: tk, Batch: env.Batch})
			params, acts = params+ap, acts+aa
		}
		if env.Forward {
			largest = max(largest, acts)
		} else {
			activations += acts
		}
	}
	for range enc {
		layer(env.Src, 0)
	}
	t, cross := env.Tgt, max(env.Src, 1)
	if env.LM {
		t, cross = max(env.Src, env.Tgt), 0
	}
	for range dec {
		layer(t, cross)
	}
	if env.Forward { // the encoder's output, kept across the decoder
		activations += largest + env.Batch*env.Src*d
	}
	activations += env.Batch * t * 2 * env.Vocab
	return params, activations
}

// EstimateMemory of lm-rnn: the embedding, the encoder as its recurrent
// body over the longer of the task's sequences, the output projection and
// the logits.
func (p *LMRNNParams) EstimateMemory(env MemoryEnv) (params, activations float64) {
	embed := float64(p.Embed)
	t := max(env.Src, env.Tgt)
	params += 2 * env.Vocab * embed
	ep, ea, out := EstimateEncoderMemory(env, embed, t) // Forward: one layer's
	params += ep + env.Vocab*out
	activations += ea + env.Batch*t*2*env.Vocab
	return params, activations
}
