package bench

import (
	"math"
	"slices"
	"testing"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/models"
	"github.com/attnlab/attnlab/seq"
	"github.com/attnlab/attnlab/tensor"
)

// countingAttn wraps a GPT block's self-attention and counts the query rows
// it runs: the work of the block.
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

// TestW6LMCacheIsUsed runs bench's own lm-cache and lm-nocache (Decode, as
// `attnlab bench W6` does) and counts the query rows every GPT layer runs:
// with the cache each token goes through each layer once (prompt − 1 rows
// filling the caches, then one per step), without it the whole prefix at
// every step. It fails if lm-cache decodes without its key/value cache (a
// merge once turned it off silently) or lm-nocache with it.
func TestW6LMCacheIsUsed(t *testing.T) {
	const prompt, gen = 5, 6
	want := map[string]int{
		"lm-cache":   prompt - 1 + gen,
		"lm-nocache": gen*(prompt-1) + gen*(gen+1)/2,
	}
	defer func() { testHookLM = nil }()
	tokens := map[string][]int{}
	for _, v := range []string{"lm-cache", "lm-nocache"} {
		var rows []int
		testHookLM = func(m *models.Transformer) {
			rows = make([]int, len(m.LMBlocks))
			for l, b := range m.LMBlocks {
				b.SelfAttn = countingAttn{b.SelfAttn, &rows[l]}
			}
		}
		res, err := Decode(v, DecodeOptions{Prompt: prompt, New: gen})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 4 {
			t.Fatalf("%s: the hook saw %d layers, want the GPT's 4", v, len(rows))
		}
		for l, n := range rows {
			if n != want[v] {
				t.Errorf("%s: layer %d ran %d query rows for %d prompt and %d new tokens, want %d", v, l, n, prompt, gen, want[v])
			}
		}
		tokens[v] = res.Tokens
	}
	if !slices.Equal(tokens["lm-cache"], tokens["lm-nocache"]) {
		t.Errorf("lm-cache generated %v, lm-nocache %v", tokens["lm-cache"], tokens["lm-nocache"])
	}
}

// TestW6LMCachedLogProbs: W6's GPT gives the same log-probabilities (within
// 1e-5) and tokens at every step with its caches as re-running the prefix.
func TestW6LMCachedLogProbs(t *testing.T) {
	const prompt, gen = 64, 12
	states := make([]models.State, 2)
	for i, cache := range []bool{true, false} {
		m, b, err := newW6GPT(prompt)
		if err != nil {
			t.Fatal(err)
		}
		m.UseKVCache(cache)
		layers.SetTraining(false, m)
		defer tensor.Freeze(layers.Tensors(m.Params())...)()
		states[i] = m.Start(b)
	}
	tok := []int{seq.BOSID} // ignored by a language model's first step: it continues the prompt
	worst := 0.0
	for step := range gen {
		lc, _ := states[0].Step(tok)
		lcd := slices.Clone(lc.Data)
		lr, _ := states[1].Step(tok)
		for j := range lcd {
			d := math.Abs(float64(lcd[j]) - float64(lr.Data[j]))
			if !(d <= 1e-5) {
				t.Fatalf("step %d, token %d: cached log-probability %v, re-run %v", step, j, lcd[j], lr.Data[j])
			}
			worst = max(worst, d)
		}
		tok = []int{argmax(lr.Data)}
	}
	t.Logf("largest difference over %d steps: %.2g", gen, worst)
}

func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}
