package metrics

import (
	"math"
	"testing"
)

// refDiff is a reference comparison computed independently with mpmath
// at 50 digits (testdata/make_audit_refs.py): means and sample
// variances exactly, the t distribution's two-sided tail as the
// regularised incomplete beta I_{ν/(ν+t²)}(ν/2, 1/2), its quantile by
// root finding on it.
type refDiff struct {
	name                       string
	a, b                       []float64
	diff, se, df, t, p, lo, hi float64
	tol                        float64 // relative
}

func checkRef(t *testing.T, w Difference, tc refDiff) {
	t.Helper()
	for _, f := range []struct {
		what      string
		got, want float64
	}{
		{"Diff", w.Diff, tc.diff}, {"SE", w.SE, tc.se}, {"DF", w.DF, tc.df}, {"T", w.T, tc.t},
		{"P", w.P, tc.p}, {"Low", w.Low, tc.lo}, {"High", w.High, tc.hi},
	} {
		if !closeRel(f.got, f.want, tc.tol) {
			t.Errorf("%s: %s = %.17g, want %.17g (mpmath)", tc.name, f.what, f.got, f.want)
		}
	}
}

func TestWelchCompareMpmath(t *testing.T) {
	for _, tc := range []refDiff{
		{"3 vs 4", []float64{0.81, 0.85, 0.79}, []float64{0.70, 0.74, 0.77, 0.72},
			0.08416666666666671, 0.023109041039770073, 4.390240462067282, 3.642153152171828, 0.01865789387854582, 0.022193501768033943, 0.14613983156529947, 1e-9},
		{"2 vs 2", []float64{1, 2}, []float64{3, 5},
			-2.5, 1.118033988749895, 1.4705882352941178, -2.23606797749979, 0.19872738893452616, -9.418522830071069, 4.418522830071069, 1e-9},
		{"6 vs 2, unequal spreads", []float64{10.1, 9.8, 10.4, 10.0, 9.9, 10.3}, []float64{12, 8},
			0.08333333333333363, 2.002234862458559, 1.0044762179001525, 0.04162015900123126, 0.9734962140022348, -25.09112259951862, 25.257789266185288, 1e-9},
		// 1e8 + noise: a one-pass Σx²−n·x̄² would cancel every digit.
		{"1e8 + noise", []float64{1e8 + 0.1, 1e8 + 0.3, 1e8 + 0.2}, []float64{1e8 + 0.5, 1e8 + 0.45, 1e8 + 0.62},
			-0.32333333790302277, 0.0766666678414829, 3.9292198183209153, -4.217391299326474, 0.014024714321197458, -0.5377149175672351, -0.1089517582388104, 1e-7},
		// One constant side: df = nb − 1 exactly.
		{"one side constant", []float64{0.5, 0.5, 0.5}, []float64{0.4, 0.45, 0.47},
			0.06, 0.020816659994661316, 2, 2.88230676849157, 0.10224159750313029, -0.02956685895029597, 0.14956685895029595, 1e-9},
	} {
		checkRef(t, WelchCompare(tc.a, tc.b, 0.95), tc)
		if tt, p := WelchTTest(tc.a, tc.b); !closeRel(tt, tc.t, tc.tol) || !closeRel(p, tc.p, tc.tol) {
			t.Errorf("%s: WelchTTest = %v, %v; want %v, %v", tc.name, tt, p, tc.t, tc.p)
		}
	}
}

func TestPairedCompareMpmath(t *testing.T) {
	for _, tc := range []refDiff{
		{"4 pairs", []float64{0.81, 0.85, 0.79, 0.88}, []float64{0.70, 0.74, 0.77, 0.72},
			0.10000000000000003, 0.029154759474226508, 3, 3.4299717028501773, 0.041538909023170006, 0.007216543429812662, 0.19278345657018742, 1e-9},
		// df 1: p = 1 − (2/π)·atan(2) by hand.
		{"2 pairs", []float64{1, 2.5}, []float64{0.5, 1},
			1, 0.5, 1, 2, 0.2951672353008665, -5.353102368087352, 7.353102368087352, 1e-9},
		{"1e8 + noise", []float64{1e8 + 0.1, 1e8 + 0.3, 1e8 + 0.2}, []float64{1e8 + 0.05, 1e8 + 0.31, 1e8 + 0.1},
			0.046666666865348816, 0.031797977421109305, 2, 1.4675985911723062, 0.27991774275651643, -0.09014898748609894, 0.18348232121679658, 1e-7},
	} {
		checkRef(t, PairedCompare(tc.a, tc.b, 0.95), tc)
	}
}

func TestMeanStdMpmath(t *testing.T) {
	for _, tc := range []struct {
		xs        []float64
		mean, std float64
	}{
		{[]float64{0.81, 0.85, 0.79}, 0.8166666666666667, 0.030550504633038898},
		{[]float64{12, 8}, 10, 2.8284271247461903},
		{[]float64{1e8 + 0.1, 1e8 + 0.3, 1e8 + 0.2}, 100000000.2, 0.10000000149011622},
	} {
		m, s := MeanStd(tc.xs)
		if !closeRel(m, tc.mean, 1e-15) || !closeRel(s, tc.std, 1e-9) {
			t.Errorf("MeanStd(%v) = %.17g, %.17g; want %.17g, %.17g", tc.xs, m, s, tc.mean, tc.std)
		}
	}
	if _, s := MeanStd([]float64{3, 3, 3}); s != 0 {
		t.Errorf("std of a constant = %v, want 0", s)
	}
	if _, s := MeanStd([]float64{3}); !math.IsNaN(s) {
		t.Errorf("std of one value = %v, want NaN", s)
	}
}
