package store

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestConcurrentWorkers runs 8 workers, each with its own *Store handle on
// one new file (as 8 processes would), that all create the experiment and
// its 50 runs, then race to claim every run, write its metrics and
// summaries and finish it. Every run must be claimed exactly once and no
// operation may fail (in particular with "database is locked").
func testConcurrentWorkers(t *testing.T) {
	const (
		workers = 8
		nRuns   = 50
		steps   = 40
	)
	path := newTarget(t)
	specs := make([]RunSpec, nRuns)
	for i := range specs {
		specs[i] = RunSpec{Hash: fmt.Sprintf("run%04d", i), Seed: int64(i), Config: fmt.Sprintf(`{"seed":%d}`, i)}
	}
	claims := make([]atomic.Int32, nRuns) // by seed (run ids need not be 1..n: PostgreSQL's sequence skips ids on conflicts)
	ctx := context.Background()
	start := make(chan struct{})
	errs := make(chan error, workers*nRuns)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			<-start
			s, err := Open(path)
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			owner := Owner{Host: fmt.Sprintf("worker%d", w), PID: os.Getpid()}
			expID, err := s.PutExperiment(ctx, "race", "", "")
			if err != nil {
				errs <- err
				return
			}
			runs, err := s.EnsureRuns(ctx, expID, specs)
			if err != nil {
				errs <- err
				return
			}
			// Each worker walks the runs from a different place, as
			// independent processes would.
			for k := range runs {
				r := runs[(k+w*nRuns/workers)%nRuns]
				res, err := s.Claim(ctx, r.ID, owner, time.Minute)
				if err != nil {
					errs <- err
					continue
				}
				if !res.Claimed {
					continue
				}
				claims[r.Seed].Add(1)
				mw := s.NewMetricWriter(r.ID, 16)
				for step := range steps {
					if err := mw.Log(step, "train/loss", float64(step)); err != nil {
						errs <- err
					}
				}
				if err := mw.Flush(ctx); err != nil {
					errs <- err
				}
				if err := s.Heartbeat(ctx, r.ID, owner); err != nil {
					errs <- err
				}
				if err := s.PutSummaries(ctx, r.ID, map[string]float64{"test/loss": float64(r.Seed)}); err != nil {
					errs <- err
				}
				if err := s.Finish(ctx, r.ID, owner, StatusDone, ""); err != nil {
					errs <- err
				}
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("worker: %v", err)
	}
	for seed := range nRuns {
		if n := claims[seed].Load(); n != 1 {
			t.Errorf("run of seed %d was claimed %d times, want exactly once", seed, n)
		}
	}

	s, err := OpenExisting(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	runs, err := s.Runs(ctx, RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != nRuns {
		t.Fatalf("%d runs in the store, want %d", len(runs), nRuns)
	}
	for _, r := range runs {
		if r.Status != StatusDone || r.Attempt != 1 {
			t.Errorf("run %s: status %s, attempt %d; want done, 1", r.Hash, r.Status, r.Attempt)
		}
	}
	var rows int
	if err := s.db.QueryRow(`SELECT count(*) FROM metrics`).Scan(&rows); err != nil || rows != nRuns*steps {
		t.Fatalf("%d metric rows (%v), want %d", rows, err, nRuns*steps)
	}
}
