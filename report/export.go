package report

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/attnlab/attnlab/store"
)

// ExportFormats lists the formats Export and ExportCurves accept.
var ExportFormats = []string{"csv", "json"}

// ErrRemoved is wrapped by the error of an export during which a run it
// exports was removed (attnlab rm) or started again (a worker's claim of
// it, after attnlab run --retry-failed or an interruption: a new attempt,
// which truncates its history): what it wrote may lack that run's rows, or
// have its curves cut. store.Vanished says which changes are seen.
var ErrRemoved = errors.New("started again or removed during the export")

// checkRemoved fails, naming the first of them, if any of the runs
// vanished from the store since they were read, or was claimed again
// (store.Vanished). An export reads without holding a read — ExportCurves
// reads each history in pages and writes each page before it reads the
// next — so an rm or a claim can commit between its reads; Export calls
// this after its last read, ExportCurves for each run right after its
// last read of that run, so that an export that may have lost rows fails
// instead of reporting success.
func checkRemoved(ctx context.Context, st *store.Store, runs []store.Run) error {
	gone, err := st.Vanished(ctx, runs)
	if err != nil {
		return fmt.Errorf("report: check the runs read: %w", err)
	}
	if len(gone) == 0 {
		return nil
	}
	more := ""
	if len(gone) > 1 {
		more = fmt.Sprintf(" (and %d more runs)", len(gone)-1)
	}
	// No "export: ": the command's name already says it (attnlab: export: run 4 ...).
	return fmt.Errorf("report: run %d (%s)%s was %w: its rows may be missing or cut; export again",
		gone[0].ID, gone[0].Name(), more, ErrRemoved)
}

// afterRunsRead, when not nil, is called by exportSelection between its
// read of the runs and its read of their params: a test removes a run
// there, as an attnlab rm committing between the two queries would.
var afterRunsRead func()

// exportSelection reads every run of the experiment, whatever its status,
// with params and summaries, and the keys that tell its settings apart
// (see groupQuery: the same keys as Compare's default grouping, over these
// runs).
func exportSelection(ctx context.Context, st *store.Store, experiment, format string) (*selection, []string, error) {
	if !slices.Contains(ExportFormats, format) {
		return nil, nil, fmt.Errorf("report: unknown export format %q (known: csv, json)", format)
	}
	all, err := st.Experiments(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("report: export: %w", err)
	}
	if err := checkExperiments(all, []string{experiment}); err != nil {
		return nil, nil, err
	}
	runs, err := st.Runs(ctx, store.RunFilter{Experiments: []string{experiment}})
	if err != nil {
		return nil, nil, fmt.Errorf("report: export: %w", err)
	}
	sel := &selection{runs: runs, params: map[int64]map[string]store.Value{}, sums: map[int64]map[string]float64{}}
	if len(runs) == 0 {
		return sel, nil, nil
	}
	if afterRunsRead != nil {
		afterRunsRead()
	}
	ids := sel.ids()
	if sel.params, err = st.Params(ctx, ids); err != nil {
		return nil, nil, fmt.Errorf("report: export: %w", err)
	}
	if sel.sums, err = st.Summaries(ctx, ids); err != nil {
		return nil, nil, fmt.Errorf("report: export: %w", err)
	}
	return sel, sel.rowKeys(sel.varyingKeys()), nil
}

// ids returns the ids of the selected runs, in order.
func (s *selection) ids() []int64 {
	ids := make([]int64, len(s.runs))
	for i, r := range s.runs {
		ids[i] = r.ID
	}
	return ids
}

// groupLabel names the group of run r as Comparison.Label does: "key=value"
// for each of keys, shortened, keys the run lacks left out.
func (s *selection) groupLabel(r store.Run, keys []string) string {
	var parts []string
	for i, k := range ShortKeys(keys) {
		if v, _ := s.value(r, keys[i]); v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, " ")
}

// Export writes every run of the experiment, whatever its status, one row
// per run in id order, for pandas, R or a spreadsheet.
//
// "csv": the columns id, hash, seed, status, group, then every param key
// of the experiment's runs (sorted; the param seed is the seed column),
// every summary key (sorted), and error (a failed run's message). group
// names the run's setting as compare's rows do ("attention.name=dot
// train.steps=3000"): the runs of one group differ in nothing but the seed,
// so grouping by it never pools different settings. Params print as in
// Row.Group but for an empty string, an empty field; summaries in the
// shortest form that reads back exactly (infinities as inf, -inf); a value
// that does not exist — a key the run lacks, a NaN — is an empty field.
//
// "json": an array of objects {"id", "experiment", "hash", "seed",
// "status", "group", "error" (only when not empty), "params": {key: value},
// "summaries": {key: value}} with params typed (number, string, bool or
// null; a list, such as eval.length_buckets, is the string of its JSON
// text, as the params table holds it; show --json gives the config's lists
// as arrays), NaN as null and infinities as "+Inf"/"-Inf"; keys a run
// lacks are absent.
//
// An unknown experiment is an error wrapping store.ErrNotFound that lists
// the known ones. A run removed (attnlab rm) or started again while the
// runs, params and summaries are read fails the export, before anything is
// written, with an error wrapping ErrRemoved that names it (see
// store.Vanished for the changes that are not seen).
func Export(ctx context.Context, st *store.Store, experiment string, format string, w io.Writer) error {
	sel, keys, err := exportSelection(ctx, st, experiment, format)
	if err != nil {
		return err
	}
	// The runs, params and summaries are three queries: a run removed
	// between them would be written without its params or summaries.
	if err := checkRemoved(ctx, st, sel.runs); err != nil {
		return err
	}
	if format == "json" {
		return exportJSON(w, sel, keys)
	}
	return exportCSV(w, sel, keys)
}

func exportCSV(w io.Writer, sel *selection, keys []string) error {
	params := slices.DeleteFunc(sel.paramKeys(), func(k string) bool { return k == "seed" })
	sums := sel.summaryKeys()
	cw := csv.NewWriter(w)
	header := append([]string{"id", "hash", "seed", "status", "group"}, params...)
	if err := cw.Write(append(append(header, sums...), "error")); err != nil {
		return err
	}
	for _, r := range sel.runs {
		rec := []string{strconv.FormatInt(r.ID, 10), r.Hash, strconv.FormatInt(r.Seed, 10), string(r.Status), sel.groupLabel(r, keys)}
		for _, k := range params {
			v, ok := sel.params[r.ID][k]
			if !ok {
				rec = append(rec, "")
				continue
			}
			rec = append(rec, v.String()) // an empty string as an empty field, not compare's ""
		}
		for _, k := range sums {
			v, ok := sel.sums[r.ID][k]
			if !ok {
				rec = append(rec, "")
				continue
			}
			rec = append(rec, csvFloat(v))
		}
		if err := cw.Write(append(rec, r.Error)); err != nil {
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
	Group      string               `json:"group"`
	Error      string               `json:"error,omitempty"`
	Params     map[string]any       `json:"params"`
	Summaries  map[string]jsonFloat `json:"summaries"`
}

// jsonValue is a param's value for JSON: non-finite numbers as jsonFloat.
func jsonValue(v store.Value) any {
	x := v.Any()
	if f, ok := x.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
		x = jsonFloat(f)
	}
	return x
}

func exportJSON(w io.Writer, sel *selection, keys []string) error {
	out := make([]exportRun, 0, len(sel.runs))
	for _, r := range sel.runs {
		e := exportRun{ID: r.ID, Experiment: r.Experiment, Hash: r.Hash, Seed: r.Seed, Status: r.Status, Group: sel.groupLabel(r, keys),
			Error: r.Error, Params: map[string]any{}, Summaries: map[string]jsonFloat{}}
		for k, v := range sel.params[r.ID] {
			e.Params[k] = jsonValue(v)
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

// ExportCurves writes the metric histories of every run of the experiment
// in a tidy long format, one record per run, metric and step, as pandas
// reads it directly (pd.read_csv, or pd.read_json with orient="records"):
//
//	run, experiment, seed, status, group, <each key of group>, key, step, value
//
// run is the run's id, group names its setting as in Export, the group
// keys are the params that tell the experiment's settings apart (full
// keys, the values typed in JSON), key is the metric (valid/loss), value
// its value at that step. Records come by run, then metric, then step.
// metrics restricts the keys (full keys or a name after a '/', as in
// Query.Metrics); none means every logged key. In CSV a NaN value is an
// empty field and infinities are inf and -inf; in JSON NaN is null and
// infinities "+Inf"/"-Inf". An unknown metric is an error listing the
// logged keys.
//
// The histories are read in pages, and no read is held while a page is
// written, so the output never pins a snapshot of the database (see the
// package doc); the price is that the export is not one snapshot. A run
// removed (attnlab rm) or started again (a worker's claim: a new attempt
// truncates the history) before its last page is read would leave its
// records missing or cut: right after it reads a run's last page, before
// it writes that page, ExportCurves checks the run (store.Vanished, one
// query per run) and fails with an error wrapping ErrRemoved that names
// it. A run removed or started again after its last page was read fails
// nothing: its records were all read. A change that keeps the run's id,
// hash, creation time and attempt is not seen (store.Vanished): sync
// replacing the run by a copy of the same attempt, or a run removed and
// synced back under its old id. Points a running run logs meanwhile may be
// written or not, as with any read of a run being trained.
func ExportCurves(ctx context.Context, st *store.Store, experiment string, metrics []string, format string, w io.Writer) error {
	sel, keys, err := exportSelection(ctx, st, experiment, format)
	if err != nil {
		return err
	}
	ids := sel.ids()
	known, err := st.MetricKeys(ctx, ids)
	if err != nil {
		return fmt.Errorf("report: export curves: %w", err)
	}
	want := known
	if len(metrics) > 0 {
		want = nil
		for _, m := range metrics {
			full, err := (keySet{metrics: known}).resolve(m)
			if err != nil {
				return fmt.Errorf("report: --metric: %w", err) // as --where and --by name theirs
			}
			if !slices.Contains(want, full) {
				want = append(want, full)
			}
		}
	}
	// Each run's histories are read as they are written, a page of points
	// at a time, with no read open while the page is written: the
	// experiment's histories together can be far larger than memory
	// (millions of steps logged at every step), and the output may be a
	// paused pipe. Every metric (no --metric): one paged query per run for
	// all its metrics, which come by key as want is sorted (1 504 runs × 10
	// metrics took 15 040 queries, one per run and metric, and 2.8 s
	// instead of 1.6). Some metrics: one per run and metric, in the order
	// asked, which reads none of the rows of the others.
	//
	// Each run is checked (checkRemoved) right after its last page is read
	// and before that page is written: a removal or a new attempt before
	// then may have cut what was read of it, one after it cannot, however
	// long the output then takes.
	runs := make(map[int64]store.Run, len(sel.runs))
	for _, r := range sel.runs {
		runs[r.ID] = r
	}
	check := func(runID int64) func() error {
		return func() error { return checkRemoved(ctx, st, []store.Run{runs[runID]}) }
	}
	each := func(runID int64, fn func(key string, p store.MetricPoint) error) error {
		for i, m := range want {
			var read func() error
			if i == len(want)-1 {
				read = check(runID)
			}
			if err := st.EachMetricPointThen(ctx, runID, m, read, func(p store.MetricPoint) error { return fn(m, p) }); err != nil {
				return err
			}
		}
		return nil
	}
	if len(want) > 0 && slices.Equal(want, known) {
		each = func(runID int64, fn func(key string, p store.MetricPoint) error) error {
			return st.EachRunMetricPointThen(ctx, runID, check(runID), func(p store.KeyPoint) error {
				if _, ok := slices.BinarySearch(want, p.Key); !ok {
					return nil // logged since the keys were read: as if read before
				}
				return fn(p.Key, p.MetricPoint)
			})
		}
	}
	if format == "json" {
		err = curvesJSON(w, sel, keys, each)
	} else {
		err = curvesCSV(w, sel, keys, each)
	}
	var we *writeError
	if errors.As(err, &we) {
		return we.err // the output's error, as is: a closed pipe, a full disk
	}
	if errors.Is(err, ErrRemoved) {
		return err // checkRemoved's, which names the run
	}
	if err != nil {
		return fmt.Errorf("report: export curves: %w", err)
	}
	// A run that nothing was read of (no metric to export: want is empty)
	// lost nothing to a removal.
	return nil
}

// eachPoint calls fn with each point of a run's histories of the exported
// metrics, by metric (in the order of the export's metrics) then step.
type eachPoint func(runID int64, fn func(key string, p store.MetricPoint) error) error

// writeError marks an error of the output, which ExportCurves returns
// unwrapped, from the store's reading errors it prefixes.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

func curvesCSV(w io.Writer, sel *selection, keys []string, each eachPoint) error {
	cw := csv.NewWriter(w)
	header := append(append([]string{"run", "experiment", "seed", "status", "group"}, keys...), "key", "step", "value")
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, r := range sel.runs {
		head := []string{strconv.FormatInt(r.ID, 10), r.Experiment, strconv.FormatInt(r.Seed, 10), string(r.Status), sel.groupLabel(r, keys)}
		for _, k := range keys {
			v, _ := sel.value(r, k)
			head = append(head, v)
		}
		rec := slices.Clone(head)
		err := each(r.ID, func(m string, p store.MetricPoint) error {
			rec = append(rec[:len(head)], m, strconv.Itoa(p.Step), csvFloat(p.Value))
			if err := cw.Write(rec); err != nil {
				return &writeError{err}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return &writeError{err}
	}
	return nil
}

func curvesJSON(w io.Writer, sel *selection, keys []string, each eachPoint) error {
	bw := &errWriter{w: w}
	bw.write("[")
	first := true
	for _, r := range sel.runs {
		head := []struct {
			k string
			v any
		}{{"run", r.ID}, {"experiment", r.Experiment}, {"seed", r.Seed}, {"status", r.Status}, {"group", sel.groupLabel(r, keys)}}
		for _, k := range keys {
			var v any
			switch k {
			case KeyExperiment:
				v = r.Experiment
			case KeySeed:
				v = r.Seed
			default:
				if pv, ok := sel.params[r.ID][k]; ok {
					v = jsonValue(pv)
				} else if k == KeyVariant {
					v, _ = sel.value(r, k)
				}
			}
			head = append(head, struct {
				k string
				v any
			}{k, v})
		}
		var prefix strings.Builder
		for _, f := range head {
			kb, _ := json.Marshal(f.k)
			vb, err := json.Marshal(f.v)
			if err != nil {
				return err
			}
			prefix.Write(kb)
			prefix.WriteByte(':')
			prefix.Write(vb)
			prefix.WriteByte(',')
		}
		var key, kb string // the last metric and its JSON
		err := each(r.ID, func(m string, p store.MetricPoint) error {
			if m != key || kb == "" {
				b, _ := json.Marshal(m)
				key, kb = m, string(b)
			}
			vb, _ := jsonFloat(p.Value).MarshalJSON()
			if !first {
				bw.write(",")
			}
			first = false
			bw.write("\n{" + prefix.String() + `"key":` + kb + `,"step":` + strconv.Itoa(p.Step) + `,"value":` + string(vb) + "}")
			if bw.err != nil {
				return &writeError{bw.err}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	bw.write("\n]\n")
	if bw.err != nil {
		return &writeError{bw.err}
	}
	return nil
}

// errWriter remembers the first error of a sequence of writes.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) write(s string) {
	if e.err == nil {
		_, e.err = io.WriteString(e.w, s)
	}
}
