package runs

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/attnlab/attnlab/artifact"
	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/metrics"
	"github.com/attnlab/attnlab/tasks"
)

func TestReverseLearnsWithAttention(t *testing.T) {
	t.Parallel()
	cfg := loadConfig(t, "testdata/reverse_small.yaml")
	rec := newMemRecorder()
	start := time.Now()
	res, err := Train(context.Background(), cfg, rec, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%v, summaries %v", time.Since(start), res.Summaries)
	if em := res.Summaries["test/exact_match"]; em < 0.99 {
		t.Fatalf("test/exact_match = %v, want ≥ 0.99", em)
	}
}

func TestTransformerSolvesCopy(t *testing.T) {
	t.Parallel()
	cfg := loadConfig(t, "testdata/copy_transformer.yaml")
	start := time.Now()
	res, err := Train(context.Background(), cfg, newMemRecorder(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%v: exact match %v, test loss %v", time.Since(start), res.Summaries["test/exact_match"], res.Summaries["test/loss"])
	if em := res.Summaries["test/exact_match"]; em < 0.99 {
		t.Fatalf("test/exact_match = %v, want ≥ 0.99", em)
	}
}

func TestLMLearnsRepeatedText(t *testing.T) {
	t.Parallel()
	// "hello world. " repeated: from the third character of a window on,
	// every character is determined, so the loss can get close to zero.
	for _, file := range []string{"lm_text.yaml", "lm_rnn.yaml"} {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			cfg := loadConfig(t, "testdata/"+file)
			rec := newMemRecorder()
			res, err := Train(context.Background(), cfg, rec, Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("test loss %v", res.Summaries["test/loss"])
			if l := res.Summaries["test/loss"]; l > 0.1 {
				t.Fatalf("test/loss = %v, want near zero (< 0.1)", l)
			}
			if rec.artifacts[artifact.KindSamples+"/"+artifact.NameSamples] == nil {
				t.Fatal("no generated samples stored")
			}
		})
	}
}

// TestEveryAttentionLearns trains a tiny reverse model with each registered
// variant and checks that the training loss falls.
func TestEveryAttentionLearns(t *testing.T) {
	t.Parallel()
	for _, name := range attention.Registry.Names() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := loadConfig(t, "testdata/reverse_small.yaml", "model.attention={name: "+name+"}", "train.steps=80",
				"train.eval_every=0", "train.log_every=10", "eval.valid_exact_match=false", "task.test_size=20")
			rec := newMemRecorder()
			if _, err := Train(context.Background(), cfg, rec, Options{}); err != nil {
				t.Fatal(err)
			}
			first, last := rec.metrics["train/loss"][10], rec.metrics["train/loss"][80]
			if !(last < 0.8*first) {
				t.Fatalf("train/loss went from %v to %v", first, last)
			}
		})
	}
}

// TestReproducible: the same config and seed give the same metrics, bit
// for bit; another seed gives others.
func TestReproducible(t *testing.T) {
	t.Parallel()
	cfg := loadConfig(t, "testdata/sweep4.yaml", "seeds=[1]", "sweep={}", "train.steps=40", "model.dropout=0.2", "train.teacher_forcing=0.8")
	var results []map[string]float64
	for i := 0; i < 2; i++ {
		rec := newMemRecorder()
		res, err := Train(context.Background(), cfg, rec, Options{})
		if err != nil {
			t.Fatal(err)
		}
		q := map[string]float64{}
		for k, v := range res.Summaries {
			if !strings.HasPrefix(k, "perf/") {
				q[k] = v
			}
		}
		results = append(results, q)
	}
	if d := sameFloats(results[0], results[1]); d != "" {
		t.Fatalf("two runs of one config differ at %s: %v vs %v", d, results[0][d], results[1][d])
	}
	cfg.Seed = 2
	res, err := Train(context.Background(), cfg, newMemRecorder(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Summaries["test/loss"] == results[0]["test/loss"] {
		t.Fatal("another seed gave the same test loss")
	}
}

// TestContextLosses: eval.context measures the test loss of a language
// model at each context length over the same test tokens: at the training
// context it is test/loss itself, and every position scheme that
// extrapolates takes contexts beyond the training one.
func TestContextLosses(t *testing.T) {
	t.Parallel()
	for _, pos := range []string{"sinusoidal", "rope", "alibi", "t5", "none"} {
		t.Run(pos, func(t *testing.T) {
			t.Parallel()
			cfg := loadConfig(t, "testdata/lm_text.yaml", "train.steps=30", "train.eval_every=0", "eval.samples=0",
				"model.positions="+pos, "eval.context=[4, 32, 96]")
			res, err := Train(context.Background(), cfg, newMemRecorder(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			s := res.Summaries
			if got, want := s["test/loss@32"], s["test/loss"]; got != want {
				t.Errorf("test/loss@32 = %v, test/loss (context 32) = %v: the same windows must give the same loss", got, want)
			}
			for _, n := range []int{4, 96} {
				if l, ok := s[metrics.AtContext("test/loss", n)]; !ok || !(l > 0) || math.IsInf(l, 0) {
					t.Errorf("test/loss@%d = %v (recorded %v), want a finite positive loss", n, l, ok)
				}
			}
		})
	}
}

// TestContextLossesBeyondTheTestSplit: a context longer than the test
// stream can give (which plan refuses, but a run queued before it did may
// ask for) is measured at the longest the stream gives and recorded under
// that context, never under the one asked for; a run without test tokens
// records none.
func TestContextLossesBeyondTheTestSplit(t *testing.T) {
	t.Parallel()
	train := func(sets ...string) map[string]float64 {
		t.Helper()
		cfg := loadConfig(t, "testdata/lm_text.yaml", append([]string{"train.steps=10", "train.eval_every=0", "eval.samples=0",
			"model.positions=alibi"}, sets...)...)
		cfg.Eval.Context = []int{32, 1000, 5000} // past plan's check
		res, err := Train(context.Background(), cfg, newMemRecorder(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		return res.Summaries
	}
	contexts := func(s map[string]float64) []string {
		var keys []string
		for k := range s {
			if strings.HasPrefix(k, "test/loss@") {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		return keys
	}
	// repeated.txt's last 10 %: 195 tokens, at most 194 of context.
	s := train()
	if got, want := contexts(s), []string{"test/loss@194", "test/loss@32"}; !slices.Equal(got, want) {
		t.Fatalf("recorded %v, want %v", got, want)
	}
	if l := s["test/loss@194"]; !(l > 0) || math.IsInf(l, 0) {
		t.Fatalf("test/loss@194 = %v, want a finite positive loss", l)
	}
	if got := contexts(train("task.test_fraction=0")); len(got) != 0 {
		t.Fatalf("without test tokens recorded %v, want none", got)
	}
}

// trainEarlyStopped trains a run whose early stopping (patience 2) ends it
// long before its 2,000 steps.
func trainEarlyStopped(t *testing.T) (*Result, *memRecorder) {
	t.Helper()
	cfg := loadConfig(t, "testdata/sweep4.yaml", "seeds=[1]", "sweep={}", "train.steps=2000", "train.eval_every=10",
		"train.early_stopping={metric: valid/exact_match, patience: 2}", "train.optimizer.lr=0.02")
	rec := newMemRecorder()
	res, err := Train(context.Background(), cfg, rec, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res, rec
}

// TestEarlyStopping: with a tiny patience training stops before the step
// budget, and the test metrics come from the best evaluation's parameters.
func TestEarlyStopping(t *testing.T) {
	t.Parallel()
	res, rec := trainEarlyStopped(t)
	if res.Stopped != "early stopping" || res.Steps >= 2000 {
		t.Fatalf("stopped by %q after %d steps, want early stopping", res.Stopped, res.Steps)
	}
	best := int(res.Summaries["best/step"])
	if best <= 0 || best > res.Steps-20 {
		t.Fatalf("best step %d, stopped at %d with patience 2 × 10 steps", best, res.Steps)
	}
	// The summaries' validation metrics are the best evaluation's.
	if got, want := res.Summaries["valid/exact_match"], rec.metrics["valid/exact_match"][best]; got != want {
		t.Fatalf("summary valid/exact_match %v, best evaluation had %v", got, want)
	}
	if got := res.Summaries["best/valid/exact_match"]; got != rec.metrics["valid/exact_match"][best] {
		t.Fatalf("best/valid/exact_match %v", got)
	}
}

// TestEarlyStoppedWeightsNameTheirStep: the final weights of an
// early-stopped run are the best evaluation's, and their safetensors
// metadata "step" says so (it said the last step, 20 or more steps after
// the weights it labelled).
func TestEarlyStoppedWeightsNameTheirStep(t *testing.T) {
	t.Parallel()
	res, rec := trainEarlyStopped(t)
	best := int(res.Summaries["best/step"])
	if best == res.Steps {
		t.Fatalf("the best evaluation is the last (step %d): the case no longer tests anything", best)
	}
	final, meta, err := layers.ReadTensors(bytes.NewReader(rec.artifacts[artifact.KindModel+"/"+artifact.NameParams]))
	if err != nil {
		t.Fatal(err)
	}
	ckpt, _, err := layers.ReadTensors(bytes.NewReader(rec.checkpoints[best]))
	if err != nil {
		t.Fatal(err)
	}
	for name, w := range final {
		if !slices.Equal(w.Data, ckpt["param."+name].Data) {
			t.Fatalf("final weight %s is not the best evaluation's (step %d)", name, best)
		}
	}
	if got, want := meta["step"], fmt.Sprint(best); got != want {
		t.Errorf("final weights' metadata step = %s, want %s (best/step: the step they were taken at; training stopped at %d)", got, want, res.Steps)
	}
}

// TestValidSummariesMatchTestWeights: without early stopping the test
// split is scored with the last weights, and valid/* in the summaries are
// the last evaluation's too (they were the best evaluation's, so valid/*
// and test/* described different models); best/valid/* keep the best.
func TestValidSummariesMatchTestWeights(t *testing.T) {
	t.Parallel()
	cfg := loadConfig(t, "testdata/sweep4.yaml", "seeds=[1]", "sweep={}", "train.steps=200", "train.eval_every=10",
		"train.early_stopping={metric: valid/exact_match}", "train.optimizer.lr=0.02")
	rec := newMemRecorder()
	res, err := Train(context.Background(), cfg, rec, Options{})
	if err != nil {
		t.Fatal(err)
	}
	best, last := int(res.Summaries["best/step"]), res.Steps
	if best == last || rec.metrics["valid/loss"][best] == rec.metrics["valid/loss"][last] {
		t.Fatalf("the best evaluation is the last (step %d of %d): the case no longer tests anything", best, last)
	}
	for _, k := range []string{"valid/exact_match", "valid/loss"} {
		if got, want := res.Summaries[k], rec.metrics[k][last]; got != want {
			t.Errorf("summary %s = %v, the last evaluation (step %d, the weights test/* are measured on) had %v", k, got, last, want)
		}
		if got, want := res.Summaries["best/"+k], rec.metrics[k][best]; got != want {
			t.Errorf("summary best/%s = %v, the best evaluation (step %d) had %v", k, got, best, want)
		}
	}
}

// TestMaxExamplesAppliesToEveryTestMetric: eval.max_examples limits the
// test examples of every test/* metric, the teacher-forced loss and
// accuracy as well as the decoded scores (the loss was over the whole
// split while exact match was over the first n, both labelled test/).
func TestMaxExamplesAppliesToEveryTestMetric(t *testing.T) {
	t.Parallel()
	sums := map[int]map[string]float64{}
	for _, n := range []int{0, 5} {
		cfg := loadConfig(t, "testdata/sweep4.yaml", "seeds=[1]", "sweep={}", "train.steps=40", "train.eval_every=20",
			fmt.Sprintf("eval.max_examples=%d", n))
		res, err := Train(context.Background(), cfg, newMemRecorder(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		sums[n] = res.Summaries
	}
	for _, k := range []string{"perf/concurrent_runs", "perf/threads"} {
		if v := sums[0][k]; !(v >= 1) {
			t.Errorf("%s = %v, want at least 1 (this run)", k, v)
		}
	}
	if sums[0]["valid/loss"] != sums[5]["valid/loss"] {
		t.Fatalf("valid/loss %v and %v: eval.max_examples changed the training", sums[0]["valid/loss"], sums[5]["valid/loss"])
	}
	if sums[0]["test/loss"] == sums[5]["test/loss"] {
		t.Errorf("test/loss %v with and without eval.max_examples 5: not measured on the 5 decoded examples", sums[0]["test/loss"])
	}
}

// TestEveryMetricIsDescribed checks that every key a run records, as history
// or summary, is one metrics.Describe knows, so that comparisons and early
// stopping know its direction and kind.
func TestEveryMetricIsDescribed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file string
		sets []string
	}{
		{"reverse_small.yaml", []string{"train.steps=20", "train.eval_every=10", "train.log_every=5",
			"train.early_stopping={metric: valid/exact_match, patience: 5}", "task.test_size=20", "task.valid_size=20"}},
		{"lm_rnn.yaml", []string{"train.steps=10", "train.eval_every=5", "train.log_every=5"}},
		{"lm_text.yaml", []string{"train.steps=10", "train.eval_every=5", "train.log_every=5", "model.positions=alibi", "eval.context=[8, 64]"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			rec := newMemRecorder()
			res, err := Train(context.Background(), loadConfig(t, "testdata/"+tc.file, tc.sets...), rec, Options{})
			if err != nil {
				t.Fatal(err)
			}
			keys := slices.Collect(maps.Keys(rec.metrics))
			keys = append(keys, slices.Collect(maps.Keys(res.Summaries))...)
			if !slices.Contains(keys, "best/valid/exact_match") && tc.file == "reverse_small.yaml" {
				t.Errorf("no best/valid/exact_match among %v", keys)
			}
			for _, k := range keys {
				if !metrics.Describe(k).Known {
					t.Errorf("metric %s is not described in metrics' table", k)
				}
			}
		})
	}
}

// TestLengthReferences: a run records what a length plot marks: the
// source lengths it was trained on (a language model: its context) and
// the majority-answer floor per length bucket, consistent with the
// overall floor.
func TestLengthReferences(t *testing.T) {
	t.Parallel()
	cfg := loadConfig(t, "testdata/reverse_small.yaml", "task={name: listops, min_len: 5, max_len: 30, test_max_len: 80, max_depth: 4, train_size: 300, valid_size: 20, test_size: 200}",
		"train.steps=2", "train.eval_every=0", "eval.length_buckets=[10, 20, 40]")
	res, err := Train(context.Background(), cfg, newMemRecorder(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Summaries
	data, err := tasks.Build(cfg.Task.Name, cfg.Task.Params, tasks.Options{Seed: uint64(cfg.Seed)})
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := math.Inf(1), 0.0
	for _, ex := range data.Train.All() {
		lo, hi = min(lo, float64(len(ex.Src))), max(hi, float64(len(ex.Src)))
	}
	if s["train/src_len_min"] != lo || s["train/src_len_max"] != hi {
		t.Errorf("train/src_len_min, max = %v, %v; the training sources' lengths are %v to %v", s["train/src_len_min"], s["train/src_len_max"], lo, hi)
	}
	// The training examples per bucket (plot length shades those with any),
	// every bucket present, summing to the training split.
	wantTrain := map[string]float64{"1_10": 0, "11_20": 0, "21_40": 0, "41_inf": 0}
	for _, ex := range data.Train.All() {
		wantTrain[strings.TrimPrefix(metrics.LengthBucket(len(ex.Src), []int{10, 20, 40}), "len_")]++
	}
	for b, n := range wantTrain {
		if got, ok := s["train/examples/len_"+b]; !ok || got != n {
			t.Errorf("train/examples/len_%s = %v (%v), want %v", b, got, ok, n)
		}
	}
	var hits, n float64
	buckets := 0
	for k, ex := range s {
		bucket, ok := strings.CutPrefix(k, "test/examples/len_")
		if !ok {
			continue
		}
		floor, ok := s["test/majority_exact_match/len_"+bucket]
		if !ok {
			t.Errorf("no test/majority_exact_match/len_%s beside %s", bucket, k)
		}
		hits, n, buckets = hits+floor*ex, n+ex, buckets+1
	}
	if buckets != 4 || n != s["test/examples"] {
		t.Fatalf("%d buckets holding %v examples, want 4 holding test/examples %v", buckets, n, s["test/examples"])
	}
	if all := s["test/majority_exact_match"]; !(all > 0) || math.Abs(hits/n-all) > 1e-9 {
		t.Errorf("test/majority_exact_match = %v, the buckets' floors average to %v: want them equal and above 0", all, hits/n)
	}

	lm := loadConfig(t, "testdata/lm_text.yaml", "train.steps=2", "train.eval_every=0", "eval.samples=0")
	res, err = Train(context.Background(), lm, newMemRecorder(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Summaries["train/context"]; got != 32 {
		t.Errorf("train/context = %v, want task.context 32", got)
	}
	if _, ok := res.Summaries["train/src_len_max"]; ok {
		t.Error("a language model recorded train/src_len_max")
	}
}

// TestSourcesInTrain: test/src_in_train is 0 for a drawn split, which
// never puts a source in two splits, and 1 when the task's test_path is
// its training file (no validation split drawn from it).
func TestSourcesInTrain(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var b strings.Builder
	for i := range 300 {
		s := fmt.Sprintf("%d %d", i%17, i)
		fmt.Fprintf(&b, "%s\t%s\n", s, strings.ToUpper(s))
	}
	path := filepath.Join(dir, "pairs.tsv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		task string
		want float64
	}{
		{fmt.Sprintf("task={name: pairs, path: %s}", path), 0},
		{fmt.Sprintf("task={name: pairs, path: %s, test_path: %s, valid_fraction: 0}", path, path), 1},
	} {
		// A new experiment whose test_path is its training file is
		// refused (a lint: experiments' TestHeldOutFileIsTrainingFile); a
		// run stored with it is loaded without lints, and records 1.
		x, err := experiments.LoadWith("testdata/reverse_small.yaml", []string{tc.task, "train.steps=1", "train.eval_every=0", "eval.samples=0"}, experiments.LoadOptions{NoLint: true})
		if err != nil {
			t.Fatal(err)
		}
		plan, err := x.Plan()
		if err != nil {
			t.Fatal(err)
		}
		res, err := Train(context.Background(), plan[0].Config, newMemRecorder(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := res.Summaries["test/src_in_train"]; !ok || got != tc.want {
			t.Errorf("%s: test/src_in_train = %v (recorded %v), want %v", tc.task, got, ok, tc.want)
		}
	}
}
