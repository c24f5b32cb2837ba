package runs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/attnlab/attnlab/store"
)

// endings records how each run ended, as a Reporter.
// training is closed at the first progress a run reports.
type endings struct {
	mu       sync.Mutex
	ends     []ending
	once     sync.Once
	training chan struct{}
}

type ending struct {
	status store.Status
	err    error
}

func (e *endings) Start(int, int, int)                   {}
func (e *endings) Skip(store.Run, int, string)           {}
func (e *endings) Wait()                                 {}
func (e *endings) Begin(store.Run, int, int) RunReporter { return endingOf{e} }
func (e *endings) all() []ending {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]ending(nil), e.ends...)
}

type endingOf struct{ e *endings }

func (r endingOf) Update(Progress) { r.e.once.Do(func() { close(r.e.training) }) }
func (r endingOf) End(status store.Status, err error) {
	r.e.mu.Lock()
	r.e.ends = append(r.e.ends, ending{status, err})
	r.e.mu.Unlock()
}

// TestWorkDatabaseDeleted: a worker whose SQLite file is deleted while it
// trains stops at its next heartbeat and returns ErrDatabaseGone, and its
// reporter is told the run was interrupted by it, not that it failed —
// nothing recorded it failed (the worker's summary counts it as stopped),
// and so is its outcome.
// It used to be reported "failed".
func TestWorkDatabaseDeleted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "gone.db")
	st := openStore(t, db)
	_, err := Submit(ctx, st, loadExperiment(t, "testdata/sweep4.yaml", "seeds=[1]", "sweep={}", "train.steps=100000", "train.eval_every=0"))
	if err != nil {
		t.Fatal(err)
	}

	rep := endings{training: make(chan struct{})}
	done := make(chan error, 1)
	var wr *WorkReport
	go func() {
		var err error
		wr, err = Work(ctx, st, WorkOptions{Owner: store.Owner{Host: "here", PID: os.Getpid()}, MaxRuns: 1,
			Heartbeat: 50 * time.Millisecond, StaleAfter: time.Hour, Reporter: &rep})
		done <- err
	}()
	select { // training, past the claim and the run's preparation
	case <-rep.training:
	case <-time.After(30 * time.Second):
		t.Fatal("the run did not report progress within 30 s")
	}
	if err := os.Remove(db); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, store.ErrDatabaseGone) {
			t.Fatalf("Work after its database was deleted: %v, want ErrDatabaseGone", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the worker went on 30 s after its database was deleted")
	}
	ends := rep.all()
	if len(ends) != 1 || ends[0].status != store.StatusInterrupted || !errors.Is(ends[0].err, store.ErrDatabaseGone) {
		t.Fatalf("the reporter was told %+v, want the run interrupted by ErrDatabaseGone", ends)
	}
	if wr == nil || len(wr.Outcomes) != 1 || wr.Outcomes[0].Status != store.StatusInterrupted {
		t.Fatalf("Work's report %+v, want one outcome, interrupted", wr)
	}
}
