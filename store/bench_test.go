package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/attnlab/attnlab/internal/testenv"
)

// benchMetricWriter measures MetricWriter.Log per row, including the
// batched transaction it triggers every batch rows (the per-row cost of the
// write is amortised into ns/op). Keys cycle over four metrics, as a train
// loop logs them.
func benchMetricWriter(b *testing.B, batch int) {
	s := newStore(b)
	run := addExperiment(b, s, "bench", 1)[0].ID
	w := s.NewMetricWriter(run, batch)
	keys := []string{"train/loss", "train/token_acc", "train/lr", "perf/tokens_per_s"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := w.Log(i/len(keys), keys[i%len(keys)], float64(i)*0.5); err != nil {
			b.Fatal(err)
		}
		i++
	}
	if err := w.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkMetricWriterLog16(b *testing.B)   { benchMetricWriter(b, 16) }
func BenchmarkMetricWriterLog64(b *testing.B)   { benchMetricWriter(b, 64) }
func BenchmarkMetricWriterLog256(b *testing.B)  { benchMetricWriter(b, 256) }
func BenchmarkMetricWriterLog1024(b *testing.B) { benchMetricWriter(b, 1024) }

// benchWorkerWrites measures a worker's most frequent single writes —
// a heartbeat, a 2 kB artifact, a flush of 8 metric rows — one of each per
// op, on the engine of target.
func benchWorkerWrites(b *testing.B, target string) {
	ctx := context.Background()
	s, err := Open(target)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	run := addExperiment(b, s, "bench", 1)[0].ID
	owner := Owner{Host: "bench", PID: 1}
	if res, err := s.Claim(ctx, run, owner, time.Minute); err != nil || !res.Claimed {
		b.Fatalf("claim: %+v, %v", res, err)
	}
	w := s.NewMetricWriter(run, 1<<20)
	data := make([]byte, 2048)
	step := 0
	for b.Loop() {
		if err := s.Heartbeat(ctx, run, owner); err != nil {
			b.Fatal(err)
		}
		if err := s.PutArtifact(ctx, run, "checkpoint", "c", data); err != nil {
			b.Fatal(err)
		}
		for k := range 8 {
			if err := w.Log(step, "train/m"+string(rune('a'+k)), float64(step)); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		step++
	}
}

func BenchmarkWorkerWritesSQLite(b *testing.B) {
	benchWorkerWrites(b, filepath.Join(b.TempDir(), "bench.db"))
}

func BenchmarkWorkerWritesPostgres(b *testing.B) {
	benchWorkerWrites(b, pgSchema(b, testenv.PostgresURL(b)))
}
