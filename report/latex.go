package report

import (
	"fmt"
	"io"
	"regexp"
	"strings"
)

// thousandsComma is the comma of a grouped number (134,854), which math
// mode would follow with a space unless braced; the comma between an
// interval's bounds is followed by a space and stays as it is.
var thousandsComma = regexp.MustCompile(`,([0-9])`)

// latexEscape escapes LaTeX's special characters in text (keys, group
// values, notes) and spells out the few Unicode signs the notes use, so
// that the output compiles with pdflatex's default input encoding.
var latexEscape = strings.NewReplacer(
	`\`, `\textbackslash{}`, "{", `\{`, "}", `\}`, "$", `\$`, "&", `\&`, "#", `\#`, "_", `\_`, "%", `\%`,
	"~", `\textasciitilde{}`, "^", `\textasciicircum{}`,
	"±", `$\pm$`, "×", `$\times$`, "Δ", `$\Delta$`, "−", `$-$`, "—", "---", "–", "--", "·", `$\cdot$`,
	"≥", `$\geq$`, "≤", `$\leq$`, "→", `$\to$`, "…", `\ldots{}`,
)

// latexMark is each test mark (Comparison.testMark) in LaTeX.
var latexMark = map[string]string{welchMark: `\textsuperscript{\dag}`, exactMark: `\textsuperscript{\ddag}`}

// latexNumber writes a formatted cell ("0.976 ± 0.006", "+0.497 [0.348,
// 0.647]", "<0.001", "—") for a LaTeX table: numbers in math mode, a best
// value in bold.
func latexNumber(s string, bold bool) string {
	switch s {
	case "—", "":
		return "---"
	case "NaN":
		return "NaN"
	}
	m := thousandsComma.ReplaceAllString(strings.NewReplacer(" ± ", ` \pm `, " [", `\ [`, "−", "-", "%", `\%`).Replace(s), "{,}$1")
	if bold {
		return `$\mathbf{` + m + `}$`
	}
	return "$" + m + "$"
}

// writeLatex writes the comparison as booktabs tabulars: the means table
// (keys, n, mean ± std per metric, best in bold, "(2/3)" after a value
// that only 2 of 3 runs have), then with a baseline the differences table
// (each tested metric's Δ, its 95 % CI where some cell has one, and its
// p-value), each preceded by a
// comment that says what it holds; the notes follow as comments, so that
// pasting the output into a paper keeps them beside the table until they
// go into its caption. A table is one tabular however wide: the first
// comment says how to fit a wide one to the page (\resizebox, --metrics);
// splitting its columns into tabulars that fit was tried and read worse
// (a five-metric table became five tabulars).
func (c *Comparison) writeLatex(w io.Writer) error {
	fmts := make([]colFormat, len(c.Metrics))
	for j := range c.Metrics {
		fmts[j] = newColFormat(c, j)
	}
	var b strings.Builder
	heads := func() []string {
		var h []string
		for _, k := range ShortKeys(c.Keys) {
			h = append(h, latexEscape.Replace(k))
		}
		for _, k := range c.pooledHeads() {
			h = append(h, latexEscape.Replace(k))
		}
		return h
	}
	// table writes a tabular: top, when not "", is a row of heads above
	// head's (the metrics over their Δ and p columns).
	table := func(top string, head []string, keys int, rows [][]string) {
		fmt.Fprintf(&b, "\\begin{tabular}{%s%s}\n\\toprule\n", strings.Repeat("l", keys), strings.Repeat("r", len(head)-keys))
		b.WriteString(top)
		b.WriteString(strings.Join(head, " & ") + ` \\` + "\n\\midrule\n")
		for _, r := range rows {
			b.WriteString(strings.Join(r, " & ") + ` \\` + "\n")
		}
		b.WriteString("\\bottomrule\n\\end{tabular}\n")
	}
	keys := len(c.Keys) + len(c.pooledColumns())
	head := append(heads(), "n")
	for _, m := range c.Metrics {
		head = append(head, latexEscape.Replace(m))
	}
	var rows [][]string
	for i, row := range c.Rows {
		var cells []string
		for _, g := range c.groupCells(i, true) {
			cells = append(cells, latexEscape.Replace(g))
		}
		cells = append(cells, latexEscape.Replace(c.nText(i)))
		for j, x := range row.Cells {
			cells = append(cells, latexNumber(fmts[j].value(x), x.Best)+latexEscape.Replace(count(x, len(row.Runs))))
		}
		rows = append(rows, cells)
	}
	b.WriteString("% needs \\usepackage{booktabs}; a table wider than the page fits in\n" +
		"% \\resizebox{\\linewidth}{!}{...} (\\usepackage{graphicx}), or choose its columns with --metrics\n" +
		"% " + c.meanNote() + ", best in bold\n")
	table("", head, keys, rows)
	if cols, trows := c.testedMetrics(), c.testedRows(); len(cols) > 0 && len(trows) > 0 {
		// Two rows of heads, each metric over its Δ and p columns: one
		// row of "metric Δ [95 % CI, unadjusted]" heads made the table two
		// or three page widths wide.
		head := heads()
		delta, holm := c.diffHeads(`95\,\% CI`)
		p := "$p$"
		if holm {
			p = `$p_{\mathrm{Holm}}$`
		}
		top := strings.Repeat(" & ", keys)
		var rules []string
		for k, j := range cols {
			if k > 0 {
				top += " & "
			}
			top += `\multicolumn{2}{c}{` + latexEscape.Replace(c.Metrics[j]) + `}`
			first := keys + 2*k + 1
			rules = append(rules, fmt.Sprintf(`\cmidrule(lr){%d-%d}`, first, first+1))
			head = append(head, `$\Delta$`+delta, p)
		}
		top += ` \\` + "\n" + strings.Join(rules, " ") + "\n"
		var rows [][]string
		for _, i := range trows {
			var cells []string
			for _, g := range c.groupCells(i, false) {
				cells = append(cells, latexEscape.Replace(g))
			}
			for _, j := range cols {
				x := c.Rows[i].Cells[j]
				cells = append(cells, latexNumber(fmts[j].diff(x), false), latexNumber(formatP(x.PAdj), false)+latexMark[c.testMark(x)])
			}
			rows = append(rows, cells)
		}
		fmt.Fprintf(&b, "\n%% %s\n", c.caption())
		table(top, head, keys, rows)
	}
	b.WriteString("\n")
	for _, n := range c.notesMarked("bold:") {
		for _, l := range strings.Split(wrap(n, 98), "\n") {
			b.WriteString("% " + l + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
