package models

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"testing"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/seq"
	"github.com/attnlab/attnlab/tensor"
)

// TestTopIndicesMatchesSort: the partial selection gives what a stable
// sort of the whole row gives, ties (lowest index first) and eos skipping
// included.
func TestTopIndicesMatchesSort(t *testing.T) {
	rng := tensor.NewRNG(4)
	for trial := 0; trial < 400; trial++ {
		n := 1 + rng.IntN(40)
		if trial >= 300 {
			n = 60 + rng.IntN(400) // several chunks of topChunk
		}
		row := make([]float32, n)
		for i := range row {
			row[i] = float32(rng.IntN(6)) // many ties
		}
		for _, noEOS := range []bool{false, true} {
			var ref []int
			for i := range row {
				if i != seq.PadID && i != seq.BOSID && (!noEOS || i != seq.EOSID) {
					ref = append(ref, i)
				}
			}
			sort.SliceStable(ref, func(a, b int) bool { return row[ref[a]] > row[ref[b]] })
			for _, k := range []int{0, 1, 2, 5, 10, 100} {
				want := ref
				if k < len(want) {
					want = want[:k]
				}
				got := topIndices(row, k, noEOS)
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("topIndices(%v, %d, %v) = %v, want %v", row, k, noEOS, got, want)
				}
			}
		}
	}
}

// TestTopIndicesMatchesScan: topIndices, which skips chunks of long rows,
// keeps what the plain scan over the whole row keeps, with ties, signed
// zeros, infinities and NaNs in the row.
func TestTopIndicesMatchesScan(t *testing.T) {
	rng := tensor.NewRNG(7)
	special := []float32{float32(math.NaN()), float32(math.Inf(-1)), float32(math.Inf(1)), 0, float32(math.Copysign(0, -1))}
	for trial := 0; trial < 1500; trial++ {
		row := make([]float32, 1+rng.IntN(3000))
		spread := 1 + rng.IntN(200) // few distinct values: many ties
		odd := rng.IntN(3)          // 0: no special values
		for i := range row {
			row[i] = float32(rng.IntN(spread))
			if odd > 0 && rng.IntN(50*odd) == 0 {
				row[i] = special[rng.IntN(len(special))]
			}
		}
		for _, k := range []int{1, 2, 5, 10, 40} {
			for _, noEOS := range []bool{false, true} {
				want, _, _ := topScan(nil, row, 0, len(row), k, noEOS, false, 0)
				if got := topIndices(row, k, noEOS); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("trial %d: topIndices(row of %d, %d, %v) = %v, the plain scan %v", trial, len(row), k, noEOS, got, want)
				}
			}
		}
	}
}

// TestArgmaxMatchesScan: argmaxFrom (a vector max, then its first index)
// gives the index of a plain scan that moves only to larger values, with
// ties, signed zeros, infinities and NaNs in the row.
func TestArgmaxMatchesScan(t *testing.T) {
	rng := tensor.NewRNG(6)
	special := []float32{float32(math.NaN()), float32(math.Inf(-1)), float32(math.Inf(1)), 0, float32(math.Copysign(0, -1))}
	for trial := 0; trial < 2000; trial++ {
		row := make([]float32, 1+rng.IntN(300))
		for i := range row {
			row[i] = float32(rng.IntN(5)) - 4
			if rng.IntN(8) == 0 {
				row[i] = special[rng.IntN(len(special))]
			}
		}
		for start := 0; start < min(4, len(row)); start++ {
			want := start
			for i := start + 1; i < len(row); i++ {
				if row[i] > row[want] {
					want = i
				}
			}
			if got := argmaxFrom(row, start); got != want {
				t.Fatalf("argmaxFrom(%v, %d) = %d, want %d", row, start, got, want)
			}
		}
	}
}

// TestMinLen: with a minimum length no strategy picks eos earlier, and
// MinLen = MaxLen gives exactly MaxLen tokens, even from a model that
// prefers eos at once.
func TestMinLen(t *testing.T) {
	table := [][]float64{
		{0.01, 0.01, 0.9, 0.04, 0.04},
		{0.01, 0.01, 0.9, 0.04, 0.04},
		{0.01, 0.01, 0.9, 0.04, 0.04},
		{0.01, 0.01, 0.9, 0.02, 0.06},
		{0.01, 0.01, 0.9, 0.06, 0.02},
	}
	for _, opt := range []DecodeOptions{
		{Strategy: "greedy", MaxLen: 6, MinLen: 6},
		{Strategy: "beam", Beam: 3, MaxLen: 6, MinLen: 6},
		{Strategy: "sample", MaxLen: 6, MinLen: 6, RNG: tensor.NewRNG(3)},
		{Strategy: "greedy", MaxLen: 6, MinLen: 3},
		{Strategy: "beam", Beam: 2, MaxLen: 6, MinLen: 3},
	} {
		calls := 0
		st := newMarkov(table, 2, &calls)
		var hs []Hypothesis
		if opt.Strategy == "beam" {
			hs = beamSearch(st, 2, opt)
		} else {
			hs = stepwise(st, 2, opt)
		}
		for _, h := range hs {
			switch {
			case opt.MinLen == opt.MaxLen && (h.Finished || len(h.Tokens) != opt.MaxLen):
				t.Fatalf("%+v: %d tokens (finished %v), want exactly %d", opt, len(h.Tokens), h.Finished, opt.MaxLen)
			case len(h.Tokens) < opt.MinLen:
				t.Fatalf("%+v: eos after %d tokens", opt, len(h.Tokens))
			}
			for _, tok := range h.Tokens {
				if tok == seq.EOSID {
					t.Fatalf("%+v: eos inside %v", opt, h.Tokens)
				}
			}
		}
	}
	if err := (DecodeOptions{MaxLen: 3, MinLen: 4}).Validate(); err == nil {
		t.Fatal("MinLen > MaxLen validated")
	}
}

// subBatch returns example i of b alone, unpadded.
func subBatch(b *seq.Batch, i int) *seq.Batch {
	out := &seq.Batch{Size: 1, S: b.SrcLen[i], T: 1, Src: append([]int(nil), b.Src[i*b.S:i*b.S+b.SrcLen[i]]...),
		SrcLen: []int{b.SrcLen[i]}, In: []int{seq.BOSID}, Out: []int{0}, TgtLen: []int{1}}
	return out
}

// TestBatchedDecodingMatchesOneAtATime: decoding a padded batch at once
// (greedy: every sentence a row; beam: sentences × beams as rows, finished
// hypotheses retired) gives each sentence the output it gets alone.
func TestBatchedDecodingMatchesOneAtATime(t *testing.T) {
	rng := tensor.NewRNG(9)
	const size, vocab = 6, 11
	b := &seq.Batch{Size: size}
	for i := 0; i < size; i++ {
		b.SrcLen = append(b.SrcLen, 2+rng.IntN(6))
		b.S = max(b.S, b.SrcLen[i])
	}
	b.Src = make([]int, size*b.S)
	for i, l := range b.SrcLen {
		for j := 0; j < l; j++ {
			b.Src[i*b.S+j] = 3 + rng.IntN(vocab-3)
		}
	}
	b.T, b.In, b.Out, b.TgtLen = 1, make([]int, size), make([]int, size), make([]int, size)
	for _, tc := range []struct {
		name   string
		model  string
		params map[string]any
		spec   Spec
	}{
		{"gru-additive-deep", "seq2seq-rnn", map[string]any{"embed": 6, "cell": "gru", "deep_output": true},
			Spec{Encoder: registry.Plugin{Name: "gru", Params: map[string]any{"hidden": 5, "bidirectional": true}}, Attention: registry.Plugin{Name: "additive", Params: map[string]any{}}}},
		{"lstm-luong", "seq2seq-rnn", map[string]any{"embed": 6, "wiring": "luong", "input_feeding": true},
			Spec{Encoder: registry.Plugin{Name: "lstm", Params: map[string]any{"hidden": 7}}, Attention: registry.Plugin{Name: "general", Params: map[string]any{}}}},
		{"transformer", "seq2seq-transformer", map[string]any{"d_model": 8, "ff": 16, "encoder_layers": 1, "decoder_layers": 1},
			Spec{MaxLen: 32, Attention: registry.Plugin{Name: "multi-head", Params: map[string]any{"heads": 2}}}},
	} {
		spec := tc.spec
		spec.SrcVocab, spec.TgtVocab = vocab, vocab
		m := buildTiny(t, tc.model, tc.params, spec)
		layers.SetTraining(false, m)
		restore := tensor.NoGrad(layers.Tensors(m.Params())...)
		// An untrained model emits eos always or never: raise its eos bias
		// until sentences of the batch finish at different steps, so that
		// finished ones must be retired while others go on.
		var outB *layers.Param
		for _, p := range m.Params() {
			if p.Name == "out.b" {
				outB = p
			}
		}
		if outB == nil {
			t.Fatalf("%s has no out.b", tc.name)
		}
		base := outB.Data[seq.EOSID]
		// tune sets the eos bias where opt's outputs have the most distinct
		// lengths.
		tune := func(opt DecodeOptions) {
			bestC, bestN := float32(0), 0
			for c := float32(-3); c <= 6 && bestN < 4; c += 0.02 {
				outB.Data[seq.EOSID] = base + c
				hs, err := Decode(m, b, opt)
				if err != nil {
					t.Fatal(err)
				}
				lengths := map[int]bool{}
				for _, h := range hs {
					lengths[len(h.Tokens)] = true
				}
				if len(lengths) > bestN {
					bestC, bestN = c, len(lengths)
				}
			}
			outB.Data[seq.EOSID] = base + bestC
		}
		for _, opt := range []DecodeOptions{
			{Strategy: "greedy", MaxLen: 9},
			{Strategy: "beam", Beam: 3, MaxLen: 9, LengthPenalty: 0.6},
			{Strategy: "beam", Beam: 4, MaxLen: 7, MinLen: 7},
		} {
			t.Run(fmt.Sprintf("%s/%s%d", tc.name, opt.Strategy, opt.Beam), func(t *testing.T) {
				if opt.MinLen == 0 {
					tune(opt)
				}
				all, err := Decode(m, b, opt)
				if err != nil {
					t.Fatal(err)
				}
				lengths := map[int]bool{}
				for _, h := range all {
					lengths[len(h.Tokens)] = true
				}
				if opt.MinLen == 0 && len(lengths) < 2 {
					t.Fatalf("every hypothesis has the same length %v: no sentence finished before another", lengths)
				}
				for i := 0; i < size; i++ {
					one, err := Decode(m, subBatch(b, i), opt)
					if err != nil {
						t.Fatal(err)
					}
					got, want := all[i], one[0]
					if fmt.Sprint(got.Tokens) != fmt.Sprint(want.Tokens) || got.Finished != want.Finished ||
						math.Abs(got.LogProb-want.LogProb) > 1e-4*(1+math.Abs(want.LogProb)) {
						t.Fatalf("example %d: batched %v (%v, finished %v), alone %v (%v, finished %v)",
							i, got.Tokens, got.LogProb, got.Finished, want.Tokens, want.LogProb, want.Finished)
					}
				}
			})
		}
		restore()
	}
}

// TestTransformerDecodesPastItsPositions: a sequence-to-sequence
// Transformer whose positions are not a learned table (sinusoidal, rope,
// alibi, t5) has no decoding limit, so sources and outputs longer than its
// max_len, the training lengths, can be decoded (what a length
// generalisation study measures); learned positions keep their table's.
func TestTransformerDecodesPastItsPositions(t *testing.T) {
	const vocab, maxLen, long = 9, 8, 20
	b := &seq.Batch{Size: 1, S: long, Src: make([]int, long), SrcLen: []int{long}, T: 1, In: make([]int, 1), Out: make([]int, 1), TgtLen: []int{1}}
	for j := range b.Src {
		b.Src[j] = 3 + j%(vocab-3)
	}
	for _, pos := range []string{"learned", "sinusoidal", "rope", "alibi", "t5"} {
		spec := Spec{SrcVocab: vocab, TgtVocab: vocab, MaxLen: maxLen, Attention: registry.Plugin{Name: "multi-head", Params: map[string]any{"heads": 2}}}
		m := buildTiny(t, "seq2seq-transformer", map[string]any{"d_model": 8, "ff": 16, "encoder_layers": 1, "decoder_layers": 1, "positions": pos}, spec)
		layers.SetTraining(false, m)
		limit := m.(*Transformer).MaxDecodeLen()
		if pos == "learned" {
			if limit != maxLen {
				t.Errorf("learned: MaxDecodeLen %d, want its table's %d", limit, maxLen)
			}
			continue
		}
		if limit != 0 {
			t.Errorf("%s: MaxDecodeLen %d, want 0 (no limit)", pos, limit)
		}
		var outB *layers.Param
		for _, p := range m.Params() {
			if p.Name == "out.b" {
				outB = p
			}
		}
		outB.Data[seq.EOSID] = -100 // never ends: the output runs to MaxLen
		hs, err := Decode(m, b, DecodeOptions{Strategy: "greedy", MaxLen: 2 * long})
		if err != nil {
			t.Fatalf("%s: %v", pos, err)
		}
		if len(hs[0].Tokens) != 2*long {
			t.Errorf("%s: %d output tokens from a %d-token source, want %d (past max_len %d)", pos, len(hs[0].Tokens), long, 2*long, maxLen)
		}
	}
}

// TestDecodeKeepsAttentionOnlyWhenAsked: a hypothesis keeps its attention
// weights (output × source floats) only for the first KeepAttention
// examples; the others keep a Focus per step, so decoding long sources
// holds memory linear in the output, not output × source (four sources of
// 1,000 tokens decoded to 1,000 tokens keep 16 MB of weights when asked).
// Not parallel: it measures the heap the hypotheses hold.
func TestDecodeKeepsAttentionOnlyWhenAsked(t *testing.T) {
	const vocab, n, long = 9, 4, 1000
	m := buildTiny(t, "seq2seq-rnn", map[string]any{"embed": 8}, Spec{SrcVocab: vocab, TgtVocab: vocab,
		Encoder: registry.Plugin{Name: "gru", Params: map[string]any{"hidden": 8}}, Attention: registry.Plugin{Name: "additive", Params: map[string]any{}}})
	layers.SetTraining(false, m)
	defer tensor.NoGrad(layers.Tensors(m.Params())...)()
	for _, p := range m.Params() {
		if p.Name == "out.b" {
			p.Data[seq.EOSID] = -100 // never ends: every output runs to MaxLen
		}
	}
	b := &seq.Batch{Size: n, S: long, Src: make([]int, n*long), SrcLen: slices.Repeat([]int{long}, n)}
	for j := range b.Src {
		b.Src[j] = 3 + j%(vocab-3)
	}
	held := func(opt DecodeOptions) (int64, []Hypothesis) {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		hs, err := Decode(m, b, opt)
		if err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		return int64(after.HeapAlloc) - int64(before.HeapAlloc), hs
	}
	const weights = n * long * long * 4
	for _, opt := range []DecodeOptions{{Strategy: "greedy", MaxLen: long}, {Strategy: "beam", Beam: 2, MaxLen: long}} {
		kept, hs := held(opt)
		for i, h := range hs {
			if len(h.Tokens) != long || len(h.Focus) != long || h.Attention != nil {
				t.Fatalf("%s: example %d: %d tokens, %d summaries, %d attention rows; want %d, %d, none", opt.Strategy, i, len(h.Tokens), len(h.Focus), len(h.Attention), long, long)
			}
		}
		if kept > weights/10 {
			t.Errorf("%s: the hypotheses hold %d bytes without their attention weights, over a tenth of the weights' %d", opt.Strategy, kept, weights)
		}
		opt.KeepAttention = n
		all, hs := held(opt)
		runtime.KeepAlive(hs)
		if all < weights {
			t.Errorf("%s: the hypotheses hold %d bytes with their attention weights, fewer than the weights' %d", opt.Strategy, all, weights)
		}
		t.Logf("%s: hypotheses hold %d KiB without attention weights, %d KiB with", opt.Strategy, kept>>10, all>>10)
	}
}

// TestDecodingAsksOnlyCrossAttentionForWeights: decoding (Start) and
// Forward with WantAttention ask the cross-attentions for their weights —
// the only weights either returns — and no self-attention, whose weights
// would be materialised whole ([B,H,S,S] in the encoder: 17.7 GB for 32
// sources of 3 000 tokens) instead of taking the flash kernel.
func TestDecodingAsksOnlyCrossAttentionForWeights(t *testing.T) {
	const vocab, d, n = 9, 8, 5
	rng := tensor.NewRNG(3)
	x := rng.Normal(tensor.New(1, n, d), 0, 1)
	weighs := func(a layers.Attender) bool {
		_, w := a.Attend(x, x, x, nil)
		return w != nil
	}
	for _, attn := range []string{"multi-head", "scaled-dot"} {
		spec := Spec{SrcVocab: vocab, TgtVocab: vocab, MaxLen: 16, Attention: registry.Plugin{Name: attn, Params: map[string]any{}}}
		for _, name := range []string{"seq2seq-transformer", "lm-transformer"} {
			params := map[string]any{"d_model": d, "ff": 16, "decoder_layers": 2}
			if name == "seq2seq-transformer" {
				params["encoder_layers"] = 2
			}
			m := buildTiny(t, name, params, spec).(*Transformer)
			layers.SetTraining(false, m)
			b := &seq.Batch{Size: 1, S: n, Src: []int{3, 4, 5, 6, 7}, SrcLen: []int{n}, T: 2, In: []int{seq.BOSID, 3}, Out: []int{3, seq.EOSID}, TgtLen: []int{2}}
			if name == "lm-transformer" {
				b.S, b.Src, b.SrcLen = 0, nil, nil
			}
			check := func(when string) {
				for i, blk := range m.Enc {
					if weighs(blk.SelfAttn) {
						t.Errorf("%s %s, %s: encoder layer %d's self-attention builds its weights", attn, name, when, i)
					}
				}
				for i, blk := range m.LMBlocks {
					if weighs(blk.SelfAttn) {
						t.Errorf("%s %s, %s: layer %d's self-attention builds its weights", attn, name, when, i)
					}
				}
				for i, blk := range m.Dec {
					if weighs(blk.SelfAttn) {
						t.Errorf("%s %s, %s: decoder layer %d's self-attention builds its weights", attn, name, when, i)
					}
					if !weighs(blk.CrossAttn) {
						t.Errorf("%s %s, %s: decoder layer %d's cross-attention returns no weights", attn, name, when, i)
					}
				}
			}
			m.Start(b)
			check("decoding")
			m.Forward(b, ForwardOptions{WantAttention: true})
			check("Forward with WantAttention")
		}
	}
}
