package tensor

import (
	"math"
	"testing"
)

// ulpDiff returns how many float32 steps separate a and b.
func ulpDiff(a, b float32) float64 {
	if a == b {
		return 0
	}
	ia, ib := int64(math.Float32bits(a)), int64(math.Float32bits(b))
	if (ia < 0) != (ib < 0) || a < 0 != (b < 0) {
		return math.Inf(1)
	}
	return math.Abs(float64(ia - ib))
}

func TestFastMathAccuracy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		f      func(float32) float32
		ref    func(float64) float64
		lo, hi float64
		maxULP float64
		absTol float64 // accepted absolute error near zero crossings
	}{
		{"exp", expf, math.Exp, -100, 88, 2, 0},
		{"tanh", tanhf, math.Tanh, -12, 12, 3, 1e-8},
		{"sigmoid", sigmoidf, func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }, -90, 30, 4, 0},
	} {
		worst, at := 0.0, 0.0
		for i := 0; i <= 200000; i++ {
			x := float32(tc.lo + (tc.hi-tc.lo)*float64(i)/200000)
			got, want := tc.f(x), float32(tc.ref(float64(x)))
			if d := ulpDiff(got, want); d > worst {
				if tc.absTol > 0 && math.Abs(float64(got-want)) < tc.absTol {
					continue
				}
				worst, at = d, float64(x)
			}
		}
		if worst > tc.maxULP {
			t.Errorf("%s: %v ulp off at x = %v", tc.name, worst, at)
		}
	}
	// A Go constant -0.0 is +0: the negative zero must be made at run time.
	negZero := float32(math.Copysign(0, -1))
	if !math.Signbit(float64(negZero)) {
		t.Fatal("negZero has no sign bit")
	}
	// == cannot tell −0 from +0: compare the sign bits too (tanh is odd,
	// so tanh(−0) = −0).
	same := func(got, want float32) bool {
		return got == want && math.Signbit(float64(got)) == math.Signbit(float64(want))
	}
	for _, x := range []float32{float32(math.Inf(1)), float32(math.Inf(-1)), 0, negZero, 1000, -1000} {
		if got, want := expf(x), float32(math.Exp(float64(x))); !same(got, want) {
			t.Errorf("expf(%v) = %v, want %v", x, got, want)
		}
		if got, want := tanhf(x), float32(math.Tanh(float64(x))); !same(got, want) {
			t.Errorf("tanhf(%v) = %v (sign bit %v), want %v (sign bit %v)", x, got, math.Signbit(float64(got)), want, math.Signbit(float64(want)))
		}
	}
	if nan := float32(math.NaN()); expf(nan) == expf(nan) || tanhf(nan) == tanhf(nan) {
		t.Error("NaN input does not give NaN")
	}
}

func BenchmarkExpf(b *testing.B) {
	x := make([]float32, 1024)
	for i := range x {
		x[i] = float32(i)/100 - 5
	}
	var s float32
	for b.Loop() {
		for _, v := range x {
			s += expf(v)
		}
	}
	_ = s
}
