package runs

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/seq"
	"github.com/attnlab/attnlab/store"
)

// BenchmarkLoopW4 measures what the training loop costs beyond its steps,
// on examples/w4_run.yaml (exactly bench W4's model, a real text, train
// metrics logged at every step into a SQLite store): per iteration, in one
// process and alternating which goes first, the training loop of a run
// (Train's loop: batches, Stepper.Step, logging, the metric writer
// goroutine, progress) and the bare Stepper.Step on batches made
// beforehand, as `attnlab bench` times it. It reports CPU ms per step of
// each (the whole process, every goroutine: the writer's work counts) and
// the loop's overhead over the bare steps, in CPU (median of the
// iterations, robust when others use the machine) and in wall time (fastest
// of each, min of N). The loop ends with a validation and its checkpoint,
// so the bare steps are followed by the same evaluation into the store, and
// both CPU figures include it (the walls do not). Run it as
//
//	go test ./runs -run '^$' -bench LoopW4 -benchtime 5x
func BenchmarkLoopW4(b *testing.B) {
	const steps = 100
	ctx := context.Background()
	cfg := loadConfig(b, "../examples/w4_run.yaml", fmt.Sprintf("train.steps=%d", steps), "train.eval_every=0")
	st, err := store.Open(filepath.Join(b.TempDir(), "loop.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	exp, err := st.PutExperiment(ctx, "loop", "", "")
	if err != nil {
		b.Fatal(err)
	}
	var loopCPU, stepCPU, loopWall, stepWall, overCPU []float64
	i := 0
	for b.Loop() {
		rs, err := st.EnsureRuns(ctx, exp, []store.RunSpec{{Hash: fmt.Sprint("h", i), Seed: 1, Config: "{}"}})
		if err != nil {
			b.Fatal(err)
		}
		var lc, sc, lw, sw float64
		for _, loopFirst := range []bool{i%2 == 0, i%2 != 0} {
			if loopFirst {
				lc, lw = loopOnce(b, ctx, cfg, st, rs[len(rs)-1].ID)
			} else {
				sc, sw = stepsOnce(b, ctx, cfg, st, rs[len(rs)-1].ID, steps)
			}
		}
		loopCPU, stepCPU = append(loopCPU, lc/steps), append(stepCPU, sc/steps)
		loopWall, stepWall = append(loopWall, lw/steps), append(stepWall, sw/steps)
		overCPU = append(overCPU, 100*(lc-sc)/sc)
		i++
	}
	b.ReportMetric(1000*median(loopCPU), "cpu-ms/step-loop")
	b.ReportMetric(1000*median(stepCPU), "cpu-ms/step-bare")
	b.ReportMetric(median(overCPU), "%overhead-cpu")
	b.ReportMetric(1000*slices.Min(loopWall), "ms/step-loop-min")
	b.ReportMetric(1000*slices.Min(stepWall), "ms/step-bare-min")
	b.ReportMetric(100*(slices.Min(loopWall)-slices.Min(stepWall))/slices.Min(stepWall), "%overhead-min")
}

// loopOnce runs the training loop of cfg into the store's run id and
// returns its CPU seconds (its final evaluation and checkpoint included)
// and its wall seconds without them.
func loopOnce(b *testing.B, ctx context.Context, cfg experiments.Config, st *store.Store, id int64) (cpu, wall float64) {
	rec := newStoreRecorder(ctx, st, id, claimed(b, st, id), nil, 0)
	r, err := build(cfg, rec, Options{})
	if err != nil {
		b.Fatal(err)
	}
	r.ctx = ctx
	c0 := processCPU()
	if err := r.loop(ctx); err != nil {
		b.Fatal(err)
	}
	if err := rec.close(); err != nil {
		b.Fatal(err)
	}
	return (processCPU() - c0).Seconds(), r.st.LoopSecs - r.st.EvalSecs
}

// stepsOnce builds cfg's run and times Stepper.Step alone over n batches
// of its batcher made beforehand, as bench does, then the evaluation the
// loop ends with (into the store's run id). It returns the CPU seconds of
// both and the wall seconds of the steps.
func stepsOnce(b *testing.B, ctx context.Context, cfg experiments.Config, st *store.Store, id int64, n int) (cpu, wall float64) {
	rec := newStoreRecorder(ctx, st, id, claimed(b, st, id), nil, 0)
	r, err := build(cfg, rec, Options{})
	if err != nil {
		b.Fatal(err)
	}
	r.ctx = ctx
	batches := make([]seq.Batch, n)
	for i := range batches {
		bt, ok := r.batcher.Next()
		if !ok {
			bt, _ = r.batcher.Next()
		}
		batches[i] = bt
	}
	layers.SetTraining(true, r.model)
	c0, t0 := processCPU(), time.Now()
	for i := range batches {
		if _, err := r.stepper.Step(&batches[i], i+1); err != nil {
			b.Fatal(err)
		}
	}
	wall = time.Since(t0).Seconds()
	r.st.Step = n
	if err := r.evaluate(n); err != nil {
		b.Fatal(err)
	}
	if err := rec.close(); err != nil {
		b.Fatal(err)
	}
	return (processCPU() - c0).Seconds(), wall
}
