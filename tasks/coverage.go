package tasks

import (
	"math"

	"github.com/attnlab/attnlab/registry"
)

// Training examples take sources from valid and test. copy, reverse,
// sort and addition draw train first, i.i.d., and valid and test then
// only from the sources train left: train_size 10000 over the 1364
// strings of 1 to 5 of 4 symbols leaves about 145, so valid_size 500
// passed Validate (500 ≤ 1364) and the run failed drawing. Lint refuses
// valid and test sizes clearly beyond what train is expected to leave:
// beyond its mean plus three standard deviations, so that no size is
// refused that a run has a real chance to fill.

// left is the expected number of sources train leaves of a group, and
// (an upper bound of) its variance.
type left struct{ mean, variance float64 }

// leftAfter returns what t draws leave of a group of n equally likely
// sources that each draw picks with probability k (a length of K:
// 1/K): the mean n·(1-k/n)^t exactly; the variance bounded by the mean
// (the untaken sources, given how many draws the group had, are
// negatively correlated) plus what the binomial number of the group's
// draws adds.
func leftAfter(n, k float64, t int) left {
	mean := n * math.Exp(float64(t)*math.Log1p(-k/n))
	slope := mean / n // what one more draw of the group takes, about
	return left{mean, mean + slope*slope*float64(t)*k*(1-k)}
}

func (l *left) add(m left) { l.mean, l.variance = l.mean+m.mean, l.variance+m.variance }

// plentyLeft bounds the sources counted one by one: a length or digit
// count with more is taken to leave more than any split can ask.
const plentyLeft = 1e15

// clearlyBeyond reports whether want exceeds what l says is left by more
// than three standard deviations.
func clearlyBeyond(want int, l left) bool {
	return float64(want) > l.mean+3*math.Sqrt(l.variance)
}

// lintLeft refuses valid and test sizes beyond what train leaves of the
// sources of their ranges (lo to hi: train and valid; tlo to thi: test);
// left(lo, hi) is the expected number of sources of lengths (digits) lo
// to hi that train leaves, and what(lo, hi) words those sources.
func lintLeft(validSize, testSize, trainSize, lo, hi, tlo, thi int, leftOf func(lo, hi int) left, what func(lo, hi int) string) error {
	for _, c := range []struct {
		key, wanted  string
		want, lo, hi int
		others       int // what the other split takes of the range
	}{
		{"valid_size", "", validSize, lo, hi, 0},
		{"test_size", "", testSize, tlo, thi, 0},
		{"test_size", "valid_size + test_size = ", validSize + testSize, min(lo, tlo), max(hi, thi), validSize},
	} {
		l := leftOf(c.lo, c.hi)
		if c.want == 0 || !clearlyBeyond(c.want, l) {
			continue
		}
		return registry.Invalid(c.key, "%s%d distinct sources wanted, but train_size %d draws (i.i.d., taken first) are expected to leave only about %d of the %s to valid and test: lower %s to at most %d, or train_size, or widen the range",
			c.wanted, c.want, trainSize, int(l.mean), what(c.lo, c.hi), c.key, max(int(l.mean)-c.others, 0))
	}
	return nil
}
