package term

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/attnlab/attnlab/internal/printable"
)

// Column is one column of a Table.
type Column struct {
	// Head is the column's heading; it may span several lines
	// ("test/\nexact_match"). Heads are aligned at the bottom.
	Head string
	// Right right-aligns the column (numbers); heads follow the cells.
	Right bool
	// Key marks a row label: when the table is split into blocks, the Key
	// columns are repeated on the left of every block. Key columns come
	// first.
	Key bool
	// Drop > 0 lets the table leave the column out when it is too wide,
	// and Cut > 0 lets it cut the column's lines to fit, down to Min
	// columns (at least 4), each cut line ending with "…". Both are
	// priorities: the table gives up room at priority Cut or Drop from the
	// highest priority down, at each one first cutting, then dropping
	// (ties: the rightmost column first), until it fits.
	Drop int
	Cut  int
	Min  int
	// Middle cuts the column's lines in the middle, keeping both ends
	// ("sweep/none,[0…999]/seed=1"): for names whose ends tell rows apart.
	Middle bool
}

// Table is a plain text table: heads, an optional rule, rows; columns
// separated by spaces. The zero value is an empty table.
type Table struct {
	Columns []Column
	// Rows hold one cell per column (missing cells are empty); a cell may
	// hold several lines. Every line is shown through printable.Line, so
	// control characters in a stored string are escaped, never acted on,
	// and the layout counts their escapes.
	Rows [][]string
	// Gap is the number of spaces between columns; 0 means 2.
	Gap int
	// Rule draws a line of '─' under each column's head.
	Rule bool
	// Spaced puts an empty line between rows.
	Spaced bool
}

// StringWidth returns the display width of s: its rune count.
func StringWidth(s string) int { return utf8.RuneCountInString(s) }

// Truncate shortens s to at most n columns, ending it with "…" when cut.
func Truncate(s string, n int) string {
	if StringWidth(s) <= n || n < 1 {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// TruncateMiddle shortens s to at most n columns by putting "…" in place
// of its middle, keeping as much of its end as of its start (the start
// one more when n − 1 is odd).
func TruncateMiddle(s string, n int) string {
	if StringWidth(s) <= n || n < 3 {
		return Truncate(s, n)
	}
	r := []rune(s)
	tail := (n - 1) / 2
	return string(r[:n-1-tail]) + "…" + string(r[len(r)-tail:])
}

// Pad returns s padded with spaces to n columns (left-aligned), or
// right-aligned when right is set.
func Pad(s string, n int, right bool) string {
	w := StringWidth(s)
	if w >= n {
		return s
	}
	if right {
		return strings.Repeat(" ", n-w) + s
	}
	return s + strings.Repeat(" ", n-w)
}

// safeLines splits s into lines, each made safe to show (printable.Line:
// control characters escaped), so that widths are measured on what the
// terminal shows.
func safeLines(s string) []string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = printable.Line(l)
	}
	return lines
}

// Layout is how Render fitted a table.
type Layout struct {
	Dropped []string // heads of the columns left out (lines joined by a space)
	Cut     bool     // some cells were cut with "…"
	Blocks  int      // the number of blocks the columns were split into (1 when not split)
}

// Render writes the table in at most width columns (see the package doc):
// the heads (and rule), then the rows; a table split into blocks prints
// them one under the other, an empty line between them. Lines have no
// trailing spaces. A single column wider than width is printed whole.
// It returns how the table was fitted, and the writer's error.
func (t *Table) Render(w io.Writer, width int) (Layout, error) {
	gap := t.Gap
	if gap <= 0 {
		gap = 2
	}
	n := len(t.Columns)
	cells := make([][][]string, len(t.Rows)) // row, column, line
	for i, row := range t.Rows {
		cells[i] = make([][]string, n)
		for j := range n {
			s := ""
			if j < len(row) {
				s = row[j]
			}
			cells[i][j] = safeLines(s)
		}
	}
	heads := make([][]string, n)
	natural := make([]int, n)
	for j, c := range t.Columns {
		heads[j] = safeLines(c.Head)
		for _, l := range heads[j] {
			natural[j] = max(natural[j], StringWidth(l))
		}
		for i := range cells {
			for _, l := range cells[i][j] {
				natural[j] = max(natural[j], StringWidth(l))
			}
		}
	}
	widths := append([]int(nil), natural...)
	keep := make([]bool, n)
	for j := range keep {
		keep[j] = true
	}
	total := func() int {
		s, k := 0, 0
		for j := range n {
			if keep[j] {
				s += widths[j]
				k++
			}
		}
		return s + gap*max(k-1, 0)
	}
	var lay Layout
	top := 0
	for _, c := range t.Columns {
		top = max(top, c.Drop, c.Cut)
	}
	for p := top; p >= 1 && total() > width; p-- {
		for j := n - 1; j >= 0 && total() > width; j-- {
			c := t.Columns[j]
			if !keep[j] || c.Cut != p {
				continue
			}
			minW := max(c.Min, 4)
			for _, l := range heads[j] {
				minW = max(minW, min(StringWidth(l), widths[j]))
			}
			if cut := min(total()-width, widths[j]-minW); cut > 0 {
				widths[j] -= cut
			}
		}
		for j := n - 1; j >= 0 && total() > width; j-- {
			if keep[j] && t.Columns[j].Drop == p {
				keep[j] = false
				lay.Dropped = append(lay.Dropped, strings.Join(heads[j], " "))
			}
		}
	}
	// Give cut columns back the room that dropping freed.
	for j := range n {
		if room := width - total(); keep[j] && widths[j] < natural[j] && room > 0 {
			widths[j] = min(natural[j], widths[j]+room)
		}
	}
	lay.Cut = false
	for j := range n {
		lay.Cut = lay.Cut || (keep[j] && widths[j] < natural[j])
	}
	// 3. Split the other columns into blocks behind the key columns.
	var keys, rest []int
	for j := range n {
		switch {
		case !keep[j]:
		case t.Columns[j].Key:
			keys = append(keys, j)
		default:
			rest = append(rest, j)
		}
	}
	keyW := 0
	for _, j := range keys {
		keyW += widths[j] + gap
	}
	var blocks [][]int
	cur, curW := []int(nil), keyW
	for _, j := range rest {
		if len(cur) > 0 && curW+widths[j] > width {
			blocks = append(blocks, cur)
			cur, curW = nil, keyW
		}
		cur = append(cur, j)
		curW += widths[j] + gap
	}
	if len(cur) > 0 || len(blocks) == 0 {
		blocks = append(blocks, cur)
	}
	lay.Blocks = len(blocks)

	bw := bufio.NewWriter(w)
	for b, block := range blocks {
		if b > 0 {
			bw.WriteByte('\n')
		}
		cols := append(append([]int(nil), keys...), block...)
		t.writeBlock(bw, cols, widths, heads, cells, gap)
	}
	return lay, bw.Flush()
}

// writeBlock writes the heads and rows of the columns cols.
func (t *Table) writeBlock(w *bufio.Writer, cols, widths []int, heads [][]string, cells [][][]string, gap int) {
	sep := strings.Repeat(" ", gap)
	line := func(parts []string) {
		w.WriteString(strings.TrimRight(strings.Join(parts, sep), " "))
		w.WriteByte('\n')
	}
	nh := 0
	for _, j := range cols {
		nh = max(nh, len(heads[j]))
	}
	for k := range nh {
		parts := make([]string, len(cols))
		for p, j := range cols {
			h := heads[j]
			s := ""
			if i := k - (nh - len(h)); i >= 0 {
				s = h[i]
			}
			parts[p] = Pad(Truncate(s, widths[j]), widths[j], t.Columns[j].Right)
		}
		line(parts)
	}
	if t.Rule {
		parts := make([]string, len(cols))
		for p, j := range cols {
			parts[p] = strings.Repeat("─", widths[j])
		}
		line(parts)
	}
	for i := range cells {
		if t.Spaced && i > 0 {
			w.WriteByte('\n')
		}
		nl := 0
		for _, j := range cols {
			nl = max(nl, len(cells[i][j]))
		}
		for k := range nl {
			parts := make([]string, len(cols))
			for p, j := range cols {
				s := ""
				if k < len(cells[i][j]) {
					s = cells[i][j][k]
				}
				cut := Truncate
				if t.Columns[j].Middle {
					cut = TruncateMiddle
				}
				parts[p] = Pad(cut(s, widths[j]), widths[j], t.Columns[j].Right)
			}
			line(parts)
		}
	}
}

// Ordinal writes n in English as an ordinal: 1st, 2nd, 3rd, 4th, ...,
// 11th, 12th, 13th, ..., 21st (a dates task's day, a plot's "every 14th
// token").
func Ordinal(n int) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return strconv.Itoa(n) + suffix
}

// Thousands inserts commas in the integer s ("-84226" → "-84,226"), as
// the tables print counts and rates.
func Thousands(s string) string {
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
