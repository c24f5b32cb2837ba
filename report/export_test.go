package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/attnlab/attnlab/metrics"
	"io"
	"maps"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/store"
)

func TestExportCSV(t *testing.T) {
	st, ids := buildStore(t, scanExperiment(), copyExperiment())
	var b bytes.Buffer
	if err := Export(context.Background(), st, "scan-attn", "csv", &b); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header := recs[0]
	wantStart := []string{"id", "hash", "seed", "status", "group", "model.attention.dim", "model.attention.name", "model.encoder.hidden", "name", "task.name", "train.optimizer.lr"}
	if !slices.Equal(header[:len(wantStart)], wantStart) {
		t.Errorf("header starts %q, want %q (params sorted, seed only once)", header[:len(wantStart)], wantStart)
	}
	if header[len(header)-1] != "error" {
		t.Errorf("header ends %q, want error last", header[len(header)-1])
	}
	sums := header[len(wantStart) : len(header)-1]
	if !slices.IsSortedFunc(sums, metrics.CompareKeys) || !slices.Contains(sums, "test/exact_match/len_161_inf") || !slices.Contains(sums, "perf/tokens_per_s") ||
		slices.Index(sums, "test/exact_match/len_1_10") > slices.Index(sums, "test/exact_match/len_11_20") {
		t.Errorf("summary columns %q, want every summary key, sorted with numbers by value (len_1_10 before len_11_20)", sums)
	}
	runs := ids["scan-attn"]
	if len(recs) != len(runs)+1 {
		t.Fatalf("%d rows, want one per run (%d, any status)", len(recs)-1, len(runs))
	}
	col := func(name string) int { return slices.Index(header, name) }
	for i, rec := range recs[1:] {
		if rec[0] != strconv.FormatInt(runs[i], 10) {
			t.Errorf("row %d id %s, want %d", i, rec[0], runs[i])
		}
	}
	// Run 2 (additive seed 1), run 5 (additive seed 2, diverged), run 10 (failed), run 11 (queued).
	if r := recs[3]; r[col("model.attention.dim")] != "128" || r[col("model.attention.name")] != "additive" || r[col("test/loss")] != "0.3" ||
		r[col("status")] != "done" || r[col("group")] != "attention.name=additive" {
		t.Errorf("additive seed 1 row %q", r)
	}
	if r := recs[1]; r[col("model.attention.dim")] != "" || r[col("test/exact_match/len_161_inf")] != "" {
		t.Errorf("none row: missing param and summary should be empty fields: %q", r)
	}
	if r := recs[6]; r[col("test/loss")] != "" || r[col("seed")] != "2" {
		t.Errorf("diverged run: test/loss %q seed %q, want an empty field (NaN), 2", r[col("test/loss")], r[col("seed")])
	}
	if r := recs[10]; r[col("status")] != "failed" || r[col("test/exact_match")] != "0" {
		t.Errorf("failed run row %q", r)
	}
	if r := recs[11]; r[col("status")] != "queued" || r[col("test/exact_match")] != "" {
		t.Errorf("queued run row %q", r)
	}
}

func TestExportJSON(t *testing.T) {
	st, _ := buildStore(t, scanExperiment())
	var b bytes.Buffer
	if err := Export(context.Background(), st, "scan-attn", "json", &b); err != nil {
		t.Fatal(err)
	}
	var runs []struct {
		ID         int64          `json:"id"`
		Experiment string         `json:"experiment"`
		Hash       string         `json:"hash"`
		Seed       int64          `json:"seed"`
		Status     string         `json:"status"`
		Group      string         `json:"group"`
		Params     map[string]any `json:"params"`
		Summaries  map[string]any `json:"summaries"`
	}
	if err := json.Unmarshal(b.Bytes(), &runs); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if len(runs) != 11 {
		t.Fatalf("%d runs, want 11", len(runs))
	}
	r := runs[2]
	if r.Experiment != "scan-attn" || r.Seed != 1 || r.Status != "done" || r.Hash == "" || r.Group != "attention.name=additive" {
		t.Errorf("run 3 = %+v", r)
	}
	if r.Params["model.encoder.hidden"] != 64.0 || r.Params["model.attention.name"] != "additive" || r.Params["train.optimizer.lr"] != 0.001 {
		t.Errorf("params not typed: %v", r.Params)
	}
	if r.Summaries["test/exact_match"] != emAdditive[0] {
		t.Errorf("summaries %v", r.Summaries)
	}
	if v, ok := runs[5].Summaries["test/loss"]; !ok || v != nil {
		t.Errorf("diverged run's test/loss = %v (present %v), want null", v, ok)
	}
	if _, ok := runs[0].Params["model.attention.dim"]; ok {
		t.Errorf("a param the run lacks should be absent")
	}
}

func TestExportErrors(t *testing.T) {
	st, _ := buildStore(t, scanExperiment())
	ctx := context.Background()
	err := Export(ctx, st, "nope", "csv", &bytes.Buffer{})
	if !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), "known: scan-attn") {
		t.Errorf("unknown experiment: %v", err)
	}
	if err := Export(ctx, st, "scan-attn", "xlsx", &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "csv, json") {
		t.Errorf("unknown format: %v", err)
	}
	// An experiment without runs exports a header, or an empty array.
	if _, err := st.PutExperiment(ctx, "empty", "", ""); err != nil {
		t.Fatal(err)
	}
	for format, want := range map[string]string{"csv": "id,hash,seed,status,group,error\n", "json": "[]\n"} {
		var b bytes.Buffer
		if err := Export(ctx, st, "empty", format, &b); err != nil || b.String() != want {
			t.Errorf("empty %s: %q, %v; want %q", format, b.String(), err, want)
		}
	}
}

// TestExportGroupsNeverPool: runs of one setting share a group, runs of
// different settings (here train.steps, set from the command line) never
// do, so grouping an export by it is safe.
func TestExportGroupsNeverPool(t *testing.T) {
	st, _ := buildStore(t, stepsExperiment())
	var b bytes.Buffer
	if err := Export(context.Background(), st, "steps", "csv", &b); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	g := slices.Index(recs[0], "group")
	groups := map[string]int{}
	for _, r := range recs[1:] {
		groups[r[g]]++
	}
	want := map[string]int{"attention.name=none train.steps=20": 2, "attention.name=additive train.steps=20": 2,
		"attention.name=none train.steps=30": 2, "attention.name=additive train.steps=30": 2}
	if !maps.Equal(groups, want) {
		t.Errorf("groups %v, want %v", groups, want)
	}
}

func TestExportCurves(t *testing.T) {
	st, ids := buildStore(t, scanExperiment())
	ctx := context.Background()
	var b bytes.Buffer
	if err := ExportCurves(ctx, st, "scan-attn", []string{"loss"}, "csv", &b); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"run", "experiment", "seed", "status", "group", "model.attention.name", "key", "step", "value"}; !slices.Equal(recs[0], want) {
		t.Fatalf("header %q, want %q", recs[0], want)
	}
	// 9 done runs × 9 points of valid/loss; the failed and queued runs
	// logged nothing.
	if len(recs) != 1+9*9 {
		t.Fatalf("%d records, want 81", len(recs)-1)
	}
	run := ids["scan-attn"]
	for i, r := range recs[1:] {
		id, step := run[i/9], 250*(i%9)
		if r[0] != strconv.FormatInt(id, 10) || r[6] != "valid/loss" || r[7] != strconv.Itoa(step) {
			t.Fatalf("record %d = %q, want run %d, valid/loss, step %d", i, r, id, step)
		}
	}
	// Additive seed 2 (the sixth run) diverged from its 7th point: empty values.
	if r := recs[1+5*9+6]; r[5] != "additive" || r[8] != "" || r[2] != "2" || r[4] != "attention.name=additive" {
		t.Errorf("diverged point: %q", r)
	}
	if r := recs[1]; r[8] == "" || r[5] != "none" {
		t.Errorf("first point: %q", r)
	}
	// JSON: the same records, typed, NaN as null.
	b.Reset()
	if err := ExportCurves(ctx, st, "scan-attn", nil, "json", &b); err != nil {
		t.Fatal(err)
	}
	var pts []map[string]any
	if err := json.Unmarshal(b.Bytes(), &pts); err != nil {
		t.Fatalf("%v\n%s", err, b.String()[:min(400, b.Len())])
	}
	if len(pts) != 81 {
		t.Fatalf("%d JSON records, want 81 (every logged key: valid/loss only)", len(pts))
	}
	p := pts[5*9+6]
	if p["run"] != float64(run[5]) || p["key"] != "valid/loss" || p["step"] != 1500.0 || p["value"] != nil ||
		p["model.attention.name"] != "additive" || p["seed"] != 2.0 {
		t.Errorf("diverged point in JSON: %v", p)
	}
	if err := ExportCurves(ctx, st, "scan-attn", []string{"valid/blue"}, "csv", &b); err == nil ||
		!strings.HasPrefix(err.Error(), `report: --metric: unknown key "valid/blue" (the only key: valid/loss)`) || !errors.Is(err, ErrKey) {
		t.Errorf("unknown metric: %v", err)
	}
}

// heapWriter discards what it is given and, at every 100th write, records
// the live heap (after a collection).
type heapWriter struct {
	writes int
	max    uint64
}

func (h *heapWriter) Write(p []byte) (int, error) {
	if h.writes++; h.writes%100 == 1 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		h.max = max(h.max, ms.HeapAlloc)
	}
	return len(p), nil
}

// TestExportCurvesStreams: export --curves reads each history as it writes
// it, so a long history takes no memory (it read every history of the
// experiment first: 3 million logged steps took 500 MB). 150,000 points
// held at once take 6 MB; the live heap while they are written stays
// within 2 MB of what it was before.
func TestExportCurvesStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 150,000 metric rows")
	}
	const n = 150_000
	long := make([]float64, n)
	for i := range long {
		long[i] = 1 / float64(i+1)
	}
	st, _ := buildStore(t, fakeExperiment{name: "long", runs: []fakeRun{
		{seed: 1, params: map[string]any{"model.attention.name": "dot"}, history: map[string][]float64{"train/loss": long}},
	}})
	for _, format := range []string{"csv", "json"} {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		w := &heapWriter{}
		if err := ExportCurves(context.Background(), st, "long", nil, format, w); err != nil {
			t.Fatal(err)
		}
		if w.writes < 100 {
			t.Fatalf("%s: %d writes: too few to measure", format, w.writes)
		}
		if grew := int64(w.max) - int64(ms.HeapAlloc); grew > 2<<20 {
			t.Errorf("%s: the live heap grew by %.1f MB while %d points were written, want under 2 MB", format, float64(grew)/(1<<20), n)
		}
	}
}

// TestExportCSVEmptyString: an empty string param is an empty CSV field
// (csv readers gave the two characters "" for compare's display form), and
// a failed run's error has its column.
func TestExportCSVEmptyString(t *testing.T) {
	sel := &selection{runs: []store.Run{{ID: 1, Hash: "h", Seed: 1, Status: store.StatusFailed, Error: "training loss is NaN"}},
		params: map[int64]map[string]store.Value{1: {"task.src_path": {Kind: store.KindText}, "task.name": {Kind: store.KindText, Text: "pairs"}}}}
	var b bytes.Buffer
	if err := exportCSV(&b, sel, nil); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"1", "h", "1", "failed", "", "pairs", "", "training loss is NaN"}; !slices.Equal(recs[1], want) {
		t.Errorf("row %q, want %q", recs[1], want)
	}
}

// TestExportCurvesOneQueryPerRun: export --curves of every metric reads
// each run's histories in one paged query (store.EachRunMetricPoint), and
// writes byte for byte what it wrote when it read each run's history of
// each metric apart (store.EachMetricPoint per run and key): the same
// records in the same order, by run, then key (byte order: upper case
// first), then step, in CSV and JSON, over runs that logged different
// metrics, NaN and infinities among them.
func TestExportCurvesOneQueryPerRun(t *testing.T) {
	var runs []fakeRun
	for i := range 6 {
		h := map[string][]float64{}
		for k, key := range []string{"valid/loss", "train/loss", "Valid/acc", "test/x", "a"} {
			if (i+k)%4 == 3 {
				continue // not every run logs every metric
			}
			vals := make([]float64, 3+i+k)
			for s := range vals {
				vals[s] = float64(i*100+k) + 1/float64(s+1)
			}
			if k == 1 && i > 2 {
				vals[1], vals[2] = math.NaN(), math.Inf(-1+2*(i%2))
			}
			h[key] = vals
		}
		runs = append(runs, fakeRun{seed: int64(i % 2), params: map[string]any{"model.attention.name": []string{"dot", "none", "additive"}[i%3]}, history: h})
	}
	runs = append(runs, fakeRun{seed: 9, params: map[string]any{"model.attention.name": "dot"}, status: store.StatusQueued})
	st, _ := buildStore(t, fakeExperiment{name: "many", runs: runs})
	ctx := context.Background()
	sel, keys, err := exportSelection(ctx, st, "many", "csv")
	if err != nil {
		t.Fatal(err)
	}
	known, err := st.MetricKeys(ctx, sel.ids())
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Valid/acc", "a", "test/x", "train/loss", "valid/loss"}; !slices.Equal(known, want) {
		t.Fatalf("keys %q, want %q", known, want)
	}
	// The reference: each run's history of each metric read whole, apart
	// (MetricHistory, the reading before the paged one), and the records
	// formatted here as the doc says, not by the writers under test.
	num := func(x float64, nan, pos, neg string) string {
		switch {
		case math.IsNaN(x):
			return nan
		case math.IsInf(x, 1):
			return pos
		case math.IsInf(x, -1):
			return neg
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	reference := func(format string) string {
		var b bytes.Buffer
		cw := csv.NewWriter(&b)
		if format == "csv" {
			cw.Write(append(append([]string{"run", "experiment", "seed", "status", "group"}, keys...), "key", "step", "value"))
		} else {
			b.WriteString("[")
		}
		first := true
		for _, r := range sel.runs {
			for _, m := range known {
				h, err := st.MetricHistory(ctx, []int64{r.ID}, m)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range h[r.ID] {
					if format == "csv" {
						rec := []string{strconv.FormatInt(r.ID, 10), r.Experiment, strconv.FormatInt(r.Seed, 10), string(r.Status), sel.groupLabel(r, keys)}
						for _, k := range keys {
							v, _ := sel.value(r, k)
							rec = append(rec, v)
						}
						cw.Write(append(rec, m, strconv.Itoa(p.Step), num(p.Value, "", "inf", "-inf")))
						continue
					}
					if !first {
						b.WriteString(",")
					}
					first = false
					q := func(s string) string { j, _ := json.Marshal(s); return string(j) }
					fmt.Fprintf(&b, "\n{\"run\":%d,\"experiment\":%s,\"seed\":%d,\"status\":%s,\"group\":%s,", r.ID, q(r.Experiment), r.Seed, q(string(r.Status)), q(sel.groupLabel(r, keys)))
					for _, k := range keys {
						v, _ := json.Marshal(sel.params[r.ID][k].Any())
						fmt.Fprintf(&b, "%s:%s,", q(k), v)
					}
					fmt.Fprintf(&b, "\"key\":%s,\"step\":%d,\"value\":%s}", q(m), p.Step, num(p.Value, "null", `"+Inf"`, `"-Inf"`))
				}
			}
		}
		if format == "csv" {
			cw.Flush()
		} else {
			b.WriteString("\n]\n")
		}
		return b.String()
	}
	if want := []string{"model.attention.name"}; !slices.Equal(keys, want) {
		t.Fatalf("group keys %q, want %q (the reference types them as strings)", keys, want)
	}
	outs := map[string]string{}
	for _, format := range []string{"csv", "json"} {
		var got bytes.Buffer
		want := bytes.NewBufferString(reference(format))
		if err := ExportCurves(ctx, st, "many", nil, format, &got); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%s: export --curves wrote\n%s\nwant (each run's metrics read apart)\n%s", format, got.String(), want.String())
		}
		if n := strings.Count(want.String(), "\n"); n < 100 {
			t.Fatalf("%s: %d lines: too few to compare", format, n)
		}
		outs[format] = got.String()
	}
	// The JSON records name the metric and step the CSV records do.
	recs, err := csv.NewReader(strings.NewReader(outs["csv"])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var pts []map[string]any
	if err := json.Unmarshal([]byte(outs["json"]), &pts); err != nil {
		t.Fatal(err)
	}
	if len(pts) != len(recs)-1 {
		t.Fatalf("%d JSON records, %d CSV records", len(pts), len(recs)-1)
	}
	for i, p := range pts {
		if r := recs[i+1]; p["key"] != r[6] || strconv.FormatFloat(p["step"].(float64), 'f', -1, 64) != r[7] {
			t.Fatalf("JSON record %d: key %v step %v, CSV: %q", i, p["key"], p["step"], r)
		}
	}
}

// rmOnWrite removes a run at the first write it is given — an attnlab rm
// that commits while export is writing, between two of its reads.
type rmOnWrite struct {
	t       *testing.T
	st      *store.Store
	run     int64
	done    bool
	written int
}

func (w *rmOnWrite) Write(p []byte) (int, error) {
	if !w.done {
		w.done = true
		if _, err := w.st.RemoveRuns(context.Background(), []int64{w.run}, false); err != nil {
			w.t.Fatal(err)
		}
	}
	w.written += len(p)
	return len(p), nil
}

// TestExportCurvesRunRemoved: a run removed while export --curves writes
// (after its first page: its history of 25 000 points is cut at 10 000;
// or before any of its points is read: its records are missing) fails the
// export with an error naming it and wrapping ErrRemoved, in both
// formats, and with --metric; an export that nothing removes from
// succeeds.
func TestExportCurvesRunRemoved(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 75,000 metric rows")
	}
	long := make([]float64, 25_000)
	for i := range long {
		long[i] = float64(i)
	}
	var runs []fakeRun
	for i := range 3 {
		runs = append(runs, fakeRun{seed: int64(i), params: map[string]any{"model.attention.name": "dot"}, history: map[string][]float64{"train/loss": long}})
	}
	ctx := context.Background()
	st, _ := buildStore(t, fakeExperiment{name: "rm", runs: runs})
	if err := ExportCurves(ctx, st, "rm", nil, "csv", io.Discard); err != nil {
		t.Fatalf("export with nothing removed: %v", err)
	}
	for _, tc := range []struct {
		name    string
		format  string
		metrics []string
		rm      int // removed at the first write: the run being written (0: cut) or the next (1: missing)
	}{
		{"cut csv", "csv", nil, 0},
		{"cut json", "json", nil, 0},
		{"missing csv", "csv", nil, 1},
		{"missing json --metric", "json", []string{"loss"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, ids := buildStore(t, fakeExperiment{name: "rm", runs: runs})
			rm := ids["rm"][tc.rm]
			w := &rmOnWrite{t: t, st: st, run: rm}
			err := ExportCurves(ctx, st, "rm", tc.metrics, tc.format, w)
			if !errors.Is(err, ErrRemoved) || !strings.Contains(err.Error(), fmt.Sprintf("run %d (rm/seed=%d)", rm, tc.rm)) {
				t.Fatalf("export while run %d is removed: %v, want an error naming it (ErrRemoved)", rm, err)
			}
			if !w.done || w.written == 0 {
				t.Fatal("the run was not removed during the export")
			}
		})
	}
}

// linesWriter counts the lines written to it and calls each hook once,
// the first time the count reaches the hook's key (the CSV writer writes
// in 4 KB chunks, so a hook fires within some 200 lines of its key).
type linesWriter struct {
	lines int
	hooks map[int]func()
	fired map[int]bool
}

func (w *linesWriter) Write(p []byte) (int, error) {
	w.lines += bytes.Count(p, []byte("\n"))
	for n, f := range w.hooks {
		if !w.fired[n] && w.lines >= n {
			w.fired[n] = true
			f()
		}
	}
	return len(p), nil
}

// longRuns returns n runs, failed, each with a history of 25 000 points
// of train/loss: 3 pages (10 000, 10 000, 5 000).
func longRuns(n int) []fakeRun {
	long := make([]float64, 25_000)
	for i := range long {
		long[i] = float64(i)
	}
	var runs []fakeRun
	for i := range n {
		runs = append(runs, fakeRun{seed: int64(i), status: store.StatusFailed, err: "boom",
			params: map[string]any{"model.attention.name": "dot"}, history: map[string][]float64{"train/loss": long}})
	}
	return runs
}

// TestExportCurvesRunRemovedAfterRead: a run removed once all its points
// were read fails nothing — removed while its last page (points 20 000 to
// 25 000, read before any of them is written) is written, or while the
// next run is — and the export writes every record. (The check after the
// last run, or after each run's last page is written, failed them.)
func TestExportCurvesRunRemovedAfterRead(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 75,000 metric rows")
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		format  string
		metrics []string
		at      int // the line count at which run 0 is removed
	}{
		{"during its last page csv", "csv", nil, 1 + 22_000},
		{"during its last page --metric", "csv", []string{"loss"}, 1 + 22_000},
		{"during the next run csv", "csv", nil, 1 + 30_000},
		{"during the next run json", "json", nil, 1 + 30_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, ids := buildStore(t, fakeExperiment{name: "rw", runs: longRuns(3)})
			w := &linesWriter{fired: map[int]bool{}, hooks: map[int]func(){tc.at: func() {
				if _, err := st.RemoveRuns(ctx, []int64{ids["rw"][0]}, false); err != nil {
					t.Fatal(err)
				}
			}}}
			err := ExportCurves(ctx, st, "rw", tc.metrics, tc.format, w)
			if err != nil {
				t.Fatalf("run %d removed after its last read at line %d: %v, want success", ids["rw"][0], tc.at, err)
			}
			if !w.fired[tc.at] {
				t.Fatal("the run was not removed during the export")
			}
			want := 1 + 3*25_000 // the header (CSV) or "[" (JSON), each record, and "]" in JSON
			if tc.format == "json" {
				want++
			}
			if w.lines != want {
				t.Errorf("%d lines written, want %d", w.lines, want)
			}
		})
	}
}

// TestExportCurvesRunStartedAgain: a failed run requeued (attnlab run
// --retry-failed) and claimed by a worker, which truncates its history,
// while export --curves pages through it keeps its id, hash and creation
// time; its attempt tells, and the export fails naming it, with and
// without --metric.
func TestExportCurvesRunStartedAgain(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 50,000 metric rows")
	}
	ctx := context.Background()
	for _, metrics := range [][]string{nil, {"loss"}} {
		st, ids := buildStore(t, fakeExperiment{name: "rq", runs: longRuns(2)})
		run := ids["rq"][0]
		owner := store.Owner{Host: "other-worker", PID: 4242}
		w := &linesWriter{fired: map[int]bool{}, hooks: map[int]func(){1: func() { // while run 0's first page is written
			if n, err := st.RequeueFailed(ctx, run); err != nil || n != 1 {
				t.Fatalf("requeue: %d %v", n, err)
			}
			if res, err := st.Claim(ctx, run, owner, 0); err != nil || !res.Claimed {
				t.Fatalf("claim: %v %v", err, res.Reason)
			}
			if err := st.TruncateOwnedMetrics(ctx, run, owner, -1); err != nil {
				t.Fatal(err)
			}
		}}}
		err := ExportCurves(ctx, st, "rq", metrics, "csv", w)
		if !errors.Is(err, ErrRemoved) || !strings.Contains(err.Error(), fmt.Sprintf("run %d (rq/seed=0)", run)) {
			t.Errorf("--metric %q: export while run %d is started again: %v (%d lines written), want an error naming it (ErrRemoved)", metrics, run, err, w.lines)
		}
	}
}

// TestExportRunRemovedBetweenReads: a run removed, or started again,
// between Export's read of the runs and its read of their params and
// summaries fails the export, naming it, before anything is written; the
// message reads as one line under the command's name ("attnlab: export:
// run 2 (...) was ...": no "export: " of its own).
func TestExportRunRemovedBetweenReads(t *testing.T) {
	ctx := context.Background()
	t.Cleanup(func() { afterRunsRead = nil })
	for _, tc := range []struct {
		name   string
		format string
		change func(st *store.Store, run int64) error
	}{
		{"removed csv", "csv", func(st *store.Store, run int64) error {
			_, err := st.RemoveRuns(ctx, []int64{run}, false)
			return err
		}},
		{"removed json", "json", func(st *store.Store, run int64) error {
			_, err := st.RemoveRuns(ctx, []int64{run}, false)
			return err
		}},
		{"started again", "csv", func(st *store.Store, run int64) error {
			if _, err := st.RequeueFailed(ctx, run); err != nil {
				return err
			}
			_, err := st.Claim(ctx, run, store.Owner{Host: "other-worker", PID: 4242}, 0)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runs := []fakeRun{
				{seed: 0, params: map[string]any{"model.attention.name": "dot"}, sums: map[string]float64{"valid/loss": 1}},
				{seed: 1, status: store.StatusFailed, err: "boom", params: map[string]any{"model.attention.name": "dot"}, sums: map[string]float64{"valid/loss": 2}},
			}
			st, ids := buildStore(t, fakeExperiment{name: "ex", runs: runs})
			run := ids["ex"][1]
			var changeErr error
			afterRunsRead = func() { changeErr = tc.change(st, run) }
			var out bytes.Buffer
			err := Export(ctx, st, "ex", tc.format, &out)
			afterRunsRead = nil
			if changeErr != nil {
				t.Fatal(changeErr)
			}
			want := fmt.Sprintf("report: run %d (ex/seed=1) was started again or removed during the export: its rows may be missing or cut; export again", run)
			if !errors.Is(err, ErrRemoved) || err.Error() != want {
				t.Errorf("Export = %v, want %q (ErrRemoved)", err, want)
			}
			if out.Len() != 0 {
				t.Errorf("Export wrote %q before failing", out.String())
			}
			if err := Export(ctx, st, "ex", tc.format, &out); err != nil {
				t.Errorf("Export again, nothing changed: %v", err)
			}
		})
	}
}

// TestExportCurvesRecords pins export --curves' records, written out by
// hand for a small experiment: the columns, the order (by run, then
// metric, then step), the group and its key, NaN and infinities in both
// formats, the shortest form of a float.
func TestExportCurvesRecords(t *testing.T) {
	st, _ := buildStore(t, fakeExperiment{name: "s", runs: []fakeRun{
		{seed: 0, params: map[string]any{"model.attention.name": "dot"}, history: map[string][]float64{"valid/loss": {1.5, 1e-7}, "a": {3}}},
		{seed: 1, params: map[string]any{"model.attention.name": "additive"}, history: map[string][]float64{"valid/loss": {math.NaN(), math.Inf(-1), math.Inf(1)}}},
	}})
	for _, tc := range []struct{ format, want string }{
		{"csv", `run,experiment,seed,status,group,model.attention.name,key,step,value
1,s,0,done,attention.name=dot,dot,a,0,3
1,s,0,done,attention.name=dot,dot,valid/loss,0,1.5
1,s,0,done,attention.name=dot,dot,valid/loss,250,1e-07
2,s,1,done,attention.name=additive,additive,valid/loss,0,
2,s,1,done,attention.name=additive,additive,valid/loss,250,-inf
2,s,1,done,attention.name=additive,additive,valid/loss,500,inf
`},
		{"json", `[
{"run":1,"experiment":"s","seed":0,"status":"done","group":"attention.name=dot","model.attention.name":"dot","key":"a","step":0,"value":3},
{"run":1,"experiment":"s","seed":0,"status":"done","group":"attention.name=dot","model.attention.name":"dot","key":"valid/loss","step":0,"value":1.5},
{"run":1,"experiment":"s","seed":0,"status":"done","group":"attention.name=dot","model.attention.name":"dot","key":"valid/loss","step":250,"value":1e-07},
{"run":2,"experiment":"s","seed":1,"status":"done","group":"attention.name=additive","model.attention.name":"additive","key":"valid/loss","step":0,"value":null},
{"run":2,"experiment":"s","seed":1,"status":"done","group":"attention.name=additive","model.attention.name":"additive","key":"valid/loss","step":250,"value":"-Inf"},
{"run":2,"experiment":"s","seed":1,"status":"done","group":"attention.name=additive","model.attention.name":"additive","key":"valid/loss","step":500,"value":"+Inf"}
]
`},
	} {
		var got bytes.Buffer
		if err := ExportCurves(context.Background(), st, "s", nil, tc.format, &got); err != nil {
			t.Fatal(err)
		}
		if got.String() != tc.want {
			t.Errorf("%s: export --curves wrote\n%s\nwant\n%s", tc.format, got.String(), tc.want)
		}
	}
}
