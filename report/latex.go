package report

import (
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
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

// latexPageWidth is the width, in points, that each tabular of writeLatex
// is laid out to fit: the text width of LaTeX's article class at 10 pt
// (345 pt), where a table of seven metrics once took 629 pt and its
// differences 711 pt.
const latexPageWidth = 345

// latexWidth estimates the width in points of a cell or head whose text,
// as the tables write it before LaTeX markup, is s: 5 pt a character
// (digits of Computer Modern at 10 pt; letters average less) and 12 pt of
// column separation. It errs wide, so that a block it lays out fits.
func latexWidth(s string) float64 { return 5*float64(utf8.RuneCountInString(s)) + 12 }

// latexBlocks splits the metrics 0..len(widths)-1, each widths[j] points
// wide, into blocks that fit latexPageWidth beside the key columns, keys
// points wide, as the text table continues its columns in a block below;
// a block holds at least one metric. Without metrics there is one empty
// block: the keys and n alone are still a table (compare --status queued).
func latexBlocks(keys float64, widths []float64) [][]int {
	if len(widths) == 0 {
		return [][]int{nil}
	}
	var blocks [][]int
	used := keys
	for j, w := range widths {
		if len(blocks) == 0 || used+w > latexPageWidth && len(blocks[len(blocks)-1]) > 0 {
			blocks = append(blocks, nil)
			used = keys
		}
		blocks[len(blocks)-1] = append(blocks[len(blocks)-1], j)
		used += w
	}
	return blocks
}

// columnWidths returns the latexWidth of each column of the raw texts
// rows, and of heads where heads is not nil.
func columnWidths(heads []string, rows [][]string) []float64 {
	var out []float64
	for j := range len(heads) {
		out = append(out, latexWidth(heads[j]))
	}
	for _, r := range rows {
		for j, s := range r {
			if j >= len(out) {
				out = append(out, 0)
			}
			out[j] = max(out[j], latexWidth(s))
		}
	}
	return out
}

// writeLatex writes the comparison as booktabs tabulars: the means table
// (keys, n, mean ± std per metric, best in bold, "(2/3)" after a value
// that only 2 of 3 runs have), then with a baseline the differences table
// (each tested metric's Δ, its 95 % CI where some cell has one, and its
// p-value), each preceded by a
// comment that says what it holds; the notes follow as comments, so that
// pasting the output into a paper keeps them beside the table until they
// go into its caption. The metric columns that do not fit a page
// (latexPageWidth) continue in a tabular below, the keys repeated, after
// a \medskip.
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
	// blockGap separates a table's blocks: a blank line alone stacks them
	// with no space, the bottom rule of one on the top rule of the next.
	const blockGap = "\n\\medskip\n"
	keys := len(c.Keys) + len(c.pooledColumns())
	rawKeys := append(ShortKeys(c.Keys), c.pooledHeads()...)
	head, raw := append(heads(), "n"), append(slices.Clone(rawKeys), "n")
	for _, m := range c.Metrics {
		head = append(head, latexEscape.Replace(m))
		raw = append(raw, m)
	}
	var rows, rawRows [][]string
	for i, row := range c.Rows {
		var cells []string
		for _, g := range c.groupCells(i, true) {
			cells = append(cells, latexEscape.Replace(g))
		}
		cells = append(cells, latexEscape.Replace(c.nText(i)))
		rawCells := append(c.groupCells(i, true), c.nText(i))
		for j, x := range row.Cells {
			cells = append(cells, latexNumber(fmts[j].value(x), x.Best)+latexEscape.Replace(count(x, len(row.Runs))))
			rawCells = append(rawCells, fmts[j].value(x)+count(x, len(row.Runs)))
		}
		rows, rawRows = append(rows, cells), append(rawRows, rawCells)
	}
	// pick returns the columns of r: the first lead, then those of the
	// metrics in block, per columns each.
	pick := func(r []string, lead, per int, block []int) []string {
		out := slices.Clone(r[:lead])
		for _, j := range block {
			out = append(out, r[lead+per*j:lead+per*(j+1)]...)
		}
		return out
	}
	sum := func(ws []float64) (t float64) {
		for _, w := range ws {
			t += w
		}
		return t
	}
	b.WriteString("% needs \\usepackage{booktabs}\n% " + c.meanNote() + ", best in bold\n")
	widths := columnWidths(raw, rawRows)
	for k, block := range latexBlocks(sum(widths[:keys+1]), widths[keys+1:]) {
		if k > 0 {
			b.WriteString(blockGap)
		}
		var part [][]string
		for _, r := range rows {
			part = append(part, pick(r, keys+1, 1, block))
		}
		table("", pick(head, keys+1, 1, block), keys, part)
	}
	if cols, trows := c.testedMetrics(), c.testedRows(); len(cols) > 0 && len(trows) > 0 {
		// Two rows of heads, each metric over its Δ and p columns: one
		// row of "metric Δ [95 % CI, unadjusted]" heads made the table two
		// or three page widths wide.
		rawDelta, _ := c.diffHeads("95 % CI")
		delta, holm := c.diffHeads(`95\,\% CI`)
		p, rawP := "$p$", "p"
		if holm {
			p, rawP = `$p_{\mathrm{Holm}}$`, "pHolm"
		}
		var rows, rawRows [][]string
		for _, i := range trows {
			var cells []string
			for _, g := range c.groupCells(i, false) {
				cells = append(cells, latexEscape.Replace(g))
			}
			rawCells := c.groupCells(i, false)
			for _, j := range cols {
				x := c.Rows[i].Cells[j]
				cells = append(cells, latexNumber(fmts[j].diff(x), false), latexNumber(formatP(x.PAdj), false)+latexMark[c.testMark(x)])
				rawCells = append(rawCells, fmts[j].diff(x), formatP(x.PAdj)+c.testMark(x))
			}
			rows, rawRows = append(rows, cells), append(rawRows, rawCells)
		}
		raw := slices.Clone(rawKeys)
		for range cols {
			raw = append(raw, "Δ"+rawDelta, rawP)
		}
		widths := columnWidths(raw, rawRows)
		var metricW []float64
		for k, j := range cols {
			metricW = append(metricW, max(widths[keys+2*k]+widths[keys+2*k+1], latexWidth(c.Metrics[j])))
		}
		fmt.Fprintf(&b, "\n%% %s\n", c.caption())
		for n, block := range latexBlocks(sum(widths[:keys]), metricW) {
			if n > 0 {
				b.WriteString(blockGap)
			}
			head := heads()
			top := strings.Repeat(" & ", keys)
			var rules []string
			for k, m := range block {
				if k > 0 {
					top += " & "
				}
				top += `\multicolumn{2}{c}{` + latexEscape.Replace(c.Metrics[cols[m]]) + `}`
				first := keys + 2*k + 1
				rules = append(rules, fmt.Sprintf(`\cmidrule(lr){%d-%d}`, first, first+1))
				head = append(head, `$\Delta$`+delta, p)
			}
			top += ` \\` + "\n" + strings.Join(rules, " ") + "\n"
			var part [][]string
			for _, r := range rows {
				part = append(part, pick(r, keys, 2, block))
			}
			table(top, head, keys, part)
		}
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
