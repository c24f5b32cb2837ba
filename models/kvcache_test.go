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
				rerun.noCache = true
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
