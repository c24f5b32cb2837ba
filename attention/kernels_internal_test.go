package attention

import (
	"math"
	"testing"
)

func TestTanh32(t *testing.T) {
	worst := 0.0
	for x := -12.0; x <= 12; x += 1e-3 {
		got := float64(tanh32(float32(x)))
		want := math.Tanh(float64(float32(x)))
		worst = max(worst, math.Abs(got-want))
	}
	if worst > 3e-7 {
		t.Fatalf("tanh32 differs from math.Tanh by up to %.3g", worst)
	}
	t.Logf("tanh32 max abs error %.3g", worst)
}

// The inline copies of tanh32 in the additive kernels must agree with it.
func TestAdditivePairMatchesTanh32(t *testing.T) {
	q := []float32{-9, -3, -0.5, 0, 1e-5, 0.7, 2, 8.5}
	k := []float32{0.5, 1, -0.2, 0, 0, 0.1, -4, 1}
	v := []float32{1, -2, 3, 0.5, 4, -1, 2, 0.25}
	var want float32
	for i := range q {
		want += v[i] * tanh32(q[i]+k[i])
	}
	if got := additivePair(q, k, v); got != want {
		t.Fatalf("additivePair = %v, want %v", got, want)
	}
	dq, dk, dv := make([]float32, len(q)), make([]float32, len(q)), make([]float32, len(q))
	additivePairBackward(q, k, v, 0.5, dq, dk, dv)
	for i := range q {
		th := tanh32(q[i] + k[i])
		if dv[i] != 0.5*th || dq[i] != 0.5*v[i]*(1-th*th) || dk[i] != dq[i] {
			t.Fatalf("additivePairBackward at %d: dq %v dk %v dv %v, t %v", i, dq[i], dk[i], dv[i], th)
		}
	}
}
