package report

import "strings"

// Text is a comparison formatted as the table format writes it, cell by
// cell, for renderers outside this package (the dashboard of attnlab
// serve draws it as HTML): the same rounding per column, the same marks,
// the same notes. Row and metric indexes are those of the Comparison.
type Text struct {
	// KeyHeads head the key columns: the group keys as ShortKeys gives
	// them, then each pooled key followed by " (pooled)".
	KeyHeads []string
	// Groups holds, per row, the key columns' cells: the keys' values ("—"
	// when the runs lack the key), then each pooled key's values joined by
	// ", ".
	Groups [][]string
	// Values holds, per row and metric, "mean ± std" ("0.913 ± 0.008";
	// the mean alone with one seed with a value or in a column that never
	// varies within a row), "NaN" when every value is NaN, "—" when there is none.
	// The best mark is Cell.Best.
	Values [][]string
	// Counts holds, per row and metric, "(k/n)" when only k of the row's n
	// runs have a value, "" otherwise.
	Counts [][]string
	// Diffs and P hold, per row and metric, for the cells compared with the
	// baseline (rows TestedRows, metrics TestedMetrics), the difference of
	// means with its confidence interval ("+0.016 [-0.001, 0.034]", or "—")
	// and the p-value ("p=0.058", "p<0.001", "p=—"; adjusted unless
	// Comparison.Adjusted is false); "" for other cells.
	Diffs, P [][]string
	// TestedMetrics and TestedRows are the metrics and rows compared with
	// the baseline, in order; both empty without a baseline.
	TestedMetrics, TestedRows []int
	// Caption heads the differences: "Against attention.name=none:
	// difference of means [95 % CI, unadjusted], p (Holm)"; "" when nothing was tested.
	Caption string
	// Notes are the notes the table format writes under the tables.
	Notes []string
}

// Text returns the comparison's cells as the table format writes them
// (see Text and WriteWidth).
func (c *Comparison) Text() Text {
	var t Text
	for _, k := range ShortKeys(c.Keys) {
		t.KeyHeads = append(t.KeyHeads, k)
	}
	t.KeyHeads = append(t.KeyHeads, c.pooledHeads()...)
	fmts := make([]colFormat, len(c.Metrics))
	for j := range c.Metrics {
		fmts[j] = newColFormat(c, j)
	}
	cols, rows := c.testedMetrics(), c.testedRows()
	if len(cols) == 0 || len(rows) == 0 {
		cols, rows = nil, nil
	}
	t.TestedMetrics, t.TestedRows = cols, rows
	for i, row := range c.Rows {
		t.Groups = append(t.Groups, c.groupCells(i, false))
		vals := make([]string, len(row.Cells))
		counts := make([]string, len(row.Cells))
		for j, cell := range row.Cells {
			vals[j] = fmts[j].value(cell)
			counts[j] = strings.TrimSpace(count(cell, len(row.Runs)))
		}
		t.Values = append(t.Values, vals)
		t.Counts = append(t.Counts, counts)
		t.Diffs = append(t.Diffs, make([]string, len(row.Cells)))
		t.P = append(t.P, make([]string, len(row.Cells)))
	}
	for _, i := range rows {
		for _, j := range cols {
			cell := c.Rows[i].Cells[j]
			t.Diffs[i][j] = fmts[j].diff(cell)
			t.P[i][j] = pText(cell.PAdj) + c.testMark(cell)
		}
	}
	if len(cols) > 0 {
		t.Caption = c.caption()
	}
	t.Notes = c.notes(false)
	return t
}
