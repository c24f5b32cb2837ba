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
