package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
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

func TestWriteGolden(t *testing.T) {
	cs := comparisons(t)
	for _, name := range []string{"scan", "scan_baseline", "scan_wide", "scan_sorted", "diverge", "welch"} {
		golden(t, "compare_"+name+".golden", []byte(render(t, cs[name], "table")))
	}
	golden(t, "compare_scan_baseline.md.golden", []byte(render(t, cs["scan_baseline"], "markdown")))
	golden(t, "compare_scan_baseline.csv.golden", []byte(render(t, cs["scan_baseline"], "csv")))
	golden(t, "compare_scan_baseline.json.golden", []byte(render(t, cs["scan_baseline"], "json")))
}

func TestWriteTableWidth(t *testing.T) {
	cs := comparisons(t)
	for _, name := range []string{"scan", "scan_baseline", "scan_wide"} {
		for _, line := range strings.Split(render(t, cs[name], "table"), "\n") {
			if n := utf8.RuneCountInString(line); n > 120 {
				t.Errorf("%s: line of %d columns (> 120):\n%s", name, n, line)
			}
		}
	}
}

// sameFloat compares exactly, NaN equal to NaN.
func sameFloat(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }

func TestWriteCSVRoundTrip(t *testing.T) {
	for name, c := range comparisons(t) {
		recs, err := csv.NewReader(strings.NewReader(render(t, c, "csv"))).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := slices.Clone(c.Keys)
		for _, m := range c.Metrics {
			want = append(want, m+"_mean", m+"_std", m+"_n", m+"_p")
		}
		if !slices.Equal(recs[0], want) {
			t.Errorf("%s: header %q, want %q", name, recs[0], want)
		}
		if len(recs) != len(c.Rows)+1 {
			t.Fatalf("%s: %d records, want %d", name, len(recs), len(c.Rows)+1)
		}
		for i, row := range c.Rows {
			rec := recs[i+1]
			if !slices.Equal(rec[:len(c.Keys)], row.Group) {
				t.Errorf("%s row %d: group %q, want %q", name, i, rec[:len(c.Keys)], row.Group)
			}
			for j, cell := range row.Cells {
				f := rec[len(c.Keys)+4*j:]
				mean, err1 := strconv.ParseFloat(f[0], 64)
				std, err2 := strconv.ParseFloat(f[1], 64)
				n, err3 := strconv.Atoi(f[2])
				p, err4 := strconv.ParseFloat(f[3], 64)
				if err := errorsJoin(err1, err2, err3, err4); err != nil {
					t.Fatalf("%s row %d %s: %v", name, i, c.Metrics[j], err)
				}
				if !sameFloat(mean, cell.Mean) || !sameFloat(std, cell.Std) || n != cell.N || !sameFloat(p, cell.P) {
					t.Errorf("%s row %d %s: csv %v %v %v %v, want %v %v %v %v", name, i, c.Metrics[j], mean, std, n, p, cell.Mean, cell.Std, cell.N, cell.P)
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
		if !slices.Equal(back.Keys, c.Keys) || !slices.Equal(back.Metrics, c.Metrics) || back.Baseline != c.Baseline || back.SortedBy != c.SortedBy || len(back.Rows) != len(c.Rows) {
			t.Fatalf("%s: read back %+v, want %+v", name, back, c)
		}
		for i, row := range c.Rows {
			got := back.Rows[i]
			if !slices.Equal(got.Group, row.Group) || !slices.Equal(got.Runs, row.Runs) {
				t.Errorf("%s row %d: %q %v, want %q %v", name, i, got.Group, got.Runs, row.Group, row.Runs)
			}
			for j, cell := range row.Cells {
				g := got.Cells[j]
				if !sameFloat(g.Mean, cell.Mean) || !sameFloat(g.Std, cell.Std) || !sameFloat(g.P, cell.P) ||
					g.N != cell.N || g.NaN != cell.NaN || g.Best != cell.Best ||
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

// tableRows reads the data rows of a rendered table: for each row its
// cells, and with two lines per row (a baseline), the cells of its second
// line.
func tableRows(out string, two bool) (rows, second [][]string) {
	body, odd := false, false
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "├"):
			body = true
			continue
		case !strings.HasPrefix(line, "│") || !body:
			continue
		}
		cells := strings.Split(strings.Trim(line, "│"), "│")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if two && odd {
			second = append(second, cells)
		} else {
			rows = append(rows, cells)
		}
		odd = !odd
	}
	return rows, second
}

func TestWriteTableCarriesTheNumbers(t *testing.T) {
	for name, c := range comparisons(t) {
		out := render(t, c, "table")
		rows, second := tableRows(out, c.Baseline >= 0)
		if len(rows) != len(c.Rows) {
			t.Fatalf("%s: %d table rows, want %d:\n%s", name, len(rows), len(c.Rows), out)
		}
		nk := len(c.Keys)
		for i, row := range c.Rows {
			for k, g := range row.Group {
				if want := displayGroup(g); rows[i][k] != want {
					t.Errorf("%s row %d key %s: %q, want %q", name, i, c.Keys[k], rows[i][k], want)
				}
			}
			if rows[i][nk] != strconv.Itoa(len(row.Runs)) {
				t.Errorf("%s row %d: n = %q, want %d", name, i, rows[i][nk], len(row.Runs))
			}
			for j, cell := range row.Cells {
				where := name + " row " + strconv.Itoa(i) + " " + c.Metrics[j]
				got := parseCell(t, rows[i][nk+1+j])
				if c.Baseline >= 0 { // the count is on the second line
					got.k, got.n = cell.N, len(row.Runs)
				}
				checkCell(t, where, got, cell, len(row.Runs))
				if c.Baseline < 0 {
					continue
				}
				if i == c.Baseline {
					if second[i][nk-1] != "(baseline)" {
						t.Errorf("%s: baseline row not labelled: %q", name, second[i])
					}
					if want := strings.TrimSpace(count(cell, len(row.Runs))); second[i][nk+1+j] != want {
						t.Errorf("%s: baseline second line %q, want %q", where, second[i][nk+1+j], want)
					}
					continue
				}
				p := second[i][nk+1+j]
				if want := strings.TrimSpace(count(cell, len(row.Runs))); want != "" {
					var ok bool
					if p, ok = strings.CutPrefix(p, want+" "); !ok {
						t.Errorf("%s: second line %q, want it to start with %q", where, second[i][nk+1+j], want)
					}
				}
				if want := pText(cell.P); p != want {
					t.Errorf("%s: p = %q, want %q", where, p, want)
				}
				checkP(t, where, p, cell.P)
			}
		}
		if c.Baseline < 0 && len(second) > 0 {
			t.Errorf("%s: second lines without a baseline: %q", name, second)
		}
	}
}

// checkP reads a p text back ("p=0.058", "p<0.001", "0.058", "<0.001",
// "—") and compares it with p.
func checkP(t *testing.T, where, s string, p float64) {
	t.Helper()
	s = strings.TrimPrefix(strings.TrimPrefix(s, "p"), "=")
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
		var rows [][]string
		for i, line := range strings.Split(out, "\n") {
			if !strings.HasPrefix(line, "|") || i < 2 {
				continue
			}
			line = strings.ReplaceAll(line, `\|`, "\x00")
			cells := strings.Split(strings.Trim(line, "|"), "|")
			for k := range cells {
				cells[k] = strings.TrimSpace(strings.ReplaceAll(cells[k], "\x00", "|"))
			}
			rows = append(rows, cells)
		}
		if len(rows) != len(c.Rows) {
			t.Fatalf("%s: %d markdown rows, want %d:\n%s", name, len(rows), len(c.Rows), out)
		}
		header := strings.Split(strings.Trim(strings.SplitN(out, "\n", 2)[0], "|"), "|")
		for k, key := range c.Keys {
			if strings.TrimSpace(header[k]) != key {
				t.Errorf("%s: header %q, want the full key %q", name, header[k], key)
			}
		}
		nk := len(c.Keys)
		per := 1
		if c.Baseline >= 0 {
			per = 2
		}
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
				checkCell(t, where, parseCell(t, rows[i][nk+1+per*j]), cell, len(row.Runs))
				if per == 2 {
					if p := rows[i][nk+2+per*j]; i == c.Baseline {
						if p != "base" {
							t.Errorf("%s: baseline p %q, want base", where, p)
						}
					} else {
						checkP(t, where, p, cell.P)
					}
				}
			}
		}
	}
}

func TestWriteUnknownFormat(t *testing.T) {
	c := &Comparison{Baseline: -1}
	err := c.Write(&bytes.Buffer{}, "xml")
	if err == nil || !strings.Contains(err.Error(), "known: table, markdown, csv, json") {
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
	for _, tc := range []struct {
		p    float64
		want string
	}{{0.0578, "0.058"}, {0.0009, "<0.001"}, {1, "1.000"}, {math.NaN(), "—"}} {
		if got := formatP(tc.p); got != tc.want {
			t.Errorf("formatP(%v) = %q, want %q", tc.p, got, tc.want)
		}
	}
	if got := wrap("aaa bbb ccc", 7); got != "aaa bbb\nccc" {
		t.Errorf("wrap = %q", got)
	}
}
