package runs

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/attnlab/attnlab/store"
)

// BenchmarkMetricOverhead trains the same short run with train metrics
// logged to a SQLite store at every step and with per-step metrics off,
// alternating, and reports the throughput of the whole training loop
// (steps, logging and flushes) and the overhead of logging.
func BenchmarkMetricOverhead(b *testing.B) {
	x := loadExperiment(b, "testdata/sweep4.yaml", "seeds=[1]", "sweep={}", "train.log_every=1", "train.eval_every=0", "train.steps=200")
	plan, err := x.Plan()
	if err != nil {
		b.Fatal(err)
	}
	cfg := plan[0].Config
	dir := b.TempDir()
	var on, off time.Duration
	var tokens float64
	i := 0
	for b.Loop() {
		st, err := store.Open(filepath.Join(dir, "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		exp, _ := st.PutExperiment(context.Background(), "bench", "", "")
		runs, err := st.EnsureRuns(context.Background(), exp, []store.RunSpec{{Hash: "h", Seed: 1, Config: "{}"}})
		if err != nil {
			b.Fatal(err)
		}
		rec := newStoreRecorder(context.Background(), st, runs[0].ID, nil, 5*time.Second)
		for _, noMetrics := range []bool{i%2 == 0, i%2 != 0} {
			res, err := Train(context.Background(), cfg, rec, Options{NoMetrics: noMetrics})
			if err != nil {
				b.Fatal(err)
			}
			if err := rec.sync(); err != nil {
				b.Fatal(err)
			}
			d := time.Duration(res.Summaries["perf/loop_seconds"] * float64(time.Second))
			tokens = res.Summaries["perf/tokens_per_s"] * res.Summaries["perf/train_seconds"]
			if noMetrics {
				off += d
			} else {
				on += d
			}
		}
		if err := rec.close(); err != nil {
			b.Fatal(err)
		}
		st.Close()
		i++
	}
	n := float64(i)
	b.ReportMetric(tokens*n/on.Seconds(), "tok/s-logged")
	b.ReportMetric(tokens*n/off.Seconds(), "tok/s-unlogged")
	b.ReportMetric(100*(on.Seconds()-off.Seconds())/off.Seconds(), "%overhead")
}
