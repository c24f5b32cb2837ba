package report

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/artifact"
	"github.com/attnlab/attnlab/metrics"
	"github.com/attnlab/attnlab/store"
)

// rowLabels returns each row's Label.
func rowLabels(c *Comparison) []string {
	var out []string
	for i := range c.Rows {
		out = append(out, c.Label(i))
	}
	return out
}

// cellOf returns the cell of metric m in the row whose label is label.
func cellOf(t *testing.T, c *Comparison, label, m string) Cell {
	t.Helper()
	j := slices.Index(c.Metrics, m)
	if j < 0 {
		t.Fatalf("metric %s not in %q", m, c.Metrics)
	}
	for i := range c.Rows {
		if c.Label(i) == label {
			return c.Rows[i].Cells[j]
		}
	}
	t.Fatalf("no row %q in %q", label, rowLabels(c))
	return Cell{}
}

func mustCompare(t *testing.T, st *store.Store, q Query) *Comparison {
	t.Helper()
	c, err := Compare(context.Background(), st, q)
	if err != nil {
		t.Fatalf("Compare(%+v): %v", q, err)
	}
	checkDiffs(t, c)
	return c
}

// checkDiffs checks what every comparison must hold: a tested cell's Δ is
// the difference of the means its table shows (row − baseline), infinite
// or NaN exactly where that difference is, and never NaN where both means
// are finite. A Δ of other means (over runs beside means over seeds, or
// of values whose sum overflowed) would contradict the table.
func checkDiffs(t *testing.T, c *Comparison) {
	t.Helper()
	for i, row := range c.Rows {
		for j, cell := range row.Cells {
			if !cell.Tested {
				continue
			}
			want := cell.Mean - c.Rows[c.Baseline].Cells[j].Mean
			if math.IsNaN(cell.Diff) && !math.IsNaN(want) && !isFinite(want) {
				continue // an infinite mean: no difference needed
			}
			if !closeTo(cell.Diff, want, 1e-12) || isFinite(cell.Diff) != isFinite(want) {
				t.Errorf("row %d %s: Δ %v but the table's means differ by %v", i, c.Metrics[j], cell.Diff, want)
			}
		}
	}
}

func TestCompareGroupsByVaryingKeys(t *testing.T) {
	st, ids := buildStore(t, scanExperiment())
	c := mustCompare(t, st, Query{Experiments: []string{"scan-attn"}})

	// dim (only additive has it) follows from the attention's name, so the
	// name alone heads the rows; seed and the experiment's name are left out.
	if want := []string{"model.attention.name"}; !slices.Equal(c.Keys, want) {
		t.Errorf("Keys = %q, want %q", c.Keys, want)
	}
	if want := []string{"model.attention.dim"}; !slices.Equal(c.Derived, want) || len(c.Pooled) != 0 {
		t.Errorf("Derived = %q, Pooled = %q; want %q and none", c.Derived, c.Pooled, want)
	}
	if want := []string{"test/exact_match", "test/bleu", "test/chrf", "test/loss", "perf/tokens_per_s", "model/params"}; !slices.Equal(c.Metrics, want) {
		t.Errorf("Metrics = %q, want the defaults present %q", c.Metrics, want)
	}
	if want := []string{"attention.name=none", "attention.name=dot", "attention.name=additive"}; !slices.Equal(rowLabels(c), want) {
		t.Errorf("rows = %q, want plan order %q", rowLabels(c), want)
	}
	if c.Baseline != -1 {
		t.Errorf("Baseline = %d, want -1", c.Baseline)
	}
	// test/chrf++ is stored but not a column: its signature is not shown.
	wantSigs := []Signature{{Metric: "test/bleu", Line: "BLEU|" + sigBLEU13a}, {Metric: "test/chrf", Line: "chrF2|" + sigChrF}}
	if !reflect.DeepEqual(c.Signatures, wantSigs) {
		t.Errorf("Signatures = %+v, want %+v", c.Signatures, wantSigs)
	}
	// Rows hold the done runs only (not the failed and the queued one), one per seed.
	run := ids["scan-attn"]
	wantRuns := [][]int64{{run[0], run[3], run[6]}, {run[1], run[4], run[7]}, {run[2], run[5], run[8]}}
	for i, row := range c.Rows {
		if !slices.Equal(row.Runs, wantRuns[i]) {
			t.Errorf("row %d Runs = %v, want %v", i, row.Runs, wantRuns[i])
		}
	}
	if got := c.Rows[2].Group; !slices.Equal(got, []string{"additive"}) {
		t.Errorf("additive's Group = %q, want [additive]", got)
	}
	for i, row := range c.Rows {
		if row.Task != 0 || row.Pooled != nil {
			t.Errorf("row %d: Task %d, Pooled %q; want task 0, nothing pooled", i, row.Task, row.Pooled)
		}
	}
	for i, em := range [][]float64{emNone, emDot, emAdditive} {
		cell := c.Rows[i].Cells[0]
		mean, std := metrics.MeanStd(em)
		if !closeTo(cell.Mean, mean, 1e-15) || !closeTo(cell.Std, std, 1e-15) || cell.N != 3 || cell.NaN != 0 {
			t.Errorf("row %d exact_match = %v ± %v (n=%d), want %v ± %v (n=3)", i, cell.Mean, cell.Std, cell.N, mean, std)
		}
		if !slices.Equal(cell.Values, em) {
			t.Errorf("row %d Values = %v, want %v in run order", i, cell.Values, em)
		}
		if !math.IsNaN(cell.P) {
			t.Errorf("row %d P = %v without a baseline, want NaN", i, cell.P)
		}
	}
}

func TestCompareBy(t *testing.T) {
	st, _ := buildStore(t, scanExperiment(), copyExperiment())
	for _, tc := range []struct {
		name  string
		q     Query
		keys  []string
		sizes []int // runs per row
	}{
		{"full key", Query{Experiments: []string{"scan-attn"}, By: []string{"model.attention.name"}}, []string{"model.attention.name"}, []int{3, 3, 3}},
		{"dotted suffix", Query{Experiments: []string{"scan-attn"}, By: []string{"attention.name"}}, []string{"model.attention.name"}, []int{3, 3, 3}},
		{"constant key, pooled", Query{Experiments: []string{"scan-attn"}, By: []string{"hidden"}, Pool: []string{"attention.name", "dim"}}, []string{"model.encoder.hidden"}, []int{9}},
		{"seed, pooled", Query{Experiments: []string{"scan-attn"}, By: []string{"seed"}, Pool: []string{"attention.name", "attention.dim"}}, []string{"seed"}, []int{3, 3, 3}},
		{"two keys", Query{Experiments: []string{"scan-attn"}, By: []string{"seed", "attention.name"}}, []string{"seed", "model.attention.name"}, []int{1, 1, 1, 1, 1, 1, 1, 1, 1}},
		{"experiment, pooled", Query{By: []string{"experiment"}, Pool: []string{"attention.name", "attention.dim"}}, []string{"experiment"}, []int{4, 9}},
		{"varying across experiments", Query{}, []string{"experiment", "model.attention.name"}, []int{2, 2, 3, 3, 3}},
		{"status failed", Query{Experiments: []string{"scan-attn"}, Status: store.StatusFailed}, []string{"experiment"}, []int{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustCompare(t, st, tc.q)
			if !slices.Equal(c.Keys, tc.keys) {
				t.Errorf("Keys = %q, want %q", c.Keys, tc.keys)
			}
			var sizes []int
			for _, r := range c.Rows {
				sizes = append(sizes, len(r.Runs))
			}
			if !slices.Equal(sizes, tc.sizes) {
				t.Errorf("runs per row = %v, want %v (rows %q)", sizes, tc.sizes, rowLabels(c))
			}
		})
	}
}

// TestComparePoolsAlongDeterminedKeys: --pool attention.name pools the
// attention's parameters along (attention.dim is — for none and dot, 128
// for additive: a function of the name), and shows them as pooled; a key
// the pooled ones do not determine is still an error.
func TestComparePoolsAlongDeterminedKeys(t *testing.T) {
	st, _ := buildStore(t, scanExperiment())
	c := mustCompare(t, st, Query{Experiments: []string{"scan-attn"}, By: []string{"seed"}, Pool: []string{"attention.name"}})
	if want := []string{"model.attention.dim", "model.attention.name"}; !slices.Equal(c.Pooled, want) {
		t.Errorf("Pooled = %q, want %q", c.Pooled, want)
	}
	for i, r := range c.Rows {
		if len(r.Runs) != 3 || !slices.Equal(r.Pooled[0], []string{"—", "128"}) {
			t.Errorf("row %d: %d runs, pooled dims %q; want 3 runs over —, 128", i, len(r.Runs), r.Pooled[0])
		}
	}
	// The table gives the key that was asked to pool a column and names the
	// one pooled along in its note: a column each for every parameter a
	// pooled attention name sets made tables too wide for any terminal.
	if want := []string{"model.attention.dim"}; !slices.Equal(c.PooledAlong, want) {
		t.Errorf("PooledAlong = %q, want %q", c.PooledAlong, want)
	}
	for _, format := range []string{"table", "markdown", "latex"} {
		out := strings.ReplaceAll(render(t, c, format), "\n% ", "\n") // LaTeX's notes are comments
		if !strings.Contains(out, "attention.name (pooled)") || strings.Contains(out, "dim (pooled)") ||
			!strings.Contains(strings.Join(strings.Fields(out), " "), "whose model.attention.name differ (and so their model.attention.dim, which it sets)") {
			t.Errorf("%s: want a column for attention.name alone and dim in the note:\n%s", format, out)
		}
	}
	var back Comparison
	if b, err := json.Marshal(c); err != nil || json.Unmarshal(b, &back) != nil || !slices.Equal(back.PooledAlong, c.PooledAlong) {
		t.Errorf("PooledAlong read back from JSON = %q, want %q", back.PooledAlong, c.PooledAlong)
	}
	// dim alone does not determine the name (none and dot share —).
	_, err := Compare(context.Background(), st, Query{Experiments: []string{"scan-attn"}, By: []string{"seed"}, Pool: []string{"attention.dim"}})
	if err == nil || !strings.Contains(err.Error(), "different model.attention.name (none, dot, additive)") {
		t.Errorf("--pool attention.dim: %v, want an error naming attention.name", err)
	}
}

// TestComparePValues: rows with the baseline's seeds are compared by the
// paired t-test, others by Welch's; reference values from scipy 1.10's
// stats.ttest_rel(a, b) and stats.ttest_ind(a, b, equal_var=False), as in
// metrics.TestPairedCompare and metrics.TestWelchTTest.
func TestComparePValues(t *testing.T) {
	st, _ := buildStore(t, scanExperiment(), welchExperiment())

	// Seeds 1–5 against 1–8: Welch.
	c := mustCompare(t, st, Query{Experiments: []string{"welch"}, Baseline: "variant=b"})
	if c.Baseline != 1 {
		t.Fatalf("Baseline = %d, want 1 (variant b)", c.Baseline)
	}
	if p := c.Rows[0].Cells[0].P; !closeTo(p, 0.0021576893123759593, 1e-9) || c.Rows[0].Cells[0].Paired {
		t.Errorf("p(a vs b) = %.17g, paired %v; want 0.0021576893123759593 (unequal n: 5 and 8), Welch", p, c.Rows[0].Cells[0].Paired)
	}
	if p := c.Rows[1].Cells[0].P; !math.IsNaN(p) {
		t.Errorf("the baseline row's p = %v, want NaN", p)
	}

	c = mustCompare(t, st, Query{Experiments: []string{"scan-attn"}, Baseline: "model.attention.name=none"})
	if c.Baseline != 0 {
		t.Fatalf("Baseline = %d, want 0", c.Baseline)
	}
	// Seeds 1, 2, 3 on both sides: paired.
	if cell := cellOf(t, c, "attention.name=dot", "test/exact_match"); !cell.Paired || !closeTo(cell.P, 0.20079182575951338, 1e-9) ||
		!closeTo(cell.Low, -0.02103897538307475, 1e-9) || !closeTo(cell.High, 0.053705642049741445, 1e-9) {
		t.Errorf("dot vs none: paired %v, p = %.17g, [%v, %v]; want paired, 0.20079182575951338, [-0.02104, 0.05371]", cell.Paired, cell.P, cell.Low, cell.High)
	}
	// The NaN of the diverged run is left out: seeds 1, 3 against 1, 2,
	// 3, so Welch's test of 2 values against 3.
	_, want := metrics.WelchTTest([]float64{0.3, 0.32}, lossNone)
	if cell := cellOf(t, c, "attention.name=additive", "test/loss"); cell.Paired || !closeTo(cell.P, want, 1e-12) {
		t.Errorf("p(additive loss vs none) = %v, paired %v; want %v, Welch", cell.P, cell.Paired, want)
	}
	// --unpaired: Welch everywhere.
	c = mustCompare(t, st, Query{Experiments: []string{"scan-attn"}, Baseline: "model.attention.name=none", Unpaired: true})
	if cell := cellOf(t, c, "attention.name=dot", "test/exact_match"); cell.Paired || !closeTo(cell.P, 0.057799107763105005, 1e-9) {
		t.Errorf("unpaired: p(dot vs none) = %.17g, paired %v; want 0.057799107763105005, Welch", cell.P, cell.Paired)
	}
	if notes := strings.Join(c.notes(false), " "); !strings.Contains(notes, "seeds not paired (--unpaired)") {
		t.Errorf("unpaired: the notes do not say so:\n%s", notes)
	}
	// Fewer than 2 values: p is NaN.
	c = mustCompare(t, st, Query{Experiments: []string{"scan-attn"}, Baseline: "attention.name=none", Where: mustWhere(t, "seed = 1")})
	for i, row := range c.Rows {
		for j, cell := range row.Cells {
			if !math.IsNaN(cell.P) || !math.IsNaN(cell.Std) || cell.N != 1 {
				t.Errorf("one seed: row %d %s: P = %v, Std = %v, N = %d; want NaN, NaN, 1", i, c.Metrics[j], cell.P, cell.Std, cell.N)
			}
		}
	}
}

func mustWhere(t *testing.T, s string) *store.Cond {
	t.Helper()
	c, err := store.ParseWhere(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCompareNaN(t *testing.T) {
	st, _ := buildStore(t, scanExperiment(), divergeExperiment())

	c := mustCompare(t, st, Query{Experiments: []string{"scan-attn"}})
	loss := cellOf(t, c, "attention.name=additive", "test/loss")
	if loss.N != 2 || loss.NaN != 1 || !closeTo(loss.Mean, 0.31, 1e-12) || !closeTo(loss.Std, math.Sqrt(0.0002), 1e-12) {
		t.Errorf("additive test/loss = %v ± %v (n=%d, NaN=%d), want 0.31 ± 0.0141 (n=2, NaN=1)", loss.Mean, loss.Std, loss.N, loss.NaN)
	}
	if !math.IsNaN(loss.Values[1]) || len(loss.Values) != 3 {
		t.Errorf("Values = %v, want NaN kept in place for seed 2", loss.Values)
	}
	// The lowest mean, but over 2 of its 3 runs: never best, nor another
	// row in its stead.
	for _, row := range c.Rows {
		if row.Cells[slices.Index(c.Metrics, "test/loss")].Best {
			t.Errorf("test/loss marks %v best beside additive's mean over 2 of 3 runs", row.Group)
		}
	}

	c = mustCompare(t, st, Query{Experiments: []string{"diverge"}, Baseline: "lr=0.001"})
	if want := []string{"lr=0.001", "lr=1"}; !slices.Equal(rowLabels(c), want) {
		t.Fatalf("rows = %q, want %q", rowLabels(c), want)
	}
	all := cellOf(t, c, "lr=1", "test/loss")
	if all.N != 0 || all.NaN != 3 || !math.IsNaN(all.Mean) || !math.IsNaN(all.P) || all.Best {
		t.Errorf("all-NaN cell = %+v, want N 0, NaN 3, Mean NaN, P NaN, not best", all)
	}
	// A done run's +Inf loss (stored before runs failed it) is no result:
	// the run counts as failed, as today's builds store it, so lr=0.1,
	// whose only run it is, has no row, and lr=0.001 is the only row
	// with a mean: no row is best.
	if len(c.FailedElsewhere) != 1 || !strings.HasPrefix(c.FailedElsewhere[0].Error, "diverged: test/loss +Inf") {
		t.Errorf("failed runs without a row = %+v, want lr=0.1's diverged run", c.FailedElsewhere)
	}
	if cellOf(t, c, "lr=0.001", "test/loss").Best {
		t.Errorf("lr=0.001 is marked best against no other mean")
	}
}

// TestCompareInfiniteLoss: a done run whose loss or perplexity is ±Inf (a
// diverged run stored by a build before 2026-12-06, which did not fail
// it) counts as a failed run: left out of every cell of its row, not only
// of its infinite one — mean, std and test are over the seeds that
// trained — the row never best, and the notes name the run. With --status
// any, where runs are shown as they are, the ±Inf loss is counted apart
// as a NaN is. A +Inf of another metric (a text metric's ratio) stays a
// value.
func TestCompareInfiniteLoss(t *testing.T) {
	inf := math.Inf(1)
	x := fakeExperiment{name: "old-diverged"}
	for s, v := range []float64{1.1, 1.3, 1.2} {
		x.runs = append(x.runs, fakeRun{params: map[string]any{"lr": 0.001}, seed: int64(s + 1),
			sums: map[string]float64{"test/ppl": v, "test/loss": math.Log(v), "test/len_ratio": 1}})
	}
	for s, v := range []float64{2.1, 2.3, inf, 2.2} {
		x.runs = append(x.runs, fakeRun{params: map[string]any{"lr": 0.1}, seed: int64(s + 1),
			sums: map[string]float64{"test/ppl": v, "test/loss": []float64{0.7, 0.8, 800, 0.75}[s], "test/len_ratio": []float64{1, 1, 1, inf}[s]}})
		if s == 2 {
			x.runs[len(x.runs)-1].sums["test/exact_match"] = 1
		}
	}
	x.runs = append(x.runs, fakeRun{params: map[string]any{"lr": 0.1}, seed: 5, status: store.StatusFailed, err: "crashed"})
	st, _ := buildStore(t, x)
	c := mustCompare(t, st, Query{Experiments: []string{"old-diverged"}, Baseline: "lr=0.001", Unpaired: true, Metrics: []string{"test/ppl", "test/loss", "test/len_ratio"}})
	row := c.Rows[slices.Index(rowLabels(c), "lr=0.1")]
	if len(row.Failed) != 2 || !slices.ContainsFunc(row.Failed, func(f FailedRun) bool { return strings.HasPrefix(f.Error, "diverged: test/ppl +Inf") }) {
		t.Errorf("lr=0.1's failed runs = %+v, want the run that crashed and the run of test/ppl +Inf", row.Failed)
	}
	ppl := cellOf(t, c, "lr=0.1", "test/ppl")
	if ppl.N != 3 || ppl.NaN != 0 || !closeTo(ppl.Mean, 2.2, 1e-12) || !closeTo(ppl.Std, 0.1, 1e-12) || ppl.Best {
		t.Errorf("test/ppl = %v ± %v (n=%d, NaN=%d, best %v), want 2.2 ± 0.1 (n=3, NaN=0), not best", ppl.Mean, ppl.Std, ppl.N, ppl.NaN, ppl.Best)
	}
	if !ppl.Tested || !closeTo(ppl.Diff, 1, 1e-12) || math.IsNaN(ppl.P) || math.IsNaN(ppl.Low) {
		t.Errorf("test/ppl against the baseline = %+v, want Δ 1 with a p-value and an interval over the 3 seeds that trained", ppl)
	}
	// The finite loss of 800 of the same run is left out too.
	if loss := cellOf(t, c, "lr=0.1", "test/loss"); loss.N != 3 || !closeTo(loss.Mean, 0.75, 1e-12) {
		t.Errorf("test/loss = %+v, want the mean of 0.7, 0.8 and 0.75 over 3 runs", loss)
	}
	ratio := cellOf(t, c, "lr=0.1", "test/len_ratio")
	if ratio.N != 3 || ratio.NaN != 0 || !math.IsInf(ratio.Mean, 1) {
		t.Errorf("test/len_ratio = %+v, want a value: N 3, Mean +Inf", ratio)
	}
	if len(c.Diverged) != 1 || c.Diverged[0].Seed != 3 || c.Diverged[0].Status != store.StatusFailed {
		t.Errorf("Diverged = %+v, want the run of seed 3, counted failed (the command names it with the rm line)", c.Diverged)
	}
	notes := strings.Join(c.notes(false), " ")
	if want := "diverged: test/ppl +Inf"; !strings.Contains(notes, want) {
		t.Errorf("notes do not name the diverged run (%q):\n%s", want, notes)
	}

	// The diverged run's keys make no columns, as a failed run's do not.
	if c := mustCompare(t, st, Query{Experiments: []string{"old-diverged"}}); slices.Contains(c.Metrics, "test/exact_match") {
		t.Errorf("metrics %q include a key only the diverged run has", c.Metrics)
	}
	// Every run selected diverged: no runs to compare, as when every run
	// failed, not an empty table.
	// (The run that crashed is not named as diverged.)
	_, err := Compare(context.Background(), st, Query{Experiments: []string{"old-diverged"}, Where: mustWhere(t, "lr = 0.1 and seed >= 3 and seed != 4")})
	var div *DivergedError
	if !errors.Is(err, ErrNoRuns) || !errors.As(err, &div) || len(div.Runs) != 1 || div.Runs[0].Seed != 3 {
		t.Fatalf("compare of only a diverged run and a failed one: %v, want a DivergedError, an ErrNoRuns, of the diverged one", err)
	}
	// One line naming the run (id and name) and saying how to be rid of
	// it: the rm line names the database (compare, plot and the dashboard
	// print this error as it is; without --db it would remove the run of
	// that id in the default database).
	id := div.Runs[0].ID
	db, note := st.CommandDB()
	if db == "" || note != "" {
		t.Fatalf("CommandDB of the test's store = %q, %q; want a --db option and no note", db, note)
	}
	want := fmt.Sprintf("report: every done run selected diverged: run %d (old-diverged/seed=3) was stored done with a loss or perplexity of ±Inf by a build before 2026-12-06, so counted as failed; attnlab rm%s %d removes it, and a rerun of the experiment then trains it anew", id, db, id)
	if err.Error() != want {
		t.Errorf("error\n%s\nwant\n%s", err, want)
	}
	if got := div.Say(" --db 'my runs.db'"); !strings.Contains(got, fmt.Sprintf("; attnlab rm --db 'my runs.db' %d removes it,", id)) {
		t.Errorf("Say with a --db option: %s", got)
	}

	c = mustCompare(t, st, Query{Experiments: []string{"old-diverged"}, Baseline: "lr=0.001", Unpaired: true, Status: StatusAny, Metrics: []string{"test/ppl", "test/loss", "test/len_ratio"}})
	ppl = cellOf(t, c, "lr=0.1", "test/ppl")
	if ppl.N != 3 || ppl.NaN != 1 || ppl.Infinite != 1 || !closeTo(ppl.Mean, 2.2, 1e-12) || !math.IsNaN(ppl.Values[2]) {
		t.Errorf("--status any: test/ppl = %+v, want 2.2 over n=3, NaN 1, Infinite 1, the +Inf run's NaN in place", ppl)
	}
	if notes := strings.Join(c.notes(false), " "); !strings.Contains(notes, "lr=0.1 test/ppl ×1 ±Inf") {
		t.Errorf("--status any: notes do not say the ±Inf was left out:\n%s", notes)
	}
	// The CSV counts the ±Inf in test/ppl_inf, not in test/ppl_nan: the
	// row has no NaN value.
	var b strings.Builder
	if err := c.WriteWidth(&b, "csv", 0); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	field := func(row int, col string) string {
		k := slices.Index(recs[0], col)
		if k < 0 {
			t.Fatalf("no CSV column %s in %q", col, recs[0])
		}
		return recs[1+row][k]
	}
	r := slices.Index(rowLabels(c), "lr=0.1")
	if nan, inf := field(r, "test/ppl_nan"), field(r, "test/ppl_inf"); nan != "0" || inf != "1" {
		t.Errorf("--status any: CSV lr=0.1 test/ppl_nan %s, test/ppl_inf %s; want 0 and 1", nan, inf)
	}
}

// TestCompareBest: the best mean of each quality metric is marked (ties
// all marked); cost metrics only with TestCost; constants of the
// configuration never, nor a column with one row. In the scan experiment
// none has a queued seed, dot a failed one and additive a NaN test/loss:
// where one of those means is the best, no row is marked; with --status
// done the queued and failed runs are not the comparison's.
func TestCompareBest(t *testing.T) {
	st, _ := buildStore(t, scanExperiment())
	mets := []string{"test/exact_match", "test/loss", "perf/tokens_per_s", "model/params", "test/attn_entropy", "valid/exact_match"}
	for _, tc := range []struct {
		testCost bool
		status   store.Status
		want     map[string][]bool // none, dot, additive
	}{
		{false, "", map[string][]bool{
			"test/exact_match":  {false, false, true},
			"test/loss":         {false, false, false}, // additive's mean is over 2 of 3
			"perf/tokens_per_s": {false, false, false}, // a cost: not by default
			"model/params":      {false, false, false}, // a constant: never
			"test/attn_entropy": {false, false, false}, // no direction
			"valid/exact_match": {false, false, true},
		}},
		{true, "", map[string][]bool{
			"test/exact_match":  {false, false, true},
			"test/loss":         {false, false, false},
			"perf/tokens_per_s": {false, false, false}, // none's best mean is over 3 of its 4 seeds
			"model/params":      {false, false, false},
			"test/attn_entropy": {false, false, false},
			"valid/exact_match": {false, false, true},
		}},
		{true, store.StatusDone, map[string][]bool{
			"test/exact_match":  {false, false, true},
			"test/loss":         {false, false, false},
			"perf/tokens_per_s": {true, false, false},
			"model/params":      {false, false, false},
			"test/attn_entropy": {false, false, false},
			"valid/exact_match": {false, false, true},
		}},
	} {
		c := mustCompare(t, st, Query{Experiments: []string{"scan-attn"}, By: []string{"attention.name"}, Metrics: mets, TestCost: tc.testCost, Status: tc.status})
		for j, m := range c.Metrics {
			var got []bool
			for _, row := range c.Rows {
				got = append(got, row.Cells[j].Best)
			}
			if !slices.Equal(got, tc.want[m]) {
				t.Errorf("TestCost %v, status %q: %s Best = %v, want %v", tc.testCost, tc.status, m, got, tc.want[m])
			}
		}
	}
	// A tie: both marked.
	x := fakeExperiment{name: "tie"}
	for i, v := range []float64{0.5, 0.9, 0.9} {
		x.runs = append(x.runs, fakeRun{params: map[string]any{"k": i}, seed: 1, sums: map[string]float64{"valid/token_acc": v}})
	}
	st2, _ := buildStore(t, x)
	c := mustCompare(t, st2, Query{})
	if got := []bool{c.Rows[0].Cells[0].Best, c.Rows[1].Cells[0].Best, c.Rows[2].Cells[0].Best}; !slices.Equal(got, []bool{false, true, true}) {
		t.Errorf("tie: Best = %v, want [false true true]", got)
	}
	// All tied: nothing is best.
	x = fakeExperiment{name: "alltie"}
	for i := range 3 {
		x.runs = append(x.runs, fakeRun{params: map[string]any{"k": i}, seed: 1, sums: map[string]float64{"valid/token_acc": 0}})
	}
	st3, _ := buildStore(t, x)
	c = mustCompare(t, st3, Query{})
	for i, row := range c.Rows {
		if row.Cells[0].Best {
			t.Errorf("all tied: row %d marked best", i)
		}
	}
	// One row: nothing to be best against.
	c = mustCompare(t, st, Query{Experiments: []string{"scan-attn"}, By: []string{"hidden"}, Pool: []string{"attention.name", "attention.dim"}})
	for j, cell := range c.Rows[0].Cells {
		if cell.Best {
			t.Errorf("single row: %s marked best", c.Metrics[j])
		}
	}
}

func TestDirection(t *testing.T) {
	for _, tc := range []struct {
		metric string
		want   int
	}{
		{"test/exact_match", 1}, {"valid/exact_match", 1}, {"test/exact_match/len_21_40", 1},
		{"valid/token_acc", 1}, {"test/align_acc", 1}, {"test/bleu", 1}, {"perf/tokens_per_s", 1},
		{"test/loss", -1}, {"train/loss", -1}, {"valid/ppl", -1}, {"model/params", -1}, {"best/valid/loss", -1},
		{"perf/train_seconds", -1},
		{"test/attn_entropy", 0}, {"best/step", 0}, {"train/steps", 0}, {"custom", 0},
	} {
		if got := int(metrics.Describe(tc.metric).Direction); got != tc.want {
			t.Errorf("metrics.Describe(%q).Direction = %d, want %d (report orders and stars by it)", tc.metric, got, tc.want)
		}
	}
}

func TestCompareWhere(t *testing.T) {
	st, _ := buildStore(t, scanExperiment())
	c := mustCompare(t, st, Query{Where: mustWhere(t, `model.attention.name in (dot, additive) and test/exact_match > 0.91`)})
	// dot seed 2 has 0.905: left out.
	var sizes []int
	for _, r := range c.Rows {
		sizes = append(sizes, len(r.Runs))
	}
	if want := []string{"attention.name=dot", "attention.name=additive"}; !slices.Equal(rowLabels(c), want) || !slices.Equal(sizes, []int{2, 3}) {
		t.Errorf("rows = %q with %v runs, want %q with [2 3]", rowLabels(c), sizes, want)
	}
}

func TestCompareHostileInputs(t *testing.T) {
	st, ids := buildStore(t, scanExperiment())
	ctx := context.Background()
	count := func() int {
		runs, err := st.Runs(ctx, store.RunFilter{})
		if err != nil {
			t.Fatalf("the store no longer reads: %v", err)
		}
		return len(runs)
	}
	before := count()
	hostile := `a'; DROP TABLE runs; --`

	where := mustWhere(t, `task.name = "a'; DROP TABLE runs; --"`)
	if _, err := Compare(ctx, st, Query{Where: where}); !errors.Is(err, ErrNoRuns) {
		t.Errorf("hostile where: err = %v, want ErrNoRuns", err)
	}
	where = mustWhere(t, `model.attention.name != "a'; DROP TABLE runs; --" or task.name = 'a"); DELETE FROM params; --'`)
	if c, err := Compare(ctx, st, Query{Where: where}); err != nil || len(c.Rows) != 3 {
		t.Errorf("hostile where (matching): err = %v", err)
	}
	// A hostile key is an unknown key: an error before any SQL.
	where = mustWhere(t, `'a"); DELETE FROM params; --' = 1`)
	if _, err := Compare(ctx, st, Query{Where: where}); err == nil || !strings.Contains(err.Error(), "unknown key") {
		t.Errorf("hostile where key: err = %v, want an unknown key", err)
	}
	for _, q := range []Query{
		{Experiments: []string{hostile}},
		{By: []string{hostile}},
		{Metrics: []string{hostile}},
		{Sort: hostile},
		{Baseline: "model.attention.name=" + hostile},
		{Baseline: hostile + "=x"},
	} {
		if _, err := Compare(ctx, st, q); err == nil {
			t.Errorf("Compare(%+v) succeeded, want an error", q)
		}
	}
	if _, err := Compare(ctx, st, Query{Experiments: []string{hostile}}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("hostile experiment: err = %v, want store.ErrNotFound", err)
	}
	if got := count(); got != before {
		t.Errorf("runs = %d after hostile queries, want %d", got, before)
	}
	if err := st.Check(ctx); err != nil {
		t.Errorf("store check: %v", err)
	}
	p, err := st.Params(ctx, ids["scan-attn"][:1])
	if err != nil || len(p[ids["scan-attn"][0]]) == 0 {
		t.Errorf("params after hostile queries: %v, %v", p, err)
	}
}

func TestCompareSort(t *testing.T) {
	st, _ := buildStore(t, scanExperiment())
	none, dot, add := "attention.name=none", "attention.name=dot", "attention.name=additive"
	for _, tc := range []struct {
		sort string
		want []string
	}{
		{"", []string{none, dot, add}},
		{"test/exact_match", []string{add, dot, none}}, // max metric: descending
		{"exact_match", []string{add, dot, none}},      // unique suffix
		{"test/loss", []string{add, dot, none}},        // min metric: ascending
		{"-test/loss", []string{none, dot, add}},
		{"+test/exact_match", []string{none, dot, add}},
		{"perf/tokens_per_s", []string{none, dot, add}},
		{"test/attn_entropy", []string{add, dot, none}}, // no direction: ascending
	} {
		c := mustCompare(t, st, Query{Experiments: []string{"scan-attn"}, Sort: tc.sort, Baseline: "attention.name=dot"})
		if got := rowLabels(c); !slices.Equal(got, tc.want) {
			t.Errorf("Sort %q: rows %q, want %q", tc.sort, got, tc.want)
		}
		if c.Label(c.Baseline) != dot {
			t.Errorf("Sort %q: baseline row is %q, want the dot row", tc.sort, c.Label(c.Baseline))
		}
		if m := strings.TrimLeft(tc.sort, "+-"); m != "" && m != "exact_match" && !slices.Contains(c.Metrics, m) {
			t.Errorf("Sort %q: metric not added to %q", tc.sort, c.Metrics)
		}
	}

	// Rows without a value come last, whatever the direction.
	x := fakeExperiment{name: "gaps"}
	for i, v := range []float64{0.5, math.NaN(), 0.9} {
		x.runs = append(x.runs, fakeRun{params: map[string]any{"k": i}, seed: 1, sums: map[string]float64{"valid/token_acc": v}})
	}
	x.runs = append(x.runs, fakeRun{params: map[string]any{"k": 3}, seed: 1, sums: map[string]float64{"test/bleu": 1}})
	st, _ = buildStore(t, x)
	for _, s := range []string{"valid/token_acc", "+valid/token_acc"} {
		c := mustCompare(t, st, Query{Sort: s})
		var got []string
		for _, r := range c.Rows {
			got = append(got, r.Group[0])
		}
		want := []string{"2", "0", "1", "3"}
		if s[0] == '+' {
			want = []string{"0", "2", "1", "3"}
		}
		if !slices.Equal(got, want) {
			t.Errorf("Sort %q: k = %q, want %q", s, got, want)
		}
	}
}

func TestCompareErrors(t *testing.T) {
	st, _ := buildStore(t, scanExperiment(), copyExperiment())
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		q    Query
		is   error
		want []string // substrings of the message
	}{
		{"unknown experiment", Query{Experiments: []string{"scan-atn"}}, store.ErrNotFound,
			[]string{`unknown experiment "scan-atn"`, "known: copy-len, scan-attn"}},
		{"no runs", Query{Experiments: []string{"scan-attn"}, Status: store.StatusInterrupted}, ErrNoRuns,
			[]string{"no interrupted runs", "scan-attn: 1 queued, 9 done, 1 failed"}},
		{"no runs where", Query{Where: mustWhere(t, "test/bleu > 200")}, ErrNoRuns,
			[]string{"no done runs match --where test/bleu > 200"}},
		// Runs asked for by id (the web's ?run=) that are not there: the
		// message says which, not only that the experiment has done runs.
		{"no runs ids", Query{Experiments: []string{"scan-attn"}, IDs: []int64{99999}}, ErrNoRuns,
			[]string{"no done runs among run 99999 (scan-attn: 1 queued, 9 done, 1 failed)"}},
		{"no runs many ids", Query{IDs: []int64{91, 92, 93, 94, 95, 96, 97}, Where: mustWhere(t, "seed > 0")}, ErrNoRuns,
			[]string{"no done runs among runs 91, 92, 93, 94, 95 and 2 more match --where seed > 0"}},
		{"unknown metric", Query{Metrics: []string{"test/exact"}}, ErrKey,
			[]string{`unknown metric "test/exact"`, "test/exact_match", "perf/tokens_per_s"}},
		{"ambiguous metric", Query{Experiments: []string{"scan-attn"}, Metrics: []string{"tokens"}}, ErrKey,
			[]string{`metric "tokens" is ambiguous (perf/tokens, x/tokens)`}},
		{"unknown sort", Query{Sort: "-bleu2"}, ErrKey, []string{`unknown sort metric "bleu2"`}},
		{"sort sign alone", Query{Sort: "-"}, ErrKey, []string{`sort "-": the - needs a metric name after it, as in -test/exact_match`}},
		{"sort plus alone", Query{Sort: "+"}, ErrKey, []string{`sort "+": the + needs a metric name after it, as in +test/exact_match`}},
		// Spaces around it are trimmed, as the other keys' are.
		{"sort sign alone spaced", Query{Sort: " - "}, ErrKey, []string{`sort "-": the - needs a metric name after it, as in -test/exact_match`}},
		{"bad by", Query{By: []string{"model.atention.name"}}, nil,
			[]string{`--by: unknown key "model.atention.name" (closest: model.attention.name,`, "keys that vary: experiment"}},
		{"short typo by", Query{Experiments: []string{"scan-attn"}, By: []string{"atention.name"}}, nil,
			[]string{`unknown key "atention.name" (closest: model.attention.name,`}},
		{"unknown where key", Query{Where: mustWhere(t, "atention.name = dot")}, nil,
			[]string{`--where: unknown key "atention.name" (closest: model.attention.name,`}},
		{"unknown where metric", Query{Where: mustWhere(t, "test/blue > 0.5")}, nil,
			[]string{`--where: unknown key "test/blue" (closest: test/bleu,`}},
		{"where metric short form with text", Query{Where: mustWhere(t, "bleu > abc")}, ErrKey,
			[]string{"--where: where: col 8: test/bleu compares with numbers (it is a metric), got text 'abc'"}},
		{"where text for a text param", Query{Where: mustWhere(t, "attention.name in (dot, 3)")}, ErrKey,
			[]string{"--where: where: col 25: model.attention.name holds text in the selected runs, not numbers such as '3': that value would never match"}},
		{"where text for a number param", Query{Where: mustWhere(t, `attention.dim = "128"`)}, ErrKey,
			[]string{`col 17: model.attention.dim holds numbers in the selected runs, not text such as '"128"'`}},
		{"unknown pool key", Query{By: []string{"attention.name"}, Pool: []string{"nope"}}, nil,
			[]string{`--pool: unknown key "nope"`}},
		{"by pools", Query{Experiments: []string{"scan-attn"}, By: []string{"seed"}}, ErrKey,
			// attention.name settles attention.dim (additive's 128): only it is named.
			[]string{"--by seed would put runs with different model.attention.name (none, dot, additive) in one group: add it to --by, or to --pool"}},
		{"by twice", Query{By: []string{"attention.name", "model.attention.name"}}, nil, []string{"given twice"}},
		{"baseline no row", Query{Experiments: []string{"scan-attn"}, Baseline: "attention.name=gru"}, ErrKey,
			[]string{`baseline "attention.name=gru" matches no row`, "attention.name=dot"}},
		{"baseline not a key", Query{Experiments: []string{"scan-attn"}, Baseline: "hidden=64"}, ErrKey,
			[]string{`"hidden" is not a group key`}},
		{"baseline many rows", Query{By: []string{"experiment", "attention.name"}, Baseline: "attention.name=dot"}, ErrKey,
			[]string{"matches 2 rows", "give a value for more keys"}},
		{"baseline syntax", Query{Baseline: "dot"}, ErrKey, []string{"want key=value"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compare(ctx, st, tc.q)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v does not wrap %v", err, tc.is)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is not one line", err)
			}
			if strings.HasSuffix(err.Error(), ": no runs") {
				t.Errorf("error %q says it twice", err)
			}
		})
	}
	// A baseline naming several keys picks one row.
	c, err := Compare(ctx, st, Query{By: []string{"experiment", "attention.name"}, Baseline: "experiment=scan-attn,attention.name=dot"})
	if err != nil {
		t.Fatalf("two-key baseline: %v", err)
	}
	if got := c.Label(c.Baseline); got != "experiment=scan-attn attention.name=dot" {
		t.Errorf("two-key baseline row = %q", got)
	}
}

func TestMetricNames(t *testing.T) {
	st, _ := buildStore(t, scanExperiment())
	c := mustCompare(t, st, Query{Metrics: []string{"exact_match", "loss", "bleu", "len_21_40", "model/params"}, Sort: "exact_match"})
	want := []string{"test/exact_match", "test/loss", "test/bleu", "test/exact_match/len_21_40", "model/params"}
	if !slices.Equal(c.Metrics, want) || c.SortedBy != "test/exact_match" {
		t.Errorf("Metrics = %q sorted by %q, want %q sorted by test/exact_match (test/ preferred over valid/)", c.Metrics, c.SortedBy, want)
	}
	// A metric named twice, or by its short and its full name, is one
	// column, where it was first named (the dashboard's ?metrics=a,a).
	c = mustCompare(t, st, Query{Metrics: []string{"bleu", "exact_match", "test/bleu", "bleu"}})
	if want := []string{"test/bleu", "test/exact_match"}; !slices.Equal(c.Metrics, want) {
		t.Errorf("Metrics bleu,exact_match,test/bleu,bleu = %q, want %q", c.Metrics, want)
	}
	for _, tc := range []struct {
		keys []string
		m    string
		want []string
	}{
		{[]string{"train/loss", "valid/loss"}, "loss", []string{"valid/loss"}},
		{[]string{"a/acc", "b/acc"}, "acc", []string{"a/acc", "b/acc"}},
		{[]string{"a/acc", "test/acc"}, "acc", []string{"test/acc"}},
		{[]string{"test/acc"}, "cc", nil},
	} {
		if got := suffixMatches(tc.keys, tc.m); !slices.Equal(got, tc.want) {
			t.Errorf("suffixMatches(%q, %q) = %q, want %q", tc.keys, tc.m, got, tc.want)
		}
	}
}

func TestCompareDefaults(t *testing.T) {
	st, _ := buildStore(t, welchExperiment())
	c := mustCompare(t, st, Query{})
	if !slices.Equal(c.Metrics, []string{"valid/token_acc"}) {
		t.Errorf("Metrics = %q, want the summary keys when no default exists", c.Metrics)
	}
	if !slices.Equal(c.Keys, []string{"variant"}) {
		t.Errorf("Keys = %q, want [variant]", c.Keys)
	}

	x := fakeExperiment{name: "single"}
	for s := range 3 {
		x.runs = append(x.runs, fakeRun{params: map[string]any{"lr": 0.1}, seed: int64(s), sums: map[string]float64{"valid/loss": 1}})
	}
	st, _ = buildStore(t, x)
	c = mustCompare(t, st, Query{})
	if !slices.Equal(c.Keys, []string{"experiment"}) || len(c.Rows) != 1 || c.Rows[0].Group[0] != "single" {
		t.Errorf("nothing varies: Keys %q rows %v, want one row grouped by experiment", c.Keys, c.Rows)
	}
	if !slices.Equal(c.Metrics, []string{"valid/loss"}) {
		t.Errorf("Metrics = %q, want valid/loss standing in for test/loss", c.Metrics)
	}
}

func TestFormatGroupValues(t *testing.T) {
	x := fakeExperiment{name: "values"}
	// A whole number below 2^53 in digits (a max_len of 1000000, not
	// 1e+06), as a filter writes it; beyond, it is not exact: 'g' form.
	// 2^53 is an int; where int has 32 bits, an int64 (converted at run
	// time, so that 32-bit builds compile).
	var big any = int64(1 << 53)
	if math.MaxInt > 1<<53 {
		big = int(big.(int64))
	}
	vals := []any{0.001, 1e-5, 64, 3.0, true, "", "a b", nil, `[1,2]`, math.NaN(), 1000000, 2.5e7, big}
	for i, v := range vals {
		x.runs = append(x.runs, fakeRun{params: map[string]any{"v": v, "i": i}, seed: 1, sums: map[string]float64{"valid/token_acc": 1}})
	}
	x.runs = append(x.runs, fakeRun{params: map[string]any{"i": 99}, seed: 1, sums: map[string]float64{"valid/token_acc": 1}})
	st, _ := buildStore(t, x)
	c := mustCompare(t, st, Query{By: []string{"v"}})
	var got []string
	for _, r := range c.Rows {
		got = append(got, r.Group[0])
	}
	want := []string{"0.001", "1e-05", "64", "3", "true", `""`, "a b", "null", "[1,2]", "NaN", "1000000", "25000000", "9.007199254740992e+15", ""}
	if !slices.Equal(got, want) {
		t.Errorf("group values = %q, want %q", got, want)
	}
}

// TestGroupsBySweepPoint: rows follow the sweep's keys, and a named variant
// stands for the keys it sets, while resolved params that differ only
// because a variant switched plugins (multi-head's heads) are not columns.
func TestGroupsBySweepPoint(t *testing.T) {
	var runs []fakeRun
	for _, v := range []struct {
		name   string
		params map[string]any
	}{
		{"luong", map[string]any{"model.wiring": "luong", "model.attention.name": "dot"}},
		{"mha", map[string]any{"model.wiring": "bahdanau", "model.attention.name": "multi-head", "model.attention.heads": 4}},
	} {
		for _, lr := range []float64{0.001, 0.003} {
			for seed := int64(1); seed <= 2; seed++ {
				params := map[string]any{"train.optimizer.lr": lr}
				point := map[string]any{"variant": v.name, "train.optimizer.lr": lr}
				for k, x := range v.params {
					params[k] = x
					point[k] = x
				}
				runs = append(runs, fakeRun{params: params, point: point, seed: seed, sums: map[string]float64{"test/exact_match": lr * float64(seed)}})
			}
		}
	}
	st, _ := buildStore(t, fakeExperiment{name: "sweep", runs: runs})
	c, err := Compare(context.Background(), st, Query{Experiments: []string{"sweep"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"variant", "train.optimizer.lr"}; !slices.Equal(c.Keys, want) {
		t.Fatalf("Keys = %q, want %q", c.Keys, want)
	}
	if len(c.Rows) != 4 || c.Rows[0].Group[0] != "luong" || len(c.Rows[0].Runs) != 2 {
		t.Fatalf("rows = %+v", c.Rows)
	}
	// --by still reaches any param, and the variant pseudo key works there;
	// grouping by the variant alone pools the learning rates, so it must
	// be asked for.
	if _, err := Compare(context.Background(), st, Query{Experiments: []string{"sweep"}, By: []string{"variant"}}); err == nil ||
		!strings.Contains(err.Error(), "train.optimizer.lr (0.001, 0.003)") {
		t.Fatalf("by variant, lr not pooled: err = %v", err)
	}
	c, err = Compare(context.Background(), st, Query{Experiments: []string{"sweep"}, By: []string{"variant"}, Pool: []string{"lr"}, Baseline: "variant=luong"})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Rows) != 2 || c.Baseline != 0 {
		t.Fatalf("by variant: %d rows, baseline %d", len(c.Rows), c.Baseline)
	}
	// --where takes the variant too.
	c, err = Compare(context.Background(), st, Query{Experiments: []string{"sweep"}, Where: mustWhere(t, "variant = mha")})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Rows) != 2 || c.Rows[0].Group[0] != "0.001" || c.Rows[1].Group[0] != "0.003" {
		t.Fatalf("where variant = mha: keys %q rows %+v, want mha's two learning rates", c.Keys, c.Rows)
	}
}

// stepsExperiment is one experiment run twice, the second time with
// --set train.steps=30: attention none and additive × seeds 1, 2 × steps
// 20, 30. The sweep points hold only the attention.
func stepsExperiment() fakeExperiment {
	x := fakeExperiment{name: "steps"}
	for _, steps := range []int{20, 30} {
		for seed := int64(1); seed <= 2; seed++ {
			for _, att := range []string{"none", "additive"} {
				em := 0.1 + float64(seed)/100
				if att == "additive" {
					em += float64(steps) / 40
				}
				x.runs = append(x.runs, fakeRun{
					params: map[string]any{"model.attention.name": att, "train.steps": steps, "task.name": "reverse"},
					point:  map[string]any{"model.attention.name": att},
					seed:   seed, sums: map[string]float64{"test/exact_match": em, "model/params": 100},
				})
			}
		}
	}
	return x
}

// TestCompareNeverPools is issue 10's acceptance case: one experiment run
// twice with different train.steps gives one row per setting, never two
// training lengths pooled as seeds; --by that would pool them is an error
// naming the key and its values, unless --pool names it; then every format
// says so.
func TestCompareNeverPools(t *testing.T) {
	st, _ := buildStore(t, stepsExperiment())
	ctx := context.Background()
	c := mustCompare(t, st, Query{Experiments: []string{"steps"}, Baseline: "attention.name=none,steps=20"})
	if want := []string{"model.attention.name", "train.steps"}; !slices.Equal(c.Keys, want) {
		t.Errorf("Keys = %q, want %q", c.Keys, want)
	}
	want := []string{"attention.name=none train.steps=20", "attention.name=additive train.steps=20",
		"attention.name=none train.steps=30", "attention.name=additive train.steps=30"}
	if !slices.Equal(rowLabels(c), want) {
		t.Fatalf("rows %q, want %q", rowLabels(c), want)
	}
	for i, row := range c.Rows {
		if len(row.Runs) != 2 {
			t.Errorf("row %s has %d runs, want 2 (its two seeds)", c.Label(i), len(row.Runs))
		}
	}

	_, err := Compare(ctx, st, Query{Experiments: []string{"steps"}, By: []string{"attention.name"}})
	if err == nil || !strings.Contains(err.Error(), "--by attention.name would put runs with different train.steps (20, 30) in one group") ||
		!strings.Contains(err.Error(), "--pool") {
		t.Errorf("--by hiding train.steps: err = %v", err)
	}

	c = mustCompare(t, st, Query{Experiments: []string{"steps"}, By: []string{"attention.name"}, Pool: []string{"steps"}, Baseline: "attention.name=none"})
	if !slices.Equal(c.Pooled, []string{"train.steps"}) || len(c.Rows) != 2 || len(c.Rows[0].Runs) != 4 {
		t.Fatalf("pooled: Pooled %q, %d rows", c.Pooled, len(c.Rows))
	}
	for i, row := range c.Rows {
		if !slices.Equal(row.Pooled[0], []string{"20", "30"}) {
			t.Errorf("row %d Pooled = %q, want [20 30]", i, row.Pooled)
		}
	}
	for _, f := range Formats {
		var b strings.Builder
		if err := c.Write(&b, f); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if !strings.Contains(out, "train.steps (pooled)") && !(f == "json" && strings.Contains(out, `"pooled": [`)) {
			t.Errorf("%s does not show the pooled key:\n%s", f, out)
		}
		if f != "csv" && !strings.Contains(out, "rows average runs whose train.steps differ") {
			t.Errorf("%s does not say what was pooled:\n%s", f, out)
		}
	}
}

// TestCompareStarsWithinATask: rows of different tasks (task.* params)
// are never compared — no best across them, no test against a baseline of
// another task — while rows of one task are.
func TestCompareStarsWithinATask(t *testing.T) {
	x := fakeExperiment{name: "tasks"}
	for _, task := range []string{"copy", "reverse"} {
		for _, att := range []string{"none", "dot"} {
			for seed := int64(1); seed <= 3; seed++ {
				em := 0.5 + float64(seed)/100
				if task == "copy" {
					em += 0.4 // copy is easier: its none beats reverse's dot
				}
				if att == "dot" {
					em += 0.1
				}
				x.runs = append(x.runs, fakeRun{params: map[string]any{"task.name": task, "model.attention.name": att}, seed: seed,
					sums: map[string]float64{"test/exact_match": em}})
			}
		}
	}
	st, _ := buildStore(t, x)
	c := mustCompare(t, st, Query{Baseline: "task.name=reverse,attention.name=none"})
	if c.Tasks != 2 {
		t.Errorf("Tasks = %d, want 2", c.Tasks)
	}
	best := map[string]bool{}
	tested := map[string]bool{}
	for i, row := range c.Rows {
		best[c.Label(i)] = row.Cells[0].Best
		tested[c.Label(i)] = row.Cells[0].Tested
	}
	wantBest := map[string]bool{"attention.name=dot task.name=copy": true, "attention.name=dot task.name=reverse": true,
		"attention.name=none task.name=copy": false, "attention.name=none task.name=reverse": false}
	if !maps.Equal(best, wantBest) {
		t.Errorf("Best = %v, want %v (one per task)", best, wantBest)
	}
	wantTested := map[string]bool{"attention.name=dot task.name=reverse": true, "attention.name=dot task.name=copy": false,
		"attention.name=none task.name=copy": false, "attention.name=none task.name=reverse": false}
	if !maps.Equal(tested, wantTested) {
		t.Errorf("Tested = %v, want %v (only the baseline's task)", tested, wantTested)
	}
	var b strings.Builder
	if err := c.Write(&b, "table"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"* best (within each of the 2 tasks, rows whose task.* params and data files agree; higher is better",
		"Not compared with the baseline: 2 rows of another task"} {
		if !strings.Contains(strings.Join(strings.Fields(b.String()), " "), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
	// The fingerprint of a data file is part of the task: the same pairs
	// task on two versions of its file is two tasks.
	y := fakeExperiment{name: "files"}
	for _, sha := range []string{"ec89e2acc3b8d092", "0c1d2e3f40516273"} {
		for _, att := range []string{"none", "dot"} {
			for seed := int64(1); seed <= 2; seed++ {
				y.runs = append(y.runs, fakeRun{params: map[string]any{"task.name": "pairs", "data.path.sha256": sha, "model.attention.name": att},
					seed: seed, sums: map[string]float64{"test/exact_match": float64(seed) / 10}})
			}
		}
	}
	sty, _ := buildStore(t, y)
	cy := mustCompare(t, sty, Query{})
	if cy.Tasks != 2 || !slices.Equal(cy.Keys, []string{"data.path.sha256", "model.attention.name"}) {
		t.Errorf("two data files: Tasks %d, Keys %q; want 2 tasks, keyed by the fingerprint", cy.Tasks, cy.Keys)
	}
	// Pooling the task makes rows of no single task: no star.
	c = mustCompare(t, st, Query{By: []string{"attention.name"}, Pool: []string{"task.name"}})
	for i, row := range c.Rows {
		if row.Task != -1 || row.Cells[0].Best {
			t.Errorf("pooled row %s: Task %d, Best %v; want -1, false", c.Label(i), row.Task, row.Cells[0].Best)
		}
	}
}

// TestCompareSignatures: the sacreBLEU signatures stored with the runs'
// scores are stated under the table, per column shown; rows scored with
// other settings are named, and runs stored without scores counted.
func TestCompareSignatures(t *testing.T) {
	x := fakeExperiment{name: "sigs"}
	for s := range 2 {
		for _, tok := range []string{"13a", "intl", "old"} {
			r := fakeRun{params: map[string]any{"eval.bleu.tokenize": tok}, seed: int64(s + 1),
				sums: map[string]float64{"test/bleu": 30 + float64(s), "test/exact_match": 0.5}}
			switch tok {
			case "13a":
				r.scores = []artifact.Score{{Key: "test/bleu", Name: "BLEU", Score: 30, Signature: sigBLEU13a}}
			case "intl":
				r.scores = []artifact.Score{{Key: "test/bleu", Name: "BLEU", Score: 31, Signature: sigBLEUIntl}}
			}
			x.runs = append(x.runs, r)
		}
	}
	st, _ := buildStore(t, x)
	c := mustCompare(t, st, Query{})
	want := []Signature{
		{Metric: "test/bleu", Line: "BLEU|" + sigBLEU13a, Rows: []int{0}},
		{Metric: "test/bleu", Line: "BLEU|" + sigBLEUIntl, Rows: []int{1}},
	}
	if !reflect.DeepEqual(c.Signatures, want) {
		t.Fatalf("Signatures = %+v, want %+v", c.Signatures, want)
	}
	note := "test/bleu: BLEU|" + sigBLEU13a + " (bleu.tokenize=13a), BLEU|" + sigBLEUIntl +
		" (bleu.tokenize=intl); 2 runs stored without one"
	if notes := c.notes(false); !slices.Contains(notes, note) {
		t.Errorf("notes = %q\nwant among them %q", notes, note)
	}
	for _, format := range []string{"table", "markdown", "json"} {
		var b strings.Builder
		if err := c.WriteWidth(&b, format, 80); err != nil {
			t.Fatal(err)
		}
		for _, sig := range []string{sigBLEU13a, sigBLEUIntl} {
			if format == "markdown" {
				sig = escapeMarkdown(sig)
			}
			if !strings.Contains(b.String(), sig) {
				t.Errorf("%s output lacks the signature %s:\n%s", format, sig, b.String())
			}
		}
	}
	var back Comparison
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Signatures, want) {
		t.Errorf("signatures read back from JSON = %+v, want %+v", back.Signatures, want)
	}

	// Without a BLEU column, no signature.
	c = mustCompare(t, st, Query{Metrics: []string{"exact_match"}})
	if len(c.Signatures) != 0 || slices.ContainsFunc(c.notes(false), func(s string) bool { return strings.Contains(s, "signature") }) {
		t.Errorf("no BLEU column: Signatures = %+v, notes %q; want none", c.Signatures, c.notes(false))
	}
}

// TestCompareNoBestAcrossTasks: when every row is alone in its task, no
// row is starred, and the notes say why rather than leaving the reader to
// wonder.
func TestCompareNoBestAcrossTasks(t *testing.T) {
	x := fakeExperiment{name: "two-files"}
	for i, lines := range []float64{300, 203} {
		x.runs = append(x.runs, fakeRun{params: map[string]any{"task.name": "pairs", "data.path.lines": lines},
			seed: 1, sums: map[string]float64{"test/bleu": 0.6 - 0.4*float64(i)}})
	}
	st, _ := buildStore(t, x)
	c := mustCompare(t, st, Query{})
	if c.Tasks != 2 || c.Rows[0].Cells[0].Best || c.Rows[1].Cells[0].Best {
		t.Fatalf("Tasks = %d, best %v %v; want 2 tasks and no best", c.Tasks, c.Rows[0].Cells[0].Best, c.Rows[1].Cells[0].Best)
	}
	want := "no best marked: the rows belong to 2 tasks (their task.* params or data files differ) and no task has two rows that differ"
	if notes := c.notes(false); !strings.Contains(notes[0], want) {
		t.Errorf("notes[0] = %q, want it to say %q", notes[0], want)
	}
}

// TestResolveKeysNothingVaries: an unknown --by key among runs where no key
// varies (one run) says so, instead of ending on "keys that vary: " and
// nothing.
func TestResolveKeysNothingVaries(t *testing.T) {
	s := &selection{params: map[int64]map[string]store.Value{1: {}}}
	_, err := s.resolveKeys([]string{"nosuch"}, "--by", nil)
	if err == nil || strings.HasSuffix(err.Error(), ": ") || !strings.Contains(err.Error(), "no key varies among the selected runs") {
		t.Errorf("resolveKeys = %v, want an unknown key saying no key varies", err)
	}
}

// TestDivergedErrorSay: the every-run-diverged error names at most five
// runs, the rest counted, and its attnlab rm line lists every id: the
// runs past the fifth are named nowhere else.
func TestDivergedErrorSay(t *testing.T) {
	runsOf := func(n int) []store.Run {
		var rs []store.Run
		for i := 1; i <= n; i++ {
			rs = append(rs, store.Run{ID: int64(i), Experiment: "x", Seed: int64(i)})
		}
		return rs
	}
	for _, tc := range []struct {
		n    int
		want []string
	}{
		{2, []string{"diverged: runs 1 (x/seed=1), 2 (x/seed=2) were stored done", "; attnlab rm 1 2 removes them, and a rerun of the experiment then trains them anew"}},
		{7, []string{"runs 1 (x/seed=1), 2 (x/seed=2), 3 (x/seed=3), 4 (x/seed=4), 5 (x/seed=5), and 2 more were", "; attnlab rm 1 2 3 4 5 6 7 removes them"}},
		{21, []string{"and 16 more were", "; attnlab rm 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 removes them"}},
	} {
		got := (&DivergedError{Runs: runsOf(tc.n)}).Say("")
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%d runs: %s\nwant %q in it", tc.n, got, w)
			}
		}
		if strings.Contains(got, "\n") {
			t.Errorf("%d runs: more than one line: %q", tc.n, got)
		}
	}
}
