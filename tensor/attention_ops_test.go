package tensor_test

import (
	"strings"
	"testing"

	"github.com/attnlab/attnlab/tensor"
)

// customMulAdd computes a⊙b + c (c may be nil) as a Custom op, with its own
// backward.
func customMulAdd(a, b, c *tensor.Tensor) *tensor.Tensor {
	data := make([]float32, a.Len())
	for i := range data {
		data[i] = a.Data[i] * b.Data[i]
		if c != nil {
			data[i] += c.Data[i]
		}
	}
	return tensor.Custom("MulAdd", data, a.Shape(), []*tensor.Tensor{a, b, c}, func(out *tensor.Tensor, g [][]float32) {
		for i, gi := range out.Grad {
			if g[0] != nil {
				g[0][i] += gi * b.Data[i]
			}
			if g[1] != nil {
				g[1][i] += gi * a.Data[i]
			}
			if g[2] != nil {
				g[2][i] += gi
			}
		}
	})
}

func TestCustomGradCheck(t *testing.T) {
	t.Parallel()
	rng := tensor.NewRNG(3)
	a := param(rng, -1, 1, 2, 3)
	b := param(rng, -1, 1, 2, 3)
	c := param(rng, -1, 1, 2, 3)
	check(t, func() []*tensor.Tensor { return one(tensor.Tanh(customMulAdd(a, b, c))) },
		map[string]*tensor.Tensor{"a": a, "b": b, "c": c})
	// A nil input and a constant input get nil gradient slices.
	k := rng.Uniform(tensor.New(2, 3), -1, 1)
	check(t, func() []*tensor.Tensor { return one(customMulAdd(a, k, nil)) }, map[string]*tensor.Tensor{"a": a})
	// The same tensor twice: gradients add up (d(a²)/da = 2a).
	check(t, func() []*tensor.Tensor { return one(customMulAdd(a, a, nil)) }, map[string]*tensor.Tensor{"a": a})
}

func TestCustomNoGradBuildsNoGraph(t *testing.T) {
	t.Parallel()
	a := tensor.Full(2, 3)
	out := tensor.Custom("Id", []float32{2, 2, 2}, []int{3}, []*tensor.Tensor{a}, nil)
	if out.RequiresGrad() || out.Op() != "Id" || out.Dim(0) != 3 {
		t.Fatalf("Custom without gradients = %v (requiresGrad %v, op %q)", out, out.RequiresGrad(), out.Op())
	}
}

func TestCustomPanics(t *testing.T) {
	t.Parallel()
	a := tensor.Full(1, 3).SetRequiresGrad(true)
	for _, tc := range []struct {
		name string
		f    func()
		want string
	}{
		{"length", func() { tensor.Custom("X", make([]float32, 2), []int{3}, nil, nil) }, "2 values for shape [3]"},
		{"backward", func() { tensor.Custom("X", make([]float32, 3), []int{3}, []*tensor.Tensor{a}, nil) }, "nil backward"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if e, ok := r.(tensor.Error); !ok || !strings.Contains(e.Msg, tc.want) {
					t.Fatalf("panic = %v, want one containing %q", r, tc.want)
				}
			}()
			tc.f()
		})
	}
}
