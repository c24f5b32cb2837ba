package store

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/attnlab/attnlab/internal/testenv"
)

// countingDialect counts the statements sent through a store's handle
// (and its transactions): every one is rebound once.
type countingDialect struct {
	dialect
	n *atomic.Int64
}

func (c countingDialect) rebind(q string) string {
	c.n.Add(1)
	return c.dialect.rebind(q)
}

// countQueries makes s count its statements into the returned counter.
func countQueries(s *Store) *atomic.Int64 {
	n := new(atomic.Int64)
	s.db.d = countingDialect{s.db.d, n}
	return n
}

// doneRuns submits n runs of experiment name to s and marks them done with
// a few summaries each (run i's test/acc is i/n, its perf/* a cost), in
// one transaction, as a store that trained them would hold them.
func doneRuns(tb testing.TB, s *Store, name string, n int) {
	tb.Helper()
	ctx := context.Background()
	specs := make([]RunSpec, n)
	for i := range specs {
		specs[i] = RunSpec{Hash: fmt.Sprintf("h%05d", i), Seed: int64(i), Config: fmt.Sprintf(`{"seed":%d}`, i)}
	}
	_, runs, err := s.Submit(ctx, ExperimentSpec{Name: name}, specs)
	if err != nil {
		tb.Fatal(err)
	}
	err = s.write(ctx, func(tx *Tx) error {
		for i, r := range runs {
			if _, err := tx.ExecContext(ctx, `UPDATE runs SET status = 'done', attempt = 1 WHERE id = ?`, r.ID); err != nil {
				return err
			}
			for k, v := range map[string]float64{"test/acc": float64(i) / float64(n), "test/loss": 1, "valid/acc": 0.5, "perf/tokens_per_s": float64(1000 + i)} {
				if _, err := tx.ExecContext(ctx, `INSERT INTO summaries (run_id, key, value) VALUES (?, ?, ?)`, r.ID, k, v); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// benchmarkCopyRepeated times a sync of n runs done in both stores (a
// repeated sync: nothing to copy) from SQLite into a store of engine (on
// PostgreSQL, a schema of ATTNLAB_TEST_POSTGRES's server), and reports
// the statements it sends to both.
func benchmarkCopyRepeated(b *testing.B, n int, engine Engine) {
	ctx := context.Background()
	src := openTarget(b, filepath.Join(b.TempDir(), "src.db"))
	target := filepath.Join(b.TempDir(), "dst.db")
	if engine == Postgres {
		target = pgSchema(b, testenv.PostgresURL(b))
	}
	dst := openTarget(b, target)
	doneRuns(b, src, "big", n)
	if _, err := src.Copy(ctx, dst, CopyOptions{}); err != nil {
		b.Fatal(err)
	}
	qs, qd := countQueries(src), countQueries(dst)
	b.ReportAllocs()
	ops := 0
	for b.Loop() {
		rep, err := src.Copy(ctx, dst, CopyOptions{})
		if err != nil || rep.Runs[CopySame] != n {
			b.Fatalf("repeated copy: %+v, %v; want %d runs kept", rep, err, n)
		}
		ops++
	}
	b.ReportMetric(float64(qs.Load()+qd.Load())/float64(ops), "queries/op")
}

func BenchmarkCopyRepeated2000(b *testing.B)         { benchmarkCopyRepeated(b, 2000, SQLite) }
func BenchmarkCopyRepeated2000Postgres(b *testing.B) { benchmarkCopyRepeated(b, 2000, Postgres) }

// openTarget opens (creating) the store at target, closed when tb ends.
func openTarget(tb testing.TB, target string) *Store {
	tb.Helper()
	s, err := Open(target)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// testCopyBatchesLookups: a repeated sync of runs done in both stores
// looks them up in the target, and compares their summaries, a chunk of
// runs at a time — a few queries per chunk, not three per run (a sync of
// 2000 such runs sent 6005) — and still tells the run whose results
// differ from the ones whose only costs (perf/*) differ, and leaves a run
// the target is running alone.
func testCopyBatchesLookups(t *testing.T) {
	ctx := context.Background()
	const n, chunk = 25, 10
	src, dst := openTarget(t, filepath.Join(t.TempDir(), "src.db")), newStore(t)
	doneRuns(t, src, "big", n)
	if rep, err := src.Copy(ctx, dst, CopyOptions{chunk: chunk}); err != nil || rep.Runs[CopyNew] != n {
		t.Fatalf("first copy: %+v, %v; want %d runs copied", rep, err, n)
	}
	runs, err := dst.Runs(ctx, RunFilter{Experiments: []string{"big"}})
	if err != nil || len(runs) != n {
		t.Fatalf("target's runs: %d, %v", len(runs), err)
	}
	// Run 3: other results; run 17: other costs only; run 21: running in
	// the target.
	if err := dst.PutSummaries(ctx, runs[3].ID, map[string]float64{"test/acc": 2}); err != nil {
		t.Fatal(err)
	}
	if err := dst.PutSummaries(ctx, runs[17].ID, map[string]float64{"perf/tokens_per_s": 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := dst.db.ExecContext(ctx, `UPDATE runs SET status = 'running' WHERE id = ?`, runs[21].ID); err != nil {
		t.Fatal(err)
	}
	qs, qd := countQueries(src), countQueries(dst)
	rep, err := src.Copy(ctx, dst, CopyOptions{chunk: chunk})
	if err != nil || rep.Runs[CopySame] != n-2 || rep.Runs[CopyDiffers] != 1 || rep.Runs[CopyTargetOn] != 1 || len(rep.Runs) != 3 {
		t.Fatalf("repeated copy: %+v, %v; want %d kept, 1 differing, 1 running in the target", rep, err, n-2)
	}
	// Source: the experiments and the runs (4 queries), one summaries
	// query per chunk. Target: the experiment's look-up (its transaction),
	// two per chunk.
	chunks := int64((n + chunk - 1) / chunk)
	if got, limit := qs.Load(), 4+chunks; got > limit {
		t.Errorf("the source got %d queries for %d chunks of runs, want at most %d", got, chunks, limit)
	}
	if got, limit := qd.Load(), 3+2*chunks; got > limit {
		t.Errorf("the target got %d queries for %d chunks of runs, want at most %d", got, chunks, limit)
	}
	t.Logf("queries: source %d, target %d, for %d runs in %d chunks", qs.Load(), qd.Load(), n, chunks)
}
