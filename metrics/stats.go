package metrics

import (
	"math"

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
// kept and make the results infinite or NaN.
func MeanStd(xs []float64) (mean, std float64) {
	xs = finite(xs)
	n := len(xs)
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	for _, x := range xs {
		mean += x
	}
	mean /= float64(n)
	if n == 1 {
		return mean, math.NaN()
	}
	return mean, math.Sqrt(variance(xs, mean))
}

// variance is the corrected two-pass sample variance of xs around mean.
func variance(xs []float64, mean float64) float64 {
	ss, comp := 0.0, 0.0
	for _, x := range xs {
		d := x - mean
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
// sample, t and p are NaN. When both samples have zero variance, identical
// means give t = 0 and p = 1 (e.g. two sets of runs that all scored 1.0),
// and different means give t = ±Inf and p = 0.
func WelchTTest(a, b []float64) (t, p float64) {
	a, b = finite(a), finite(b)
	na, nb := float64(len(a)), float64(len(b))
	if na < 2 || nb < 2 {
		return math.NaN(), math.NaN()
	}
	ma, sa := MeanStd(a)
	mb, sb := MeanStd(b)
	va, vb := sa*sa/na, sb*sb/nb
	se2 := va + vb
	if se2 == 0 {
		switch {
		case ma == mb:
			return 0, 1
		case ma > mb:
			return math.Inf(1), 0
		default:
			return math.Inf(-1), 0
		}
	}
	t = (ma - mb) / math.Sqrt(se2)
	df := se2 * se2 / (va*va/(na-1) + vb*vb/(nb-1))
	if math.IsNaN(t) || math.IsNaN(df) {
		return math.NaN(), math.NaN() // an infinite value
	}
	p = 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Survival(math.Abs(t))
	return t, min(p, 1)
}
