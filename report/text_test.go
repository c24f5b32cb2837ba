package report

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/store"
)

// TestTextIsTheTable checks that Text gives, cell by cell, what the table
// format prints: the dashboard shows the CLI's numbers.
func TestTextIsTheTable(t *testing.T) {
	for name, c := range comparisons(t) {
		var b bytes.Buffer
		if err := c.WriteWidth(&b, "table", 1000); err != nil { // one block
			t.Fatal(err)
		}
		out := b.String()
		tx := c.Text()
		rows, diffs := tableRows(t, out, len(tx.TestedRows))
		if len(rows) != len(c.Rows) || len(tx.Values) != len(c.Rows) || len(diffs) != len(tx.TestedRows) {
			t.Fatalf("%s: %d table rows, %d Text rows, %d difference rows (Text: %d):\n%s",
				name, len(rows), len(tx.Values), len(diffs), len(tx.TestedRows), out)
		}
		nk := len(tx.KeyHeads)
		if nk != len(c.Keys)+len(c.Pooled) {
			t.Errorf("%s: KeyHeads %q for keys %q and pooled %q", name, tx.KeyHeads, c.Keys, c.Pooled)
		}
		for i, row := range c.Rows {
			groups := slices.Clone(tx.Groups[i])
			if i == c.Baseline {
				groups[len(c.Keys)-1] += " (baseline)"
			}
			if got := rows[i][:nk]; !slices.Equal(got, groups) {
				t.Errorf("%s row %d: table keys %q, Text %q", name, i, got, groups)
			}
			for j, cell := range row.Cells {
				want := tx.Values[i][j]
				if cell.Best {
					want += "*"
				}
				if tx.Counts[i][j] != "" {
					want += " " + tx.Counts[i][j]
				}
				if got := rows[i][nk+1+j]; got != want {
					t.Errorf("%s row %d %s: table %q, Text %q", name, i, c.Metrics[j], got, want)
				}
			}
		}
		for r, i := range tx.TestedRows {
			for k, j := range tx.TestedMetrics {
				if got, want := diffs[r][0][nk+k], tx.Diffs[i][j]; got != want {
					t.Errorf("%s difference row %d %s: table %q, Text %q", name, r, c.Metrics[j], got, want)
				}
				if got, want := diffs[r][1][k], tx.P[i][j]; got != want {
					t.Errorf("%s p row %d %s: table %q, Text %q", name, r, c.Metrics[j], got, want)
				}
			}
		}
		if tx.Caption != "" && !strings.Contains(strings.Join(strings.Fields(out), " "), tx.Caption) {
			t.Errorf("%s: caption %q not in the table:\n%s", name, tx.Caption, out)
		}
		if (tx.Caption != "") != (c.Baseline >= 0 && len(tx.TestedRows) > 0) {
			t.Errorf("%s: caption %q with baseline %d and tested rows %v", name, tx.Caption, c.Baseline, tx.TestedRows)
		}
		for _, n := range tx.Notes {
			if !strings.Contains(strings.Join(strings.Fields(out), " "), n) {
				t.Errorf("%s: note %q not in the table:\n%s", name, n, out)
			}
		}
	}
}

func TestStatusAny(t *testing.T) {
	st, ids := buildStore(t, scanExperiment())
	done := mustCompare(t, st, Query{Experiments: []string{"scan-attn"}})
	all := mustCompare(t, st, Query{Experiments: []string{"scan-attn"}, Status: StatusAny})
	count := func(c *Comparison) []int64 {
		var out []int64
		for _, r := range c.Rows {
			out = append(out, r.Runs...)
		}
		slices.Sort(out)
		return out
	}
	if got := count(done); len(got) != 9 {
		t.Errorf("done runs: %v, want 9", got)
	}
	if got, want := count(all), ids["scan-attn"]; !slices.Equal(got, want) {
		t.Errorf("StatusAny runs: %v, want every run %v (failed and queued included)", got, want)
	}
	_, err := Compare(t.Context(), st, Query{Experiments: []string{"scan-attn"}, Status: StatusAny, Where: mustWhere(t, "seed = 9")})
	if err == nil || !strings.Contains(err.Error(), "no runs match") {
		t.Errorf("StatusAny with no match: %v, want \"no runs match ...\"", err)
	}
	_, err = Compare(t.Context(), st, Query{Experiments: []string{"scan-attn"}, Status: store.StatusRunning})
	if err == nil || !strings.Contains(err.Error(), "no running runs") {
		t.Errorf("running: %v, want \"no running runs\"", err)
	}
}

func TestMatchMetric(t *testing.T) {
	known := []string{"test/exact_match", "train/loss", "valid/exact_match", "valid/loss", "x/a/b", "y/a/b"}
	for _, tc := range []struct {
		m, want    string
		candidates []string
	}{
		{"train/loss", "train/loss", nil},
		{"loss", "valid/loss", nil},
		{"exact_match", "test/exact_match", nil},
		{"a/b", "", []string{"x/a/b", "y/a/b"}},
		{"bleu", "", nil},
		{"oss", "", nil},
	} {
		got, cands := MatchMetric(known, tc.m)
		if got != tc.want || !slices.Equal(cands, tc.candidates) {
			t.Errorf("MatchMetric(%q) = %q, %q; want %q, %q", tc.m, got, cands, tc.want, tc.candidates)
		}
	}
}
