package report

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"

	"github.com/attnlab/attnlab/store"
)

// ExportFormats lists the formats Export accepts.
var ExportFormats = []string{"csv", "json"}

// Export writes every run of the experiment, whatever its status, one row
// per run in id order, for pandas, R or a spreadsheet.
//
// "csv": the columns id, hash, seed, status, then every param key of the
// experiment's runs (sorted; the param seed is the seed column), then every
// summary key (sorted). Params print as in Row.Group, summaries in the
// shortest form that reads back exactly; NaN is "NaN", and a key the run
// lacks is an empty field.
//
// "json": an array of objects {"id", "experiment", "hash", "seed",
// "status", "error" (only when not empty), "params": {key: value},
// "summaries": {key: value}} with params typed (number, string, bool or
// null), NaN as null and infinities as "+Inf"/"-Inf"; keys a run lacks are
// absent.
//
// An unknown experiment is an error wrapping store.ErrNotFound that lists
// the known ones.
func Export(ctx context.Context, st *store.Store, experiment string, format string, w io.Writer) error {
	if !slices.Contains(ExportFormats, format) {
		return fmt.Errorf("report: unknown export format %q (known: csv, json)", format)
	}
	all, err := st.Experiments(ctx)
	if err != nil {
		return fmt.Errorf("report: export: %w", err)
	}
	if err := checkExperiments(all, []string{experiment}); err != nil {
		return err
	}
	runs, err := st.Runs(ctx, store.RunFilter{Experiments: []string{experiment}})
	if err != nil {
		return fmt.Errorf("report: export: %w", err)
	}
	sel := &selection{runs: runs, params: map[int64]map[string]store.Value{}, sums: map[int64]map[string]float64{}}
	if len(runs) > 0 {
		ids := make([]int64, len(runs))
		for i, r := range runs {
			ids[i] = r.ID
		}
		if sel.params, err = st.Params(ctx, ids); err != nil {
			return fmt.Errorf("report: export: %w", err)
		}
		if sel.sums, err = st.Summaries(ctx, ids); err != nil {
			return fmt.Errorf("report: export: %w", err)
		}
	}
	if format == "json" {
		return exportJSON(w, sel)
	}
	return exportCSV(w, sel)
}

func exportCSV(w io.Writer, sel *selection) error {
	params := slices.DeleteFunc(sel.paramKeys(), func(k string) bool { return k == "seed" })
	sums := sel.summaryKeys()
	cw := csv.NewWriter(w)
	header := append([]string{"id", "hash", "seed", "status"}, params...)
	if err := cw.Write(append(header, sums...)); err != nil {
		return err
	}
	for _, r := range sel.runs {
		rec := []string{strconv.FormatInt(r.ID, 10), r.Hash, strconv.FormatInt(r.Seed, 10), string(r.Status)}
		for _, k := range params {
			v, ok := sel.params[r.ID][k]
			if !ok {
				rec = append(rec, "")
				continue
			}
			rec = append(rec, formatValue(v))
		}
		for _, k := range sums {
			v, ok := sel.sums[r.ID][k]
			if !ok {
				rec = append(rec, "")
				continue
			}
			rec = append(rec, csvFloat(v))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

type exportRun struct {
	ID         int64                `json:"id"`
	Experiment string               `json:"experiment"`
	Hash       string               `json:"hash"`
	Seed       int64                `json:"seed"`
	Status     store.Status         `json:"status"`
	Error      string               `json:"error,omitempty"`
	Params     map[string]any       `json:"params"`
	Summaries  map[string]jsonFloat `json:"summaries"`
}

func exportJSON(w io.Writer, sel *selection) error {
	out := make([]exportRun, 0, len(sel.runs))
	for _, r := range sel.runs {
		e := exportRun{ID: r.ID, Experiment: r.Experiment, Hash: r.Hash, Seed: r.Seed, Status: r.Status, Error: r.Error,
			Params: map[string]any{}, Summaries: map[string]jsonFloat{}}
		for k, v := range sel.params[r.ID] {
			x := v.Any()
			if f, ok := x.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
				x = jsonFloat(f)
			}
			e.Params[k] = x
		}
		for k, v := range sel.sums[r.ID] {
			e.Summaries[k] = jsonFloat(v)
		}
		out = append(out, e)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
