package runs

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"unicode/utf8"

	"github.com/attnlab/attnlab/artifact"
	"github.com/attnlab/attnlab/metrics"
)

// charRatio is the metric of TestTextMetricIsOneFile: characters output
// over characters in the references.
func charRatio(outs, refs []string) float64 {
	var o, r int
	for i := range outs {
		o += utf8.RuneCountInString(outs[i])
		r += utf8.RuneCountInString(refs[i])
	}
	return float64(o) / float64(r)
}

// TestTextMetricIsOneFile: a metric registered as a metrics.TextMetric —
// what a new metric's own file does in its init — is computed on every
// sequence-to-sequence run's decoded test split and recorded as test/NAME,
// on the outputs and references the samples show, and described. The
// registration is global and undone at the end; the test does not run in
// parallel, so the package's parallel tests never see it (their child
// processes, which do not register it, must record what they do).
func TestTextMetricIsOneFile(t *testing.T) {
	metrics.RegisterTextMetric(metrics.TextMetric{Name: "char_ratio_test", Doc: "output characters over reference characters",
		Direction: metrics.NoDirection, Scale: metrics.Scale{Min: 0, Max: math.Inf(1)}, Score: charRatio})
	t.Cleanup(func() { metrics.UnregisterTextMetric("char_ratio_test") })
	cfg := loadConfig(t, "testdata/reverse_small.yaml", "train.steps=20", "train.eval_every=10",
		"task.train_size=64", "task.valid_size=8", "task.test_size=16", "eval.samples=16")
	rec := newMemRecorder()
	res, err := Train(context.Background(), cfg, rec, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, ok := res.Summaries["test/char_ratio_test"]
	if !ok {
		t.Fatalf("no test/char_ratio_test among the summaries %v", res.Summaries)
	}
	var samples []artifact.Sample
	if err := json.Unmarshal(rec.artifacts[artifact.KindSamples+"/"+artifact.NameSamples], &samples); err != nil {
		t.Fatal(err)
	}
	if len(samples) != 16 {
		t.Fatalf("%d samples, want the 16 test examples", len(samples))
	}
	var outs, refs []string
	for _, s := range samples {
		outs = append(outs, s.Output)
		refs = append(refs, s.Reference)
	}
	if want := charRatio(outs, refs); got != want || math.IsNaN(got) {
		t.Errorf("test/char_ratio_test = %v, want %v from the decoded samples", got, want)
	}
	if d := metrics.Describe("test/char_ratio_test"); !d.Known || d.Doc != "output characters over reference characters" {
		t.Errorf("Describe(test/char_ratio_test) = %+v", d)
	}
}

// TestInfiniteTextMetricLeavesRunDone: a registered text metric that is
// legitimately +Inf (its Scale.Max is +Inf: a ratio over references with
// no characters) is recorded, and the run is done; only a loss or a
// perplexity that is ±Inf fails a run (TestNotFinite,
// TestExecuteFailsOverflowedPerplexity). Not parallel: the registration
// is global.
func TestInfiniteTextMetricLeavesRunDone(t *testing.T) {
	metrics.RegisterTextMetric(metrics.TextMetric{Name: "inf_ratio_test", Doc: "output characters over no characters",
		Direction: metrics.NoDirection, Scale: metrics.Scale{Min: 0, Max: math.Inf(1)},
		Score: func(outs, refs []string) float64 { return math.Inf(1) }})
	t.Cleanup(func() { metrics.UnregisterTextMetric("inf_ratio_test") })
	cfg := loadConfig(t, "testdata/reverse_small.yaml", "train.steps=4", "train.eval_every=2",
		"task.train_size=32", "task.valid_size=4", "task.test_size=4")
	res, err := Train(context.Background(), cfg, newMemRecorder(), Options{})
	if err != nil {
		t.Fatalf("Train = %v, want a done run", err)
	}
	if got := res.Summaries["test/inf_ratio_test"]; !math.IsInf(got, 1) {
		t.Errorf("test/inf_ratio_test = %v, want +Inf", got)
	}
}
