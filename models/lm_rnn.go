package models

import (
	"fmt"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/seq"
	"github.com/attnlab/attnlab/tensor"
)

// LMRNN is a recurrent language model: embedding → the model.encoder RNN
// (lstm or gru, unidirectional, any number of layers) → dropout → output
// projection, optionally tied to the embedding (Press & Wolf 2017; a
// Linear maps the hidden size to the embedding size when they differ).
type LMRNN struct {
	P    LMRNNParams
	Emb  *layers.Embedding
	RNN  Encoder
	Proj *layers.Linear // tied with hidden ≠ embed: hidden → embed
	Out  *layers.Linear // nil when tied
	Drop *layers.Dropout
}

var _ Model = (*LMRNN)(nil)

// lmLeftToRight is why lm-rnn refuses a bidirectional encoder.
const lmLeftToRight = "a language model reads left to right only"

// EncoderChecker is implemented by the parameters of a model that takes
// only some settings of its model.encoder block: CheckEncoder returns a
// *registry.ParamError whose Key is the encoder parameter it refuses, so
// that validation (plan) refuses it rather than every run's construction.
type EncoderChecker interface {
	CheckEncoder(encoder registry.Plugin) error
}

var _ EncoderChecker = (*LMRNNParams)(nil)

// CheckEncoder refuses a bidirectional encoder, which would read the
// tokens a language model predicts.
func (p *LMRNNParams) CheckEncoder(encoder registry.Plugin) error {
	if b, _ := encoder.Params["bidirectional"].(bool); b {
		return registry.Invalid("bidirectional", "%s", lmLeftToRight)
	}
	return nil
}

func newLMRNN(params any, spec Spec) (Model, error) {
	p := *params.(*LMRNNParams)
	m := &LMRNN{P: p, Emb: layers.NewEmbedding(spec.TgtVocab, p.Embed), Drop: layers.NewDropout(float32(p.Dropout))}
	rnn, err := registry.Build(Encoders, spec.Encoder.Name, spec.Encoder.Params, func(f EncoderFactory, ep any) (Encoder, error) {
		if ep.(*RNNEncoderParams).Bidirectional {
			return nil, fmt.Errorf("encoder.bidirectional: %s", lmLeftToRight)
		}
		return f(ep, p.Embed)
	})
	if err != nil {
		return nil, err
	}
	m.RNN = rnn
	h := m.RNN.OutSize()
	switch {
	case !p.TieEmbeddings:
		m.Out = layers.NewLinear(h, spec.TgtVocab, true)
	case h != p.Embed:
		m.Proj = layers.NewLinear(h, p.Embed, false)
	}
	return m, nil
}

// Params lists emb, rnn, proj and out.
func (m *LMRNN) Params() []*layers.Param {
	parts := []layers.Named{{Prefix: "emb", Module: m.Emb}, {Prefix: "rnn", Module: m.RNN}}
	parts = appendLinear(parts, "proj", m.Proj)
	parts = appendLinear(parts, "out", m.Out)
	return layers.Collect(parts...)
}

// Init draws every parameter from rng.
func (m *LMRNN) Init(rng *tensor.RNG) {
	m.Emb.Init(rng)
	m.RNN.Init(rng)
	if m.Proj != nil {
		m.Proj.Init(rng)
	}
	if m.Out != nil {
		m.Out.Init(rng)
	}
	m.Drop.Init(rng)
}

// SetTraining switches dropout.
func (m *LMRNN) SetTraining(on bool) { layers.SetTraining(on, m.RNN, m.Drop) }

func (m *LMRNN) logits(h *tensor.Tensor) *tensor.Tensor {
	h = m.Drop.Forward(h)
	if m.Out != nil {
		return m.Out.Forward(h)
	}
	if m.Proj != nil {
		h = m.Proj.Forward(h)
	}
	return tensor.MatMulT(h, m.Emb.W.Tensor, false, true)
}

// Forward computes the logits [B,T,V] of a batch of windows.
func (m *LMRNN) Forward(b *seq.Batch, _ ForwardOptions) Output {
	x := m.Drop.Forward(m.Emb.Forward(b.In, b.Size, b.T))
	out, _ := m.RNN.Encode(x, b.TgtLen)
	return Output{Logits: m.logits(out)}
}

// promptLen returns the length of prompt i of a language model's batch b:
// b.TgtLen[i], or 0 when b has no lengths (no prompts: decoding starts from
// BOS).
func promptLen(b *seq.Batch, i int) int {
	if b.TgtLen == nil {
		return 0
	}
	return b.TgtLen[i]
}

// Start runs the prompts in b.In (lengths b.TgtLen) but their last tokens,
// which the first Step feeds.
func (m *LMRNN) Start(b *seq.Batch) State {
	st := &lmRNNState{m: m, n: b.Size, first: make([]int, b.Size)}
	lens := make([]int, b.Size)
	run := false
	for i := range lens {
		n := promptLen(b, i)
		if n == 0 {
			st.first[i] = seq.BOSID
			continue
		}
		st.first[i] = b.In[i*b.T+n-1]
		lens[i] = n - 1
		run = run || n > 1
	}
	if run {
		x := m.Emb.Forward(b.In, b.Size, b.T)
		_, st.states = m.RNN.Recurrent().Forward(x, lens, nil)
	}
	return st
}

type lmRNNState struct {
	m      *LMRNN
	states []layers.State // per layer; nil: zeros
	first  []int          // the prompts' last tokens, fed by the first Step
	n      int
}

func (s *lmRNNState) Len() int { return s.n }

func (s *lmRNNState) Step(tokens []int) (*tensor.Tensor, [][]float32) {
	if s.first != nil {
		tokens, s.first = s.first, nil
	}
	x := s.m.Emb.Forward(tokens, len(tokens), 1)
	out, fin := s.m.RNN.Recurrent().Forward(x, nil, s.states)
	s.states = fin
	return logProbs(s.m.logits(out)), nil
}

func (s *lmRNNState) Select(idx []int) State {
	out := &lmRNNState{m: s.m, n: len(idx)}
	if s.first != nil {
		out.first = selectInts(s.first, idx)
	}
	for _, st := range s.states {
		out.states = append(out.states, layers.State{H: selectRows(st.H, idx), C: selectRows(st.C, idx)})
	}
	return out
}
