package models

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/metrics"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/seq"
	"github.com/attnlab/attnlab/tensor"
)

// tinyBatch returns a padded batch of 3 examples with source lengths 4, 2, 3
// and target lengths 3, 2, 1 (+ eos) over a vocabulary of 7.
func tinyBatch() *seq.Batch {
	return &seq.Batch{
		Size: 3, S: 4, T: 4,
		Src:    []int{3, 4, 5, 6, 4, 3, 0, 0, 6, 6, 5, 0},
		SrcLen: []int{4, 2, 3},
		In:     []int{1, 6, 5, 4, 1, 3, 4, 0, 1, 5, 0, 0},
		Out:    []int{6, 5, 4, 2, 3, 4, 2, 0, 5, 2, 0, 0},
		TgtLen: []int{4, 3, 2},
	}
}

func paramMap(ps []*layers.Param) map[string]*tensor.Tensor {
	m := map[string]*tensor.Tensor{}
	for _, p := range ps {
		m[p.Name] = p.Tensor
	}
	return m
}

func buildTiny(t testing.TB, name string, params map[string]any, spec Spec) Model {
	t.Helper()
	m, err := New(name, params, spec)
	if err != nil {
		t.Fatalf("New(%s, %v): %v", name, params, err)
	}
	m.Init(tensor.NewRNG(7))
	return m
}

func lossOf(m Model, b *seq.Batch, opt ForwardOptions) *tensor.Tensor {
	out := m.Forward(b, opt)
	return tensor.CrossEntropy(out.Logits, b.Out, seq.PadID, 0)
}

func TestSeq2SeqRNNGradients(t *testing.T) {
	t.Parallel()
	enc := registry.Plugin{Name: "lstm", Params: map[string]any{"hidden": 4}}
	for _, tc := range []struct {
		attn   string
		params map[string]any
		enc    registry.Plugin
	}{
		{"none", map[string]any{}, enc},
		{"additive", map[string]any{}, enc},
		{"dot", map[string]any{"wiring": "luong"}, enc},
		{"general", map[string]any{"wiring": "luong", "input_feeding": true}, registry.Plugin{Name: "gru", Params: map[string]any{"hidden": 3, "bidirectional": true}}},
		{"general", map[string]any{"wiring": "luong", "attentional": false, "hidden": 5}, registry.Plugin{Name: "lstm", Params: map[string]any{"hidden": 3, "layers": 2}}},
		{"multi-head", map[string]any{"cell": "gru", "hidden": 6}, registry.Plugin{Name: "lstm", Params: map[string]any{"hidden": 2, "bidirectional": true}}},
		{"additive", map[string]any{"bridge": false}, enc},
		{"additive", map[string]any{"cell": "gru", "deep_output": true}, registry.Plugin{Name: "gru", Params: map[string]any{"hidden": 3, "bidirectional": true}}},
	} {
		t.Run(fmt.Sprintf("%s/%v", tc.attn, tc.params), func(t *testing.T) {
			params := map[string]any{"embed": 3}
			for k, v := range tc.params {
				params[k] = v
			}
			aparams := map[string]any{}
			if tc.attn == "multi-head" {
				aparams["heads"] = 2
			}
			m := buildTiny(t, "seq2seq-rnn", params, Spec{SrcVocab: 7, TgtVocab: 7, Encoder: tc.enc, Attention: registry.Plugin{Name: tc.attn, Params: aparams}})
			b := tinyBatch()
			f := func() []*tensor.Tensor { return []*tensor.Tensor{lossOf(m, b, ForwardOptions{})} }
			if err := tensor.GradCheck(f, paramMap(m.Params()), tensor.GradCheckOptions{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestStepwiseMatchesForward checks that decoding step by step with the
// gold tokens gives the teacher-forced log-probabilities.
func TestStepwiseMatchesForward(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		model  string
		params map[string]any
		attn   string
	}{
		{"bahdanau", "seq2seq-rnn", map[string]any{}, "additive"},
		{"bahdanau-deep", "seq2seq-rnn", map[string]any{"deep_output": true}, "additive"},
		{"luong", "seq2seq-rnn", map[string]any{"wiring": "luong"}, "general"},
		{"luong-feed", "seq2seq-rnn", map[string]any{"wiring": "luong", "input_feeding": true}, "dot"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := buildTiny(t, tc.model, tc.params, Spec{SrcVocab: 7, TgtVocab: 7, MaxLen: 8,
				Encoder: registry.Plugin{Name: "lstm", Params: map[string]any{"hidden": 4}}, Attention: registry.Plugin{Name: tc.attn, Params: map[string]any{}}})
			b := tinyBatch()
			layers.SetTraining(false, m)
			defer tensor.NoGrad(layers.Tensors(m.Params())...)()
			full := logProbs(m.Forward(b, ForwardOptions{}).Logits)
			st := m.Start(b)
			v := full.Dim(-1)
			for step := 0; step < b.T; step++ {
				toks := make([]int, b.Size)
				for i := range toks {
					toks[i] = b.In[i*b.T+step]
				}
				lp, attn := st.Step(toks)
				for i := 0; i < b.Size; i++ {
					if step >= b.TgtLen[i] {
						continue
					}
					for c := 0; c < v; c++ {
						got, want := lp.Data[i*v+c], full.Data[(i*b.T+step)*v+c]
						if math.Abs(float64(got-want)) > 1e-5 {
							t.Fatalf("step %d example %d token %d: stepwise %v, forward %v", step, i, c, got, want)
						}
					}
					if attn != nil && len(attn[i]) != b.SrcLen[i] {
						t.Fatalf("attention row of example %d has %d entries, want %d", i, len(attn[i]), b.SrcLen[i])
					}
				}
			}
		})
	}
}

func TestTransformerAndLMGradients(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		model  string
		params map[string]any
		attn   string
		aprm   map[string]any
		enc    registry.Plugin
	}{
		{"s2s-post", "seq2seq-transformer", map[string]any{"d_model": 4, "ff": 6, "encoder_layers": 1, "decoder_layers": 1, "dropout": 0.0, "activation": "gelu"}, "multi-head", map[string]any{"heads": 2}, registry.Plugin{}},
		{"s2s-pre-learned-tied", "seq2seq-transformer", map[string]any{"d_model": 4, "ff": 5, "encoder_layers": 1, "decoder_layers": 2, "dropout": 0.0, "norm": "pre", "positions": "learned", "tie_embeddings": true, "activation": "gelu"}, "scaled-dot", map[string]any{}, registry.Plugin{}},
		{"lm-transformer", "lm-transformer", map[string]any{"d_model": 4, "ff": 6, "decoder_layers": 2}, "multi-head", map[string]any{"heads": 2}, registry.Plugin{}},
		{"lm-transformer-linear", "lm-transformer", map[string]any{"d_model": 4, "ff": 6, "decoder_layers": 1}, "linear", map[string]any{}, registry.Plugin{}},
		{"s2s-rope", "seq2seq-transformer", map[string]any{"d_model": 4, "ff": 6, "encoder_layers": 1, "decoder_layers": 1, "dropout": 0.0, "positions": "rope"}, "multi-head", map[string]any{"heads": 2}, registry.Plugin{}},
		{"s2s-t5", "seq2seq-transformer", map[string]any{"d_model": 4, "ff": 6, "encoder_layers": 1, "decoder_layers": 1, "dropout": 0.0, "positions": "t5"}, "multi-head", map[string]any{"heads": 2, "head": map[string]any{"name": "chunked", "block": 2}}, registry.Plugin{}},
		{"lm-alibi-sliding", "lm-transformer", map[string]any{"d_model": 4, "ff": 6, "decoder_layers": 2, "positions": "alibi"}, "multi-head", map[string]any{"heads": 2, "head": map[string]any{"name": "sliding-window", "window": 2}}, registry.Plugin{}},
		{"lm-nope-performer", "lm-transformer", map[string]any{"d_model": 4, "ff": 6, "decoder_layers": 1, "positions": "none"}, "multi-head", map[string]any{"heads": 2, "head": map[string]any{"name": "performer", "features": 16}}, registry.Plugin{}},
		{"lm-rnn", "lm-rnn", map[string]any{"embed": 3}, "", nil, registry.Plugin{Name: "lstm", Params: map[string]any{"hidden": 4, "layers": 2}}},
		{"lm-rnn-tied", "lm-rnn", map[string]any{"embed": 3, "tie_embeddings": true}, "", nil, registry.Plugin{Name: "gru", Params: map[string]any{"hidden": 4}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := Spec{SrcVocab: 7, TgtVocab: 7, MaxLen: 6, Encoder: tc.enc, Attention: registry.Plugin{Name: tc.attn, Params: tc.aprm}}
			b := tinyBatch()
			if tc.model != "seq2seq-transformer" {
				spec.SrcVocab = 0
				b.Src, b.SrcLen, b.S = nil, nil, 0
			}
			m := buildTiny(t, tc.model, tc.params, spec)
			f := func() []*tensor.Tensor { return []*tensor.Tensor{lossOf(m, b, ForwardOptions{})} }
			if err := tensor.GradCheck(f, paramMap(m.Params()), tensor.GradCheckOptions{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestTransformerStepwiseMatchesForward(t *testing.T) {
	t.Parallel()
	mh := func(head map[string]any) registry.Plugin {
		return registry.Plugin{Name: "multi-head", Params: map[string]any{"heads": 2, "head": head}}
	}
	for _, tc := range []struct {
		model     string
		positions string
		spec      Spec
	}{
		{"seq2seq-transformer", "", Spec{SrcVocab: 7, TgtVocab: 7, MaxLen: 8, Attention: registry.Plugin{Name: "multi-head", Params: map[string]any{"heads": 2}}}},
		{"lm-transformer", "", Spec{TgtVocab: 7, MaxLen: 8, Attention: registry.Plugin{Name: "scaled-dot", Params: map[string]any{}}}},
		{"lm-rnn", "", Spec{TgtVocab: 7, Encoder: registry.Plugin{Name: "lstm", Params: map[string]any{"hidden": 5, "layers": 2}}}},
		{"seq2seq-transformer", "rope", Spec{SrcVocab: 7, TgtVocab: 7, MaxLen: 8, Attention: mh(map[string]any{"name": "scaled-dot"})}},
		{"seq2seq-transformer", "t5", Spec{SrcVocab: 7, TgtVocab: 7, MaxLen: 8, Attention: mh(map[string]any{"name": "chunked", "block": 3})}},
		{"lm-transformer", "alibi", Spec{TgtVocab: 7, MaxLen: 8, Attention: mh(map[string]any{"name": "sliding-window", "window": 3})}},
		{"lm-transformer", "none", Spec{TgtVocab: 7, MaxLen: 8, Attention: mh(map[string]any{"name": "performer", "features": 8})}},
	} {
		t.Run(tc.model+"/"+tc.positions, func(t *testing.T) {
			params := map[string]any{}
			if tc.model != "lm-rnn" {
				params = map[string]any{"d_model": 8, "ff": 8, "decoder_layers": 2}
				if tc.model == "seq2seq-transformer" {
					params["encoder_layers"] = 1
				}
				if tc.positions != "" {
					params["positions"] = tc.positions
				}
			}
			m := buildTiny(t, tc.model, params, tc.spec)
			b := tinyBatch()
			lm := tc.model != "seq2seq-transformer"
			layers.SetTraining(false, m)
			defer tensor.NoGrad(layers.Tensors(m.Params())...)()
			full := logProbs(m.Forward(b, ForwardOptions{}).Logits)
			v := full.Dim(-1)
			// Seq2seq: feed the gold tokens from bos. LM: a one-token prompt
			// (the first input), then the gold tokens.
			start := *b
			if lm {
				start.TgtLen = []int{1, 1, 1}
			}
			st := m.Start(&start)
			for step := 0; step < b.T; step++ {
				toks := make([]int, b.Size)
				for i := range toks {
					toks[i] = b.In[i*b.T+step]
				}
				lp, _ := st.Step(toks)
				for i := 0; i < b.Size; i++ {
					if step >= b.TgtLen[i] {
						continue
					}
					for c := 0; c < v; c++ {
						got, want := lp.Data[i*v+c], full.Data[(i*b.T+step)*v+c]
						if math.Abs(float64(got-want)) > 1e-4 {
							t.Fatalf("step %d example %d token %d: stepwise %v, forward %v", step, i, c, got, want)
						}
					}
				}
			}
		})
	}
}

func TestDecodeAllStrategies(t *testing.T) {
	t.Parallel()
	m := buildTiny(t, "seq2seq-rnn", map[string]any{}, Spec{SrcVocab: 7, TgtVocab: 7,
		Encoder: registry.Plugin{Name: "lstm", Params: map[string]any{"hidden": 8}}, Attention: registry.Plugin{Name: "additive", Params: map[string]any{}}})
	layers.SetTraining(false, m)
	defer tensor.NoGrad(layers.Tensors(m.Params())...)()
	b := tinyBatch()
	// Only the first example keeps its attention weights; every one has
	// their summaries.
	for _, opt := range []DecodeOptions{
		{Strategy: "greedy", MaxLen: 6, KeepAttention: 1},
		{Strategy: "beam", Beam: 3, LengthPenalty: 0.6, MaxLen: 6, KeepAttention: 1},
		{Strategy: "sample", TopK: 3, TopP: 0.9, Temperature: 0.7, MaxLen: 6, RNG: tensor.NewRNG(1), KeepAttention: 1},
	} {
		hyps, err := Decode(m, b, opt)
		if err != nil {
			t.Fatal(err)
		}
		if len(hyps) != b.Size {
			t.Fatalf("%s: %d hypotheses for %d examples", opt.Strategy, len(hyps), b.Size)
		}
		for i, h := range hyps {
			steps := len(h.Tokens) + boolInt(h.Finished)
			if len(h.Focus) != steps {
				t.Fatalf("%s: example %d has %d attention summaries for %d tokens (finished %v)", opt.Strategy, i, len(h.Focus), len(h.Tokens), h.Finished)
			}
			if i >= opt.KeepAttention {
				if h.Attention != nil {
					t.Fatalf("%s: example %d kept its attention weights beyond KeepAttention %d", opt.Strategy, i, opt.KeepAttention)
				}
				continue
			}
			if len(h.Attention) != steps {
				t.Fatalf("%s: example %d has %d attention rows for %d tokens (finished %v)", opt.Strategy, i, len(h.Attention), len(h.Tokens), h.Finished)
			}
			for _, row := range h.Attention {
				if len(row) != b.SrcLen[i] {
					t.Fatalf("%s: attention row of length %d for a source of %d", opt.Strategy, len(row), b.SrcLen[i])
				}
			}
			if got, want := h.Focus, metrics.Foci(h.Attention); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: example %d's attention summaries %v, of its weights %v", opt.Strategy, i, got, want)
			}
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestDeepOutputNeedsBahdanau(t *testing.T) {
	_, err := New("seq2seq-rnn", map[string]any{"embed": 4, "wiring": "luong", "deep_output": true},
		Spec{SrcVocab: 7, TgtVocab: 7, Encoder: registry.Plugin{Name: "lstm", Params: map[string]any{"hidden": 4}}, Attention: registry.Plugin{Name: "dot", Params: map[string]any{}}})
	if err == nil || !strings.Contains(err.Error(), "deep_output") {
		t.Fatalf("deep_output with luong: error %v", err)
	}
}
