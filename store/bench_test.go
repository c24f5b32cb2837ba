package store

import (
	"context"
	"testing"
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
