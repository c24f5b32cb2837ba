package models

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/seq"
	"github.com/attnlab/attnlab/tensor"
)

// markov is a fake decoding state: the next-token distribution depends only
// on the previous token, through a fixed table of log-probabilities. Its
// "attention" row is one-hot on the step number, so attention bookkeeping
// can be checked.
type markov struct {
	table [][]float32 // [prev][next] log-probabilities
	last  []int
	step  []int
	calls *int
}

func (m *markov) Step(tokens []int) (*tensor.Tensor, [][]float32) {
	*m.calls++
	v := len(m.table[0])
	out := tensor.New(len(tokens), v)
	attn := make([][]float32, len(tokens))
	for i, tok := range tokens {
		copy(out.Data[i*v:(i+1)*v], m.table[tok])
		attn[i] = make([]float32, 8)
		attn[i][m.step[i]%8] = 1
		m.step[i]++
		m.last[i] = tok
	}
	return out, attn
}

func (m *markov) Select(idx []int) State {
	n := &markov{table: m.table, calls: m.calls}
	for _, i := range idx {
		n.last = append(n.last, m.last[i])
		n.step = append(n.step, m.step[i])
	}
	return n
}

func (m *markov) Len() int { return len(m.last) }

func newMarkov(table [][]float64, n int, calls *int) *markov {
	t := make([][]float32, len(table))
	for i, row := range table {
		t[i] = make([]float32, len(row))
		for j, p := range row {
			t[i][j] = float32(math.Log(p))
		}
	}
	return &markov{table: t, last: make([]int, n), step: make([]int, n), calls: calls}
}

// randomTable returns a random transition table over v tokens where pad and
// bos have (almost) zero probability.
func randomTable(rng *tensor.RNG, v int) [][]float64 {
	t := make([][]float64, v)
	for i := range t {
		t[i] = make([]float64, v)
		var s float64
		for j := range t[i] {
			p := 1e-9
			if j > seq.BOSID {
				p = rng.Float64() + 0.05
			}
			t[i][j] = p
			s += p
		}
		for j := range t[i] {
			t[i][j] /= s
		}
	}
	return t
}

// exhaustive returns the best score over every output of at most maxLen
// steps, scored as the beam search scores them.
func exhaustive(table [][]float32, maxLen int, alpha float64) float64 {
	best := math.Inf(-1)
	var walk func(prev int, logp float64, length int)
	walk = func(prev int, logp float64, length int) {
		for tok := seq.EOSID; tok < len(table); tok++ {
			lp := logp + float64(table[prev][tok])
			if tok == seq.EOSID || length+1 >= maxLen {
				best = math.Max(best, lp/lengthPenalty(length+1, alpha))
				continue
			}
			walk(tok, lp, length+1)
		}
	}
	walk(seq.BOSID, 0, 0)
	return best
}

func TestGreedyPicksArgmaxAndStops(t *testing.T) {
	t.Parallel()
	// bos → 3 (0.6) → eos (0.9).
	table := [][]float64{
		{0.2, 0.2, 0.2, 0.2, 0.2},
		{1e-9, 1e-9, 0.1, 0.6, 0.3},
		{0.2, 0.2, 0.2, 0.2, 0.2},
		{1e-9, 1e-9, 0.9, 0.05, 0.05},
		{1e-9, 1e-9, 0.1, 0.1, 0.8},
	}
	calls := 0
	hyps := stepwise(newMarkov(table, 2, &calls), 2, DecodeOptions{MaxLen: 10, KeepAttention: 2})
	for _, h := range hyps {
		if len(h.Tokens) != 1 || h.Tokens[0] != 3 || !h.Finished {
			t.Fatalf("greedy = %+v, want [3] finished", h)
		}
		if want := math.Log(0.6) + math.Log(0.9); math.Abs(h.LogProb-want) > 1e-5 {
			t.Fatalf("LogProb = %v, want %v", h.LogProb, want)
		}
		if len(h.Attention) != 2 || h.Attention[1][1] != 1 {
			t.Fatalf("attention rows = %v, want 2 steps, step 1 one-hot at 1", h.Attention)
		}
		if len(h.Focus) != 2 || h.Focus[1].Peak != 1 || h.Focus[1].Entropy != 0 {
			t.Fatalf("attention summaries = %v, want 2 steps, step 1 peaked at 1 with entropy 0", h.Focus)
		}
	}
	// Max length: a chain that never emits eos stops unfinished.
	loop := [][]float64{
		{0.25, 0.25, 0.25, 0.25},
		{1e-9, 1e-9, 0.1, 0.9},
		{0.25, 0.25, 0.25, 0.25},
		{1e-9, 1e-9, 0.1, 0.9},
	}
	h := stepwise(newMarkov(loop, 1, &calls), 1, DecodeOptions{MaxLen: 4})[0]
	if h.Finished || len(h.Tokens) != 4 {
		t.Fatalf("max-length hypothesis = %+v, want 4 tokens, unfinished", h)
	}
}

func TestBeamBeatsGreedy(t *testing.T) {
	t.Parallel()
	// Greedy takes 3 (0.5) then is stuck with 0.3 at best; 4 (0.4) leads to
	// eos with 0.95: beam finds 4 eos (0.38 > 0.15).
	table := [][]float64{
		{0.25, 0.25, 0.25, 0.25, 0},
		{1e-9, 1e-9, 0.1, 0.5, 0.4},
		{0.25, 0.25, 0.25, 0.25, 0},
		{1e-9, 1e-9, 0.3, 0.35, 0.35},
		{1e-9, 1e-9, 0.95, 0.025, 0.025},
	}
	calls := 0
	g := stepwise(newMarkov(table, 1, &calls), 1, DecodeOptions{MaxLen: 6})[0]
	b := beamSearch(newMarkov(table, 1, &calls), 1, DecodeOptions{Strategy: "beam", Beam: 2, MaxLen: 6})[0]
	if g.Tokens[0] != 3 {
		t.Fatalf("greedy = %v, want to start with 3", g.Tokens)
	}
	if len(b.Tokens) != 1 || b.Tokens[0] != 4 || !b.Finished {
		t.Fatalf("beam = %+v, want [4] finished", b)
	}
	if b.LogProb <= g.LogProb {
		t.Fatalf("beam log-prob %v not above greedy %v", b.LogProb, g.LogProb)
	}
}

// TestBeamOfOneIsGreedy: a beam of width 1 gives greedy search's output,
// even where eos is the second choice at a step and ending there would
// score better than the greedy path (attnlab generate --beam 1).
func TestBeamOfOneIsGreedy(t *testing.T) {
	t.Parallel()
	rng := tensor.NewRNG(11)
	for trial := 0; trial < 40; trial++ {
		table := randomTable(rng, 6)
		for _, alpha := range []float64{0, 0.6} {
			g := stepwise(newMarkov(table, 1, new(int)), 1, DecodeOptions{MaxLen: 8})[0]
			b := beamSearch(newMarkov(table, 1, new(int)), 1, DecodeOptions{Strategy: "beam", Beam: 1, MaxLen: 8, LengthPenalty: alpha})[0]
			if !slices.Equal(b.Tokens, g.Tokens) || b.Finished != g.Finished || b.LogProb != g.LogProb {
				t.Fatalf("trial %d α=%v: beam 1 = %v (finished %v, log p %v), greedy = %v (finished %v, log p %v)",
					trial, alpha, b.Tokens, b.Finished, b.LogProb, g.Tokens, g.Finished, g.LogProb)
			}
			steps := len(g.Tokens)
			if g.Finished {
				steps++
			}
			if want := g.LogProb / lengthPenalty(steps, alpha); math.Abs(b.Score-want) > 1e-12 {
				t.Fatalf("trial %d α=%v: beam 1 score %v, want log p / lp = %v", trial, alpha, b.Score, want)
			}
		}
	}
}

func TestBeamMatchesExhaustiveSearch(t *testing.T) {
	t.Parallel()
	rng := tensor.NewRNG(3)
	for trial := 0; trial < 40; trial++ {
		table := randomTable(rng, 5)
		for _, alpha := range []float64{0, 0.6, 2} {
			calls := 0
			st := newMarkov(table, 1, &calls)
			// 3 real tokens and eos, at most 4 steps: at most 27 live
			// hypotheses, so width 30 keeps everything and the stopping
			// rule alone decides when to stop.
			h := beamSearch(st, 1, DecodeOptions{Strategy: "beam", Beam: 30, MaxLen: 4, LengthPenalty: alpha})[0]
			want := exhaustive(st.table, 4, alpha)
			if math.Abs(h.Score-want) > 1e-6 {
				t.Fatalf("trial %d α=%v: beam score %v, exhaustive best %v", trial, alpha, h.Score, want)
			}
		}
	}
}

func TestBeamEarlyStopIsSafe(t *testing.T) {
	t.Parallel()
	// With width 2, the early stopping rule must give exactly what running
	// to the maximum length gives, and it must actually stop early when the
	// finished hypotheses cannot be beaten.
	rng := tensor.NewRNG(5)
	stoppedEarly := false
	for trial := 0; trial < 60; trial++ {
		table := randomTable(rng, 6)
		for _, alpha := range []float64{0, 1} {
			calls := 0
			opt := DecodeOptions{Strategy: "beam", Beam: 2, MaxLen: 12, LengthPenalty: alpha}
			h := beamSearch(newMarkov(table, 1, &calls), 1, opt)[0]
			ref := beamNoEarlyStop(newMarkov(table, 1, new(int)), opt)
			if math.Abs(h.Score-ref) > 1e-9 {
				t.Fatalf("trial %d α=%v: early-stopped beam score %v, full beam %v", trial, alpha, h.Score, ref)
			}
			if calls < 12 {
				stoppedEarly = true
			}
		}
	}
	if !stoppedEarly {
		t.Fatal("beam search never stopped before the maximum length")
	}
}

// beamNoEarlyStop is a plain width-k beam search over one example that runs
// until no live hypothesis is left, keeping the k best finished ones.
func beamNoEarlyStop(st *markov, opt DecodeOptions) float64 {
	type hyp struct {
		last   int
		logp   float64
		length int
	}
	live := []hyp{{last: seq.BOSID}}
	var done []float64
	for len(live) > 0 {
		var cands []hyp
		var fin []float64
		for _, h := range live {
			row := st.table[h.last]
			for _, tok := range topIndices(row, 2*opt.Beam, false) {
				c := hyp{tok, h.logp + float64(row[tok]), h.length + 1}
				cands = append(cands, c)
			}
		}
		sortHyps := func(xs []hyp) {
			for i := 1; i < len(xs); i++ {
				for j := i; j > 0 && xs[j].logp > xs[j-1].logp; j-- {
					xs[j], xs[j-1] = xs[j-1], xs[j]
				}
			}
		}
		sortHyps(cands)
		var next []hyp
		for _, c := range cands {
			if c.last == seq.EOSID || c.length >= opt.MaxLen {
				fin = append(fin, c.logp/lengthPenalty(c.length, opt.LengthPenalty))
				continue
			}
			if len(next) < opt.Beam {
				next = append(next, c)
			}
		}
		done = append(done, fin...)
		live = next
	}
	best := math.Inf(-1)
	for _, s := range done {
		best = math.Max(best, s)
	}
	return best
}

func TestSamplingRespectsTopK(t *testing.T) {
	t.Parallel()
	table := [][]float64{
		{0.2, 0.2, 0.2, 0.2, 0.2},
		{1e-9, 1e-9, 0.1, 0.5, 0.4},
		{0.2, 0.2, 0.2, 0.2, 0.2},
		{1e-9, 1e-9, 0.5, 0.3, 0.2},
		{1e-9, 1e-9, 0.5, 0.2, 0.3},
	}
	rng := tensor.NewRNG(1)
	calls := 0
	counts := map[int]int{}
	for i := 0; i < 400; i++ {
		h := stepwise(newMarkov(table, 1, &calls), 1, DecodeOptions{Strategy: "sample", MaxLen: 1, TopK: 1, RNG: rng})[0]
		counts[h.Tokens[0]]++
	}
	if counts[3] != 400 {
		t.Fatalf("top-k 1 sampled %v, want only token 3", counts)
	}
	counts = map[int]int{}
	for i := 0; i < 2000; i++ {
		h := stepwise(newMarkov(table, 1, &calls), 1, DecodeOptions{Strategy: "sample", MaxLen: 1, TopP: 0.85, RNG: rng})[0]
		if h.Finished {
			counts[seq.EOSID]++
		} else {
			counts[h.Tokens[0]]++
		}
	}
	// top-p 0.85 keeps {3: 0.5, 4: 0.4} and drops eos (0.1).
	if counts[seq.EOSID] != 0 || counts[3] < 1000 || counts[4] < 700 {
		t.Fatalf("top-p 0.85 sampled %v, want only 3 and 4 in about 5:4", counts)
	}
	// Reproducible from the seed.
	a := stepwise(newMarkov(table, 3, &calls), 3, DecodeOptions{Strategy: "sample", MaxLen: 5, RNG: tensor.NewRNG(9)})
	b := stepwise(newMarkov(table, 3, &calls), 3, DecodeOptions{Strategy: "sample", MaxLen: 5, RNG: tensor.NewRNG(9)})
	for i := range a {
		if len(a[i].Tokens) != len(b[i].Tokens) || a[i].LogProb != b[i].LogProb {
			t.Fatal("sampling with the same seed differs")
		}
	}
}

func TestDecodeOptionsValidate(t *testing.T) {
	t.Parallel()
	for _, o := range []DecodeOptions{
		{MaxLen: 0},
		{MaxLen: 5, Strategy: "beam"},
		{MaxLen: 5, Strategy: "nucleus"},
		{MaxLen: 5, Strategy: "sample"},
		{MaxLen: 5, Strategy: "sample", TopP: 1.5, RNG: tensor.NewRNG(1)},
	} {
		if err := o.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", o)
		}
	}
}

// cancelAfter is a markov state that cancels a context at its n-th step.
type cancelAfter struct {
	*markov
	n      int
	cancel func()
}

func (c *cancelAfter) Step(tokens []int) (*tensor.Tensor, [][]float32) {
	if *c.calls+1 >= c.n {
		c.cancel()
	}
	return c.markov.Step(tokens)
}

func (c *cancelAfter) Select(idx []int) State {
	return &cancelAfter{markov: c.markov.Select(idx).(*markov), n: c.n, cancel: c.cancel}
}

// TestDecodeStopsWhenCancelled: greedy, sampling and beam search stop at the
// step after their context is cancelled (a chain that never ends would
// otherwise run to MaxLen) and return no hypotheses.
func TestDecodeStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	loop := [][]float64{
		{0.25, 0.25, 0.25, 0.25},
		{1e-9, 1e-9, 0.1, 0.9},
		{0.25, 0.25, 0.25, 0.25},
		{1e-9, 1e-9, 0.1, 0.9},
	}
	for _, opt := range []DecodeOptions{
		{Strategy: "greedy"},
		{Strategy: "sample", RNG: tensor.NewRNG(1)},
		{Strategy: "beam", Beam: 3},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		calls := 0
		st := &cancelAfter{markov: newMarkov(loop, 2, &calls), n: 5, cancel: cancel}
		opt.MaxLen, opt.Context = 100000, ctx
		var hs []Hypothesis
		if opt.Strategy == "beam" {
			hs = beamSearch(st, 2, opt)
		} else {
			hs = stepwise(st, 2, opt)
		}
		if calls != 5 {
			t.Errorf("%s: %d steps after cancelling at step 5", opt.Strategy, calls)
		}
		if opt.Strategy == "beam" && hs != nil {
			t.Errorf("beam: cancelled search returned %d hypotheses", len(hs))
		}
		cancel()
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Decode(nil, &seq.Batch{Size: 1}, DecodeOptions{MaxLen: 5, Context: ctx}); !errors.Is(err, context.Canceled) {
		t.Errorf("Decode with a cancelled context: %v, want context.Canceled", err)
	}
}

// TestLMNeverEndsEarly: a language model's targets hold no eos, so its eos
// logit is untrained; decoding continues the prompt for MaxLen tokens
// whatever it says (here an output bias that makes eos certain), greedy,
// beam or sampled. It used to stop there: a wide beam returned the prompt
// alone.
func TestLMNeverEndsEarly(t *testing.T) {
	const vocab, maxLen = 9, 10
	for _, tc := range []struct {
		name   string
		params map[string]any
		spec   Spec
	}{
		{"lm-transformer", map[string]any{"d_model": 8, "ff": 12, "decoder_layers": 1, "dropout": 0.0, "tie_embeddings": false},
			Spec{TgtVocab: vocab, MaxLen: 32, Attention: registry.Plugin{Name: "multi-head", Params: map[string]any{"heads": 2}}}},
		{"lm-rnn", map[string]any{"embed": 4, "tie_embeddings": false}, Spec{TgtVocab: vocab, Encoder: registry.Plugin{Name: "gru", Params: map[string]any{"hidden": 5}}}},
	} {
		m := buildTiny(t, tc.name, tc.params, tc.spec)
		var out *layers.Linear
		switch m := m.(type) {
		case *Transformer:
			out = m.Out
		case *LMRNN:
			out = m.Out
		}
		out.B.Data[seq.EOSID] = 1e4
		layers.SetTraining(false, m)
		restore := tensor.NoGrad(layers.Tensors(m.Params())...)
		for _, opt := range []DecodeOptions{
			{Strategy: "greedy", MaxLen: maxLen},
			{Strategy: "beam", Beam: 4, MaxLen: maxLen},
			{Strategy: "sample", Temperature: 2, TopP: 1, MaxLen: maxLen, RNG: tensor.NewRNG(3)},
		} {
			b := &seq.Batch{Size: 2, T: 3, In: []int{4, 5, 6, 7, 8, seq.PadID}, TgtLen: []int{3, 2}}
			hs, err := Decode(m, b, opt)
			if err != nil {
				t.Fatal(err)
			}
			for i, h := range hs {
				if len(h.Tokens) != maxLen || h.Finished || slices.Contains(h.Tokens, seq.EOSID) {
					t.Errorf("%s %s: prompt %d gave %v (finished %v), want %d tokens without eos", tc.name, opt.Strategy, i, h.Tokens, h.Finished, maxLen)
				}
			}
		}
		restore()
	}
}
