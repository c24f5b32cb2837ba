package attention

import (
	"math"
	"testing"
)

// TestEluRow: φ = elu + 1 and φ' from the branch-free kernel equal the
// definition (x + 1 and 1 for x > 0, eˣ and eˣ otherwise) at signed zeros,
// tiny, large and overflowing inputs, and the gradient row applies φ'.
func TestEluRow(t *testing.T) {
	x := []float32{0, float32(math.Copysign(0, -1)), 1e-30, -1e-30, 0.5, -0.5, 3, -3, 50, -50, 100, -100, 1e30, -1e30}
	y, d := make([]float32, len(x)), make([]float32, len(x))
	eluRow(y, d, x)
	y2 := make([]float32, len(x))
	eluRow(y2, nil, x)
	for i, v := range x {
		wantY, wantD := float32(math.Exp(float64(v))), float32(math.Exp(float64(v)))
		if v > 0 {
			wantY, wantD = v+1, 1
		}
		if !close32(y[i], wantY) || !close32(d[i], wantD) || y2[i] != y[i] {
			t.Errorf("x = %g: φ = %g (without φ': %g), φ' = %g; want %g, %g", v, y[i], y2[i], d[i], wantY, wantD)
		}
	}
	g := make([]float32, len(x))
	add := make([]float32, len(x))
	for i := range g {
		g[i], add[i] = float32(i+1), 0.5
	}
	dst := make([]float32, len(x))
	eluGradRow(dst, g, add, y, x)
	for i := range dst {
		if want := (g[i] + add[i]) * d[i]; !close32(dst[i], want) {
			t.Errorf("x = %g: gradient %g, want %g", x[i], dst[i], want)
		}
	}
}

func close32(a, b float32) bool {
	return a == b || math.Abs(float64(a-b)) <= 1e-6*math.Abs(float64(b))
}
