package runs

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/metrics"
	"github.com/attnlab/attnlab/tensor"
)

// cancelBeforeEval cancels its context at the last training step's log,
// which comes just before that step's evaluation.
type cancelBeforeEval struct {
	*memRecorder
	last   int
	cancel context.CancelFunc
}

func (c cancelBeforeEval) Progress(p Progress) {
	if p.Step == c.last && p.Eval == nil {
		c.cancel()
	}
}

// TestInterruptDuringEvaluation: cancelling during an evaluation stops the
// run with ctx's error (without finishing the evaluation or starting the
// test evaluation), and resuming from its last checkpoint ends exactly as
// an uninterrupted run.
func TestInterruptDuringEvaluation(t *testing.T) {
	t.Parallel()
	cfg := loadConfig(t, "testdata/sweep4.yaml", "train.steps=40", "train.eval_every=20", "eval.valid_exact_match=true")
	ref := newMemRecorder()
	want, err := Train(context.Background(), cfg, ref, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rec := cancelBeforeEval{memRecorder: newMemRecorder(), last: 40, cancel: cancel}
	if _, err := Train(ctx, cfg, rec, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Train cancelled before its last evaluation: %v, want context.Canceled", err)
	}
	if _, ok := rec.metrics["valid/loss"][40]; ok {
		t.Errorf("the interrupted evaluation recorded valid/loss at step 40")
	}
	if len(rec.artifacts) > 0 {
		t.Errorf("the interrupted run stored artifacts %v: the test evaluation ran", rec.artifacts)
	}
	if rec.checkpoints[20] == nil || rec.checkpoints[40] != nil {
		t.Fatalf("checkpoints at %v, want one at step 20 and none at 40", keys(rec.checkpoints))
	}
	again := newMemRecorder()
	got, err := Train(context.Background(), cfg, again, Options{Resume: rec.checkpoints[20]})
	if err != nil {
		t.Fatal(err)
	}
	if d := sameFloats(withoutPerf(got.Summaries), withoutPerf(want.Summaries)); d != "" {
		t.Errorf("resumed run differs from the uninterrupted one at %q", d)
	}
}

func keys(m map[int][]byte) []int {
	var out []int
	for k := range m {
		out = append(out, k)
	}
	return out
}

func withoutPerf(m map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		if !strings.HasPrefix(k, "perf/") {
			out[k] = v
		}
	}
	return out
}

// TestLoadAfterResumeFromAnOlderCheckpoint: a run resumed from a
// checkpoint written before the load was recorded (no Sharing) averages
// perf/concurrent_runs over the steps it counted, not over every step (it
// read 0.86 runs training at once, fewer than the run itself).
func TestLoadAfterResumeFromAnOlderCheckpoint(t *testing.T) {
	t.Parallel()
	cfg := loadConfig(t, "testdata/sweep4.yaml", "train.steps=40", "train.eval_every=20")
	rec := newMemRecorder()
	if _, err := Train(context.Background(), cfg, rec, Options{}); err != nil {
		t.Fatal(err)
	}
	ckpt := rewriteState(t, rec.checkpoints[20], func(s *savedState) {
		s.Train.Sharing, s.Train.SharingSteps = 0, 0 // as an older version wrote it
	})
	res, err := Train(context.Background(), cfg, newMemRecorder(), Options{Resume: ckpt})
	if err != nil {
		t.Fatal(err)
	}
	if v := res.Summaries["perf/concurrent_runs"]; !(v >= 1) {
		t.Errorf("perf/concurrent_runs %v after the resume, want at least 1 (the run itself)", v)
	}
}

// rewriteState returns the checkpoint with its training state changed by
// edit, as another version or another machine would have written it.
func rewriteState(t *testing.T, ckpt []byte, edit func(*savedState)) []byte {
	t.Helper()
	ts, meta, err := layers.ReadTensors(bytes.NewReader(ckpt))
	if err != nil {
		t.Fatal(err)
	}
	saved, err := decodeState(meta)
	if err != nil {
		t.Fatal(err)
	}
	edit(&saved)
	if meta[metaState], err = encodeState(saved); err != nil {
		t.Fatal(err)
	}
	var names []string
	var list []*tensor.Tensor
	for _, name := range slices.Sorted(maps.Keys(ts)) {
		names, list = append(names, name), append(list, ts[name])
	}
	var buf bytes.Buffer
	if err := layers.WriteTensors(&buf, names, list, meta); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestKernelSteps: perf/steps_KIND counts the training steps each kind of
// tensor kernels computed: every step of a run trained on one machine;
// the steps of each kind for a run resumed on a CPU of another kind (its
// checkpoint rewritten as that kind writes it); only the steps after it
// for a run resumed from a checkpoint of a version that did not record
// them.
func TestKernelSteps(t *testing.T) {
	t.Parallel()
	cfg := loadConfig(t, "testdata/sweep4.yaml", "train.steps=40", "train.eval_every=20")
	here, other := tensor.Kernels(), "avx2"
	if here == other {
		other = "avx512"
	}
	rec := newMemRecorder()
	res, err := Train(context.Background(), cfg, rec, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := stepSummaries(res.Summaries), map[string]float64{"perf/steps_" + here: 40}; !maps.Equal(got, want) {
		t.Errorf("one machine: %v, want %v", got, want)
	}
	for _, tc := range []struct {
		name  string
		spans []kernelSpan
		want  map[string]float64
	}{
		{"resumed on another kind", []kernelSpan{{Name: other, From: 0}}, map[string]float64{"perf/steps_" + other: 20, "perf/steps_" + here: 20}},
		{"resumed from an older checkpoint", nil, map[string]float64{"perf/steps_" + here: 20}},
	} {
		ckpt := rewriteState(t, rec.checkpoints[20], func(s *savedState) { s.Train.Kernels = tc.spans })
		res, err := Train(context.Background(), cfg, newMemRecorder(), Options{Resume: ckpt})
		if err != nil {
			t.Fatal(err)
		}
		if got := stepSummaries(res.Summaries); !maps.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
		for _, k := range slices.Collect(maps.Keys(tc.want)) {
			if !metrics.Describe(k).Known {
				t.Errorf("%s is not in the metric table (metrics/descriptor.go)", k)
			}
		}
	}
}

// stepSummaries keeps the perf/steps_* summaries.
func stepSummaries(m map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		if strings.HasPrefix(k, "perf/steps_") {
			out[k] = v
		}
	}
	return out
}
