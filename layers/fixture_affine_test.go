package layers_test

import (
	"fmt"
	"testing"

	"github.com/attnlab/attnlab/internal/fixture"
	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/tensor"
)

// TestFeedForwardFixtures checks FeedForward (ReLU and GELU's tanh form)
// against two nn.Linear maps around the activation: Forward, and
// AddForward(x, x) = x + FF(x) (the residual fused into the second map)
// whose dx is the fixture's plus the upstream gradient.
func TestFeedForwardFixtures(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"feedforward_relu", "feedforward_gelu"} {
		for _, add := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/add=%v", name, add), func(t *testing.T) {
				c := fixture.MustLoad(t, name)
				ff := layers.NewFeedForward(int(c.ConfigFloat("dim")), int(c.ConfigFloat("hidden")),
					layers.Activation(c.Config["activation"].(string)), 0)
				leaves := loadParams(t, c, ff.Params())
				x := c.Inputs["x"].Tensor().SetRequiresGrad(true)
				checkAffine(t, c, x, leaves, add, ff.Forward, ff.AddForward)
			})
		}
	}
}

// TestLinearFixtures checks Linear with and without bias against
// nn.Linear over the last axis of a [2,3,in] batch, Forward and
// AddForward.
func TestLinearFixtures(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"linear", "linear_nobias"} {
		for _, add := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/add=%v", name, add), func(t *testing.T) {
				c := fixture.MustLoad(t, name)
				l := layers.NewLinear(int(c.ConfigFloat("in")), int(c.ConfigFloat("out")), c.Config["bias"] == true)
				leaves := loadParams(t, c, l.Params())
				x := c.Inputs["x"].Tensor().SetRequiresGrad(true)
				checkAffine(t, c, x, leaves, add, l.Forward, l.AddForward)
			})
		}
	}
}

// checkAffine compares forward(x) (or, with add, addForward(res, x) for a
// residual res of y's shape, 0.5 everywhere) with the fixture's y, and the
// gradients of x and the parameters.
func checkAffine(t *testing.T, c *fixture.Case, x *tensor.Tensor, leaves map[string]*tensor.Tensor, add bool,
	forward func(*tensor.Tensor) *tensor.Tensor, addForward func(res, x *tensor.Tensor) *tensor.Tensor) {
	t.Helper()
	want := c.Output("y")
	var y *tensor.Tensor
	if add {
		res := tensor.Full(0.5, want.Shape...).SetRequiresGrad(true)
		y = addForward(res, x)
		shifted := &fixture.Array{Shape: want.Shape, Data: make([]float64, len(want.Data))}
		for i, v := range want.Data {
			shifted.Data[i] = v + 0.5
		}
		want = shifted
		defer func() { fixture.ExpectClose(t, "dres", res.Grad, c.Loss.R["y"]) }()
	} else {
		y = forward(x)
	}
	fixture.ExpectClose(t, "y", y.Data, want)
	tensor.BackwardFrom([]*tensor.Tensor{y}, [][]float32{c.Loss.R["y"].Tensor().Data})
	leaves["x"] = x
	expectGrads(t, c, leaves)
}
