package attention_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/internal/fixture"
	"github.com/attnlab/attnlab/tensor"
)

// TestLongFixtures checks rotary positions, ALiBi, T5's bias,
// sliding-window and Performer attention (with a fixed feature draw)
// against PyTorch references written from the papers' formulations
// (testdata/long: make_fixtures.py and its README), causal and
// bidirectional, with key padding and several heads: the context, the
// weights and every gradient (t5's table included) within 1e-4. The flash
// kernel (chunked, and sliding-window with a dot-product score) is checked
// on the same references as the dense one, and so is the fused flash kernel
// for heads of 32 (chunked on the heads32 files).
func TestLongFixtures(t *testing.T) {
	for _, tc := range []struct {
		file    string
		variant string
		params  map[string]any
		scheme  string
	}{
		{"rope_causal", "scaled-dot", nil, attention.PositionsRoPE},
		{"rope_causal", "chunked", map[string]any{"block": 4}, attention.PositionsRoPE},
		{"rope_bidir", "scaled-dot", nil, attention.PositionsRoPE},
		{"rope_bidir", "chunked", map[string]any{"block": 4}, attention.PositionsRoPE},
		{"alibi_causal", "scaled-dot", nil, attention.PositionsALiBi},
		{"alibi_causal", "chunked", map[string]any{"block": 3}, attention.PositionsALiBi},
		{"alibi_bidir", "scaled-dot", nil, attention.PositionsALiBi},
		{"alibi_bidir", "chunked", map[string]any{"block": 3}, attention.PositionsALiBi},
		{"t5_causal", "scaled-dot", nil, attention.PositionsT5},
		{"t5_causal", "chunked", map[string]any{"block": 6}, attention.PositionsT5},
		{"t5_bidir", "scaled-dot", nil, attention.PositionsT5},
		{"t5_bidir", "chunked", map[string]any{"block": 6}, attention.PositionsT5},
		{"sliding_window_causal", "sliding-window", map[string]any{"window": 3}, ""},
		{"sliding_window_causal", "sliding-window", map[string]any{"window": 3, "block": 2}, ""},
		{"sliding_window_bidir", "sliding-window", map[string]any{"window": 4}, ""},
		{"sliding_window_bidir", "sliding-window", map[string]any{"window": 4, "block": 4}, ""},
		{"performer_causal", "performer", map[string]any{"features": 6}, ""},
		{"performer_bidir", "performer", map[string]any{"features": 6}, ""},
		// Heads of 32: chunked takes the fused flash kernel (flash32.go).
		{"heads32_bidir", "scaled-dot", nil, ""},
		{"heads32_bidir", "chunked", nil, ""},
		{"heads32_rope_bidir", "scaled-dot", nil, attention.PositionsRoPE},
		{"heads32_rope_bidir", "chunked", nil, attention.PositionsRoPE},
	} {
		t.Run(tc.file+"/"+tc.variant+"/"+fmtAny(tc.params), func(t *testing.T) {
			c, err := fixture.Load("testdata/long/" + tc.file + ".json")
			if err != nil {
				t.Fatal(err)
			}
			h, hd := int(c.ConfigFloat("heads")), int(c.ConfigFloat("head_dim"))
			causal := c.Config["causal"] == true
			d := attention.Dims{Query: hd, Key: hd, Value: hd, Heads: h, Causal: causal}
			var pos *attention.Positions
			if tc.scheme != "" {
				pos, _ = attention.NewPositions(tc.scheme, causal)
				d.Positions = pos
			}
			a, err := attention.New(tc.variant, tc.params, d)
			if err != nil {
				t.Fatal(err)
			}
			requestWeights(a)
			leaves := map[string]*tensor.Tensor{}
			if pos != nil && pos.Params() != nil {
				table := pos.Params()[0]
				copy(table.Data, c.Params["t5_bias"].Tensor().Data)
				leaves["t5_bias"] = table.Tensor
			}
			if p, ok := a.(*attention.Performer); ok {
				copy(p.Features().Data, c.Inputs["features"].Tensor().Data)
			}
			for _, n := range []string{"q", "k", "v"} {
				leaves[n] = c.Inputs[n].Tensor().SetRequiresGrad(true)
			}
			if len(leaves) != len(c.Grads) {
				t.Fatalf("%d tensors to check, the fixture has %d gradients", len(leaves), len(c.Grads))
			}
			km := c.Inputs["key_mask"].Tensor()
			mask := tensor.Reshape(km, km.Dim(0), 1, km.Dim(1))
			ctx, w := a.Attend(leaves["q"], leaves["k"], leaves["v"], mask)
			report := newFixtureReport(t)
			defer report.log()
			report.check("context", ctx.Data, c.Output("context"))
			if w == nil {
				t.Fatal("no weights after RequestWeights")
			}
			report.check("weights", w.Data, c.Output("weights"))
			tensor.BackwardFrom([]*tensor.Tensor{ctx}, [][]float32{c.Loss.R["context"].Tensor().Data})
			for _, name := range slices.Sorted(maps.Keys(leaves)) {
				g := leaves[name].Grad
				if g == nil {
					g = make([]float32, leaves[name].Len())
				}
				report.check("d"+name, g, c.Grads[name])
			}
		})
	}
}
