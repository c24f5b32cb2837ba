package models

import (
	"testing"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/tensor"
)

// TestSharedShareBitwise: computing the share of the output product of a
// part whose rows repeat once per distinct row (sharedShare: a beam's
// contexts, with or without the token table; a greedy first step's
// embeddings of bos) gives the hypotheses and log-probabilities of the
// whole product bit for bit — beam search with every sentence stepping to
// max length, beam search where sentences finish at different steps, and
// greedy decoding, on sources of different lengths — and the sharing is
// done (a beam step whose rows share their parent's context).
func TestSharedShareBitwise(t *testing.T) {
	m, b := deepModel(t, 40)
	if b.SrcLen[0] == b.SrcLen[1] && b.SrcLen[1] == b.SrcLen[2] {
		t.Fatalf("sources of lengths %v: want different lengths", b.SrcLen)
	}
	for _, tc := range []struct {
		name  string
		opt   DecodeOptions
		table bool
	}{
		{"beam", DecodeOptions{Strategy: "beam", Beam: 4, MaxLen: 8, MinLen: 8}, true},
		{"beam-no-table", DecodeOptions{Strategy: "beam", Beam: 4, MaxLen: 8, MinLen: 8}, false},
		{"beam-eos", DecodeOptions{Strategy: "beam", Beam: 3, MaxLen: 9, LengthPenalty: 0.7, KeepAttention: 2}, true},
		{"beam-wide", DecodeOptions{Strategy: "beam", Beam: 30, MaxLen: 4}, true},
		{"greedy", DecodeOptions{Strategy: "greedy", MaxLen: 8}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			noTokTable = !tc.table
			defer func() { noTokTable = false }()
			noShare = true
			want := decodeAll(t, m, b, tc.opt)
			noShare = false
			if got := decodeAll(t, m, b, tc.opt); got != want {
				t.Fatalf("sharing repeated rows:\n%s\nwhole product:\n%s", got, want)
			}
		})
	}
	// Output features off the product's depth blocks ([s 750; c 250]
	// with the table: the whole product sums blocks of 256, the product
	// of s alone 256, 256, 238): nothing is shared, since the sums would
	// not be the whole product's.
	off := buildTiny(t, "seq2seq-rnn", map[string]any{"embed": 16, "hidden": 750, "cell": "gru", "deep_output": true},
		Spec{SrcVocab: 40, TgtVocab: 40, Encoder: registry.Plugin{Name: "gru", Params: map[string]any{"hidden": 125, "bidirectional": true}},
			Attention: registry.Plugin{Name: "additive", Params: map[string]any{"dim": 16}}})
	layers.SetTraining(false, off)
	opt := DecodeOptions{Strategy: "beam", Beam: 4, MaxLen: 8, MinLen: 8}
	noShare = true
	want := decodeAll(t, off, b, opt)
	noShare = false
	if got := decodeAll(t, off, b, opt); got != want {
		t.Fatalf("features off the depth blocks, sharing:\n%s\nwhole product:\n%s", got, want)
	}
	// The beam's contexts are shared: the rows of a step that extend the
	// same parent are not computed again — unless the kernel promises no
	// depth-block order (OpenBLAS), when nothing may be shared.
	defer tensor.Freeze(layers.Tensors(m.Params())...)()
	st := m.Start(b)
	st.(interface{ useTokenTable() }).useTokenTable()
	beamSearch(st, b.Size, DecodeOptions{Strategy: "beam", Beam: 4, MaxLen: 8, MinLen: 8})
	got := st.(*rnnState).out.shared
	switch {
	case tensor.DepthBlock(1) == 0 && got != 0:
		t.Fatalf("kernel %s promises no depth-block order, yet %d rows shared their context's share", tensor.Kernels(), got)
	case tensor.DepthBlock(1) != 0 && got == 0:
		t.Fatal("beam search computed every row's context share: want rows of one parent to share theirs")
	}
}
