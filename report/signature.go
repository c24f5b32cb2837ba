package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/attnlab/attnlab/artifact"
	"github.com/attnlab/attnlab/store"
)

// Signature is the sacreBLEU signature of the scores of one metric column
// (test/bleu, test/chrf, test/chrf++): what settings produced them
// (tokenizer, case, smoothing, sacreBLEU version), so that a reader can
// tell whether they compare with a number from elsewhere. A column whose
// runs were scored with different settings has one Signature per setting.
type Signature struct {
	Metric string // the column's summary key: test/bleu
	// Line is the score's name and signature as sacreBLEU prints them:
	// "BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.5.1".
	Line string
	// Rows are the indexes of the rows with a run scored so, in row order;
	// nil when every row of the column with a value was.
	Rows []int
}

// loadSignatures reads the stored scores (artifact.KindScores) of the runs
// of c's rows and sets c.Signatures for each metric column they sign, in
// column order. A run stored without scores (a run older than sacreBLEU
// scoring, a task without decoding) signs nothing; a column no run signs
// has no Signature.
func (c *Comparison) loadSignatures(ctx context.Context, st *store.Store) error {
	c.Signatures = nil
	type sigRows struct {
		line string
		rows []int
	}
	cols := map[string][]*sigRows{} // metric → its signatures, in order of appearance
	for i, row := range c.Rows {
		for _, id := range row.Runs {
			data, err := st.Artifact(ctx, id, artifact.KindScores, artifact.NameScores)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return fmt.Errorf("report: scores of run %d: %w", id, err)
			}
			var scores []artifact.Score
			if err := json.Unmarshal(data, &scores); err != nil {
				return fmt.Errorf("report: scores of run %d: %w", id, err)
			}
			for _, s := range scores {
				if !slices.Contains(c.Metrics, s.Key) || s.Signature == "" {
					continue
				}
				line := s.Name + "|" + s.Signature
				k := slices.IndexFunc(cols[s.Key], func(x *sigRows) bool { return x.line == line })
				if k < 0 {
					cols[s.Key] = append(cols[s.Key], &sigRows{line: line})
					k = len(cols[s.Key]) - 1
				}
				if x := cols[s.Key][k]; !slices.Contains(x.rows, i) {
					x.rows = append(x.rows, i)
				}
			}
		}
	}
	for j, m := range c.Metrics {
		sigs := cols[m]
		all := len(sigs) == 1 // one signature: does it cover every row with a value?
		if all {
			for i, row := range c.Rows {
				if row.Cells[j].N > 0 && !slices.Contains(sigs[0].rows, i) {
					all = false
				}
			}
		}
		for _, x := range sigs {
			s := Signature{Metric: m, Line: x.line, Rows: x.rows}
			if all {
				s.Rows = nil
			}
			c.Signatures = append(c.Signatures, s)
		}
	}
	return nil
}

// signatureNotes are the notes that give the sacreBLEU signatures of the
// columns: a heading, then one line per column,
// "test/bleu: BLEU|nrefs:1|…|version:2.5.1" (no final period, so that the
// signature can be copied as it is), or, where the rows' settings differ,
// each signature followed by the labels of its rows in parentheses.
func (c *Comparison) signatureNotes() []string {
	out := []string{"sacreBLEU signatures of the scores:"}
	for j, m := range c.Metrics {
		var parts []string
		for _, s := range c.Signatures {
			if s.Metric != m {
				continue
			}
			if s.Rows == nil {
				parts = append(parts, s.Line)
				continue
			}
			labels := make([]string, len(s.Rows))
			for k, r := range s.Rows {
				labels[k] = c.Label(r)
				if labels[k] == "" {
					labels[k] = fmt.Sprintf("row %d", r+1)
				}
			}
			parts = append(parts, s.Line+" ("+strings.Join(labels, "; ")+")")
		}
		if len(parts) == 0 {
			continue
		}
		s := m + ": " + strings.Join(parts, ", ")
		if missing := c.unsigned(j); missing > 0 {
			s += fmt.Sprintf("; %s stored without one", plural(missing, "run"))
		}
		out = append(out, s)
	}
	if len(out) == 1 {
		return nil
	}
	return out
}

// unsigned counts the runs with a value in column j whose rows no
// signature of the column names (only counted when the signatures are per
// row).
func (c *Comparison) unsigned(j int) int {
	m := c.Metrics[j]
	signed := map[int]bool{}
	for _, s := range c.Signatures {
		if s.Metric != m {
			continue
		}
		if s.Rows == nil {
			return 0
		}
		for _, r := range s.Rows {
			signed[r] = true
		}
	}
	n := 0
	for i, row := range c.Rows {
		if !signed[i] {
			n += row.Cells[j].N
		}
	}
	return n
}
