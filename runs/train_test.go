package runs

import (
	"context"
	"testing"
	"time"

	"github.com/attnlab/attnlab/attention"
)

func TestReverseLearnsWithAttention(t *testing.T) {
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
	// "hello world. " repeated: from the third character of a window on,
	// every character is determined, so the loss can get close to zero.
	for _, file := range []string{"lm_text.yaml", "lm_rnn.yaml"} {
		t.Run(file, func(t *testing.T) {
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
			if rec.artifacts[KindSamples+"/"+NameSamples] == nil {
				t.Fatal("no generated samples stored")
			}
		})
	}
}

// TestEveryAttentionLearns trains a tiny reverse model with each registered
// variant and checks that the training loss falls.
func TestEveryAttentionLearns(t *testing.T) {
	for _, name := range attention.Registry.Names() {
		t.Run(name, func(t *testing.T) {
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
