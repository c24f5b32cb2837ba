package runs

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/artifact"
	"github.com/attnlab/attnlab/models"
	"github.com/attnlab/attnlab/seq"
)

// contextFault is a trained model whose logits go bad on batches of
// exactly inLen input positions — the windows of one eval.context length
// and no other — as a model whose activations overflow only past its
// training length does: the test loss is finite, test/loss@N is not.
type contextFault struct {
	models.Model
	inLen  int
	poison func(logits []float32, v int)
}

func (m contextFault) Forward(b *seq.Batch, opt models.ForwardOptions) models.Output {
	out := m.Model.Forward(b, opt)
	if b.T == m.inLen {
		m.poison(out.Logits.Data, out.Logits.Dim(-1))
	}
	return out
}

// MaxDecodeLen passes on the Transformer's decoding limit, which embedding
// the interface would hide from models.Decode.
func (m contextFault) MaxDecodeLen() int {
	if l, ok := m.Model.(interface{ MaxDecodeLen() int }); ok {
		return l.MaxDecodeLen()
	}
	return 0
}

// finishWithFault trains a small language model with eval.context [4,
// 32] and samples, then runs its test evaluation with the logits of the
// context-4 windows poisoned, and returns finish's error and the
// recorder.
func finishWithFault(t *testing.T, poison func(logits []float32, v int)) (*Result, error, *memRecorder) {
	t.Helper()
	cfg := loadConfig(t, "testdata/lm_text.yaml", "train.steps=2", "train.eval_every=0", "eval.samples=2",
		"model.positions=sinusoidal", "eval.context=[4, 32]")
	rec := newMemRecorder()
	r, err := build(cfg, rec, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.loop(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.model = contextFault{Model: r.model, inLen: 4, poison: poison}
	res, err := r.finish()
	return res, err, rec
}

// TestContextLossFaultFailsRun: a language model's test/loss@N that is
// not a number (NaN: its logits at that context are NaN) or that
// overflowed (+Inf: finite logits too far apart for float32) while the
// test loss is finite fails the run with a FailedError naming the key,
// before the samples are stored — never a done run holding a NaN or
// +Inf test/loss@N, nor samples of a model that failed. (A NaN there is
// never a loss over nothing: every window has a target.)
func TestContextLossFaultFailsRun(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		poison func(logits []float32, v int)
		want   string
	}{
		{"NaN", func(l []float32, v int) {
			for i := range l {
				l[i] = float32(math.NaN())
			}
		}, "test/loss@4 is NaN (test/loss is "},
		// Every row puts the largest float32 on padding and its negation
		// on every token: a finite logit whose log-probability overflows.
		{"overflow", func(l []float32, v int) {
			for i := range l {
				l[i] = -math.MaxFloat32
				if i%v == seq.PadID {
					l[i] = math.MaxFloat32
				}
			}
		}, "test/loss@4 is +Inf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err, rec := finishWithFault(t, tc.poison)
			var fe *FailedError
			if !errors.As(err, &fe) {
				t.Fatalf("finish = %v, %v; want a *FailedError", res, err)
			}
			if !strings.HasPrefix(fe.Reason, tc.want) {
				t.Fatalf("finish failed with %q, want %q…", fe.Reason, tc.want)
			}
			for k := range rec.artifacts {
				if strings.HasPrefix(k, artifact.KindSamples+"/") {
					t.Fatalf("a run whose test/loss@4 failed stored %s", k)
				}
			}
		})
	}
}

// TestContextLossFaultControl: the same model unpoisoned is done, with
// finite context losses and samples — the faults above, not the setup,
// fail those runs.
func TestContextLossFaultControl(t *testing.T) {
	t.Parallel()
	res, err, rec := finishWithFault(t, func([]float32, int) {})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"test/loss", "test/loss@4", "test/loss@32"} {
		if v, ok := res.Summaries[k]; !ok || math.IsNaN(v) || math.IsInf(v, 0) {
			t.Errorf("%s = %v (recorded %v), want a finite loss", k, v, ok)
		}
	}
	if _, ok := rec.artifacts[artifact.KindSamples+"/"+artifact.NameSamples]; !ok {
		t.Errorf("no samples stored: the faulty runs' missing samples would prove nothing")
	}
}
