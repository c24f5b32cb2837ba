package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/artifact"
	"github.com/attnlab/attnlab/store"
)

// trustRun is a done run of attention name with test/exact_match em and
// the extra params.
func trustRun(name string, seed int64, em float64, extra map[string]any) fakeRun {
	p := map[string]any{"model.attention.name": name, "task.name": "reverse"}
	for k, v := range extra {
		p[k] = v
	}
	return fakeRun{params: p, point: map[string]any{"model.attention.name": name}, seed: seed,
		sums: map[string]float64{"test/exact_match": em}}
}

// TestCompareFailedRuns: a diverged seed is not silently dropped: the row
// names its failed runs, never wears the best mark on the survivors'
// mean, and a setting whose every run failed is reported too; the notes
// say so, and count the runs not finished.
func TestCompareFailedRuns(t *testing.T) {
	failed := func(r fakeRun, msg string) fakeRun {
		r.status, r.err, r.sums = store.StatusFailed, msg, nil
		return r
	}
	queued := trustRun("dot", 9, 0, nil)
	queued.status = store.StatusQueued
	x := fakeExperiment{name: "div", runs: []fakeRun{
		trustRun("none", 1, 0.40, nil), trustRun("none", 2, 0.50, nil), trustRun("none", 3, 0.45, nil),
		trustRun("dot", 1, 0.70, nil), trustRun("dot", 2, 0.72, nil), trustRun("dot", 3, 0.71, nil),
		trustRun("additive", 1, 0.95, nil), trustRun("additive", 2, 0.97, nil),
		failed(trustRun("additive", 3, 0, nil), "gradient norm is NaN at step 12"),
		failed(trustRun("additive", 4, 0, nil), "loss is +Inf at step 7"),
		failed(trustRun("general", 1, 0, nil), "gradient norm is NaN at step 3"),
		queued,
	}}
	st, _ := buildStore(t, x)
	c := mustCompare(t, st, Query{Experiments: []string{"div"}, Baseline: "attention.name=none"})
	add := slices.IndexFunc(c.Rows, func(r Row) bool { return r.Group[0] == "additive" })
	if add < 0 || len(c.Rows[add].Failed) != 2 || c.Rows[add].Failed[0].Error != "gradient norm is NaN at step 12" {
		t.Fatalf("additive row: %+v", c.Rows)
	}
	if c.Rows[add].Cells[0].Best {
		t.Error("additive's two surviving seeds are marked best: two of its four runs diverged")
	}
	if dot := cellOf(t, c, "attention.name=dot", "test/exact_match"); dot.Best {
		t.Error("dot is marked best in place of additive, whose finished runs score higher")
	}
	if len(c.FailedElsewhere) != 1 || c.FailedElsewhere[0].Label != "attention.name=general" {
		t.Errorf("FailedElsewhere = %+v, want the one general run", c.FailedElsewhere)
	}
	if c.Unfinished[store.StatusQueued] != 1 {
		t.Errorf("Unfinished = %v, want 1 queued", c.Unfinished)
	}
	out := render(t, c, "table")
	for _, want := range []string{"2 (+2 failed)", "gradient norm is NaN at step 12", "loss is +Inf at step 7",
		"attention.name=general (every run failed)", "never marked best", "1 run (1 queued)"} {
		if !strings.Contains(strings.Join(strings.Fields(out), " "), want) {
			t.Errorf("the table does not say %q:\n%s", want, out)
		}
	}
	// --status failed still shows the failed runs themselves, as rows.
	c = mustCompare(t, st, Query{Experiments: []string{"div"}, Status: store.StatusFailed})
	if len(c.Rows) != 2 || len(c.FailedElsewhere) != 0 || c.Rows[0].Failed != nil {
		t.Errorf("--status failed: rows %q, elsewhere %v", rowLabels(c), c.FailedElsewhere)
	}
	// The notes say which runs another status shows, in every format.
	for status, want := range map[store.Status]string{
		store.StatusFailed: "Failed runs only (--status failed)", store.StatusQueued: "Only runs now queued (--status queued)",
		StatusAny: "Runs of every status (--status any)", store.StatusDone: "",
	} {
		c = mustCompare(t, st, Query{Experiments: []string{"div"}, Status: status})
		for _, format := range []string{"table", "json"} {
			out := strings.Join(strings.Fields(render(t, c, format)), " ")
			if want != "" && !strings.Contains(out, want) || want == "" && strings.Contains(out, "--status") {
				t.Errorf("--status %s, %s: the notes do not say %q:\n%s", status, format, want, out)
			}
		}
	}
	// A failed setting that differs in many keys is named by every one of
	// them: the optimizer's name too, not only the first four keys.
	sgd := map[string]any{"train.optimizer.name": "sgd", "train.optimizer.lr": 1e38, "train.optimizer.momentum": 0,
		"train.clip": 0, "train.steps": 10}
	x.runs = append(x.runs, failed(trustRun("dot", 1, 0, sgd), "loss is NaN at step 1"))
	st, _ = buildStore(t, x)
	c = mustCompare(t, st, Query{Experiments: []string{"div"}})
	if len(c.FailedElsewhere) != 2 || !strings.Contains(c.FailedElsewhere[1].Label, "optimizer.name=sgd") ||
		!strings.Contains(c.FailedElsewhere[1].Label, "steps=10") {
		t.Errorf("FailedElsewhere = %+v, want the sgd run named by all five keys it differs in", c.FailedElsewhere)
	}
}

// TestCompareShowsUnsweptDifferences: two files submitted under one name
// trained the attention variants with different learning rates and
// lengths; the learning rate is not a parameter of the attention, so the
// table shows it instead of hiding it behind the attention's name. A
// plugin's own parameter (dim) still stands behind its name.
func TestCompareShowsUnsweptDifferences(t *testing.T) {
	var runs []fakeRun
	for seed := int64(1); seed <= 2; seed++ {
		runs = append(runs,
			trustRun("none", seed, 0.4, map[string]any{"train.optimizer.lr": 0.01, "train.steps": 60}),
			trustRun("additive", seed, 0.9, map[string]any{"train.optimizer.lr": 0.03, "train.steps": 120, "model.attention.dim": 64}))
	}
	st, _ := buildStore(t, fakeExperiment{name: "conf", runs: runs})
	c := mustCompare(t, st, Query{Experiments: []string{"conf"}})
	want := []string{"model.attention.name", "train.optimizer.lr", "train.steps"}
	if !slices.Equal(c.Keys, want) || !slices.Equal(c.Derived, []string{"model.attention.dim"}) {
		t.Errorf("Keys %q, Derived %q; want %q and [model.attention.dim]", c.Keys, c.Derived, want)
	}
	// Two experiments: their settings differ by the experiment, which the
	// table shows; they are not listed again, column after column.
	xa := fakeExperiment{name: "a", runs: []fakeRun{trustRun("dot", 1, 0.5, map[string]any{"train.optimizer.lr": 0.01}), trustRun("dot", 2, 0.6, map[string]any{"train.optimizer.lr": 0.01})}}
	xb := fakeExperiment{name: "b", runs: []fakeRun{trustRun("dot", 1, 0.7, map[string]any{"train.optimizer.lr": 0.03}), trustRun("dot", 2, 0.8, map[string]any{"train.optimizer.lr": 0.03})}}
	st2, _ := buildStore(t, xa, xb)
	if c := mustCompare(t, st2, Query{}); !slices.Equal(c.Keys, []string{KeyExperiment}) {
		t.Errorf("two experiments: Keys %q, want [experiment]", c.Keys)
	}
	// Set together by each run's sweep point (a zip, a random search):
	// being swept explains nothing, every key that differs is shown, in
	// the table and in export's group.
	for i := range runs {
		runs[i].point = map[string]any{"model.attention.name": runs[i].params["model.attention.name"],
			"train.optimizer.lr": runs[i].params["train.optimizer.lr"], "train.steps": runs[i].params["train.steps"]}
	}
	st, _ = buildStore(t, fakeExperiment{name: "zip", runs: runs})
	c = mustCompare(t, st, Query{Experiments: []string{"zip"}})
	if got := slices.Sorted(slices.Values(c.Keys)); !slices.Equal(got, want) || !slices.Equal(c.Derived, []string{"model.attention.dim"}) {
		t.Errorf("a zip of name, lr and steps: Keys %q, Derived %q; want %q and [model.attention.dim]", c.Keys, c.Derived, want)
	}
	// Grouped by the attention alone (--by), the learning rate and the
	// steps it determines are still shown: they split no row, but the
	// difference is theirs as much as the attention's.
	c = mustCompare(t, st, Query{Experiments: []string{"zip"}, By: []string{"attention.name"}})
	if !slices.Equal(c.Keys, want) || !slices.Equal(c.Derived, []string{"model.attention.dim"}) {
		t.Errorf("a zip grouped --by attention.name: Keys %q, Derived %q; want %q and [model.attention.dim]", c.Keys, c.Derived, want)
	}
	_, keys, err := exportSelection(context.Background(), st, "zip", "csv")
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(slices.Values(keys)); !slices.Equal(got, want) {
		t.Errorf("export of a zip groups by %q, want %q", keys, want)
	}
	// A named variant stands for the settings it makes: its name is shown.
	for i := range runs {
		runs[i].point["variant"] = fmt.Sprint("v-", runs[i].params["model.attention.name"])
	}
	st, _ = buildStore(t, fakeExperiment{name: "named", runs: runs})
	c = mustCompare(t, st, Query{Experiments: []string{"named"}})
	if !slices.Equal(c.Keys, []string{KeyVariant}) {
		t.Errorf("named variants: Keys %q, want [variant]", c.Keys)
	}
}

// TestHolmNoteCountsTestedColumns: a column where no row has a p-value
// (every run scored the same) adjusts nothing, so the note counts the rows
// of the columns that were tested: "over the 2 rows", not "the 0–2 rows".
func TestHolmNoteCountsTestedColumns(t *testing.T) {
	x := fakeExperiment{name: "holm"}
	for i := range 3 {
		for a, name := range []string{"none", "dot", "additive"} {
			// The rows' differences vary with the seed, for the paired test.
			r := trustRun(name, int64(i+1), 0.2+0.3*float64(a)+0.01*float64(i*i*(a+1)), nil)
			r.sums["test/token_acc"] = 1
			x.runs = append(x.runs, r)
		}
	}
	st, _ := buildStore(t, x)
	c := mustCompare(t, st, Query{Experiments: []string{"holm"}, Metrics: []string{"exact_match", "token_acc"}, Baseline: "attention.name=none"})
	notes := strings.Join(c.notes(false), " ")
	if !strings.Contains(notes, "Holm–Bonferroni-adjusted over the 2 rows compared in each column") {
		t.Errorf("the notes do not count the 2 rows tested:\n%s", notes)
	}
}

// TestCompareSharingNote: timings of runs trained under different loads
// (runs training at once, threads) or by different kinds of kernels get a
// note saying so when a cost column is shown; runs trained alike get none.
func TestCompareSharingNote(t *testing.T) {
	x := fakeExperiment{name: "sharing"}
	for i := range 3 {
		for a, name := range []string{"none", "dot"} {
			r := trustRun(name, int64(i+1), 0.5+0.1*float64(a)+0.01*float64(i), nil)
			r.sums["perf/tokens_per_s"] = 1000 * float64(1+a+i)
			r.sums["train/steps"] = float64(100 + 10*i)
			r.sums["perf/threads"] = 1
			r.sums["perf/concurrent_runs"] = 2
			if name == "dot" && i == 2 {
				r.sums["perf/concurrent_runs"] = 1 // ran alone, after the others
			}
			x.runs = append(x.runs, r)
		}
	}
	st, _ := buildStore(t, x)
	c := mustCompare(t, st, Query{Experiments: []string{"sharing"}, Metrics: []string{"exact_match", "tokens_per_s"}})
	notes := strings.Join(c.notes(false), " ")
	if !strings.Contains(notes, "Timings (perf/*) were measured under different conditions (1.0–2.0 runs training at once)") {
		t.Errorf("no note on the different loads:\n%s", notes)
	}
	if c.Sharing == nil || c.Sharing.RunsMin != 1 || c.Sharing.RunsMax != 2 {
		t.Errorf("Sharing %+v, want runs 1–2", c.Sharing)
	}
	// train/steps is a cost, not a timing.
	c = mustCompare(t, st, Query{Experiments: []string{"sharing"}, Metrics: []string{"exact_match", "train/steps"}})
	if strings.Contains(strings.Join(c.notes(false), " "), "Timings") {
		t.Errorf("a note on timings without a timing column: %q", c.notes(false))
	}
	c = mustCompare(t, st, Query{Experiments: []string{"sharing"}, Metrics: []string{"tokens_per_s"}, Where: mustWhere(t, "seed != 3")})
	if c.Sharing != nil {
		t.Errorf("runs trained alike: Sharing %+v", c.Sharing)
	}
	// A run stored before the load was recorded: its load is unknown.
	y := fakeExperiment{name: "sharing-old"}
	for i := range 2 {
		r := trustRun("dot", int64(i+1), 0.5, nil)
		r.sums["perf/tokens_per_s"] = 1000
		if i == 0 {
			r.sums["perf/concurrent_runs"], r.sums["perf/threads"] = 2, 1
		}
		y.runs = append(y.runs, r)
	}
	st, _ = buildStore(t, y)
	c = mustCompare(t, st, Query{Experiments: []string{"sharing-old"}, Metrics: []string{"tokens_per_s"}})
	if notes := strings.Join(c.notes(false), " "); !strings.Contains(notes, "unknown for 1 run stored before it was recorded") {
		t.Errorf("no note on the unknown load:\n%s", notes)
	}
	// Runs trained alike but by kernels of two kinds (one resumed on an
	// AVX2 machine): their timings, and their rounding, differ.
	z := fakeExperiment{name: "sharing-kernels"}
	for i := range 3 {
		r := trustRun("dot", int64(i+1), 0.5, nil)
		r.sums["perf/tokens_per_s"], r.sums["perf/concurrent_runs"], r.sums["perf/threads"] = 1000, 1, 1
		r.sums["perf/steps_avx512"] = 100
		if i == 2 {
			r.sums["perf/steps_avx512"], r.sums["perf/steps_avx2"] = 40, 60
		}
		z.runs = append(z.runs, r)
	}
	st, _ = buildStore(t, z)
	c = mustCompare(t, st, Query{Experiments: []string{"sharing-kernels"}, Metrics: []string{"tokens_per_s"}})
	if notes := strings.Join(c.notes(false), " "); !strings.Contains(notes, "different conditions (avx2 kernels in 1 run, avx512 in 3 runs)") {
		t.Errorf("no note on the kernels:\n%s", notes)
	}
	c = mustCompare(t, st, Query{Experiments: []string{"sharing-kernels"}, Metrics: []string{"tokens_per_s"}, Where: mustWhere(t, "seed != 3")})
	if c.Sharing != nil {
		t.Errorf("runs trained by one kind of kernels: Sharing %+v", c.Sharing)
	}
}

// TestCompareOldValidNote: runs stored before valid/* described the
// weights test/* are measured on (best/step, no best/valid/*) are counted
// and named in the notes when a valid/ column is shown.
func TestCompareOldValidNote(t *testing.T) {
	x := fakeExperiment{name: "oldvalid"}
	for i := range 2 {
		for _, name := range []string{"none", "dot"} {
			r := trustRun(name, int64(i+1), 0.5+0.01*float64(i), nil)
			r.sums["valid/loss"], r.sums["best/step"], r.sums["best/valid/loss"] = 1, 100, 0.9
			if i == 1 {
				delete(r.sums, "best/valid/loss") // stored before 2026-12-04
			}
			x.runs = append(x.runs, r)
		}
	}
	st, _ := buildStore(t, x)
	c := mustCompare(t, st, Query{Experiments: []string{"oldvalid"}, Metrics: []string{"valid/loss"}})
	if c.OldValid != 2 || !strings.Contains(strings.Join(c.notes(false), " "), "valid/* of 2 runs stored before 2026-12-04") {
		t.Errorf("OldValid %d, notes %q; want 2 and a note", c.OldValid, c.notes(false))
	}
	if c = mustCompare(t, st, Query{Experiments: []string{"oldvalid"}, Metrics: []string{"exact_match"}}); c.OldValid != 0 {
		t.Errorf("OldValid %d without a valid/ column", c.OldValid)
	}
}

// TestCompareTiesAndConstants: means equal but for the last bit (112/180
// summed in two orders) are both best; two rows whose runs all scored the
// same have no spread to test against (a t would be infinite, p 0), so
// the p-value is the exact permutation test's, without an interval:
// sign-flip over the 3 paired seeds, 2/2³, or over the two constant
// samples with --unpaired, 2/C(6, 3).
func TestCompareTiesAndConstants(t *testing.T) {
	x := fakeExperiment{name: "tie"}
	for i, v := range []float64{27, 32, 53} {
		x.runs = append(x.runs, trustRun("dot", int64(i+1), v/60, nil))
	}
	for i, v := range []float64{58, 42, 12} {
		x.runs = append(x.runs, trustRun("additive", int64(i+1), v/60, nil))
	}
	for i := range 3 {
		x.runs = append(x.runs, trustRun("none", int64(i+1), 0.5, nil), trustRun("general", int64(i+1), 0.6, nil))
	}
	st, _ := buildStore(t, x)
	c := mustCompare(t, st, Query{Experiments: []string{"tie"}, Baseline: "attention.name=none", Where: mustWhere(t, "model.attention.name in (dot, additive, none)")})
	d, a := cellOf(t, c, "attention.name=dot", "test/exact_match"), cellOf(t, c, "attention.name=additive", "test/exact_match")
	if d.Mean == a.Mean {
		t.Fatalf("the means are equal (%v): the case no longer tests rounding", d.Mean)
	}
	if !d.Best || !a.Best {
		t.Errorf("tied means %v and %v: best %v and %v, want both", d.Mean, a.Mean, d.Best, a.Best)
	}
	c = mustCompare(t, st, Query{Experiments: []string{"tie"}, Baseline: "attention.name=none"})
	g := cellOf(t, c, "attention.name=general", "test/exact_match")
	if !g.Tested || !g.Paired || !g.Exact || math.Abs(g.Diff-0.1) > 1e-12 || g.P != 0.25 || !math.IsNaN(g.Low) || !math.IsNaN(g.High) {
		t.Errorf("constant against constant: %+v, want Diff 0.1, the sign-flip p 0.25 and no interval", g)
	}
	if notes := strings.Join(c.notes(false), " "); !strings.Contains(notes, "exact sign-flip test") ||
		!strings.Contains(notes, "attention.name=general (test/exact_match)") {
		t.Errorf("the notes do not say which p-values are exact: %q", c.notes(false))
	}
	c = mustCompare(t, st, Query{Experiments: []string{"tie"}, Baseline: "attention.name=none", Unpaired: true})
	g = cellOf(t, c, "attention.name=general", "test/exact_match")
	if !g.Tested || g.Paired || !g.Exact || math.Abs(g.P-0.1) > 1e-15 || !math.IsNaN(g.Low) {
		t.Errorf("constant against constant, unpaired: %+v, want the permutation p 0.1 and no interval", g)
	}
	if notes := strings.Join(c.notes(false), " "); !strings.Contains(notes, "exact permutation test of the two samples") {
		t.Errorf("the notes do not say which p-values are exact: %q", c.notes(false))
	}
	if c = mustCompare(t, st, Query{Experiments: []string{"tie"}, Where: mustWhere(t, "seed != 3")}); !slices.Contains(c.notes(false), "Runs selected by --where seed != 3.") {
		t.Errorf("the notes do not name the filter: %q", c.notes(false))
	}
}

// TestCompareSplitsBySignature: BLEU scored with the char tokenizer and
// with 13a are two metrics: same outputs, different numbers. The column
// marks no best across them and tests no row against a baseline scored
// the other way; chrF, signed alike, is compared as usual.
func TestCompareSplitsBySignature(t *testing.T) {
	x := fakeExperiment{name: "tok"}
	for seed := int64(1); seed <= 3; seed++ {
		for _, tok := range []string{"char", "13a"} {
			bleu := 40 + float64(seed)
			if tok == "char" {
				bleu += 20
			}
			r := fakeRun{params: map[string]any{"eval.bleu.tokenize": tok, "task.name": "reverse"}, point: map[string]any{"eval.bleu.tokenize": tok},
				seed: seed, sums: map[string]float64{"test/bleu": bleu, "test/chrf": 70 + float64(seed)},
				scores: []artifact.Score{
					{Key: "test/bleu", Name: "BLEU", Signature: "nrefs:1|case:mixed|eff:no|tok:" + tok + "|smooth:exp|version:2.5.1"},
					{Key: "test/chrf", Name: "chrF2", Signature: "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.5.1"}}}
			x.runs = append(x.runs, r)
		}
	}
	st, _ := buildStore(t, x)
	c := mustCompare(t, st, Query{Experiments: []string{"tok"}, Baseline: "tokenize=13a"})
	char := slices.IndexFunc(c.Rows, func(r Row) bool { return r.Group[0] == "char" })
	bleu, chrf := slices.Index(c.Metrics, "test/bleu"), slices.Index(c.Metrics, "test/chrf")
	if char < 0 || bleu < 0 || chrf < 0 {
		t.Fatalf("rows %q, metrics %q", rowLabels(c), c.Metrics)
	}
	if cell := c.Rows[char].Cells[bleu]; cell.Best || cell.Tested {
		t.Errorf("char BLEU against 13a BLEU: best %v, tested %v; want neither", cell.Best, cell.Tested)
	}
	if cell := c.Rows[char].Cells[chrf]; !cell.Tested {
		t.Errorf("chrF, signed alike, was not tested")
	}
	if !strings.Contains(strings.Join(c.notes(false), " "), "test/bleu: rows scored with different sacreBLEU settings") {
		t.Errorf("the notes do not explain the split: %q", c.notes(false))
	}
}

// TestCountColumns: a cost that counts (train/steps) is written as an
// integer when every value and mean is one; a fractional mean keeps its
// decimals, and a quality metric of integers (exact match 0 or 1) too.
func TestCountColumns(t *testing.T) {
	col := func(m string, means []float64, vals ...[]float64) colFormat {
		c := &Comparison{Metrics: []string{m}}
		for i, mean := range means {
			c.Rows = append(c.Rows, Row{Cells: []Cell{{Mean: mean, N: len(vals[i]), Values: vals[i]}}})
		}
		return newColFormat(c, 0)
	}
	if f := col("train/steps", []float64{20, 60}, []float64{20, 20}, []float64{60, 60}); f.num(20) != "20" {
		t.Errorf("train/steps 20 is written %q", f.num(20))
	}
	if f := col("train/steps", []float64{20.5}, []float64{20, 21}); f.num(20.5) == "21" || f.num(20.5) == "20" {
		t.Errorf("a mean of 20.5 steps is written %q", f.num(20.5))
	}
	if f := col("test/exact_match", []float64{1, 0}, []float64{1, 1}, []float64{0, 0}); f.num(1) != "1.000" {
		t.Errorf("exact match 1 is written %q", f.num(1))
	}
}

// TestSmallMeansKeepDigits: a mean the column's decimals would leave
// fewer than two significant digits gets the decimals that give it two,
// its std with it, so a large mean beside it (a diverged run's loss) does
// not round it away: 2.7667 ± 0.0002 beside 48,055 once read "3 ± 0", and
// the README's loss of 0.00012 read "0.000". Other cells keep the
// column's decimals; counts stay whole; a column of zeros reads 0.000.
func TestSmallMeansKeepDigits(t *testing.T) {
	col := func(m string, cells ...Cell) colFormat {
		c := &Comparison{Metrics: []string{m}}
		for _, cell := range cells {
			c.Rows = append(c.Rows, Row{Cells: []Cell{cell}})
		}
		return newColFormat(c, 0)
	}
	one := func(m float64) Cell { return Cell{Mean: m, N: 1} }
	loss := Cell{Mean: 2.76654, Std: 0.000198, N: 2}
	for _, tc := range []struct {
		name  string
		f     colFormat
		cell  Cell
		want  string
		other Cell
		wantO string
	}{
		{"diverged beside", col("test/loss", loss, Cell{Mean: 48055.2, Std: 3.1, N: 2}), loss, "2.8 ± 0.0002", Cell{Mean: 48055.2, Std: 3.1, N: 2}, "48,055 ± 3"}, // not ± 0.0: it varies
		{"hundreds beside", col("test/ppl", one(15.87), one(180.3)), one(15.87), "15.9", one(180.3), "180.3"},
		{"thousands", col("perf/tokens_per_s", one(1301.4), one(4348.2)), one(1301.4), "1,301", one(4348.2), "4,348"},
		{"tiny beside", col("test/exact_match", one(0.004), one(0.95)), one(0.004), "0.0040", one(0.95), "0.950"},
		{"README's loss", col("test/loss", Cell{Mean: 0.298, Std: 0.034, N: 3}, Cell{Mean: 0.000123, Std: 0.0000456, N: 3}),
			Cell{Mean: 0.000123, Std: 0.0000456, N: 3}, "0.00012 ± 0.00005", Cell{Mean: 0.298, Std: 0.034, N: 3}, "0.298 ± 0.034"},
		{"past eight decimals", col("test/loss", one(0.3), one(1.23456e-12)), one(1.23456e-12), "1.23e-12", one(0.3), "0.300"},
		{"all tiny", col("test/exact_match", one(0.004), one(0.0012345)), one(0.0012345), "0.00123", one(0.004), "0.004"},
		{"zero beside", col("test/exact_match", one(0), one(0.95)), one(0), "0.000", one(0.95), "0.950"},
		{"all zero", col("test/exact_match", Cell{Mean: 0, Std: 0, N: 2}, one(0)), Cell{Mean: 0, Std: 0, N: 2}, "0.000", one(0), "0.000"}, // no std: it never varies
		{"a count", col("train/steps", Cell{Mean: 5, N: 1, Values: []float64{5}}, Cell{Mean: 60000, N: 1, Values: []float64{60000}}),
			Cell{Mean: 5, N: 1}, "5", Cell{Mean: 60000, N: 1}, "60,000"},
	} {
		if got, gotO := tc.f.value(tc.cell), tc.f.value(tc.other); got != tc.want || gotO != tc.wantO {
			t.Errorf("%s: %q and %q, want %q and %q", tc.name, got, gotO, tc.want, tc.wantO)
		}
	}
	// Differences widen as means do: +0.00011 against a baseline, not +0.000.
	f := col("test/loss", Cell{Mean: 0.298, N: 3}, Cell{Mean: 0.000123, N: 3})
	if got := f.diff(Cell{Diff: 0.000113, Low: math.NaN(), High: math.NaN()}); got != "+0.00011" {
		t.Errorf("a small difference is written %q, want +0.00011", got)
	}
	// A starred mean beside a tiny one still reads apart from the next.
	c := &Comparison{Metrics: []string{"test/align_acc"}}
	for i, m := range []float64{0.9003, 0.9001, 3e-6} {
		c.Rows = append(c.Rows, Row{Cells: []Cell{{Mean: m, N: 1, Best: i == 0}}})
	}
	f = newColFormat(c, 0)
	if a, b := f.value(c.Rows[0].Cells[0]), f.value(c.Rows[1].Cells[0]); a == b || a != "0.9003" || f.value(c.Rows[2].Cells[0]) != "0.0000030" {
		t.Errorf("0.9003 (best), 0.9001, 3e-6 print %q, %q, %q", a, b, f.value(c.Rows[2].Cells[0]))
	}
	// So does one in a column of three significant digits.
	c = &Comparison{Metrics: []string{"test/loss"}}
	for i, m := range []float64{0.0090001, 0.0090003} {
		c.Rows = append(c.Rows, Row{Cells: []Cell{{Mean: m, N: 1, Best: i == 0}}})
	}
	f = newColFormat(c, 0)
	if a, b := f.value(c.Rows[0].Cells[0]), f.value(c.Rows[1].Cells[0]); a == b {
		t.Errorf("0.0090001 (best) and 0.0090003 both print %q", a)
	}
}

// TestBoundNeverRoundsToZero: a confidence bound just above zero keeps the
// digits that show it (the interval then excludes 0, as p < 0.05 says).
func TestBoundNeverRoundsToZero(t *testing.T) {
	f := colFormat{decimals: 3}
	for x, want := range map[float64]string{0.0004: "0.0004", -0.00042: "-0.0004", 0.462: "0.462", 0: "0.000", 0.0015: "0.002"} {
		if got := f.bound(x); got != want {
			t.Errorf("bound(%v) = %q, want %q", x, got, want)
		}
	}
}

// TestIntervalDecimals: with an interval, a difference and its bounds take
// the column's decimals widened only to the interval's precision: a small
// BLEU difference once gave its interval three decimals of BLEU
// (+0.040 [-0.500, 0.580]) beside +9.2 [3.4, 14.9] in the same column.
func TestIntervalDecimals(t *testing.T) {
	nan := math.NaN()
	col := func(metric string, means ...float64) colFormat {
		c := &Comparison{Metrics: []string{metric}}
		for _, m := range means {
			c.Rows = append(c.Rows, Row{Cells: []Cell{{Mean: m, N: 3}}})
		}
		return newColFormat(c, 0)
	}
	bleu, em := col("test/bleu", 42.2, 81.2, 90.2), col("test/exact_match", 0.9, 0.95)
	big := col("valid/loss", 1500.5, 2500.25) // whole-number decimals
	for _, tc := range []struct {
		f    colFormat
		cell Cell
		want string
	}{
		{bleu, Cell{Diff: 0.35, Low: -3.71, High: 4.41}, "+0.3 [-3.7, 4.4]"},
		{bleu, Cell{Diff: 0.04, Low: -0.5, High: 0.58}, "+0.04 [-0.5, 0.6]"},
		{bleu, Cell{Diff: -0.04, Low: -0.58, High: 0.5}, "-0.04 [-0.6, 0.5]"},
		{bleu, Cell{Diff: 9.2, Low: 0.03, High: 18.4}, "+9.2 [0.03, 18.4]"},
		{bleu, Cell{Diff: 38.94, Low: 38.83, High: 39.06}, "+38.9 [38.8, 39.1]"},
		{bleu, Cell{Diff: 0.051, Low: 0.048, High: 0.054}, "+0.051 [0.048, 0.054]"}, // a narrow interval shows its digits
		{bleu, Cell{Diff: 0.35, Low: nan, High: nan}, "+0.35"},                      // no interval: two significant digits
		{em, Cell{Diff: 0.0035, Low: -0.0371, High: 0.0441}, "+0.004 [-0.037, 0.044]"},
		{em, Cell{Diff: 0.056, Low: 0.049, High: 0.063}, "+0.056 [0.049, 0.063]"},
		{big, Cell{Diff: -0.3, Low: -300.3, High: 299.7}, "-0.3 [-300, 300]"}, // not "-0 [-300, 300]"
		{big, Cell{Diff: 300.1, Low: 0.2, High: 600}, "+300 [0.2, 600]"},      // the bound shows it excludes 0
		{big, Cell{Diff: 120.4, Low: -300.2, High: 541}, "+120 [-300, 541]"},
	} {
		if got := tc.f.diff(tc.cell); got != tc.want {
			t.Errorf("diff(%v [%v, %v]) = %q, want %q", tc.cell.Diff, tc.cell.Low, tc.cell.High, got, tc.want)
		}
	}
}

// TestBestNeverReadsTied: a starred mean that would print like a mean
// without the star (BLEU 99.96 beside 100.0) gets the decimals that tell
// them apart; a column without such a pair keeps its usual decimals.
func TestBestNeverReadsTied(t *testing.T) {
	nan := math.NaN()
	col := func(means []float64, best int) colFormat {
		c := &Comparison{Metrics: []string{"test/bleu"}}
		for i, m := range means {
			c.Rows = append(c.Rows, Row{Cells: []Cell{{Mean: m, N: 3, Best: i == best}}})
		}
		return newColFormat(c, 0)
	}
	cell := func(m float64) Cell { return Cell{Mean: m, N: 1} }
	if f := col([]float64{99.96, 99.98, 42}, 1); f.value(cell(99.96)) == f.value(cell(99.98)) || f.diff(Cell{Diff: 31.38, Low: nan, High: nan}) != "+31.4" {
		t.Errorf("99.98 (best) and 99.96 print %q and %q; a difference %q", f.value(cell(99.98)), f.value(cell(99.96)), f.diff(Cell{Diff: 31.38, Low: nan, High: nan}))
	}
	if f := col([]float64{81.2, 90.2, 42}, 1); f.value(cell(81.24)) != "81.2" {
		t.Errorf("a column of distinct means writes 81.24 as %q, want 81.2", f.value(cell(81.24)))
	}
}

// TestCompareInTrainNote: runs tested on sources that are also training
// sources (a test_path overlapping the training file) get a note when a
// test/ column is shown; runs with a drawn split (0) get none.
func TestCompareInTrainNote(t *testing.T) {
	x := fakeExperiment{name: "in-train"}
	for i := range 2 {
		for a, name := range []string{"none", "dot"} {
			r := trustRun(name, int64(i+1), 0.5+0.1*float64(a)+0.01*float64(i), nil)
			r.sums[InTrainKey] = 0
			if name == "dot" {
				r.sums[InTrainKey] = 0.25 + 0.5*float64(i)
			}
			x.runs = append(x.runs, r)
		}
	}
	st, _ := buildStore(t, x)
	c := mustCompare(t, st, Query{Experiments: []string{"in-train"}, Metrics: []string{"test/exact_match"}})
	notes := strings.Join(c.notes(false), " ")
	if c.InTrain != 2 || !strings.Contains(notes, "test/* of 2 runs are measured on sources that are also in their training data (up to 75 %") {
		t.Errorf("InTrain %d, notes:\n%s", c.InTrain, notes)
	}
	c = mustCompare(t, st, Query{Experiments: []string{"in-train"}, Metrics: []string{"test/exact_match"}, Where: mustWhere(t, "attention.name = none")})
	if c.InTrain != 0 || strings.Contains(strings.Join(c.notes(false), " "), "training data") {
		t.Errorf("drawn splits: InTrain %d, notes %q", c.InTrain, c.notes(false))
	}
}

// TestComparePartialNeverBest: a row whose mean leaves out runs of its
// setting — one not finished, one without a value — is never marked best,
// nor is another row in its stead; a complete row that is best still is.
// The n column and the notes say which row waits for runs.
func TestComparePartialNeverBest(t *testing.T) {
	build := func(name string, edit func(*fakeExperiment)) *Comparison {
		t.Helper()
		x := fakeExperiment{name: name}
		for seed := int64(1); seed <= 3; seed++ {
			x.runs = append(x.runs, trustRun("none", seed, 0.2+0.01*float64(seed), nil),
				trustRun("dot", seed, 0.5+0.01*float64(seed), nil), trustRun("additive", seed, 0.8+0.01*float64(seed), nil))
		}
		edit(&x)
		st, _ := buildStore(t, x)
		return mustCompare(t, st, Query{Experiments: []string{name}})
	}
	bestOf := func(c *Comparison) []string {
		var out []string
		for i, row := range c.Rows {
			if row.Cells[0].Best {
				out = append(out, c.Label(i))
			}
		}
		return out
	}
	if c := build("whole", func(*fakeExperiment) {}); !slices.Equal(bestOf(c), []string{"attention.name=additive"}) {
		t.Fatalf("all seeds done: best %q, want additive", bestOf(c))
	}
	// additive's weakest seed is interrupted: its mean over 2 rises, but
	// the row waits for a run.
	c := build("waiting", func(x *fakeExperiment) { x.runs[2].status = store.StatusInterrupted })
	if got := bestOf(c); len(got) != 0 {
		t.Errorf("additive with a seed interrupted: best %q, want none", got)
	}
	out := strings.Join(strings.Fields(render(t, c, "table")), " ")
	for _, want := range []string{"2 (+1 unfinished)", "a row with unfinished runs is never marked best"} {
		if !strings.Contains(out, want) {
			t.Errorf("the table does not say %q:\n%s", want, out)
		}
	}
	// additive's seed without a value: "(2/3)", not best, nor dot instead.
	c = build("missing", func(x *fakeExperiment) { delete(x.runs[2].sums, "test/exact_match") })
	if got := bestOf(c); len(got) != 0 {
		t.Errorf("additive with a value missing: best %q, want none", got)
	}
	// The partial row is not the best one: the best row keeps its mark.
	c = build("other", func(x *fakeExperiment) { x.runs[0].status = store.StatusQueued })
	if got := bestOf(c); !slices.Equal(got, []string{"attention.name=additive"}) {
		t.Errorf("none with a seed queued: best %q, want additive", got)
	}
	if n := c.nText(slices.IndexFunc(c.Rows, func(r Row) bool { return r.Group[0] == "none" })); n != "2 (+1 unfinished)" {
		t.Errorf("none's n = %q, want 2 (+1 unfinished)", n)
	}
}

// TestCompareWhereOnResults: --where on a metric keeps each row's runs
// that scored so; the notes say that this biases the rows, and a filter
// on settings alone gets no such note.
func TestCompareWhereOnResults(t *testing.T) {
	x := fakeExperiment{name: "sel"}
	for seed := int64(1); seed <= 3; seed++ {
		x.runs = append(x.runs, trustRun("none", seed, 0.2*float64(seed), nil), trustRun("dot", seed, 0.25*float64(seed), nil))
	}
	st, _ := buildStore(t, x)
	c := mustCompare(t, st, Query{Experiments: []string{"sel"}, Where: mustWhere(t, "exact_match > 0.3 and seed != 9")})
	notes := strings.Join(c.notes(false), " ")
	if !slices.Equal(c.WhereResults, []string{"test/exact_match"}) ||
		!strings.Contains(notes, "it selects on test/exact_match, so each row keeps only its runs that scored so") {
		t.Errorf("--where on a result: WhereResults %q, notes:\n%s", c.WhereResults, notes)
	}
	c = mustCompare(t, st, Query{Experiments: []string{"sel"}, Where: mustWhere(t, "seed != 3")})
	if notes := strings.Join(c.notes(false), " "); len(c.WhereResults) != 0 || strings.Contains(notes, "selects on") {
		t.Errorf("--where on the seed: WhereResults %q, notes:\n%s", c.WhereResults, notes)
	}
}

// TestCompareBuilds: runs trained by different attnlab builds (a code
// change between two `run`s, which keeps the runs done before) are named
// in the notes, with the rows that mix them; one build gets no note.
func TestCompareBuilds(t *testing.T) {
	x := fakeExperiment{name: "builds"}
	for seed := int64(1); seed <= 3; seed++ {
		none, dot := trustRun("none", seed, 0.2, nil), trustRun("dot", seed, 0.5+0.01*float64(seed), nil)
		none.version, dot.version = "0.1.0-dev+aaaaaaaaaaaa", "0.1.0-dev+aaaaaaaaaaaa"
		if seed == 3 {
			dot.version = "0.1.0-dev+bbbbbbbbbbbb.dirty"
		}
		x.runs = append(x.runs, none, dot)
	}
	st, _ := buildStore(t, x)
	c := mustCompare(t, st, Query{Experiments: []string{"builds"}})
	notes := strings.Join(strings.Fields(strings.Join(c.notes(false), " ")), " ")
	if c.Builds != 2 || !slices.Equal(c.MixedBuilds, []int{1}) ||
		!strings.Contains(notes, "The runs were trained by 2 attnlab builds") ||
		!strings.Contains(notes, "rows whose runs come from several builds: attention.name=dot.") {
		t.Errorf("Builds %d, MixedBuilds %v, notes:\n%s", c.Builds, c.MixedBuilds, notes)
	}
	c = mustCompare(t, st, Query{Experiments: []string{"builds"}, Where: mustWhere(t, "seed != 3")})
	if c.Builds != 1 || len(c.MixedBuilds) != 0 || strings.Contains(strings.Join(c.notes(false), " "), "builds") {
		t.Errorf("one build: Builds %d, MixedBuilds %v, notes %q", c.Builds, c.MixedBuilds, c.notes(false))
	}
}

// TestComparePairing: the paired test pairs runs by seed, whatever their
// order in the store, and only where both rows' runs with a value have the
// same seeds, as many runs to each seed on a side (a pooled row's seeds
// stand for their means); elsewhere the test is Welch's, and the notes
// name those rows. Reference p-values from scipy 1.10 (ttest_rel, and
// ttest_ind with equal_var=False).
func TestComparePairing(t *testing.T) {
	x := fakeExperiment{name: "pair", runs: []fakeRun{
		// The baseline's runs stored in seed order 3, 1, 2.
		trustRun("none", 3, 0.43, nil), trustRun("none", 1, 0.40, nil), trustRun("none", 2, 0.52, nil),
		trustRun("dot", 1, 0.70, nil), trustRun("dot", 2, 0.80, nil), trustRun("dot", 3, 0.74, nil),
		// Three seeds, not the baseline's three.
		trustRun("additive", 2, 0.90, nil), trustRun("additive", 3, 0.95, nil), trustRun("additive", 4, 0.93, nil),
	}}
	st, _ := buildStore(t, x)
	c := mustCompare(t, st, Query{Experiments: []string{"pair"}, Baseline: "attention.name=none"})
	// Paired by seed: ttest_rel([0.70, 0.80, 0.74], [0.40, 0.52, 0.43]);
	// paired in storage order instead it would be 0.0312.
	if cell := cellOf(t, c, "attention.name=dot", "test/exact_match"); !cell.Paired || !closeTo(cell.P, 0.0008825570653330331, 1e-9) {
		t.Errorf("dot: paired %v, p = %.17g; want paired by seed, 0.0008825570653330331", cell.Paired, cell.P)
	}
	if cell := cellOf(t, c, "attention.name=additive", "test/exact_match"); cell.Paired || !closeTo(cell.P, 0.0021427452971502178, 1e-9) {
		t.Errorf("additive (seeds 2–4): paired %v, p = %.17g; want Welch, 0.0021427452971502178", cell.Paired, cell.P)
	}
	notes := strings.Join(c.notes(false), " ")
	for _, want := range []string{"paired t-test over seeds (n − 1 df", "by Welch's (Welch–Satterthwaite df) where not",
		"do not pair with the baseline's by seed (other seeds, or a failed or missing run): attention.name=additive;"} {
		if !strings.Contains(notes, want) {
			t.Errorf("the notes lack %q:\n%s", want, notes)
		}
	}
	var js bytes.Buffer
	if err := c.Write(&js, "json"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"test": "paired"`, `"test": "welch"`, `"seeds": [`} {
		if !strings.Contains(js.String(), want) {
			t.Errorf("JSON lacks %s", want)
		}
	}
	var back Comparison
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if !cellOf(t, &back, "attention.name=dot", "test/exact_match").Paired || cellOf(t, &back, "attention.name=additive", "test/exact_match").Paired {
		t.Error("JSON does not keep which cells were paired")
	}

	// One seed each: nothing to pair (nor to test).
	c = mustCompare(t, st, Query{Experiments: []string{"pair"}, Baseline: "attention.name=none", Where: mustWhere(t, "seed = 1")})
	if cell := cellOf(t, c, "attention.name=dot", "test/exact_match"); cell.Paired || !math.IsNaN(cell.P) {
		t.Errorf("one seed: paired %v, p %v; want neither", cell.Paired, cell.P)
	}

	// The same Δ on every seed: the paired t-test has no spread, so the
	// p-value is the exact sign-flip test's, 2/2³, and the notes name the
	// cell.
	x = fakeExperiment{name: "shift", runs: []fakeRun{
		trustRun("none", 1, 0.40, nil), trustRun("none", 2, 0.52, nil), trustRun("none", 3, 0.43, nil),
		trustRun("dot", 1, 0.65, nil), trustRun("dot", 2, 0.77, nil), trustRun("dot", 3, 0.68, nil),
	}}
	st, _ = buildStore(t, x)
	c = mustCompare(t, st, Query{Experiments: []string{"shift"}, Baseline: "attention.name=none"})
	if cell := cellOf(t, c, "attention.name=dot", "test/exact_match"); !cell.Paired || !cell.Exact || cell.P != 0.25 || !math.IsNaN(cell.Low) || !closeTo(cell.Diff, 0.25, 1e-12) {
		t.Errorf("constant shift: paired %v, exact %v, p %v, low %v, Δ %v; want paired, exact, p 0.25, no interval, 0.25",
			cell.Paired, cell.Exact, cell.P, cell.Low, cell.Diff)
	}
	notes = strings.Join(c.notes(false), " ")
	// No t-test ran: the notes name the exact test, not the paired t-test.
	if strings.Contains(notes, "t-test over seeds") {
		t.Errorf("constant shift: the notes name the paired t-test, which gave no p:\n%s", notes)
	}
	for _, want := range []string{"p by an exact permutation test (‡)", "exact sign-flip test over the n seeds, 2/2ⁿ, where Δ is the same on every seed: attention.name=dot (test/exact_match)."} {
		if !strings.Contains(notes, want) {
			t.Errorf("constant shift: the notes lack %q:\n%s", want, notes)
		}
	}
	if strings.Contains(notes, "Welch") {
		t.Errorf("constant shift: the notes name Welch's test:\n%s", notes)
	}

	// Rows pooling two settings hold each seed twice: each seed stands
	// for the mean of its two runs, ttest_rel([0.715, 0.815, 0.755],
	// [0.415, 0.535, 0.445]). Welch's test on the 6 runs a side as if
	// independent, ttest_ind(equal_var=False), would give 2.09e-6 (the
	// pseudo-replication this avoids); --unpaired takes Welch's test on
	// the seed means, ttest_ind([0.715, 0.815, 0.755], [0.415, 0.535,
	// 0.445], equal_var=False) = 0.0035419206808328546 (scipy 1.10).
	pooled := func(name string, skip func(att string, seed int64, steps int) bool) *store.Store {
		x := fakeExperiment{name: name}
		for _, steps := range []int{100, 200} {
			for s, v := range map[int64][2]float64{1: {0.40, 0.70}, 2: {0.52, 0.80}, 3: {0.43, 0.74}} {
				for k, att := range []string{"none", "dot"} {
					if !skip(att, s, steps) {
						x.runs = append(x.runs, trustRun(att, s, v[k]+float64(steps)/1e4, map[string]any{"train.steps": steps}))
					}
				}
			}
		}
		st, _ := buildStore(t, x)
		return st
	}
	q := Query{Experiments: []string{"pooled"}, By: []string{"attention.name"}, Pool: []string{"train.steps"}, Baseline: "attention.name=none"}
	st = pooled("pooled", func(string, int64, int) bool { return false })
	c = mustCompare(t, st, q)
	if cell := cellOf(t, c, "attention.name=dot", "test/exact_match"); !cell.Paired || !cell.Averaged || !closeTo(cell.P, 0.0008825570653330407, 1e-9) {
		t.Errorf("pooled seeds: paired %v, averaged %v, p %.17g; want paired seed means, 0.0008825570653330407", cell.Paired, cell.Averaged, cell.P)
	} else if !closeTo(cell.Diff, cell.Mean-cellOf(t, c, "attention.name=none", "test/exact_match").Mean, 1e-12) {
		t.Errorf("pooled seeds: Δ %v is not the difference of the rows' means", cell.Diff)
	}
	if notes := strings.Join(c.notes(false), " "); !strings.Contains(notes, "a row's runs of one seed are averaged first") {
		t.Errorf("pooled seeds: the notes do not say the seeds were averaged:\n%s", notes)
	}
	js.Reset()
	if err := c.Write(&js, "json"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(js.String(), `"averaged": true`) {
		t.Error("pooled seeds: JSON does not say the seeds were averaged")
	}
	uq := q
	uq.Unpaired = true
	if cell := cellOf(t, mustCompare(t, st, uq), "attention.name=dot", "test/exact_match"); cell.Paired || !cell.Averaged || !closeTo(cell.P, 0.0035419206808328546, 1e-9) {
		t.Errorf("pooled seeds, --unpaired: paired %v, averaged %v, p %.17g; want Welch on seed means, 0.0035419206808328546", cell.Paired, cell.Averaged, cell.P)
	}
	// A pooled row against a baseline of one setting: seed means against
	// single runs, ttest_rel([0.715, 0.815, 0.755], [0.41, 0.53, 0.44]).
	c = mustCompare(t, pooled("pooled", func(att string, _ int64, steps int) bool { return att == "none" && steps == 200 }), q)
	if cell := cellOf(t, c, "attention.name=dot", "test/exact_match"); !cell.Paired || !closeTo(cell.P, 0.0008535806207474001, 1e-9) {
		t.Errorf("pooled row, plain baseline: paired %v, p %.17g; want 0.0008535806207474001", cell.Paired, cell.P)
	}
	// One run missing from a pooled row: seed 3 would stand for one
	// setting, the others for two, and the pairs' mean would not be the
	// row's. Welch on seed means, ttest_ind([0.715, 0.815, 0.75], [0.415,
	// 0.535, 0.445], equal_var=False) = 0.0036174449293561945, not on the
	// runs as independent (7.55e-6).
	c = mustCompare(t, pooled("pooled", func(att string, seed int64, steps int) bool { return att == "dot" && seed == 3 && steps == 200 }), q)
	if cell := cellOf(t, c, "attention.name=dot", "test/exact_match"); cell.Paired || !cell.Averaged || !closeTo(cell.P, 0.0036174449293561945, 1e-9) {
		t.Errorf("unbalanced pooled row: paired %v, averaged %v, p %.17g; want Welch on seed means, 0.0036174449293561945", cell.Paired, cell.Averaged, cell.P)
	}
	if notes := strings.Join(c.notes(false), " "); !strings.Contains(notes, "a row's runs of one seed are averaged first, each seed one value; p Holm–Bonferroni-adjusted") {
		t.Errorf("unbalanced pooled row: the notes do not say the seeds were averaged:\n%s", notes)
	}
}

// TestCompareRoundingIsNoSpread: a side constant but for the last bit
// (0.7 + 0.2 = 0.8999999999999999 beside 0.9, as exact-match rates of
// equal totals summed in another order) is constant, paired or not: the
// exact tests' p, not a t of 6·10¹⁵ and p ≈ 1e-32; and differences of both
// signs within rounding are a Δ of 0, p = 1.
func TestCompareRoundingIsNoSpread(t *testing.T) {
	x7, x2 := 0.7, 0.2
	near := x7 + x2
	if near == 0.9 {
		t.Fatal("0.7 + 0.2 rounds to 0.9: the case tests nothing")
	}
	mk := func(name string, seeds []int64, vals ...float64) fakeExperiment {
		x := fakeExperiment{name: name}
		for _, s := range []int64{1, 2, 3} {
			x.runs = append(x.runs, trustRun("none", s, 0.5, nil), trustRun("general", s, 0.9, nil))
		}
		for k, s := range seeds {
			x.runs = append(x.runs, trustRun("dot", s, vals[k], nil))
		}
		return x
	}
	st, _ := buildStore(t, mk("paired", []int64{1, 2, 3}, 0.9, near, 0.9), mk("other-seeds", []int64{4, 5, 6}, 0.9, near, 0.9),
		mk("equal", []int64{1, 2, 3}, near, near, 0.9))
	for _, tc := range []struct {
		exp      string
		unpaired bool
		baseline string
		paired   bool
		p        float64
	}{
		{"paired", false, "none", true, 0.25},
		{"paired", true, "none", false, 0.1},
		{"other-seeds", false, "none", false, 0.1},
		{"equal", false, "general", true, 1},
		{"equal", true, "general", false, 1},
	} {
		c := mustCompare(t, st, Query{Experiments: []string{tc.exp}, Baseline: "attention.name=" + tc.baseline, Unpaired: tc.unpaired,
			Where: mustWhere(t, "model.attention.name in (dot, "+tc.baseline+")")})
		cell := cellOf(t, c, "attention.name=dot", "test/exact_match")
		if !cell.Tested || !cell.Exact || cell.Paired != tc.paired || cell.P != tc.p || !math.IsNaN(cell.Low) {
			t.Errorf("%s against %s (unpaired %v): %+v; want the exact p %v, paired %v, no interval", tc.exp, tc.baseline, tc.unpaired, cell, tc.p, tc.paired)
		}
	}
	// Paired differences ±1 ulp of 1000 and 2e-14: no spread, and Δ 0.
	row := func(vals ...float64) Row {
		return Row{Runs: []int64{1, 2, 3}, Seeds: []int64{1, 2, 3}, Cells: []Cell{{Values: vals, N: 3, Mean: (vals[0] + vals[1] + vals[2]) / 3}}}
	}
	c := &Comparison{Metrics: []string{"test/loss"}, Baseline: 0, Adjusted: true,
		Rows: []Row{row(1000, -1000, 0.001), row(math.Nextafter(1000, 2000), math.Nextafter(-1000, -2000), 0.001+2e-14)}}
	c.mark()
	if cell := c.Rows[1].Cells[0]; !cell.Paired || !cell.Exact || cell.P != 1 {
		t.Errorf("differences of both signs within rounding: %+v; want the exact p 1", cell)
	}
}

// TestComparePooledSettingsPerSeed: a pooled row whose seeds hold
// different settings (a failed run of a different setting on each seed)
// does not pair its seed means, which would average other settings on
// each seed: it gets Welch's test.
func TestComparePooledSettingsPerSeed(t *testing.T) {
	x := fakeExperiment{name: "latin"}
	vals := map[int64]float64{1: 0.40, 2: 0.52, 3: 0.43}
	fail := map[int]int64{100: 3, 200: 1, 300: 2}
	for _, steps := range []int{100, 200, 300} {
		for s := int64(1); s <= 3; s++ {
			x.runs = append(x.runs, trustRun("none", s, vals[s]+float64(steps)/1e4, map[string]any{"train.steps": steps}))
			r := trustRun("dot", s, vals[s]+0.3+float64(steps)/1e3, map[string]any{"train.steps": steps})
			if fail[steps] == s {
				r.status, r.err, r.sums = "failed", "diverged", nil
			}
			x.runs = append(x.runs, r)
		}
	}
	st, _ := buildStore(t, x)
	q := Query{Experiments: []string{"latin"}, By: []string{"attention.name"}, Pool: []string{"train.steps"}, Baseline: "attention.name=none"}
	cell := cellOf(t, mustCompare(t, st, q), "attention.name=dot", "test/exact_match")
	if !cell.Tested || cell.Paired || !cell.Averaged {
		t.Errorf("seeds of settings {100, 300}, {100, 200}, {200, 300} paired: %+v; want Welch on seed means", cell)
	}
	// The same row without the failures pairs its seed means.
	for i := range x.runs {
		if x.runs[i].status == "failed" {
			v := x.runs[i]
			x.runs[i] = trustRun("dot", v.seed, 0.7, map[string]any{"train.steps": v.params["train.steps"]})
		}
	}
	st, _ = buildStore(t, x)
	if cell = cellOf(t, mustCompare(t, st, q), "attention.name=dot", "test/exact_match"); !cell.Paired || !cell.Averaged {
		t.Errorf("a balanced pooled row: %+v, want paired by seed means", cell)
	}
}

// TestCompareMeanOverSeeds: a row whose seeds hold different numbers of
// runs (seed 1 run five times) shows the mean and std over seeds, each
// seed the mean of its runs, as its test takes them: over runs the row
// would read 0.673 and be starred above the baseline's 0.50 while its Δ
// (of seed means) says −0.130. scipy 1.10: ttest_ind([0.9, 0.1, 0.11],
// [0.49, 0.5, 0.51], equal_var=False) p 0.6723209257711495; std of the
// seed means 0.4590206967011401.
func TestCompareMeanOverSeeds(t *testing.T) {
	x := fakeExperiment{name: "reruns"}
	for s, v := range map[int64]float64{1: 0.49, 2: 0.50, 3: 0.51} {
		x.runs = append(x.runs, trustRun("none", s, v, nil))
	}
	for range 5 {
		x.runs = append(x.runs, trustRun("dot", 1, 0.9, nil))
	}
	x.runs = append(x.runs, trustRun("dot", 2, 0.1, nil), trustRun("dot", 3, 0.11, nil))
	st, _ := buildStore(t, x)
	c := mustCompare(t, st, Query{Experiments: []string{"reruns"}, Baseline: "attention.name=none"})
	dot, base := cellOf(t, c, "attention.name=dot", "test/exact_match"), cellOf(t, c, "attention.name=none", "test/exact_match")
	if !closeTo(dot.Mean, 0.37, 1e-15) || !closeTo(dot.Std, 0.4590206967011401, 1e-14) || dot.N != 7 {
		t.Errorf("dot: mean %v ± %v over %d runs; want 0.37 ± 0.45902 over seeds, 7 runs", dot.Mean, dot.Std, dot.N)
	}
	if dot.Best || !base.Best {
		t.Errorf("best: dot %v, baseline %v; want the baseline's 0.50 above dot's 0.37", dot.Best, base.Best)
	}
	if dot.Paired || !dot.Averaged || !closeTo(dot.Diff, -0.13, 1e-14) || !closeTo(dot.P, 0.6723209257711495, 1e-9) {
		t.Errorf("dot against none: %+v; want Welch on seed means, Δ −0.13, p 0.67232", dot)
	}
	var b strings.Builder
	if err := c.WriteWidth(&b, "table", 100); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"0.370 ± 0.459", "mean ± std over each row's seeds", "a row's runs of one seed are averaged first"} {
		if !strings.Contains(strings.Join(strings.Fields(out), " "), want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

// TestComparePooledDfNote: with a key pooled, a row holds two runs of each
// seed and the n column counts runs (6), while the paired test's n − 1 df
// count the seeds in common (3): the note says which n it means.
func TestComparePooledDfNote(t *testing.T) {
	x := fakeExperiment{name: "pooled"}
	for s := int64(1); s <= 3; s++ {
		for _, dim := range []float64{8, 16} {
			x.runs = append(x.runs, trustRun("none", s, 0.4+0.01*float64(s)+dim/1000, map[string]any{"model.attention.dim": dim}),
				trustRun("dot", s, 0.6+0.02*float64(s)+dim/1000, map[string]any{"model.attention.dim": dim}))
		}
	}
	st, _ := buildStore(t, x)
	c := mustCompare(t, st, Query{Experiments: []string{"pooled"}, By: []string{"attention.name"}, Pool: []string{"dim"}, Baseline: "attention.name=none"})
	dot := cellOf(t, c, "attention.name=dot", "test/exact_match")
	if !dot.Paired || dot.N != 6 {
		t.Fatalf("dot: %+v; want a paired test over 6 runs", dot)
	}
	notes := strings.Join(c.notes(false), " ")
	if want := "(n − 1 df, n the seeds in common, not the runs the n column counts)"; !strings.Contains(notes, want) {
		t.Errorf("notes lack %q:\n%s", want, notes)
	}
	// Without pooling, n is both.
	c = mustCompare(t, st, Query{Experiments: []string{"pooled"}, Baseline: "attention.name=none,dim=8"})
	if notes := strings.Join(c.notes(false), " "); strings.Contains(notes, "seeds in common") || !strings.Contains(notes, "(n − 1 df)") {
		t.Errorf("unpooled notes: %s", notes)
	}
}

// TestCompareBestTies: means a part in a billion apart (float32 noise: two
// rows that print alike to the last digit) are best together.
func TestCompareBestTies(t *testing.T) {
	x := fakeExperiment{name: "ties"}
	for s := int64(1); s <= 2; s++ {
		x.runs = append(x.runs, trustRun("dot", s, 0.9, nil), trustRun("general", s, 0.9+3e-9, nil), trustRun("none", s, 0.5, nil))
	}
	st, _ := buildStore(t, x)
	c := mustCompare(t, st, Query{Experiments: []string{"ties"}})
	for _, g := range []string{"dot", "general"} {
		if !cellOf(t, c, "attention.name="+g, "test/exact_match").Best {
			t.Errorf("%s is not best: its mean is 0.9 to a part in a billion, as the best's", g)
		}
	}
	if cellOf(t, c, "attention.name=none", "test/exact_match").Best {
		t.Error("none is best")
	}
	// Against dot, general's constant difference of 3e-9 is no difference.
	c = mustCompare(t, st, Query{Experiments: []string{"ties"}, Baseline: "attention.name=dot"})
	if g := cellOf(t, c, "attention.name=general", "test/exact_match"); !g.Exact || g.P != 1 {
		t.Errorf("general against dot: %+v; want the exact p 1 of no difference", g)
	}
	// A status other than done marks no best; the note about tasks does
	// not give another reason for it.
	y := fakeExperiment{name: "two-tasks"}
	for i, lines := range []float64{300, 203} {
		y.runs = append(y.runs, fakeRun{params: map[string]any{"task.name": "pairs", "data.path.lines": lines},
			seed: 1, sums: map[string]float64{"test/bleu": 0.6 - 0.4*float64(i)}})
	}
	st, _ = buildStore(t, y)
	c = mustCompare(t, st, Query{Status: StatusAny})
	if notes := strings.Join(c.notes(false), " "); strings.Contains(notes, "no task has two rows") || !strings.Contains(notes, "no row is marked best") {
		t.Errorf("--status any notes: %s", notes)
	}
}

// TestCompareInfiniteSeed: a seed whose runs score +Inf and −Inf has no
// mean. It must give no mean and no p-value, by either test, rather than
// a test of the other seeds: the old code dropped it and, with the other
// seeds constant, gave the exact p 2/C(6, 3) = 0.1 over 3 seeds.
func TestCompareInfiniteSeed(t *testing.T) {
	inf := math.Inf(1)
	row := func(seeds []int64, vals ...float64) Row {
		runs := make([]int64, len(vals))
		for k := range runs {
			runs[k] = int64(k + 1)
		}
		mean, std := seedStats(seeds, vals)
		return Row{Runs: runs, Seeds: seeds, settings: make([]string, len(vals)),
			Cells: []Cell{{Values: vals, N: len(vals), Mean: mean, Std: std}}}
	}
	for _, tc := range []struct {
		name      string
		row, base Row
	}{
		{"welch", row([]int64{1, 1, 2, 3}, inf, -inf, 0.5, 0.5), row([]int64{1, 2, 3}, 0.4, 0.4, 0.4)},
		{"paired", row([]int64{1, 1, 2, 2, 3, 3}, inf, -inf, 0.5, 0.6, 0.7, 0.6), row([]int64{1, 2, 3}, 0.4, 0.41, 0.43)},
	} {
		c := &Comparison{Metrics: []string{"test/exact_match"}, Baseline: 1, Adjusted: true, Rows: []Row{tc.row, tc.base}}
		c.mark()
		cell := c.Rows[0].Cells[0]
		if !math.IsNaN(cell.Mean) || !cell.Tested || !math.IsNaN(cell.P) || !math.IsNaN(cell.Low) || cell.Best {
			t.Errorf("%s: %+v; want no mean, tested without a p-value or interval, not best", tc.name, cell)
		}
	}
}

// TestCompareExactOnlyNotes: where every p-value is an exact permutation
// test's, the notes name no t-test and no interval, which no cell has.
func TestCompareExactOnlyNotes(t *testing.T) {
	x := fakeExperiment{name: "tie"}
	for s := int64(1); s <= 3; s++ {
		x.runs = append(x.runs, trustRun("none", s, 0.5, nil), trustRun("general", s, 0.6, nil))
	}
	st, _ := buildStore(t, x)
	for _, unpaired := range []bool{false, true} {
		c := mustCompare(t, st, Query{Experiments: []string{"tie"}, Baseline: "attention.name=none", Unpaired: unpaired})
		notes := strings.Join(c.notes(false), " ")
		for _, bad := range []string{"t-test over seeds", "Welch's two-sided", "confidence interval", "intervals are"} {
			if strings.Contains(notes, bad) {
				t.Errorf("unpaired %v: the notes say %q, but every p is exact:\n%s", unpaired, bad, notes)
			}
		}
		if !strings.Contains(notes, "Δ = row mean − baseline mean; p by an exact permutation test (‡)") || !strings.Contains(notes, "; p Holm–Bonferroni-adjusted") ||
			strings.Contains(notes, "--unpaired") != unpaired {
			t.Errorf("unpaired %v: the notes do not name the exact test (and --unpaired where given):\n%s", unpaired, notes)
		}
		if cap := c.caption(); strings.Contains(cap, "CI") {
			t.Errorf("unpaired %v: the caption names an interval no cell has: %q", unpaired, cap)
		}
	}
}

// TestCompareHeadsNameWhatCellsShow: the heads of the table of
// differences, in every format, and the notes name an interval only where
// some cell has one and Holm only where some p was adjusted: single-seed
// rows have neither, rows that are constant over seeds only exact p's.
func TestCompareHeadsNameWhatCellsShow(t *testing.T) {
	single := fakeExperiment{name: "single"}
	single.runs = append(single.runs, trustRun("none", 1, 0.5, nil), trustRun("general", 2, 0.6, nil))
	exact := fakeExperiment{name: "exact"}
	spread := fakeExperiment{name: "spread"}
	for s := int64(1); s <= 3; s++ {
		exact.runs = append(exact.runs, trustRun("none", s, 0.5, nil), trustRun("general", s, 0.6, nil))
		spread.runs = append(spread.runs, trustRun("none", s, 0.5+float64(s)/100, nil), trustRun("general", s, 0.6+float64(s*s)/100, nil))
	}
	for _, tc := range []struct {
		x        fakeExperiment
		noAdjust bool
		want     []string // in the markdown, LaTeX and table output
		not      []string
	}{
		{single, false, []string{"exact_match Δ |", "exact_match p |", `$\Delta$ &`, "$p$", "difference of means, p\n",
			"Δ = row mean − baseline mean (no row has a p-value)"},
			[]string{"CI", "Holm", "confidence interval", "t-test"}},
		{exact, false, []string{"exact_match Δ |", "exact_match p (Holm) |", `$\Delta$ &`, `$p_{\mathrm{Holm}}$`,
			"difference of means, p (Holm)\n"}, []string{"CI", "confidence interval", "Welch"}},
		{spread, false, []string{"exact_match Δ [95% CI, unadjusted] |", "exact_match p (Holm) |",
			`$\Delta$ [95\,\% CI, unadjusted]`, `$p_{\mathrm{Holm}}$`, "difference of means [95 % CI, unadjusted], p (Holm)\n",
			"with its 95 % confidence interval"}, nil},
		{spread, true, []string{"exact_match Δ [95% CI] |", "exact_match p |", `$\Delta$ [95\,\% CI] &`, "$p$",
			"difference of means [95 % CI], p\n"}, []string{"Holm", "unadjusted]"}},
	} {
		st, _ := buildStore(t, tc.x)
		c := mustCompare(t, st, Query{Experiments: []string{tc.x.name}, Baseline: "attention.name=none", NoAdjust: tc.noAdjust})
		var all strings.Builder
		for _, f := range []string{"table", "markdown", "latex"} {
			if err := c.WriteWidth(&all, f, 400); err != nil {
				t.Fatal(err)
			}
		}
		out := all.String()
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s (no-adjust %v): the output lacks %q:\n%s", tc.x.name, tc.noAdjust, w, out)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(out, w) {
				t.Errorf("%s (no-adjust %v): the output says %q, which no cell shows:\n%s", tc.x.name, tc.noAdjust, w, out)
			}
		}
	}
}

// TestCompareExactPairsNameNoTTest: a row that pairs with the baseline by
// seed but whose Δ is the same on every seed gets the exact sign-flip p
// (‡); beside a row of other seeds (Welch's), the notes name Welch's test
// and the sign-flip test, never a paired t-test no cell ran, nor "not
// paired"; and --no-adjust reads "p without", not "p  without".
func TestCompareExactPairsNameNoTTest(t *testing.T) {
	x := fakeExperiment{name: "mixed"}
	for s := int64(1); s <= 3; s++ {
		x.runs = append(x.runs, trustRun("none", s, 0.5+float64(s)/100, nil), trustRun("exactrow", s, 0.6+float64(s)/100, nil),
			trustRun("welchrow", s+9, 0.7+float64(s*s)/100, nil))
	}
	st, _ := buildStore(t, x)
	for _, noAdjust := range []bool{false, true} {
		c := mustCompare(t, st, Query{Experiments: []string{"mixed"}, Baseline: "attention.name=none", NoAdjust: noAdjust})
		if e, w := cellOf(t, c, "attention.name=exactrow", "test/exact_match"), cellOf(t, c, "attention.name=welchrow", "test/exact_match"); !e.Exact || !e.Paired || w.Paired || w.Exact {
			t.Fatalf("fixture: exactrow %+v, welchrow %+v; want an exact paired cell and a Welch cell", e, w)
		}
		var b strings.Builder
		for _, f := range []string{"table", "markdown"} {
			if err := c.WriteWidth(&b, f, 400); err != nil {
				t.Fatal(err)
			}
		}
		out := b.String()
		for _, bad := range []string{"paired t-test", "Not paired", welchMark, "p  without"} {
			if strings.Contains(out, bad) {
				t.Errorf("no-adjust %v: the output says %q:\n%s", noAdjust, bad, out)
			}
		}
		for _, want := range []string{"p = Welch's two-sided t-test", "exact sign-flip test"} {
			if !strings.Contains(out, want) {
				t.Errorf("no-adjust %v: the output lacks %q:\n%s", noAdjust, want, out)
			}
		}
	}
}

// TestComparePooledConstantSpread: a constant of the configuration
// (model/params) is over runs, so a pooled row whose settings differ in
// size shows that spread; over seeds (every seed the same mix) it would
// read as one model of 2,560 parameters.
func TestComparePooledConstantSpread(t *testing.T) {
	x := fakeExperiment{name: "sizes"}
	for _, name := range []string{"none", "dot"} {
		for _, d := range []int{32, 64} {
			for s := int64(1); s <= 3; s++ {
				r := trustRun(name, s, 0.5+float64(s)/100, map[string]any{"model.dim": d})
				r.sums["model/params"] = float64(d * d)
				x.runs = append(x.runs, r)
			}
		}
	}
	st, _ := buildStore(t, x)
	c := mustCompare(t, st, Query{Experiments: []string{"sizes"}, By: []string{"attention.name"}, Pool: []string{"model.dim"}})
	cell := cellOf(t, c, "attention.name=dot", "model/params")
	// numpy: std([1024]*3 + [4096]*3, ddof=1) = 1682.6036966558704.
	if cell.Mean != 2560 || !closeTo(cell.Std, 1682.6036966558704, 1e-12) {
		t.Errorf("pooled params: %v ± %v; want 2560 ± 1682.60 over runs", cell.Mean, cell.Std)
	}
	var b strings.Builder
	if err := c.WriteWidth(&b, "table", 120); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "2,560 ± 1,683") {
		t.Errorf("the table hides the pooled sizes' spread:\n%s", b.String())
	}
}

// TestCompareHugeMeans: the mean of values near the top of the float
// range is finite (the sum does not overflow), and Δ is the difference of
// the means shown. scipy 1.10: ttest_ind([7, 7, 7.1], [0, 0, 0],
// equal_var=False) p 2.246055365548011e-05 (the baseline's 1, 2, 3 are 0
// beside 7e307).
func TestCompareHugeMeans(t *testing.T) {
	x := fakeExperiment{name: "huge"}
	for s, v := range map[int64]float64{4: 1, 5: 2, 6: 3} {
		x.runs = append(x.runs, trustRun("none", s, v, nil))
	}
	for s, v := range map[int64]float64{1: 7e307, 2: 7e307, 3: 7.1e307} {
		x.runs = append(x.runs, trustRun("dot", s, v, nil))
	}
	st, _ := buildStore(t, x)
	c := mustCompare(t, st, Query{Experiments: []string{"huge"}, Baseline: "attention.name=none"})
	cell := cellOf(t, c, "attention.name=dot", "test/exact_match")
	if !closeTo(cell.Mean, 7.033333333333334e307, 1e-14) || !closeTo(cell.P, 2.246055365548011e-05, 1e-6) {
		t.Errorf("huge values: mean %v, p %v; want 7.0333e307, p 2.246e-5", cell.Mean, cell.P)
	}
}

// TestCompareUnfinishedValues: runs not done have written no summaries; a
// --status that selects them shows the last value each logged of a metric,
// as the notes say with the steps those are from, and a done run's summary
// stays its value.
func TestCompareUnfinishedValues(t *testing.T) {
	x := fakeExperiment{name: "live"}
	for i, hist := range [][]float64{{3, 2, 1.5}, {3, 2.5}} {
		r := trustRun("dot", int64(i+1), 0, nil)
		r.sums, r.status = nil, store.StatusInterrupted
		if i == 1 { // the summary of an earlier attempt, done before the run was queued again
			r.sums = map[string]float64{"valid/loss": 9}
		}
		r.history = map[string][]float64{"valid/loss": hist}
		x.runs = append(x.runs, r)
	}
	done := trustRun("dot", 3, 0.5, nil)
	done.sums["valid/loss"] = 1
	done.sums["perf/concurrent_runs"] = 1 // how it was trained: runs not done have not said yet
	done.history = map[string][]float64{"valid/loss": {3, 0.9}}
	other := trustRun("none", 1, 0, nil)
	other.sums, other.status = nil, store.StatusInterrupted
	other.history = map[string][]float64{"valid/loss": {3, 2.9, 2.8, 2.7}}
	x.runs = append(x.runs, done, other)
	st, _ := buildStore(t, x)
	mean := func(c *Comparison) (float64, int) {
		if len(c.Rows) != 2 || len(c.Metrics) != 1 {
			t.Fatalf("%d rows, metrics %v; want two rows of valid/loss", len(c.Rows), c.Metrics)
		}
		// Values of runs stopped at different steps: neither row is best.
		for i, row := range c.Rows {
			if row.Cells[0].Best {
				t.Errorf("--status %s: row %s marked best", c.Status, c.Label(i))
			}
		}
		if notes := strings.Join(c.notes(false), " "); !strings.Contains(notes, "no row is marked best") {
			t.Errorf("--status %s: the notes do not say that no row is best: %s", c.Status, notes)
		}
		// The runs not done last logged at steps 500, 250 and 750.
		if notes := strings.Join(c.notes(false), " "); !strings.Contains(notes, "(at steps 250 to 750)") {
			t.Errorf("--status %s: the notes do not say which steps the values are from: %s", c.Status, notes)
		}
		if c.Sharing != nil && c.Sharing.Unknown > 0 {
			t.Errorf("--status %s: %d runs not done counted as stored before timings were recorded", c.Status, c.Sharing.Unknown)
		}
		i := slices.IndexFunc(c.Rows, func(r Row) bool { return r.Group[0] == "dot" })
		cell := c.Rows[i].Cells[0]
		return cell.Mean, cell.N
	}
	c := mustCompare(t, st, Query{Experiments: []string{"live"}, Status: store.StatusInterrupted, Metrics: []string{"valid/loss"}})
	if m, n := mean(c); m != 2 || n != 2 {
		t.Errorf("interrupted runs: valid/loss %v over %d runs, want their last values' mean 2 over 2", m, n)
	}
	c = mustCompare(t, st, Query{Experiments: []string{"live"}, Status: StatusAny, Metrics: []string{"valid/loss"}})
	if m, n := mean(c); math.Abs(m-5.0/3) > 1e-12 || n != 3 {
		t.Errorf("every run: valid/loss %v over %d runs, want (1.5 + 2.5 + the done run's summary 1) / 3", m, n)
	}
}

// TestCompareLoneSurvivingRow: when every run of one setting failed and
// one setting is left, its row is labelled by the key the failed setting
// differs in (optimizer.lr=0.001), not by the experiment alone, so the
// table says which setting the figures are of.
func TestCompareLoneSurvivingRow(t *testing.T) {
	lr := func(v float64) map[string]any { return map[string]any{"train.optimizer.lr": v} }
	bad := trustRun("dot", 1, 0, lr(3e38))
	bad.status, bad.err, bad.sums = store.StatusFailed, "training loss is NaN", nil
	x := fakeExperiment{name: "lone", runs: []fakeRun{trustRun("dot", 1, 0.5, lr(0.001)), trustRun("dot", 2, 0.6, lr(0.001)), bad}}
	st, _ := buildStore(t, x)
	c := mustCompare(t, st, Query{Experiments: []string{"lone"}})
	if got := rowLabels(c); len(got) != 1 || got[0] != "optimizer.lr=0.001" {
		t.Errorf("rows %q, want the one row labelled optimizer.lr=0.001", got)
	}
	if len(c.FailedElsewhere) != 1 || c.FailedElsewhere[0].Label != "optimizer.lr=3e+38" {
		t.Errorf("FailedElsewhere = %+v", c.FailedElsewhere)
	}
}

// TestStdNeverRoundsToZero: a std that the column's decimals would round
// to 0 keeps digits until it shows, so that "± 0" means no spread, as
// the tests take it: seeds of 1e8 + 0.1, 0.3, 0.2 (std 0.1, in a column
// of 0 decimals) once read "100,000,000 ± 0" beside a paired t-test's
// interval. A std within the rounding of the values still reads 0.
func TestStdNeverRoundsToZero(t *testing.T) {
	f := colFormat{decimals: 0}
	for _, tc := range []struct {
		cell Cell
		want string
	}{
		{Cell{Mean: 1e8 + 0.2, Std: 0.10000000149011622, N: 3}, "100,000,000 ± 0.1"},
		{Cell{Mean: 1e8 + 0.2, Std: 0, N: 3}, "100,000,000 ± 0"},
		{Cell{Mean: 1e8 + 0.2, Std: 1e-8, N: 3}, "100,000,000 ± 0"}, // 4ε·1e8 = 8.9e-8: rounding
		{Cell{Mean: 12345, Std: 2.4, N: 3}, "12,345 ± 2"},
	} {
		if got := f.value(tc.cell); got != tc.want {
			t.Errorf("value(%g ± %g) = %q, want %q", tc.cell.Mean, tc.cell.Std, got, tc.want)
		}
	}
	g := colFormat{decimals: 3}
	for _, tc := range []struct {
		cell Cell
		want string
	}{
		{Cell{Mean: 0.9, Std: 0.00035, N: 3}, "0.900 ± 0.0003"},
		{Cell{Mean: 0.9, Std: 0.0012, N: 3}, "0.900 ± 0.001"},
		{Cell{Mean: 0.9, Std: 1.1e-16, N: 3}, "0.900 ± 0.000"}, // 0.9 summed as 0.7 + 0.2
	} {
		if got := g.value(tc.cell); got != tc.want {
			t.Errorf("value(%g ± %g) = %q, want %q", tc.cell.Mean, tc.cell.Std, got, tc.want)
		}
	}
}

// TestCompareHolmFamilyReference checks a column mixing tests against
// values computed independently (mpmath at 50 digits,
// metrics/testdata/make_audit_refs.py): a paired row (same 4 seeds), a
// row with fewer seeds than the baseline and one whose fourth seed has no
// value (Welch's on 3 vs 4 seeds), a constant row against a varying
// baseline (Welch's, df = 3), and a row of one seed: Δ but no p, and not
// one of the m = 4 comparisons Holm adjusts over.
func TestCompareHolmFamilyReference(t *testing.T) {
	r := trustRun
	x := fakeExperiment{name: "holm", runs: []fakeRun{
		r("none", 1, 0.70, nil), r("none", 2, 0.74, nil), r("none", 3, 0.77, nil), r("none", 4, 0.72, nil),
		r("dot", 1, 0.81, nil), r("dot", 2, 0.85, nil), r("dot", 3, 0.79, nil), r("dot", 4, 0.88, nil),
		r("additive", 1, 0.81, nil), r("additive", 2, 0.85, nil), r("additive", 3, 0.79, nil),
		r("general", 1, 0.5, nil), r("general", 2, 0.5, nil), r("general", 5, 0.5, nil),
		r("mha", 1, 0.9, nil),
		r("scaled", 1, 0.75, nil), r("scaled", 2, 0.79, nil), r("scaled", 3, 0.82, nil), r("scaled", 4, math.NaN(), nil),
	}}
	st, _ := buildStore(t, x)
	c := mustCompare(t, st, Query{Experiments: []string{"holm"}, Baseline: "attention.name=none"})
	for _, tc := range []struct {
		row                     string
		paired                  bool
		diff, low, high, p, adj float64
	}{
		{"dot", true, 0.1, 0.007216543429812662, 0.19278345657018742, 0.041538909023170006, 2 * 0.041538909023170006},
		{"additive", false, 0.08416666666666671, 0.022193501768033943, 0.14613983156529947, 0.01865789387854582, 3 * 0.01865789387854582},
		{"general", false, -0.23249999999999998, -0.28001517739986465, -0.18498482260013532, 0.0005754473655426829, 4 * 0.0005754473655426829},
		{"mha", false, 0.1675, math.NaN(), math.NaN(), math.NaN(), math.NaN()},
		// Holm's step-down is monotone: max(2·0.0415, 1·0.0982).
		{"scaled", false, 0.054166666666666675, -0.015901259620326447, 0.12423459295365981, 0.09824192970651152, 0.09824192970651152},
	} {
		cell := cellOf(t, c, "attention.name="+tc.row, "test/exact_match")
		if cell.Paired != tc.paired || !closeTo(cell.Diff, tc.diff, 1e-12) || !closeTo(cell.Low, tc.low, 1e-9) || !closeTo(cell.High, tc.high, 1e-9) ||
			!closeTo(cell.P, tc.p, 1e-9) || !closeTo(cell.PAdj, tc.adj, 1e-9) {
			t.Errorf("%s: paired %v, Δ %.17g [%.17g, %.17g], p %.17g, Holm %.17g; want %v, %.17g [%.17g, %.17g], %.17g, %.17g",
				tc.row, cell.Paired, cell.Diff, cell.Low, cell.High, cell.P, cell.PAdj, tc.paired, tc.diff, tc.low, tc.high, tc.p, tc.adj)
		}
	}
}
