package tensor_test

import (
	"testing"

	"github.com/attnlab/attnlab/internal/fixture"
	"github.com/attnlab/attnlab/tensor"
)

const tol = 1e-4

func load(t *testing.T, name string) *fixture.Case {
	t.Helper()
	c, err := fixture.Load("testdata/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func expectClose(t *testing.T, what string, got []float32, want *fixture.Array) {
	t.Helper()
	if d, i := fixture.MaxDiff(got, want.Data); d > tol {
		t.Errorf("%s differs from PyTorch by %.3g at %d", what, d, i)
	}
}

func TestCrossEntropyFixtures(t *testing.T) {
	for _, name := range []string{"cross_entropy_masked", "cross_entropy_masked_smooth"} {
		t.Run(name, func(t *testing.T) {
			c := load(t, name)
			logits := c.Inputs["logits"].Tensor().SetRequiresGrad(true)
			targets := c.Inputs["targets"].Ints()
			loss := tensor.CrossEntropy(logits, targets, int(c.ConfigFloat("pad_id")), float32(c.ConfigFloat("label_smoothing")))
			expectClose(t, "loss", loss.Data, c.Output("loss"))
			loss.Backward()
			expectClose(t, "dloss/dlogits", logits.Grad, c.Grads["logits"])
		})
	}
}

func TestLayerNormFixture(t *testing.T) {
	c := load(t, "layernorm")
	x := c.Inputs["x"].Tensor().SetRequiresGrad(true)
	gamma := c.Params["gamma"].Tensor().SetRequiresGrad(true)
	beta := c.Params["beta"].Tensor().SetRequiresGrad(true)
	y := tensor.LayerNorm(x, gamma, beta, float32(c.ConfigFloat("eps")))
	expectClose(t, "y", y.Data, c.Output("y"))
	tensor.BackwardFrom([]*tensor.Tensor{y}, [][]float32{c.Loss.R["y"].Tensor().Data})
	expectClose(t, "dx", x.Grad, c.Grads["x"])
	expectClose(t, "dgamma", gamma.Grad, c.Grads["gamma"])
	expectClose(t, "dbeta", beta.Grad, c.Grads["beta"])
}
