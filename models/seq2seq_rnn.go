package models

import (
	"fmt"
	"slices"
	"sync"

	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/seq"
	"github.com/attnlab/attnlab/tensor"
)

// Seq2SeqRNN is the recurrent encoder-decoder with a pluggable attention.
//
// The encoder (model.encoder: lstm or gru, layers, bidirectional) reads the
// embedded source; its last layer's final state (directions concatenated)
// initialises a one-layer decoder RNN, through tanh(Linear) when the sizes
// differ ("bridge"). Two wirings:
//
// Bahdanau et al. (2015): attend from the previous decoder state, feed the
// context into the RNN input, predict from the new state and the context:
//
//	c_t = Attend(s_{t−1}, h, h);  s_t = RNN([emb(y_{t−1}); c_t], s_{t−1});  logits = W_o[s_t; c_t] + b_o
//
// (with deep_output, logits = W_o[s_t; c_t; emb(y_{t−1})] + b_o)
//
// Luong et al. (2015): step the RNN first, attend from the new state, and
// predict from the attentional state h̃_t = tanh(W_c[c_t; s_t]) (or from
// [s_t; c_t] when attentional is false); with input feeding h̃_{t−1} joins
// the RNN input:
//
//	s_t = RNN([emb(y_{t−1}); h̃_{t−1}], s_{t−1});  c_t = Attend(s_t, h, h);  logits = W_o h̃_t + b_o
//
// With attention none the context does not depend on the decoder state:
// with context final (the default) it is the encoder's final state of each
// direction, fed at every step where attention's context goes — the RNN
// encoder–decoder of Cho et al. (2014), Bahdanau et al.'s RNNencdec
// baseline; with context zero it is nothing and this is the Sutskever et
// al. (2014) encoder-decoder, whose decoder sees the source only through
// its initial state (bridge).
type Seq2SeqRNN struct {
	P       Seq2SeqRNNParams
	SrcEmb  *layers.Embedding
	TgtEmb  *layers.Embedding
	Enc     Encoder
	Dec     layers.Recurrent // one layer, unidirectional; stepped with T = 1 when needed
	Attn    attention.Attention
	BridgeH *layers.Linear // nil when sizes match or without bridge
	BridgeC *layers.Linear
	Combine *layers.Linear // luong attentional: [c; s] → hidden, no bias
	Out     *layers.Linear
	Drop    *layers.Dropout

	hidden, encOut int
	lstmDec        bool
	rng            *tensor.RNG
	tokMu          sync.Mutex // guards tokTab
	tokTab         *tokTable  // a decoding's table, kept for the next (takeTokTable)
}

var _ Model = (*Seq2SeqRNN)(nil)

// CheckAttention builds the attention of the decoder's one attention site
// as newSeq2SeqRNN would, its sizes taken from the encoder block (an lstm
// or gru encoder: hidden × directions), so that an attention that cannot
// serve it (a chunked attention with an additive score) is a validation
// error. An encoder block that does not decode is reported where it is
// resolved; nothing is checked then.
func (p *Seq2SeqRNNParams) CheckAttention(a registry.Plugin, encoder *registry.Plugin) error {
	rp, _, ok := decodeRNNEncoder(encoder, registry.DecodeOptions{})
	if !ok {
		return nil
	}
	dirs := rp.dirs()
	encOut := rp.Hidden * dirs
	hidden := p.Hidden
	if hidden == 0 {
		hidden = encOut
	}
	return checkAttentionAt(a, attention.Dims{Query: hidden, Key: encOut, Value: encOut, Directions: dirs})
}

func newSeq2SeqRNN(params any, spec Spec) (Model, error) {
	p := *params.(*Seq2SeqRNNParams)
	if spec.SrcVocab < 1 || spec.TgtVocab < 1 {
		return nil, fmt.Errorf("needs a sequence-to-sequence task (source vocabulary %d)", spec.SrcVocab)
	}
	m := &Seq2SeqRNN{P: p}
	m.SrcEmb = layers.NewEmbedding(spec.SrcVocab, p.Embed)
	m.TgtEmb = layers.NewEmbedding(spec.TgtVocab, p.Embed)
	enc, err := registry.Build(Encoders, spec.Encoder.Name, spec.Encoder.Params, func(f EncoderFactory, ep any) (Encoder, error) {
		return f(ep, p.Embed)
	})
	if err != nil {
		return nil, err
	}
	m.Enc = enc
	m.encOut = m.Enc.OutSize()
	m.hidden = p.Hidden
	if m.hidden == 0 {
		m.hidden = m.encOut
	}
	m.Attn, err = attention.New(spec.Attention.Name, spec.Attention.Params, attention.Dims{Query: m.hidden, Key: m.encOut, Value: m.encOut, Directions: m.Enc.Recurrent().Dirs()})
	if err != nil {
		return nil, err
	}
	in := p.Embed
	switch {
	case p.Wiring == "bahdanau":
		in += m.encOut
	case p.InputFeeding:
		in += m.hidden
	}
	m.lstmDec = p.Cell == "lstm"
	if m.lstmDec {
		m.Dec = layers.NewLSTM(in, m.hidden, 1, false, 0)
	} else {
		m.Dec = layers.NewGRU(in, m.hidden, 1, false, 0)
	}
	if p.Bridge && m.encOut != m.hidden {
		m.BridgeH = layers.NewLinear(m.encOut, m.hidden, true)
		if m.lstmDec {
			m.BridgeC = layers.NewLinear(m.encOut, m.hidden, true)
		}
	}
	switch {
	case p.Wiring == "luong" && p.Attentional:
		m.Combine = layers.NewLinear(m.encOut+m.hidden, m.hidden, false)
		m.Out = layers.NewLinear(m.hidden, spec.TgtVocab, true)
	default:
		out := m.hidden + m.encOut
		if p.DeepOutput {
			out += p.Embed
		}
		m.Out = layers.NewLinear(out, spec.TgtVocab, true)
	}
	m.Drop = layers.NewDropout(float32(p.Dropout))
	return m, nil
}

// Params lists the parameters under src_emb, tgt_emb, encoder, decoder,
// attention, bridge_h, bridge_c, combine and out.
func (m *Seq2SeqRNN) Params() []*layers.Param {
	parts := []layers.Named{
		{Prefix: "src_emb", Module: m.SrcEmb},
		{Prefix: "tgt_emb", Module: m.TgtEmb},
		{Prefix: "encoder", Module: m.Enc},
		{Prefix: "decoder", Module: m.Dec},
		{Prefix: "attention", Module: m.Attn},
		{Prefix: "out", Module: m.Out},
	}
	parts = appendLinear(parts, "bridge_h", m.BridgeH)
	parts = appendLinear(parts, "bridge_c", m.BridgeC)
	parts = appendLinear(parts, "combine", m.Combine)
	return layers.Collect(parts...)
}

// appendLinear appends l to parts under prefix, unless l is nil: an optional
// layer the model was built without.
func appendLinear(parts []layers.Named, prefix string, l *layers.Linear) []layers.Named {
	if l == nil {
		return parts
	}
	return append(parts, layers.Named{Prefix: prefix, Module: l})
}

// Init draws every parameter from rng (PyTorch's defaults); dropout draws
// from rng afterwards.
func (m *Seq2SeqRNN) Init(rng *tensor.RNG) {
	m.SrcEmb.Init(rng)
	m.TgtEmb.Init(rng)
	m.Enc.Init(rng)
	m.Dec.Init(rng)
	attention.Init(m.Attn, rng)
	for _, l := range []*layers.Linear{m.BridgeH, m.BridgeC, m.Combine, m.Out} {
		if l != nil {
			l.Init(rng)
		}
	}
	m.Drop.Init(rng)
	m.rng = rng
}

// SetTraining switches dropout.
func (m *Seq2SeqRNN) SetTraining(on bool) { layers.SetTraining(on, m.Enc, m.Dec, m.Drop, m.Attn) }

// encode embeds and encodes the sources and returns the encoder outputs,
// the key-padding mask [B,1,S] and the decoder's initial state.
func (m *Seq2SeqRNN) encode(src []int, srcLen []int, b, s int) (*tensor.Tensor, *tensor.Tensor, layers.State) {
	x := m.Drop.Forward(m.SrcEmb.Forward(src, b, s))
	enc, final := m.Enc.Encode(x, srcLen)
	mask := attention.KeyPaddingMask(srcLen, s)
	var init layers.State
	if m.P.Bridge {
		last := lastLayerState(m.Enc, final)
		if m.BridgeH != nil {
			init.H = tensor.Tanh(m.BridgeH.Forward(last.H))
			if m.BridgeC != nil && last.C != nil {
				init.C = tensor.Tanh(m.BridgeC.Forward(last.C))
			}
		} else {
			init.H = last.H
			if m.lstmDec {
				init.C = last.C
			}
		}
	}
	return enc, mask, init
}

// step runs one decoder step for every row: the embedded input token
// [N,1,E], the state and (luong feeding) the previous attentional state.
// It returns what the output layer reads (the parts of its input, to be
// concatenated: see outLogits), the new state, the attentional state and
// the attention weights.
//
// in, when not nil (decoding, no gradients), is a buffer the Bahdanau
// RNN input [emb; c] is written into, reused from step to step instead of
// a new concatenation (320 rows × 768 in W6's beam).
func (m *Seq2SeqRNN) step(emb *tensor.Tensor, att attention.Prepared, st layers.State, prevHt *tensor.Tensor, in *[]float32) ([]*tensor.Tensor, layers.State, *tensor.Tensor, *tensor.Tensor) {
	n := emb.Dim(0)
	if m.P.Wiring == "bahdanau" {
		q := m.stateQuery(st, n)
		ctx, w := att.Attend(q)
		var x *tensor.Tensor
		if in != nil && !emb.RequiresGrad() && !ctx.RequiresGrad() {
			de, dc := emb.Dim(-1), ctx.Dim(-1)
			*in = grow(*in, n*(de+dc))
			buf := *in
			for r := 0; r < n; r++ {
				copy(buf[r*(de+dc):], emb.Data[r*de:(r+1)*de])
				copy(buf[r*(de+dc)+de:], ctx.Data[r*dc:(r+1)*dc])
			}
			x = tensor.FromData(buf, n, 1, de+dc)
		} else {
			x = tensor.Concat(-1, emb, ctx)
		}
		out, fin := m.Dec.Forward(x, nil, []layers.State{st})
		return m.outputParts(out, ctx, emb), fin[0], nil, w
	}
	x := emb
	if m.P.InputFeeding {
		if prevHt == nil {
			prevHt = tensor.New(n, 1, m.hidden)
		}
		x = tensor.Concat(-1, emb, prevHt)
	}
	out, fin := m.Dec.Forward(x, nil, []layers.State{st})
	feat, ht, w := m.luongFeatures(out, att)
	return feat, fin[0], ht, w
}

// outLogits returns the logits W_o·Dropout([feat...]) + b_o.
func (m *Seq2SeqRNN) outLogits(feat []*tensor.Tensor) *tensor.Tensor {
	x := feat[0]
	if len(feat) > 1 {
		x = tensor.Concat(-1, feat...)
	}
	return m.Out.Forward(m.Drop.Forward(x))
}

// outputParts returns what the Bahdanau wiring predicts from: [s; c],
// or [s; c; emb] with deep_output.
func (m *Seq2SeqRNN) outputParts(s, ctx, emb *tensor.Tensor) []*tensor.Tensor {
	if m.P.DeepOutput {
		return []*tensor.Tensor{s, ctx, emb}
	}
	return []*tensor.Tensor{s, ctx}
}

// outputFeatures returns outputParts concatenated.
func (m *Seq2SeqRNN) outputFeatures(s, ctx, emb *tensor.Tensor) *tensor.Tensor {
	return tensor.Concat(-1, m.outputParts(s, ctx, emb)...)
}

// stateQuery returns the decoder's hidden state [N,H] as a query [N,1,H]
// (zeros before the first step without a bridge).
func (m *Seq2SeqRNN) stateQuery(st layers.State, n int) *tensor.Tensor {
	if st.H == nil {
		return tensor.New(n, 1, m.hidden)
	}
	return tensor.Reshape(st.H, n, 1, m.hidden)
}

// luongOutput attends from the decoder outputs s [N,T,H] and returns the
// logits, the attentional states (nil when not attentional) and the weights.
func (m *Seq2SeqRNN) luongOutput(s *tensor.Tensor, att attention.Prepared) (*tensor.Tensor, *tensor.Tensor, *tensor.Tensor) {
	feat, ht, w := m.luongFeatures(s, att)
	return m.outLogits(feat), ht, w
}

// luongFeatures attends from the decoder outputs s [N,T,H] and returns
// what the output layer reads ([h̃], or [s, c] when not attentional), the
// attentional states (nil when not attentional) and the weights.
func (m *Seq2SeqRNN) luongFeatures(s *tensor.Tensor, att attention.Prepared) ([]*tensor.Tensor, *tensor.Tensor, *tensor.Tensor) {
	ctx, w := att.Attend(s)
	if m.Combine == nil {
		return []*tensor.Tensor{s, ctx}, nil, w
	}
	ht := tensor.Tanh(m.Combine.Forward(tensor.Concat(-1, ctx, s)))
	return []*tensor.Tensor{ht}, ht, w
}

// Forward computes the logits [B,T,V] of a teacher-forced batch (with
// probability opt.TeacherForcing per example and step; otherwise the
// previous greedy prediction is fed).
func (m *Seq2SeqRNN) Forward(b *seq.Batch, opt ForwardOptions) Output {
	requestWeights(opt.WantAttention, m.Attn)
	enc, mask, st := m.encode(b.Src, b.SrcLen, b.Size, b.S)
	att := attention.Prepare(m.Attn, enc, enc, mask)
	tf := opt.TeacherForcing
	if tf == 0 {
		tf = 1
	}
	emb := m.Drop.Forward(m.TgtEmb.Forward(b.In, b.Size, b.T))
	// Luong without input feeding under full teacher forcing: the decoder
	// RNN runs over the whole target at once and attention is one call.
	if m.P.Wiring == "luong" && !m.P.InputFeeding && tf >= 1 {
		out, _ := m.Dec.Forward(emb, nil, []layers.State{st})
		logits, _, w := m.luongOutput(out, att)
		return Output{Logits: logits, Attention: headMean(w)}
	}
	var logits, weights []*tensor.Tensor
	var feats []*tensor.Tensor
	var prevHt *tensor.Tensor
	var prevPred []int
	for t := 0; t < b.T; t++ {
		x := lastStep(emb, t)
		if tf < 1 && t > 0 {
			x = m.mixInputs(b, t, x, prevPred, tf, opt.RNG)
		}
		var w *tensor.Tensor
		if m.P.Wiring == "bahdanau" && tf >= 1 {
			// Defer the output projection to one matrix product over all steps.
			q := m.stateQuery(st, b.Size)
			ctx, aw := att.Attend(q)
			out, fin := m.Dec.Forward(tensor.Concat(-1, x, ctx), nil, []layers.State{st})
			st, w = fin[0], aw
			feats = append(feats, m.outputFeatures(out, ctx, x))
		} else {
			var feat []*tensor.Tensor
			feat, st, prevHt, w = m.step(x, att, st, prevHt, nil)
			lg := m.outLogits(feat)
			logits = append(logits, lg)
			if tf < 1 {
				prevPred = greedyTokens(lg)
			}
		}
		if opt.WantAttention && w != nil {
			weights = append(weights, headMean(w))
		}
	}
	var out Output
	if feats != nil {
		out.Logits = m.Out.Forward(m.Drop.Forward(tensor.Concat(1, feats...)))
	} else {
		out.Logits = tensor.Concat(1, logits...)
	}
	if len(weights) == b.T {
		out.Attention = tensor.Concat(1, weights...)
	}
	return out
}

// mixInputs replaces, per example with probability 1−tf, the gold input
// token of step t by the previous step's prediction.
func (m *Seq2SeqRNN) mixInputs(b *seq.Batch, t int, gold *tensor.Tensor, pred []int, tf float64, rng *tensor.RNG) *tensor.Tensor {
	ids := make([]int, b.Size)
	changed := false
	for i := range ids {
		ids[i] = b.In[i*b.T+t]
		if rng.Float64() >= tf && ids[i] != seq.PadID {
			ids[i] = pred[i]
			changed = true
		}
	}
	if !changed {
		return gold
	}
	return m.Drop.Forward(m.TgtEmb.Forward(ids, b.Size, 1))
}

// greedyTokens returns the argmax token of each row of logits [N,1,V].
func greedyTokens(logits *tensor.Tensor) []int {
	v := logits.Dim(-1)
	n := logits.Len() / v
	out := make([]int, n)
	for i := range out {
		out[i] = argmax(logits.Data[i*v : (i+1)*v])
	}
	return out
}

// Start encodes b's sources for step-by-step decoding.
func (m *Seq2SeqRNN) Start(b *seq.Batch) State {
	requestWeights(true, m.Attn)
	enc, mask, st := m.encode(b.Src, b.SrcLen, b.Size, b.S)
	src := make([]int, b.Size)
	for i := range src {
		src[i] = i
	}
	return &rnnState{m: m, enc: enc, mask: mask, att: attention.Prepare(m.Attn, enc, enc, mask), st: st, srcLen: append([]int(nil), b.SrcLen...), src: src,
		out: &stepOutput{tok: m.takeTokTable()}}
}

// takeTokTable takes the model's table of the output layer's products
// with token embeddings (see tokTable), nil if there is none or another
// decoding has it; release gives it back. A decoding of a test set in
// batches, under one Freeze, so computes each token's row once.
func (m *Seq2SeqRNN) takeTokTable() *tokTable {
	m.tokMu.Lock()
	defer m.tokMu.Unlock()
	t := m.tokTab
	m.tokTab = nil
	return t
}

// useTokenTable turns tokTable on for the state and those Selected from
// it (Decode does for beam search).
func (s *rnnState) useTokenTable() { s.out.useTok = true }

// release gives the state's table back to its model (Decode calls it when
// it is done with the state and those Selected from it).
func (s *rnnState) release() {
	if t := s.out.tok; t != nil {
		s.out.tok = nil
		s.m.tokMu.Lock()
		s.m.tokTab = t
		s.m.tokMu.Unlock()
	}
}

type rnnState struct {
	m      *Seq2SeqRNN
	enc    *tensor.Tensor // [N,S,D]; nil after a Select by att (RowSelector)
	mask   *tensor.Tensor // [N,1,S]; likewise
	att    attention.Prepared
	st     layers.State
	ht     *tensor.Tensor // luong: previous attentional state [N,1,H]
	srcLen []int
	// src is each row's source example: rows of the same source share
	// enc, mask and the prepared keys.
	src []int
	// out holds the output layer's buffers, shared with the states
	// Selected from this one (Step's result lives until the next Step).
	out *stepOutput
}

func (s *rnnState) Len() int { return len(s.src) }

func (s *rnnState) Step(tokens []int) (*tensor.Tensor, [][]float32) { return s.StepRows(tokens, nil) }

// StepRows is Step calling each with every row of the log-probabilities
// as soon as it is final (see stepOutput.logProbsRows).
func (s *rnnState) StepRows(tokens []int, each func(r int, row []float32)) (*tensor.Tensor, [][]float32) {
	emb := s.m.TgtEmb.Forward(tokens, len(tokens), 1)
	feat, st, ht, w := s.m.step(emb, s.att, s.st, s.ht, &s.out.in)
	s.st, s.ht = st, ht
	var tok []int
	if s.out.useTok && s.m.P.Wiring == "bahdanau" && s.m.P.DeepOutput {
		tok = tokens // the last output part is emb(tokens)
	}
	return s.out.logProbsRows(s.m.Out, s.m.Drop, feat, tok, s.m.TgtEmb.W.Tensor, each), stepRows(w, s.srcLen)
}

func (s *rnnState) Select(idx []int) State {
	out := &rnnState{
		m:   s.m,
		st:  layers.State{H: selectRows(s.st.H, idx), C: selectRows(s.st.C, idx)},
		ht:  selectRows(s.ht, idx),
		src: selectInts(s.src, idx),
		out: s.out,
	}
	if slices.Equal(out.src, s.src) {
		// Every row keeps its source — a beam search reordering the
		// hypotheses of each sentence among its rows: the encoder's
		// outputs, the mask and the prepared keys are the same.
		out.enc, out.mask, out.att, out.srcLen = s.enc, s.mask, s.att, s.srcLen
		return out
	}
	out.srcLen = selectInts(s.srcLen, idx)
	if sel, ok := s.att.(attention.RowSelector); ok {
		// The prepared keys of the rows' sources are gathered, not
		// mapped again (a beam search's first step: each source's row
		// becomes Beam rows); so are the values. enc and mask are only
		// kept for attentions that cannot select rows.
		out.att = sel.Select(idx)
		return out
	}
	out.enc, out.mask = selectRows(s.enc, idx), selectRows(s.mask, idx)
	out.att = attention.Prepare(s.m.Attn, out.enc, out.enc, out.mask)
	return out
}
