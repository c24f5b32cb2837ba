package attention

import (
	"math"
	"testing"

	"github.com/attnlab/attnlab/tensor"
)

// The additive kernels compute tanh in float32 (tensor.AddTanhDot): within
// a few float32 roundings of the float64 sums.
func TestAdditivePair(t *testing.T) {
	q := []float32{-9, -3, -0.5, 0, 1e-5, 0.7, 2, 8.5, 0.3, -1.2}
	k := []float32{0.5, 1, -0.2, 0, 0, 0.1, -4, 1, 0.25, 0.4}
	v := []float32{1, -2, 3, 0.5, 4, -1, 2, 0.25, -0.5, 1.5}
	var want, scale float64
	for i := range q {
		th := math.Tanh(float64(q[i] + k[i]))
		want += float64(v[i]) * th
		scale += math.Abs(float64(v[i]) * th)
	}
	if got := tensor.AddTanhDot(q, k, v); math.Abs(float64(got)-want) > 1e-6*scale {
		t.Fatalf("AddTanhDot = %v, want %v", got, want)
	}
	dq, dk, dv := make([]float32, len(q)), make([]float32, len(q)), make([]float32, len(q))
	tensor.AddTanhDotGrad(q, k, v, 0.5, dq, dk, dv)
	for i := range q {
		th := math.Tanh(float64(q[i] + k[i]))
		wq := 0.5 * float64(v[i]) * (1 - th*th)
		if math.Abs(float64(dv[i])-0.5*th) > 1e-7 || math.Abs(float64(dq[i])-wq) > 1e-6*math.Abs(float64(v[i])) || dk[i] != dq[i] {
			t.Fatalf("AddTanhDotGrad at %d: dq %v dk %v dv %v, want dq %v dv %v", i, dq[i], dk[i], dv[i], wq, 0.5*th)
		}
	}
}
