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
	ts, meta, err := layers.ReadTensors(bytes.NewReader(rec.checkpoints[20]))
	if err != nil {
		t.Fatal(err)
	}
	saved, err := decodeState(meta)
	if err != nil {
		t.Fatal(err)
	}
	saved.Train.Sharing, saved.Train.SharingSteps = 0, 0 // as an older version wrote it
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
	res, err := Train(context.Background(), cfg, newMemRecorder(), Options{Resume: buf.Bytes()})
	if err != nil {
		t.Fatal(err)
	}
	if v := res.Summaries["perf/concurrent_runs"]; !(v >= 1) {
		t.Errorf("perf/concurrent_runs %v after the resume, want at least 1 (the run itself)", v)
	}
}
