package report

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/store"
)

// history is a run's metric points at steps 10, 20, ... (a NaN is logged
// as such).
func history(vals ...float64) []store.MetricPoint {
	pts := make([]store.MetricPoint, len(vals))
	for i, v := range vals {
		pts[i] = store.MetricPoint{Step: 10 * (i + 1), Value: v}
	}
	return pts
}

// TestBandStopsEarly: runs of different lengths (early stopping) give a
// band that is full, and drawn solid, only up to the step where the first
// run stops; beyond it the means are over the runs left, with their count.
func TestBandStopsEarly(t *testing.T) {
	hist := map[int64][]store.MetricPoint{
		1: history(8, 7, 6, 5, 4, 3, 2, 1), // to step 80
		2: history(9, 8, 6),                // stops after step 30
		3: history(7, 6),                   // stops first, after step 20
		4: history(8, 7, 6, 5, 4, 3, 2, 1), // to step 80
	}
	b := newBand([]int64{1, 2, 3, 4}, hist, nil)
	if want := []int{4, 4, 3, 2, 2, 2, 2, 2}; !slices.Equal(b.n, want) {
		t.Errorf("runs per step %v, want %v", b.n, want)
	}
	if b.runs != 4 || b.early != 2 || b.diverged != 0 {
		t.Errorf("runs %d, early %d, diverged %d; want 4, 2, 0", b.runs, b.early, b.diverged)
	}
	// Solid from step 10 to step 20, where run 3 stops; dashed from there
	// (the dashed line starts at the last full step, so it joins).
	want := []span{{0, 1, true}, {1, 7, false}}
	if got := b.spans(); !slices.Equal(got, want) {
		t.Errorf("spans %v, want %v", got, want)
	}
	if got := b.x[b.spans()[0].to]; got != 20 {
		t.Errorf("the solid line ends at step %g, want 20 (the last step of the run that stops first)", got)
	}
	// The mean past step 20 is of the runs left, labelled where their
	// number changes: n=3 at step 30, n=2 at step 40.
	if got := b.counts(); !slices.Equal(got, []int{2, 3}) {
		t.Errorf("counts at %v, want [2 3]", got)
	}
	if b.mean[2] != 6 || b.mean[3] != 5 {
		t.Errorf("means at steps 30, 40 = %g, %g; want 6, 5", b.mean[2], b.mean[3])
	}
}

// TestBandStillTraining: a shorter curve of a run still training (listed
// with status any) is counted as such, not as one that stopped early.
func TestBandStillTraining(t *testing.T) {
	hist := map[int64][]store.MetricPoint{1: history(8, 7, 6), 2: history(9, 8), 3: history(7)}
	b := newBand([]int64{1, 2, 3}, hist, func(id int64) bool { return id == 2 })
	if b.runs != 3 || b.early != 1 || b.training != 1 || b.diverged != 0 {
		t.Errorf("runs %d, early %d, training %d, diverged %d; want 3, 1, 1, 0", b.runs, b.early, b.training, b.diverged)
	}
	g := GroupCurveOf([]int64{1, 2, 3}, hist, func(id int64) bool { return id == 2 })
	if e := g.Ends(); e != "1 end early, 1 not finished" {
		t.Errorf("Ends() = %q", e)
	}
	// A run still training is counted so even where its curve is the
	// longest (--status running: the one run plotted).
	for _, ids := range [][]int64{{1, 2}, {2}} {
		g = GroupCurveOf(ids, hist, func(id int64) bool { return id == 2 })
		if e := g.Ends(); e != "1 not finished" {
			t.Errorf("runs %v, run 2 training and the longest: Ends() = %q, want \"1 not finished\"", ids, e)
		}
	}
}

// TestBandShapes: the spans and counts of the other ways runs fall short.
func TestBandShapes(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name            string
		hist            [][]store.MetricPoint
		spans           []span
		counts          []int
		early, diverged int
	}{
		{"all full", [][]store.MetricPoint{history(3, 2, 1), history(3, 2, 1)},
			[]span{{0, 2, true}}, nil, 0, 0},
		{"one run", [][]store.MetricPoint{history(3, 2, 1)}, []span{{0, 2, true}}, nil, 0, 0},
		{"one step", [][]store.MetricPoint{history(3), history(2)}, []span{{0, 0, true}}, nil, 0, 0},
		{"one step, one run of two", [][]store.MetricPoint{history(3), history(2, 1)},
			[]span{{0, 1, false}}, []int{1}, 1, 0},
		{"diverged", [][]store.MetricPoint{history(3, 2, 1, 0.5), history(3, 2, nan, nan)},
			[]span{{0, 1, true}, {1, 3, false}}, []int{2}, 0, 1},
		{"a NaN in the middle", [][]store.MetricPoint{history(3, 2, 1, 0.5), history(3, nan, 1, 0.5)},
			[]span{{0, 2, false}, {2, 3, true}}, []int{1}, 0, 0},
		{"starts late", [][]store.MetricPoint{history(3, 2, 1), history(3, 2, 1)[1:]},
			[]span{{0, 1, false}, {1, 2, true}}, []int{0}, 0, 0},
		{"no finite value", [][]store.MetricPoint{history(3, 2), history(nan, nan)},
			[]span{{0, 1, true}}, nil, 0, 0},
	} {
		hist := map[int64][]store.MetricPoint{}
		var ids []int64
		for i, h := range tc.hist {
			hist[int64(i+1)] = h
			ids = append(ids, int64(i+1))
		}
		b := newBand(ids, hist, nil)
		if got := b.spans(); !slices.Equal(got, tc.spans) {
			t.Errorf("%s: spans %v, want %v", tc.name, got, tc.spans)
		}
		if got := b.counts(); !slices.Equal(got, tc.counts) {
			t.Errorf("%s: counts at %v, want %v", tc.name, got, tc.counts)
		}
		if b.early != tc.early || b.diverged != tc.diverged {
			t.Errorf("%s: early %d, diverged %d; want %d, %d", tc.name, b.early, b.diverged, tc.early, tc.diverged)
		}
	}
}

// earlyExperiment: attention dot with three runs of full length; additive
// with four, two of which end early (after 3 and 5 of 8 evaluations).
func earlyExperiment() fakeExperiment {
	x := fakeExperiment{name: "early"}
	lens := map[string][]int{"dot": {8, 8, 8}, "additive": {8, 3, 8, 5}}
	for _, name := range []string{"dot", "additive"} {
		for s, n := range lens[name] {
			x.runs = append(x.runs, fakeRun{params: map[string]any{"model.attention.name": name}, seed: int64(s + 1),
				sums:    map[string]float64{"test/loss": 1},
				history: map[string][]float64{"valid/loss": curve(3, 1, 8, float64(s))[:n]}})
		}
	}
	return x
}

// pooledExperiment: attention none and dot × train.steps 1000 and 2000,
// two seeds; the 1000-step runs log 5 evaluations, the others 9.
func pooledExperiment() fakeExperiment {
	x := fakeExperiment{name: "pooled"}
	for s := range 2 {
		for _, name := range []string{"none", "dot"} {
			for _, steps := range []int{1000, 2000} {
				x.runs = append(x.runs, fakeRun{params: map[string]any{"model.attention.name": name, "train.steps": steps}, seed: int64(s + 1),
					sums:    map[string]float64{"test/loss": 1},
					history: map[string][]float64{"valid/loss": curve(3, 1, steps/250+1, float64(s))}})
			}
		}
	}
	return x
}

// TestCurvesLegend: the legend counts the runs that end early, and names
// the pooled keys; the data drawn solid stop where the first run stops.
func TestCurvesLegend(t *testing.T) {
	st, _ := buildStore(t, earlyExperiment(), pooledExperiment(), scanExperiment())
	ctx := context.Background()
	labels := func(cv *curves) []string {
		var out []string
		for _, i := range cv.drawn {
			out = append(out, cv.labels[i])
		}
		return out
	}

	cv, err := buildCurves(ctx, st, Query{Experiments: []string{"early"}}, "valid/loss")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"attention.name=dot · 3 runs", "attention.name=additive · 4 runs (2 end early)"}
	if got := labels(cv); !slices.Equal(got, want) {
		t.Errorf("legend %q, want %q", got, want)
	}
	if !cv.partial {
		t.Error("partial is false: the legend would not explain the dashed line")
	}
	dot, add := cv.bands[cv.drawn[0]], cv.bands[cv.drawn[1]]
	if sp := dot.spans(); len(sp) != 1 || !sp[0].full {
		t.Errorf("dot spans %v, want one full span", sp)
	}
	// Additive's second run logs steps 0, 250, 500: solid to 500.
	if sp := add.spans(); len(sp) != 2 || !sp[0].full || add.x[sp[0].to] != 500 || sp[1].full || add.x[sp[1].to] != 1750 {
		t.Errorf("additive spans %v over steps %v, want solid to 500, dashed to 1750", sp, add.x)
	}

	// Pooled run lengths: every row has runs that end at step 1000.
	q := Query{Experiments: []string{"pooled"}, By: []string{"attention.name"}, Pool: []string{"train.steps"}}
	cv, err = buildCurves(ctx, st, q, "valid/loss")
	if err != nil {
		t.Fatal(err)
	}
	want = []string{
		"attention.name=none · train.steps=1000, 2000 (pooled) · 4 runs (2 end early)",
		"attention.name=dot · train.steps=1000, 2000 (pooled) · 4 runs (2 end early)",
	}
	if got := labels(cv); !slices.Equal(got, want) {
		t.Errorf("pooled legend %q, want %q", got, want)
	}
	for _, i := range cv.drawn {
		b := cv.bands[i]
		if sp := b.spans(); b.x[sp[0].to] != 1000 || !sp[0].full {
			t.Errorf("pooled row %d: spans %v over %v, want solid to step 1000", i, sp, b.x)
		}
	}

	// The fixture's additive seed 2 diverges at step 1500.
	cv, err = buildCurves(ctx, st, Query{Experiments: []string{"scan-attn"}, By: []string{"attention.name"}}, "valid/loss")
	if err != nil {
		t.Fatal(err)
	}
	if got := labels(cv); !strings.HasSuffix(got[2], "additive · 3 runs (1 diverged)") || strings.Contains(got[0]+got[1], "(") {
		t.Errorf("scan-attn legend %q, want only additive with (1 diverged)", got)
	}

	// And it draws.
	if _, err := PlotCurves(ctx, st, q, "valid/loss", file(filepath.Join(t.TempDir(), "pooled.png"))); err != nil {
		t.Fatal(err)
	}
}
