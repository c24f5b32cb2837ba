package report

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot"
)

// refsExperiment: attention dot and additive, two seeds, trained on
// sources of 5–30 (seed 1) and 4–29 tokens (seed 2), evaluated in three
// buckets, with majority floors per bucket; name "refs-task" varies
// task.max_len between the groups instead, and "refs-old" has one run
// stored without the references.
func refsExperiment(name string) fakeExperiment {
	x := fakeExperiment{name: name}
	for s := range 2 {
		for g, att := range []string{"dot", "additive"} {
			sums := map[string]float64{"test/exact_match": 0.5, trainMinKey: float64(5 - s), trainMaxKey: float64(30 - s),
				floorsOverall: 0.1}
			for i, k := range []string{"1_10", "11_40", "41_inf"} {
				sums[LengthPrefix+k] = 0.9 - 0.3*float64(i) - 0.1*float64(g)
				sums[ExamplesPrefix+k] = 20
				sums[floorPrefix+k] = 0.1 + 0.05*float64(i) + 0.02*float64(s)
			}
			params := map[string]any{"model.attention.name": att, "task.name": "listops", "task.max_len": 30}
			switch {
			case name == "refs-task":
				params["task.max_len"] = 30 + 10*g
			case name == "refs-old" && s == 1 && g == 1:
				for k := range sums {
					if strings.HasPrefix(k, floorsOverall) || strings.HasPrefix(k, "train/") {
						delete(sums, k)
					}
				}
			}
			x.runs = append(x.runs, fakeRun{params: params, seed: int64(s + 1), sums: sums})
		}
	}
	return x
}

// TestLengthReferences: a length plot marks the lengths the runs were
// trained on (the widest range over seeds) and the majority floor of
// each bucket (the mean over the runs), and marks neither when the runs'
// tasks differ or some runs lack them, saying why in the legend.
func TestLengthReferences(t *testing.T) {
	st, _ := buildStore(t, refsExperiment("refs"), refsExperiment("refs-task"), refsExperiment("refs-old"), contextExperiment())
	ctx := context.Background()
	refs := func(exp string) LengthRefs {
		t.Helper()
		sel, c, err := groupQuery(ctx, st, Query{Experiments: []string{exp}})
		if err != nil {
			t.Fatal(err)
		}
		pts, lm, err := lengthAxes(sel)
		if err != nil {
			t.Fatal(err)
		}
		return LengthReferences(c, sel.sums, pointKeys(pts), lm)
	}
	r := refs("refs")
	if r.Lo != 4 || r.Hi != 30 || len(r.Notes) != 0 {
		t.Errorf("refs: trained on %v–%v, notes %q; want 4–30, none", r.Lo, r.Hi, r.Notes)
	}
	want := []float64{0.11, 0.16, 0.21}
	if len(r.Floor) != len(want) {
		t.Fatalf("refs: floor %v, want %v", r.Floor, want)
	}
	for i := range want {
		if math.Abs(r.Floor[i]-want[i]) > 1e-12 {
			t.Errorf("refs: floor %v, want %v (the mean over the seeds)", r.Floor, want)
			break
		}
	}
	if r := refs("refs-task"); r.Hi != 0 || r.Floor != nil || !slices.Equal(r.Notes, []string{"training lengths and floors not marked: the runs' tasks differ"}) {
		t.Errorf("refs-task: %+v, want nothing marked and why", r)
	}
	if r := refs("refs-old"); r.Hi != 0 || r.Floor != nil || len(r.Notes) != 2 || !strings.Contains(r.Notes[0], "1 of 4 runs were stored without them") {
		t.Errorf("refs-old: %+v, want nothing marked and two notes", r)
	}
	if r := refs("lm-context"); r.Hi != 0 || r.Floor != nil || r.Notes != nil {
		t.Errorf("lm-context (stored without train/context): %+v, want nothing", r)
	}

	if spans, text := r.TrainedSpans([]string{LengthPrefix + "1_3", LengthPrefix + "4_10", LengthPrefix + "11_40", LengthPrefix + "41_inf"}); !slices.Equal(spans, [][2]int{{1, 2}}) || text != "trained on sources of 4–30 tokens" {
		t.Errorf("trained on 4–30: spans %v %q, want buckets 1 (4–10) to 2 (11–40)", spans, text)
	}
	if got := r.TrainedText(false); got != "trained on sources of 4–30 tokens" {
		t.Errorf("TrainedText = %q", got)
	}

	path := filepath.Join(t.TempDir(), "refs.png")
	if _, err := PlotLength(ctx, st, Query{Experiments: []string{"refs"}}, file(path)); err != nil {
		t.Fatal(err)
	}
	goldenPNG(t, path, "length_refs_golden.png")
}

// TestLengthShadesTrainedBucketsOnly: runs trained on short sources and a
// few very long ones have no training example in the buckets between; a
// length plot shades the buckets that hold training examples
// (train/examples/len_A_B) and leaves the one between white, saying so.
func TestLengthShadesTrainedBucketsOnly(t *testing.T) {
	x := fakeExperiment{name: "gap"}
	for s := range 2 {
		sums := map[string]float64{"test/exact_match": 0.5, trainMinKey: 3, trainMaxKey: 3000}
		for i, k := range []string{"1_10", "11_40", "41_inf"} {
			sums[LengthPrefix+k] = 0.9 - 0.3*float64(i)
			sums[ExamplesPrefix+k] = 20
			sums[trainExamplesPrefix+k] = []float64{500, 0, 6}[i]
		}
		x.runs = append(x.runs, fakeRun{params: map[string]any{"model.attention.name": "dot", "task.name": "pairs"}, seed: int64(s + 1), sums: sums})
	}
	st, _ := buildStore(t, x)
	sel, c, err := groupQuery(context.Background(), st, Query{Experiments: []string{"gap"}})
	if err != nil {
		t.Fatal(err)
	}
	pts, lm, err := lengthAxes(sel)
	if err != nil {
		t.Fatal(err)
	}
	r := LengthReferences(c, sel.sums, pointKeys(pts), lm)
	if !slices.Equal(r.Trained, []bool{true, false, true}) {
		t.Fatalf("Trained = %v, want the middle bucket untrained", r.Trained)
	}
	if spans, _ := r.TrainedSpans(pointKeys(pts)); !slices.Equal(spans, [][2]int{{0, 0}, {2, 2}}) {
		t.Errorf("TrainedSpans = %v, want buckets 0 and 2 apart", spans)
	}
	p := plot.New()
	legend, err := r.draw(p, pts, lm)
	if err != nil {
		t.Fatal(err)
	}
	if len(legend) == 0 || legend[0].label != "shaded: the buckets with training examples; trained on sources of 3–3000 tokens" {
		t.Errorf("legend %+v", legend)
	}
	path := filepath.Join(t.TempDir(), "gap.png")
	if _, err := PlotLength(context.Background(), st, Query{Experiments: []string{"gap"}}, file(path)); err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("ATTNLAB_KEEP_PNG"); dir != "" {
		data, _ := os.ReadFile(path)
		os.WriteFile(filepath.Join(dir, "gap.png"), data, 0o644)
	}
}
