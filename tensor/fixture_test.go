package tensor_test

import (
	"testing"

	"github.com/attnlab/attnlab/internal/fixture"
	"github.com/attnlab/attnlab/tensor"
)

func TestCrossEntropyFixtures(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"cross_entropy_masked", "cross_entropy_masked_smooth"} {
		t.Run(name, func(t *testing.T) {
			c := fixture.MustLoad(t, name)
			logits := c.Inputs["logits"].Tensor().SetRequiresGrad(true)
			targets := c.Inputs["targets"].Ints()
			loss := tensor.CrossEntropy(logits, targets, int(c.ConfigFloat("pad_id")), float32(c.ConfigFloat("label_smoothing")))
			fixture.ExpectClose(t, "loss", loss.Data, c.Output("loss"))
			loss.Backward()
			fixture.ExpectClose(t, "dloss/dlogits", logits.Grad, c.Grads["logits"])
		})
	}
}

func TestLayerNormFixture(t *testing.T) {
	t.Parallel()
	c := fixture.MustLoad(t, "layernorm")
	x := c.Inputs["x"].Tensor().SetRequiresGrad(true)
	gamma := c.Params["gamma"].Tensor().SetRequiresGrad(true)
	beta := c.Params["beta"].Tensor().SetRequiresGrad(true)
	y := tensor.LayerNorm(x, gamma, beta, float32(c.ConfigFloat("eps")))
	fixture.ExpectClose(t, "y", y.Data, c.Output("y"))
	tensor.BackwardFrom([]*tensor.Tensor{y}, [][]float32{c.Loss.R["y"].Tensor().Data})
	fixture.ExpectClose(t, "dx", x.Grad, c.Grads["x"])
	fixture.ExpectClose(t, "dgamma", gamma.Grad, c.Grads["gamma"])
	fixture.ExpectClose(t, "dbeta", beta.Grad, c.Grads["beta"])
}
