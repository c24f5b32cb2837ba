package models

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/seq"
	"github.com/attnlab/attnlab/tensor"
)

// TestKVCacheMatchesRerun: decoding a Transformer with key/value caches and
// decoding it by re-running the whole prefix at every step give the same
// log-probabilities at every step within 1e-5 and the same tokens, greedy
// and with a beam of 3 (whose selections reorder the caches), for a
// seq2seq and a language model with every position scheme, language-model
// prompts of different lengths, and a context window that slides (max_len
// 6, 12 steps).
func TestKVCacheMatchesRerun(t *testing.T) {
	mh := func(head map[string]any) registry.Plugin {
		return registry.Plugin{Name: "multi-head", Params: map[string]any{"heads": 2, "head": head}}
	}
	type model struct {
		name string
		lm   bool
		attn registry.Plugin
	}
	models := []model{
		{"seq2seq-transformer", false, mh(map[string]any{"name": "scaled-dot"})},
		{"lm-transformer", true, mh(map[string]any{"name": "scaled-dot"})},
		{"lm-transformer", true, mh(map[string]any{"name": "chunked", "block": 2})},
		{"lm-transformer", true, mh(map[string]any{"name": "sliding-window", "window": 3})},
		{"lm-transformer", true, registry.Plugin{Name: "scaled-dot", Params: map[string]any{}}},
	}
	for _, md := range models {
		for _, positions := range []string{"sinusoidal", "learned", "rope", "alibi", "t5", "none"} {
			if positions == "none" && !md.lm {
				continue // refused: an encoder needs positions
			}
			t.Run(fmt.Sprintf("%s/%s/%s", md.name, md.attn.Name, positions), func(t *testing.T) {
				params := map[string]any{"d_model": 8, "ff": 12, "decoder_layers": 2, "positions": positions, "dropout": 0.0}
				spec := Spec{TgtVocab: 9, MaxLen: 6, Attention: md.attn}
				b := &seq.Batch{Size: 3, T: 4, In: []int{1, 5, 6, 7, 1, 4, 0, 0, 0, 0, 0, 0}, TgtLen: []int{4, 2, 0}}
				steps := 12 // past max_len: the LM's window slides
				if !md.lm {
					params["encoder_layers"] = 1
					spec.SrcVocab = 9
					b = tinyBatch()
					steps = 6
				}
				cached := buildTiny(t, md.name, params, spec).(*Transformer)
				rerun := buildTiny(t, md.name, params, spec).(*Transformer)
				rerun.UseKVCache(false)
				layers.SetTraining(false, cached)
				layers.SetTraining(false, rerun)
				defer tensor.NoGrad(layers.Tensors(cached.Params())...)()
				defer tensor.NoGrad(layers.Tensors(rerun.Params())...)()

				// Step by step with the same tokens (each step's argmax of
				// the re-run), beam-style reselections in the middle.
				sc, sr := cached.Start(b), rerun.Start(b)
				if sc.(*transformerState).caches == nil || sr.(*transformerState).caches != nil {
					t.Fatal("the cached state has no caches or the re-run one has")
				}
				toks := make([]int, b.Size)
				for i := range toks {
					toks[i] = seq.BOSID
				}
				worst := 0.0
				for step := range steps {
					lc, _ := sc.Step(toks)
					lr, _ := sr.Step(toks)
					if d := maxDiff(lc.Data, lr.Data); d > 1e-5 {
						t.Fatalf("step %d: log-probabilities differ by %.3g", step, d)
					} else {
						worst = max(worst, d)
					}
					toks = greedyTokens(lr)
					if step == 3 { // reorder and repeat hypotheses, as a beam does
						idx := []int{2, 0, 0}
						sc, sr = sc.Select(idx), sr.Select(idx)
						toks = []int{toks[2], toks[0], toks[0]}
					}
				}
				t.Logf("largest difference in log-probabilities %.2g", worst)

				// Whole decodes: the same tokens, greedy and beam.
				for _, opt := range []DecodeOptions{{Strategy: "greedy", MaxLen: steps}, {Strategy: "beam", Beam: 3, MaxLen: steps}} {
					hc, err := Decode(cached, b, opt)
					if err != nil {
						t.Fatal(err)
					}
					hr, err := Decode(rerun, b, opt)
					if err != nil {
						t.Fatal(err)
					}
					for i := range hc {
						if !slices.Equal(hc[i].Tokens, hr[i].Tokens) || math.Abs(hc[i].LogProb-hr[i].LogProb) > 1e-4 {
							t.Fatalf("%s: hypothesis %d cached %v (%.6f), re-run %v (%.6f)", opt.Strategy, i, hc[i].Tokens, hc[i].LogProb, hr[i].Tokens, hr[i].LogProb)
						}
					}
				}
			})
		}
	}
}

func maxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	worst := 0.0
	for i := range a {
		worst = max(worst, math.Abs(float64(a[i])-float64(b[i])))
	}
	return worst
}

// countingAttn wraps a decoder self-attention and counts the query rows it
// is given, padded rows included: the work of its block.
type countingAttn struct {
	layers.Attender
	rows *int
}

func (c countingAttn) Attend(q, k, v, mask *tensor.Tensor) (*tensor.Tensor, *tensor.Tensor) {
	*c.rows += q.Dim(0) * q.Dim(1)
	return c.Attender.Attend(q, k, v, mask)
}

func (c countingAttn) NewCache(n int) layers.KVCache {
	return c.Attender.(layers.Incremental).NewCache(n)
}

func (c countingAttn) AttendNext(q, k, v *tensor.Tensor, lens []int, kv layers.KVCache) (*tensor.Tensor, *tensor.Tensor) {
	*c.rows += q.Dim(0) * q.Dim(1)
	return c.Attender.(layers.Incremental).AttendNext(q, k, v, lens, kv)
}

// TestKVCacheRunsEachTokenOnce is the cache's acceptance test: with the
// cache, generating n tokens runs every token through every decoder layer
// exactly once (a language model's prompt of p tokens: p−1 rows when the
// caches are filled, then one row per step; a seq2seq decoder: one row per
// step), where the re-running decoder runs the whole prefix at every step
// (p−1+s rows at step s), and UseKVCache switches between the two. Both
// produce the same tokens.
func TestKVCacheRunsEachTokenOnce(t *testing.T) {
	const prompt, gen = 7, 20
	for _, tc := range []struct {
		name       string
		lm         bool
		wantCached int // query rows per layer, cached
		wantRerun  int
	}{
		{"lm-transformer", true, prompt - 1 + gen, gen*(prompt-1) + gen*(gen+1)/2},
		{"seq2seq-transformer", false, gen, gen * (gen + 1) / 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			params := map[string]any{"d_model": 8, "ff": 12, "decoder_layers": 2, "positions": "alibi", "dropout": 0.0}
			spec := Spec{TgtVocab: 9, MaxLen: 64, Attention: registry.Plugin{Name: "multi-head", Params: map[string]any{"heads": 2}}}
			b := &seq.Batch{Size: 1, T: prompt, In: []int{1, 5, 6, 7, 4, 3, 8}, TgtLen: []int{prompt}}
			if !tc.lm {
				params["encoder_layers"] = 1
				spec.SrcVocab = 9
				b = &seq.Batch{Size: 1, S: 4, T: 1, Src: []int{3, 4, 5, 6}, SrcLen: []int{4}, In: []int{1}, TgtLen: []int{1}}
			}
			m := buildTiny(t, tc.name, params, spec).(*Transformer)
			layers.SetTraining(false, m)
			defer tensor.NoGrad(layers.Tensors(m.Params())...)()
			rows := make([]int, 2)
			for l := range rows {
				if tc.lm {
					m.LMBlocks[l].SelfAttn = countingAttn{m.LMBlocks[l].SelfAttn, &rows[l]}
				} else {
					m.Dec[l].SelfAttn = countingAttn{m.Dec[l].SelfAttn, &rows[l]}
				}
			}
			decode := func(cache bool) []int {
				m.UseKVCache(cache)
				rows[0], rows[1] = 0, 0
				h, err := Decode(m, b, DecodeOptions{MaxLen: gen, MinLen: gen})
				if err != nil {
					t.Fatal(err)
				}
				if len(h[0].Tokens) != gen {
					t.Fatalf("%d tokens generated, want %d", len(h[0].Tokens), gen)
				}
				return h[0].Tokens
			}
			cached := decode(true)
			cachedRows := rows[0]
			if rows[0] != tc.wantCached || rows[1] != tc.wantCached {
				t.Errorf("cached: the layers ran %v query rows, want %d each", rows, tc.wantCached)
			}
			rerun := decode(false)
			if rows[0] != tc.wantRerun || rows[1] != tc.wantRerun {
				t.Errorf("re-run: the layers ran %v query rows, want %d each", rows, tc.wantRerun)
			}
			if !slices.Equal(cached, rerun) {
				t.Errorf("cached decoding gave %v, re-running %v", cached, rerun)
			}
			t.Logf("%d tokens: %d query rows per layer with the cache, %d re-running the prefix", gen, cachedRows, rows[0])
		})
	}
}

// TestLMPromptLongerThanItsWindow: a language model conditions on its
// context window only; a prompt longer than its learned positions keeps
// its last tokens (as the window slides while decoding), cached or not,
// instead of failing on positions it has no embedding for.
func TestLMPromptLongerThanItsWindow(t *testing.T) {
	const vocab, maxLen, long = 9, 8, 30
	spec := Spec{TgtVocab: vocab, MaxLen: maxLen, Attention: registry.Plugin{Name: "multi-head", Params: map[string]any{"heads": 2}}}
	m := buildTiny(t, "lm-transformer", map[string]any{"d_model": 8, "ff": 12, "decoder_layers": 1, "positions": "learned", "dropout": 0.0}, spec).(*Transformer)
	layers.SetTraining(false, m)
	defer tensor.NoGrad(layers.Tensors(m.Params())...)()
	if w := m.ContextWindow(); w != maxLen {
		t.Fatalf("ContextWindow %d, want max_len %d", w, maxLen)
	}
	prompt := make([]int, long)
	for i := range prompt {
		prompt[i] = 3 + (i*5)%(vocab-3)
	}
	batch := func(p []int) *seq.Batch { return &seq.Batch{Size: 1, T: len(p), In: p, TgtLen: []int{len(p)}} }
	for _, cache := range []bool{true, false} {
		m.UseKVCache(cache)
		got, err := Decode(m, batch(prompt), DecodeOptions{MaxLen: 12, MinLen: 12})
		if err != nil {
			t.Fatal(err)
		}
		want, err := Decode(m, batch(prompt[long-maxLen:]), DecodeOptions{MaxLen: 12, MinLen: 12})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got[0].Tokens) != fmt.Sprint(want[0].Tokens) {
			t.Errorf("cache %v: a %d-token prompt gave %v, its last %d tokens %v", cache, long, got[0].Tokens, maxLen, want[0].Tokens)
		}
	}
}
