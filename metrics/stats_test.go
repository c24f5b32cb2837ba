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
	// 0.9 computed as 0.7 + 0.2 at run time is 0.8999999999999999: a
	// sample constant but for the last bit, where scipy 1.10's t against
	// {0.5, 0.5, 0.5} is 6.2e15 (p 2.6e-32), and against {0.9, 0.9} from
	// {near, near}, -Inf (p 0).
	x7, x2 := 0.7, 0.2
	near := x7 + x2
	if near == 0.9 {
		t.Fatal("0.7 + 0.2 rounds to 0.9: the cases below test nothing")
	}
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
		{"constant but for the last bit", []float64{0.9, near, 0.9}, []float64{0.5, 0.5, 0.5}, inf, 0},
		{"equal but for the last bit", []float64{0.9, near, 0.9}, []float64{0.9, 0.9}, 0, 1},
		{"equal means but for the last bit", []float64{near, near}, []float64{0.9, 0.9}, 0, 1},
		// Against a sample that varies, the last bit counts as no spread:
		// the t of "one constant sample" above, 0.9 for 1.
		{"last bit against a varying sample", []float64{0.9, near, 0.9}, []float64{0.4, 0.6, 0.8, 0.5},
			3.8060102844992794, 0.0318741951035571},
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
	x7, x2 := 0.7, 0.2
	near := x7 + x2 // 0.8999999999999999 (see TestWelchTTest)
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
		{"constant but for the last bit", []float64{0.9, near, 0.9}, []float64{0.5, 0.5, 0.5}, 0.4, 0.4, 0.4, 0},
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

// TestPairedCompare checks the paired t-test against scipy 1.10's
// stats.ttest_rel(a, b, nan_policy="omit") — statistic, p-value and
// confidence_interval(0.95) and (0.90) — and its defined edge cases.
func TestPairedCompare(t *testing.T) {
	t.Parallel()
	nan, inf := math.NaN(), math.Inf(1)
	em1 := []float64{0.912, 0.905, 0.921}
	em0 := []float64{0.897, 0.903, 0.889}
	for _, tc := range []struct {
		name                   string
		a, b                   []float64
		t, p, df               float64
		low, high, low9, high9 float64
	}{
		// The "three seeds each" samples of TestWelchTTest, paired as
		// listed: the differences 0.015, 0.002, 0.032 vary more than
		// pairing removes, so p is larger than Welch's 0.058.
		{"three seeds", em1, em0, 1.8804474133106739, 0.20079182575951338, 2,
			-0.02103897538307475, 0.053705642049741445, -0.009029299769235631, 0.041695966435902315},
		// Runs of one seed moving together: Welch's p is 0.606.
		{"strong pairing", []float64{0.52, 0.61, 0.47, 0.58, 0.66}, []float64{0.50, 0.58, 0.46, 0.55, 0.63}, 5.9999999999999885, 0.003882537046960536, 4,
			0.012894219579208777, 0.0351057804207912, 0.01547261287465481, 0.032527387125345156},
		{"wikipedia, paired",
			[]float64{27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4},
			[]float64{27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4},
			-2.685714574824638, 0.01774602166948074, 14, -3.896946521190461, -0.4363868121428722, -3.58758160551295, -0.7457517278203836},
		{"NaN pair left out", []float64{0.912, nan, 0.905, 0.921}, []float64{0.897, 0.5, 0.903, 0.889}, 1.8804474133106739, 0.20079182575951338, 2,
			-0.02103897538307475, 0.053705642049741445, -0.009029299769235631, 0.041695966435902315},
		{"NaN on the other side", []float64{0.912, 0.5, 0.905, 0.921}, []float64{0.897, nan, 0.903, 0.889}, 1.8804474133106739, 0.20079182575951338, 2,
			-0.02103897538307475, 0.053705642049741445, -0.009029299769235631, 0.041695966435902315},
		// t, p and the interval scale with the unit (a diverged perplexity).
		// Differences of 1e160 square beyond the float range (a diverged
		// perplexity): scipy on the values in units of 1e160.
		{"differences beyond 1e154", []float64{1e160, 2e160, 3e160}, []float64{0, 0, 1e159}, 3.5839947614616436, 0.06979858598054248, 2,
			-0.39435344227675984e160, 4.327686775610093e160, 0.3643656896165426e160, 3.56896764371679e160},
		{"three seeds, huge", []float64{0.912e100, 0.905e100, 0.921e100}, []float64{0.897e100, 0.903e100, 0.889e100}, 1.8804474133106739, 0.20079182575951338, 2,
			-0.02103897538307475e100, 0.053705642049741445e100, -0.009029299769235631e100, 0.041695966435902315e100},
	} {
		w := PairedCompare(tc.a, tc.b, 0.95)
		w9 := PairedCompare(tc.a, tc.b, 0.90)
		if !close(w.T, tc.t, 1e-9) || !closeRel(w.P, tc.p, 1e-9) || w.DF != tc.df {
			t.Errorf("%s: t, p, df = %.17g, %.17g, %v; want %.17g, %.17g, %v", tc.name, w.T, w.P, w.DF, tc.t, tc.p, tc.df)
		}
		// 1e-8: scipy 1.10's t.ppf(0.95, 4) = 2.13184678133629 is 5e-9
		// off the closed form checked below; gonum's is not.
		if !closeRel(w.Low, tc.low, 1e-8) || !closeRel(w.High, tc.high, 1e-8) || !closeRel(w9.Low, tc.low9, 1e-8) || !closeRel(w9.High, tc.high9, 1e-8) {
			t.Errorf("%s: 95 %% [%.17g, %.17g], 90 %% [%.17g, %.17g]; want [%.17g, %.17g], [%.17g, %.17g]",
				tc.name, w.Low, w.High, w9.Low, w9.High, tc.low, tc.high, tc.low9, tc.high9)
		}
		// The interval agrees with the test, and Diff is the difference of
		// the means over the pairs.
		if (w.Low > 0 || w.High < 0) != (w.P < 0.05) {
			t.Errorf("%s: p = %v but the 95 %% interval is [%v, %v]", tc.name, w.P, w.Low, w.High)
		}
		if !closeRel(w.Diff, (w.Low+w.High)/2, 1e-12) {
			t.Errorf("%s: Diff %v is not the interval's centre", tc.name, w.Diff)
		}
	}
	// The 95 % quantile of t with 4 df in closed form (ν = 4: with
	// α = 4p(1−p), q = cos(arccos(√α)/3)/√α, t = 2√(q−1)): 2.1318467863266503.
	w := PairedCompare([]float64{0.52, 0.61, 0.47, 0.58, 0.66}, []float64{0.50, 0.58, 0.46, 0.55, 0.63}, 0.90)
	if q := (w.High - w.Diff) / w.SE; !close(q, 2.1318467863266503, 1e-13) {
		t.Errorf("t quantile 0.95 with 4 df = %.17g, want 2.1318467863266503", q)
	}
	// Closed form: differences {0, 2} give mean 1, SE 1, t 1 with 1 df,
	// p = 1 − 2·atan(1)/π = 0.5, and the 95 % quantile tan(0.475π).
	w = PairedCompare([]float64{1, 5}, []float64{1, 3}, 0.95)
	if q := math.Tan(0.475 * math.Pi); !close(w.Diff, 1, 1e-15) || !close(w.SE, 1, 1e-15) || w.DF != 1 || !close(w.T, 1, 1e-15) ||
		!close(w.P, 0.5, 1e-12) || !close(w.Low, 1-q, 1e-9) || !close(w.High, 1+q, 1e-9) {
		t.Errorf("closed form: %+v", w)
	}
	for _, tc := range []struct {
		name            string
		a, b            []float64
		diff, low, high float64
		tt, p, df       float64
	}{
		{"identical", []float64{0.9, 0.8, 0.7}, []float64{0.9, 0.8, 0.7}, 0, 0, 0, 0, 1, inf},
		// A shift of 0.1 that rounding makes vary in the last bits.
		{"constant shift", []float64{0.997, 1.003, 0.989}, []float64{0.897, 0.903, 0.889}, 0.1, 0.1, 0.1, inf, 0, inf},
		{"constant shift down", []float64{0.897, 0.903, 0.889}, []float64{0.997, 1.003, 0.989}, -0.1, -0.1, -0.1, -inf, 0, inf},
		{"one pair", []float64{1, nan}, []float64{0.5, 2}, 0.5, nan, nan, nan, nan, nan},
		{"no pair", []float64{nan, 1}, []float64{1, nan}, nan, nan, nan, nan, nan, nan},
		{"empty", nil, nil, nan, nan, nan, nan, nan, nan},
		{"infinite value", []float64{1, inf, 2}, []float64{1, 2, 3}, inf, nan, nan, nan, nan, nan},
		// Differences of both signs within the rounding of values near
		// ±1000 (4ε·1000 = 8.9e-13): no spread, and a Δ of 0.
		{"zero but for rounding", []float64{1000 + 1.2e-13, -1000 - 1.2e-13, 0.001 + 2e-14}, []float64{1000, -1000, 0.001},
			2e-14 / 3, 2e-14 / 3, 2e-14 / 3, 0, 1, inf},
		// 2e308 overflows: the difference of the means is still finite.
		{"overflowing difference", []float64{1e308, 1, 2}, []float64{-1e308, 1, 3}, (1e308+3)/3 - (-1e308+4)/3, nan, nan, nan, nan, nan},
	} {
		w := PairedCompare(tc.a, tc.b, 0.95)
		if !close(w.Diff, tc.diff, 1e-12) || !close(w.Low, tc.low, 1e-12) || !close(w.High, tc.high, 1e-12) ||
			!close(w.T, tc.tt, 0) || !close(w.P, tc.p, 0) || !close(w.DF, tc.df, 0) {
			t.Errorf("%s: %+v; want diff %v, [%v, %v], t %v, p %v, df %v", tc.name, w, tc.diff, tc.low, tc.high, tc.tt, tc.p, tc.df)
		}
	}
}

func TestPairedComparePanics(t *testing.T) {
	t.Parallel()
	for name, f := range map[string]func(){
		"lengths": func() { PairedCompare([]float64{1, 2}, []float64{1}, 0.95) },
		"level":   func() { PairedCompare([]float64{1, 2}, []float64{1, 2}, 1) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// TestTestsAreUnitFree: Welch's and the paired t, p and df do not depend
// on the unit of the values, and their difference and interval scale with
// it, down to spreads whose squares underflow (1e-170: scipy 1.10 says
// t −Inf, p 0) and up to values whose squares overflow (1e170: scipy says
// t −0, p 1).
// scipy 1.10 on the unscaled values: ttest_ind([1, 2, 3.5], [4, 5.5, 6],
// equal_var=False) t −3.1819805153394642, p 0.03513545253601176.
func TestTestsAreUnitFree(t *testing.T) {
	t.Parallel()
	a, b := []float64{1, 2, 3.5}, []float64{4, 5.5, 6}
	base := WelchCompare(a, b, 0.95)
	if !close(base.T, -3.1819805153394642, 1e-12) || !closeRel(base.P, 0.03513545253601176, 1e-9) {
		t.Fatalf("unscaled: t, p = %v, %v", base.T, base.P)
	}
	// scipy 1.10: ttest_rel([1, 2, 3.5], [4, 5.5, 6]) t −10.392304845413264, p 0.009132611386275455.
	paired := PairedCompare(a, b, 0.95)
	if !close(paired.T, -10.392304845413264, 1e-12) || !closeRel(paired.P, 0.009132611386275455, 1e-9) {
		t.Fatalf("unscaled paired: t, p = %v, %v", paired.T, paired.P)
	}
	for _, s := range []float64{1e-170, 1e-300, 3e-5, 7e12, 1e170, 1e300, 2.5e307} { // 6 × 2.5e307 is above 2¹⁰²³
		sa, sb := make([]float64, len(a)), make([]float64, len(b))
		for i := range a {
			sa[i] = a[i] * s
		}
		for i := range b {
			sb[i] = b[i] * s
		}
		w := WelchCompare(sa, sb, 0.95)
		if !closeRel(w.T, base.T, 1e-12) || !closeRel(w.P, base.P, 1e-9) || !closeRel(w.DF, base.DF, 1e-12) ||
			!closeRel(w.Diff, base.Diff*s, 1e-12) || !closeRel(w.SE, base.SE*s, 1e-12) ||
			!closeRel(w.Low, base.Low*s, 1e-12) || !closeRel(w.High, base.High*s, 1e-12) {
			t.Errorf("values ×%g: %+v; want %+v scaled", s, w, base)
		}
		if tt, p := WelchTTest(sa, sb); !closeRel(tt, base.T, 1e-12) || !closeRel(p, base.P, 1e-9) {
			t.Errorf("WelchTTest ×%g: t, p = %v, %v; want %v, %v", s, tt, p, base.T, base.P)
		}
		if w := PairedCompare(sa, sb, 0.95); !closeRel(w.T, paired.T, 1e-12) || !closeRel(w.P, paired.P, 1e-9) ||
			!closeRel(w.Diff, paired.Diff*s, 1e-12) || !closeRel(w.SE, paired.SE*s, 1e-12) ||
			!closeRel(w.Low, paired.Low*s, 1e-12) || !closeRel(w.High, paired.High*s, 1e-12) {
			t.Errorf("PairedCompare ×%g: %+v; want %+v scaled", s, w, paired)
		}
	}
}

// TestMeanStdExtremes: the mean of values near the top of the float range
// (a diverged perplexity) is finite, not a sum that overflowed, and the
// std of tiny spreads is not a square that underflowed: both scale with
// the values. numpy: mean([7, 7, 7.1]) 7.033333333333334, std (ddof 1)
// 0.05773502691896237.
func TestMeanStdExtremes(t *testing.T) {
	t.Parallel()
	for _, s := range []float64{1, 1e307, 2.5e307, 1e-170, 1e-300} {
		m, sd := MeanStd([]float64{7 * s, 7 * s, 7.1 * s})
		if !closeRel(m, 7.033333333333334*s, 1e-14) || !closeRel(sd, 0.05773502691896237*s, 1e-12) {
			t.Errorf("×%g: mean %v ± %v; want %v ± %v", s, m, sd, 7.033333333333334*s, 0.05773502691896237*s)
		}
	}
	if m, sd := MeanStd([]float64{1e308, 1e308}); m != 1e308 || sd != 0 {
		t.Errorf("two 1e308: %v ± %v; want 1e308 ± 0", m, sd)
	}
}
