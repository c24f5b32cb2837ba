package layers_test

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/internal/fixture"
	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/tensor"
)

// The fixtures of fixture_torch_test.go, fixture_rnn_test.go and
// fixture_affine_test.go come from testdata/make_fixtures.py: torch's own
// modules (nn.TransformerEncoderLayer, nn.TransformerDecoderLayer, nn.GRU,
// nn.LSTM with packed sequences, nn.Linear) in float64, their parameters
// written in attnlab's layout under attnlab's names. Every output and every
// gradient (inputs and parameters) must agree within fixture.Tol (1e-4
// absolute): float32 rounding is ~6e-8 relative per operation, and the
// values (of order 1 to 10) pass a few dozen operations; the largest
// difference seen is 6e-6.

// loadParams copies the fixture's parameters into ps by name and returns
// the tensors whose gradients the test checks, by name. Every parameter of
// ps must be in the fixture and every fixture parameter in ps.
func loadParams(t *testing.T, c *fixture.Case, ps []*layers.Param) map[string]*tensor.Tensor {
	t.Helper()
	out := map[string]*tensor.Tensor{}
	for _, p := range ps {
		want, ok := c.Params[p.Name]
		if !ok {
			t.Fatalf("fixture %s has no parameter %q", c.Name, p.Name)
		}
		if p.Len() != len(want.Data) {
			t.Fatalf("parameter %s has %d values, fixture %v", p.Name, p.Len(), want.Shape)
		}
		copy(p.Data, want.Tensor().Data)
		out[p.Name] = p.Tensor
	}
	if len(out) != len(c.Params) {
		t.Fatalf("module has %d parameters, fixture %s %d", len(out), c.Name, len(c.Params))
	}
	return out
}

// expectGrads compares the gradient of every tensor of ts with the
// fixture's (a tensor that got none counts as 0).
func expectGrads(t *testing.T, c *fixture.Case, ts map[string]*tensor.Tensor) {
	t.Helper()
	for _, name := range slices.Sorted(maps.Keys(ts)) {
		g := ts[name].Grad
		if g == nil {
			g = make([]float32, ts[name].Len())
		}
		fixture.ExpectClose(t, "d"+name, g, c.Grads[name])
	}
}

func configInts(c *fixture.Case, key string) []int {
	var out []int
	for _, v := range c.Config[key].([]any) {
		out = append(out, int(v.(float64)))
	}
	return out
}

// attendOnly hides every method of an attention but Attend and Params, so
// that a block takes its unfused residual path (sublayer) instead of the
// ResidualAttender and RowsAttender ones.
type attendOnly struct{ a layers.Attender }

func (o attendOnly) Attend(q, k, v, mask *tensor.Tensor) (*tensor.Tensor, *tensor.Tensor) {
	return o.a.Attend(q, k, v, mask)
}
func (o attendOnly) Params() []*layers.Param { return o.a.Params() }

// newMHA builds attnlab's multi-head attention for a block of the fixture.
func newMHA(t *testing.T, c *fixture.Case, causal, unfused bool) layers.Attender {
	t.Helper()
	d := int(c.ConfigFloat("dim"))
	a, err := attention.New("multi-head", map[string]any{"heads": int(c.ConfigFloat("heads"))},
		attention.Dims{Query: d, Key: d, Value: d, Causal: causal})
	if err != nil {
		t.Fatal(err)
	}
	if unfused {
		return attendOnly{a}
	}
	return a
}

func blockConfig(c *fixture.Case) layers.BlockConfig {
	return layers.BlockConfig{
		Dim: int(c.ConfigFloat("dim")), FFDim: int(c.ConfigFloat("ff_dim")),
		Activation: layers.Activation(c.Config["activation"].(string)),
		PreLN:      c.Config["pre_ln"] == true, Eps: float32(c.ConfigFloat("eps")),
	}
}

// expectRealRows compares the real rows of got [B,T,D] (ForwardRows'
// result) with want, and checks that its padded rows are 0.
func expectRealRows(t *testing.T, what string, got []float32, want *fixture.Array, lengths []int) {
	t.Helper()
	tt, d := want.Shape[1], want.Shape[2]
	var g []float32
	var w []float64
	for b, n := range lengths {
		for i := 0; i < tt; i++ {
			row := got[(b*tt+i)*d:][:d]
			if i < n {
				g = append(g, row...)
				w = append(w, want.Data[(b*tt+i)*d:][:d]...)
			} else if slices.ContainsFunc(row, func(v float32) bool { return v != 0 }) {
				t.Errorf("%s: padded row %d of sequence %d is not 0", what, i, b)
			}
		}
	}
	fixture.ExpectClose(t, what, g, &fixture.Array{Data: w})
}

// TestEncoderBlockFixtures checks EncoderBlock, post- and pre-LN, ReLU and
// GELU (tanh form), with attnlab's multi-head attention under a key-padding
// mask, against torch.nn.TransformerEncoderLayer: the output (every row,
// padded ones too), dx and every parameter's gradient. "fused" is the
// block as models run it (residual add inside multi-head's output
// projection), "unfused" the plain sub-layer path; ForwardRows checks the
// real rows of the packed path.
func TestEncoderBlockFixtures(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"encoder_postln_relu", "encoder_preln_gelu"} {
		for _, unfused := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/unfused=%v", name, unfused), func(t *testing.T) {
				c := fixture.MustLoad(t, name)
				blk := layers.NewEncoderBlock(blockConfig(c), newMHA(t, c, false, unfused))
				leaves := loadParams(t, c, blk.Params())
				x := c.Inputs["x"].Tensor().SetRequiresGrad(true)
				leaves["x"] = x
				lengths := configInts(c, "lengths")
				mask := keyPadding(lengths, x.Dim(1))
				y, _ := blk.Forward(x, mask)
				fixture.ExpectClose(t, "y", y.Data, c.Output("y"))
				tensor.BackwardFrom([]*tensor.Tensor{y}, [][]float32{c.Loss.R["y"].Tensor().Data})
				expectGrads(t, c, leaves)
				yr, _ := blk.ForwardRows(x, mask, layers.PaddedRows(lengths, x.Dim(1)))
				expectRealRows(t, "rows y", yr.Data, c.Output("y"), lengths)
			})
		}
	}
}

// TestDecoderBlockFixtures checks DecoderBlock against
// torch.nn.TransformerDecoderLayer with a causal self-attention mask and
// key padding on the target and the memory: the causal rule applied by a
// self-attention built for a causal site (as models build it) or given as
// a [1,T,T] mask, fused and unfused residual paths.
func TestDecoderBlockFixtures(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"decoder_postln_gelu", "decoder_preln_relu"} {
		for _, mode := range []string{"causal-site", "causal-mask", "causal-site/unfused"} {
			t.Run(name+"/"+mode, func(t *testing.T) {
				c := fixture.MustLoad(t, name)
				site := mode != "causal-mask"
				unfused := mode == "causal-site/unfused"
				blk := layers.NewDecoderBlock(blockConfig(c), newMHA(t, c, site, unfused), newMHA(t, c, false, unfused))
				leaves := loadParams(t, c, blk.Params())
				y := c.Inputs["y"].Tensor().SetRequiresGrad(true)
				mem := c.Inputs["mem"].Tensor().SetRequiresGrad(true)
				leaves["y"], leaves["mem"] = y, mem
				lengths := configInts(c, "lengths")
				selfMask := keyPadding(lengths, y.Dim(1))
				if !site {
					selfMask = tensor.Mul(selfMask, causal(y.Dim(1)))
				}
				memMask := keyPadding(configInts(c, "memory_lengths"), mem.Dim(1))
				out, _, _ := blk.Forward(y, mem, selfMask, memMask)
				fixture.ExpectClose(t, "out", out.Data, c.Output("out"))
				tensor.BackwardFrom([]*tensor.Tensor{out}, [][]float32{c.Loss.R["out"].Tensor().Data})
				expectGrads(t, c, leaves)
				or, _, _ := blk.ForwardRows(y, mem, selfMask, memMask, layers.PaddedRows(lengths, y.Dim(1)))
				expectRealRows(t, "rows out", or.Data, c.Output("out"), lengths)
			})
		}
	}
}
