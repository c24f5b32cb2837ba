package runs

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/attnlab/attnlab/internal/testenv"
	"github.com/attnlab/attnlab/store"
)

// BenchmarkMetricOverhead trains the same short run with train metrics
// logged to a SQLite store at every step and with per-step metrics off,
// alternating, and reports the throughput of the whole training loop
// (steps, logging and flushes) and the overhead of logging: in wall time of
// the training loop, and in CPU time of the whole process over the whole
// run (every goroutine: the metric writer's work counts), median of the
// iterations, and in the fastest training loop of each kind (min of N),
// which a machine shared with other work disturbs far less than the mean.
func BenchmarkMetricOverhead(b *testing.B) {
	benchMetricOverhead(b, func(b *testing.B) string { return filepath.Join(b.TempDir(), "bench.db") })
}

// BenchmarkMetricOverheadPostgres is BenchmarkMetricOverhead with the
// metrics going to PostgreSQL over loopback.
func BenchmarkMetricOverheadPostgres(b *testing.B) {
	benchMetricOverhead(b, func(b *testing.B) string { return testenv.PostgresURL(b) })
}

func benchMetricOverhead(b *testing.B, target func(*testing.B) string) {
	x := loadExperiment(b, "testdata/sweep4.yaml", "seeds=[1]", "sweep={}", "train.log_every=1", "train.eval_every=0", "train.steps=200")
	plan, err := x.Plan()
	if err != nil {
		b.Fatal(err)
	}
	cfg := plan[0].Config
	db := target(b)
	var on, off time.Duration
	var cpuOn, cpuOff, wallOn, wallOff []float64
	var tokens float64
	i := 0
	for b.Loop() {
		st, err := store.Open(db)
		if err != nil {
			b.Fatal(err)
		}
		exp, _ := st.PutExperiment(context.Background(), "bench", "", "")
		runs, err := st.EnsureRuns(context.Background(), exp, []store.RunSpec{{Hash: "h", Seed: 1, Config: "{}"}})
		if err != nil {
			b.Fatal(err)
		}
		rec := newStoreRecorder(context.Background(), st, runs[0].ID, claimed(b, st, runs[0].ID), nil, 5*time.Second)
		for _, noMetrics := range []bool{i%2 == 0, i%2 != 0} {
			cpu0 := processCPU()
			res, err := Train(context.Background(), cfg, rec, Options{NoMetrics: noMetrics})
			if err != nil {
				b.Fatal(err)
			}
			if err := rec.sync(); err != nil {
				b.Fatal(err)
			}
			cpu := (processCPU() - cpu0).Seconds()
			if noMetrics {
				cpuOff = append(cpuOff, cpu)
			} else {
				cpuOn = append(cpuOn, cpu)
			}
			d := time.Duration(res.Summaries["perf/loop_seconds"] * float64(time.Second))
			tokens = res.Summaries["perf/tokens_per_s"] * res.Summaries["perf/train_seconds"]
			if noMetrics {
				off += d
				wallOff = append(wallOff, d.Seconds())
			} else {
				on += d
				wallOn = append(wallOn, d.Seconds())
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
	if m := median(cpuOff); m > 0 {
		b.ReportMetric(100*(median(cpuOn)-m)/m, "%overhead-cpu")
	}
	if m := slices.Min(wallOff); m > 0 {
		b.ReportMetric(100*(slices.Min(wallOn)-m)/m, "%overhead-min")
	}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
