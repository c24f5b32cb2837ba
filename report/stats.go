package report

import (
	"fmt"
	"math"

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
// the baseline (difference of means, its interval, Welch's p-value), and
// adjusts the p-values of each column with Holm's method. Within a column,
// rows are comparable when they share a task and the column's sacreBLEU
// signature (rows scored with another tokenizer hold another metric); a
// row whose mean leaves runs out (Row.Partial: failed, not finished, no
// value) is never best, nor another in its stead; a test needs 2 values on
// each side and some variance on one of them.
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
		if tested && d.Direction != metrics.NoDirection {
			for i := range c.Rows {
				row := &c.Rows[i]
				cell := &row.Cells[j]
				k := scale[i]
				if k != "" && !row.Partial(j) && !same(best[k], worst[k]) && same(cell.Mean, best[k]) {
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
			w := metrics.WelchCompare(cell.Values, base.Cells[j].Values, Level)
			cell.Tested = true
			cell.Diff, cell.Low, cell.High, cell.P = w.Diff, w.Low, w.High, w.P
			if w.SE == 0 {
				// Both sides constant: no spread to test a difference
				// against (Welch's t would be ±Inf, p 0, the interval a
				// point). Not a test.
				cell.Low, cell.High, cell.P = nan, nan, nan
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

// same reports whether two means are equal but for rounding: exact-match
// rates of equal totals summed in another order differ in the last bit.
func same(a, b float64) bool {
	if a == b {
		return true
	}
	return isFinite(a) && isFinite(b) && math.Abs(a-b) <= 1e-12*max(math.Abs(a), math.Abs(b))
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
