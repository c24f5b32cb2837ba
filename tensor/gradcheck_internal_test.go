package tensor

import (
	"strings"
	"testing"
)

// wrongSquare computes x² but its backward claims the derivative is x, so
// GradCheck must reject it.
func wrongSquare(x *Tensor) *Tensor {
	out := result("WrongSquare", append([]int(nil), x.shape...), x)
	for i, v := range x.Data {
		out.Data[i] = v * v
	}
	if out.requiresGrad {
		out.backward = func() {
			gx := x.grad()
			for i, g := range out.Grad {
				gx[i] += g * x.Data[i]
			}
		}
	}
	return out
}

func TestGradCheckCatchesWrongGradient(t *testing.T) {
	t.Parallel()
	x := NewRNG(1).Uniform(New(2, 3), 0.5, 1.5).SetRequiresGrad(true)
	err := GradCheck(func() []*Tensor { return []*Tensor{wrongSquare(x)} }, map[string]*Tensor{"x": x}, GradCheckOptions{})
	if err == nil {
		t.Fatal("GradCheck accepted a wrong gradient")
	}
	if !strings.Contains(err.Error(), "x[") || !strings.Contains(err.Error(), "shape [2 3]") {
		t.Fatalf("GradCheck error does not name the element: %v", err)
	}
}
