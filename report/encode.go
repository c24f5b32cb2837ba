package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/attnlab/attnlab/metrics"
	"github.com/attnlab/attnlab/store"
)

// csvFloat formats a number for CSV: the shortest form that reads back
// exactly, inf and -inf for infinities, and "" for NaN (a value that does
// not exist), so that pandas and R read a missing value.
func csvFloat(x float64) string {
	switch {
	case math.IsNaN(x):
		return ""
	case math.IsInf(x, 1):
		return "inf"
	case math.IsInf(x, -1):
		return "-inf"
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

func (c *Comparison) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	header := append([]string(nil), c.Keys...)
	for _, k := range c.Pooled {
		header = append(header, pooledHead(k))
	}
	header = append(header, "n", "failed", "unfinished", "baseline")
	for _, m := range c.Metrics {
		header = append(header, m+"_mean", m+"_std", m+"_n", m+"_nan", m+"_inf", m+"_best")
	}
	tested := c.testedMetrics()
	for _, j := range tested {
		m := c.Metrics[j]
		header = append(header, m+"_diff", m+"_ci_low", m+"_ci_high", m+"_p", m+"_p_adj", m+"_test", m+"_adjustment")
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	for i, row := range c.Rows {
		rec := append([]string(nil), row.Group...)
		for _, vals := range row.Pooled {
			rec = append(rec, strings.Join(vals, "; "))
		}
		rec = append(rec, strconv.Itoa(len(row.Runs)), strconv.Itoa(len(row.Failed)), strconv.Itoa(row.Unfinished), strconv.FormatBool(i == c.Baseline))
		for _, cell := range row.Cells {
			// _nan and _inf count apart what Cell.NaN counts together.
			rec = append(rec, csvFloat(cell.Mean), csvFloat(cell.Std), strconv.Itoa(cell.N), strconv.Itoa(cell.NaN-cell.Infinite), strconv.Itoa(cell.Infinite), strconv.FormatBool(cell.Best))
		}
		for _, j := range tested {
			cell := row.Cells[j]
			rec = append(rec, csvFloat(cell.Diff), csvFloat(cell.Low), csvFloat(cell.High), csvFloat(cell.P), csvFloat(cell.PAdj), cell.test(), c.adjustment(cell))
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
	Mean jsonFloat `json:"mean"`
	Std  jsonFloat `json:"std"`
	N    int       `json:"n"`
	NaN  int       `json:"nan"`
	// Infinite counts the runs of NaN whose loss was ±Inf (Cell.Infinite).
	Infinite int  `json:"infinite,omitempty"`
	Best     bool `json:"best"`
	Tested   bool `json:"tested"`
	// Test names the test of a tested cell (Cell.test), Averaged says a
	// pooled side's seeds stood for their runs' means (Cell.Averaged).
	Test     string      `json:"test,omitempty"`
	Averaged bool        `json:"averaged,omitempty"`
	Diff     jsonFloat   `json:"diff"`
	Low      jsonFloat   `json:"ci_low"`
	High     jsonFloat   `json:"ci_high"`
	P        jsonFloat   `json:"p"`
	PAdj     jsonFloat   `json:"p_adj"`
	Values   []jsonFloat `json:"values"`
}

type jsonRow struct {
	Group  map[string]string   `json:"group"`
	Label  string              `json:"label"`
	Pooled map[string][]string `json:"pooled"`
	Task   int                 `json:"task"`
	Runs   []int64             `json:"runs"`
	Seeds  []int64             `json:"seeds"`
	Failed []jsonFailed        `json:"failed"`
	// Unfinished counts the runs of the row's setting not finished.
	Unfinished int                 `json:"unfinished"`
	Cells      map[string]jsonCell `json:"cells"`
}

type jsonFailed struct {
	ID    int64  `json:"id"`
	Error string `json:"error"`
	Label string `json:"label,omitempty"`
}

func jsonFailedRuns(fs []FailedRun) []jsonFailed {
	out := []jsonFailed{}
	for _, f := range fs {
		out = append(out, jsonFailed{ID: f.ID, Error: f.Error, Label: f.Label})
	}
	return out
}

func failedRuns(js []jsonFailed) []FailedRun {
	var out []FailedRun
	for _, f := range js {
		out = append(out, FailedRun{ID: f.ID, Error: f.Error, Label: f.Label})
	}
	return out
}

type jsonComparison struct {
	Keys       []string          `json:"keys"`
	Derived    []string          `json:"derived"`
	Pooled     []string          `json:"pooled"`
	Along      []string          `json:"pooled_along"` // keys of pooled that the others determine
	Metrics    []string          `json:"metrics"`
	Kinds      map[string]string `json:"kinds"`
	Directions map[string]int    `json:"directions"`
	Baseline   int               `json:"baseline"`
	SortedBy   string            `json:"sorted_by"`
	Level      float64           `json:"level"`
	Adjustment string            `json:"adjustment"`
	TestCost   bool              `json:"test_cost"`
	Unpaired   bool              `json:"unpaired,omitempty"`
	Tasks      int               `json:"tasks"`
	Rows       []jsonRow         `json:"rows"`
	// Failed runs whose setting no row has; Where and Unfinished as in
	// Comparison.
	FailedElsewhere []jsonFailed    `json:"failed_elsewhere"`
	Where           string          `json:"where"`
	Status          string          `json:"status,omitempty"`
	WhereResults    []string        `json:"where_results,omitempty"`
	Builds          int             `json:"builds,omitempty"`
	MixedBuilds     []int           `json:"mixed_build_rows,omitempty"`
	Unfinished      map[string]int  `json:"unfinished"`
	Signatures      []jsonSignature `json:"signatures"`
	Notes           []string        `json:"notes"`
	Sharing         *Sharing        `json:"sharing,omitempty"`
	OldValid        int             `json:"old_valid,omitempty"`
}

type jsonSignature struct {
	Metric string `json:"metric"`
	Line   string `json:"signature"`
	Rows   []int  `json:"rows"` // null: every row
}

func (c *Comparison) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(c)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// MarshalJSON encodes the comparison as
//
//	{"keys": ["model.attention.name"], "derived": [...], "pooled": [],
//	 "metrics": ["test/exact_match", ...],
//	 "kinds": {"test/exact_match": "quality", "model/params": "constant", ...},
//	 "directions": {"test/exact_match": 1, "test/loss": -1, ...},
//	 "baseline": 0, "sorted_by": "", "level": 0.95, "adjustment": "holm",
//	 "test_cost": false, "tasks": 1,
//	 "rows": [{"group": {"model.attention.name": "dot"}, "label": "attention.name=dot",
//	           "pooled": {}, "task": 0, "runs": [1, 4, 7], "seeds": [1, 2, 3], "failed": [{"id": 10, "error": "..."}],
//	           "cells": {"test/exact_match": {"mean": 0.91, "std": 0.02, "n": 3, "nan": 0,
//	                     "best": true, "tested": true, "test": "paired", "diff": 0.05, "ci_low": 0.01, "ci_high": 0.09,
//	                     "p": 0.03, "p_adj": 0.06, "values": [0.9, 0.93, 0.9]}}}],
//	 "failed_elsewhere": [], "where": "seed != 3", "unfinished": {"queued": 2},
//	 "signatures": [{"metric": "test/bleu", "signature": "BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.5.1",
//	                 "rows": null}],
//	 "sharing": {"runs_min": 1, "runs_max": 2, "threads_min": 1, "threads_max": 1}, "old_valid": 0,
//	 "notes": ["mean ± std over each row's n runs; ...", ...]}
//
// with NaN as null and infinities as "+Inf"/"-Inf"; "adjustment" is "holm"
// or "none"; a tested cell's "test" is "paired", "welch", "sign-flip" or
// "permutation" (Cell.Paired, Cell.Exact), "averaged": true where a pooled
// side's runs of one seed were averaged before pairing (Cell.Averaged),
// "infinite" (left out when 0) counts the runs of "nan" whose loss or
// perplexity was ±Inf (Cell.Infinite),
// and "unpaired": true stands for Query.Unpaired; kinds and directions are
// those of metrics.Describe, a signature's rows are null when it signs
// every row (see Signature), notes are the sentences printed under the
// table. UnmarshalJSON reads it back.
func (c *Comparison) MarshalJSON() ([]byte, error) {
	out := jsonComparison{Keys: nonNil(c.Keys), Derived: nonNil(c.Derived), Pooled: nonNil(c.Pooled), Along: nonNil(c.PooledAlong), Metrics: nonNil(c.Metrics),
		Kinds: map[string]string{}, Directions: map[string]int{}, Baseline: c.Baseline, SortedBy: c.SortedBy,
		Level: Level, Adjustment: "none", TestCost: c.TestCost, Unpaired: c.Unpaired, Tasks: c.Tasks, Rows: []jsonRow{}, Notes: c.notes(false),
		FailedElsewhere: jsonFailedRuns(c.FailedElsewhere), Where: c.Where, Status: string(c.Status), WhereResults: c.WhereResults, Builds: c.Builds, MixedBuilds: c.MixedBuilds,
		Unfinished: map[string]int{},
		Sharing:    c.Sharing, OldValid: c.OldValid}
	for st, n := range c.Unfinished {
		out.Unfinished[string(st)] = n
	}
	if c.Adjusted {
		out.Adjustment = "holm"
	}
	for _, m := range c.Metrics {
		d := metrics.Describe(m)
		out.Kinds[m] = d.Kind.String()
		out.Directions[m] = int(d.Direction)
	}
	for i, row := range c.Rows {
		jr := jsonRow{Group: map[string]string{}, Label: c.Label(i), Pooled: map[string][]string{}, Task: row.Task,
			Runs: nonNil(row.Runs), Seeds: nonNil(row.Seeds), Failed: jsonFailedRuns(row.Failed), Unfinished: row.Unfinished, Cells: map[string]jsonCell{}}
		for k, key := range c.Keys {
			jr.Group[key] = row.Group[k]
		}
		for k, key := range c.Pooled {
			jr.Pooled[key] = row.Pooled[k]
		}
		for j, cell := range row.Cells {
			jr.Cells[c.Metrics[j]] = jsonCell{Test: cell.test(), Averaged: cell.Averaged, Mean: jsonFloat(cell.Mean), Std: jsonFloat(cell.Std), N: cell.N, NaN: cell.NaN, Infinite: cell.Infinite,
				Best: cell.Best, Tested: cell.Tested, Diff: jsonFloat(cell.Diff), Low: jsonFloat(cell.Low), High: jsonFloat(cell.High),
				P: jsonFloat(cell.P), PAdj: jsonFloat(cell.PAdj), Values: jsonFloats(cell.Values)}
		}
		out.Rows = append(out.Rows, jr)
	}
	out.Signatures = []jsonSignature{}
	for _, s := range c.Signatures {
		out.Signatures = append(out.Signatures, jsonSignature{Metric: s.Metric, Line: s.Line, Rows: s.Rows})
	}
	return json.Marshal(out)
}

// UnmarshalJSON decodes what MarshalJSON writes.
func (c *Comparison) UnmarshalJSON(b []byte) error {
	var in jsonComparison
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*c = Comparison{Keys: in.Keys, Derived: in.Derived, Pooled: in.Pooled, PooledAlong: in.Along, Metrics: in.Metrics, Baseline: in.Baseline,
		SortedBy: in.SortedBy, Adjusted: in.Adjustment == "holm", TestCost: in.TestCost, Unpaired: in.Unpaired, Tasks: in.Tasks,
		FailedElsewhere: failedRuns(in.FailedElsewhere), Where: in.Where, Status: store.Status(in.Status), WhereResults: in.WhereResults, Builds: in.Builds, MixedBuilds: in.MixedBuilds,
		Sharing: in.Sharing, OldValid: in.OldValid}
	for st, n := range in.Unfinished {
		if c.Unfinished == nil {
			c.Unfinished = map[store.Status]int{}
		}
		c.Unfinished[store.Status(st)] = n
	}
	for _, s := range in.Signatures {
		c.Signatures = append(c.Signatures, Signature{Metric: s.Metric, Line: s.Line, Rows: s.Rows})
	}
	for _, jr := range in.Rows {
		row := Row{Runs: jr.Runs, Seeds: jr.Seeds, Task: jr.Task, Failed: failedRuns(jr.Failed), Unfinished: jr.Unfinished}
		for _, k := range in.Keys {
			row.Group = append(row.Group, jr.Group[k])
		}
		for _, k := range in.Pooled {
			row.Pooled = append(row.Pooled, jr.Pooled[k])
		}
		for _, m := range in.Metrics {
			jc, ok := jr.Cells[m]
			if !ok {
				return fmt.Errorf("report: comparison JSON: a row has no cell for %s", m)
			}
			cell := Cell{Mean: float64(jc.Mean), Std: float64(jc.Std), N: jc.N, NaN: jc.NaN, Infinite: jc.Infinite, Best: jc.Best, Tested: jc.Tested, Paired: jc.Test == "paired" || jc.Test == "sign-flip",
				Exact: jc.Test == "sign-flip" || jc.Test == "permutation", Averaged: jc.Averaged,
				Diff: float64(jc.Diff), Low: float64(jc.Low), High: float64(jc.High), P: float64(jc.P), PAdj: float64(jc.PAdj)}
			for _, v := range jc.Values {
				cell.Values = append(cell.Values, float64(v))
			}
			row.Cells = append(row.Cells, cell)
		}
		c.Rows = append(c.Rows, row)
	}
	return nil
}

// test names the test of a tested cell: "paired" (the paired t-test),
// "welch", "sign-flip" (exact, paired) or "permutation" (exact, two
// samples); "" when the cell was not tested or no test could run (P is
// NaN: fewer than 2 seeds with a value on a side, or an infinite value).
// See Cell.Paired and Cell.Exact.
// adjustment names how a tested cell's PAdj was adjusted, as the CSV's
// <m>_adjustment says it: "holm", or "none" with Query.NoAdjust (PAdj is
// then P); "" where there is no p-value. The CSV carries no notes, so
// without it a p_adj column read the same adjusted or not.
func (c *Comparison) adjustment(cell Cell) string {
	switch {
	case !cell.Tested || math.IsNaN(cell.PAdj):
		return ""
	case c.Adjusted:
		return "holm"
	}
	return "none"
}

func (cell Cell) test() string {
	switch {
	case !cell.Tested || math.IsNaN(cell.P):
		return ""
	case cell.Paired && cell.Exact:
		return "sign-flip"
	case cell.Paired:
		return "paired"
	case cell.Exact:
		return "permutation"
	}
	return "welch"
}
