package models

import (
	"fmt"
	"math"
	"slices"

	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/seq"
	"github.com/attnlab/attnlab/tensor"
)

// Transformer is the Transformer of Vaswani et al. (2017) with the chosen
// attention variant in every attention site: as an encoder-decoder
// (seq2seq-transformer) or as a decoder-only causal language model
// (lm-transformer, GPT-style: self-attention blocks under a causal mask).
//
// Tokens are embedded (× √d_model when scale_embeddings; embeddings and
// learned positions are initialised from N(0, 1/d_model)), dropout applied;
// the blocks are post-LN or pre-LN; the encoder and decoder stacks end with
// a LayerNorm, as PyTorch's nn.Transformer and GPT-2 do; a Linear maps to
// the vocabulary, or the target embedding does when tie_embeddings.
//
// Positions (the positions parameter): sinusoidal (Vaswani et al. 2017) or
// learned vectors are added to the embeddings; rope, alibi and t5 act
// inside every self-attention site instead (attention.Positions: one
// scheme for the encoder's sites, one for the decoder's; cross-attention
// gets none, as in T5), and none adds nothing (NoPE: a causal model can
// still tell positions apart; refused for seq2seq-transformer, whose
// encoder would see a bag of tokens). Only learned positions limit the
// length of a sequence (max_len); the others extrapolate.
//
// Decoder self-attention is built as a causal site (attention.Dims), so the
// masks passed are key padding only: nothing [T,T]-sized is built outside
// the attention.
type Transformer struct {
	P        TransformerParams
	LM       bool
	SrcEmb   *layers.Embedding // nil for a language model
	TgtEmb   *layers.Embedding
	SrcPos   layers.Positional // added positions (sinusoidal, learned), or nil
	TgtPos   layers.Positional
	SrcRel   *attention.Positions // positions inside attention (rope, alibi, t5), or nil
	TgtRel   *attention.Positions
	Enc      []*layers.EncoderBlock
	Dec      []*layers.DecoderBlock // seq2seq
	LMBlocks []*layers.EncoderBlock // language model: causal self-attention blocks
	EncNorm  *layers.LayerNorm
	DecNorm  *layers.LayerNorm
	Out      *layers.Linear // nil when tied
	Drop     *layers.Dropout
	// cross holds each decoder layer's cross-attention: the only weights
	// Forward and decoding return (the last layer's), so the only
	// attentions asked for them (requestWeights); self-attentions never
	// materialise theirs, so a long source stays on the flash kernel.
	cross     []attention.Attention
	noCache   bool // decode by re-running the prefix (UseKVCache)
	allRows   bool // run the feed-forward sub-layers on padded rows too (tests)
	maxLen    int
	window    int // a language model's decoding window: its training context (Spec.Context), at most maxLen
	embScale  float32
	vocabSize int
}

var _ Model = (*Transformer)(nil)

func newSeq2SeqTransformer(params any, spec Spec) (Model, error) {
	return newTransformer(*params.(*TransformerParams), spec, false)
}

func newLMTransformer(params any, spec Spec) (Model, error) {
	return newTransformer(*params.(*TransformerParams), spec, true)
}

func newTransformer(p TransformerParams, spec Spec, lm bool) (*Transformer, error) {
	if lm && p.EncoderLayers != 0 {
		return nil, fmt.Errorf("encoder_layers: a language model has no encoder (got %d)", p.EncoderLayers)
	}
	if !lm && (spec.SrcVocab < 1 || p.EncoderLayers < 1) {
		return nil, fmt.Errorf("needs a sequence-to-sequence task and at least one encoder layer")
	}
	m := &Transformer{P: p, LM: lm, vocabSize: spec.TgtVocab}
	m.maxLen = p.MaxLen
	if m.maxLen == 0 {
		m.maxLen = spec.MaxLen
	}
	if m.maxLen < 1 {
		return nil, fmt.Errorf("max_len: unknown longest sequence; set max_len")
	}
	m.window = m.maxLen
	if lm && spec.Context > 0 && spec.Context < m.maxLen {
		m.window = spec.Context
	}
	d := p.DModel
	m.embScale = 1
	if p.ScaleEmbed {
		m.embScale = float32(math.Sqrt(float64(d)))
	}
	if !lm && p.Positions == "none" {
		return nil, fmt.Errorf("positions none: an encoder without positions sees a bag of tokens; NoPE needs a causal model (lm-transformer)")
	}
	newPos := func(causal bool) (layers.Positional, *attention.Positions, error) {
		switch p.Positions {
		case "learned":
			return layers.NewLearnedPositions(m.maxLen, d), nil, nil
		case "sinusoidal":
			return layers.NewSinusoidal(d, m.maxLen), nil, nil
		case "none":
			return nil, nil, nil
		}
		rel, err := attention.NewPositions(p.Positions, causal)
		return nil, rel, err
	}
	var err error
	m.TgtEmb = layers.NewEmbedding(spec.TgtVocab, d)
	if m.TgtPos, m.TgtRel, err = newPos(true); err != nil {
		return nil, err
	}
	act, err := layers.ParseActivation(p.Activation)
	if err != nil {
		return nil, err
	}
	cfg := layers.BlockConfig{Dim: d, FFDim: p.FF, Activation: act, Dropout: float32(p.Dropout), PreLN: p.Norm == "pre"}
	newAttn := func(causal bool, rel *attention.Positions) (attention.Attention, error) {
		return attention.New(spec.Attention.Name, spec.Attention.Params, attention.Dims{Query: d, Key: d, Value: d, Causal: causal, Positions: rel})
	}
	if lm {
		for i := 0; i < p.DecoderLayers; i++ {
			a, err := newAttn(true, m.TgtRel)
			if err != nil {
				return nil, err
			}
			m.LMBlocks = append(m.LMBlocks, layers.NewEncoderBlock(cfg, a))
		}
	} else {
		m.SrcEmb = layers.NewEmbedding(spec.SrcVocab, d)
		if m.SrcPos, m.SrcRel, err = newPos(false); err != nil {
			return nil, err
		}
		for i := 0; i < p.EncoderLayers; i++ {
			a, err := newAttn(false, m.SrcRel)
			if err != nil {
				return nil, err
			}
			m.Enc = append(m.Enc, layers.NewEncoderBlock(cfg, a))
		}
		m.EncNorm = layers.NewLayerNorm(d, 0)
		for i := 0; i < p.DecoderLayers; i++ {
			self, err := newAttn(true, m.TgtRel)
			if err != nil {
				return nil, err
			}
			cross, err := newAttn(false, nil)
			if err != nil {
				return nil, err
			}
			m.cross = append(m.cross, cross)
			m.Dec = append(m.Dec, layers.NewDecoderBlock(cfg, self, cross))
		}
	}
	m.DecNorm = layers.NewLayerNorm(d, 0)
	if !p.TieEmbeddings {
		m.Out = layers.NewLinear(d, spec.TgtVocab, true)
	}
	m.Drop = layers.NewDropout(float32(p.Dropout))
	return m, nil
}

// Params lists the parameters under src_emb, tgt_emb, src_pos, tgt_pos
// (learned positions, or t5's bias table), encoder.N, decoder.N (or
// blocks.N), enc_norm, dec_norm and out.
func (m *Transformer) Params() []*layers.Param {
	parts := []layers.Named{{Prefix: "tgt_emb", Module: m.TgtEmb}}
	pos := func(prefix string, add layers.Positional, rel *attention.Positions) {
		switch {
		case add != nil:
			parts = append(parts, layers.Named{Prefix: prefix, Module: add})
		case rel != nil:
			parts = append(parts, layers.Named{Prefix: prefix, Module: rel})
		}
	}
	pos("tgt_pos", m.TgtPos, m.TgtRel)
	if m.SrcEmb != nil {
		parts = append(parts, layers.Named{Prefix: "src_emb", Module: m.SrcEmb})
		pos("src_pos", m.SrcPos, m.SrcRel)
	}
	for i, b := range m.Enc {
		parts = append(parts, layers.Named{Prefix: fmt.Sprintf("encoder.%d", i), Module: b})
	}
	for i, b := range m.Dec {
		parts = append(parts, layers.Named{Prefix: fmt.Sprintf("decoder.%d", i), Module: b})
	}
	for i, b := range m.LMBlocks {
		parts = append(parts, layers.Named{Prefix: fmt.Sprintf("blocks.%d", i), Module: b})
	}
	if m.EncNorm != nil {
		parts = append(parts, layers.Named{Prefix: "enc_norm", Module: m.EncNorm})
	}
	parts = append(parts, layers.Named{Prefix: "dec_norm", Module: m.DecNorm})
	if m.Out != nil {
		parts = append(parts, layers.Named{Prefix: "out", Module: m.Out})
	}
	return layers.Collect(parts...)
}

// Init draws every parameter from rng.
func (m *Transformer) Init(rng *tensor.RNG) {
	if m.SrcEmb != nil {
		m.initEmbedding(m.SrcEmb, rng)
		initPositions(m.SrcPos, rng)
	}
	m.initEmbedding(m.TgtEmb, rng)
	initPositions(m.TgtPos, rng)
	for _, rel := range []*attention.Positions{m.SrcRel, m.TgtRel} {
		if rel != nil {
			rel.Init(rng)
		}
	}
	for _, b := range m.Enc {
		b.Init(rng)
	}
	for _, b := range m.Dec {
		b.Init(rng)
	}
	for _, b := range m.LMBlocks {
		b.Init(rng)
	}
	if m.EncNorm != nil {
		m.EncNorm.Init(rng)
	}
	m.DecNorm.Init(rng)
	if m.Out != nil {
		m.Out.Init(rng)
	}
	m.Drop.Init(rng)
}

// initEmbedding draws token embeddings from N(0, 1/d_model) (as fairseq and
// tensor2tensor do): scaled by √d_model they have unit variance like the
// positions instead of drowning them, and a tied output projection starts
// with unit-variance logits instead of logits of variance d_model.
func (m *Transformer) initEmbedding(e *layers.Embedding, rng *tensor.RNG) {
	e.Init(rng)
	scaleParam(e.W, 1/math.Sqrt(float64(m.P.DModel)))
}

func scaleParam(p *layers.Param, s float64) {
	for i := range p.Data {
		p.Data[i] *= float32(s)
	}
}

// initPositions draws learned positions from N(0, 1/d_model), the scale of
// the token embeddings (sinusoidal ones have no parameters).
func initPositions(p layers.Positional, rng *tensor.RNG) {
	if lp, ok := p.(*layers.LearnedPositions); ok {
		lp.Init(rng)
		scaleParam(lp.W, 1/math.Sqrt(float64(lp.W.Dim(-1))))
	}
}

// SetTraining switches dropout everywhere.
func (m *Transformer) SetTraining(on bool) {
	ms := []any{m.Drop}
	for _, b := range m.Enc {
		ms = append(ms, b)
	}
	for _, b := range m.Dec {
		ms = append(ms, b)
	}
	for _, b := range m.LMBlocks {
		ms = append(ms, b)
	}
	layers.SetTraining(on, ms...)
}

func (m *Transformer) embed(emb *layers.Embedding, pos layers.Positional, ids []int, b, t int) *tensor.Tensor {
	if _, learned := pos.(*layers.LearnedPositions); learned && t > m.maxLen {
		// A configuration can cause this (issue 10: validation will catch it
		// where the task's lengths are known): a tensor.Error makes it a
		// one-line run error rather than a bug.
		panic(tensor.Error{Msg: fmt.Sprintf("models: sequence of length %d exceeds max_len %d, the Transformer's table of learned positions", t, m.maxLen)})
	}
	x := emb.Forward(ids, b, t)
	if m.embScale != 1 {
		x = tensor.Scale(x, m.embScale)
	}
	if pos != nil {
		x = pos.Forward(x)
	}
	return m.Drop.Forward(x)
}

// encode runs the encoder stack and returns the memory [B,S,D] (padded
// rows 0) and its mask.
func (m *Transformer) encode(src, srcLen []int, b, s int) (*tensor.Tensor, *tensor.Tensor) {
	mem, mask, rows := m.encodeRows(src, srcLen, b, s)
	return rows.Scatter(mem), mask
}

// encodeRows runs the encoder stack on the real rows of the source batch
// and returns the memory's real rows [N,D], its mask, and its rows (nil:
// nothing is padded, and the memory is the whole batch [B,S,D]).
func (m *Transformer) encodeRows(src, srcLen []int, b, s int) (mem, mask *tensor.Tensor, rows *layers.Rows) {
	x := m.embed(m.SrcEmb, m.SrcPos, src, b, s)
	mask = attention.KeyPaddingMask(srcLen, s)
	rows = m.paddedRows(srcLen, s)
	x = rows.Gather(x)
	for _, blk := range m.Enc {
		x, _ = blk.ForwardPacked(x, mask, rows)
	}
	return m.EncNorm.Forward(x), mask, rows
}

// paddedRows returns the real rows of a batch of sequences of the given
// lengths padded to t (layers.PaddedRows), the only rows the block stacks
// carry from block to block: the padding's share of their products,
// LayerNorms and residual adds (a third of W3's rows) is skipped. nil when nothing is padded, or when the
// comparison tests ask for every row (allRows).
func (m *Transformer) paddedRows(lens []int, t int) *layers.Rows {
	if m.allRows {
		return nil
	}
	return layers.PaddedRows(lens, t)
}

// decode runs the decoder stack (or the LM blocks) over the target inputs
// in [B,T] and returns the logits [B,T,V] (0 at padded positions) and the
// last layer's cross weights (seq2seq). mem is the memory's real rows
// (memRows) or, with memRows nil, the whole memory.
func (m *Transformer) decode(in, tgtLen []int, b, t int, mem, memMask *tensor.Tensor, memRows *layers.Rows) (*tensor.Tensor, *tensor.Tensor) {
	y := m.embed(m.TgtEmb, m.TgtPos, in, b, t)
	self := attention.KeyPaddingMask(tgtLen, t) // the causal rule is the sites'
	rows := m.paddedRows(tgtLen, t)
	y = rows.Gather(y)

	var cross *tensor.Tensor
	for _, blk := range m.Dec {
		y, _, cross = blk.ForwardPacked(y, mem, self, memMask, rows, memRows)
	}
	for _, blk := range m.LMBlocks {
		y, _ = blk.ForwardPacked(y, self, rows)
	}
	y = m.DecNorm.Forward(y)
	var logits *tensor.Tensor
	if m.Out != nil {
		logits = m.Out.Forward(y)
	} else {
		logits = tensor.MatMulT(y, m.TgtEmb.W.Tensor, false, true)
	}
	return rows.Scatter(logits), cross
}

// Forward computes the logits [B,T,V] of a teacher-forced batch.
// Teacher forcing below 1 is not supported by Transformers (the runner
// rejects it before training).
func (m *Transformer) Forward(b *seq.Batch, opt ForwardOptions) Output {
	requestWeights(opt.WantAttention, m.cross...)
	var mem, memMask *tensor.Tensor
	var memRows *layers.Rows
	if !m.LM {
		mem, memMask, memRows = m.encodeRows(b.Src, b.SrcLen, b.Size, b.S)
	}
	logits, cross := m.decode(b.In, b.TgtLen, b.Size, b.T, mem, memMask, memRows)
	out := Output{Logits: logits}
	if opt.WantAttention {
		out.Attention = headMean(cross)
	}
	return out
}

// ContextWindow is the most tokens a language model conditions on (its
// training context, at most its learned positions; a longer prompt keeps
// its last ones), 0 for a sequence-to-sequence model.
func (m *Transformer) ContextWindow() int {
	if !m.LM {
		return 0
	}
	return m.window
}

// MaxDecodeLen returns the longest source or output a sequence-to-sequence
// Transformer with learned positions can take (its table's max_len); 0, no
// limit, for other positions (sinusoidal, computed beyond the table;
// rope, alibi and t5, relative), whose behaviour on inputs longer than
// training is what a length-generalisation study measures, and for a
// language model, which keeps a sliding context window.
func (m *Transformer) MaxDecodeLen() int {
	if m.LM || m.P.Positions != "learned" {
		return 0
	}
	return m.maxLen
}

// Start encodes the sources (seq2seq) or takes the prompts in b.In with
// lengths b.TgtLen (language model) for decoding. When every
// self-attention can decode step by step (layers.Incremental: every
// attnlab variant), each Step runs the new token only, its self-attention
// reading the keys and values of the earlier tokens from a cache per layer
// (a language model's prompt fills the caches at Start); otherwise the
// decoder is re-run over the whole prefix at every step. Both give the
// same tokens and log-probabilities (up to float32 rounding).
func (m *Transformer) Start(b *seq.Batch) State {
	requestWeights(true, m.cross...)
	st := &transformerState{m: m, prefix: make([][]int, b.Size)}
	if !m.LM {
		st.mem, st.memMask = m.encode(b.Src, b.SrcLen, b.Size, b.S)
		st.srcLen = append([]int(nil), b.SrcLen...)
		st.src = make([]int, b.Size)
		for i := range st.src {
			st.src[i] = i
		}
	} else {
		st.first = make([]int, b.Size)
		for i := range st.prefix {
			n := promptLen(b, i)
			if n == 0 {
				st.first[i] = seq.BOSID
				continue
			}
			row := b.In[i*b.T : i*b.T+n]
			// The model sees at most its context window: a longer prompt
			// keeps its last tokens, as the window slides while decoding.
			keep := row[max(0, n-m.window) : n-1]
			st.prefix[i] = append([]int(nil), keep...)
			st.first[i] = row[n-1]
		}
	}
	if m.canCache() {
		st.fill()
		st.prepareCross()
	}
	return st
}

// UseKVCache switches decoding over key/value caches on (the default) or
// off. Off, every Step re-runs the decoder over the whole prefix, as a
// decoder that cannot cache does: the same tokens and log-probabilities,
// at a cost that grows with the square of the output's length (the
// benchmark's lm-nocache). It affects the States that Start returns from
// then on.
func (m *Transformer) UseKVCache(on bool) { m.noCache = !on }

// canCache reports whether decoding can use key/value caches.
func (m *Transformer) canCache() bool {
	if m.noCache {
		return false
	}
	for _, blk := range m.LMBlocks {
		if !blk.CanStep() {
			return false
		}
	}
	for _, blk := range m.Dec {
		if !blk.CanStep() {
			return false
		}
	}
	return true
}

type transformerState struct {
	m       *Transformer
	mem     *tensor.Tensor // seq2seq memory [N,S,d]
	memMask *tensor.Tensor
	srcLen  []int
	prefix  [][]int          // tokens fed so far, per hypothesis
	first   []int            // LM: the prompts' last tokens, fed by the first Step
	caches  []layers.KVCache // per decoder layer, when cached: the keys and values of prefix
	// cross holds, when cached, each decoder layer's cross-attention
	// prepared over mem (multi-head: the memory's keys and values
	// projected once for the whole decoding).
	cross []layers.Prepared
	// src is each row's source example (seq2seq): rows of the same source
	// share mem, memMask and cross.
	src []int
}

// prepareCross prepares every decoder layer's cross-attention over the
// memory.
func (s *transformerState) prepareCross() {
	s.cross = make([]layers.Prepared, len(s.m.Dec))
	for l, blk := range s.m.Dec {
		s.cross[l] = attention.Prepare(blk.CrossAttn, s.mem, s.mem, s.memMask)
	}
}

func (s *transformerState) Len() int { return len(s.prefix) }

// fill makes new caches holding the prefix of every hypothesis: one pass of
// the decoder over the prefixes (right-padded), positions from 0.
func (s *transformerState) fill() {
	m, n := s.m, len(s.prefix)
	s.caches = make([]layers.KVCache, 0, len(m.LMBlocks)+len(m.Dec))
	for _, blk := range m.LMBlocks {
		s.caches = append(s.caches, blk.NewCache(n))
	}
	for _, blk := range m.Dec {
		s.caches = append(s.caches, blk.NewCache(n))
	}
	t, lens := 0, make([]int, n)
	for i, p := range s.prefix {
		lens[i] = len(p)
		t = max(t, len(p))
	}
	if t == 0 {
		return
	}
	in := make([]int, n*t)
	for i, p := range s.prefix {
		copy(in[i*t:], p)
	}
	y := m.embed(m.TgtEmb, m.TgtPos, in, n, t)
	s.layers(y, lens)
}

// layers runs the decoder layers over y [N,T,d] (the first lens[i] rows of
// hypothesis i new), extending the caches, and returns the output and the
// last layer's cross-attention weights.
func (s *transformerState) layers(y *tensor.Tensor, lens []int) (*tensor.Tensor, *tensor.Tensor) {
	var cross *tensor.Tensor
	for l, blk := range s.m.LMBlocks {
		y = blk.ForwardNext(y, lens, s.caches[l])
	}
	for l, blk := range s.m.Dec {
		y, cross = blk.ForwardNext(y, s.cross[l], lens, s.caches[l])
	}
	return y, cross
}

func (s *transformerState) Step(tokens []int) (*tensor.Tensor, [][]float32) {
	if s.first != nil {
		tokens, s.first = s.first, nil
	}
	if s.caches != nil {
		return s.stepCached(tokens)
	}
	n := len(tokens)
	t := 0
	lens := make([]int, n)
	for i, tok := range tokens {
		s.prefix[i] = append(s.prefix[i], tok)
		if s.m.LM && len(s.prefix[i]) > s.m.window {
			s.prefix[i] = s.prefix[i][len(s.prefix[i])-s.m.window:] // keep the context window
		}
		lens[i] = len(s.prefix[i])
		t = max(t, lens[i])
	}
	in := make([]int, n*t)
	for i, p := range s.prefix {
		copy(in[i*t:], p)
	}
	logits, cross := s.m.decode(in, lens, n, t, s.mem, s.memMask, nil)
	v := logits.Dim(-1)
	last := tensor.New(n, v)
	for i := range lens {
		copy(last.Data[i*v:(i+1)*v], logits.Data[(i*t+lens[i]-1)*v:(i*t+lens[i])*v])
	}
	return tensor.LogSoftmax(last), s.crossRows(cross, t, lens)
}

// stepCached feeds one token per hypothesis at the position after its
// prefix. A language model whose context window is full slides it as the
// uncached decoder does: the window restarts at position 0, so the caches
// are filled again from the kept tokens.
func (s *transformerState) stepCached(tokens []int) (*tensor.Tensor, [][]float32) {
	m, n := s.m, len(tokens)
	refill := false
	for i := range tokens {
		if m.LM && len(s.prefix[i])+1 > m.window {
			s.prefix[i] = s.prefix[i][len(s.prefix[i])+1-m.window:]
			refill = true
		}
	}
	if refill {
		s.fill()
	}
	x := m.TgtEmb.Forward(tokens, n, 1)
	if m.embScale != 1 {
		x = tensor.Scale(x, m.embScale)
	}
	if m.TgtPos != nil {
		rows := make([]*tensor.Tensor, n)
		for i := range rows {
			rows[i] = m.TgtPos.ForwardAt(tensor.Narrow(x, 0, i, 1), len(s.prefix[i]))
		}
		x = tensor.Concat(0, rows...)
	}
	x = m.Drop.Forward(x)
	ones := make([]int, n)
	for i := range ones {
		ones[i] = 1
		s.prefix[i] = append(s.prefix[i], tokens[i])
	}
	y, cross := s.layers(x, ones)
	y = m.DecNorm.Forward(y)
	var logits *tensor.Tensor
	if m.Out != nil {
		logits = m.Out.Forward(y)
	} else {
		logits = tensor.MatMulT(y, m.TgtEmb.W.Tensor, false, true)
	}
	return tensor.LogSoftmax(tensor.Reshape(logits, n, -1)), s.crossRows(cross, 1, ones)
}

// crossRows splits the last layer's cross-attention weights of a step's
// decoder pass over t target positions into the row of each hypothesis's
// last real position, cut to its source length (nil for a language model).
func (s *transformerState) crossRows(cross *tensor.Tensor, t int, lens []int) [][]float32 {
	if cross = headMean(cross); cross == nil {
		return nil
	}
	sLen := cross.Dim(-1)
	rows := make([][]float32, len(lens))
	for i := range rows {
		off := (i*t + lens[i] - 1) * sLen
		rows[i] = append([]float32(nil), cross.Data[off:off+s.srcLen[i]]...)
	}
	return rows
}

func (s *transformerState) Select(idx []int) State {
	out := &transformerState{m: s.m, prefix: make([][]int, len(idx))}
	if s.src != nil {
		out.src = selectInts(s.src, idx)
		if slices.Equal(out.src, s.src) {
			// Every row keeps its source (a beam search reordering the
			// hypotheses of each sentence among its rows): the memory and
			// the prepared cross-attentions are the same.
			out.mem, out.memMask, out.srcLen, out.cross = s.mem, s.memMask, s.srcLen, s.cross
		} else {
			out.mem, out.memMask, out.srcLen = selectRows(s.mem, idx), selectRows(s.memMask, idx), selectInts(s.srcLen, idx)
			if s.cross != nil {
				out.prepareCross()
			}
		}
	}
	for i, j := range idx {
		out.prefix[i] = append([]int(nil), s.prefix[j]...)
	}
	if s.first != nil {
		out.first = selectInts(s.first, idx)
	}
	if s.caches != nil {
		out.caches = make([]layers.KVCache, len(s.caches))
		for l, c := range s.caches {
			out.caches[l] = c.Select(idx)
		}
	}
	return out
}

// AttentionChecker is implemented by the parameter structs of models that
// can check, without building the model, that an attention block suits
// every attention site the model would build, with its position scheme:
// the experiment format's validation calls it, so that an impossible
// combination (positions alibi with linear attention, a chunked per-head
// attention with an additive score, none's final context in a Transformer)
// is a validation error that names the attention block. encoder is the
// model's encoder block (nil when the model has none).
type AttentionChecker interface {
	CheckAttention(attention registry.Plugin, encoder *registry.Plugin) error
}

var (
	_ AttentionChecker = (*TransformerParams)(nil)
	_ AttentionChecker = (*Seq2SeqRNNParams)(nil)
)

// CheckAttention builds the attention of each kind of site the Transformer
// has — encoder self-attention, decoder (causal) self-attention and
// cross-attention — with the position scheme each gets, and returns the
// first construction error.
func (p *TransformerParams) CheckAttention(a registry.Plugin, _ *registry.Plugin) error {
	lm := p.EncoderLayers == 0
	d := p.DModel
	type site struct {
		causal, pos bool
	}
	sites := []site{{causal: true, pos: true}}
	if !lm {
		sites = append(sites, site{causal: false, pos: true}, site{causal: false, pos: false})
	}
	for _, s := range sites {
		var rel *attention.Positions
		switch p.Positions {
		case "rope", "alibi", "t5":
			if s.pos {
				var err error
				if rel, err = attention.NewPositions(p.Positions, s.causal); err != nil {
					return err
				}
			}
		}
		if err := checkAttentionAt(a, attention.Dims{Query: d, Key: d, Value: d, Causal: s.causal, Positions: rel}); err != nil {
			return err
		}
	}
	return nil
}

// Bounds of the attentions an AttentionChecker builds: query and key sizes
// of at most checkMaxSize, and at most checkMaxParams weights by the
// block's own estimate (attention.EstimateMemory, which reads a "dim"
// parameter and multi-head's). Within them building one costs at most some
// tens of MiB; a larger block is left to the run's construction, which
// reports the same errors, after the training-memory estimate has had its
// say (building it at validation could exhaust memory the estimate exists
// to protect: d_model 16384 would allocate gigabytes).
const (
	checkMaxSize   = 2048
	checkMaxParams = 1 << 24
)

// checkAttentionAt builds the attention block a at site d, within the
// bounds above, and returns its construction error.
func checkAttentionAt(a registry.Plugin, d attention.Dims) error {
	if max(d.Query, d.Key, d.Value) > checkMaxSize {
		return nil
	}
	if p, _ := attention.EstimateMemory(&a, attention.MemoryShape{Q: float64(d.Query), K: float64(d.Key)}); p > checkMaxParams {
		return nil
	}
	_, err := attention.New(a.Name, a.Params, d)
	return err
}
