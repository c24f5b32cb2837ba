package attention_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/internal/fixture"
	"github.com/attnlab/attnlab/tensor"
)

const fixtureTol = 1e-4

// TestTorchFixtures checks outputs and every gradient against PyTorch
// (float64 references, see testdata/ and the fixtures README).
func TestTorchFixtures(t *testing.T) {
	for _, tc := range []struct {
		file    string
		variant string
		params  map[string]any
		rename  map[string]string // our parameter name → fixture name
	}{
		{"attn_dot", "dot", nil, nil},
		{"attn_general", "general", nil, nil},
		{"attn_additive", "additive", map[string]any{"dim": 6}, map[string]string{"v": "v_a"}},
		{"attn_scaled_dot", "scaled-dot", nil, nil},
		{"attn_causal_scaled_dot", "scaled-dot", nil, nil},
		{"attn_mha", "multi-head", map[string]any{"heads": 2}, nil},
		{"attn_causal_mha_self", "multi-head", map[string]any{"heads": 2}, nil},
		// The exact variants for long inputs must agree with the same references.
		{"attn_scaled_dot", "chunked", map[string]any{"block": 2}, nil},
		{"attn_causal_scaled_dot", "chunked", map[string]any{"block": 3}, nil},
	} {
		t.Run(tc.file+"/"+tc.variant, func(t *testing.T) {
			c, err := fixture.Load("testdata/" + tc.file + ".json")
			if err != nil {
				t.Fatal(err)
			}
			d := int(c.ConfigFloat("model_dim"))
			a, err := attention.New(tc.variant, tc.params, attention.Dims{Query: d, Key: d, Value: d, Causal: c.Config["causal"] == true})
			if err != nil {
				t.Fatal(err)
			}
			requestWeights(a)
			inputs := map[string]*tensor.Tensor{}
			var q, k, v *tensor.Tensor
			if x, ok := c.Inputs["x"]; ok {
				q = x.Tensor().SetRequiresGrad(true)
				k, v = q, q
				inputs["x"] = q
			} else {
				q = c.Inputs["q"].Tensor().SetRequiresGrad(true)
				k = c.Inputs["k"].Tensor().SetRequiresGrad(true)
				v = c.Inputs["v"].Tensor().SetRequiresGrad(true)
				inputs["q"], inputs["k"], inputs["v"] = q, k, v
			}
			for _, p := range a.Params() {
				name := p.Name
				if r, ok := tc.rename[name]; ok {
					name = r
				}
				want, ok := c.Params[name]
				if !ok {
					t.Fatalf("fixture has no parameter %q", name)
				}
				if p.Len() != len(want.Data) {
					t.Fatalf("parameter %s has %d values, fixture %v", p.Name, p.Len(), want.Shape)
				}
				copy(p.Data, want.Tensor().Data)
				inputs[name] = p.Tensor
			}
			if len(inputs) != len(c.Grads) {
				t.Fatalf("%d tensors to check, fixture has %d gradients", len(inputs), len(c.Grads))
			}
			// The mask as a model builds it: key padding [B,1,Tk], times
			// a causal [1,T,T] in the causal cases.
			km := c.Inputs["key_mask"].Tensor()
			mask := tensor.Reshape(km, km.Dim(0), 1, km.Dim(1))
			if c.Config["causal"] == true {
				mask = attention.CombineMasks(mask, attention.CausalMask(km.Dim(1)))
			}
			allowed := c.Inputs["allowed"]
			if d, _ := fixture.MaxDiff(tensor.Mul(mask, tensor.Full(1, allowed.Shape...)).Data, allowed.Data); d != 0 {
				t.Fatal("the mask differs from the fixture's allowed pairs")
			}
			ctx, w := a.Attend(q, k, v, mask)
			report := newFixtureReport(t)
			defer report.log()
			report.check("context", ctx.Data, c.Output("context"))
			report.check("weights", w.Data, c.Output("weights"))
			tensor.BackwardFrom([]*tensor.Tensor{ctx}, [][]float32{c.Loss.R["context"].Tensor().Data})
			for _, name := range slices.Sorted(maps.Keys(inputs)) {
				in := inputs[name]
				got := in.Grad
				if got == nil {
					got = make([]float32, in.Len())
				}
				report.check("d"+name, got, c.Grads[name])
			}
		})
	}
}

// fixtureReport compares outputs and gradients with a PyTorch fixture
// within fixtureTol and keeps the worst difference of each, for the log.
type fixtureReport struct {
	t                   *testing.T
	worstOut, worstGrad float64
}

func newFixtureReport(t *testing.T) *fixtureReport { return &fixtureReport{t: t} }

// check compares got with want; a name starting with 'd' is a gradient.
func (r *fixtureReport) check(what string, got []float32, want *fixture.Array) {
	r.t.Helper()
	d, i := fixture.MaxDiff(got, want.Data)
	if what[0] == 'd' {
		r.worstGrad = max(r.worstGrad, d)
	} else {
		r.worstOut = max(r.worstOut, d)
	}
	if d > fixtureTol {
		r.t.Errorf("%s differs from PyTorch by %.3g at %d", what, d, i)
	}
}

func (r *fixtureReport) log() {
	r.t.Helper()
	r.t.Logf("max |Δ| outputs %.2g, gradients %.2g", r.worstOut, r.worstGrad)
}
