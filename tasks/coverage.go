package tasks

import (
	"math"
	"strings"

	"github.com/attnlab/attnlab/registry"
)

// Training examples take sources from valid and test. copy, reverse,
// sort and addition draw train first, i.i.d., and valid and test then
// only from the sources train left: train_size 10000 over the 1364
// strings of 1 to 5 of 4 symbols leaves about 145, so valid_size 500
// passed Validate (500 ≤ 1364) and the run failed drawing. A split then
// has a budget of draws (drawSplits: 50·size + 10000), which finds only
// part of what train left when each leftover is rare (about 230 of the
// 370 sums train_size 100000 leaves of 2-digit operands). Lint refuses
// valid and test sizes clearly beyond what the budget is expected to
// find: beyond its mean plus three standard deviations, so that no size
// is refused that a run has a real chance to fill; it suggests the mean
// less three standard deviations, a size nearly every run fills.

// left is the expected number of sources train leaves of a group, and
// (an upper bound of) its variance; groups keeps each group's part with
// the probability q that one draw of the split asking for them picks one
// given source of the group (at).
type left struct {
	mean, variance float64
	groups         []leftGroup
}

type leftGroup struct{ mean, variance, q float64 }

// leftAfter returns what t draws leave of a group of n equally likely
// sources that each draw picks with probability k (a length of K:
// 1/K): the mean n·(1-k/n)^t exactly; the variance bounded by the mean
// (the untaken sources, given how many draws the group had, are
// negatively correlated) plus what the binomial number of the group's
// draws adds.
func leftAfter(n, k float64, t int) left {
	mean := n * math.Exp(float64(t)*math.Log1p(-k/n))
	slope := mean / n // what one more draw of the group takes, about
	return left{mean: mean, variance: mean + slope*slope*float64(t)*k*(1-k)}
}

// at records l as one group whose sources a draw of the split picks with
// probability q each.
func (l left) at(q float64) left {
	l.groups = []leftGroup{{l.mean, l.variance, q}}
	return l
}

func (l *left) add(m left) {
	l.mean, l.variance = l.mean+m.mean, l.variance+m.variance
	l.groups = append(l.groups, m.groups...)
}

// found returns how many distinct sources of l a split's draws meet within
// budget draws (drawSplits gives each split 50·size + 10000), of what
// remains after others of them were taken (a share of each group): each
// source left is met with probability 1−(1−q)^budget; the variance adds
// that of the sources left.
func (l left) found(budget, others int) left {
	keep := 1.0
	if others > 0 && l.mean > 0 {
		keep = max(0, 1-float64(others)/l.mean)
	}
	var out left
	for _, g := range l.groups {
		p := -math.Expm1(float64(budget) * math.Log1p(-g.q))
		m := g.mean * keep
		out.mean += m * p
		// others is a fixed count: what is left of train's leftover
		// varies as much as the leftover itself.
		out.variance += g.variance*p*p + m*p*(1-p)
	}
	return out
}

// splitBudget is the draws drawSplits gives a split of size n.
func splitBudget(n int) int { return 50*n + 10000 }

// plentyLeft bounds the sources counted one by one: a length or digit
// count with more is taken to leave more than any split can ask.
const plentyLeft = 1e15

// clearlyBeyond reports whether want exceeds what l says is found by more
// than three standard deviations.
func clearlyBeyond(want int, l left) bool {
	return float64(want) > l.mean+3*math.Sqrt(l.variance)
}

// surely reports whether want is within what l says is found less three
// standard deviations: a size the split fills in nearly every run.
func surely(want int, l left) bool {
	return float64(want) <= l.mean-3*math.Sqrt(l.variance)
}

// lintLeft refuses valid and test sizes beyond what their draws are
// expected to find of what train leaves of the sources of their ranges
// (lo to hi: train and valid; tlo to thi: test), within drawSplits'
// budget of draws; left(lo, hi) is what train leaves of the sources of
// lengths (digits) lo to hi, with each group's probability under a draw
// of that range, and what(lo, hi) words those sources. It refuses only
// sizes clearly beyond the expected finds (a run may still build below),
// and suggests a size that builds in nearly every run.
func lintLeft(validSize, testSize, trainSize, lo, hi, tlo, thi int, leftOf func(lo, hi int) left, what func(lo, hi int) string) error {
	for _, c := range []struct {
		key, wanted  string
		want, lo, hi int
		others       int // what the other split takes of the range first
		own          int // the split's own size, which sets its budget
	}{
		{"valid_size", "", validSize, lo, hi, 0, validSize},
		{"test_size", "", testSize, tlo, thi, 0, testSize},
		{"test_size", "valid_size + test_size = ", validSize + testSize, min(lo, tlo), max(hi, thi), validSize, testSize},
	} {
		l := leftOf(c.lo, c.hi)
		if c.own == 0 || math.IsInf(l.mean, 1) || !clearlyBeyond(c.own, l.found(splitBudget(c.own), c.others)) {
			continue
		}
		// The largest size that its budget fills in nearly every run.
		ok, bad := 0, c.own
		for bad-ok > 1 {
			if m := (ok + bad) / 2; surely(m, l.found(splitBudget(m), c.others)) {
				ok = m
			} else {
				bad = m
			}
		}
		found := l.found(splitBudget(c.own), c.others)
		return registry.Invalid(c.key, "%s%d distinct sources wanted, but train_size %d draws leave about %d of the %s, and %s's %d draws find about %d: lower %s to at most %d, or train_size, or widen the range",
			c.wanted, c.want, trainSize, int(l.mean), what(c.lo, c.hi), strings.TrimSuffix(c.key, "_size"), splitBudget(c.own), int(found.mean), c.key, ok)
	}
	return nil
}
