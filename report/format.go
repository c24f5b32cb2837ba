package report

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/attnlab/attnlab/internal/term"
	"github.com/attnlab/attnlab/metrics"
	"github.com/attnlab/attnlab/store"
)

// Formats lists the formats Write accepts.
var Formats = []string{"table", "markdown", "latex", "csv", "json"}

// Write renders the comparison in one of Formats, tables laid out for
// term.DefaultWidth columns: see WriteWidth.
func (c *Comparison) Write(w io.Writer, format string) error {
	return c.WriteWidth(w, format, 0)
}

// WriteWidth renders the comparison in one of Formats. Every format
// carries the same rows and numbers, and states the same things (the
// notes: what the marks mean, what was tested and how, what was pooled):
//
//   - "table", for the terminal, fitted to width columns (0 means
//     term.DefaultWidth) by term.Table: first the means, one column per
//     group key (headed by ShortKeys; a pooled key's column lists the
//     row's values), "n" (runs in the row), and one column per metric
//     holding "mean ± std" over the row's seeds (Cell.Mean), with decimals chosen per
//     column from its magnitude (0 decimals and thousands separators from
//     1000 up; 1 decimal for a 0–100 score such as BLEU). The best row of a metric within its task is marked with a
//     trailing *. A cell where fewer runs than n have a value ends with
//     "(2/3)"; a cell with only NaN values reads "NaN", one without any
//     value "—". A std that the decimals would round to 0 keeps digits
//     until it shows ("0.900 ± 0.0003"): "± 0" is no spread, as the tests
//     take it. "± std" is left out when a cell has one seed with a value, and for a
//     whole column whose value never varies within a row (model/params).
//     The baseline row's last key ends with "(baseline)". With a baseline,
//     a second table follows with, for each tested metric, the difference
//     of means to the baseline with its confidence interval,
//     "+0.598 [0.430, 0.766]", and under it the p-value, "p=0.002" (or
//     "p<0.001", "p=—" when undefined), Holm-adjusted unless
//     Comparison.Adjusted is false. Metric heads are split over two lines
//     at their last '/'. When the columns do not fit, they continue in a
//     block below, the key columns repeated. Notes under the tables,
//     wrapped to width, explain the marks, the tests and their adjustment,
//     the metrics not tested and why, the NaN values, the pooled keys,
//     the sort order and the sacreBLEU signatures of the BLEU and chrF
//     columns (Comparison.Signatures).
//   - "markdown": the same two tables as GitHub tables (tablewriter's
//     markdown renderer), full keys in the heads, best values in bold, the
//     differences and p-values in columns of their own, '|' escaped; then
//     the notes.
//   - "latex": the same two tables as booktabs tabulars for a paper
//     (writeLatex): short keys in the heads, numbers in math mode, best
//     values in bold, LaTeX's special characters escaped, each metric of
//     the table of differences heading its Δ and p columns (\multicolumn,
//     \cmidrule); the notes follow as comments.
//   - "csv": one header line, then one line per row: the keys' values,
//     each pooled key's values joined by "; ", n, failed, unfinished (the
//     row's runs, failed runs and runs not finished), baseline (true/false),
//     then for each metric <m>_mean, <m>_std, <m>_n, <m>_nan, <m>_inf
//     and <m>_best (mean and std over seeds as Cell.Mean says; n counts
//     runs, so a row with several runs of a seed has fewer seeds than n:
//     its JSON lists the seeds; nan counts the runs whose value is NaN,
//     and inf those whose loss or perplexity is ±Inf, Cell.Infinite, which
//     --status shows of a failed run: both left out of mean and std, and
//     together Cell.NaN), and with a baseline, for each metric that is tested, <m>_diff,
//     <m>_ci_low, <m>_ci_high, <m>_p, <m>_p_adj, <m>_test ("paired",
//     "welch", "sign-flip" or "permutation": see Cell.Paired and
//     Cell.Exact; empty where not tested) and <m>_adjustment ("holm", or
//     "none" with Comparison.Adjusted false, when <m>_p_adj is <m>_p;
//     empty where there is no p-value). Numbers are in the
//     shortest form that reads back exactly (infinities as inf and -inf);
//     a value that does not exist (NaN) is an empty field, as pandas
//     reads a missing value. The notes are not part of the CSV.
//   - "json": one object (see MarshalJSON) with every field, per-run values
//     and the notes included.
//
// Write returns the writer's error, or an error naming the known formats.
func (c *Comparison) WriteWidth(w io.Writer, format string, width int) error {
	if width <= 0 {
		width = term.DefaultWidth
	}
	switch format {
	case "table", "":
		return c.writeTable(w, width)
	case "markdown", "md":
		return c.writeMarkdown(w)
	case "latex", "tex":
		return c.writeLatex(w)
	case "csv":
		return c.writeCSV(w)
	case "json":
		return c.writeJSON(w)
	}
	return fmt.Errorf("report: unknown format %q (known: %s)", format, strings.Join(Formats, ", "))
}

// ShortKeys returns the keys as the table heads them: each param key
// shortened to its last two dotted parts ("model.attention.name" →
// "attention.name"), or more when that would be ambiguous among keys;
// keys of one or two parts are kept.
func ShortKeys(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		parts := strings.Split(k, ".")
		out[i] = k
		for n := 2; n < len(parts); n++ {
			suffix := strings.Join(parts[len(parts)-n:], ".")
			unique := true
			for j, other := range keys {
				if j != i && (other == suffix || strings.HasSuffix(other, "."+suffix)) {
					unique = false
					break
				}
			}
			if unique {
				out[i] = suffix
				break
			}
		}
	}
	return out
}

// displayGroup shows a group value in a table: a missing key as "—".
func displayGroup(v string) string {
	if v == "" {
		return "—"
	}
	return v
}

// colFormat is how one metric column prints its numbers.
type colFormat struct {
	decimals int  // digits after the point; -1: three significant digits (below 0.01 or from 1e9)
	hideStd  bool // the value never varies within a row
	count    bool // integers (train/steps, model/params): never widened
	// more is the extra digits mean ± std takes (not the differences), so
	// that a best mean never reads like one that is not best: more
	// decimals, or more significant digits where decimals is -1.
	more int
}

func newColFormat(c *Comparison, j int) colFormat {
	maxAbs := 0.0
	hide, anyStd := true, false
	for _, row := range c.Rows {
		cell := row.Cells[j]
		if isFinite(cell.Mean) {
			maxAbs = math.Max(maxAbs, math.Abs(cell.Mean))
		}
		if cell.N >= 2 && !math.IsNaN(cell.Std) {
			anyStd = true
			if cell.Std != 0 {
				hide = false
			}
		}
	}
	f := colFormat{hideStd: hide && anyStd}
	d := metrics.Describe(c.Metrics[j])
	scale := d.Scale
	// A count (train/steps, model/params): integers stay integers.
	counts := d.Kind != metrics.Quality
	for _, row := range c.Rows {
		m := row.Cells[j].Mean
		counts = counts && (math.IsNaN(m) || m == math.Trunc(m))
		for _, v := range row.Cells[j].Values {
			counts = counts && (math.IsNaN(v) || v == math.Trunc(v))
		}
	}
	switch {
	case counts && maxAbs < 1e9:
		f.decimals, f.count = 0, true // 20 ± 0 steps, not 20.000 ± 0.000
	case scale.Max == 100 && maxAbs < 1000:
		f.decimals = 1 // a 0–100 score (BLEU, chrF): 69.1 ± 2.8
	case maxAbs >= 1e9:
		f.decimals = -1 // a diverged loss: 6.85e+31, not 32 digits
	case maxAbs >= 1000:
		f.decimals = 0
	case maxAbs >= 100:
		f.decimals = 1
	case maxAbs > 0 && maxAbs < 0.01:
		f.decimals = -1
	default:
		f.decimals = 3
	}
	// A best mean must not read like a mean that is not best (BLEU 99.98
	// starred beside 100.0): mean ± std take digits, up to 3 more, until
	// they differ.
	for f.more < 3 && f.bestLooksTied(c, j) {
		f.more++
	}
	return f
}

// forMean returns the format of mean ± std of a cell whose mean is m: the
// column's with its more digits, and with the decimals that give m two
// significant digits where the column's give it fewer, so that no mean is
// rounded away by others of another size (2.8 ± 0.0 beside a diverged
// run's 48,055 once read 3 ± 0; 0.00012 beside 0.298 read 0.000); from
// eight decimals on, three significant digits.
func (f colFormat) forMean(m float64) colFormat {
	g := f
	if g.decimals < 0 {
		return g
	}
	g.decimals += g.more
	if g.count || m == 0 || !isFinite(m) {
		return g
	}
	if need := 1 - int(math.Floor(math.Log10(math.Abs(m)))); need > g.decimals {
		g.decimals = need
		if need > 8 {
			g.decimals = -1
		}
	}
	return g
}

// meanText is how a cell with mean m writes it.
func (f colFormat) meanText(m float64) string { return f.forMean(m).num(m) }

// bestLooksTied reports whether a starred mean of column j prints as a
// mean that is neither starred nor equal to it.
func (f colFormat) bestLooksTied(c *Comparison, j int) bool {
	for _, a := range c.Rows {
		if !a.Cells[j].Best {
			continue
		}
		for _, b := range c.Rows {
			x, y := a.Cells[j].Mean, b.Cells[j].Mean
			if !b.Cells[j].Best && isFinite(y) && !tied(x, y) && f.meanText(x) == f.meanText(y) {
				return true
			}
		}
	}
	return false
}

// nonFinite returns how tables and show write NaN and the infinities
// ("NaN", "+Inf", "-Inf"); ok is false for a finite x.
func nonFinite(x float64) (s string, ok bool) {
	switch {
	case math.IsNaN(x):
		return "NaN", true
	case math.IsInf(x, 1):
		return "+Inf", true
	case math.IsInf(x, -1):
		return "-Inf", true
	}
	return "", false
}

// FullFloat writes x in the shortest form that reads back exactly, and NaN
// and the infinities as nonFinite does: the raw value the dashboard shows
// beside a rounded one, as compare --format json holds it.
func FullFloat(x float64) string {
	if s, ok := nonFinite(x); ok {
		return s
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

// FormatNumber formats one metric value outside a table (attnlab show's
// summaries): whole numbers without decimals, values of 1000 or more with
// one decimal, others with four; NaN and infinities as tables write them.
func FormatNumber(x float64) string {
	if s, ok := nonFinite(x); ok {
		return s
	}
	switch {
	case x == math.Trunc(x) && math.Abs(x) < 1e15:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case math.Abs(x) >= 1e18: // a diverged loss: 6.8547e+31, not 32 digits
		return strconv.FormatFloat(x, 'g', 5, 64)
	case math.Abs(x) >= 1000:
		return strconv.FormatFloat(x, 'f', 1, 64)
	}
	return strconv.FormatFloat(x, 'f', 4, 64)
}

// FormatMetric formats the value x of metric key outside a table (attnlab
// show's summaries, a run's page): as FormatNumber, except that a quality
// metric or a fraction or score of a bounded scale (metrics.Describe: 0–1,
// 0–100) keeps its decimals when it is whole, so that an exact match of 0
// or 1 in one length bucket reads 0.0000 and 1.0000 beside 0.0370 in the
// next, as a score and not as a count. Counts and other costs and
// constants of whole value stay whole (27 examples, 60 steps, 1 thread),
// as does a metric Describe does not know.
func FormatMetric(key string, x float64) string {
	d := metrics.Describe(key)
	score := d.Known && (d.Kind == metrics.Quality || !math.IsInf(d.Scale.Max, 1))
	if score && isFinite(x) && x == math.Trunc(x) && math.Abs(x) < 1000 {
		return strconv.FormatFloat(x, 'f', 4, 64)
	}
	return FormatNumber(x)
}

// num formats x for a table cell.
func (f colFormat) num(x float64) string {
	if s, ok := nonFinite(x); ok {
		return s
	}
	switch {
	case f.decimals < 0:
		return strconv.FormatFloat(x, 'g', 3+f.more, 64)
	case f.decimals == 0:
		return term.Thousands(strconv.FormatFloat(x, 'f', 0, 64))
	}
	return strconv.FormatFloat(x, 'f', f.decimals, 64)
}

// signed formats x with its sign, "+0.598" or "-0.031".
func (f colFormat) signed(x float64) string {
	s := f.num(x)
	if isFinite(x) && !strings.HasPrefix(s, "-") {
		s = "+" + s
	}
	return s
}

// value returns the cell's "mean ± std" text (no best mark, no count).
func (f colFormat) value(cell Cell) string {
	if cell.N == 0 {
		if cell.NaN > 0 {
			return "NaN"
		}
		return "—"
	}
	g := f.forMean(cell.Mean)
	s := g.num(cell.Mean)
	if cell.N >= 2 && !math.IsNaN(cell.Std) && !f.hideStd && isFinite(cell.Mean) {
		s += " ± " + g.spread(cell.Std, cell.Mean)
	}
	return s
}

// spread formats the standard deviation sd of a cell whose mean is m as
// num does, but an sd that num would round to zero keeps digits until
// its first significant one: "100,000,000 ± 0" once stood for an sd of
// 0.1 beside a t-test, and "± 0" must mean what the tests take for no
// spread (sd 0, or within the rounding of the values, 4ε·|m|, which
// stays "0").
func (f colFormat) spread(sd, m float64) string {
	s := f.num(sd)
	if f.decimals < 0 || !isFinite(sd) || sd <= 4*0x1p-52*math.Abs(m) || strings.Trim(s, "0.,") != "" {
		return s
	}
	for d := max(f.decimals+1, 1); d <= 12; d++ {
		if t := strconv.FormatFloat(sd, 'f', d, 64); strings.Trim(t, "0.") != "" {
			return t
		}
	}
	return strconv.FormatFloat(sd, 'g', 1, 64)
}

// diff returns the cell's difference to the baseline with its interval,
// "+0.598 [0.430, 0.766]"; "—" when there is no difference, and the
// difference alone when there is no interval.
//
// Without an interval the difference takes the column's decimals (without
// the best mean's more), widened as a mean's are to two significant digits
// of it. With one, the difference and its bounds take the column's
// decimals widened to the first significant digit of the interval's half
// width, and no further: the interval says how precise the difference is,
// so a BLEU column writes +0.3 [-3.7, 4.4], not +0.35 [-3.71, 4.41]
// (the difference and a bound still keep the digits that show their sign:
// +0.04 [-0.5, 0.6]).
func (f colFormat) diff(cell Cell) string {
	if math.IsNaN(cell.Diff) {
		return "—"
	}
	f.more = 0
	half := (cell.High - cell.Low) / 2
	if math.IsNaN(cell.Low) || f.decimals < 0 || f.count || !isFinite(half) || half <= 0 {
		f = f.forMean(cell.Diff)
	} else if need := -int(math.Floor(math.Log10(half))); need > f.decimals {
		f.decimals = need
		if need > 8 {
			f.decimals = -1
		}
	}
	if math.IsNaN(cell.Low) {
		return f.signed(cell.Diff)
	}
	s := f.bound(cell.Diff)
	if isFinite(cell.Diff) && !strings.HasPrefix(s, "-") {
		s = "+" + s
	}
	return s + " [" + f.bound(cell.Low) + ", " + f.bound(cell.High) + "]"
}

// bound formats a confidence bound (or the difference beside it) as num
// does, but a value that num would round to zero keeps digits until it
// shows its sign: [0.0005, 0.462] excludes 0 (the test says so too),
// [0.000, 0.462] would seem to touch it; in a whole-number column a
// difference of −0.3 reads -0.3 [-300, 300], not -0 [-300, 300].
func (f colFormat) bound(x float64) string {
	s := f.num(x)
	if f.decimals < 0 || x == 0 || !isFinite(x) || strings.Trim(s, "-0.,") != "" {
		return s
	}
	for d := f.decimals + 1; d <= 12; d++ {
		if t := strconv.FormatFloat(x, 'f', d, 64); strings.Trim(t, "-0.") != "" {
			return t
		}
	}
	return s
}

// count returns " (k/n)" when only k of the row's n runs have a value
// (0 < k < n), and "" otherwise.
func count(cell Cell, runs int) string {
	if cell.N >= runs || cell.N == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d/%d)", cell.N, runs)
}

// formatP formats a p-value: "0.031", "<0.001", "—" when undefined. A
// p-value just under a usual threshold (0.01, 0.05, 0.1) keeps the digits
// that show it is under: 0.0496 is "0.0496", not "0.050".
func formatP(p float64) string {
	switch {
	case math.IsNaN(p):
		return "—"
	case p < 0.001:
		return "<0.001"
	}
	for digits := 3; ; digits++ {
		s := strconv.FormatFloat(p, 'f', digits, 64)
		r, _ := strconv.ParseFloat(s, 64)
		crossed := false
		for _, th := range []float64{0.01, 0.05, 0.1} {
			crossed = crossed || (p < th && r >= th)
		}
		if !crossed || digits == 6 {
			return s
		}
	}
}

// pText is the p line of a table cell.
func pText(p float64) string {
	s := formatP(p)
	if strings.HasPrefix(s, "<") {
		return "p" + s
	}
	return "p=" + s
}

// Marks after a p-value whose test is not the one the table's note names
// first: Welch's in a table that pairs elsewhere, and an exact
// permutation test (no spread for a t-test). The notes explain each.
const (
	welchMark = "†"
	exactMark = "‡"
)

// testMark returns the mark of a tested cell's p-value (welchMark,
// exactMark) or "".
func (c *Comparison) testMark(cell Cell) string {
	switch {
	case !cell.Tested || math.IsNaN(cell.P):
		return ""
	case cell.Exact:
		return exactMark
	case !cell.Paired && c.pairs():
		return welchMark
	}
	return ""
}

// pairs reports whether some cell was compared by the paired t-test (not
// by the exact sign-flip test, which the ‡ note names).
func (c *Comparison) pairs() bool {
	for _, row := range c.Rows {
		for _, cell := range row.Cells {
			if cell.Tested && cell.Paired && !cell.Exact {
				return true
			}
		}
	}
	return false
}

// splitMetric heads a metric column on two lines, split at the last '/'.
func splitMetric(m string) string {
	if i := strings.LastIndexByte(m, '/'); i > 0 && i < len(m)-1 {
		return m[:i+1] + "\n" + m[i+1:]
	}
	return m
}

// testedMetrics returns the indexes of the metrics compared with the
// baseline: none without a baseline.
func (c *Comparison) testedMetrics() []int {
	if c.Baseline < 0 {
		return nil
	}
	var out []int
	for j, m := range c.Metrics {
		if c.tests(metrics.Describe(m).Kind) && c.Rows[c.Baseline].Cells[j].N > 0 {
			out = append(out, j)
		}
	}
	return out
}

// testedRows returns the indexes of the rows compared with the baseline.
func (c *Comparison) testedRows() []int {
	if c.Baseline < 0 {
		return nil
	}
	var out []int
	for i, row := range c.Rows {
		if i != c.Baseline && row.Task >= 0 && row.Task == c.Rows[c.Baseline].Task {
			out = append(out, i)
		}
	}
	return out
}

// groupCells returns the key columns' cells of row i: the keys' values,
// the pooled keys' values, and with mark, "(baseline)" after the last key
// of the baseline row.
func (c *Comparison) groupCells(i int, mark bool) []string {
	row := c.Rows[i]
	var cells []string
	for k := range c.Keys {
		cells = append(cells, displayGroup(row.Group[k]))
	}
	if mark && i == c.Baseline && len(cells) > 0 {
		cells[len(cells)-1] += " (baseline)"
	}
	for _, k := range c.pooledColumns() {
		cells = append(cells, strings.Join(row.Pooled[k], ", "))
	}
	return cells
}

// pooledHead heads the column of a pooled key.
func pooledHead(k string) string { return k + " (pooled)" }

// pooledColumns returns the indices in Pooled of the keys that tables show
// as columns: all but PooledAlong.
func (c *Comparison) pooledColumns() []int {
	var out []int
	for k, key := range c.Pooled {
		if !slices.Contains(c.PooledAlong, key) {
			out = append(out, k)
		}
	}
	return out
}

// pooledHeads returns the heads of the pooled columns, short keys as
// ShortKeys makes them from every pooled key.
func (c *Comparison) pooledHeads() []string {
	short := ShortKeys(c.Pooled)
	var out []string
	for _, k := range c.pooledColumns() {
		out = append(out, pooledHead(short[k]))
	}
	return out
}

func (c *Comparison) writeTable(w io.Writer, width int) error {
	fmts := make([]colFormat, len(c.Metrics))
	for j := range c.Metrics {
		fmts[j] = newColFormat(c, j)
	}
	keyCols := func() []term.Column {
		var cols []term.Column
		for _, k := range ShortKeys(c.Keys) {
			cols = append(cols, term.Column{Head: k, Key: true})
		}
		for _, h := range c.pooledHeads() {
			cols = append(cols, term.Column{Head: h, Key: true})
		}
		return cols
	}
	means := &term.Table{Columns: append(keyCols(), term.Column{Head: "n", Right: true, Key: true}), Rule: true}
	for _, m := range c.Metrics {
		means.Columns = append(means.Columns, term.Column{Head: splitMetric(m), Right: true})
	}
	for i, row := range c.Rows {
		cells := append(c.groupCells(i, true), c.nText(i))
		for j, cell := range row.Cells {
			s := fmts[j].value(cell)
			k := count(cell, len(row.Runs))
			switch {
			case cell.Best:
				s += "*"
			case k == "":
				s += " " // keeps the digits aligned with starred cells
			}
			cells = append(cells, s+k)
		}
		means.Rows = append(means.Rows, cells)
	}
	if _, err := means.Render(w, width); err != nil {
		return err
	}
	if cols, rows := c.testedMetrics(), c.testedRows(); len(cols) > 0 && len(rows) > 0 {
		diffs := &term.Table{Columns: keyCols(), Rule: true, Spaced: true}
		for _, j := range cols {
			diffs.Columns = append(diffs.Columns, term.Column{Head: splitMetric(c.Metrics[j]), Right: true})
		}
		for _, i := range rows {
			cells := c.groupCells(i, false)
			for _, j := range cols {
				cell := c.Rows[i].Cells[j]
				cells = append(cells, fmts[j].diff(cell)+"\n"+pText(cell.PAdj)+c.testMark(cell))
			}
			diffs.Rows = append(diffs.Rows, cells)
		}
		if _, err := fmt.Fprintf(w, "\n%s\n", wrap(c.caption(), width)); err != nil {
			return err
		}
		if _, err := diffs.Render(w, width); err != nil {
			return err
		}
	}
	if _, err := fmt.Fprintln(w); err != nil {
		return err
	}
	for _, note := range c.notes(false) {
		if _, err := fmt.Fprintln(w, wrap(note, width)); err != nil {
			return err
		}
	}
	return nil
}

// caption heads the table of differences to the baseline. With Holm's
// adjustment it says that the intervals are not adjusted: an interval
// that excludes 0 beside a Holm p above 0.05 is not a contradiction. It
// names only what some cell shows: no interval where every p is exact,
// no Holm where no row has a p.
func (c *Comparison) caption() string {
	delta, holm := c.diffHeads("95 % CI")
	if holm {
		return fmt.Sprintf("Against %s: difference of means%s, p (Holm)", c.Label(c.Baseline), delta)
	}
	return fmt.Sprintf("Against %s: difference of means%s, p", c.Label(c.Baseline), delta)
}

// diffHeads gives what follows "Δ" in the heads of the table of
// differences, the same in every format (ci is the format's spelling of
// "95 % CI"): " [95 % CI]" when some cell has an interval, ", unadjusted"
// inside it when the p-values are Holm's; and whether they are (some p was
// adjusted).
func (c *Comparison) diffHeads(ci string) (delta string, holm bool) {
	holm = c.Adjusted && c.anyP()
	switch {
	case !c.anyInterval():
	case holm:
		delta = " [" + ci + ", unadjusted]"
	default:
		delta = " [" + ci + "]"
	}
	return delta, holm
}

// anyInterval reports whether some tested cell has a confidence interval.
func (c *Comparison) anyInterval() bool {
	return c.anyTested(func(x Cell) bool { return !math.IsNaN(x.Low) })
}

// anyP reports whether some tested cell has a p-value.
func (c *Comparison) anyP() bool {
	return c.anyTested(func(x Cell) bool { return !math.IsNaN(x.P) })
}

// anyTested reports whether some tested cell satisfies f.
func (c *Comparison) anyTested(f func(Cell) bool) bool {
	for _, row := range c.Rows {
		if slices.ContainsFunc(row.Cells, func(x Cell) bool { return x.Tested && f(x) }) {
			return true
		}
	}
	return false
}

// wrap breaks s into lines of at most width columns (term.Wrap), not
// inside the phrases of together.
func wrap(s string, width int) string {
	return unbreak.Replace(strings.Join(term.Wrap(together.Replace(s), width), "\n"))
}

// together joins the words of the notes' phrases that read badly split
// across lines with no-break spaces, which term.Wrap does not break at;
// unbreak makes those phrases plain again, and leaves any other no-break
// space (a user's value) as it was — but for one inside such a phrase, as
// in a label holding "95\u00a0%", which prints with a plain space.
var together, unbreak = phraseReplacers("n − 1 df", "95 %", "C(n+m, n)", "(p = 1")

func phraseReplacers(phrases ...string) (together, unbreak *strings.Replacer) {
	var join, split []string
	for _, p := range phrases {
		j := strings.ReplaceAll(p, " ", "\u00a0")
		join, split = append(join, p, j), append(split, j, p)
	}
	return strings.NewReplacer(join...), strings.NewReplacer(split...)
}

// notes explains what the tables show: the marks in use, the tests and
// their adjustment, what was not tested and why, NaN values, pooled keys,
// the sort order. Every format carries them; markdown's name the best as
// bold and are escaped for it.
func (c *Comparison) notes(markdown bool) []string {
	if !markdown {
		return c.notesMarked("*")
	}
	out := c.notesMarked("bold:")
	for i, s := range out {
		out[i] = escapeMarkdown(s)
	}
	return out
}

// statusNote says which runs a --status other than done selected, whose
// values are not those of finished runs: "" for the default.
func (c *Comparison) statusNote() string {
	switch c.Status {
	case "", store.StatusDone:
		return ""
	case StatusAny:
		return "Runs of every status (--status any): a row may hold runs not finished or failed beside done ones, " +
			"each value the last its run had logged when this was read" + c.stepsNote() + "; no row is marked best."
	case store.StatusFailed:
		return "Failed runs only (--status failed): each value is the last its run logged before it failed" + c.stepsNote() + "; no row is marked best."
	case store.StatusQueued:
		return "Only runs now queued (--status queued): not started, or handed back to the queue; a value is the last such a run logged" + c.stepsNote() + "."
	}
	steps := cmp.Or(c.stepsNote(), ", at whatever step it had reached")
	return fmt.Sprintf("Only runs now %s (--status %s): not finished, each value is the last its run logged%s; "+
		"no row is marked best.", c.Status, c.Status, steps)
}

// stepsNote says at which steps the runs not done logged the values shown
// (" (at step 300)", " (at steps 150 to 300)"), "" when none logged any.
func (c *Comparison) stepsNote() string {
	switch r := c.StepRange; {
	case r[1] == 0:
		return ""
	case r[0] == r[1]:
		return fmt.Sprintf(" (at step %d)", r[1])
	default:
		return fmt.Sprintf(" (at steps %d to %d)", r[0], r[1])
	}
}

// meanNote says what mean ± std is over: each row's runs, or, where a
// row has several runs of a seed, its seeds.
func (c *Comparison) meanNote() string {
	if c.seedsPooled() {
		return "mean ± std over each row's seeds, each seed the mean of its runs (n counts runs; constants such as model/params over runs)"
	}
	return "mean ± std over each row's n runs"
}

// seedsPooled reports whether a row holds several runs of one seed (keys
// pooled with --pool): its statistics are over seeds, not its n runs.
func (c *Comparison) seedsPooled() bool {
	for _, row := range c.Rows {
		seen := map[int64]bool{}
		for _, s := range row.Seeds {
			if seen[s] {
				return true
			}
			seen[s] = true
		}
	}
	return false
}

// notesMarked is notes, the best values' mark named mark ("*", "bold:").
func (c *Comparison) notesMarked(mark string) []string {
	parts := []string{c.meanNote()}
	var maxM, minM, nans []string
	partial, anyBest, infinite := false, false, false
	for j, m := range c.Metrics {
		best := false
		for i, row := range c.Rows {
			cell := row.Cells[j]
			best = best || cell.Best
			partial = partial || count(cell, len(row.Runs)) != ""
			if cell.NaN > 0 {
				where := c.Label(i)
				if where != "" {
					where += " "
				}
				inf := ""
				switch {
				case cell.Infinite == cell.NaN:
					inf = " ±Inf"
				case cell.Infinite > 0:
					inf = fmt.Sprintf(" (%d ±Inf)", cell.Infinite)
				}
				nans = append(nans, fmt.Sprintf("%s%s ×%d%s", where, m, cell.NaN, inf))
				infinite = infinite || cell.Infinite > 0
			}
		}
		if !best {
			continue
		}
		anyBest = true
		if metrics.Describe(m).Direction > 0 {
			maxM = append(maxM, m)
		} else {
			minM = append(minM, m)
		}
	}
	if anyBest {
		var dirs []string
		if len(maxM) > 0 {
			dirs = append(dirs, "higher is better for "+strings.Join(maxM, ", "))
		}
		if len(minM) > 0 {
			dirs = append(dirs, "lower for "+strings.Join(minM, ", "))
		}
		if c.Tasks > 1 {
			dirs = append([]string{fmt.Sprintf("within each of the %d tasks, rows whose task.* params and data files agree", c.Tasks)}, dirs...)
		}
		parts = append(parts, fmt.Sprintf("%s best (%s)", mark, strings.Join(dirs, "; ")))
	} else if c.Tasks > 1 && c.Status == "" {
		parts = append(parts, fmt.Sprintf("no best marked: the rows belong to %d tasks (their task.* params or data files differ) "+
			"and no task has two rows that differ", c.Tasks))
	}
	if partial {
		parts = append(parts, "(k/n) only k runs have a value: such a mean is never marked best, nor another in its stead")
	}
	if c.SortedBy != "" {
		j := slices.Index(c.Metrics, c.SortedBy)
		var means []float64
		for _, row := range c.Rows {
			if j >= 0 && !math.IsNaN(row.Cells[j].Mean) {
				means = append(means, row.Cells[j].Mean)
			}
		}
		order := "ascending"
		if len(means) > 1 && means[0] > means[len(means)-1] {
			order = "descending"
		}
		parts = append(parts, fmt.Sprintf("rows sorted by %s, %s", c.SortedBy, order))
	}
	out := []string{strings.Join(parts, "; ") + "."}
	if n := c.statusNote(); n != "" {
		out = append(out, n)
	}
	if len(c.Pooled) > 0 {
		var shown []string
		for _, k := range c.pooledColumns() {
			shown = append(shown, c.Pooled[k])
		}
		along := ""
		if len(c.PooledAlong) > 0 {
			sets := "which those set"
			if len(shown) == 1 {
				sets = "which it sets"
			}
			along = fmt.Sprintf(" (and so their %s, %s)", strings.Join(c.PooledAlong, ", "), sets)
		}
		out = append(out, fmt.Sprintf("Pooled (--pool): rows average runs whose %s differ%s; the pooled columns list their values.",
			strings.Join(shown, ", "), along))
	}
	if len(nans) > 0 {
		what := "NaN values"
		if infinite {
			// With --status any, failed or running: a done run's is
			// counted failed (failDiverged).
			what = "NaN values and ±Inf losses or perplexities (diverged runs)"
		}
		out = append(out, what+", left out of mean and std: "+strings.Join(firstFew(nans, 4), ", ")+".")
	}
	out = append(out, c.selectionNotes()...)
	if c.Builds > 1 {
		s := fmt.Sprintf("The runs were trained by %d attnlab builds (their attnlab_version differs): a difference between runs "+
			"of different builds may come from the code, not the setting", c.Builds)
		if len(c.MixedBuilds) > 0 {
			var rows []string
			for k, i := range c.MixedBuilds {
				if k == 4 {
					rows = append(rows, fmt.Sprintf("and %d more", len(c.MixedBuilds)-4))
					break
				}
				l := c.Label(i)
				if l == "" {
					l = "the one row"
				}
				rows = append(rows, l)
			}
			s += "; rows whose runs come from several builds: " + strings.Join(rows, ", ")
		}
		out = append(out, s+".")
	}
	if c.OldValid > 0 {
		out = append(out, fmt.Sprintf("valid/* of %s stored before 2026-12-04 are of the best evaluation, not of the weights test/* "+
			"were measured on (as in the later runs): rows mixing them mix the two.", plural(c.OldValid, "run")))
	}
	if c.InTrain > 0 {
		out = append(out, fmt.Sprintf("test/* of %s are measured on sources that are also in their training data (up to %.0f %% of "+
			"the test examples, %s: a task.test_path overlapping the training file): they measure memory as well as generalisation.",
			plural(c.InTrain, "run"), 100*c.InTrainMax, InTrainKey))
	}
	if sh := c.Sharing; sh != nil && slices.ContainsFunc(c.Metrics, func(m string) bool {
		return strings.HasPrefix(m, "perf/") && metrics.Describe(m).Kind == metrics.Cost
	}) {
		var how []string
		if sh.RunsMax-sh.RunsMin > 0.25 {
			how = append(how, fmt.Sprintf("%.1f–%.1f runs training at once", sh.RunsMin, sh.RunsMax))
		}
		if sh.ThreadsMax > sh.ThreadsMin {
			how = append(how, fmt.Sprintf("%g–%g threads", sh.ThreadsMin, sh.ThreadsMax))
		}
		if sh.Unknown > 0 {
			how = append(how, fmt.Sprintf("unknown for %s stored before it was recorded", plural(sh.Unknown, "run")))
		}
		for i, kind := range slices.Sorted(maps.Keys(sh.Kernels)) {
			unit := " kernels"
			if i > 0 {
				unit = ""
			}
			how = append(how, fmt.Sprintf("%s%s in %s", kind, unit, plural(sh.Kernels[kind], "run")))
		}
		out = append(out, "Timings (perf/*) were measured under different conditions ("+strings.Join(how, ", ")+
			"): compare them only between runs trained alike (attnlab run -j 1 for a study of costs).")
	}
	if cols := c.scaleSplit(); len(cols) > 0 {
		out = append(out, fmt.Sprintf("%s: rows scored with different sacreBLEU settings (see the signatures) measure different things: "+
			"no best across them, no test against a baseline scored otherwise.", strings.Join(cols, ", ")))
	}
	if c.Baseline >= 0 {
		out = append(out, c.testNotes()...)
	} else if cols := c.untested(); len(cols) > 0 {
		out = append(out, "Never marked best: "+strings.Join(cols, ", ")+".")
	}
	return append(out, c.signatureNotes()...)
}

// nText is row i's n column: its runs, and its failed and unfinished runs
// if any ("2 (+1 failed, +1 unfinished)").
func (c *Comparison) nText(i int) string {
	var more []string
	if f := len(c.Rows[i].Failed); f > 0 {
		more = append(more, fmt.Sprintf("+%d failed", f))
	}
	if u := c.Rows[i].Unfinished; u > 0 {
		more = append(more, fmt.Sprintf("+%d unfinished", u))
	}
	n := strconv.Itoa(len(c.Rows[i].Runs))
	if len(more) > 0 {
		n += " (" + strings.Join(more, ", ") + ")"
	}
	return n
}

// selectionNotes say which runs the table leaves out: failed runs (by
// row, with their errors), runs not finished, and the --where filter.
func (c *Comparison) selectionNotes() []string {
	var out, items []string
	more := 0
	add := func(where string, fs []FailedRun) {
		var runs []string
		for _, f := range fs {
			if len(items)+len(runs) >= 4 {
				more++
				continue
			}
			msg := strings.Join(strings.Fields(f.Error), " ")
			if len(msg) > 80 {
				msg = msg[:77] + "…"
			}
			if msg == "" {
				runs = append(runs, fmt.Sprintf("run %d", f.ID))
			} else {
				runs = append(runs, fmt.Sprintf("run %d (%s)", f.ID, msg))
			}
		}
		if len(runs) > 0 {
			items = append(items, where+strings.Join(runs, ", "))
		}
	}
	failedRows := 0
	for i, row := range c.Rows {
		if len(row.Failed) == 0 {
			continue
		}
		failedRows++
		where := c.Label(i)
		if where != "" {
			where += ": "
		}
		add(where, row.Failed)
	}
	var labels []string
	byLabel := map[string][]FailedRun{}
	for _, f := range c.FailedElsewhere {
		if _, ok := byLabel[f.Label]; !ok {
			labels = append(labels, f.Label)
		}
		byLabel[f.Label] = append(byLabel[f.Label], f)
	}
	for _, l := range labels {
		where := "a setting with no row"
		if l != "" {
			where = l
		}
		add(where+" (every run failed): ", byLabel[l])
	}
	if len(items) > 0 {
		if more > 0 {
			items = append(items, fmt.Sprintf("and %d more", more))
		}
		s := "Failed runs, left out of every statistic"
		if failedRows > 0 {
			s += " (a row with failed runs is never marked best, its means being over the runs that finished; " +
				"nor is another row in its stead where its finished runs score higher)"
		}
		out = append(out, s+": "+strings.Join(items, "; ")+".")
	}
	if len(c.Unfinished) > 0 {
		var parts []string
		total := 0
		for _, st := range slices.Sorted(maps.Keys(c.Unfinished)) {
			parts = append(parts, fmt.Sprintf("%d %s", c.Unfinished[st], st))
			total += c.Unfinished[st]
		}
		s := fmt.Sprintf("Not finished, not in the table: %s (%s)", plural(total, "run"), strings.Join(parts, ", "))
		if slices.ContainsFunc(c.Rows, func(r Row) bool { return r.Unfinished > 0 }) {
			s += "; a row with unfinished runs is never marked best, its means being over the runs done so far, " +
				"nor is another row in its stead"
		}
		out = append(out, s+".")
	}
	if c.Where != "" {
		s := "Runs selected by --where " + c.Where
		if len(c.WhereResults) > 0 {
			s += fmt.Sprintf(": it selects on %s, so each row keeps only its runs that scored so, "+
				"and its mean, std and tests are biased by the choice", strings.Join(c.WhereResults, ", "))
		}
		out = append(out, s+".")
	}
	return out
}

// scaleSplit lists the metric columns whose rows are split by their
// sacreBLEU signatures (see scales).
func (c *Comparison) scaleSplit() []string {
	var out []string
	for _, m := range c.Metrics {
		n := 0
		for _, s := range c.Signatures {
			if s.Metric == m && s.Rows != nil {
				n++
			}
		}
		if n > 1 {
			out = append(out, m)
		}
	}
	return out
}

// untested lists the metrics that are never tested nor starred, with why.
func (c *Comparison) untested() []string {
	var out []string
	for j, m := range c.Metrics {
		switch kind := metrics.Describe(m).Kind; {
		case c.tests(kind) && c.Baseline >= 0 && c.Rows[c.Baseline].Cells[j].N == 0:
			out = append(out, m+" (the baseline has no value)")
		case c.tests(kind):
		case kind == metrics.Cost:
			out = append(out, m+" (a cost: --test-cost tests it)")
		case kind == metrics.Constant && strings.HasPrefix(m, "perf/"):
			out = append(out, m+" (a condition of the timings)")
		case kind == metrics.Constant:
			out = append(out, m+" (a constant of the configuration or its data)")
		}
	}
	return out
}

// testNotes says how the rows were compared with the baseline.
func (c *Comparison) testNotes() []string {
	var out []string
	rows := c.testedRows()
	lo, hi := len(c.Rows), 0
	for _, j := range c.testedMetrics() {
		k := 0
		for _, i := range rows {
			if !math.IsNaN(c.Rows[i].Cells[j].P) {
				k++
			}
		}
		if k > 0 { // a column without a p-value adjusts nothing ("—" says why)
			lo, hi = min(lo, k), max(hi, k)
		}
	}
	if len(c.testedMetrics()) > 0 && len(rows) > 0 {
		// Which test gave the figures: paired where the seeds pair,
		// Welch's elsewhere, an exact permutation test where a t-test
		// has no spread. Welch cells with figures are named in a mixed
		// table, and exact cells always.
		var welch, signFlip, separated []string
		// paired: some cell ran the paired t-test; pairedAny: some cell
		// paired by seed at all (the sign-flip test pairs too).
		paired, pairedAny, averaged, interval := false, false, false, c.anyInterval()
		for _, i := range rows {
			var ms, sf, sp []string
			all := true
			for _, j := range c.testedMetrics() {
				cell := c.Rows[i].Cells[j]
				averaged = averaged || (cell.Tested && cell.Averaged)
				switch {
				case !cell.Tested:
				case cell.Paired:
					pairedAny, all = true, false
					if cell.Exact {
						sf = append(sf, c.Metrics[j])
					} else {
						paired = true
					}
				case cell.Exact:
					sp = append(sp, c.Metrics[j])
				case !math.IsNaN(cell.Low):
					ms = append(ms, c.Metrics[j])
				}
			}
			if len(ms) > 0 {
				w := c.Label(i)
				if !all {
					w += " (" + strings.Join(ms, ", ") + ")"
				}
				welch = append(welch, w)
			}
			if len(sf) > 0 {
				signFlip = append(signFlip, c.Label(i)+" ("+strings.Join(sf, ", ")+")")
			}
			if len(sp) > 0 {
				separated = append(separated, c.Label(i)+" ("+strings.Join(sp, ", ")+")")
			}
		}
		pairedTest := "the two-sided paired t-test over seeds (runs with the same seed train and test on the same data"
		df := "n − 1 df"
		if c.seedsPooled() {
			df += ", n the seeds in common, not the runs the n column counts"
		}
		var test string
		switch {
		case paired && len(welch) == 0:
			test = "(" + df + "); p = " + pairedTest + ")"
		case paired:
			test = "and p by " + strings.Replace(pairedTest, "seeds (", "seeds ("+df+"; ", 1) +
				") where a row pairs with the baseline by seed, by Welch's (Welch–Satterthwaite df) where not"
		case c.Unpaired:
			test = "(Welch–Satterthwaite df); p = Welch's two-sided t-test, seeds not paired (--unpaired)"
		default:
			test = "(Welch–Satterthwaite df); p = Welch's two-sided t-test"
		}
		lead := "Δ = row mean − baseline mean with its 95 % confidence interval "
		switch {
		case interval:
		case len(signFlip)+len(separated) > 0:
			// Every p is exact: no t-test, no interval to name.
			lead, test = "Δ = row mean − baseline mean", "; p by an exact permutation test (‡)"
			if c.Unpaired {
				test += ", seeds not paired (--unpaired)"
			}
		case hi == 0:
			// No row has a p-value: no test ran, none to name.
			lead, test = "Δ = row mean − baseline mean", ""
		}
		if averaged {
			// Runs of one seed share their data: never independent values.
			test += "; a row's runs of one seed are averaged first, each seed one value"
		}
		s := fmt.Sprintf("Against the baseline %s: %s%s", c.Label(c.Baseline), lead, test)
		kk := plural(hi, "row")
		if lo != hi {
			kk = fmt.Sprintf("%d–%d rows", lo, hi)
		}
		sep := ", "
		if (paired && len(welch) > 0) || len(signFlip)+len(separated) > 0 || averaged {
			sep = "; p " // the adjustment is of every test's p-values
		}
		switch {
		case hi == 0:
			s += " (no row has a p-value)"
		case c.Adjusted && interval:
			s += fmt.Sprintf(sep+"Holm–Bonferroni-adjusted over the %s compared in each column; "+
				"the intervals are each comparison's own, not adjusted", kk)
		case c.Adjusted:
			s += fmt.Sprintf(sep+"Holm–Bonferroni-adjusted over the %s compared in each column", kk)
		default:
			s += strings.TrimSuffix(strings.TrimSuffix(sep, ", "), " ") + " without adjustment for the comparisons of " + kk + " per column (--no-adjust)"
		}
		out = append(out, s+"; — where a side has fewer than 2 seeds with a value, or an infinite value.")
		switch {
		case len(welch) > 0 && paired:
			out = append(out, welchMark+" By Welch's test, where a row's runs with a value do not pair with the baseline's by seed (other "+
				"seeds, or a failed or missing run): "+strings.Join(firstFew(welch, 4), ", ")+
				"; where seeds overlap, Welch's independent samples are an approximation.")
		case len(welch) > 0 && !c.Unpaired && !pairedAny:
			out = append(out, "Not paired: no row's runs with a value pair with the baseline's by seed (other seeds, or a failed "+
				"or missing run); where seeds overlap, Welch's independent samples are an approximation.")
		}
		var exact []string
		if len(signFlip) > 0 {
			exact = append(exact, "by the exact sign-flip test over the n seeds, 2/2ⁿ, where Δ is the same on every seed: "+
				strings.Join(firstFew(signFlip, 4), ", "))
		}
		if len(separated) > 0 {
			exact = append(exact, "by the exact permutation test of the two samples, 2/C(n+m, n), where each side is constant: "+
				strings.Join(firstFew(separated, 4), ", "))
		}
		if len(exact) > 0 {
			out = append(out, exactMark+" Where a t-test has no spread to test against, p is an exact permutation test's, without an interval "+
				"(p = 1 where Δ is 0): "+strings.Join(exact, "; ")+".")
		}
	}
	if n := len(c.Rows) - 1 - len(rows); n > 0 {
		out = append(out, fmt.Sprintf("Not compared with the baseline: %s of another task than the baseline's.", plural(n, "row")))
	}
	if cols := c.untested(); len(cols) > 0 {
		out = append(out, "Not tested: "+strings.Join(cols, ", ")+".")
	}
	return out
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func escapeMarkdown(s string) string {
	return strings.NewReplacer("|", `\|`, "<", "&lt;").Replace(s)
}

func (c *Comparison) writeMarkdown(w io.Writer) error {
	fmts := make([]colFormat, len(c.Metrics))
	for j := range c.Metrics {
		fmts[j] = newColFormat(c, j)
	}
	cell := func(s string) string { return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s) }
	heads := func() ([]string, []tw.Align) {
		var header []string
		var align []tw.Align
		for _, k := range c.Keys {
			header = append(header, cell(k))
			align = append(align, tw.AlignLeft)
		}
		for _, k := range c.pooledColumns() {
			header = append(header, cell(pooledHead(c.Pooled[k])))
			align = append(align, tw.AlignLeft)
		}
		return header, align
	}
	render := func(header []string, align []tw.Align, rows [][]string) error {
		t := tablewriter.NewTable(w,
			tablewriter.WithRenderer(renderer.NewMarkdown()),
			tablewriter.WithHeaderAutoFormat(tw.Off),
			tablewriter.WithHeaderAutoWrap(tw.WrapNone),
			tablewriter.WithRowAutoWrap(tw.WrapNone),
			tablewriter.WithAlignment(align),
		)
		t.Header(header)
		for _, r := range rows {
			if err := t.Append(r); err != nil {
				return fmt.Errorf("report: markdown: %w", err)
			}
		}
		if err := t.Render(); err != nil {
			return fmt.Errorf("report: markdown: %w", err)
		}
		return nil
	}
	header, align := heads()
	header = append(header, "n")
	align = append(align, tw.AlignRight)
	for _, m := range c.Metrics {
		header = append(header, cell(m))
		align = append(align, tw.AlignRight)
	}
	var rows [][]string
	for i, row := range c.Rows {
		cells := c.groupCells(i, true)
		for k := range cells {
			cells[k] = cell(cells[k])
		}
		cells = append(cells, c.nText(i))
		for j, x := range row.Cells {
			s := fmts[j].value(x)
			if x.Best {
				s = "**" + s + "**"
			}
			cells = append(cells, cell(s+count(x, len(row.Runs))))
		}
		rows = append(rows, cells)
	}
	if err := render(header, align, rows); err != nil {
		return err
	}
	if cols, trows := c.testedMetrics(), c.testedRows(); len(cols) > 0 && len(trows) > 0 {
		header, align := heads()
		delta, holm := c.diffHeads("95% CI")
		p := " p"
		if holm {
			p = " p (Holm)"
		}
		for _, j := range cols {
			header = append(header, cell(c.Metrics[j]+" Δ"+delta), cell(c.Metrics[j]+p))
			align = append(align, tw.AlignRight, tw.AlignRight)
		}
		var rows [][]string
		for _, i := range trows {
			cells := c.groupCells(i, false)
			for k := range cells {
				cells[k] = cell(cells[k])
			}
			for _, j := range cols {
				x := c.Rows[i].Cells[j]
				cells = append(cells, cell(fmts[j].diff(x)), escapeMarkdown(formatP(x.PAdj))+c.testMark(x))
			}
			rows = append(rows, cells)
		}
		if _, err := fmt.Fprintf(w, "\n%s:\n\n", escapeMarkdown(c.caption())); err != nil {
			return err
		}
		if err := render(header, align, rows); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "\n%s\n", strings.Join(c.notes(true), " "))
	return err
}

// firstFew returns the first n of xs and "and k more" for the k others.
func firstFew(xs []string, n int) []string {
	if len(xs) <= n {
		return xs
	}
	return append(slices.Clip(xs[:n]), fmt.Sprintf("and %d more", len(xs)-n))
}
