package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/attnlab/attnlab/internal/testenv"
)

// comparisons returns the comparisons the format tests render, by name.
func comparisons(t *testing.T) map[string]*Comparison {
	t.Helper()
	st, _ := buildStore(t, scanExperiment(), divergeExperiment(), welchExperiment())
	return map[string]*Comparison{
		"scan":          mustCompare(t, st, Query{Experiments: []string{"scan-attn"}}),
		"scan_baseline": mustCompare(t, st, Query{Experiments: []string{"scan-attn"}, Baseline: "attention.name=none"}),
		"scan_sorted":   mustCompare(t, st, Query{Experiments: []string{"scan-attn"}, By: []string{"attention.name"}, Sort: "test/loss", Metrics: []string{"test/exact_match", "test/exact_match/len_21_40", "test/attn_entropy"}}),
		"scan_wide": mustCompare(t, st, Query{Experiments: []string{"scan-attn"}, Baseline: "attention.name=none",
			Metrics: []string{"test/exact_match", "test/bleu", "test/loss", "valid/loss", "perf/tokens_per_s", "model/params"}}),
		"diverge": mustCompare(t, st, Query{Experiments: []string{"diverge"}, Baseline: "lr=0.001"}),
		"welch":   mustCompare(t, st, Query{Experiments: []string{"welch"}, Baseline: "variant=b"}),
		// p_adj is p: the CSV must say so, having no notes.
		"scan_noadjust": mustCompare(t, st, Query{Experiments: []string{"scan-attn"}, Baseline: "attention.name=none", NoAdjust: true}),
	}
}

func render(t *testing.T, c *Comparison, format string) string {
	t.Helper()
	var b bytes.Buffer
	if err := c.Write(&b, format); err != nil {
		t.Fatalf("Write %s: %v", format, err)
	}
	return b.String()
}

// TestWriteGolden pins every format; the tables at the default width, and
// the two widest at 80 and 120 columns, as a terminal would show them.
func TestWriteGolden(t *testing.T) {
	cs := comparisons(t)
	for _, name := range []string{"scan", "scan_sorted", "diverge", "welch"} {
		golden(t, "compare_"+name+".golden", []byte(render(t, cs[name], "table")))
	}
	for _, name := range []string{"scan_baseline", "scan_wide"} {
		for _, width := range []int{80, 120} {
			var b bytes.Buffer
			if err := cs[name].WriteWidth(&b, "table", width); err != nil {
				t.Fatal(err)
			}
			golden(t, fmt.Sprintf("compare_%s.%d.golden", name, width), b.Bytes())
		}
	}
	golden(t, "compare_scan_baseline.md.golden", []byte(render(t, cs["scan_baseline"], "markdown")))
	golden(t, "compare_scan_baseline.csv.golden", []byte(render(t, cs["scan_baseline"], "csv")))
	golden(t, "compare_scan_baseline.json.golden", []byte(render(t, cs["scan_baseline"], "json")))
}

// TestWriteTableWidth: the table fits the width it is given, splitting
// its columns into blocks, down to 80 columns (and 60 for the narrow
// fixtures), and every row still shows all its metrics.
func TestWriteTableWidth(t *testing.T) {
	cs := comparisons(t)
	for _, name := range []string{"scan", "scan_baseline", "scan_wide", "scan_sorted", "diverge", "welch"} {
		for _, width := range []int{60, 80, 100, 120} {
			var b bytes.Buffer
			if err := cs[name].WriteWidth(&b, "table", width); err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(b.String(), "\n") {
				if n := utf8.RuneCountInString(line); n > width {
					t.Errorf("%s at %d: line of %d columns:\n%s", name, width, n, line)
				}
			}
			for _, m := range cs[name].Metrics {
				if !strings.Contains(b.String(), m[strings.LastIndexByte(m, '/')+1:]) {
					t.Errorf("%s at %d: metric %s not shown", name, width, m)
				}
			}
		}
	}
}

// TestWrapKeepsPhrases: at no width do the notes break inside "n − 1 df"
// and the other phrases wrap keeps together.
func TestWrapKeepsPhrases(t *testing.T) {
	cs := comparisons(t)
	phrases := []string{"n − 1 df", "95 %", "C(n+m, n)", "(p = 1"}
	// Constant sides, for the exact tests' notes.
	x := fakeExperiment{name: "tie"}
	for i := range 3 {
		x.runs = append(x.runs, trustRun("none", int64(i+1), 0.5, nil), trustRun("general", int64(i+1), 0.6, nil))
	}
	st, _ := buildStore(t, x)
	cs["exact"] = mustCompare(t, st, Query{Experiments: []string{"tie"}, Baseline: "attention.name=none"})
	cs["exact_unpaired"] = mustCompare(t, st, Query{Experiments: []string{"tie"}, Baseline: "attention.name=none", Unpaired: true})
	seen := map[string]bool{}
	for _, name := range []string{"scan", "scan_baseline", "scan_wide", "diverge", "welch", "exact", "exact_unpaired"} {
		for width := 40; width <= 120; width++ {
			var b bytes.Buffer
			if err := cs[name].WriteWidth(&b, "table", width); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			flat := strings.Join(strings.Fields(out), " ")
			for _, p := range phrases {
				if strings.Contains(flat, p) {
					seen[p] = true
					if !strings.Contains(out, p) {
						t.Errorf("%s at %d: %q broken across lines:\n%s", name, width, p, out)
					}
				}
			}
			if strings.Contains(out, "\u00a0") {
				t.Errorf("%s at %d: a no-break space is printed", name, width)
			}
		}
	}
	for _, p := range phrases {
		if !seen[p] {
			t.Errorf("no fixture's notes say %q: the test checks nothing for it", p)
		}
	}
}

// sameFloat compares exactly, NaN equal to NaN.
func sameFloat(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }

// csvNum reads a CSV number back: "" is NaN (a value that does not exist).
func csvNum(t *testing.T, s string) float64 {
	t.Helper()
	if s == "" {
		return math.NaN()
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("csv number %q: %v", s, err)
	}
	return v
}

func TestWriteCSVRoundTrip(t *testing.T) {
	for name, c := range comparisons(t) {
		out := render(t, c, "csv")
		if strings.Contains(out, "NaN") {
			t.Errorf("%s: CSV holds NaN; a value that does not exist is an empty field:\n%s", name, out)
		}
		recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := slices.Clone(c.Keys)
		for _, k := range c.Pooled {
			want = append(want, k+" (pooled)")
		}
		want = append(want, "n", "failed", "unfinished", "baseline")
		for _, m := range c.Metrics {
			want = append(want, m+"_mean", m+"_std", m+"_n", m+"_nan", m+"_inf", m+"_best")
		}
		tested := c.testedMetrics()
		for _, j := range tested {
			m := c.Metrics[j]
			want = append(want, m+"_diff", m+"_ci_low", m+"_ci_high", m+"_p", m+"_p_adj", m+"_test", m+"_adjustment")
		}
		if !slices.Equal(recs[0], want) {
			t.Errorf("%s: header %q, want %q", name, recs[0], want)
		}
		if len(recs) != len(c.Rows)+1 {
			t.Fatalf("%s: %d records, want %d", name, len(recs), len(c.Rows)+1)
		}
		nk := len(c.Keys) + len(c.Pooled)
		for i, row := range c.Rows {
			rec := recs[i+1]
			if !slices.Equal(rec[:len(c.Keys)], row.Group) {
				t.Errorf("%s row %d: group %q, want %q", name, i, rec[:len(c.Keys)], row.Group)
			}
			if rec[nk] != strconv.Itoa(len(row.Runs)) || rec[nk+1] != strconv.Itoa(len(row.Failed)) || rec[nk+2] != strconv.Itoa(row.Unfinished) ||
				rec[nk+3] != strconv.FormatBool(i == c.Baseline) {
				t.Errorf("%s row %d: n, failed, unfinished, baseline = %q, %q, %q, %q", name, i, rec[nk], rec[nk+1], rec[nk+2], rec[nk+3])
			}
			for j, cell := range row.Cells {
				f := rec[nk+4+6*j:]
				n, err1 := strconv.Atoi(f[2])
				nan, err2 := strconv.Atoi(f[3])
				inf, err3 := strconv.Atoi(f[4])
				best, err4 := strconv.ParseBool(f[5])
				if err := errorsJoin(err1, err2, err3, err4); err != nil {
					t.Fatalf("%s row %d %s: %v", name, i, c.Metrics[j], err)
				}
				// nan and inf count apart what Cell.NaN counts together.
				if !sameFloat(csvNum(t, f[0]), cell.Mean) || !sameFloat(csvNum(t, f[1]), cell.Std) || n != cell.N ||
					nan != cell.NaN-cell.Infinite || inf != cell.Infinite || best != cell.Best {
					t.Errorf("%s row %d %s: csv %q, want %v %v %v %v %v %v", name, i, c.Metrics[j], f[:6], cell.Mean, cell.Std, cell.N, cell.NaN-cell.Infinite, cell.Infinite, cell.Best)
				}
			}
			for k, j := range tested {
				cell := row.Cells[j]
				f := rec[nk+4+6*len(c.Metrics)+7*k:]
				want := map[[3]bool]string{{true, true, false}: "paired", {true, false, false}: "welch", {true, true, true}: "sign-flip",
					{true, false, true}: "permutation"}[[3]bool{cell.Tested, cell.Paired, cell.Exact}]
				if math.IsNaN(cell.P) {
					want = "" // no test could run
				}
				if f[5] != want {
					t.Errorf("%s row %d %s: test %q, want %q", name, i, c.Metrics[j], f[5], want)
				}
				// The CSV has no notes: each p says how it was adjusted.
				adj := map[bool]string{true: "holm", false: "none"}[c.Adjusted]
				if math.IsNaN(cell.PAdj) {
					adj = ""
				}
				if f[6] != adj {
					t.Errorf("%s row %d %s: adjustment %q, want %q", name, i, c.Metrics[j], f[6], adj)
				}
				for x, want := range []float64{cell.Diff, cell.Low, cell.High, cell.P, cell.PAdj} {
					if !sameFloat(csvNum(t, f[x]), want) {
						t.Errorf("%s row %d %s: test field %d = %q, want %v", name, i, c.Metrics[j], x, f[x], want)
					}
				}
			}
		}
	}
}

func errorsJoin(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func TestWriteJSONRoundTrip(t *testing.T) {
	for name, c := range comparisons(t) {
		out := render(t, c, "json")
		var back Comparison
		if err := json.Unmarshal([]byte(out), &back); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
		if !slices.Equal(back.Keys, c.Keys) || !slices.Equal(back.Metrics, c.Metrics) || back.Baseline != c.Baseline || back.SortedBy != c.SortedBy ||
			len(back.Rows) != len(c.Rows) || back.Adjusted != c.Adjusted || back.Tasks != c.Tasks || !slices.Equal(back.Derived, c.Derived) {
			t.Fatalf("%s: read back %+v, want %+v", name, back, c)
		}
		for i, row := range c.Rows {
			got := back.Rows[i]
			if !slices.Equal(got.Group, row.Group) || !slices.Equal(got.Runs, row.Runs) || got.Task != row.Task {
				t.Errorf("%s row %d: %q %v, want %q %v", name, i, got.Group, got.Runs, row.Group, row.Runs)
			}
			for j, cell := range row.Cells {
				g := got.Cells[j]
				if !sameFloat(g.Mean, cell.Mean) || !sameFloat(g.Std, cell.Std) || !sameFloat(g.P, cell.P) ||
					!sameFloat(g.PAdj, cell.PAdj) || !sameFloat(g.Diff, cell.Diff) || !sameFloat(g.Low, cell.Low) ||
					!sameFloat(g.High, cell.High) || g.Tested != cell.Tested || g.Paired != cell.Paired || g.Exact != cell.Exact ||
					g.Averaged != cell.Averaged || g.N != cell.N || g.NaN != cell.NaN || g.Best != cell.Best ||
					!slices.EqualFunc(g.Values, cell.Values, sameFloat) {
					t.Errorf("%s row %d %s: read back %+v, want %+v", name, i, c.Metrics[j], g, cell)
				}
			}
		}
		// Machine readers see plain JSON: cells by metric, NaN as null.
		var generic struct {
			Rows []struct {
				Group map[string]string         `json:"group"`
				Cells map[string]map[string]any `json:"cells"`
			} `json:"rows"`
		}
		if err := json.Unmarshal([]byte(out), &generic); err != nil {
			t.Fatal(err)
		}
		for i, row := range generic.Rows {
			for j, m := range c.Metrics {
				if v, ok := row.Cells[m]["mean"]; !ok || (v == nil) != math.IsNaN(c.Rows[i].Cells[j].Mean) {
					t.Errorf("%s row %d %s: mean %v in JSON, want null exactly when NaN", name, i, m, v)
				}
			}
		}
	}
}

// parsedCell is a table or markdown cell read back: "0.913 ± 0.008*",
// "15,267 ± 208", "0.310 ± 0.014* (2/3)", "**0.952 ± 0.009**", "52,000",
// "NaN", "—".
type parsedCell struct {
	mean, std float64 // NaN when absent
	decimals  int     // digits after the point of the mean
	best      bool
	k, n      int // from "(k/n)", 0 if absent
}

func parseCell(t *testing.T, s string) parsedCell {
	t.Helper()
	s = strings.TrimSpace(s)
	c := parsedCell{mean: math.NaN(), std: math.NaN()}
	if i := strings.Index(s, " ("); i >= 0 {
		if _, err := fmt.Sscanf(s[i:], " (%d/%d)", &c.k, &c.n); err != nil {
			t.Fatalf("cell %q: %v", s, err)
		}
		s = s[:i]
	}
	if strings.HasSuffix(s, "*") || strings.HasPrefix(s, "**") {
		c.best = true
		s = strings.Trim(s, "*")
	}
	if s == "—" || s == "NaN" {
		return c
	}
	num := func(x string) float64 {
		v, err := strconv.ParseFloat(strings.ReplaceAll(x, ",", ""), 64)
		if err != nil {
			t.Fatalf("cell %q: %v", s, err)
		}
		return v
	}
	mean, std, hasStd := strings.Cut(strings.ReplaceAll(s, " ± ", "±"), "±")
	c.mean = num(mean)
	if i := strings.IndexByte(mean, '.'); i >= 0 {
		c.decimals = len(mean) - i - 1
	}
	if hasStd {
		c.std = num(std)
	}
	return c
}

// checkCell reports whether a rounded cell shows the cell's numbers.
func checkCell(t *testing.T, where string, got parsedCell, cell Cell, runs int) {
	t.Helper()
	tol := 0.5*math.Pow10(-got.decimals) + 1e-9
	if got.best != cell.Best {
		t.Errorf("%s: best mark %v, want %v", where, got.best, cell.Best)
	}
	if cell.N == 0 {
		if !math.IsNaN(got.mean) {
			t.Errorf("%s: shows %v for a cell without value", where, got.mean)
		}
		return
	}
	if math.Abs(got.mean-cell.Mean) > tol {
		t.Errorf("%s: mean %v, want %v rounded to %d decimals", where, got.mean, cell.Mean, got.decimals)
	}
	if !math.IsNaN(got.std) && math.Abs(got.std-cell.Std) > tol {
		t.Errorf("%s: std %v, want %v", where, got.std, cell.Std)
	}
	if math.IsNaN(got.std) && cell.N >= 2 && cell.Std != 0 {
		t.Errorf("%s: std missing, want %v", where, cell.Std)
	}
	if cell.N < runs && (got.k != cell.N || got.n != runs) {
		t.Errorf("%s: count (%d/%d), want (%d/%d)", where, got.k, got.n, cell.N, runs)
	}
}

// isRule reports whether line is a table's rule under its heads.
func isRule(line string) bool {
	return strings.Contains(line, "─") && strings.Trim(line, "─ ") == ""
}

// fields splits a table line at runs of two or more spaces.
func fields(line string) []string {
	return regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(line), -1)
}

// tableRows reads a table rendered in one block: the cells of the means
// table's rows and, after the second rule, of the difference table's rows
// (two lines each, an empty line between rows).
func tableRows(t *testing.T, out string, diffRows int) (means [][]string, diffs [][2][]string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	rule, ended := 0, false
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		switch {
		case isRule(line):
			rule++
		case rule == 1 && line == "":
			ended = true // the means table ends at its first empty line
		case rule == 1 && !ended:
			means = append(means, fields(line))
		case rule == 2 && line != "" && len(diffs) < diffRows:
			if i+1 >= len(lines) {
				t.Fatalf("difference row without its p line:\n%s", out)
			}
			diffs = append(diffs, [2][]string{fields(line), fields(lines[i+1])})
			i++
		}
	}
	return means, diffs
}

func TestWriteTableCarriesTheNumbers(t *testing.T) {
	for name, c := range comparisons(t) {
		var b bytes.Buffer
		if err := c.WriteWidth(&b, "table", 1000); err != nil { // one block
			t.Fatal(err)
		}
		out := b.String()
		tested, trows := c.testedMetrics(), c.testedRows()
		if len(tested) == 0 {
			trows = nil
		}
		rows, diffs := tableRows(t, out, len(trows))
		if len(rows) != len(c.Rows) || len(diffs) != len(trows) {
			t.Fatalf("%s: %d and %d table rows, want %d and %d:\n%s", name, len(rows), len(diffs), len(c.Rows), len(trows), out)
		}
		nk := len(c.Keys) + len(c.Pooled)
		for i, row := range c.Rows {
			for k, g := range row.Group {
				want := displayGroup(g)
				if i == c.Baseline && k == len(c.Keys)-1 {
					want += " (baseline)"
				}
				if rows[i][k] != want {
					t.Errorf("%s row %d key %s: %q, want %q", name, i, c.Keys[k], rows[i][k], want)
				}
			}
			var more []string
			if f := len(row.Failed); f > 0 {
				more = append(more, "+"+strconv.Itoa(f)+" failed")
			}
			if u := row.Unfinished; u > 0 {
				more = append(more, "+"+strconv.Itoa(u)+" unfinished")
			}
			wantN := strconv.Itoa(len(row.Runs))
			if len(more) > 0 {
				wantN += " (" + strings.Join(more, ", ") + ")"
			}
			if rows[i][nk] != wantN {
				t.Errorf("%s row %d: n = %q, want %q", name, i, rows[i][nk], wantN)
			}
			for j, cell := range row.Cells {
				where := name + " row " + strconv.Itoa(i) + " " + c.Metrics[j]
				checkCell(t, where, parseCell(t, rows[i][nk+1+j]), cell, len(row.Runs))
			}
		}
		for r, i := range trows {
			row := c.Rows[i]
			if got := diffs[r][0][:len(c.Keys)]; !slices.Equal(got, row.Group) && !(len(c.Keys) == 1 && got[0] == displayGroup(row.Group[0])) {
				t.Errorf("%s difference row %d: keys %q, want %q", name, r, got, row.Group)
			}
			if len(diffs[r][0]) != nk+len(tested) || len(diffs[r][1]) != len(tested) {
				t.Fatalf("%s difference row %d: %q / %q", name, r, diffs[r][0], diffs[r][1])
			}
			for k, j := range tested {
				where := name + " difference row " + strconv.Itoa(r) + " " + c.Metrics[j]
				cell := row.Cells[j]
				checkDiff(t, where, diffs[r][0][nk+k], cell)
				checkP(t, where, diffs[r][1][k], c, cell)
			}
		}
	}
}

// checkDiff reads "+0.598 [0.430, 0.766]" (or "+0.598", "—") back and
// compares it with the cell's difference and interval.
func checkDiff(t *testing.T, where, s string, cell Cell) {
	t.Helper()
	if s == "—" {
		if !math.IsNaN(cell.Diff) {
			t.Errorf("%s: difference shown as —, want %v", where, cell.Diff)
		}
		return
	}
	d, ci, hasCI := strings.Cut(s, " [")
	num := func(x string) (float64, int) {
		v, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimPrefix(x, "+"), ",", ""), 64)
		if err != nil {
			t.Fatalf("%s: %q: %v", where, s, err)
		}
		dec := 0
		if i := strings.IndexByte(x, '.'); i >= 0 {
			dec = len(x) - i - 1
		}
		return v, dec
	}
	close := func(got float64, dec int, want float64) bool {
		return got == want || math.Abs(got-want) <= 0.5*math.Pow10(-dec)+1e-9
	}
	if !strings.HasPrefix(d, "+") && !strings.HasPrefix(d, "-") {
		t.Errorf("%s: difference %q without a sign", where, d)
	}
	if v, dec := num(d); !close(v, dec, cell.Diff) {
		t.Errorf("%s: difference %q, want %v", where, d, cell.Diff)
	}
	if !hasCI {
		if !math.IsNaN(cell.Low) {
			t.Errorf("%s: no interval shown, want [%v, %v]", where, cell.Low, cell.High)
		}
		return
	}
	lo, hi, _ := strings.Cut(strings.TrimSuffix(ci, "]"), ", ")
	if v, dec := num(lo); !close(v, dec, cell.Low) {
		t.Errorf("%s: interval low %q, want %v", where, lo, cell.Low)
	}
	if v, dec := num(hi); !close(v, dec, cell.High) {
		t.Errorf("%s: interval high %q, want %v", where, hi, cell.High)
	}
}

// checkP reads a p text back ("p=0.058", "p<0.001", "0.058", "<0.001",
// "—") and compares it with p.
// checkP checks a shown p-value against the cell's adjusted p and its
// mark: ‡ for an exact test, † for Welch's where the comparison paired
// some other cell, none otherwise.
func checkP(t *testing.T, where, s string, c *Comparison, cell Cell) {
	t.Helper()
	p := cell.PAdj
	s = strings.TrimPrefix(strings.TrimPrefix(s, "p"), "=")
	paired := false
	for _, row := range c.Rows {
		for _, x := range row.Cells {
			paired = paired || (x.Tested && x.Paired)
		}
	}
	want := ""
	switch {
	case math.IsNaN(cell.P):
	case cell.Exact:
		want = "‡"
	case !cell.Paired && paired:
		want = "†"
	}
	mark := ""
	for _, m := range []string{"†", "‡"} {
		if strings.HasSuffix(s, m) {
			s, mark = strings.TrimSuffix(s, m), m
		}
	}
	if mark != want {
		t.Errorf("%s: p %q marked %q, want %q", where, s, mark, want)
	}
	switch {
	case s == "—":
		if !math.IsNaN(p) {
			t.Errorf("%s: p shown as —, want %v", where, p)
		}
	case s == "<0.001":
		if !(p < 0.001) {
			t.Errorf("%s: p shown as <0.001, want %v", where, p)
		}
	default:
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || math.Abs(v-p) > 0.0005+1e-12 {
			t.Errorf("%s: p shown as %q, want %v", where, s, p)
		}
	}
}

func TestWriteMarkdownCarriesTheNumbers(t *testing.T) {
	for name, c := range comparisons(t) {
		out := render(t, c, "markdown")
		// The tables: lines starting with '|', a table ends at a line
		// that does not.
		var tables [][][]string
		in := false
		for _, line := range strings.Split(out, "\n") {
			if !strings.HasPrefix(line, "|") {
				in = false
				continue
			}
			if !in {
				tables = append(tables, nil)
				in = true
			}
			line = strings.ReplaceAll(line, `\|`, "\x00")
			cells := strings.Split(strings.Trim(line, "|"), "|")
			for k := range cells {
				cells[k] = strings.TrimSpace(strings.ReplaceAll(cells[k], "\x00", "|"))
			}
			tables[len(tables)-1] = append(tables[len(tables)-1], cells)
		}
		tested, trows := c.testedMetrics(), c.testedRows()
		wantTables := 1
		if len(tested) > 0 && len(trows) > 0 {
			wantTables = 2
		}
		if len(tables) != wantTables || len(tables[0]) != len(c.Rows)+2 {
			t.Fatalf("%s: %d markdown tables, want %d with %d rows:\n%s", name, len(tables), wantTables, len(c.Rows), out)
		}
		header, rows := tables[0][0], tables[0][2:]
		for k, key := range c.Keys {
			if header[k] != key {
				t.Errorf("%s: header %q, want the full key %q", name, header[k], key)
			}
		}
		nk := len(c.Keys) + len(c.Pooled)
		for i, row := range c.Rows {
			for k, g := range row.Group {
				want := displayGroup(g)
				if i == c.Baseline && k == len(c.Keys)-1 {
					want += " (baseline)"
				}
				if rows[i][k] != want {
					t.Errorf("%s row %d key %d: %q, want %q", name, i, k, rows[i][k], want)
				}
			}
			for j, cell := range row.Cells {
				where := name + " markdown row " + strconv.Itoa(i) + " " + c.Metrics[j]
				checkCell(t, where, parseCell(t, rows[i][nk+1+j]), cell, len(row.Runs))
			}
		}
		if wantTables == 1 {
			continue
		}
		diffs := tables[1][2:]
		if len(diffs) != len(trows) {
			t.Fatalf("%s: %d difference rows, want %d", name, len(diffs), len(trows))
		}
		for r, i := range trows {
			for k, j := range tested {
				where := name + " markdown difference row " + strconv.Itoa(r) + " " + c.Metrics[j]
				cell := c.Rows[i].Cells[j]
				checkDiff(t, where, diffs[r][nk+2*k], cell)
				checkP(t, where, strings.ReplaceAll(diffs[r][nk+2*k+1], "&lt;", "<"), c, cell)
			}
		}
	}
}

func TestWriteUnknownFormat(t *testing.T) {
	c := &Comparison{Baseline: -1}
	err := c.Write(&bytes.Buffer{}, "xml")
	if err == nil || !strings.Contains(err.Error(), "known: table, markdown, latex, csv, json") {
		t.Errorf("Write xml: %v", err)
	}
	// An empty comparison renders in every format.
	for _, f := range Formats {
		if err := c.Write(&bytes.Buffer{}, f); err != nil {
			t.Errorf("empty comparison, %s: %v", f, err)
		}
	}
}

func TestShortKeys(t *testing.T) {
	for _, tc := range []struct{ keys, want []string }{
		{[]string{"model.attention.name", "model.encoder.hidden"}, []string{"attention.name", "encoder.hidden"}},
		{[]string{"experiment", "seed", "lr", "model.embed"}, []string{"experiment", "seed", "lr", "model.embed"}},
		{[]string{"model.encoder.attention.name", "model.decoder.attention.name"}, []string{"encoder.attention.name", "decoder.attention.name"}},
		{[]string{"a.b.name", "b.name"}, []string{"a.b.name", "b.name"}},
	} {
		if got := ShortKeys(tc.keys); !slices.Equal(got, tc.want) {
			t.Errorf("ShortKeys(%q) = %q, want %q", tc.keys, got, tc.want)
		}
	}
}

func TestNumberFormats(t *testing.T) {
	for _, tc := range []struct {
		f    colFormat
		x    float64
		want string
	}{
		{colFormat{decimals: 3}, 0.91234, "0.912"},
		{colFormat{decimals: 0}, 15266.6, "15,267"},
		{colFormat{decimals: 0}, -1234567, "-1,234,567"},
		{colFormat{decimals: 0}, 999, "999"},
		{colFormat{decimals: 1}, 123.45, "123.5"},
		{colFormat{decimals: -1}, 0.00012345, "0.000123"},
		{colFormat{decimals: 3}, math.NaN(), "NaN"},
		{colFormat{decimals: 3}, math.Inf(1), "+Inf"},
	} {
		if got := tc.f.num(tc.x); got != tc.want {
			t.Errorf("num(%v, %d) = %q, want %q", tc.x, tc.f.decimals, got, tc.want)
		}
	}
	// A diverged run's loss: three significant digits, not 32 of them.
	huge := &Comparison{Metrics: []string{"test/loss"}, Rows: []Row{{Cells: []Cell{{Mean: 6.854708e31, Std: 1e30, N: 2}}}}}
	if f := newColFormat(huge, 0); f.num(6.854708e31) != "6.85e+31" {
		t.Errorf("a huge mean is written %q", f.num(6.854708e31))
	}
	for _, tc := range []struct {
		p    float64
		want string
	}{{0.0578, "0.058"}, {0.0009, "<0.001"}, {1, "1.000"}, {math.NaN(), "—"},
		// Just under a threshold, it reads under it.
		{0.0496, "0.0496"}, {0.04996, "0.04996"}, {0.00996, "0.00996"}, {0.0995, "0.0995"}, {0.0504, "0.050"}, {0.015, "0.015"}} {
		if got := formatP(tc.p); got != tc.want {
			t.Errorf("formatP(%v) = %q, want %q", tc.p, got, tc.want)
		}
	}
	if got := wrap("aaa bbb ccc", 7); got != "aaa bbb\nccc" {
		t.Errorf("wrap = %q", got)
	}
}

// TestWriteLatex: the LaTeX tables have a row per comparison row and a
// cell per column, the best values in bold and nowhere else, every text
// escaped (no bare _, &, %, # outside math), braces and math balanced;
// the notes follow as comments.
func TestWriteLatex(t *testing.T) {
	cs := comparisons(t)
	golden(t, "compare_scan_baseline.tex.golden", []byte(render(t, cs["scan_baseline"], "latex")))
	bare := regexp.MustCompile(`(^|[^\\])[_&%#]`)
	for name, c := range cs {
		out := render(t, c, "latex")
		var tables [][][]string
		in := false
		for _, line := range strings.Split(out, "\n") {
			switch {
			case strings.HasPrefix(line, `\begin{tabular}`):
				tables = append(tables, nil)
			case line == `\midrule`:
				in = true
			case line == `\bottomrule`:
				in = false
			case in:
				row, ok := strings.CutSuffix(line, ` \\`)
				if !ok {
					t.Errorf("%s: row %q does not end with \\\\", name, line)
				}
				tables[len(tables)-1] = append(tables[len(tables)-1], strings.Split(row, " & "))
			case strings.HasPrefix(line, "%"), line == "", line == `\toprule`, line == `\end{tabular}`:
			default: // the head
				if len(tables) == 0 {
					t.Fatalf("%s: %q before any table", name, line)
				}
			}
		}
		if len(tables) == 0 || len(tables[0]) != len(c.Rows) {
			t.Fatalf("%s: %d tables, the first with %d rows; want %d rows:\n%s", name, len(tables), len(tables[0]), len(c.Rows), out)
		}
		keys := len(c.Keys) + len(c.Pooled)
		for i, cells := range tables[0] {
			if len(cells) != keys+1+len(c.Metrics) {
				t.Fatalf("%s row %d: %d cells, want %d: %q", name, i, len(cells), keys+1+len(c.Metrics), cells)
			}
			for j, cell := range cells[keys+1:] {
				if bold := strings.Contains(cell, `\mathbf{`); bold != c.Rows[i].Cells[j].Best {
					t.Errorf("%s row %d %s: %q, best %v", name, i, c.Metrics[j], cell, c.Rows[i].Cells[j].Best)
				}
			}
		}
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "%") {
				continue
			}
			text := regexp.MustCompile(`\$[^$]*\$`).ReplaceAllString(line, "")
			if strings.Count(line, "$")%2 != 0 || strings.Count(line, "{")-strings.Count(line, `\{`) != strings.Count(line, "}")-strings.Count(line, `\}`) {
				t.Errorf("%s: unbalanced $ or braces: %q", name, line)
			}
			if bare.MatchString(strings.ReplaceAll(text, " & ", " ")) {
				t.Errorf("%s: unescaped special character in %q", name, line)
			}
		}
	}
	if got := latexEscape.Replace(`a_b&c%d#e$f{g}~^\`); got != `a\_b\&c\%d\#e\$f\{g\}\textasciitilde{}\textasciicircum{}\textbackslash{}` {
		t.Errorf("escaped %q", got)
	}
	if got := latexNumber("134,854 ± 11,077", true); got != `$\mathbf{134{,}854 \pm 11{,}077}$` {
		t.Errorf("latexNumber = %q", got)
	}
	if got := latexNumber("+0.497 [0.348, 0.647]", false); got != `$+0.497\ [0.348, 0.647]$` {
		t.Errorf("latexNumber = %q", got)
	}
}

// TestLatexCompiles runs pdflatex on every fixture's LaTeX tables: the
// escaping and math mode are what TeX accepts, not what the test expects.
func TestLatexCompiles(t *testing.T) {
	pdflatex := testenv.PDFLaTeX(t)
	dir := t.TempDir()
	var doc strings.Builder
	doc.WriteString("\\documentclass{article}\n\\usepackage[utf8]{inputenc}\n\\usepackage{booktabs}\n\\begin{document}\n\\tiny\n")
	cs := comparisons(t)
	names := slices.Sorted(maps.Keys(cs))
	for _, name := range names {
		file := name + ".tex"
		if err := os.WriteFile(filepath.Join(dir, file), []byte(render(t, cs[name], "latex")), 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&doc, "\\input{%s}\n\n", file)
	}
	doc.WriteString("\\end{document}\n")
	if err := os.WriteFile(filepath.Join(dir, "doc.tex"), []byte(doc.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, pdflatex, "-interaction=nonstopmode", "-halt-on-error", "doc.tex")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		lines := strings.Split(string(out), "\n")
		t.Fatalf("pdflatex: %v\n%s", err, strings.Join(lines[max(0, len(lines)-25):], "\n"))
	}
	if _, err := os.Stat(filepath.Join(dir, "doc.pdf")); err != nil {
		t.Fatalf("no PDF: %v", err)
	}
}

// TestWrapKeepsUserSpaces: the no-break spaces wrap uses to keep phrases
// together are undone, but a no-break space in a user's value is printed
// as it is stored.
func TestWrapKeepsUserSpaces(t *testing.T) {
	label := "attention.name=no\u00a0attention"
	s := wrap("Against the baseline "+label+": Δ = row mean − baseline mean with its 95 % confidence interval (n − 1 df)", 60)
	if !strings.Contains(s, label) || strings.Count(s, "\u00a0") != 1 {
		t.Errorf("wrap changed the user's no-break space:\n%q", s)
	}
	if !strings.Contains(s, "95 %") || !strings.Contains(s, "(n − 1 df)") {
		t.Errorf("wrap did not restore its phrases:\n%q", s)
	}
}

// TestValueStdNeedsTwoValues: a cell with one value shows its mean alone,
// even built by hand with Std left 0, and a cell of one seed's several
// runs (Std NaN) too.
func TestValueStdNeedsTwoValues(t *testing.T) {
	f := colFormat{decimals: 3}
	for _, tc := range []struct {
		cell Cell
		want string
	}{
		{Cell{Mean: 0.7, N: 1}, "0.700"},
		{Cell{Mean: 0.7, Std: math.NaN(), N: 3}, "0.700"},
		{Cell{Mean: 0.7, Std: 0.1, N: 3}, "0.700 ± 0.100"},
	} {
		if got := f.value(tc.cell); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.cell, got, tc.want)
		}
	}
}
