package main

import (
	"fmt"
	"io"
	"strings"
)

// shades draw a weight in [0, 1] in five levels: [0, .2), [.2, .4), ...,
// [.8, 1].
var shades = []rune(" ░▒▓█")

// shade returns the character of weight w.
func shade(w float32) rune {
	i := int(w * float32(len(shades)))
	return shades[max(0, min(i, len(shades)-1))]
}

// writeHeatmap draws attention weights as text: one row per output token
// (labelled on the left), one column per source token (labelled on top),
// each cell a shade of its weight. Cells are two characters wide, or as
// wide as their label; when that would not fit in the page (--width, the
// terminal's; pageWidth if page is 0) and every label is one character,
// cells are one character wide with no gap. A map still wider than the
// page is drawn in blocks of the source's columns, one under the other,
// each headed by the columns it holds, so that no line is wider than the
// page (a source of 3,000 tokens made lines of 3,000 columns). A row may
// be shorter or longer than the source; missing cells are blank and extra
// ones dropped.
func writeHeatmap(w io.Writer, cols, rows []string, weights [][]float32, page int) {
	if page <= 0 {
		page = pageWidth
	}
	rowW := 0
	rowLabels := make([]string, len(rows))
	for i, r := range rows {
		rowLabels[i] = symbol(r)
		rowW = max(rowW, width(rowLabels[i]))
	}
	labels := make([]string, len(cols))
	colW := make([]int, len(cols))
	total, narrow := rowW, true
	for j, c := range cols {
		labels[j] = symbol(c)
		colW[j] = max(2, width(labels[j]))
		total += 1 + colW[j]
		narrow = narrow && width(labels[j]) == 1
	}
	gap := " "
	if total > page && narrow {
		gap = ""
		for j := range colW {
			colW[j] = 1
		}
	}
	// blocks: the source's columns [lo, hi) that each fit the page, at
	// least one column each.
	var blocks [][2]int
	for lo := 0; lo < len(cols) || lo == 0; {
		hi, used := lo, rowW+1
		for hi < len(cols) && (hi == lo || used+len(gap)+colW[hi] <= page) {
			if hi > lo {
				used += len(gap)
			}
			used += colW[hi]
			hi++
		}
		blocks = append(blocks, [2]int{lo, hi})
		if hi >= len(cols) {
			break
		}
		lo = hi
	}
	var b strings.Builder
	fmt.Fprintf(&b, "attention (rows: output tokens, columns: source tokens; %s)\n", legend())
	for k, bl := range blocks {
		if len(blocks) > 1 {
			if k > 0 {
				b.WriteByte('\n')
			}
			fmt.Fprintf(&b, "source tokens %d–%d of %d:\n", bl[0]+1, bl[1], len(cols))
		}
		b.WriteString(strings.Repeat(" ", rowW) + " ")
		for j := bl[0]; j < bl[1]; j++ {
			if j > bl[0] {
				b.WriteString(gap)
			}
			b.WriteString(padLeft(labels[j], colW[j]))
		}
		b.WriteByte('\n')
		for i := range rows {
			b.WriteString(padLeft(rowLabels[i], rowW) + " ")
			for j := bl[0]; j < bl[1]; j++ {
				c := ' '
				if i < len(weights) && j < len(weights[i]) {
					c = shade(weights[i][j])
				}
				if j > bl[0] {
					b.WriteString(gap)
				}
				b.WriteString(strings.Repeat(string(c), colW[j]))
			}
			b.WriteString("\n")
		}
	}
	for _, l := range strings.SplitAfter(b.String(), "\n") {
		io.WriteString(w, strings.TrimRight(l, " \n"))
		if strings.HasSuffix(l, "\n") {
			io.WriteString(w, "\n")
		}
	}
}

// legend explains the shades: "' '<0.2 ░<0.4 ▒<0.6 ▓<0.8 █≥0.8".
func legend() string {
	var parts []string
	step := 1 / float64(len(shades))
	for i, s := range shades {
		mark := string(s)
		if s == ' ' {
			mark = "' '"
		}
		if i == len(shades)-1 {
			parts = append(parts, fmt.Sprintf("%s≥%.1f", mark, float64(i)*step))
		} else {
			parts = append(parts, fmt.Sprintf("%s<%.1f", mark, float64(i+1)*step))
		}
	}
	return strings.Join(parts, " ")
}
