package report

import (
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
// adjusts the p-values of each column with Holm's method.
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
		// Best within each task, when the rows of the task differ at all.
		best, worst := map[int]float64{}, map[int]float64{}
		for i := range c.Rows {
			row := &c.Rows[i]
			cell := &row.Cells[j]
			cell.Best = false
			if math.IsNaN(cell.Mean) || row.Task < 0 {
				continue
			}
			b, ok := best[row.Task]
			if !ok || float64(d.Direction)*(cell.Mean-b) > 0 {
				best[row.Task] = cell.Mean
			}
			if w, ok := worst[row.Task]; !ok || float64(d.Direction)*(cell.Mean-w) < 0 {
				worst[row.Task] = cell.Mean
			}
		}
		if tested && d.Direction != metrics.NoDirection {
			for i := range c.Rows {
				row := &c.Rows[i]
				if cell := &row.Cells[j]; row.Task >= 0 && best[row.Task] != worst[row.Task] && cell.Mean == best[row.Task] {
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
			if c.Rows[i].Task < 0 || c.Rows[i].Task != base.Task || base.Cells[j].N == 0 {
				continue
			}
			w := metrics.WelchCompare(cell.Values, base.Cells[j].Values, Level)
			cell.Tested = true
			cell.Diff, cell.Low, cell.High, cell.P = w.Diff, w.Low, w.High, w.P
			ps[i] = w.P
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
