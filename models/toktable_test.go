package models

import (
	"fmt"
	"testing"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/seq"
	"github.com/attnlab/attnlab/tensor"
)

// deepModel is a Bahdanau deep-output model whose output features fall on
// the product's depth blocks as W6's do: [s 256; c 512; emb 256].
func deepModel(t *testing.T, vocab int) (Model, *seq.Batch) {
	t.Helper()
	return deepModelEmbed(t, vocab, 256)
}

// deepModelEmbed is deepModel with embeddings of the given width.
func deepModelEmbed(t *testing.T, vocab, embed int) (Model, *seq.Batch) {
	t.Helper()
	m := buildTiny(t, "seq2seq-rnn", map[string]any{"embed": embed, "cell": "gru", "deep_output": true},
		Spec{SrcVocab: vocab, TgtVocab: vocab, Encoder: registry.Plugin{Name: "gru", Params: map[string]any{"hidden": 256, "bidirectional": true}},
			Attention: registry.Plugin{Name: "additive", Params: map[string]any{"dim": 64}}})
	layers.SetTraining(false, m)
	rng := tensor.NewRNG(3)
	const size = 5
	b := &seq.Batch{Size: size, T: 1, In: make([]int, size), Out: make([]int, size), TgtLen: make([]int, size)}
	for i := range size {
		b.SrcLen = append(b.SrcLen, 3+rng.IntN(5))
		b.S = max(b.S, b.SrcLen[i])
	}
	b.Src = make([]int, size*b.S)
	for i, l := range b.SrcLen {
		for j := range l {
			b.Src[i*b.S+j] = 3 + rng.IntN(vocab-3)
		}
	}
	return m, b
}

func decodeAll(t *testing.T, m Model, b *seq.Batch, opt DecodeOptions) string {
	t.Helper()
	hs, err := Decode(m, b, opt)
	if err != nil {
		t.Fatal(err)
	}
	out := ""
	for _, h := range hs {
		out += fmt.Sprintf("%v %v %v|", h.Tokens, h.LogProb, h.Score)
	}
	return out
}

// beamWithTable returns a function that decodes b with m by beam search
// (beam 4, 8 tokens), with the token table or without, and formats the
// hypotheses (decodeAll).
func beamWithTable(t *testing.T, m Model, b *seq.Batch) func(table bool) string {
	return func(table bool) string {
		noTokTable = !table
		defer func() { noTokTable = false }()
		return decodeAll(t, m, b, DecodeOptions{Strategy: "beam", Beam: 4, MaxLen: 8, MinLen: 8})
	}
}

// TestTokenTableBitwise: beam search with the table of embedding products
// (tokTable) gives the hypotheses and log-probabilities of the full
// product bit for bit, across batches under one Freeze and after the
// weights change between two decodings.
func TestTokenTableBitwise(t *testing.T) {
	m, b := deepModel(t, 40)
	run := beamWithTable(t, m, b)
	want := run(false)
	if got := run(true); got != want {
		t.Fatalf("with the table:\n%s\nwithout:\n%s", got, want)
	}
	// The table holds at most one row per token of the embedding. With
	// OpenBLAS (no depth blocks) there is none (lastBlock).
	tt := m.(*Seq2SeqRNN).tokTab
	switch {
	case tensor.DepthBlock(256+512+256) == 0:
		if tt != nil && len(tt.row) > 0 {
			t.Fatalf("kernels %s promise no block order, yet the model kept a table of %d rows", tensor.Kernels(), len(tt.row))
		}
	case tt == nil || len(tt.row) == 0 || cap(tt.tab) > 40*40:
		t.Fatalf("the model kept table %v: want one of at most 40 rows of 40", tt)
	}
	// Two decodings under one outer Freeze share the table.
	restore := tensor.Freeze(layers.Tensors(m.Params())...)
	first, second := run(true), run(true)
	restore()
	if first != want || second != want {
		t.Fatalf("under one Freeze: %s / %s, want %s", first, second, want)
	}
	// The weights change: the table made from the old ones must not be used.
	w := m.(*Seq2SeqRNN).Out.W.Data
	e := m.(*Seq2SeqRNN).TgtEmb.W.Data
	for i := range w {
		w[i] *= -1.5
	}
	for i := range e {
		e[i] *= 0.5
	}
	want2 := run(false)
	if want2 == want {
		t.Fatal("changing the weights changed no hypothesis: the test cannot tell a stale table")
	}
	if got := run(true); got != want2 {
		t.Fatalf("after the weights changed, with the table:\n%s\nwithout:\n%s", got, want2)
	}
}

// TestTokenTableOnlyWhenBitwise: where the embedding's share is not the
// output product's last depth block — embeddings of 200 (features [256;
// 512; 200], blocks of 248) or of 512 (two blocks of 256) — or where the
// kernel promises no block order (OpenBLAS), beam search does without the
// table, so its results are the full product's bit for bit there too.
func TestTokenTableOnlyWhenBitwise(t *testing.T) {
	for _, embed := range []int{200, 512} {
		m, b := deepModelEmbed(t, 40, embed)
		run := beamWithTable(t, m, b)
		want := run(false)
		if got := run(true); got != want {
			t.Fatalf("embeddings of %d, with the table:\n%s\nwithout:\n%s", embed, got, want)
		}
		if tt := m.(*Seq2SeqRNN).tokTab; tt != nil && len(tt.row) > 0 {
			t.Fatalf("embeddings of %d: the table holds %d rows for an output whose last depth block is not the embedding", embed, len(tt.row))
		}
	}
}
