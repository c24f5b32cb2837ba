package runs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/layers"
)

// TestMemoryEstimateCountsTheModel: experiments.EstimateMemory counts the
// parameters of each example's models, from the configuration alone,
// within a factor of two of the models runs builds (the estimate is what
// plan refuses a run by, --max-memory).
func TestMemoryEstimateCountsTheModel(t *testing.T) {
	if raceBuild {
		t.Skip(raceSkipSerial)
	}
	files, err := filepath.Glob("../examples/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, f := range files {
		x, err := experiments.Load(f, nil)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := x.Plan()
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, run := range plan {
			if seen[run.Label] {
				continue
			}
			seen[run.Label] = true
			r, err := build(run.Config, newMemRecorder(), Options{})
			if err != nil {
				t.Fatalf("%s %s: %v", f, run.Label, err)
			}
			real := layers.CountParams(r.params)
			est := experiments.EstimateMemory(run.Config).Params
			ratio := float64(est) / float64(real)
			t.Logf("%s %s: %d parameters, estimated %d (×%.2f)", filepath.Base(f), run.Label, real, est, ratio)
			if ratio < 0.5 || ratio > 2 {
				t.Errorf("%s %s: estimated %d parameters, the model has %d", f, run.Label, est, real)
			}
		}
	}
}

// TestMemoryEstimateBoundsAStep: the memory experiments.EstimateMemory
// gives a run's training (MemoryEstimate.Train) is at least the tensor
// memory one training step holds at its peak (tensor.GraphBytes after the backward
// pass: activations, their gradients, parameters and theirs) and at most
// four times it, over RNN, Transformer and language-model shapes and each
// long-input attention: an estimate that errs high, by a bounded factor.
// (A step's batch holds the longest sequences: every length is the same.)
func TestMemoryEstimateBoundsAStep(t *testing.T) {
	if raceBuild {
		t.Skip(raceSkipSerial)
	}
	tales, err := filepath.Abs("../examples/data/tales.txt")
	if err != nil {
		t.Fatal(err)
	}
	cases := []string{
		"task: {name: copy, symbols: 16, min_len: 40, max_len: 40, train_size: 64}\nmodel: {name: seq2seq-rnn, embed: 32, hidden: 64, encoder: {name: gru, hidden: 64}, attention: {name: additive}}\ntrain: {batch_size: 32}",
		"task: {name: copy, symbols: 16, min_len: 40, max_len: 40, train_size: 64}\nmodel: {name: seq2seq-rnn, embed: 64, encoder: {name: lstm, hidden: 64, bidirectional: true, layers: 2}, attention: {name: multi-head, heads: 4}}\ntrain: {batch_size: 32}",
		"task: {name: copy, symbols: 16, min_len: 25, max_len: 25, train_size: 64}\nmodel: {name: seq2seq-transformer, d_model: 64, ff: 128, encoder_layers: 2, decoder_layers: 2}\ntrain: {batch_size: 32}",
		"task: {name: copy, symbols: 16, min_len: 400, max_len: 400, train_size: 16}\nmodel: {name: seq2seq-transformer, d_model: 64, ff: 128, encoder_layers: 2, decoder_layers: 2}\ntrain: {batch_size: 8}",
		"task: {name: text, path: " + tales + ", context: 64}\nmodel: {name: lm-transformer, d_model: 128, ff: 512, decoder_layers: 4, dropout: 0.1}\ntrain: {batch_size: 12}",
		"task: {name: text, path: " + tales + ", context: 200}\nmodel: {name: lm-transformer, d_model: 128, ff: 512, decoder_layers: 2}\ntrain: {batch_size: 8}",
		"task: {name: text, path: " + tales + ", context: 1024}\nmodel: {name: lm-transformer, d_model: 128, ff: 512, decoder_layers: 2}\ntrain: {batch_size: 4}",
		"task: {name: text, path: " + tales + ", context: 1024}\nmodel: {name: lm-transformer, d_model: 128, ff: 512, decoder_layers: 2, attention: {name: linear}}\ntrain: {batch_size: 4}",
		"task: {name: text, path: " + tales + ", context: 1024}\nmodel: {name: lm-transformer, d_model: 128, ff: 512, decoder_layers: 2, attention: {name: chunked}}\ntrain: {batch_size: 4}",
		"task: {name: text, path: " + tales + ", context: 1024}\nmodel: {name: lm-transformer, d_model: 128, ff: 512, decoder_layers: 2, attention: {name: performer, features: 64}}\ntrain: {batch_size: 4}",
		"task: {name: text, path: " + tales + ", context: 256}\nmodel: {name: lm-rnn, embed: 64, encoder: {name: lstm, hidden: 256, layers: 2}}\ntrain: {batch_size: 16}",
		// Sizes that are not powers of two; a recurrent decoder's attention
		// over long sources, one call per step (attention.MemoryShape.Steps).
		"task: {name: copy, symbols: 10, min_len: 261, max_len: 261, train_size: 16}\nmodel: {name: seq2seq-transformer, d_model: 64, ff: 64, encoder_layers: 1, decoder_layers: 1, attention: {name: multi-head, heads: 4}}\ntrain: {batch_size: 8}",
		"task: {name: copy, symbols: 16, min_len: 400, max_len: 400, train_size: 16}\nmodel: {name: seq2seq-rnn, embed: 32, encoder: {name: gru, hidden: 64}, attention: {name: multi-head, heads: 16}}\ntrain: {batch_size: 2}",
		"task: {name: reverse, symbols: 10, min_len: 400, max_len: 400, train_size: 16}\nmodel: {name: seq2seq-rnn, embed: 32, encoder: {name: lstm, hidden: 32, bidirectional: true}, attention: {name: linear}}\ntrain: {batch_size: 2}",
		"task: {name: reverse, symbols: 10, min_len: 400, max_len: 400, train_size: 16}\nmodel: {name: seq2seq-rnn, embed: 32, encoder: {name: lstm, hidden: 32, bidirectional: true}, attention: {name: multi-head, heads: 4, head: {name: linear}}}\ntrain: {batch_size: 2}",
		"task: {name: copy, symbols: 16, min_len: 300, max_len: 300, train_size: 16}\nmodel: {name: seq2seq-rnn, embed: 32, encoder: {name: gru, hidden: 64}, attention: {name: performer, features: 64}}\ntrain: {batch_size: 2}",
	}
	dir := t.TempDir()
	for i, c := range cases {
		path := filepath.Join(dir, fmt.Sprintf("c%d.yaml", i))
		if err := os.WriteFile(path, []byte("name: c\n"+c+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg := loadConfig(t, path)
		r, err := build(cfg, newMemRecorder(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := r.batcher.Next()
		if _, err := r.stepper.Step(&b, 1); err != nil {
			t.Fatal(err)
		}
		est := experiments.EstimateMemory(cfg)
		model, step := est.Train, r.stepper.LastBytes
		t.Logf("%s: estimated %s, a step of %d sequences of %d tokens holds %s (×%.2f)", c[:strings.Index(c, "\n")], est, b.Size, max(b.S, b.T),
			experiments.FormatBytes(step), float64(model)/float64(step))
		if model < step || model > 4*step {
			t.Errorf("case %d: training estimated at %s, a training step holds %s: want between 1 and 4 times it", i,
				experiments.FormatBytes(model), experiments.FormatBytes(step))
		}
	}
}
