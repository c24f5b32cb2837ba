package models

import (
	"math"
	"testing"

	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/seq"
	"github.com/attnlab/attnlab/tensor"
)

// TestPaddedRowsMatchAllRows: a Transformer runs its feed-forward
// sub-layers on the real rows of a padded batch only (layers.PaddedRows).
// The loss and the logits of real positions are bitwise those of running
// every row; the parameters' gradients sum the same rows in other blocks,
// so they agree to float32 rounding.
func TestPaddedRowsMatchAllRows(t *testing.T) {
	for _, tc := range []struct {
		name, model string
		params      map[string]any
	}{
		{"s2s-post-relu", "seq2seq-transformer", map[string]any{"d_model": 8, "ff": 12, "encoder_layers": 2, "decoder_layers": 2, "dropout": 0.0}},
		{"s2s-pre-gelu", "seq2seq-transformer", map[string]any{"d_model": 8, "ff": 12, "encoder_layers": 1, "decoder_layers": 2, "dropout": 0.0, "norm": "pre", "activation": "gelu"}},
		{"lm-pre-gelu", "lm-transformer", map[string]any{"d_model": 8, "ff": 12, "decoder_layers": 2, "dropout": 0.0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := Spec{SrcVocab: 7, TgtVocab: 7, MaxLen: 6, Attention: registry.Plugin{Name: "multi-head", Params: map[string]any{"heads": 2}}}
			b := tinyBatch()
			if tc.model == "lm-transformer" {
				spec.SrcVocab = 0
				b.Src, b.SrcLen, b.S = nil, nil, 0
			}
			run := func(all bool) (loss float32, logits []float32, grads map[string][]float32) {
				m := buildTiny(t, tc.model, tc.params, spec)
				m.(*Transformer).allRows = all
				out := m.Forward(b, ForwardOptions{})
				l := tensor.CrossEntropy(out.Logits, b.Out, seq.PadID, 0)
				l.Backward()
				grads = map[string][]float32{}
				for _, p := range m.Params() {
					grads[p.Name] = append([]float32(nil), p.Tensor.Grad...)
				}
				return l.Data[0], append([]float32(nil), out.Logits.Data...), grads
			}
			l0, y0, g0 := run(true)
			l1, y1, g1 := run(false)
			if l0 != l1 {
				t.Errorf("loss %v with every row, %v with the real rows", l0, l1)
			}
			v := len(y0) / (b.Size * b.T)
			for i := range b.Size {
				for j := range b.TgtLen[i] {
					for k := range v {
						if o := (i*b.T+j)*v + k; y0[o] != y1[o] {
							t.Fatalf("logit [%d,%d,%d]: %v with every row, %v with the real rows", i, j, k, y0[o], y1[o])
						}
					}
				}
			}
			for name, want := range g0 {
				got := g1[name]
				scale := 0.0
				for _, w := range want {
					scale = max(scale, math.Abs(float64(w)))
				}
				for i := range want {
					if d := math.Abs(float64(got[i] - want[i])); d > 1e-5*max(scale, 1e-3) {
						t.Fatalf("%s[%d]: gradient %v with the real rows, %v with every row (max |g| %g)", name, i, got[i], want[i], scale)
					}
				}
			}
		})
	}
}
