package report

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/attnlab/attnlab/metrics"
)

// tests reports whether the comparison tests a metric of kind k against
// the baseline and marks its best: quality metrics, cost metrics with
// TestCost, never constants.
func (c *Comparison) tests(k metrics.Kind) bool {
	switch k {
	case metrics.Quality:
		return true
	case metrics.Cost:
		return c.TestCost
	}
	return false
}

// mark sets the Best flags, compares the rows of the baseline's task with
// the baseline (difference of means, its interval, the p-value of the
// paired t-test over seeds where the rows share their seeds, of Welch's
// otherwise, of an exact permutation test where the t-test has no spread
// to test against), and adjusts the p-values of each column with Holm's method.
// Within a column, rows are comparable when they share a task and the
// column's sacreBLEU signature (rows scored with another tokenizer hold
// another metric); a row whose mean leaves runs out (Row.Partial: failed,
// not finished, no value) is never best, nor another in its stead, and no
// row is best when Query.Status selected runs other than done ones; a test
// needs 2 values on each side.
func (c *Comparison) mark() {
	tasks := map[int]bool{}
	for _, row := range c.Rows {
		if row.Task >= 0 {
			tasks[row.Task] = true
		}
	}
	c.Tasks = len(tasks)
	for j, m := range c.Metrics {
		d := metrics.Describe(m)
		tested := c.tests(d.Kind)
		scale := c.scales(j)
		// Best within each scale, when the rows of the scale differ at all.
		best, worst := map[string]float64{}, map[string]float64{}
		for i := range c.Rows {
			row := &c.Rows[i]
			cell := &row.Cells[j]
			cell.Best = false
			if math.IsNaN(cell.Mean) || scale[i] == "" {
				continue
			}
			b, ok := best[scale[i]]
			if !ok || float64(d.Direction)*(cell.Mean-b) > 0 {
				best[scale[i]] = cell.Mean
			}
			if w, ok := worst[scale[i]]; !ok || float64(d.Direction)*(cell.Mean-w) < 0 {
				worst[scale[i]] = cell.Mean
			}
		}
		// Runs not done (a --status other than done) hold values of
		// whatever step each reached: no row is best.
		if tested && d.Direction != metrics.NoDirection && c.Status == "" {
			for i := range c.Rows {
				row := &c.Rows[i]
				cell := &row.Cells[j]
				k := scale[i]
				if k != "" && !row.Partial(j) && !tied(best[k], worst[k]) && tied(cell.Mean, best[k]) {
					cell.Best = true
				}
			}
		}
		// Tests against the baseline, then Holm over the column.
		ps := make([]float64, len(c.Rows))
		for i := range c.Rows {
			cell := &c.Rows[i].Cells[j]
			nan := math.NaN()
			cell.Tested, cell.Diff, cell.Low, cell.High, cell.P, cell.PAdj = false, nan, nan, nan, nan, nan
			ps[i] = nan
			if !tested || c.Baseline < 0 || i == c.Baseline {
				continue
			}
			base := c.Rows[c.Baseline]
			if scale[i] == "" || scale[i] != scale[c.Baseline] || base.Cells[j].N == 0 {
				continue
			}
			var w metrics.Difference
			a, b, averaged, paired := pairs(c.Rows[i], base, j)
			if paired && !c.Unpaired {
				w = metrics.PairedCompare(a, b, Level)
			} else {
				// Runs of one seed are not independent: each seed is one
				// observation, the mean of its runs with a value.
				var avgA, avgB bool
				a, avgA = seedMeans(c.Rows[i].Seeds, c.Rows[i].Cells[j].Values)
				b, avgB = seedMeans(base.Seeds, base.Cells[j].Values)
				paired, averaged = false, avgA || avgB
				w = metrics.WelchCompare(a, b, Level)
			}
			if slices.ContainsFunc(a, math.IsNaN) || slices.ContainsFunc(b, math.IsNaN) {
				// A seed with +Inf and −Inf runs has no mean: no test,
				// as for any infinite value, rather than one without it.
				w = metrics.Difference{Diff: nan, SE: nan, DF: nan, T: nan, P: nan, Low: nan, High: nan}
			}
			cell.Tested, cell.Paired, cell.Averaged, cell.Exact = true, paired, averaged, false
			cell.Diff, cell.Low, cell.High, cell.P = w.Diff, w.Low, w.High, w.P
			if w.SE == 0 {
				// No spread to test a difference against: both sides
				// constant, or (paired) differences that do not vary.
				// The t would be ±Inf and its interval a point, so the
				// p-value is the exact permutation test's, without an
				// interval: 1 where Δ is 0, else the one pattern of
				// signs (paired) or split of the values (both sides
				// constant) that reaches Δ, out of all.
				cell.Low, cell.High, cell.Exact = nan, nan, true
				switch {
				case w.T == 0 || tied(cell.Mean, base.Cells[j].Mean): // Δ 0 but for float32's noise
					cell.P = 1
				case paired:
					cell.P = metrics.SignFlipP(len(a))
				default:
					cell.P = metrics.SeparatedP(len(a), len(b))
				}
			}
			ps[i] = cell.P
		}
		adj := ps
		if c.Adjusted {
			adj = metrics.Holm(ps)
		}
		for i := range c.Rows {
			c.Rows[i].Cells[j].PAdj = adj[i]
		}
	}
}

// pairs returns the values of metric j of row and base in pairs by seed,
// and whether they pair: each side's runs with a value (not NaN, not
// missing) have the same seeds, at least 2, and on each side every seed
// has as many runs as every other. Runs with the same seed draw the same
// data (tasks.Options.Seed), so their scores are paired observations. A
// seed with several runs (a row pooling settings, Query.Pool) stands for
// their mean, and then every run of that side must have a value and
// every seed must hold runs of the same settings (sameSettings): the
// seeds then average the same settings. The mean of the pairs'
// differences is the difference of the rows' means that the table shows,
// which are over seeds too (Cell.Mean). averaged says some seed stood
// for several runs. A seed without a mean (+Inf and −Inf) gives a NaN.
func pairs(row, base Row, j int) (a, b []float64, averaged, ok bool) {
	// means returns the mean value of each seed of r with a value and the
	// number of runs each stands for.
	means := func(r Row) (map[int64]float64, int, bool) {
		if len(r.Seeds) != len(r.Runs) || len(r.Seeds) != len(r.Cells[j].Values) {
			return nil, 0, false
		}
		seeds := bySeed(r.Seeds, r.Cells[j].Values)
		pooled := slices.ContainsFunc(seeds, func(s seedMean) bool { return s.runs > 1 })
		if pooled && !sameSettings(r) {
			return nil, 0, false // seeds averaging other settings
		}
		m, k := map[int64]float64{}, 0
		for _, s := range seeds {
			if pooled && s.n != s.runs {
				return nil, 0, false // a run without a value
			}
			if s.n == 0 {
				continue
			}
			if k == 0 {
				k = s.n
			}
			if s.n != k {
				return nil, 0, false
			}
			m[s.seed] = s.mean
		}
		return m, k, true
	}
	ra, ka, ok1 := means(row)
	rb, kb, ok2 := means(base)
	if !ok1 || !ok2 || len(ra) != len(rb) || len(ra) < 2 {
		return nil, nil, false, false
	}
	seeds := slices.Sorted(maps.Keys(ra))
	for _, s := range seeds {
		v, ok := rb[s]
		if !ok {
			return nil, nil, false, false
		}
		a, b = append(a, ra[s]), append(b, v)
	}
	return a, b, ka > 1 || kb > 1, true
}

// seedMean is one seed's value of a metric in a row.
type seedMean struct {
	seed int64
	// mean is the mean of the seed's runs with a value: NaN when none
	// has one, and when their values sum to NaN (+Inf and −Inf: no mean).
	mean    float64
	runs, n int // the seed's runs, and those with a value (not NaN)
}

// bySeed returns the values vals of runs with seeds seeds (same order and
// length) by seed, in seed order.
func bySeed(seeds []int64, vals []float64) []seedMean {
	at := map[int64]int{}
	var out []seedMean
	for k, v := range vals {
		i, ok := at[seeds[k]]
		if !ok {
			i = len(out)
			at[seeds[k]] = i
			out = append(out, seedMean{seed: seeds[k]})
		}
		s := &out[i]
		s.runs++
		if !math.IsNaN(v) {
			s.mean += v
			s.n++
		}
	}
	for i := range out {
		out[i].mean /= float64(out[i].n) // 0/0 is NaN
	}
	slices.SortFunc(out, func(x, y seedMean) int { return cmp.Compare(x.seed, y.seed) })
	return out
}

// seedMeans returns the values vals of runs with seeds seeds (same order),
// one per seed with a value: the mean of the seed's runs with a value, in
// seed order; NaN for a seed whose values have no mean (+Inf and −Inf).
// averaged says some seed had several values. Without seeds (a row built
// by hand: seeds nil) each value stands for itself, NaNs left out.
func seedMeans(seeds []int64, vals []float64) (means []float64, averaged bool) {
	if len(seeds) != len(vals) {
		for _, v := range vals {
			if !math.IsNaN(v) {
				means = append(means, v)
			}
		}
		return means, false
	}
	for _, s := range bySeed(seeds, vals) {
		if s.n > 0 {
			means = append(means, s.mean)
			averaged = averaged || s.n > 1
		}
	}
	return means, averaged
}

// seedStats returns the mean and sample standard deviation over seeds of
// the values vals of runs with seeds seeds (same order): each seed one
// value, the mean of its runs with a value (seedMeans). Runs of one seed
// share their data, so a seed run five times counts once, not five
// times. Both are NaN when a seed's values have no mean (+Inf and −Inf),
// the std when fewer than 2 seeds have a value.
func seedStats(seeds []int64, vals []float64) (mean, std float64) {
	means, _ := seedMeans(seeds, vals)
	if slices.ContainsFunc(means, math.IsNaN) {
		return math.NaN(), math.NaN()
	}
	return metrics.MeanStd(means)
}

// sameSettings reports whether every seed of a pooled row holds runs of
// the same settings (values of the pooled keys), as many of each: a
// failed or missing run of one setting would leave its seed's mean over
// the others, and seed means of different settings are not paired
// observations.
func sameSettings(r Row) bool {
	if len(r.settings) != len(r.Runs) {
		return false
	}
	bySeed := map[int64][]string{}
	for k, s := range r.Seeds {
		bySeed[s] = append(bySeed[s], r.settings[k])
	}
	var first []string
	for _, set := range bySeed {
		slices.Sort(set)
		if first == nil {
			first = set
		} else if !slices.Equal(set, first) {
			return false
		}
	}
	return true
}

// tied reports whether two means are equal within a part in a million,
// below what float32 arithmetic, in which the metrics are computed, tells
// apart: such rows are best together (two ALiBi rows 3e-8 apart once
// printed alike with only one starred), and a constant difference that
// small has the exact p of no difference.
func tied(a, b float64) bool {
	if a == b {
		return true
	}
	return isFinite(a) && isFinite(b) && math.Abs(a-b) <= 1e-6*max(math.Abs(a), math.Abs(b))
}

// scales returns, for column j, the identity of what each row's values
// measure: its task and, for a column with sacreBLEU signatures that
// differ between rows, its signature; "" for a row that is comparable
// with none (its runs span tasks or signatures).
func (c *Comparison) scales(j int) []string {
	sig := make([]string, len(c.Rows))
	for _, s := range c.Signatures {
		if s.Metric != c.Metrics[j] || s.Rows == nil {
			continue
		}
		for _, r := range s.Rows {
			if sig[r] != "" {
				sig[r] = "\x00mixed"
			} else {
				sig[r] = s.Line
			}
		}
	}
	out := make([]string, len(c.Rows))
	for i, row := range c.Rows {
		if row.Task >= 0 && sig[i] != "\x00mixed" {
			out[i] = fmt.Sprintf("%d|%s", row.Task, sig[i])
		}
	}
	return out
}
