package attention_test

import (
	"testing"

	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/internal/fixture"
	"github.com/attnlab/attnlab/tensor"
)

// TestLinearFixtures checks linear attention (φ = elu+1) against PyTorch
// references written from Katharopoulos et al.'s formulation
// (testdata/linear: make_fixtures.py, cross-checked there against the
// paper's recurrent form): causal self-attention and non-causal
// cross-attention with key padding, two heads of 9 with values of 5 and
// one head of 17 with values of 6 (rows of 18 and 17 values: the AVX-512
// passes, where the CPU has them, over 16 and the Go loops over the tail):
// the context, the implied weights and dq, dk, dv within 1e-4. The causal file is also run through
// AttendPacked, which reads q, k and v in place from one [B,T,q+k+v]
// tensor and writes their gradients into its own.
func TestLinearFixtures(t *testing.T) {
	for _, tc := range []struct {
		file   string
		packed bool
	}{
		{"linear_causal", false},
		{"linear_causal", true},
		{"linear_bidir", false},
		{"linear_bidir_h1", false},
	} {
		name := tc.file
		if tc.packed {
			name += "/packed"
		}
		t.Run(name, func(t *testing.T) {
			c, err := fixture.Load("testdata/linear/" + tc.file + ".json")
			if err != nil {
				t.Fatal(err)
			}
			h, d, dv := int(c.ConfigFloat("heads")), int(c.ConfigFloat("head_dim")), int(c.ConfigFloat("value_head_dim"))
			a, err := attention.New("linear", nil, attention.Dims{Query: d, Key: d, Value: dv, Heads: h, Causal: c.Config["causal"] == true})
			if err != nil {
				t.Fatal(err)
			}
			requestWeights(a)
			km := c.Inputs["key_mask"].Tensor()
			mask := tensor.Reshape(km, km.Dim(0), 1, km.Dim(1))
			q, k, v := c.Inputs["q"].Tensor(), c.Inputs["k"].Tensor(), c.Inputs["v"].Tensor()
			var ctx, w *tensor.Tensor
			var qkv *tensor.Tensor
			if tc.packed {
				qkv = tensor.Concat(2, q, k, v).SetRequiresGrad(true)
				ctx, w = attention.AttendPacked(a, qkv, h*d, h*d, h*dv, mask)
			} else {
				for _, x := range []*tensor.Tensor{q, k, v} {
					x.SetRequiresGrad(true)
				}
				ctx, w = a.Attend(q, k, v, mask)
			}
			report := newFixtureReport(t)
			defer report.log()
			report.check("context", ctx.Data, c.Output("context"))
			if w == nil {
				t.Fatal("no weights after RequestWeights")
			}
			report.check("weights", w.Data, c.Output("weights"))
			tensor.BackwardFrom([]*tensor.Tensor{ctx}, [][]float32{c.Loss.R["context"].Tensor().Data})
			grads := map[string][]float32{"q": q.Grad, "k": k.Grad, "v": v.Grad}
			if tc.packed {
				b, n, wd := qkv.Dim(0), qkv.Dim(1), qkv.Dim(2)
				grads = map[string][]float32{}
				for _, part := range []struct {
					name     string
					off, len int
				}{{"q", 0, h * d}, {"k", h * d, h * d}, {"v", 2 * h * d, h * dv}} {
					for r := range b * n {
						grads[part.name] = append(grads[part.name], qkv.Grad[r*wd+part.off:][:part.len]...)
					}
				}
			}
			for _, name := range []string{"q", "k", "v"} {
				report.check("d"+name, grads[name], c.Grads[name])
			}
		})
	}
}
