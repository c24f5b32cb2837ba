package bench

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/models"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/seq"
	"github.com/attnlab/attnlab/tensor"
)

// DecodeVariants are W6's variants, as torch_ref.py's run_w6 names them:
// greedy and beam5 decode 1,000 sources with a GRU translation model,
// lm-cache generates with the W4 GPT and its key/value caches, lm-nocache
// with the same GPT re-running the whole prefix at every step.
var DecodeVariants = []string{"greedy", "beam5", "lm-cache", "lm-nocache"}

// DecodeOptions size a W6 measurement; zero values mean run_w6's sizes.
type DecodeOptions struct {
	Sentences int // greedy, beam5: sources decoded (1,000)
	Steps     int // greedy, beam5: output tokens per source (30)
	Prompt    int // lm-*: prompt tokens (64)
	New       int // lm-*: generated tokens (448)
	Threads   int // intra-op threads (0: leave the setting)
}

// DecodeResult is one W6 measurement.
type DecodeResult struct {
	Kind    string  `json:"kind"` // "w6"
	Variant string  `json:"variant"`
	Threads int     `json:"threads"`
	Count   int     `json:"count"` // sentences or tokens
	Seconds float64 `json:"seconds"`
	// CPUSeconds is the process's CPU time over the timed part: well under
	// Seconds × threads means the machine was busy with other work.
	CPUSeconds float64 `json:"cpu_seconds"`
	PerSec     float64 `json:"per_s"`
	Unit       string  `json:"unit"` // sentences/s or tokens/s
	// Tokens holds the first output's tokens (a check that decoding ran).
	Tokens []int `json:"-"`
}

// Decode measures the W6 variant, defined as torch_ref.py's run_w6:
//
// greedy, beam5: a GRU + Bahdanau translation model (source vocabulary
// 8,000, target 6,000, embeddings 256, bidirectional GRU 256, bridge
// tanh(W[h_fwd; h_bwd]), additive attention 256, GRU decoder cell on [emb;
// context], logits from [s; c; emb]) with seeded random weights decodes
// sources of length 5..40 (uniform) in batches of 64 sorted by length,
// exactly 30 tokens each (eos not allowed earlier, so every sentence does
// the same work as in PyTorch, which ignores eos); beam5 keeps 5 beams per
// sentence, all sentences' beams stepping together as rows of one batch.
//
// lm-cache, lm-nocache: the W4 GPT with a 512-token context generates 448
// tokens greedily after a 64-token prompt, batch 1, with key/value caches
// (each step runs the new token only) or re-running the prefix at every
// step.
//
// The timed part is what run_w6 times: making the batches, encoding and
// decoding.
func Decode(variant string, opt DecodeOptions) (*DecodeResult, error) {
	if !slices.Contains(DecodeVariants, variant) {
		return nil, fmt.Errorf("bench: unknown W6 variant %q (known: %v)", variant, DecodeVariants)
	}
	defer withThreads(opt.Threads)()
	res := &DecodeResult{Kind: "w6", Variant: variant, Threads: tensor.Threads()}
	if strings.HasPrefix(variant, "lm-") {
		return decodeLM(res, variant == "lm-cache", opt)
	}
	return decodeTranslation(res, variant, opt)
}

func decodeTranslation(res *DecodeResult, variant string, opt DecodeOptions) (*DecodeResult, error) {
	const srcVocab, tgtVocab, batch = 8000, 6000, 64
	n, steps := opt.Sentences, opt.Steps
	if n <= 0 {
		n = 1000
	}
	if steps <= 0 {
		steps = 30
	}
	m, err := models.New("seq2seq-rnn", map[string]any{"embed": 256, "hidden": 256, "cell": "gru", "wiring": "bahdanau",
		"bridge": true, "deep_output": true}, models.Spec{SrcVocab: srcVocab, TgtVocab: tgtVocab,
		Encoder:   registry.Plugin{Name: "gru", Params: map[string]any{"hidden": 256, "bidirectional": true}},
		Attention: registry.Plugin{Name: "additive", Params: map[string]any{"dim": 256}}})
	if err != nil {
		return nil, fmt.Errorf("bench: W6 model: %w", err)
	}
	rng := tensor.NewRNG(6)
	m.Init(rng.Split())
	layers.SetTraining(false, m)
	// Frozen for the whole measurement (as an evaluation can freeze its
	// model once): each Decode call then reuses the packed weights instead
	// of packing them for its batch.
	defer tensor.Freeze(layers.Tensors(m.Params())...)()
	srcs := make([][]int, n)
	for i := range srcs {
		srcs[i] = make([]int, 5+rng.IntN(36))
		for j := range srcs[i] {
			srcs[i][j] = 4 + rng.IntN(srcVocab-4)
		}
	}
	dopt := models.DecodeOptions{Strategy: "greedy", MaxLen: steps, MinLen: steps}
	if variant == "beam5" {
		dopt.Strategy, dopt.Beam = "beam", 5
	}
	cpu0 := cpuSeconds()
	start := time.Now()
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return len(srcs[b]) - len(srcs[a]) })
	for b0 := 0; b0 < n; b0 += batch {
		idx := order[b0:min(n, b0+batch)]
		s := len(srcs[idx[0]])
		bt := &seq.Batch{Size: len(idx), S: s, T: 1, Src: make([]int, len(idx)*s), SrcLen: make([]int, len(idx)),
			In: make([]int, len(idx)), Out: make([]int, len(idx)), TgtLen: make([]int, len(idx))}
		for j, i := range idx {
			copy(bt.Src[j*s:], srcs[i])
			bt.SrcLen[j] = len(srcs[i])
		}
		hs, err := models.Decode(m, bt, dopt)
		if err != nil {
			return nil, err
		}
		if b0 == 0 {
			res.Tokens = hs[0].Tokens
		}
	}
	res.Seconds = time.Since(start).Seconds()
	res.CPUSeconds = cpuSeconds() - cpu0
	res.Count, res.Unit = n, "sentences/s"
	res.PerSec = float64(n) / res.Seconds
	return res, nil
}

func decodeLM(res *DecodeResult, cache bool, opt DecodeOptions) (*DecodeResult, error) {
	prompt, gen := opt.Prompt, opt.New
	if prompt <= 0 {
		prompt = 64
	}
	if gen <= 0 {
		gen = 448
	}
	m, b, err := newW6GPT(prompt)
	if err != nil {
		return nil, err
	}
	// lm-cache: each step runs the new token over the key/value caches;
	// lm-nocache: the whole prefix is re-run at every step.
	m.UseKVCache(cache)
	if testHookLM != nil {
		testHookLM(m)
	}
	layers.SetTraining(false, m)
	defer tensor.Freeze(layers.Tensors(m.Params())...)()
	cpu0 := cpuSeconds()
	start := time.Now()
	hs, err := models.Decode(m, b, models.DecodeOptions{Strategy: "greedy", MaxLen: gen, MinLen: gen})
	if err != nil {
		return nil, err
	}
	res.Seconds = time.Since(start).Seconds()
	res.CPUSeconds = cpuSeconds() - cpu0
	res.Tokens = hs[0].Tokens
	res.Count, res.Unit = len(hs[0].Tokens), "tokens/s"
	res.PerSec = float64(res.Count) / res.Seconds
	return res, nil
}

// testHookLM, when set (by tests), sees the lm-* GPT just before it
// decodes: TestW6LMCacheIsUsed counts the rows its layers run.
var testHookLM func(*models.Transformer)

// newW6GPT returns W6's GPT (the W4 GPT with a 512-token context),
// initialised from seed 6, and a random prompt of the given length.
func newW6GPT(prompt int) (*models.Transformer, *seq.Batch, error) {
	const vocab, ctx = 65, 512
	m, err := models.New("lm-transformer", map[string]any{"d_model": 128, "ff": 512, "decoder_layers": 4, "dropout": 0.0,
		"norm": "pre", "positions": "learned", "activation": "gelu", "tie_embeddings": true, "max_len": ctx},
		models.Spec{TgtVocab: vocab, MaxLen: ctx, Attention: registry.Plugin{Name: "multi-head", Params: map[string]any{"heads": 4}}})
	if err != nil {
		return nil, nil, fmt.Errorf("bench: W6 model: %w", err)
	}
	rng := tensor.NewRNG(6)
	m.Init(rng.Split())
	b := &seq.Batch{Size: 1, T: prompt, In: make([]int, prompt), Out: make([]int, prompt), TgtLen: []int{prompt}}
	for i := range b.In {
		b.In[i] = 3 + rng.IntN(vocab-3)
	}
	return m.(*models.Transformer), b, nil
}
