package runs

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/tasks"
)

// TestEvalMetrics: an evaluation records exactly the metrics
// experiments.EvalMetrics lists (the metrics an early-stopping
// configuration may name, checked at validation), with and without
// valid_exact_match and for a language model.
func TestEvalMetrics(t *testing.T) {
	for _, tc := range []struct {
		file string
		sets []string
	}{
		{"testdata/reverse_small.yaml", []string{"train.steps=2", "train.eval_every=1", "task.train_size=64", "task.valid_size=8", "task.test_size=8"}},
		{"testdata/reverse_small.yaml", []string{"train.steps=2", "train.eval_every=1", "task.train_size=64", "task.valid_size=8", "task.test_size=8", "eval.valid_exact_match=false"}},
		{"testdata/lm_text.yaml", []string{"train.steps=2", "train.eval_every=1"}},
	} {
		cfg := loadConfig(t, tc.file, tc.sets...)
		rec := newMemRecorder()
		if _, err := Train(context.Background(), cfg, rec, Options{}); err != nil {
			t.Fatal(err)
		}
		var got []string
		for k, byStep := range rec.metrics {
			if _, ok := byStep[1]; ok && strings.HasPrefix(k, "valid/") {
				got = append(got, k)
			}
		}
		slices.Sort(got)
		task, err := tasks.Registry.Info(cfg.Task.Name)
		if err != nil {
			t.Fatal(err)
		}
		want := slices.Sorted(slices.Values(experiments.EvalMetrics(task.Has(tasks.LanguageModel), cfg.Eval)))
		if !slices.Equal(got, want) {
			t.Errorf("%s %v: an evaluation recorded %v, experiments.EvalMetrics says %v", tc.file, tc.sets, got, want)
		}
	}
}
