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
	t.Parallel()
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
	t.Parallel()
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
		// t and p do not depend on the unit: the same samples in units of
		// 1e-100 (a diverged perplexity), where (s²a/na + s²b/nb)² overflows.
		{"three seeds each, huge", []float64{0.912e100, 0.905e100, 0.921e100}, []float64{0.897e100, 0.903e100, 0.889e100}, 2.6534987692620535, 0.057799107763105005},
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

// TestWelchCompareQuantiles checks the t quantiles behind the intervals
// against closed forms and a printed table: with df = 1 (b constant, na = 2)
// the 97.5 % quantile is tan(0.475π) = 12.7062…, with df = 2 (na = nb = 2,
// equal variances) it is 0.95/√(2·0.975·0.025) = 4.3026…; the others are
// from the t table of any statistics textbook (3 decimals).
func TestWelchCompareQuantiles(t *testing.T) {
	t.Parallel()
	// df = 1: a = {0, 2} (s² = 2), b constant: Diff 0, SE 1.
	w := WelchCompare([]float64{0, 2}, []float64{1, 1, 1}, 0.95)
	q1 := math.Tan(0.475 * math.Pi)
	if !close(w.DF, 1, 1e-12) || !close(w.SE, 1, 1e-12) || !close(w.Diff, 0, 1e-12) || !close(w.High, q1, 1e-9) || !close(w.Low, -q1, 1e-9) {
		t.Errorf("df 1: %+v; want DF 1, SE 1, interval ±%.6f", w, q1)
	}
	// df = 2: a = {0, 2}, b = {1, 3}: Diff −1, SE √2.
	w = WelchCompare([]float64{0, 2}, []float64{1, 3}, 0.95)
	q2 := 0.95 / math.Sqrt(2*0.975*0.025)
	if !close(w.DF, 2, 1e-12) || !close(w.SE, math.Sqrt2, 1e-12) ||
		!close(w.Low, -1-q2*math.Sqrt2, 1e-9) || !close(w.High, -1+q2*math.Sqrt2, 1e-9) {
		t.Errorf("df 2: %+v; want [%.6f, %.6f]", w, -1-q2*math.Sqrt2, -1+q2*math.Sqrt2)
	}
	if !close(w.T, -1/math.Sqrt2, 1e-12) || !close(w.P, 1-1/math.Sqrt(5), 1e-9) {
		t.Errorf("df 2: t, p = %v, %v; want %v, %v", w.T, w.P, -1/math.Sqrt2, 1-1/math.Sqrt(5))
	}
	// Table values: equal n and variances give df = 2(n−1); the half-width
	// is q·SE, so q = (High−Diff)/SE. n = 2, 3, 6, 16 → df 2, 4, 10, 30;
	// the 90 % interval of df 4 uses the 95 % quantile 2.132.
	for _, tc := range []struct {
		n     int
		level float64
		q     float64
	}{{3, 0.95, 2.776}, {6, 0.95, 2.228}, {16, 0.95, 2.042}, {3, 0.90, 2.132}, {6, 0.99, 3.169}} {
		a := make([]float64, tc.n)
		b := make([]float64, tc.n)
		for i := range a {
			a[i], b[i] = float64(i), float64(i)+0.5
		}
		w := WelchCompare(a, b, tc.level)
		if df := float64(2 * (tc.n - 1)); !close(w.DF, df, 1e-9) {
			t.Errorf("n %d: DF %v, want %v", tc.n, w.DF, df)
		}
		if q := (w.High - w.Diff) / w.SE; math.Abs(q-tc.q) > 0.0005 || !close(w.Diff-w.Low, w.High-w.Diff, 1e-12) {
			t.Errorf("n %d, level %v: quantile %.4f, want %.3f (table)", tc.n, tc.level, q, tc.q)
		}
	}
}

// TestWelchCompareCases: the interval agrees with the test (it excludes
// 0 exactly when p < 1 − level), and the edge cases are defined.
func TestWelchCompareCases(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	em1 := []float64{0.912, 0.905, 0.921}
	em0 := []float64{0.897, 0.903, 0.889}
	w := WelchCompare(em1, em0, 0.95)
	// scipy: t = 2.6534987692620535, p = 0.057799107763105005 (see TestWelchTTest).
	if !close(w.T, 2.6534987692620535, 1e-12) || !closeRel(w.P, 0.057799107763105005, 1e-9) {
		t.Errorf("t, p = %v, %v", w.T, w.P)
	}
	if !(w.Low < 0 && w.High > 0) {
		t.Errorf("p = %.3f > 0.05 but the 95 %% interval [%v, %v] excludes 0", w.P, w.Low, w.High)
	}
	if w90 := WelchCompare(em1, em0, 0.90); !(w90.Low > 0) {
		t.Errorf("p = %.3f < 0.10 but the 90 %% interval [%v, %v] includes 0", w.P, w90.Low, w90.High)
	}
	if !close(w.Diff, 0.9126666666666666-0.8963333333333333, 1e-12) {
		t.Errorf("Diff = %v", w.Diff)
	}
	for _, tc := range []struct {
		name            string
		a, b            []float64
		diff, low, high float64
		p               float64
	}{
		{"identical constants", []float64{1, 1, 1}, []float64{1, 1}, 0, 0, 0, 1},
		{"different constants", []float64{1, 1}, []float64{0.5, 0.5, 0.5}, 0.5, 0.5, 0.5, 0},
		{"n = 1", []float64{1}, []float64{1, 2, 3}, -1, nan, nan, nan},
		{"NaN ignored", []float64{0, nan, 2}, []float64{1, 3}, -1, -1 - 0.95/math.Sqrt(2*0.975*0.025)*math.Sqrt2, -1 + 0.95/math.Sqrt(2*0.975*0.025)*math.Sqrt2, 1 - 1/math.Sqrt(5)},
		{"empty", nil, []float64{1, 2}, nan, nan, nan, nan},
		{"infinite value", []float64{1, math.Inf(1)}, []float64{1, 2}, math.Inf(1), nan, nan, nan},
	} {
		w := WelchCompare(tc.a, tc.b, 0.95)
		if !close(w.Diff, tc.diff, 1e-12) || !close(w.Low, tc.low, 1e-9) || !close(w.High, tc.high, 1e-9) || !close(w.P, tc.p, 1e-9) {
			t.Errorf("%s: %+v; want diff %v, [%v, %v], p %v", tc.name, w, tc.diff, tc.low, tc.high, tc.p)
		}
	}
}

func TestHolm(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	for _, tc := range []struct {
		name    string
		ps, adj []float64
	}{
		// By hand: m = 5, factors 5, 4, 3, 2, 1 → 0.05, 0.08, 0.09, 0.08, 0.05,
		// then the running maximum keeps the order: 0.05, 0.08, 0.09, 0.09, 0.09.
		{"increasing", []float64{0.01, 0.02, 0.03, 0.04, 0.05}, []float64{0.05, 0.08, 0.09, 0.09, 0.09}},
		// Sorted 0.005, 0.01, 0.03, 0.04 × 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 → 0.06.
		{"unsorted", []float64{0.01, 0.04, 0.03, 0.005}, []float64{0.03, 0.06, 0.06, 0.02}},
		// 0.3 × 2 = 0.6, then 0.6 × 1 = 0.6; 0.6 × 2 = 1.2 is capped at 1.
		{"second step", []float64{0.6, 0.3}, []float64{0.6, 0.6}},
		{"capped at 1", []float64{0.6, 0.7}, []float64{1, 1}},
		{"one", []float64{0.04}, []float64{0.04}},
		{"NaN not counted", []float64{nan, 0.02, 0.01, nan}, []float64{nan, 0.02, 0.02, nan}},
		{"ties", []float64{0.01, 0.01, 0.5}, []float64{0.03, 0.03, 0.5}},
		{"zeros", []float64{0, 0.2}, []float64{0, 0.2}},
		{"empty", nil, []float64{}},
	} {
		got := Holm(tc.ps)
		if len(got) != len(tc.adj) {
			t.Fatalf("%s: Holm(%v) = %v", tc.name, tc.ps, got)
		}
		for i := range got {
			if !close(got[i], tc.adj[i], 1e-12) {
				t.Errorf("%s: Holm(%v) = %v, want %v", tc.name, tc.ps, got, tc.adj)
				break
			}
		}
	}
}
