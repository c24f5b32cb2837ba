package metrics

import (
	"math"
	"testing"
)

func close(got, want, tol float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	if math.IsInf(want, 0) {
		return got == want
	}
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

// closeRel is close with a purely relative tolerance, for tiny p-values.
func closeRel(got, want, tol float64) bool {
	if math.IsNaN(want) || math.IsInf(want, 0) || want == 0 {
		return close(got, want, tol)
	}
	return math.Abs(got-want) <= tol*math.Abs(want)
}

func TestMeanStd(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name      string
		xs        []float64
		mean, std float64
	}{
		{"empty", nil, nan, nan},
		{"all NaN", []float64{nan, nan}, nan, nan},
		{"one", []float64{0.5}, 0.5, nan},
		{"one and NaN", []float64{nan, 0.5}, 0.5, nan},
		{"constant", []float64{2, 2, 2}, 2, 0},
		// 2, 4, 4, 4, 5, 5, 7, 9: mean 5, squares sum 32, sample std sqrt(32/7).
		{"textbook", []float64{2, 4, 4, 4, 5, 5, 7, 9}, 5, math.Sqrt(32.0 / 7)},
		{"NaN ignored", []float64{2, 4, nan, 4, 4, 5, 5, 7, 9}, 5, math.Sqrt(32.0 / 7)},
		// scipy/numpy: np.mean, np.std(ddof=1) of the first Wikipedia Welch sample.
		{"wikipedia", []float64{27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4}, 20.819999999999997, 2.8048936827317665},
		{"offset", []float64{1e9 + 1, 1e9 + 2, 1e9 + 3}, 1e9 + 2, 1},
		{"infinite", []float64{1, math.Inf(1)}, math.Inf(1), nan},
	} {
		m, s := MeanStd(tc.xs)
		if !close(m, tc.mean, 1e-12) || !close(s, tc.std, 1e-12) {
			t.Errorf("%s: MeanStd(%v) = %v, %v; want %v, %v", tc.name, tc.xs, m, s, tc.mean, tc.std)
		}
	}
}

func TestWelchTTest(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, tc := range []struct {
		name string
		a, b []float64
		t, p float64
	}{
		// Reference values from scipy 1.10 stats.ttest_ind(a, b, equal_var=False);
		// the first is the first example of Wikipedia's "Welch's t-test"
		// (t = −2.46, df = 25.0, p = 0.021).
		{"wikipedia",
			[]float64{27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4},
			[]float64{27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4},
			-2.455356398286006, 0.021378001462866985},
		{"unequal n", []float64{0.81, 0.83, 0.79, 0.85, 0.80}, []float64{0.78, 0.74, 0.80, 0.71, 0.76, 0.77, 0.73, 0.75},
			4.116630821053918, 0.0021576893123759593},
		{"three seeds each", []float64{0.912, 0.905, 0.921}, []float64{0.897, 0.903, 0.889}, 2.6534987692620535, 0.057799107763105005},
		// df = 2 exactly, where the two-sided p-value is 1 − |t|/√(2+t²) = 1 − 1/√5.
		{"df 2 closed form", []float64{0, 2}, []float64{1, 3}, -1 / math.Sqrt2, 1 - 1/math.Sqrt(5)},
		{"one constant sample", []float64{1, 1, 1}, []float64{0.5, 0.7, 0.9, 0.6}, 3.8060102844992794, 0.0318741951035571},
		{"far apart", []float64{10.0, 10.1, 9.9, 10.05}, []float64{1.0, 1.2, 0.9, 1.1}, 115.80594713271147, 4.446402914054299e-10},
		{"NaN ignored", []float64{0.912, math.NaN(), 0.905, 0.921}, []float64{0.897, 0.903, 0.889}, 2.6534987692620535, 0.057799107763105005},
		{"identical constants", []float64{1, 1, 1}, []float64{1, 1}, 0, 1},
		{"different constants", []float64{1, 1}, []float64{0.5, 0.5, 0.5}, inf, 0},
		{"different constants, negative", []float64{0.5, 0.5}, []float64{1, 1}, -inf, 0},
		{"n = 1", []float64{1}, []float64{1, 2, 3}, nan, nan},
		{"n = 1 after NaN", []float64{1, 2, 3}, []float64{math.NaN(), 4}, nan, nan},
		{"empty", nil, nil, nan, nan},
		{"infinite value", []float64{1, inf}, []float64{1, 2}, nan, nan},
	} {
		gt, gp := WelchTTest(tc.a, tc.b)
		if !close(gt, tc.t, 1e-12) || !closeRel(gp, tc.p, 1e-9) {
			t.Errorf("%s: WelchTTest = %.17g, %.17g; want %.17g, %.17g", tc.name, gt, gp, tc.t, tc.p)
		}
	}
}
