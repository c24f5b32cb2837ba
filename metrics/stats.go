package metrics

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// finite returns xs without its NaNs (the same slice when there are none).
func finite(xs []float64) []float64 {
	for i, x := range xs {
		if math.IsNaN(x) {
			out := append([]float64(nil), xs[:i]...)
			for _, y := range xs[i+1:] {
				if !math.IsNaN(y) {
					out = append(out, y)
				}
			}
			return out
		}
	}
	return xs
}

// MeanStd returns the mean and the sample standard deviation (n−1 in the
// denominator) of xs, ignoring NaN values (a failed run's missing metric):
// with no value left both are NaN, with one the std is NaN. Infinities are
// kept and make the results infinite or NaN. It computes on xs scaled by a
// power of two (exactly), so that the sum of values near the top of the
// float range (a diverged perplexity of 7e307) does not overflow and the
// squares of tiny spreads do not underflow. The mean is a float sum's,
// within a few ulps of the exact mean, subnormal values included.
func MeanStd(xs []float64) (mean, std float64) {
	xs = finite(xs)
	n := len(xs)
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	k := scaleExp(maxAbs(xs))
	for _, x := range xs {
		mean += math.Ldexp(x, -k)
	}
	mean /= float64(n)
	if n == 1 {
		return math.Ldexp(mean, k), math.NaN()
	}
	return math.Ldexp(mean, k), math.Ldexp(math.Sqrt(variance(xs, mean, k)), k)
}

// maxAbs returns the largest magnitude in xs (0 for none).
func maxAbs(xs []float64) float64 {
	m := 0.0
	for _, x := range xs {
		m = max(m, math.Abs(x))
	}
	return m
}

// scaleExp returns the k for which m·2⁻ᵏ lies in [1, 2): dividing values of
// magnitude at most m by 2ᵏ is exact and leaves their sums and squares
// room; 0 for m 0 or infinite.
func scaleExp(m float64) int {
	if m == 0 || math.IsInf(m, 0) || math.IsNaN(m) {
		return 0
	}
	_, e := math.Frexp(m) // m = f·2ᵉ, f in [0.5, 1)
	return e - 1
}

// variance is the corrected two-pass sample variance of xs·2⁻ᵏ around
// mean (of the scaled values).
func variance(xs []float64, mean float64, k int) float64 {
	ss, comp := 0.0, 0.0
	for _, x := range xs {
		d := math.Ldexp(x, -k) - mean
		ss += d * d
		comp += d
	}
	n := float64(len(xs))
	return (ss - comp*comp/n) / (n - 1)
}

// WelchTTest returns Welch's t statistic for mean(a) − mean(b) and its
// two-sided p-value, from Student's t distribution with the
// Welch–Satterthwaite degrees of freedom (unequal variances; the same as
// scipy.stats.ttest_ind(a, b, equal_var=False)). NaN values are ignored as
// in [MeanStd].
//
// Defined cases beyond the formula: with fewer than 2 values in either
// sample, t and p are NaN. A sample whose standard deviation is no larger
// than the rounding of its values, 4ε·max|x| (0.9 summed as 0.7 + 0.2 is
// 0.8999999999999999), counts as constant: against three 0.5s, scipy 1.10
// makes a t of 6·10¹⁵ of it. When both samples are constant, means within the rounding of
// the values (4ε·max|x| over both) give t = 0 and p = 1 (e.g. two sets of
// runs that all scored 1.0), and different means give t = ±Inf and p = 0.
func WelchTTest(a, b []float64) (t, p float64) {
	a, b = finite(a), finite(b)
	na, nb := float64(len(a)), float64(len(b))
	if na < 2 || nb < 2 {
		return math.NaN(), math.NaN()
	}
	a, b, _ = scaled(a, b) // t and p do not depend on the unit
	ma, mb, va, vb, tol := welchParts(a, b)
	se2 := va + vb
	if se2 == 0 {
		return constantT(ma-mb, tol)
	}
	t = (ma - mb) / math.Sqrt(se2)
	df := welchDF(va, vb, na, nb)
	if math.IsNaN(t) || math.IsNaN(df) {
		return math.NaN(), math.NaN() // an infinite value
	}
	p = 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Survival(math.Abs(t))
	return t, min(p, 1)
}

// scaled returns a and b (NaN-free) divided by the power of two e at or
// below their largest magnitude (scaleExp), exactly but for values 2¹⁰²²
// times smaller than the largest, so that their squares neither underflow
// (a spread of 1e-170 would read as none) nor overflow (values of 1e160, a
// diverged perplexity); multiply a difference or a
// standard error of the results by e to restore the unit. With an infinite
// value or only zeros, a and b are returned as they are and e is 1.
func scaled(a, b []float64) (sa, sb []float64, e float64) {
	k := scaleExp(max(maxAbs(a), maxAbs(b)))
	if k == 0 {
		return a, b, 1
	}
	div := func(xs []float64) []float64 {
		out := make([]float64, len(xs))
		for i, x := range xs {
			out[i] = math.Ldexp(x, -k)
		}
		return out
	}
	return div(a), div(b), math.Ldexp(1, k)
}

// welchParts returns the means of a and b (NaN-free, 2 values or more
// each), their squared standard errors s²/n, 0 for a sample whose
// standard deviation is within the rounding of its values, and that
// rounding over both samples, tol = 4ε·max|x| (see [WelchTTest]).
func welchParts(a, b []float64) (ma, mb, va, vb, tol float64) {
	part := func(xs []float64) (m, v, tol float64) {
		m, s := MeanStd(xs)
		tol = 4 * epsilon * maxAbs(xs)
		if s <= tol {
			s = 0
		}
		return m, s * s / float64(len(xs)), tol
	}
	ma, va, ta := part(a)
	mb, vb, tb := part(b)
	return ma, mb, va, vb, max(ta, tb)
}

// constantT is the t statistic and p-value of a difference d without
// spread: 0 and 1 where d is within the rounding tol, ±Inf and 0 else.
func constantT(d, tol float64) (t, p float64) {
	switch {
	case math.Abs(d) <= tol:
		return 0, 1
	case d > 0:
		return math.Inf(1), 0
	default:
		return math.Inf(-1), 0
	}
}

// welchDF is the Welch–Satterthwaite degrees of freedom of two samples
// of sizes na, nb whose squared standard errors are va, vb (not both 0),
// computed on va, vb scaled by their maximum so that values near the top
// of the float range (a diverged perplexity of 1e110) do not overflow
// (va+vb)² to +Inf and the ratio to NaN.
func welchDF(va, vb, na, nb float64) float64 {
	m := max(va, vb)
	a, b := va/m, vb/m
	return (a + b) * (a + b) / (a*a/(na-1) + b*b/(nb-1))
}

// Difference is the comparison of two samples' means by a t-test: see
// [WelchCompare] and [PairedCompare].
type Difference struct {
	Diff      float64 // mean(a) − mean(b)
	SE        float64 // standard error of Diff
	DF        float64 // degrees of freedom of the t distribution; +Inf when SE is 0
	T, P      float64 // t statistic and two-sided p-value
	Low, High float64 // the confidence interval for Diff at the level asked
}

// WelchCompare compares the means of a and b (NaN values ignored, as in
// [MeanStd]) as independent samples: the difference mean(a) − mean(b),
// its standard error √(s²a/na + s²b/nb), Welch's t-test, and the
// two-sided confidence interval Diff ± q·SE at the given level (0.95 for
// 95 %), q being the (1+level)/2 quantile of Student's t distribution with
// the Welch–Satterthwaite degrees of freedom
//
//	df = (s²a/na + s²b/nb)² / ((s²a/na)²/(na−1) + (s²b/nb)²/(nb−1)).
//
// With fewer than 2 values on either side everything but Diff is NaN (Diff
// too when a side has no value). When both samples are constant (zero
// variance, or within rounding: see [WelchTTest]) SE is 0, DF +Inf, the
// interval is the point [Diff, Diff] and T, P are as in [WelchTTest]. An
// infinite value makes every field but possibly Diff NaN. The values are
// scaled by a power of two first (exactly), so that the result does not
// depend on their unit: spreads of 1e-170 and values of 1e170 are tested
// as spreads of 1 and values of 1 would be. It panics if level is not in (0, 1).
func WelchCompare(a, b []float64, level float64) Difference {
	if !(level > 0 && level < 1) {
		panic("metrics: WelchCompare: confidence level must be in (0, 1)")
	}
	nan := math.NaN()
	w := Difference{Diff: nan, SE: nan, DF: nan, T: nan, P: nan, Low: nan, High: nan}
	a, b = finite(a), finite(b)
	if len(a) == 0 || len(b) == 0 {
		return w
	}
	// On a and b scaled to at most 1 in magnitude, then back by e.
	a, b, e := scaled(a, b)
	ma, _ := MeanStd(a)
	mb, _ := MeanStd(b)
	w.Diff = (ma - mb) * e
	na, nb := float64(len(a)), float64(len(b))
	if na < 2 || nb < 2 || math.IsNaN(w.Diff) || math.IsInf(w.Diff, 0) {
		return w
	}
	_, _, va, vb, _ := welchParts(a, b)
	se := math.Sqrt(va + vb)
	w.SE = se * e
	w.T, w.P = WelchTTest(a, b)
	if se == 0 {
		w.DF, w.Low, w.High = math.Inf(1), w.Diff, w.Diff
		return w
	}
	w.DF = welchDF(va, vb, na, nb)
	if math.IsNaN(w.DF) || math.IsNaN(w.SE) || math.IsInf(w.SE, 0) {
		return Difference{Diff: w.Diff, SE: nan, DF: nan, T: nan, P: nan, Low: nan, High: nan}
	}
	q := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: w.DF}.Quantile((1 + level) / 2)
	w.Low, w.High = (ma-mb-q*se)*e, (ma-mb+q*se)*e
	return w
}

// PairedCompare compares the means of a and b whose values come in pairs
// a[i], b[i] measured on the same unit — two settings trained with the
// same seed, which draws the same data: the paired t-test of the
// differences dᵢ = a[i] − b[i] (scipy.stats.ttest_rel(a, b,
// nan_policy="omit")). Diff is mean(d) = mean(a) − mean(b) over the
// pairs, SE = sd(d)/√n, DF = n − 1, and the interval is Diff ± q·SE, q
// being the (1+level)/2 quantile of Student's t distribution with n − 1
// degrees of freedom. A pair with a NaN on either side is left out.
//
// With fewer than 2 pairs everything but Diff is NaN (Diff too with
// none). When the differences do not vary — sd(d) no larger than the
// rounding of the subtractions, 4ε·max|a[i]|, |b[i]| — SE is 0, DF +Inf,
// the interval the point [Diff, Diff], and T, P are 0, 1 for a Diff within
// that rounding of 0 and ±Inf, 0 otherwise. An infinite value makes every field but possibly Diff
// NaN. It panics if a and b differ in length or level is not in (0, 1).
func PairedCompare(a, b []float64, level float64) Difference {
	if len(a) != len(b) {
		panic("metrics: PairedCompare: a and b differ in length")
	}
	if !(level > 0 && level < 1) {
		panic("metrics: PairedCompare: confidence level must be in (0, 1)")
	}
	nan := math.NaN()
	w := Difference{Diff: nan, SE: nan, DF: nan, T: nan, P: nan, Low: nan, High: nan}
	var d, pa, pb []float64
	scale, inf := 0.0, false // max|a[i]|, |b[i]|
	for i := range a {
		if math.IsNaN(a[i]) || math.IsNaN(b[i]) {
			continue
		}
		pa, pb = append(pa, a[i]), append(pb, b[i])
		d = append(d, a[i]-b[i])
		scale = max(scale, math.Abs(a[i]), math.Abs(b[i]))
		inf = inf || math.IsInf(a[i], 0) || math.IsInf(b[i], 0) || math.IsInf(a[i]-b[i], 0)
	}
	if len(d) == 0 {
		return w
	}
	if inf {
		ma, _ := MeanStd(pa)
		mb, _ := MeanStd(pb)
		w.Diff = ma - mb
		return w
	}
	// MeanStd scales: squares of differences beyond 1e154 (a diverged
	// perplexity) do not overflow the variance, nor tiny ones underflow.
	mean, sd := MeanStd(d)
	w.Diff = mean
	n := float64(len(d))
	if n < 2 {
		return w
	}
	if tol := 4 * epsilon * scale; sd <= tol {
		w.SE, w.DF, w.Low, w.High = 0, math.Inf(1), mean, mean
		w.T, w.P = constantT(mean, tol)
		return w
	}
	w.SE, w.DF = sd/math.Sqrt(n), n-1
	w.T = mean / w.SE
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: w.DF}
	w.P = min(2*t.Survival(math.Abs(w.T)), 1)
	q := t.Quantile((1 + level) / 2)
	w.Low, w.High = mean-q*w.SE, mean+q*w.SE
	return w
}

// epsilon is the float64 machine epsilon, 2⁻⁵².
const epsilon = 0x1p-52

// Holm adjusts p-values for multiple comparisons by Holm's step-down
// Bonferroni method (Holm 1979), as statsmodels' multipletests(method=
// "holm"): with the m p-values that are not NaN sorted ascending,
// p₍₁₎ ≤ … ≤ p₍ₘ₎, the adjusted p₍ᵢ₎ is max over j ≤ i of
// min(1, (m−j+1)·p₍ⱼ₎). Rejecting where the adjusted p is below α controls
// the family-wise error rate at α. NaN values stay NaN and do not count in
// m. The result is a new slice in the order of ps.
func Holm(ps []float64) []float64 {
	out := make([]float64, len(ps))
	var idx []int
	for i, p := range ps {
		out[i] = math.NaN()
		if !math.IsNaN(p) {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(x, y int) bool { return ps[idx[x]] < ps[idx[y]] })
	m, run := len(idx), 0.0
	for j, i := range idx {
		run = math.Max(run, math.Min(1, float64(m-j)*ps[i]))
		out[i] = run
	}
	return out
}

// SignFlipP is the exact two-sided p-value of the sign-flip test (the
// paired permutation test of the mean difference) of n ≥ 1 paired
// differences that all have one sign, as where a paired t-test has no
// spread to test against (Δ the same on every seed). Under the null
// hypothesis each difference's sign is + or − with equal chance, so the
// 2ⁿ sign patterns are equally likely, and only the observed one reaches
// its sum on its side: the one-sided p is 2⁻ⁿ and the two-sided p, twice
// it as scipy.stats.permutation_test reports it, is 2¹⁻ⁿ (1 for n = 1).
// It panics if n < 1.
func SignFlipP(n int) float64 {
	if n < 1 {
		panic("metrics: SignFlipP: no difference")
	}
	return math.Ldexp(1, 1-n)
}

// SeparatedP is the exact two-sided p-value of the two-sample
// permutation test of the difference in means between a sample of n ≥ 1
// equal values and a sample of m ≥ 1 equal values of another value, as
// where Welch's t-test has no spread to test against (neither side
// varies). Under the null hypothesis the C(n+m, n) ways to split the n+m
// values into samples of n and m are equally likely, and only the
// observed split reaches its difference on its side: the one-sided p is
// 1/C(n+m, n) and the two-sided p, twice it as
// scipy.stats.permutation_test reports it, min(1, 2/C(n+m, n)). It panics
// if n or m is below 1.
func SeparatedP(n, m int) float64 {
	if n < 1 || m < 1 {
		panic("metrics: SeparatedP: an empty sample")
	}
	// 1/C(n+m, n) = ∏ᵢ i/(m+i), i = 1…min(n, m), term by term: each
	// factor is below 1, so the product underflows to 0 rather than
	// overflowing.
	k, other := min(n, m), max(n, m)
	p := 2.0
	for i := 1; i <= k; i++ {
		p *= float64(i) / float64(other+i)
	}
	return min(p, 1)
}
