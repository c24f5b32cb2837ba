package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// Formats lists the formats Write accepts.
var Formats = []string{"table", "markdown", "csv", "json"}

// Write renders the comparison in one of Formats:
//
//   - "table": a box-drawn table for the terminal (tablewriter). One column
//     per group key (headed by ShortKeys), "n" (runs in the row), and one
//     column per metric holding "mean ± std" over the row's runs, with
//     decimals chosen per column from its magnitude (0 decimals and
//     thousands separators from 1000 up). The best row of a metric is
//     marked with a trailing *. A cell where fewer runs than n have a value
//     ends with "(n=2)", or "(n=2, 1 NaN)" when some runs recorded NaN; a
//     cell with only NaN values reads "NaN", one without any value "—".
//     "± std" is left out when a cell has one value, and for a whole
//     column whose value never varies within a row (model/params). With a
//     baseline every metric cell gets a second line, "p=0.031" (or
//     "p<0.001"; "p=—" when undefined), which also takes the "(k/n)" of
//     the cell ("(2/3) p=0.004"), and the baseline row is labelled
//     "(baseline)" under its last key. Metric headers are split over two
//     lines at their last '/'; when the table is still wider than 120
//     columns, the key headers are split at their last '.' too, and then
//     the spaces around ± are dropped ("0.390±0.056"). Notes under
//     the table, wrapped at 100 columns, explain the marks in use, list the
//     NaN values, and name the baseline and the sort order.
//   - "markdown": the same rows as a GitHub table (tablewriter's markdown
//     renderer): full keys in the header, best values in bold, the
//     p-values in a "<metric> p" column after each metric when there is a
//     baseline, '|' escaped; then the notes.
//   - "csv": one header line, then one line per row: the keys' values, then
//     for each metric <m>_mean, <m>_std, <m>_n and <m>_p, numbers in the
//     shortest form that reads back exactly, NaN as "NaN".
//   - "json": one object (see MarshalJSON) with every field, per-run values
//     included.
//
// Write returns the writer's error, or an error naming the known formats.
func (c *Comparison) Write(w io.Writer, format string) error {
	switch format {
	case "table", "":
		return c.writeTable(w)
	case "markdown", "md":
		return c.writeMarkdown(w)
	case "csv":
		return c.writeCSV(w)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(c)
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
	decimals int  // digits after the point; -1: three significant digits
	hideStd  bool // the value never varies within a row
	tight    bool // no spaces around ±
}

func newColFormat(c *Comparison, j int) colFormat {
	maxAbs := 0.0
	hide, anyStd := true, false
	for _, row := range c.Rows {
		cell := row.Cells[j]
		if isFinite(cell.Mean) {
			maxAbs = math.Max(maxAbs, math.Abs(cell.Mean))
		}
		if cell.N >= 2 {
			anyStd = true
			if cell.Std != 0 {
				hide = false
			}
		}
	}
	f := colFormat{hideStd: hide && anyStd}
	switch {
	case maxAbs >= 1000:
		f.decimals = 0
	case maxAbs >= 100:
		f.decimals = 1
	case maxAbs > 0 && maxAbs < 0.01:
		f.decimals = -1
	default:
		f.decimals = 3
	}
	return f
}

// num formats x for a table cell.
func (f colFormat) num(x float64) string {
	switch {
	case math.IsNaN(x):
		return "NaN"
	case math.IsInf(x, 1):
		return "+Inf"
	case math.IsInf(x, -1):
		return "-Inf"
	case f.decimals < 0:
		return strconv.FormatFloat(x, 'g', 3, 64)
	case f.decimals == 0:
		return thousands(strconv.FormatFloat(x, 'f', 0, 64))
	}
	return strconv.FormatFloat(x, 'f', f.decimals, 64)
}

// thousands inserts commas in the integer s ("-84226" → "-84,226").
func thousands(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	if len(s) <= 3 {
		return sign + s
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return sign + b.String()
}

// value returns the cell's "mean ± std" text (no best mark, no count).
func (f colFormat) value(cell Cell) string {
	if cell.N == 0 {
		if cell.NaN > 0 {
			return "NaN"
		}
		return "—"
	}
	s := f.num(cell.Mean)
	if cell.N >= 2 && !f.hideStd && isFinite(cell.Mean) {
		sep := " ± "
		if f.tight {
			sep = "±"
		}
		s += sep + f.num(cell.Std)
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

// formatP formats a p-value: "0.031", "<0.001", "—" when undefined.
func formatP(p float64) string {
	switch {
	case math.IsNaN(p):
		return "—"
	case p < 0.001:
		return "<0.001"
	}
	return strconv.FormatFloat(p, 'f', 3, 64)
}

// pText is the p line of a table cell.
func pText(p float64) string {
	s := formatP(p)
	if strings.HasPrefix(s, "<") {
		return "p" + s
	}
	return "p=" + s
}

// splitMetric heads a metric column on two lines, split at the last '/'.
func splitMetric(m string) string {
	if i := strings.LastIndexByte(m, '/'); i > 0 && i < len(m)-1 {
		return m[:i] + "/\n" + m[i+1:]
	}
	return m
}

// tableWidth is the width the table tries to stay within.
const tableWidth = 120

// tableLayout is one way to draw the table, from the most to the least
// roomy: writeTable takes the first that fits in tableWidth.
type tableLayout struct {
	splitKeys bool // head the group keys on two lines, split at the last '.'
	tight     bool // "0.390±0.056" instead of "0.390 ± 0.056"
}

var tableLayouts = []tableLayout{{}, {splitKeys: true}, {splitKeys: true, tight: true}}

func (c *Comparison) writeTable(w io.Writer) error {
	var best []byte
	for _, l := range tableLayouts {
		var b bytes.Buffer
		if err := c.renderTable(&b, l); err != nil {
			return err
		}
		if best == nil || maxWidth(b.String()) < maxWidth(string(best)) {
			best = b.Bytes()
		}
		if maxWidth(b.String()) <= tableWidth {
			break
		}
	}
	if _, err := w.Write(best); err != nil {
		return err
	}
	for _, note := range c.notes(false) {
		if _, err := fmt.Fprintln(w, wrap(note, noteWidth)); err != nil {
			return err
		}
	}
	return nil
}

// maxWidth returns the width of the longest line of s, in runes.
func maxWidth(s string) int {
	n := 0
	for _, line := range strings.Split(s, "\n") {
		n = max(n, utf8.RuneCountInString(line))
	}
	return n
}

// splitKey heads a group key column on two lines, split after the last '.'.
func splitKey(k string) string {
	if i := strings.LastIndexByte(k, '.'); i > 0 && i < len(k)-1 {
		return k[:i+1] + "\n" + k[i+1:]
	}
	return k
}

// renderTable draws the table itself (without the notes) in layout l.
func (c *Comparison) renderTable(w io.Writer, l tableLayout) error {
	fmts := make([]colFormat, len(c.Metrics))
	for j := range c.Metrics {
		fmts[j] = newColFormat(c, j)
		fmts[j].tight = l.tight
	}
	nk := len(c.Keys)
	align := make([]tw.Align, 0, nk+1+len(c.Metrics))
	header := make([]string, 0, cap(align))
	for _, k := range ShortKeys(c.Keys) {
		if l.splitKeys {
			k = splitKey(k)
		}
		header = append(header, k)
		align = append(align, tw.AlignLeft)
	}
	header = append(header, "n")
	align = append(align, tw.AlignRight)
	for _, m := range c.Metrics {
		header = append(header, splitMetric(m))
		align = append(align, tw.AlignRight)
	}
	rendition := tw.Rendition{}
	if c.Baseline >= 0 {
		rendition.Settings.Separators.BetweenRows = tw.On // two-line rows
	}
	t := tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(rendition)),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithTrimSpace(tw.Off),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: align}),
	)
	t.Header(header)
	for i, row := range c.Rows {
		cells := make([]string, 0, len(header))
		for k := range c.Keys {
			cells = append(cells, displayGroup(row.Group[k]))
		}
		if i == c.Baseline && nk > 0 {
			cells[nk-1] += "\n(baseline)"
		}
		cells = append(cells, strconv.Itoa(len(row.Runs)))
		for j, cell := range row.Cells {
			s := fmts[j].value(cell)
			if cell.Best {
				s += "*"
			} else {
				s += " " // keeps the digits aligned with starred cells
			}
			switch {
			case c.Baseline < 0:
				s += count(cell, len(row.Runs))
			case i == c.Baseline:
				if n := count(cell, len(row.Runs)); n != "" {
					s += "\n" + strings.TrimSpace(n) + " "
				}
			default:
				// Two-line rows: the count goes under the value, with p;
				// the space after p aligns it with the digits above, unless
				// the layout is tight.
				s += "\n" + strings.TrimPrefix(count(cell, len(row.Runs))+" ", " ") + pText(cell.P)
				if !l.tight {
					s += " "
				}
			}
			cells = append(cells, s)
		}
		if err := t.Append(cells); err != nil {
			return fmt.Errorf("report: table: %w", err)
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("report: table: %w", err)
	}
	return nil
}

// noteWidth is the width at which the notes under a table wrap.
const noteWidth = 100

// wrap breaks s into lines of at most width characters at spaces.
func wrap(s string, width int) string {
	var b strings.Builder
	n := 0
	for i, word := range strings.Fields(s) {
		l := len([]rune(word))
		if i > 0 {
			if n+1+l > width {
				b.WriteByte('\n')
				n = 0
			} else {
				b.WriteByte(' ')
				n++
			}
		}
		b.WriteString(word)
		n += l
	}
	return b.String()
}

// notes explains the marks that the table uses.
func (c *Comparison) notes(markdown bool) []string {
	parts := []string{"mean ± std over each row's n runs"}
	var maxM, minM, nans []string
	partial, anyBest := false, false
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
				nans = append(nans, fmt.Sprintf("%s%s ×%d", where, m, cell.NaN))
			}
		}
		if !best {
			continue
		}
		anyBest = true
		if Direction(m) > 0 {
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
		mark := "*"
		if markdown {
			mark = "bold:"
		}
		parts = append(parts, fmt.Sprintf("%s best (%s)", mark, strings.Join(dirs, "; ")))
	}
	if partial {
		parts = append(parts, "(k/n) only k runs have a value")
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
	if len(nans) > 0 {
		if len(nans) > 4 {
			nans = append(nans[:4], fmt.Sprintf("and %d more", len(nans)-4))
		}
		out = append(out, "NaN values (diverged runs), left out of mean and std: "+strings.Join(nans, ", ")+".")
	}
	if c.Baseline >= 0 {
		out = append(out, fmt.Sprintf("p: Welch's two-sided t-test against the baseline %s (— with fewer than 2 values).", c.Label(c.Baseline)))
	}
	if markdown {
		for i, s := range out {
			out[i] = escapeMarkdown(s)
		}
	}
	return out
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
	var header []string
	var align []tw.Align
	for _, k := range c.Keys {
		header = append(header, cell(k))
		align = append(align, tw.AlignLeft)
	}
	header = append(header, "n")
	align = append(align, tw.AlignRight)
	for _, m := range c.Metrics {
		header = append(header, cell(m))
		align = append(align, tw.AlignRight)
		if c.Baseline >= 0 {
			header = append(header, cell(m)+" p")
			align = append(align, tw.AlignRight)
		}
	}
	t := tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewMarkdown()),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithAlignment(align),
	)
	t.Header(header)
	for i, row := range c.Rows {
		var cells []string
		for k := range c.Keys {
			g := displayGroup(row.Group[k])
			if i == c.Baseline && k == len(c.Keys)-1 {
				g += " (baseline)"
			}
			cells = append(cells, cell(g))
		}
		cells = append(cells, strconv.Itoa(len(row.Runs)))
		for j, x := range row.Cells {
			s := fmts[j].value(x)
			if x.Best {
				s = "**" + s + "**"
			}
			cells = append(cells, cell(s+count(x, len(row.Runs))))
			if c.Baseline >= 0 {
				p := formatP(x.P)
				if i == c.Baseline {
					p = "base"
				}
				cells = append(cells, p)
			}
		}
		if err := t.Append(cells); err != nil {
			return fmt.Errorf("report: markdown: %w", err)
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("report: markdown: %w", err)
	}
	_, err := fmt.Fprintf(w, "\n%s\n", strings.Join(c.notes(true), " "))
	return err
}

// csvFloat formats a number for CSV and JSON text: the shortest form that
// reads back exactly; NaN, +Inf, -Inf.
func csvFloat(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

func (c *Comparison) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	header := append([]string(nil), c.Keys...)
	for _, m := range c.Metrics {
		header = append(header, m+"_mean", m+"_std", m+"_n", m+"_p")
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, row := range c.Rows {
		rec := append([]string(nil), row.Group...)
		for _, cell := range row.Cells {
			rec = append(rec, csvFloat(cell.Mean), csvFloat(cell.Std), strconv.Itoa(cell.N), csvFloat(cell.P))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// jsonFloat is a float64 in JSON: a number, null for NaN, or the strings
// "+Inf" and "-Inf".
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	x := float64(f)
	switch {
	case math.IsNaN(x):
		return []byte("null"), nil
	case math.IsInf(x, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(x, -1):
		return []byte(`"-Inf"`), nil
	}
	return strconv.AppendFloat(nil, x, 'g', -1, 64), nil
}

func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	switch s := string(b); s {
	case "null":
		*f = jsonFloat(math.NaN())
		return nil
	case `"+Inf"`, `"Inf"`:
		*f = jsonFloat(math.Inf(1))
		return nil
	case `"-Inf"`:
		*f = jsonFloat(math.Inf(-1))
		return nil
	case `"NaN"`:
		*f = jsonFloat(math.NaN())
		return nil
	}
	x, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("report: bad number %s", b)
	}
	*f = jsonFloat(x)
	return nil
}

func jsonFloats(xs []float64) []jsonFloat {
	out := make([]jsonFloat, len(xs))
	for i, x := range xs {
		out[i] = jsonFloat(x)
	}
	return out
}

type jsonCell struct {
	Mean   jsonFloat   `json:"mean"`
	Std    jsonFloat   `json:"std"`
	N      int         `json:"n"`
	NaN    int         `json:"nan"`
	Best   bool        `json:"best"`
	P      jsonFloat   `json:"p"`
	Values []jsonFloat `json:"values"`
}

type jsonRow struct {
	Group map[string]string   `json:"group"`
	Label string              `json:"label"`
	Runs  []int64             `json:"runs"`
	Cells map[string]jsonCell `json:"cells"`
}

type jsonComparison struct {
	Keys       []string       `json:"keys"`
	Metrics    []string       `json:"metrics"`
	Directions map[string]int `json:"directions"`
	Baseline   int            `json:"baseline"`
	SortedBy   string         `json:"sorted_by"`
	Rows       []jsonRow      `json:"rows"`
}

// MarshalJSON encodes the comparison as
//
//	{"keys": [...], "metrics": [...], "directions": {"test/loss": -1, ...},
//	 "baseline": -1, "sorted_by": "",
//	 "rows": [{"group": {"model.attention.name": "dot"}, "label": "attention.name=dot",
//	           "runs": [1, 4, 7],
//	           "cells": {"test/loss": {"mean": 0.31, "std": 0.02, "n": 3, "nan": 0,
//	                                   "best": true, "p": null, "values": [0.3, 0.33, 0.3]}}}]}
//
// with NaN as null and infinities as "+Inf"/"-Inf"; directions are those of
// Direction. UnmarshalJSON reads it back.
func (c *Comparison) MarshalJSON() ([]byte, error) {
	out := jsonComparison{Keys: c.Keys, Metrics: c.Metrics, Directions: map[string]int{}, Baseline: c.Baseline,
		SortedBy: c.SortedBy, Rows: []jsonRow{}}
	if out.Keys == nil {
		out.Keys = []string{}
	}
	if out.Metrics == nil {
		out.Metrics = []string{}
	}
	for _, m := range c.Metrics {
		out.Directions[m] = Direction(m)
	}
	for i, row := range c.Rows {
		jr := jsonRow{Group: map[string]string{}, Label: c.Label(i), Runs: row.Runs, Cells: map[string]jsonCell{}}
		if jr.Runs == nil {
			jr.Runs = []int64{}
		}
		for k, key := range c.Keys {
			jr.Group[key] = row.Group[k]
		}
		for j, cell := range row.Cells {
			jr.Cells[c.Metrics[j]] = jsonCell{Mean: jsonFloat(cell.Mean), Std: jsonFloat(cell.Std), N: cell.N, NaN: cell.NaN,
				Best: cell.Best, P: jsonFloat(cell.P), Values: jsonFloats(cell.Values)}
		}
		out.Rows = append(out.Rows, jr)
	}
	return json.Marshal(out)
}

// UnmarshalJSON decodes what MarshalJSON writes.
func (c *Comparison) UnmarshalJSON(b []byte) error {
	var in jsonComparison
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*c = Comparison{Keys: in.Keys, Metrics: in.Metrics, Baseline: in.Baseline, SortedBy: in.SortedBy}
	for _, jr := range in.Rows {
		row := Row{Runs: jr.Runs}
		for _, k := range in.Keys {
			row.Group = append(row.Group, jr.Group[k])
		}
		for _, m := range in.Metrics {
			jc, ok := jr.Cells[m]
			if !ok {
				return fmt.Errorf("report: comparison JSON: a row has no cell for %s", m)
			}
			cell := Cell{Mean: float64(jc.Mean), Std: float64(jc.Std), N: jc.N, NaN: jc.NaN, Best: jc.Best, P: float64(jc.P)}
			for _, v := range jc.Values {
				cell.Values = append(cell.Values, float64(v))
			}
			row.Cells = append(row.Cells, cell)
		}
		c.Rows = append(c.Rows, row)
	}
	return nil
}
