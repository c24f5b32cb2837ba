package runs

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/artifact"
	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/metrics"
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

// TestAttentionMetricsFromMaps: test/attn_entropy and test/align_acc, which
// decoding computes from summaries of each step's attention without keeping
// the weights, are what the stored attention maps give when every test
// example has one; the maps cover exactly the first eval.attention_maps
// examples, across evaluation batches (32 examples each here).
func TestAttentionMetricsFromMaps(t *testing.T) {
	t.Parallel()
	for _, maps := range []int{40, 3} {
		cfg := loadConfig(t, "testdata/reverse_small.yaml", "train.steps=40", "train.eval_every=40", "task.train_size=256",
			"task.valid_size=8", "task.test_size=40", "train.batch_size=16", fmt.Sprintf("eval.attention_maps=%d", maps))
		rec := newMemRecorder()
		res, err := Train(context.Background(), cfg, rec, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var got []artifact.AttentionMap
		if err := json.Unmarshal(rec.artifacts[artifact.KindAttention+"/"+artifact.NameAttention], &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != maps {
			t.Fatalf("attention_maps %d: %d maps stored", maps, len(got))
		}
		var entropy float64
		var rows, hits, aligned int
		for i, m := range got {
			if m.Index != i || len(m.Weights) != len(m.Output) {
				t.Fatalf("map %d: index %d, %d weight rows for %d outputs", i, m.Index, len(m.Weights), len(m.Output))
			}
			for _, w := range m.Weights {
				if len(w) != len(m.Source) {
					t.Fatalf("map %d: a row of %d weights over %d source tokens", i, len(w), len(m.Source))
				}
			}
			f := metrics.Foci(m.Weights)
			if e, n := metrics.MeanEntropy(f); n > 0 {
				entropy += e * float64(n)
				rows += n
			}
			h, n := metrics.AlignmentHits(f, metrics.IdealPositions("reverse", len(f), len(m.Source)))
			hits, aligned = hits+h, aligned+n
		}
		if maps < 40 {
			continue
		}
		sum := res.Summaries
		if want := entropy / float64(rows); math.Abs(sum["test/attn_entropy"]-want) > 1e-9 {
			t.Errorf("test/attn_entropy %v, from the maps %v", sum["test/attn_entropy"], want)
		}
		if want := metrics.Ratio(hits, aligned); sum["test/align_acc"] != want {
			t.Errorf("test/align_acc %v, from the maps %v (%d/%d)", sum["test/align_acc"], want, hits, aligned)
		}
	}
}
