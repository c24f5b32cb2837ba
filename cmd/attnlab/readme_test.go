package main

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/metrics"
)

// readmeCommands returns the attnlab command lines of README.md, in order,
// from the sections "Set up on a fresh machine" up to "Attention
// variants": the indented lines that start with "attnlab " or "go run
// ./cmd/attnlab ", and the `inline code` spans that start with "go run
// ./cmd/attnlab " (prose names commands as `attnlab show`, which are not
// steps), as argument lists (shell quoting with '...' and "..."
// understood, "# comments" dropped).
func readmeCommands(t *testing.T, readme string) [][]string {
	t.Helper()
	start := strings.Index(readme, "## Set up on a fresh machine")
	end := strings.Index(readme, "## Attention variants")
	if start < 0 || end < start {
		t.Fatalf("README.md lacks the sections of the tour")
	}
	var out [][]string
	for _, line := range strings.Split(readme[start:end], "\n") {
		var cands []string
		if strings.HasPrefix(line, "    ") {
			cands = append(cands, strings.TrimSpace(line))
		}
		for rest := line; ; {
			i := strings.Index(rest, "`")
			if i < 0 {
				break
			}
			j := strings.Index(rest[i+1:], "`")
			if j < 0 {
				break
			}
			if span := rest[i+1 : i+1+j]; strings.HasPrefix(span, "go run ./cmd/attnlab ") {
				cands = append(cands, span)
			}
			rest = rest[i+1+j+1:]
		}
		for _, c := range cands {
			var args []string
			switch {
			case strings.HasPrefix(c, "attnlab "):
				args = shellWords(t, strings.TrimPrefix(c, "attnlab "))
			case strings.HasPrefix(c, "go run ./cmd/attnlab "):
				args = shellWords(t, strings.TrimPrefix(c, "go run ./cmd/attnlab "))
			default:
				continue
			}
			if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
				out = append(out, args)
			}
		}
	}
	return out
}

// shellWords splits a command line as a POSIX shell would for the plain
// forms the README uses: words separated by spaces, '...' and "..." quotes,
// and a # starting a comment.
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '#' && !inWord:
			return words
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'' || c == '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				t.Fatalf("unterminated quote in README command %q", s)
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// tinySets are the --set overrides that make the README's experiments
// train in about a CPU second each: they change how long runs train, how
// much data they see and how wide the encoder is, nothing the tour's
// commands depend on.
var tinySets = []string{
	"--set", "train.steps=20", "--set", "train.eval_every=10", "--set", "train.batch_size=8",
	"--set", "task.train_size=300", "--set", "task.valid_size=30", "--set", "task.test_size=30",
	"--set", "model.encoder.hidden=16",
}

// TestReadmeTour runs the README's quickstart and tour top to bottom, as a
// new user on a fresh clone would — in a directory of their own, with the
// default database ./attnlab.db, the experiment saved as my.yaml — only
// with tiny step counts (tinySets). Every command must succeed and write
// what the README says it writes.
func TestReadmeTour(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	cmds := readmeCommands(t, readme)
	if len(cmds) < 15 {
		t.Fatalf("found %d attnlab commands in README.md, want the whole tour:\n%q", len(cmds), cmds)
	}

	// The tour's experiment: the yaml block after "## A short tour".
	tour := readme[strings.Index(readme, "## A short tour"):]
	y0 := strings.Index(tour, "```yaml\n")
	y1 := strings.Index(tour[y0+8:], "```")
	if y0 < 0 || y1 < 0 {
		t.Fatal("README.md's tour has no yaml block")
	}
	examples, err := filepath.Abs("../../examples")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("ATTNLAB_DB", "") // the default: ./attnlab.db
	if err := os.WriteFile("my.yaml", []byte(tour[y0+8:y0+8+y1]), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(examples, "examples"); err != nil { // a clone has them
		t.Fatal(err)
	}
	// The file the tour's eval scores, as the README describes it.
	if err := os.WriteFile("test.tsv", []byte("abcdef\tfedcba\nponmlk\tklmnop\nabcabcabca\tacbacbacba\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, args := range cmds {
		if args[0] == "run" {
			args = append(args, tinySets...)
			args = append(args, "--quiet")
		}
		r := attnlab(t, args...)
		if r.code != exitOK {
			t.Fatalf("attnlab %s:\n%v", strings.Join(args, " "), r)
		}
		noTrace(t, r)
		switch args[0] {
		case "run":
			if !strings.Contains(r.stdout, "runs by name") || !strings.Contains(r.stdout, "(baseline)") {
				t.Errorf("attnlab %s: no table with a baseline and run names:\n%s", strings.Join(args, " "), r.stdout)
			}
			if strings.HasSuffix(args[1], "quickstart.yaml") {
				checkQuickstartCompare(t)
			}
		case "compare":
			if !strings.Contains(r.stdout, "additive") {
				t.Errorf("attnlab %s:\n%s", strings.Join(args, " "), r.stdout)
			}
		case "plot", "export":
			for i, a := range args {
				if a == "-o" {
					if fi, err := os.Stat(args[i+1]); err != nil || fi.Size() == 0 {
						t.Errorf("attnlab %s wrote no %s: %v", strings.Join(args, " "), args[i+1], err)
					}
				}
			}
		}
	}
	for _, f := range []string{"attnlab.db", "curves.png", "length.png", "attn.png", "runs.csv", "curves.csv", "hyps.txt"} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("the tour did not make %s: %v", f, err)
		}
	}
}

// checkQuickstartCompare is issue 10's acceptance on the quickstart's runs
// (in the database of the current directory): compare against none gives
// model/params no p-value and no star, every quality metric a difference
// with its 95 % interval and a Holm-adjusted p-value, and says so under
// the table; CSV, JSON and Markdown carry the same.
// constant reports whether the values present are all equal.
func constant(vs []*float64) bool {
	var first *float64
	for _, v := range vs {
		if v == nil {
			continue
		}
		if first != nil && *v != *first {
			return false
		}
		first = v
	}
	return true
}

func checkQuickstartCompare(t *testing.T) {
	t.Helper()
	base := []string{"compare", "quickstart", "--baseline", "attention.name=none"}
	j := attnlab(t, append(base, "--format", "json")...)
	wantOK(t, j)
	var c struct {
		Metrics    []string          `json:"metrics"`
		Kinds      map[string]string `json:"kinds"`
		Adjustment string            `json:"adjustment"`
		Baseline   int               `json:"baseline"`
		Notes      []string          `json:"notes"`
		Rows       []struct {
			Label string `json:"label"`
			Cells map[string]struct {
				Best   bool       `json:"best"`
				Tested bool       `json:"tested"`
				Test   string     `json:"test"`
				Diff   *float64   `json:"diff"`
				Low    *float64   `json:"ci_low"`
				High   *float64   `json:"ci_high"`
				P      *float64   `json:"p"`
				PAdj   *float64   `json:"p_adj"`
				Values []*float64 `json:"values"`
			} `json:"cells"`
		} `json:"rows"`
	}
	if err := json.Unmarshal([]byte(j.stdout), &c); err != nil {
		t.Fatalf("compare --format json: %v\n%s", err, j.stdout)
	}
	if c.Adjustment != "holm" || len(c.Rows) != 6 || c.Rows[c.Baseline].Label != "attention.name=none" {
		t.Fatalf("compare json: adjustment %q, %d rows, baseline %d", c.Adjustment, len(c.Rows), c.Baseline)
	}
	for _, m := range []string{"test/exact_match", "test/loss", "model/params", "perf/tokens_per_s"} {
		if !slices.Contains(c.Metrics, m) {
			t.Fatalf("compare shows no %s: %q", m, c.Metrics)
		}
	}
	for i, row := range c.Rows {
		params := row.Cells["model/params"]
		if params.Best || params.Tested || params.P != nil || params.PAdj != nil || c.Kinds["model/params"] != "constant" {
			t.Errorf("%s: model/params has a star or a test: %+v", row.Label, params)
		}
		if tps := row.Cells["perf/tokens_per_s"]; tps.Tested || tps.P != nil || tps.Best {
			t.Errorf("%s: perf/tokens_per_s tested without --test-cost: %+v", row.Label, tps)
		}
		if i == c.Baseline {
			continue
		}
		for _, m := range []string{"test/exact_match", "test/loss"} {
			cell := row.Cells[m]
			if constant(cell.Values) && constant(c.Rows[c.Baseline].Cells[m].Values) {
				// Runs this short may all score 0: no spread for a t-test,
				// so the exact sign-flip test over the seeds, 2/2ⁿ (1
				// where Δ is 0), without an interval.
				want := 1.0
				if *cell.Diff != 0 {
					want = math.Ldexp(1, 1-len(cell.Values))
				}
				if !cell.Tested || cell.Test != "sign-flip" || cell.Diff == nil || cell.Low != nil || cell.P == nil || *cell.P != want || cell.PAdj == nil {
					t.Errorf("%s %s: constant against constant: %+v, want the sign-flip p %v without an interval", row.Label, m, cell, want)
				}
				continue
			}
			if !cell.Tested || cell.Diff == nil || cell.Low == nil || cell.High == nil || cell.P == nil || cell.PAdj == nil {
				t.Errorf("%s %s: not tested with an interval: %+v", row.Label, m, cell)
				continue
			}
			if !(*cell.Low <= *cell.Diff && *cell.Diff <= *cell.High) || *cell.PAdj < *cell.P || *cell.PAdj > 1 {
				t.Errorf("%s %s: diff %v not in [%v, %v], or p_adj %v < p %v", row.Label, m, *cell.Diff, *cell.Low, *cell.High, *cell.PAdj, *cell.P)
			}
		}
	}
	// Holm over the 5 rows of a column: recomputed from the raw p-values.
	var ps, adj []float64
	for i, row := range c.Rows {
		if i != c.Baseline {
			ps = append(ps, *row.Cells["test/loss"].P)
			adj = append(adj, *row.Cells["test/loss"].PAdj)
		}
	}
	for i, want := range metrics.Holm(ps) {
		if math.Abs(adj[i]-want) > 1e-12 {
			t.Errorf("test/loss p_adj %v, want Holm of %v = %v", adj, ps, metrics.Holm(ps))
			break
		}
	}
	table := attnlab(t, append(base, "--width", "80")...)
	wantOK(t, table)
	for _, want := range []string{"Holm–Bonferroni-adjusted over the ", " rows compared in each column",
		"95 % confidence interval", "model/params (a constant of the configuration or its data)", "perf/tokens_per_s (a cost"} {
		if !strings.Contains(strings.Join(strings.Fields(table.stdout), " "), want) {
			t.Errorf("the table does not say %q:\n%s", want, table.stdout)
		}
	}
	for _, l := range strings.Split(table.stdout, "\n") {
		if width(l) > 80 {
			t.Errorf("compare at 80 columns: line of %d: %q", width(l), l)
		}
	}
	md := attnlab(t, append(base, "--format", "markdown")...)
	wantOK(t, md)
	if !strings.Contains(md.stdout, "test/exact_match Δ [95% CI, unadjusted]") || !strings.Contains(md.stdout, "Holm–Bonferroni-adjusted") ||
		strings.Contains(md.stdout, "model/params p") {
		t.Errorf("compare markdown:\n%s", md.stdout)
	}
	cs := attnlab(t, append(base, "--format", "csv")...)
	wantOK(t, cs)
	recs, err := csv.NewReader(strings.NewReader(cs.stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head := strings.Join(recs[0], ",")
	if !strings.Contains(head, "test/exact_match_ci_low") || !strings.Contains(head, "test/loss_p_adj") ||
		strings.Contains(head, "model/params_p") || strings.Contains(cs.stdout, "NaN") {
		t.Errorf("compare csv header %q", head)
	}
}
