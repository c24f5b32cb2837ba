package runs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/attnlab/attnlab/artifact"
	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/models"
	"github.com/attnlab/attnlab/seq"
	"github.com/attnlab/attnlab/store"
	"github.com/attnlab/attnlab/tensor"
)

func loadExperiment(t testing.TB, path string, sets ...string) *experiments.Experiment {
	t.Helper()
	x, err := experiments.Load(path, sets)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func openStore(t testing.TB, path string) *store.Store {
	t.Helper()
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// quality returns a run's summaries without timing figures.
func quality(t testing.TB, st *store.Store, id int64) map[string]float64 {
	t.Helper()
	all, err := st.Summaries(context.Background(), []int64{id})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for k, v := range all[id] {
		if !strings.HasPrefix(k, "perf/") {
			out[k] = v
		}
	}
	return out
}

// history returns every non-timing metric of a run as key → step → value.
func history(t testing.TB, st *store.Store, id int64) map[string]map[int]float64 {
	t.Helper()
	ctx := context.Background()
	keys, err := st.MetricKeys(ctx, []int64{id})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[int]float64{}
	for _, k := range keys {
		if strings.HasPrefix(k, "perf/") {
			continue
		}
		h, err := st.MetricHistory(ctx, []int64{id}, k)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = map[int]float64{}
		for _, p := range h[id] {
			if _, dup := out[k][p.Step]; dup {
				t.Fatalf("run %d metric %s has step %d twice", id, k, p.Step)
			}
			out[k][p.Step] = p.Value
		}
	}
	return out
}

func sameFloats(a, b map[string]float64) string {
	if len(a) != len(b) {
		return "different keys"
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !(v == w || (math.IsNaN(v) && math.IsNaN(w))) {
			return k
		}
	}
	return ""
}

// cancelAt is a reporter that cancels the execution when any run reaches a
// step.
type cancelAt struct {
	step   int
	cancel context.CancelFunc
	seen   atomic.Int64
}

func (c *cancelAt) Start(int, int, int)         {}
func (c *cancelAt) Skip(store.Run, int, string) {}
func (c *cancelAt) Wait()                       {}
func (c *cancelAt) Begin(store.Run, int, int) RunReporter {
	return c
}
func (c *cancelAt) Update(p Progress) {
	if p.Step >= c.step {
		c.seen.Add(1)
		c.cancel()
	}
}
func (c *cancelAt) End(store.Status, error) {}

// TestExecuteInterruptAndResume interrupts a sweep and resumes it: every
// run's history and summaries must equal an uninterrupted execution's.
// Every run splits its batches in halves (Stepper); with dropout
// (sweep_transformer.yaml, sweep_rnn_dropout.yaml) the copy's dropout
// streams must come back from the checkpoint too, and so must those of the
// dropout between a recurrent encoder's layers.
func TestExecuteInterruptAndResume(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"sweep4.yaml", "sweep_transformer.yaml", "sweep_rnn_dropout.yaml"} {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			testInterruptAndResume(t, "testdata/"+file)
		})
	}
}

func testInterruptAndResume(t *testing.T, file string) {
	dir := t.TempDir()
	x := loadExperiment(t, file)
	ref := openStore(t, filepath.Join(dir, "ref.db"))
	rep, err := Execute(context.Background(), ref, x, ExecOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if n := rep.Count(store.StatusDone); n != len(rep.Outcomes) || n < 2 {
		t.Fatalf("uninterrupted: %d runs done of %d: %+v", n, len(rep.Outcomes), rep.Outcomes)
	}

	st := openStore(t, filepath.Join(dir, "resume.db"))
	ctx, cancel := context.WithCancel(context.Background())
	c := &cancelAt{step: 50, cancel: cancel}
	rep1, err := Execute(ctx, st, x, ExecOptions{Workers: 2, Reporter: c})
	if err == nil {
		t.Fatal("cancelled execution returned no error")
	}
	if rep1.Count(store.StatusInterrupted) == 0 {
		t.Fatalf("no run was interrupted: %+v", rep1.Outcomes)
	}
	res := &resumes{}
	rep2, err := Execute(context.Background(), st, x, ExecOptions{Workers: 2, Reporter: res})
	if err != nil {
		t.Fatal(err)
	}
	resumed := 0
	for _, f := range res.from {
		if f > 0 {
			resumed++
		}
	}
	if resumed == 0 {
		t.Fatalf("no run resumed from a checkpoint (steps %v)", res.from)
	}
	for i, o := range rep2.Outcomes {
		if o.Run.Status != store.StatusDone {
			t.Fatalf("run %d ended %s: %v", i, o.Run.Status, o.Err)
		}
		want := rep.Outcomes[i].Run.ID
		if d := sameFloats(quality(t, st, o.Run.ID), quality(t, ref, want)); d != "" {
			t.Errorf("run %d: resumed summaries differ from the uninterrupted run at %q:\n%v\n%v", i, d, quality(t, st, o.Run.ID), quality(t, ref, want))
		}
		// The times of the attempt before the checkpoint count: the loop
		// holds the steps, and the loop without its evaluations too.
		all, err := st.Summaries(context.Background(), []int64{o.Run.ID})
		if err != nil {
			t.Fatal(err)
		}
		perf := all[o.Run.ID]
		if perf["perf/loop_seconds"] < perf["perf/train_seconds"] || !(perf["perf/loop_tokens_per_s"] > 0) ||
			perf["perf/loop_tokens_per_s"] > perf["perf/tokens_per_s"] {
			t.Errorf("run %d: loop %.3fs (%.0f tokens/s without evaluations), steps %.3fs (%.0f tokens/s): the loop holds the steps",
				i, perf["perf/loop_seconds"], perf["perf/loop_tokens_per_s"], perf["perf/train_seconds"], perf["perf/tokens_per_s"])
		}
		got, wantH := history(t, st, o.Run.ID), history(t, ref, want)
		for k := range wantH {
			if d := sameFloats(toStr(got[k]), toStr(wantH[k])); d != "" {
				t.Errorf("run %d metric %s differs at step %s", i, k, d)
			}
		}
	}
	// A third execution has nothing left to do.
	rep3, err := Execute(context.Background(), st, x, ExecOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range rep3.Outcomes {
		if o.Note != "skipped: done" {
			t.Fatalf("third execution did not skip a done run: %+v", o)
		}
	}
}

// TestFreshStartDropsAnEarlierCheckpoint: a run put back in the queue
// (attnlab run --retry-failed) starts afresh and its history is emptied;
// the checkpoint of its earlier attempt must go too. It stayed until the
// fresh attempt's first checkpoint replaced it, so an attempt killed
// before that left it behind, the next claim resumed from it, and the
// done run's history had no rows up to that step.
func TestFreshStartDropsAnEarlierCheckpoint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := loadExperiment(t, "testdata/sweep4.yaml", "seeds=[1]", "sweep.grid.model.attention.name=[dot]",
		"train.steps=40", "train.eval_every=10")
	st := openStore(t, filepath.Join(t.TempDir(), "requeue.db"))
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rep, err := Execute(cctx, st, x, ExecOptions{Workers: 1, Reporter: &cancelAt{step: 25, cancel: cancel}})
	if err == nil || rep.Count(store.StatusInterrupted) != 1 {
		t.Fatalf("want the run interrupted: %v %+v", err, rep.Outcomes)
	}
	id := rep.Outcomes[0].Run.ID
	if _, err := st.Artifact(ctx, id, artifact.KindCheckpoint, artifact.NameCheckpoint); err != nil {
		t.Fatalf("the interrupted run has no checkpoint: %v", err)
	}
	if err := st.Requeue(ctx, id); err != nil {
		t.Fatal(err)
	}
	// What a process killed right after the fresh start would leave behind.
	seen := &checkpointAtBegin{st: st}
	if _, err := Execute(ctx, st, x, ExecOptions{Workers: 1, Reporter: seen}); err != nil {
		t.Fatal(err)
	}
	if seen.from != 0 {
		t.Fatalf("the requeued run resumed at step %d, want a fresh start", seen.from)
	}
	if seen.err == nil {
		t.Errorf("a fresh start left the earlier attempt's checkpoint in the store, for the next claim to resume from")
	} else if !errors.Is(seen.err, store.ErrNotFound) {
		t.Fatal(seen.err)
	}
}

// checkpointAtBegin looks up the run's checkpoint when the run begins.
type checkpointAtBegin struct {
	st   *store.Store
	from int
	err  error
}

func (c *checkpointAtBegin) Start(int, int, int)         {}
func (c *checkpointAtBegin) Skip(store.Run, int, string) {}
func (c *checkpointAtBegin) Wait()                       {}
func (c *checkpointAtBegin) Begin(r store.Run, from, _ int) RunReporter {
	c.from = from
	_, c.err = c.st.Artifact(context.Background(), r.ID, artifact.KindCheckpoint, artifact.NameCheckpoint)
	return nopRun{}
}

func toStr(m map[int]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		out[strconv.Itoa(k)] = v
	}
	return out
}

// resumes records the step each run resumed from.
type resumes struct {
	mu   sync.Mutex
	from []int
}

func (r *resumes) Start(int, int, int)         {}
func (r *resumes) Skip(store.Run, int, string) {}
func (r *resumes) Wait()                       {}
func (r *resumes) Begin(_ store.Run, from, _ int) RunReporter {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.from = append(r.from, from)
	return nopRun{}
}

type nopRun struct{}

func (nopRun) Update(Progress)         {}
func (nopRun) End(store.Status, error) {}

func TestExecuteRecordsFailures(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// A learning rate this large makes the loss overflow.
	x := loadExperiment(t, "testdata/sweep4.yaml", "train.optimizer.lr=1.0e+38", "train.clip=0", "seeds=[1]")
	st := openStore(t, filepath.Join(dir, "f.db"))
	rep, err := Execute(context.Background(), st, x, ExecOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range rep.Outcomes {
		if o.Run.Status != store.StatusFailed || !strings.Contains(o.Run.Error, "step ") {
			t.Fatalf("run ended %s with error %q, want failed at a step", o.Run.Status, o.Run.Error)
		}
	}
}

// TestExecuteFailsDivergedTest: weights that overflow at the last step,
// with no validation split to evaluate them before the test, fail the run
// on its test loss instead of storing a done run with NaN test metrics
// (which compare would then average with the others).
func TestExecuteFailsDivergedTest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	x := loadExperiment(t, "testdata/sweep4.yaml", "train.optimizer.lr=1.0e+38", "train.clip=0",
		"train.steps=1", "task.valid_size=0", "seeds=[1]", `sweep={}`)
	st := openStore(t, filepath.Join(dir, "d.db"))
	rep, err := Execute(context.Background(), st, x, ExecOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range rep.Outcomes {
		if o.Run.Status != store.StatusFailed || o.Run.Error != "step 1: test loss is NaN" {
			t.Fatalf("run ended %s with error %q, want failed with %q", o.Run.Status, o.Run.Error, "step 1: test loss is NaN")
		}
	}
}

// TestExecuteFailsOverflowedPerplexity: a loss that diverged to a finite
// 1e30 nats per token, whose perplexity overflows to +Inf, fails the run
// as a NaN loss does — at the evaluation that sees it, or at the test
// when there is no validation split — instead of storing a done run that
// compare averages with the seeds that trained.
func TestExecuteFailsOverflowedPerplexity(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		sets []string
		want string
	}{
		// Evaluated after step 1, the run stops there (step 2 would fail on
		// a NaN gradient).
		{"validation", []string{"train.steps=2", "train.eval_every=1"}, "step 1: valid/ppl is +Inf: valid/loss diverged to "},
		{"test", []string{"task.valid_size=0"}, "step 1: test/ppl is +Inf: test/loss diverged to "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sets := append([]string{"train.optimizer={name: sgd, lr: 1.0e+30}", "train.clip=0",
				"train.steps=1", "seeds=[1]"}, tc.sets...)
			x := loadExperiment(t, "testdata/sweep4.yaml", sets...)
			st := openStore(t, filepath.Join(t.TempDir(), "p.db"))
			rep, err := Execute(context.Background(), st, x, ExecOptions{Workers: 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Outcomes) == 0 {
				t.Fatal("no outcome")
			}
			for _, o := range rep.Outcomes {
				if o.Run.Status != store.StatusFailed || !strings.HasPrefix(o.Run.Error, tc.want) || !strings.HasSuffix(o.Run.Error, " nats per token") {
					t.Fatalf("run ended %s with error %q, want failed with %q…", o.Run.Status, o.Run.Error, tc.want)
				}
				// Failed before decoding the test split: no samples of a
				// diverged model are stored.
				arts, err := st.Artifacts(context.Background(), o.Run.ID)
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range arts {
					if a.Kind == artifact.KindSamples {
						t.Fatalf("failed run %d stored %s/%s", o.Run.ID, a.Kind, a.Name)
					}
				}
			}
		})
	}
}

func TestNotFinite(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    map[string]float64
		want string // "" for no error
	}{
		{"finite", map[string]float64{"test/loss": 700, "test/ppl": math.Exp(700)}, ""},
		{"nothing measured", map[string]float64{"test/exact_match": math.NaN(), "test/loss": 2}, ""},
		{"overflowed perplexity", map[string]float64{"test/loss": 1.7e30, "test/ppl": math.Inf(1)},
			"step 7: test/ppl is +Inf: test/loss diverged to 1.7e+30 nats per token"},
		{"negative infinity", map[string]float64{"test/bleu": 3, "valid/loss": math.Inf(-1)}, "step 7: valid/loss is -Inf"},
		{"context loss", map[string]float64{"test/loss": 2, "test/loss@8": math.Inf(1)}, "step 7: test/loss@8 is +Inf"},
		{"best context loss", map[string]float64{"best/test/loss@8": math.Inf(1)}, "step 7: best/test/loss@8 is +Inf"},
		// a text metric's scale may reach +Inf: a ratio over empty references
		{"text metric", map[string]float64{"test/len_ratio": math.Inf(1), "best/valid/len_ratio": math.Inf(-1), "test/loss": 2}, ""},
		{"first in key order", map[string]float64{"valid/ppl": math.Inf(1), "best/valid/ppl": math.Inf(1)}, "step 7: best/valid/ppl is +Inf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := notFinite(7, tc.m)
			got := ""
			if err != nil {
				got = err.Error()
				if !errors.As(err, new(*FailedError)) {
					t.Fatalf("notFinite = %T, want *FailedError", err)
				}
			}
			if got != tc.want {
				t.Fatalf("notFinite = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestNoValidationSplitRecordsNoValidMetrics: evaluations without a
// validation split (valid_size 0) record no valid/* metric — they stored a
// NaN loss and a BLEU and exact match of 0 over no example, which compare
// showed as scores — while the run still trains, checkpoints and is tested.
func TestNoValidationSplitRecordsNoValidMetrics(t *testing.T) {
	t.Parallel()
	x := loadExperiment(t, "testdata/sweep4.yaml", "task.valid_size=0", "train.steps=40", "seeds=[1]", `sweep={}`)
	st := openStore(t, filepath.Join(t.TempDir(), "v.db"))
	evals := &evalLines{}
	rep, err := Execute(context.Background(), st, x, ExecOptions{Workers: 1, Reporter: evals})
	if err != nil {
		t.Fatal(err)
	}
	id := rep.Outcomes[0].Run.ID
	if s := rep.Outcomes[0].Run.Status; s != store.StatusDone {
		t.Fatalf("run %s: %v", s, rep.Outcomes[0].Err)
	}
	keys, err := st.MetricKeys(context.Background(), []int64{id})
	if err != nil {
		t.Fatal(err)
	}
	sums, err := st.Summaries(context.Background(), []int64{id})
	if err != nil {
		t.Fatal(err)
	}
	for k := range sums[id] {
		keys = append(keys, k)
	}
	for _, k := range keys {
		if strings.Contains(k, "valid/") {
			t.Errorf("a run without a validation split recorded %s", k)
		}
	}
	if _, ok := sums[id]["test/exact_match"]; !ok {
		t.Errorf("no test/exact_match among the summaries %v", sums[id])
	}
	// A log still prints a line at each evaluation (Eval set, empty).
	if n, want := evals.n.Load(), 2*int64(len(rep.Outcomes)); n != want {
		t.Errorf("%d progress reports of an evaluation without metrics, want %d (steps 20 and 40 of each run)", n, want)
	}
}

// evalLines counts the progress reports of evaluations without a metric
// (Eval set, empty), which a log prints as lines of the train loss.
type evalLines struct{ n atomic.Int64 }

func (c *evalLines) Start(int, int, int)                   {}
func (c *evalLines) Skip(store.Run, int, string)           {}
func (c *evalLines) Wait()                                 {}
func (c *evalLines) Begin(store.Run, int, int) RunReporter { return c }
func (c *evalLines) End(store.Status, error)               {}
func (c *evalLines) Update(p Progress) {
	if p.Eval != nil && len(p.Eval) == 0 {
		c.n.Add(1)
	}
}

func TestLoadDecodesLikeTheRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	x := loadExperiment(t, "testdata/sweep4.yaml", "seeds=[1]", `sweep={}`)
	st := openStore(t, filepath.Join(dir, "l.db"))
	rep, err := Execute(context.Background(), st, x, ExecOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	id := rep.Outcomes[0].Run.ID
	tr, err := Load(context.Background(), st, id)
	if err != nil {
		t.Fatal(err)
	}
	// Decoding the stored samples' sources again gives the stored outputs.
	raw, err := st.Artifact(context.Background(), id, artifact.KindSamples, artifact.NameSamples)
	if err != nil {
		t.Fatal(err)
	}
	var samples []artifact.Sample
	if err := json.Unmarshal(raw, &samples); err != nil {
		t.Fatal(err)
	}
	if len(samples) == 0 {
		t.Fatal("no samples stored")
	}
	for _, s := range samples {
		src := tr.Spec.EncodeInput(s.Source)
		b := &seq.Batch{Size: 1, S: len(src), Src: src, SrcLen: []int{len(src)}}
		hyps, err := models.Decode(tr.Model, b, models.DecodeOptions{Strategy: "greedy", MaxLen: tr.MaxOut})
		if err != nil {
			t.Fatal(err)
		}
		if got := tr.Spec.DecodeOutput(hyps[0].Tokens); got != s.Output {
			t.Fatalf("decoding %q again gave %q, the run stored %q", s.Source, got, s.Output)
		}
	}
	if _, err := Load(context.Background(), st, 99999); err == nil {
		t.Fatal("Load of an unknown run succeeded")
	}
}

// panicRecorder panics with value at the first metric a run records.
type panicRecorder struct {
	*memRecorder
	value any
}

func (p panicRecorder) Metric(int, string, float64) error { panic(p.value) }

// TestTrainSafely checks what leaves a panicking run: a tensor.Error becomes
// the run's one-line error; any other panic becomes a *Bug carrying the
// original value and the stack where it was raised, with a one-line message.
func TestTrainSafely(t *testing.T) {
	t.Parallel()
	cfg := loadConfig(t, "testdata/reverse_small.yaml", "train.steps=2")
	misuse := tensor.Error{Msg: "tensor.MatMul: inner dimensions differ: [2 3]·[2 3]"}
	_, err := trainSafely(context.Background(), cfg, panicRecorder{newMemRecorder(), misuse}, Options{})
	var te tensor.Error
	if !errors.As(err, &te) || err.Error() != misuse.Msg {
		t.Fatalf("tensor.Error panic: err = %#v, want the tensor.Error %q", err, misuse.Msg)
	}

	_, err = trainSafely(context.Background(), cfg, panicRecorder{newMemRecorder(), "boom\nsecond line"}, Options{})
	var b *Bug
	if !errors.As(err, &b) {
		t.Fatalf("a bug's panic gave %#v, want a *Bug", err)
	}
	if b.Value != "boom\nsecond line" {
		t.Errorf("Bug.Value = %#v, want the panic value", b.Value)
	}
	if got := b.Error(); got != "internal error: boom" {
		t.Errorf("Bug.Error() = %q, want one line without the stack", got)
	}
	if !strings.Contains(string(b.Stack), "panicRecorder.Metric") {
		t.Errorf("Bug.Stack does not show where the panic happened:\n%s", b.Stack)
	}
}

// TestFinishRunKeepsErrors: when the run cannot be finished or read back,
// the outcome says so instead of dropping the error.
func TestFinishRunKeepsErrors(t *testing.T) {
	t.Parallel()
	st := openStore(t, filepath.Join(t.TempDir(), "f.db"))
	out := finishRun(context.Background(), st, store.CurrentOwner("test"), Outcome{Run: store.Run{ID: 999}}, store.StatusDone, nil)
	if out.Err == nil || !errors.Is(out.Err, store.ErrNotFound) || !strings.Contains(out.Err.Error(), "no run with id 999") {
		t.Fatalf("finishRun of a missing run: err = %v, want one saying run 999 is not found", out.Err)
	}
}

func TestExecThreads(t *testing.T) {
	plan := func(threads ...int) []experiments.Run {
		var p []experiments.Run
		for _, n := range threads {
			var r experiments.Run
			r.Config.Train.Threads = n
			p = append(p, r)
		}
		return p
	}
	recs := func(statuses ...store.Status) []store.Run {
		var rs []store.Run
		for _, s := range statuses {
			rs = append(rs, store.Run{Status: s})
		}
		return rs
	}
	q, d, f := store.StatusQueued, store.StatusDone, store.StatusFailed
	for _, tc := range []struct {
		name                 string
		plan                 []experiments.Run
		recs                 []store.Run
		workers, cpus        int
		wantThreads, wantWks int
		maxWorkers           int
	}{
		{"one run uses the machine", plan(0), recs(q), 0, 8, 8, 1, 0},
		{"a sweep runs one run per core", plan(0, 0, 0, 0), recs(q, q, q, q), 0, 2, 1, 2, 0},
		{"few runs share the cores", plan(0, 0, 0), recs(q, q, q), 0, 8, 2, 3, 0},
		{"done and failed runs do not count", plan(0, 0, 0), recs(d, q, f), 0, 4, 4, 1, 0},
		{"nothing to train", plan(0), recs(d), 0, 4, 4, 1, 0},
		{"--workers leaves the rest", plan(0, 0), recs(q, q), 2, 8, 4, 2, 0},
		{"explicit threads", plan(2, 1), recs(q, q), 0, 8, 2, 4, 0},
		{"explicit beats auto", plan(0, 3), recs(q, q), 0, 2, 3, 1, 0},
		{"explicit with --workers", plan(1), recs(q), 3, 2, 1, 3, 0},
		{"memory for one run at a time", plan(0, 0, 0, 0), recs(q, q, q, q), 0, 8, 8, 1, 1},
		{"memory caps --workers", plan(0, 0, 0, 0), recs(q, q, q, q), 4, 8, 4, 2, 2},
		{"memory caps explicit threads' workers", plan(2, 2), recs(q, q), 0, 8, 2, 1, 1},
	} {
		opt := ExecOptions{Workers: tc.workers, MaxWorkers: tc.maxWorkers}
		got := execThreads(tc.plan, tc.recs, &opt, tc.cpus)
		if got != tc.wantThreads || opt.Workers != tc.wantWks {
			t.Errorf("%s: %d threads, %d workers; want %d, %d", tc.name, got, opt.Workers, tc.wantThreads, tc.wantWks)
		}
	}
}

// A queue worker (attnlab worker, a Slurm array task) gives each of its
// runs its share of the CPUs it may use unless --threads says otherwise.
func TestWorkThreads(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		threads, workers, cpus int
		want                   int
	}{
		{"one worker uses its CPUs", 0, 1, 4, 4},
		{"workers share the CPUs", 0, 2, 4, 2},
		{"more workers than CPUs", 0, 3, 2, 1},
		{"--threads wins", 3, 2, 4, 3},
		{"no workers count as one", 0, 0, 2, 2},
	} {
		if got := workThreads(tc.threads, tc.workers, tc.cpus); got != tc.want {
			t.Errorf("%s: workThreads(%d, %d, %d) = %d, want %d", tc.name, tc.threads, tc.workers, tc.cpus, got, tc.want)
		}
	}
}

// failedBefore records Start and FailedBefore, in order.
type failedBefore struct {
	endings
	calls []string
}

func (f *failedBefore) Start(total, done, steps int) {
	f.calls = append(f.calls, fmt.Sprintf("Start(%d, %d, %d)", total, done, steps))
}
func (f *failedBefore) FailedBefore(n int) {
	f.calls = append(f.calls, fmt.Sprintf("FailedBefore(%d)", n))
}

// TestExecuteTellsFailedBefore: the runs of the plan that had failed
// before are told to a FailedBeforeReporter right after Start, which
// leaves them out of done and steps; the bars' overall line stayed at 1/2
// on a rerun, with nothing said of the failed run.
func TestExecuteTellsFailedBefore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "before.db"))
	x := twoRunsEnded(t, st, func(me store.Owner, r store.Run) Outcome {
		return finishRun(ctx, st, me, Outcome{Run: r}, store.StatusFailed, errors.New("boom"))
	}, store.StatusFailed)
	rep := &failedBefore{}
	if _, err := Execute(ctx, st, x, ExecOptions{Workers: 1, Reporter: rep}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"Start(2, 0, 0)", "FailedBefore(2)"}; !slices.Equal(rep.calls, want) {
		t.Errorf("reporter told %q, want %q", rep.calls, want)
	}
}

// TestExecuteTellsNoneFailedBefore: Execute tells a FailedBeforeReporter
// right after Start even when no run failed before (0), so that the log
// reporter, which prints its first line then, never holds it back until
// a run starts (after lines of runs waited for). A plan of done runs
// starts none.
func TestExecuteTellsNoneFailedBefore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "none-before.db"))
	x := twoRunsEnded(t, st, func(me store.Owner, r store.Run) Outcome {
		return finishRunWith(ctx, st, me, Outcome{Run: r}, store.StatusDone, nil, store.Ending{Summaries: map[string]float64{"test/loss": 1}})
	}, store.StatusDone)
	rep := &failedBefore{}
	if _, err := Execute(ctx, st, x, ExecOptions{Workers: 1, Reporter: rep}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"Start(2, 2, 0)", "FailedBefore(0)"}; !slices.Equal(rep.calls, want) {
		t.Errorf("reporter told %q, want %q", rep.calls, want)
	}
}

// twoRunsEnded submits the two runs of sweep4 with seed 1 (dot and
// additive attention) to st, claims each and ends it with end, which must
// leave it want, and returns the experiment.
func twoRunsEnded(t *testing.T, st *store.Store, end func(store.Owner, store.Run) Outcome, want store.Status) *experiments.Experiment {
	t.Helper()
	ctx := context.Background()
	x := loadExperiment(t, "testdata/sweep4.yaml", "seeds=[1]", "sweep={grid: {model.attention.name: [dot, additive]}}")
	sub, err := Submit(ctx, st, x)
	if err != nil {
		t.Fatal(err)
	}
	me := store.Owner{Host: "here", PID: os.Getpid()}
	for _, r := range sub.Runs {
		if c, err := st.Claim(ctx, r.ID, me, 0); err != nil || !c.Claimed {
			t.Fatalf("claim: %+v, %v", c, err)
		}
		if out := end(me, r); out.Status != want {
			t.Fatalf("run %d: %s, want %s", r.ID, out.Status, want)
		}
	}
	return x
}

// divergedAndFailed is failedBefore that records DivergedBefore too.
type divergedAndFailed struct{ failedBefore }

func (d *divergedAndFailed) DivergedBefore(n int) {
	d.calls = append(d.calls, fmt.Sprintf("DivergedBefore(%d)", n))
}

// TestExecuteTellsDivergedBefore: a run of the plan stored done with a
// ±Inf loss or perplexity (by a build before 2026-12-06) counts as failed,
// as run's table, note and exit status count it: Execute tells a
// DivergedBeforeReporter of it before Start, whose done leaves it out.
// Start counted it done ("3 planned, 3 already done" beside a note that
// said it failed). A done run with a +Inf metric that is not a loss stays
// done, as compare keeps it.
func TestExecuteTellsDivergedBefore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "diverged.db"))
	x := loadExperiment(t, "testdata/sweep4.yaml", "seeds=[1]", "sweep={grid: {model.attention.name: [dot, additive, general, none]}}")
	sub, err := Submit(ctx, st, x)
	if err != nil {
		t.Fatal(err)
	}
	me := store.Owner{Host: "here", PID: os.Getpid()}
	sums := []map[string]float64{
		{"test/loss": 2, "test/ppl": math.Inf(1)},          // diverged
		{"test/loss": 2, "test/length_ratio": math.Inf(1)}, // done: not a loss
		{"best/valid/loss": math.Inf(-1), "test/loss": 1},  // diverged
		nil, // failed
	}
	for i, r := range sub.Runs {
		if c, err := st.Claim(ctx, r.ID, me, 0); err != nil || !c.Claimed {
			t.Fatalf("claim: %+v, %v", c, err)
		}
		status, ferr := store.StatusDone, error(nil)
		if sums[i] == nil {
			status, ferr = store.StatusFailed, errors.New("boom")
		}
		if out := finishRunWith(ctx, st, me, Outcome{Run: r}, status, ferr, store.Ending{Summaries: sums[i]}); out.Status != status {
			t.Fatalf("run %d: %s, want %s", r.ID, out.Status, status)
		}
	}
	rep := &divergedAndFailed{}
	if _, err := Execute(ctx, st, x, ExecOptions{Workers: 1, Reporter: rep}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"DivergedBefore(2)", "Start(4, 1, 0)", "FailedBefore(1)"}; !slices.Equal(rep.calls, want) {
		t.Errorf("reporter told %q, want %q", rep.calls, want)
	}
}

// TestExecuteDivergedReadFails: when the read of the done runs' ±Inf
// summaries fails, Execute returns one line that says what it was looking
// for and why the read failed, and neither announces nor trains a run:
// the queued run stays queued. No test reached that error.
func TestExecuteDivergedReadFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "unreadable.db")
	st := openStore(t, path)
	x := loadExperiment(t, "testdata/sweep4.yaml", "seeds=[1]", "sweep={grid: {model.attention.name: [dot, additive]}}")
	sub, err := Submit(ctx, st, x)
	if err != nil {
		t.Fatal(err)
	}
	me := store.Owner{Host: "here", PID: os.Getpid()}
	done := sub.Runs[0]
	if c, err := st.Claim(ctx, done.ID, me, 0); err != nil || !c.Claimed {
		t.Fatalf("claim: %+v, %v", c, err)
	}
	if out := finishRunWith(ctx, st, me, Outcome{Run: done}, store.StatusDone, nil, store.Ending{Summaries: map[string]float64{"test/loss": 1}}); out.Status != store.StatusDone {
		t.Fatalf("run %d: %s, want done", done.ID, out.Status)
	}
	// Behind the store's back, as another program might: the read fails
	// with "no such table: summaries".
	raw, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, `ALTER TABLE summaries RENAME TO summaries_away`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	rep := &divergedAndFailed{}
	res, err := Execute(ctx, st, x, ExecOptions{Workers: 1, Reporter: rep})
	if err == nil || res != nil {
		t.Fatalf("Execute returned a report: %v, error %v; want no report and the read's error", res != nil, err)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || !strings.Contains(msg, "±Inf loss or perplexity") || !strings.Contains(msg, "summaries") || !strings.Contains(msg, "no such table") {
		t.Errorf("Execute = %q, want one line naming the ±Inf losses looked for, the summaries read and the cause", msg)
	}
	if len(rep.calls) != 0 || len(rep.all()) != 0 {
		t.Errorf("reporter told %q and %d ends, want nothing", rep.calls, len(rep.all()))
	}
	if r, err := st.RunByID(ctx, sub.Runs[1].ID); err != nil || r.Status != store.StatusQueued {
		t.Errorf("the queued run is %s (%v), want still queued", r.Status, err)
	}
}
